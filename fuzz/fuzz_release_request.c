/* libFuzzer target: the key-release request parser and handler (POST /v1/keys/app and
 * /v1/sign/app bodies: strict JSON with exactly the documented members, app ID, hex fields,
 * base64 evidence, the attestation method and its verifier, the app's policy). One in-memory node
 * of a dev-mode cluster with an epoch and a share, and one registered app that allows insecure-dev
 * evidence, so that well-formed inputs reach the verifier and the policy (the seed corpus holds
 * valid requests made by tests/tools/release_req.mjs, which the node answers). Must never crash;
 * every answer is a JSON object whose HTTP status is its code's, an error names its code, and a 200
 * carries the node's signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tkms_release_ctx *ctx;

static void setup(void) {
    static sqlite3 *db;
    tkms_status err;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || !tkms_registry_init(db, &err)) abort();
    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = db;
    memset(cfg.ed25519_sk, 7, 32);
    cfg.app_rate = cfg.source_rate = 1e9; /* no rate limit: every input reaches the parser */
    cfg.app_burst = cfg.source_burst = 1e9;
    ctx = tkms_release_new(&cfg);
    uint8_t share[32] = {0};
    share[31] = 5;
    if (!ctx || !tkms_release_set_epoch(ctx, 1, 1, share, 1)) abort();
    /* the app of the seed corpus: owner key 0x11..11, salt 0x22..22 */
    uint8_t owner_sk[32], owner[20], salt[32], app[20];
    memset(owner_sk, 0x11, 32);
    memset(salt, 0x22, 32);
    if (!tkms_eth_address_of_key(owner, owner_sk)) abort();
    tkms_app_id_derive(app, owner, salt);
    char a[TKMS_APP_ID_TEXT], stm[256], *signed_json = NULL;
    tkms_app_id_format(a, app);
    snprintf(stm, sizeof stm, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"insecure-dev\"]}", a);
    if (tkms_app_sign_statement(&signed_json, &err, stm, strlen(stm), owner_sk, salt) != TKMS_REL_OK) abort();
    char *resp = NULL;
    int st = 0;
    if (tkms_release_handle_app_update(ctx, &resp, &st, signed_json, strlen(signed_json), "setup", 0) != TKMS_REL_OK) abort();
    if (getenv("TKMS_FUZZ_VERBOSE")) fprintf(stderr, "app %s\n", a);
    free(resp);
    free(signed_json);
}

static void check(tkms_release_code c, char *resp, int st) {
    if (!resp) {
        if (getenv("TKMS_FUZZ_VERBOSE")) fprintf(stderr, "no body: code %d status %d\n", (int)c, st);
        abort(); /* only OOM may leave it NULL */
    }
    json_t *j = json_loads(resp, 0, NULL);
    if (!json_is_object(j) || st != tkms_release_code_http(c)) abort();
    if (st != 200 && !json_is_string(json_object_get(json_object_get(j, "error"), "code"))) abort();
    if (st == 200 && !json_is_string(json_object_get(j, "signature"))) abort();
    if (getenv("TKMS_FUZZ_VERBOSE")) fprintf(stderr, "%d %s\n", st, resp);
    json_decref(j);
    free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) setup();
    char *resp = NULL;
    int st = 0;
    tkms_release_code c = tkms_release_handle_key(ctx, &resp, &st, (const char *)data, size, "fuzz", 1000);
    check(c, resp, st);
    c = tkms_release_handle_sign(ctx, &resp, &st, (const char *)data, size, "fuzz", 1000);
    check(c, resp, st);
    return 0;
}
