/* Release handler with TDX and SEV-SNP evidence that passes the verifier: synthetic quotes and
 * reports (tests/unit/attest_synth_*.h, real vectors re-signed under test roots) bound to each
 * request's B. What the handler itself must check after the verifier (docs/release-protocol.md §4):
 * MRCONFIGID[0:20] / HOST_DATA[0:20] name the app (app_not_bound), the statement's deployment lists
 * (deployment_not_allowed) and its MRTD, RTMR and MEASUREMENT allow-lists (measurement_not_allowed);
 * a request that satisfies them all gets a partial that decrypts and verifies against PK_1. */
#include <openssl/evp.h>

#include "attest_synth_snp.h"
#include "attest_synth_tdx.h"

#include "appkey.h"
#include "g1.h"
#include "hpke.h"
#include "identity.h"
#include "release.h"
#include "tbls.h"

static uint8_t OWNER_SK[32], OWNER[20], SALT[32], APP[20], APP2[20];
static char APPS[TKMS_APP_ID_TEXT];
static tkms_identity ID;
static g2_affine_t PK1;
static uint8_t MRTD[48], MEAS[48];
static int64_t T_TDX; /* when the TDX vector's collateral is current */
static int failures;

#define EXPECT(cond, label)                                                               \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__, __LINE__, label, #cond); \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

static char *b64std(const uint8_t *in, size_t n) {
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    TU_CHECK(o);
    EVP_EncodeBlock((unsigned char *)o, in, (int)n); /* standard alphabet, padded, no newlines */
    return o;
}

static char *hex(const uint8_t *b, size_t n) {
    char *o = malloc(2 * n + 1);
    TU_CHECK(o);
    tu_hex(o, b, n);
    return o;
}

/* The app's signed statement: methods tdx and sev-snp with the vectors' MRTD and MEASUREMENT;
 * tdx_extra (e.g. ",\"rtmr0\":[...]") goes into the tdx object, deployments (an object) verbatim. */
static char *statement(unsigned seq, const char *tdx_extra, const char *deployments) {
    tkms_status err;
    char s[4096], *out = NULL, *mrtd = hex(MRTD, 48), *meas = hex(MEAS, 48);
    snprintf(s, sizeof s,
             "{\"app_id\":\"%s\",\"seq\":%u,\"methods\":[\"tdx\",\"sev-snp\"],\"tdx\":{\"mrtd\":[\"%s\"]%s},"
             "\"snp\":{\"measurement\":[\"%s\"]}%s%s}",
             APPS, seq, mrtd, tdx_extra ? tdx_extra : "", meas, deployments ? ",\"deployments\":" : "",
             deployments ? deployments : "");
    tkms_release_code c = tkms_app_sign_statement(&out, &err, s, strlen(s), OWNER_SK, SALT);
    if (c != TKMS_REL_OK) fprintf(stderr, "sign: %s\n", err.msg);
    TU_CHECK(out);
    free(mrtd), free(meas);
    return out;
}

static void put_statement(tkms_release_ctx *ctx, const char *js) {
    char *resp = NULL;
    int status = 0;
    tkms_release_code c = tkms_release_handle_app_update(ctx, &resp, &status, js, strlen(js), "cli", T_TDX * 1000);
    if (c != TKMS_REL_OK) fprintf(stderr, "statement refused: %s\n", resp ? resp : "?");
    TU_CHECK(c == TKMS_REL_OK);
    free(resp);
}

typedef struct {
    uint8_t rsk[32], rpk[32], nonce[32], B[64];
} req_keys;

static void fresh(req_keys *k) {
    tu_randbytes(k->rsk, 32);
    TU_CHECK(tkms_x25519_pubkey(k->rpk, k->rsk));
    tu_randbytes(k->nonce, 32);
    TU_CHECK(tkms_attest_binding(k->B, APP, k->rpk, k->nonce, 32));
}

static char *key_request(const req_keys *k, const char *method, const uint8_t *ev, size_t evn, const uint8_t *col,
                         size_t coln) {
    char *e = b64std(ev, evn), *c = b64std(col, coln), *rh = hex(k->rpk, 32), *nh = hex(k->nonce, 32);
    size_t n = strlen(e) + strlen(c) + 512;
    char *o = malloc(n);
    TU_CHECK(o);
    snprintf(o, n,
             "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"%s\",\"evidence\":\"%s\","
             "\"collateral\":\"%s\"}}",
             APPS, rh, nh, method, e, c);
    free(e), free(c), free(rh), free(nh);
    return o;
}

