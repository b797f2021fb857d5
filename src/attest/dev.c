/* tkms attestation: the insecure-dev method, an Ed25519-signed statement binding B and the app ID.
 * It proves nothing about hardware; it exists so dev clusters can run the release flow. */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "att_util.h"
#include "prim.h"
#include "proto_tags.h"

#define DEV_FORMAT "tkms-insecure-dev-v1"
#define DEV_DOMAIN TKMS_TAG_INSECURE_DEV

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && att_unhex(out, n, json_string_value(v), json_string_length(v));
}

tkms_attest_reason att_verify_dev(tkms_attest_result *res, const tkms_attest_request *req, const tkms_attest_policy *pol) {
    tkms_attest_claims *c = &res->claims;
    json_error_t je;
    json_t *o = NULL;
    tkms_attest_reason r;
    uint8_t app[20], bind[64], key[32], sig[64], msg[sizeof DEV_DOMAIN - 1 + 20 + 64];

    c->insecure = 1;
    /* A production cluster never even parses dev evidence. */
    if (!(req->flags & TKMS_ATTEST_F_DEV_MODE))
        return att_fail(res, TKMS_ATTEST_E_DEV_MODE, "insecure-dev evidence refused: the cluster is not in dev mode");
    o = json_loadb((const char *)req->evidence, req->evidence_len, JSON_REJECT_DUPLICATES, &je);
    json_t *fmt = o ? json_object_get(o, "format") : NULL, *appv = o ? json_object_get(o, "app_id") : NULL;
    const char *as = json_is_string(appv) ? json_string_value(appv) : "";
    if (!json_is_object(o) || json_object_size(o) != 5 || !json_is_string(fmt) || strcmp(json_string_value(fmt), DEV_FORMAT) != 0 ||
        strlen(as) != 42 || as[0] != '0' || (as[1] != 'x' && as[1] != 'X') || !att_unhex(app, 20, as + 2, 40) ||
        !hexfield(bind, 64, o, "binding") || !hexfield(key, 32, o, "public_key") || !hexfield(sig, 64, o, "signature")) {
        r = att_fail(res, TKMS_ATTEST_E_MALFORMED, "not a %s statement {format, app_id, binding, public_key, signature}", DEV_FORMAT);
        goto out;
    }
    c->app_id[0] = '0';
    c->app_id[1] = 'x';
    att_hex(c->app_id + 2, app, 20);
    memcpy(c->dev_key, key, 32);
    memcpy(c->report_data, bind, 64);
    memcpy(msg, DEV_DOMAIN, sizeof DEV_DOMAIN - 1);
    memcpy(msg + sizeof DEV_DOMAIN - 1, app, 20);
    memcpy(msg + sizeof DEV_DOMAIN - 1 + 20, bind, 64);
    if (!tkms_ed25519_verify(sig, key, msg, sizeof msg)) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "dev statement signature does not verify");
        goto out;
    }
    c->genuine = 1;
    if (pol->dev_keys.n && !att_allowed(&pol->dev_keys, key, 32)) {
        r = att_fail(res, TKMS_ATTEST_E_DEV_KEY, "dev key not in the policy's list");
        goto out;
    }
    if (req->binding) {
        if (CRYPTO_memcmp(bind, req->binding, 64) != 0) {
            r = att_fail(res, TKMS_ATTEST_E_BINDING, "statement binds another B");
            goto out;
        }
        c->binding_checked = 1;
    }
    r = TKMS_ATTEST_OK;
out:
    ERR_clear_error();
    json_decref(o);
    return r;
}