/* The client's side: the partial decrypts for the recipient and verifies against PK_1. */
static int partial_ok(const char *resp, const req_keys *k) {
    json_t *o = json_loads(resp, 0, NULL);
    const char *eh = json_string_value(json_object_get(o, "enc")), *ch = json_string_value(json_object_get(o, "ciphertext"));
    uint8_t in[96], aad[36], pt[48];
    int ok = eh && ch && tu_unhex(in, 32, eh) == 32 && tu_unhex(in + 32, 64, ch) == 64 &&
             json_integer_value(json_object_get(o, "epoch")) == 7;
    json_decref(o);
    if (!ok) return 0;
    aad[0] = aad[1] = aad[2] = 0, aad[3] = 20;
    memcpy(aad + 4, APP, 20);
    memset(aad + 24, 0, 12), aad[31] = 7, aad[35] = 1;
    g1_affine_t part;
    return tkms_hpke_open(pt, k->rsk, (const uint8_t *)"tkms/v1/partial-key", 19, aad, sizeof aad, in, sizeof in) &&
           g1_deserialize(&part, pt, 48, 0) == G1_OK && appkey_verify(&part, APP, &PK1);
}

/* Sends the request; checks the code (and for OK the partial). */
static void expect(tkms_release_ctx *ctx, const char *req, int64_t now_s, const req_keys *k, tkms_release_code want,
                   const char *label) {
    char *resp = NULL;
    int status = 0;
    tkms_release_code got = tkms_release_handle_key(ctx, &resp, &status, req, strlen(req), "10.0.0.9", now_s * 1000);
    if (got != want) {
        fprintf(stderr, "%s: got %s, want %s: %s\n", label, tkms_release_code_name(got), tkms_release_code_name(want),
                resp ? resp : "(null)");
        failures++;
    } else if (want == TKMS_REL_OK) {
        EXPECT(status == 200 && resp && partial_ok(resp, k), label);
    } else {
        EXPECT(status == 403 && resp && !strstr(resp, "ciphertext"), label);
    }
    free(resp);
}

/* A TDX request for the app: MRCONFIGID = cfg_app || cfg_rest (28 bytes of cfg_rest), MRTD the
 * vector's (or flipped). */
static void tdx_case(tkms_release_ctx *ctx, const uint8_t cfg_app[20], uint8_t cfg_rest, int flip_mrtd,
                     tkms_release_code want, const char *label) {
    req_keys k;
    fresh(&k);
    uint8_t mrconfigid[48], mrtd[48];
    memcpy(mrconfigid, cfg_app, 20);
    memset(mrconfigid + 20, cfg_rest, 28);
    memcpy(mrtd, MRTD, 48);
    if (flip_mrtd) mrtd[47] ^= 1;
    synth_opts o;
    memset(&o, 0, sizeof o);
    o.report_data = k.B;
    o.mrconfigid = mrconfigid;
    o.mrtd = mrtd;
    uint8_t *q;
    size_t n;
    char *col;
    at_synth_tdx(&o, &q, &n, &col);
    char *req = key_request(&k, "tdx", q, n, (const uint8_t *)col, strlen(col));
    expect(ctx, req, T_TDX, &k, want, label);
    free(q), free(col), free(req);
}

/* An SEV-SNP request: HOST_DATA = host_app || host_rest (12 bytes), MEASUREMENT the vector's (or
 * flipped). */
static void snp_case(tkms_release_ctx *ctx, const uint8_t host_app[20], uint8_t host_rest, int flip_meas,
                     tkms_release_code want, const char *label) {
    req_keys k;
    fresh(&k);
    uint8_t host[32], meas[48], r[0x4A0];
    memcpy(host, host_app, 20);
    memset(host + 20, host_rest, 12);
    memcpy(meas, MEAS, 48);
    if (flip_meas) meas[0] ^= 0x80;
    snp_opts o;
    memset(&o, 0, sizeof o);
    o.policy = 0x30000;
    o.sig_algo = 1;
    o.vcek_bl = -1;
    o.report_data = k.B;
    o.host_data = host;
    o.measurement = meas;
    TU_CHECK(rn == sizeof r);
    char *col;
    at_synth_snp(&o, r, &col);
    char *req = key_request(&k, "sev-snp", r, rn, (const uint8_t *)col, strlen(col));
    expect(ctx, req, T, &k, want, label);
    free(col), free(req);
}

int main(void) {
    tu_seed();
    at_tdx_load();
    at_snp_load();
    T_TDX = at_time("2025-07-01T00:00:00Z");
    memcpy(MRTD, quote + TDX_BODY + 0x88, 48);
    memcpy(MEAS, rep + 0x90, 48);

    /* the app, its owner, and a node holding share 1 of a dealt polynomial (epoch 7) */
    do tu_randbytes(OWNER_SK, 32);
    while (!tkms_eth_address_of_key(OWNER, OWNER_SK));
    tu_randbytes(SALT, 32);
    tkms_app_id_derive(APP, OWNER, SALT);
    tkms_app_id_format(APPS, APP);
    memcpy(APP2, APP, 20);
    APP2[19] ^= 1;
    uint8_t seed[32], wide[64], sb[32];
    fr_t secret, shares[3];
    g2_affine_t comm[2], pks[3];
    tu_randbytes(wide, 64);
    fr_from_bytes_wide(&secret, wide, 64);
    tu_randbytes(seed, 32);
    void *scratch = malloc(tbls_scratch_size(3));
    TU_CHECK(scratch && tbls_deal(shares, comm, &secret, seed, 2, 3, scratch));
    tbls_public_shares(pks, comm, 2, 3, scratch);
    free(scratch);
    PK1 = pks[0];
    tu_randbytes(seed, 32);
    TU_CHECK(tkms_identity_from_seed(&ID, seed));
    sqlite3 *db = NULL;
    tkms_status err;
    TU_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK && tkms_registry_init(db, &err));
    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = db;
    memcpy(cfg.ed25519_sk, ID.sign_sk, 32);
    cfg.app_rate = cfg.source_rate = 1000;
    cfg.app_burst = cfg.source_burst = 1000;
    tkms_release_ctx *ctx = tkms_release_new(&cfg);
    TU_CHECK(ctx);
    fr_to_bytes(sb, &shares[0]);
    TU_CHECK(tkms_release_set_epoch(ctx, 7, 1, sb, 0)); /* a production cluster */

    /* seq 1: the vectors' MRTD and MEASUREMENT, no deployment lists */
    char *st = statement(1, NULL, NULL);
    put_statement(ctx, st);
    free(st);
    tdx_case(ctx, APP, 0, 0, TKMS_REL_OK, "tdx: MRCONFIGID names the app, MRTD allowed");
    tdx_case(ctx, APP2, 0, 0, TKMS_REL_APP_NOT_BOUND, "tdx: MRCONFIGID names another app");
    tdx_case(ctx, APP, 0, 1, TKMS_REL_MEASUREMENT_NOT_ALLOWED, "tdx: MRTD not in the statement");
    snp_case(ctx, APP, 0, 0, TKMS_REL_OK, "sev-snp: HOST_DATA names the app, MEASUREMENT allowed");
    snp_case(ctx, APP2, 0, 0, TKMS_REL_APP_NOT_BOUND, "sev-snp: HOST_DATA names another app");
    snp_case(ctx, APP, 0, 1, TKMS_REL_MEASUREMENT_NOT_ALLOWED, "sev-snp: MEASUREMENT not in the statement");

    /* seq 2: deployments name the app's instances with byte 20 = 0x01 */
    char dep[512], mc[97], hd[65];
    uint8_t v[48];
    memcpy(v, APP, 20);
    memset(v + 20, 1, 28);
    tu_hex(mc, v, 48);
    tu_hex(hd, v, 32);
    snprintf(dep, sizeof dep, "{\"tdx_mrconfigid\":[\"%s\"],\"snp_host_data\":[\"%s\"]}", mc, hd);
    st = statement(2, NULL, dep);
    put_statement(ctx, st);
    free(st);
    tdx_case(ctx, APP, 0, 0, TKMS_REL_DEPLOYMENT_NOT_ALLOWED, "tdx: MRCONFIGID not in deployments.tdx_mrconfigid");
    tdx_case(ctx, APP, 1, 0, TKMS_REL_OK, "tdx: a listed deployment");
    tdx_case(ctx, APP2, 1, 0, TKMS_REL_APP_NOT_BOUND, "tdx: another app (even with a listed tail)");
    snp_case(ctx, APP, 0, 0, TKMS_REL_DEPLOYMENT_NOT_ALLOWED, "sev-snp: HOST_DATA not in deployments.snp_host_data");
    snp_case(ctx, APP, 1, 0, TKMS_REL_OK, "sev-snp: a listed deployment");

    /* seq 3: an RTMR0 allow-list the quote does not meet */
    char rt[160], rtx[97];
    memset(v, 0x5a, 48);
    tu_hex(rtx, v, 48);
    snprintf(rt, sizeof rt, ",\"rtmr0\":[\"%s\"]", rtx);
    st = statement(3, rt, NULL);
    put_statement(ctx, st);
    free(st);
    tdx_case(ctx, APP, 0, 0, TKMS_REL_MEASUREMENT_NOT_ALLOWED, "tdx: RTMR0 not in the statement");

    TU_CHECK(tkms_attest_testhook_intel_root(NULL));
    TU_CHECK(tkms_attest_testhook_amd(0, NULL, NULL));
    tkms_release_free(ctx);
    sqlite3_close(db);
    if (failures) {
        fprintf(stderr, "test_release_tee: %d failure(s) (seed %llu)\n", failures, (unsigned long long)tu_get_seed());
        return 1;
    }
    printf("test_release_tee: ok\n");
    return 0;
}
