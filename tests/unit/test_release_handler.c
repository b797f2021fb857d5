/* Release handlers in-process: a fake node context with real shares of a dealt polynomial, dev and
 * gcp-cs evidence minted here (RS256 + local JWKS); a registered app gets partials that decrypt,
 * verify against PK_i and combine to the key under MPK; every bad request gets its stable code
 * and leaves the registry unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "appkey.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "hpke.h"
#include "identity.h"
#include "release.h"
#include "tbls.h"
#include "testutil.h"

static int failures;
#define EXPECT(cond, label)                                                                 \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__, __LINE__, label, #cond);   \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

#define T 2
#define N 3
static const int64_t NOW_MS = 1751371200000LL; /* 2025-07-01T12:00:00Z */
static fr_t SHARES[N];
static g2_affine_t COMM[T], PKS[N];
static tkms_identity IDS[N];
static uint8_t OWNER_SK[32], OWNER[20], SALT[32], APP[20], APP2[20];
static char APPS[TKMS_APP_ID_TEXT], APP2S[TKMS_APP_ID_TEXT];
static EVP_PKEY *RSA_KEY;
static char *JWKS;
static uint8_t DEV_SK[32], DEV_PK[32];
static const char *DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static int audit_count, audit_refused, audit_fail, last_genuine;
static char last_code[64], last_reason[64], last_decision[16];

/* audit_fail set: the record cannot be written (a full disk) */
static int audit_cb(void *arg, const tkms_release_audit *a) {
    (void)arg;
    audit_count++;
    if (strcmp(a->decision, "refuse") == 0) audit_refused++;
    snprintf(last_code, sizeof last_code, "%s", a->code);
    snprintf(last_reason, sizeof last_reason, "%s", a->reason);
    snprintf(last_decision, sizeof last_decision, "%s", a->decision);
    last_genuine = a->genuine;
    return !audit_fail;
}

/* ---- encoders ---- */

static char *b64(const uint8_t *in, size_t n, int url) {
    static const char s[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *a = url ? u : s;
    char *o = malloc(n * 4 / 3 + 8), *p = o;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63], *p++ = a[(v >> 6) & 63], *p++ = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63];
        if (!url) *p++ = '=', *p++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63], *p++ = a[(v >> 6) & 63];
        if (!url) *p++ = '=';
    }
    *p = 0;
    return o;
}

static char *bn_b64url(const char *name) {
    BIGNUM *bn = NULL;
    TU_CHECK(EVP_PKEY_get_bn_param(RSA_KEY, name, &bn) == 1);
    uint8_t buf[512];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64(buf, (size_t)n, 1);
}

/* ---- evidence ---- */

static void binding_key(uint8_t B[64], const uint8_t app[20], const uint8_t rcpt[32], const uint8_t nonce[32]) {
    TU_CHECK(tkms_attest_binding(B, app, rcpt, nonce, 32));
}

static void binding_sign(uint8_t B[64], const uint8_t app[20], const uint8_t *msg, size_t ml, const uint8_t nonce[32]) {
    uint8_t buf[16 + 4 + 4096 + 32], np[32], b2[14 + 4 + 20 + 4 + 4 + 32];
    size_t k = 0;
    memcpy(buf, "TKMS-V1-SIGN-APP", 16);
    k = 16;
    buf[k++] = (uint8_t)(ml >> 24), buf[k++] = (uint8_t)(ml >> 16), buf[k++] = (uint8_t)(ml >> 8), buf[k++] = (uint8_t)ml;
    memcpy(buf + k, msg, ml);
    k += ml;
    memcpy(buf + k, nonce, 32);
    k += 32;
    unsigned int l = 32;
    EVP_Digest(buf, k, np, &l, EVP_sha256(), NULL);
    memcpy(b2, "TKMS-V1-ATTEST", 14);
    k = 14;
    b2[k++] = 0, b2[k++] = 0, b2[k++] = 0, b2[k++] = 20;
    memcpy(b2 + k, app, 20);
    k += 20;
    b2[k++] = 0, b2[k++] = 0, b2[k++] = 0, b2[k++] = 0;
    b2[k++] = 0, b2[k++] = 0, b2[k++] = 0, b2[k++] = 32;
    memcpy(b2 + k, np, 32);
    k += 32;
    l = 64;
    EVP_Digest(b2, k, B, &l, EVP_sha512(), NULL);
}

static char *dev_evidence(const uint8_t app[20], const uint8_t B[64]) {
    uint8_t msg[20 + 20 + 64], sig[64];
    memcpy(msg, "TKMS-V1-INSECURE-DEV", 20);
    memcpy(msg + 20, app, 20);
    memcpy(msg + 40, B, 64);
    TU_CHECK(tkms_ed25519_sign(sig, DEV_SK, msg, sizeof msg));
    char a[TKMS_APP_ID_TEXT], bh[129], kh[65], sh[129];
    tkms_app_id_format(a, app);
    tu_hex(bh, B, 64), tu_hex(kh, DEV_PK, 32), tu_hex(sh, sig, 64);
    char *o = malloc(1024);
    snprintf(o, 1024, "{\"format\":\"tkms-insecure-dev-v1\",\"app_id\":\"%s\",\"binding\":\"%s\",\"public_key\":\"%s\",\"signature\":\"%s\"}",
             a, bh, kh, sh);
    return o;
}

typedef struct {
    const char *env_app; /* TKMS_APP_ID in env */
    const char *digest;
    const char *project;
    const char *jti;     /* NULL: fresh */
    int dbg;
    const char *account; /* google_service_accounts[0]; NULL: app@acme-prod */
} tok_opts;

static char *gcp_token(const uint8_t B[64], const tok_opts *o) {
    static int counter;
    char nonce[65], jti[48];
    tu_hex(nonce, B, 32);
    if (o->jti) snprintf(jti, sizeof jti, "%s", o->jti);
    else snprintf(jti, sizeof jti, "jti-%d-%llu", ++counter, (unsigned long long)tu_rand64());
    int64_t now = NOW_MS / 1000;
    json_t *pl = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:[s], s:b, s:s, s:[s], s:i,"
        " s:[s], s:{s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s,s]}, s:{s:s, s:s, s:s, s:s}}}",
        "iss", "https://confidentialcomputing.googleapis.com", "aud", "tkms", "sub", "x", "iat", (json_int_t)(now - 60), "nbf",
        (json_int_t)(now - 60), "exp", (json_int_t)(now + 3540), "jti", jti, "eat_nonce", nonce, "dbgstat",
        o->dbg ? "enabled" : "disabled-since-boot", "swname", "CONFIDENTIAL_SPACE", "swversion", "250300", "secboot", 1, "hwmodel",
        "GCP_INTEL_TDX", "attester_tcb", "INTEL", "oemid", 11129, "google_service_accounts",
        o->account ? o->account : "app@acme-prod.iam.gserviceaccount.com",
        "submods", "container", "image_reference", "docker.io/acme/app:1", "image_digest", o->digest ? o->digest : DIGEST,
        "restart_policy", "Never", "env", "TKMS_APP_ID", o->env_app ? o->env_app : APPS, "confidential_space",
        "support_attributes", "LATEST", "STABLE", "gce", "zone", "us-central1-a", "project_id",
        o->project ? o->project : "acme-prod", "project_number", "123456789", "instance_name", "app-1");
    TU_CHECK(pl);
    char *ps = json_dumps(pl, JSON_COMPACT);
    json_decref(pl);
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"test\",\"typ\":\"JWT\"}";
    char *h = b64((const uint8_t *)hdr, strlen(hdr), 1), *p = b64((const uint8_t *)ps, strlen(ps), 1);
    size_t n = strlen(h) + strlen(p) + 2;
    char *msg = malloc(n);
    snprintf(msg, n, "%s.%s", h, p);
    uint8_t sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    TU_CHECK(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, RSA_KEY) == 1 &&
             EVP_DigestSign(m, sig, &sl, (uint8_t *)msg, strlen(msg)) == 1);
    EVP_MD_CTX_free(m);
    char *s = b64(sig, sl, 1), *tok = malloc(strlen(msg) + strlen(s) + 2);
    sprintf(tok, "%s.%s", msg, s);
    free(h), free(p), free(msg), free(s), free(ps);
    return tok;
}

/* ---- requests ---- */

static char *key_request(const uint8_t app[20], const uint8_t rcpt[32], const uint8_t nonce[32], const char *method,
                         const char *evidence) {
    char a[TKMS_APP_ID_TEXT], rh[65], nh[65];
    tkms_app_id_format(a, app);
    tu_hex(rh, rcpt, 32), tu_hex(nh, nonce, 32);
    char *ev = b64((const uint8_t *)evidence, strlen(evidence), 0);
    size_t n = strlen(ev) + 512;
    char *o = malloc(n);
    snprintf(o, n, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"%s\",\"evidence\":\"%s\"}}",
             a, rh, nh, method, ev);
    free(ev);
    return o;
}

static char *sign_request(const uint8_t app[20], const uint8_t *msg, size_t ml, const uint8_t nonce[32], const char *method,
                          const char *evidence) {
    char a[TKMS_APP_ID_TEXT], nh[65], *mh = malloc(2 * ml + 1);
    tkms_app_id_format(a, app);
    tu_hex(nh, nonce, 32);
    tu_hex(mh, msg, ml);
    char *ev = b64((const uint8_t *)evidence, strlen(evidence), 0);
    size_t n = strlen(ev) + strlen(mh) + 512;
    char *o = malloc(n);
    snprintf(o, n, "{\"app_id\":\"%s\",\"msg\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"%s\",\"evidence\":\"%s\"}}", a, mh,
             nh, method, ev);
    free(ev), free(mh);
    return o;
}

/* ---- nodes ---- */

typedef struct {
    sqlite3 *db;
    tkms_release_ctx *ctx;
} node_t;

static node_t make_node(int i, int dev_mode, double burst) {
    node_t nd;
    tkms_status err;
    TU_CHECK(sqlite3_open(":memory:", &nd.db) == SQLITE_OK && tkms_registry_init(nd.db, &err));
    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = nd.db;
    memcpy(cfg.ed25519_sk, IDS[i].sign_sk, 32);
    cfg.audit = audit_cb;
    cfg.app_rate = cfg.source_rate = 1000;
    cfg.app_burst = cfg.source_burst = burst;
    nd.ctx = tkms_release_new(&cfg);
    TU_CHECK(nd.ctx);
    TU_CHECK(tkms_release_set_jwks(nd.ctx, JWKS, strlen(JWKS)));
    uint8_t sb[32];
    fr_to_bytes(sb, &SHARES[i]);
    TU_CHECK(tkms_release_set_epoch(nd.ctx, 7, (uint32_t)i + 1, sb, dev_mode));
    return nd;
}

static void free_node(node_t *nd) {
    tkms_release_free(nd->ctx);
    sqlite3_close(nd->db);
}

static char *statement(unsigned seq, const char *methods, const uint8_t *owner_sk, const uint8_t *salt) {
    tkms_status err;
    char s[2048], *out = NULL;
    snprintf(s, sizeof s,
             "{\"app_id\":\"%s\",\"seq\":%u,\"methods\":[%s],\"image_digests\":[\"%s\"],"
             "\"deployments\":{\"gcp_projects\":[\"acme-prod\"]}}",
             APPS, seq, methods, DIGEST);
    tkms_release_code c = tkms_app_sign_statement(&out, &err, s, strlen(s), owner_sk, salt);
    if (c != TKMS_REL_OK) fprintf(stderr, "sign: %s\n", err.msg);
    return out;
}

static tkms_release_code update(node_t *nd, const char *js, int *status) {
    char *resp = NULL;
    tkms_release_code c = tkms_release_handle_app_update(nd->ctx, &resp, status, js, strlen(js), "cli", NOW_MS);
    free(resp);
    return c;
}

static char *snapshot(node_t *nd) { return tkms_release_sync_summary(nd->ctx); }

/* Sends a key request and checks the code; returns the response (caller frees). */
static char *key_call(node_t *nd, const char *req, size_t len, tkms_release_code want, int want_http, const char *label) {
    char *resp = NULL, *before = snapshot(nd);
    int status = 0;
    tkms_release_code got = tkms_release_handle_key(nd->ctx, &resp, &status, req, len, "10.0.0.1", NOW_MS);
    if (got != want || status != want_http) {
        fprintf(stderr, "%s: got %s/%d, want %s/%d: %s\n", label, tkms_release_code_name(got), status, tkms_release_code_name(want),
                want_http, resp ? resp : "(null)");
        failures++;
    }
    char *after = snapshot(nd);
    EXPECT(strcmp(before, after) == 0, "a release request never changes the registry");
    if (want != TKMS_REL_OK) {
        json_t *o = resp ? json_loads(resp, 0, NULL) : NULL;
        json_t *code = json_object_get(json_object_get(o, "error"), "code");
        EXPECT(json_is_string(code) && strcmp(json_string_value(code), tkms_release_code_name(want)) == 0, label);
        EXPECT(resp && !strstr(resp, "ciphertext"), "no partial in an error");
        json_decref(o);
    }
    free(before), free(after);
    return resp;
}


static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v; }
static uint8_t *lp(uint8_t *p, const uint8_t *x, size_t n) {
    put32(p, (uint32_t)n);
    memcpy(p + 4, x, n);
    return p + 4 + n;
}

static int hexget(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) == 2 * n && tu_unhex(out, n, json_string_value(v)) == (long)n;
}

/* The client's side of §1: signature, HPKE open, parse, check against PK_i. */
static int client_key(g1_affine_t *out, const char *resp, int i, const uint8_t rsk[32], const uint8_t rpk[32], const uint8_t nonce[32],
                      const uint8_t app[20]) {
    json_t *o = json_loads(resp, 0, NULL);
    uint8_t enc_ct[96], sig[64], m[512], *e = m, aad[36], pt[48];
    int ok = o && json_integer_value(json_object_get(o, "epoch")) == 7 && json_integer_value(json_object_get(o, "index")) == i + 1 &&
             hexget(enc_ct, 32, o, "enc") && hexget(enc_ct + 32, 64, o, "ciphertext") && hexget(sig, 64, o, "signature");
    json_decref(o);
    if (!ok) return 0;
    memcpy(e, "TKMS-V1-KEY-RESPONSE", 20);
    e = lp(e + 20, app, 20);
    memset(e, 0, 8), e[7] = 7, put32(e + 8, (uint32_t)i + 1), e += 12;
    e = lp(e, rpk, 32);
    e = lp(e, nonce, 32);
    e = lp(e, enc_ct, 32);
    e = lp(e, enc_ct + 32, 64);
    if (!tkms_ed25519_verify(sig, IDS[i].sign_pk, m, (size_t)(e - m))) return fprintf(stderr, "bad response signature\n"), 0;
    lp(aad, app, 20);
    memset(aad + 24, 0, 8), aad[31] = 7, put32(aad + 32, (uint32_t)i + 1);
    if (!tkms_hpke_open(pt, rsk, (const uint8_t *)"tkms/v1/partial-key", 19, aad, sizeof aad, enc_ct, 96))
        return fprintf(stderr, "HPKE open failed\n"), 0;
    if (g1_deserialize(out, pt, 48, 0) != G1_OK) return fprintf(stderr, "partial does not parse\n"), 0;
    return appkey_verify(out, app, &PKS[i]);
}

static void recipient(uint8_t sk[32], uint8_t pk[32]) {
    tu_randbytes(sk, 32);
    TU_CHECK(tkms_x25519_pubkey(pk, sk));
}

static tkms_release_code put_stmt(node_t *nd, const char *js) {
    int st;
    return update(nd, js, &st);
}

static void test_release_ok(node_t *nodes) {
    uint8_t rsk[32], rpk[32], nonce[32], B[64];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    char *ev = dev_evidence(APP, B), *req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    tbls_partial parts[2];
    for (int i = 0; i < 2; i++) {
        char *resp = key_call(&nodes[i], req, strlen(req), TKMS_REL_OK, 200, "dev release");
        EXPECT(resp && client_key(&parts[i].sig, resp, i, rsk, rpk, nonce, APP), "dev partial decrypts and verifies against PK_i");
        parts[i].index = (uint32_t)i + 1;
        free(resp);
    }
    /* t partials combine to K_A, which verifies against MPK = poly[0] */
    void *scratch = malloc(tbls_scratch_size(4));
    g1_t k;
    g1_affine_t ka;
    EXPECT(tbls_combine(&k, parts, 2, scratch), "combine");
    g1_to_affine(&ka, &k);
    EXPECT(appkey_verify(&ka, APP, &COMM[0]), "combined key verifies against MPK");
    free(scratch);
    /* the dev statement is not single-use: the same request again yields a fresh ciphertext */
    char *r1 = key_call(&nodes[0], req, strlen(req), TKMS_REL_OK, 200, "dev release again");
    free(r1);
    free(ev), free(req);

    /* gcp-cs */
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    tok_opts o = {0};
    char *tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    char *resp = key_call(&nodes[1], req, strlen(req), TKMS_REL_OK, 200, "gcp-cs release");
    g1_affine_t pa;
    EXPECT(resp && client_key(&pa, resp, 1, rsk, rpk, nonce, APP), "gcp-cs partial verifies");
    free(resp);
    /* replayed token (same jti) */
    resp = key_call(&nodes[1], req, strlen(req), TKMS_REL_ATTESTATION_REFUSED, 403, "replayed jti");
    EXPECT(strcmp(last_reason, "replay") == 0 && resp && strstr(resp, "\"reason\":\"replay\""), "replay reason");
    free(resp), free(req), free(tok);
}

static void expect_key(node_t *nd, const char *req, tkms_release_code want, int http, const char *label) {
    free(key_call(nd, req, strlen(req), want, http, label));
}

/* A release or signature whose audit record cannot be written is refused (503, nothing released);
 * refusals and registry updates are answered as usual. The record says whether the evidence was
 * genuine, which is what the daemon keeps rows for. */
static void test_audit_fail_closed(node_t *nodes) {
    uint8_t rsk[32], rpk[32], nonce[32], B[64], Bother[64];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    char *ev = dev_evidence(APP, B), *req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    audit_fail = 1;
    expect_key(&nodes[0], req, TKMS_REL_AUDIT_FAILED, 503, "release with an unwritable audit record");
    EXPECT(strcmp(last_decision, "release") == 0 && last_genuine, "the failed record was the release's");
    char *resp = NULL;
    int st = 0;
    uint8_t msg[3] = {1, 2, 3}, np[32];
    tu_randbytes(np, 32);
    uint8_t Bs[64];
    binding_sign(Bs, APP, msg, sizeof msg, np);
    char *sev = dev_evidence(APP, Bs), *sreq = sign_request(APP, msg, sizeof msg, np, "insecure-dev", sev);
    EXPECT(tkms_release_handle_sign(nodes[0].ctx, &resp, &st, sreq, strlen(sreq), "s", NOW_MS) == TKMS_REL_AUDIT_FAILED &&
               st == 503 && resp && !strstr(resp, "partial") && strstr(resp, "audit_unavailable"),
           "app signature with an unwritable audit record");
    free(resp), free(sreq), free(sev);
    /* refusing needs no record to be safe */
    expect_key(&nodes[0], "{}", TKMS_REL_BAD_REQUEST, 400, "refusal with an unwritable audit record");
    audit_fail = 0;
    expect_key(&nodes[0], req, TKMS_REL_OK, 200, "release once the audit record is written again");
    EXPECT(last_genuine && strcmp(last_decision, "release") == 0, "release record");
    free(ev), free(req);
    /* genuine: set for evidence that verified (then refused for its binding), not for forged evidence */
    uint8_t r2[32];
    memcpy(r2, rpk, 32);
    r2[0] ^= 1;
    binding_key(Bother, APP, r2, nonce);
    ev = dev_evidence(APP, Bother);
    req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(&nodes[0], req, TKMS_REL_BINDING_MISMATCH, 403, "genuine evidence, other binding");
    EXPECT(last_genuine, "a binding mismatch of genuine evidence is a refusal of valid evidence");
    free(ev), free(req);
    ev = dev_evidence(APP, B);
    char *sig = strstr(ev, "\"signature\":\"");
    TU_CHECK(sig);
    sig += 13;
    *sig = *sig == '0' ? '1' : '0';
    req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(&nodes[0], req, TKMS_REL_ATTESTATION_REFUSED, 403, "forged dev evidence");
    EXPECT(!last_genuine, "forged evidence is not genuine");
    free(ev), free(req);
    expect_key(&nodes[0], "{\"app_id\":1}", TKMS_REL_BAD_REQUEST, 400, "garbage");
    EXPECT(!last_genuine, "garbage is not genuine");
}

static void test_refusals(node_t *nodes, node_t *prod) {
    uint8_t rsk[32], rpk[32], nonce[32], B[64], Bother[64], r2[32];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    char *ev, *req, *tok;
    tok_opts o;

    /* unregistered app (valid dev evidence for it) */
    uint8_t B2[64];
    binding_key(B2, APP2, rpk, nonce);
    ev = dev_evidence(APP2, B2);
    req = key_request(APP2, rpk, nonce, "insecure-dev", ev);
    expect_key(&nodes[0], req, TKMS_REL_UNKNOWN_APP, 404, "unregistered app");
    free(ev), free(req);

    /* wrong digest */
    memset(&o, 0, sizeof o);
    o.digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_DIGEST_NOT_ALLOWED, 403, "wrong digest");
    free(tok), free(req);

    /* evidence for another app: same image, TKMS_APP_ID of another app */
    memset(&o, 0, sizeof o);
    o.env_app = APP2S;
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_APP_NOT_BOUND, 403, "TKMS_APP_ID of another app");
    free(tok), free(req);
    /* ... and the other app's own token (bound to the other app) replayed against this app */
    memset(&o, 0, sizeof o);
    o.env_app = APP2S;
    tok = gcp_token(B2, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_BINDING_MISMATCH, 403, "token bound to another app");
    free(tok), free(req);

    /* wrong binding: the token names another recipient key */
    memcpy(r2, rpk, 32);
    r2[0] ^= 1;
    binding_key(Bother, APP, r2, nonce);
    memset(&o, 0, sizeof o);
    tok = gcp_token(Bother, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_BINDING_MISMATCH, 403, "wrong binding (recipient)");
    free(tok), free(req);
    ev = dev_evidence(APP, Bother);
    req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(&nodes[0], req, TKMS_REL_BINDING_MISMATCH, 403, "wrong binding (dev)");
    free(ev), free(req);

    /* deployment */
    memset(&o, 0, sizeof o);
    o.project = "evil-prod";
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_DEPLOYMENT_NOT_ALLOWED, 403, "other project");
    free(tok), free(req);

    /* debug image: refused by the verifier with its reason */
    memset(&o, 0, sizeof o);
    o.dbg = 1;
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nodes[0], req, TKMS_REL_ATTESTATION_REFUSED, 403, "dbgstat enabled");
    EXPECT(strcmp(last_reason, "debug_enabled") == 0 || last_reason[0], "reason recorded");
    free(tok), free(req);

    /* dev evidence on a production cluster */
    ev = dev_evidence(APP, B);
    req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(prod, req, TKMS_REL_DEV_MODE_ONLY, 403, "dev evidence on production");
    free(req);

    /* method not in the statement */
    {
        char a[TKMS_APP_ID_TEXT], rh[65], nh[65], buf[1024];
        tkms_app_id_format(a, APP);
        tu_hex(rh, rpk, 32), tu_hex(nh, nonce, 32);
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"tdx\",\"evidence\":\"AAAA\",\"collateral\":\"AAAA\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_METHOD_NOT_ALLOWED, 403, "tdx not allowed");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"tdx\",\"evidence\":\"AAAA\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "tdx without collateral");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAA=A\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "bad base64");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAB=\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "non-canonical base64");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"sgx\",\"evidence\":\"AAAA\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "unknown method");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"extra\":1,\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAAA\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "unknown member");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAAA\"}}", a, a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "duplicate key");
        snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%.62s\",\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAAA\"}}", a, rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "short nonce");
        snprintf(buf, sizeof buf, "{\"app_id\":\"0x12\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"insecure-dev\",\"evidence\":\"AAAA\"}}", rh, nh);
        expect_key(&nodes[0], buf, TKMS_REL_BAD_REQUEST, 400, "bad app id");
        /* low-order recipient: HPKE refuses, nothing released */
        char zero[65];
        memset(zero, '0', 64), zero[64] = 0;
        uint8_t z[32] = {0};
        uint8_t Bz[64];
        binding_key(Bz, APP, z, nonce);
        char *evz = dev_evidence(APP, Bz), *rq = key_request(APP, z, nonce, "insecure-dev", evz);
        expect_key(&nodes[0], rq, TKMS_REL_BAD_REQUEST, 400, "low-order recipient");
        free(evz), free(rq);
    }
    expect_key(&nodes[0], "{\"app_id\":", TKMS_REL_BAD_REQUEST, 400, "truncated JSON");
    expect_key(&nodes[0], "[]", TKMS_REL_BAD_REQUEST, 400, "array body");
    expect_key(&nodes[0], "", TKMS_REL_BAD_REQUEST, 400, "empty body");
    {
        char *big = malloc(300 * 1024);
        memset(big, ' ', 300 * 1024 - 1);
        big[300 * 1024 - 1] = 0;
        expect_key(&nodes[0], big, TKMS_REL_TOO_LARGE, 413, "300 KiB body");
        /* a 100 KiB insecure-dev request: only TDX requests may exceed 64 KiB */
        size_t pad = 100 * 1024;
        char *padded = malloc(strlen(ev) + pad + 16);
        sprintf(padded, "%s", ev);
        char *end = padded + strlen(padded) - 1; /* closing brace */
        memset(end, ' ', pad);
        strcpy(end + pad, "}");
        char *rq = key_request(APP, rpk, nonce, "insecure-dev", padded);
        expect_key(&nodes[0], rq, TKMS_REL_TOO_LARGE, 413, "100 KiB dev request");
        free(rq), free(padded), free(big);
    }
    free(ev);

    /* not ready */
    tkms_release_clear_epoch(prod->ctx);
    ev = dev_evidence(APP, B);
    req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(prod, req, TKMS_REL_NOT_READY, 503, "no share");
    free(ev), free(req);
}

static void test_rate_limit(void) {
    node_t nd = make_node(0, 1, 2); /* burst 2, refill 1000/s: the third call in the same ms is refused */
    char *s1 = statement(1, "\"insecure-dev\"", OWNER_SK, SALT);
    TU_CHECK(put_stmt(&nd, s1) == TKMS_REL_OK);
    free(s1);
    uint8_t rsk[32], rpk[32], nonce[32], B[64];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    char *ev = dev_evidence(APP, B), *req = key_request(APP, rpk, nonce, "insecure-dev", ev), *resp;
    int st;
    /* the statement update above took one token from source "cli"; the key requests use another */
    TU_CHECK(tkms_release_handle_key(nd.ctx, &resp, &st, req, strlen(req), "s1", NOW_MS) == TKMS_REL_OK);
    free(resp);
    TU_CHECK(tkms_release_handle_key(nd.ctx, &resp, &st, req, strlen(req), "s1", NOW_MS) == TKMS_REL_OK);
    free(resp);
    EXPECT(tkms_release_handle_key(nd.ctx, &resp, &st, req, strlen(req), "s1", NOW_MS) == TKMS_REL_RATE_LIMITED && st == 429,
           "per-source limit");
    free(resp);
    /* another source: per-app bucket (burst 2) is empty too */
    EXPECT(tkms_release_handle_key(nd.ctx, &resp, &st, req, strlen(req), "s2", NOW_MS) == TKMS_REL_RATE_LIMITED, "per-app limit");
    free(resp);
    EXPECT(tkms_release_handle_key(nd.ctx, &resp, &st, req, strlen(req), "s2", NOW_MS + 5) == TKMS_REL_OK, "refilled");
    free(resp);
    free(ev), free(req);
    free_node(&nd);
}

/* A new app of owner_sk with a random salt: its signed statement (seq) and its ID. */
static char *new_app(const uint8_t owner_sk[32], unsigned seq, uint8_t app[20], uint8_t salt[32]) {
    uint8_t owner[20];
    tkms_status err;
    char id[TKMS_APP_ID_TEXT], st[256], *out = NULL;
    TU_CHECK(tkms_eth_address_of_key(owner, owner_sk));
    if (seq == 1) tu_randbytes(salt, 32);
    tkms_app_id_derive(app, owner, salt);
    tkms_app_id_format(id, app);
    snprintf(st, sizeof st, "{\"app_id\":\"%s\",\"seq\":%u,\"methods\":[\"insecure-dev\"]}", id, seq);
    TU_CHECK(tkms_app_sign_statement(&out, &err, st, strlen(st), owner_sk, salt) == TKMS_REL_OK);
    return out;
}

static node_t make_limited(uint64_t max_apps, uint64_t per_owner) {
    node_t nd;
    tkms_status err;
    TU_CHECK(sqlite3_open(":memory:", &nd.db) == SQLITE_OK && tkms_registry_init(nd.db, &err));
    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = nd.db;
    memcpy(cfg.ed25519_sk, IDS[0].sign_sk, 32);
    cfg.audit = audit_cb;
    cfg.source_rate = cfg.source_burst = 1e9;
    cfg.max_apps = max_apps;
    cfg.max_apps_per_owner = per_owner;
    nd.ctx = tkms_release_new(&cfg);
    TU_CHECK(nd.ctx);
    return nd;
}

static int64_t apps_in(node_t *nd) { return tkms_registry_count(nd->db); }

/* One paged anti-entropy round: `asker` pulls from `server` in memory. Returns the requests. */
static size_t sync_round(node_t *asker, node_t *server, size_t *stored) {
    tkms_release_sync *s = tkms_release_sync_begin(asker->ctx);
    TU_CHECK(s);
    char *req;
    while ((req = tkms_release_sync_next(s))) {
        char *ans = tkms_release_sync_serve(server->ctx, req, strlen(req));
        EXPECT(ans != NULL, "the server answers every request of the round");
        EXPECT(tkms_release_sync_answer(s, ans, ans ? strlen(ans) : 0, NOW_MS) == TKMS_REL_OK || !ans, "answer imported");
        free(req);
        free(ans);
    }
    size_t st, sl, rf, n;
    tkms_release_sync_counts(s, &st, &sl, &rf, &n);
    tkms_release_sync_end(s);
    if (stored) *stored = st;
    return n;
}

/* Registry limits over the handler: per-owner quota and total cap for new apps (a clear code,
 * nothing stored), updates of registered apps always accepted. */
static void test_registry_limits(void) {
    node_t nd = make_limited(5, 2);
    uint8_t sk1[32], sk2[32], a[8][20], salt[8][32], addr[20];
    do tu_randbytes(sk1, 32);
    while (!tkms_eth_address_of_key(addr, sk1));
    do tu_randbytes(sk2, 32);
    while (!tkms_eth_address_of_key(addr, sk2));
    int st;
    char *js;
    for (int i = 0; i < 2; i++) {
        js = new_app(sk1, 1, a[i], salt[i]);
        EXPECT(update(&nd, js, &st) == TKMS_REL_OK, "owner 1, apps 1-2");
        free(js);
    }
    js = new_app(sk1, 1, a[2], salt[2]);
    char *resp = NULL;
    EXPECT(tkms_release_handle_app_update(nd.ctx, &resp, &st, js, strlen(js), "cli", NOW_MS) == TKMS_REL_OWNER_QUOTA &&
               st == 403 && resp && strstr(resp, "owner_quota_exceeded") && strstr(resp, "registry_max_apps_per_owner"),
           "third app of one owner refused");
    free(resp), free(js);
    EXPECT(apps_in(&nd) == 2, "nothing stored by the refusal");
    /* an update of a registered app is not a new app */
    js = new_app(sk1, 2, a[0], salt[0]);
    EXPECT(update(&nd, js, &st) == TKMS_REL_OK, "update within the quota");
    free(js);
    /* fill the registry (5) with other owners, then the cap */
    for (int i = 3; i < 6; i++) {
        uint8_t sk[32];
        do tu_randbytes(sk, 32);
        while (!tkms_eth_address_of_key(addr, sk));
        js = new_app(sk, 1, a[i], salt[i]);
        EXPECT(update(&nd, js, &st) == TKMS_REL_OK, "apps 3-5");
        free(js);
    }
    js = new_app(sk2, 1, a[6], salt[6]);
    EXPECT(tkms_release_handle_app_update(nd.ctx, &resp, &st, js, strlen(js), "cli", NOW_MS) == TKMS_REL_REGISTRY_FULL &&
               st == 507 && resp && strstr(resp, "registry_full"),
           "sixth app refused: registry full");
    free(resp), free(js);
    EXPECT(apps_in(&nd) == 5, "nothing stored by the refusal");
    js = new_app(sk1, 3, a[0], salt[0]);
    EXPECT(update(&nd, js, &st) == TKMS_REL_OK, "a registered app is updated even when the registry is full");
    free(js);
    free_node(&nd);
}

/* Paged anti-entropy: 3000 apps reach an empty node in pages; an unchanged registry costs one
 * digest request; a new statement crosses in one pull; a node at its cap still receives updates
 * of its own apps; malformed requests are refused. */
static void test_paged_sync(void) {
    node_t a = make_limited(100000, 100000), b = make_limited(100000, 100000), full = make_limited(40, 100000);
    uint8_t sk[32], addr[20];
    do tu_randbytes(sk, 32);
    while (!tkms_eth_address_of_key(addr, sk));
    enum { NA = 3000 };
    uint8_t(*ids)[20] = malloc(NA * sizeof *ids), (*salts)[32] = malloc(NA * sizeof *salts);
    int st;
    for (int i = 0; i < NA; i++) {
        char *js = new_app(sk, 1, ids[i], salts[i]);
        TU_CHECK(update(&a, js, &st) == TKMS_REL_OK);
        free(js);
    }
    size_t stored = 0, n = sync_round(&b, &a, &stored);
    EXPECT(stored == NA && apps_in(&b) == NA, "every app reached the empty node");
    EXPECT(n > NA / TKMS_SYNC_BATCH && n < 3 * (NA / TKMS_SYNC_BATCH) + 8, "in pages of at most 256 statements");
    char *sa = tkms_release_sync_summary(a.ctx), *sb = tkms_release_sync_summary(b.ctx);
    EXPECT(sa && sb && strcmp(sa, sb) == 0, "same registry on both");
    free(sa), free(sb);
    EXPECT(sync_round(&b, &a, &stored) == 1 && stored == 0, "in sync: one digest request");
    /* a newer statement of one app: digests, one pull */
    char *js = new_app(sk, 2, ids[1234], salts[1234]);
    TU_CHECK(update(&a, js, &st) == TKMS_REL_OK);
    free(js);
    EXPECT(sync_round(&b, &a, &stored) == 2 && stored == 1, "one new statement: digests and one pull");
    uint64_t seq = 0;
    EXPECT(tkms_registry_seq(b.db, &seq, ids[1234]) == 1 && seq == 2, "seq 2 arrived");
    /* a node with registry_max_apps 40 takes 40 apps, then only updates of those */
    sync_round(&full, &a, &stored);
    EXPECT(apps_in(&full) == 40, "the cap holds under anti-entropy");
    sqlite3_stmt *q;
    uint8_t held[20];
    TU_CHECK(sqlite3_prepare_v2(full.db, "SELECT app_id FROM apps LIMIT 1 OFFSET 17", -1, &q, NULL) == SQLITE_OK &&
             sqlite3_step(q) == SQLITE_ROW);
    memcpy(held, sqlite3_column_blob(q, 0), 20);
    sqlite3_finalize(q);
    int k = -1;
    for (int i = 0; i < NA; i++)
        if (!memcmp(ids[i], held, 20)) k = i;
    TU_CHECK(k >= 0);
    js = new_app(sk, 5, ids[k], salts[k]);
    TU_CHECK(update(&a, js, &st) == TKMS_REL_OK);
    free(js);
    n = sync_round(&full, &a, &stored);
    EXPECT(stored == 1 && tkms_registry_seq(full.db, &seq, held) == 1 && seq == 5 && apps_in(&full) == 40,
           "a full node still receives the update of its own app");
    EXPECT(n < 40, "a full node pulls only what it can use");
    /* serving: malformed requests get NULL (400) */
    const char *bad[] = {"{}", "[]", "{\"op\":\"digests\",\"x\":1}", "{\"op\":\"pull\",\"apps\":{}}",
                         "{\"op\":\"pull\",\"lo\":\"0xff00000000000000000000000000000000000000\",\"hi\":"
                         "\"0x0000000000000000000000000000000000000000\",\"known_only\":false,\"apps\":{}}",
                         "{\"op\":\"pull\",\"lo\":\"0x0000000000000000000000000000000000000000\",\"hi\":"
                         "\"0x00ffffffffffffffffffffffffffffffffffffff\",\"known_only\":false,\"apps\":"
                         "{\"0x0100000000000000000000000000000000000000\":1}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *ans = tkms_release_sync_serve(a.ctx, bad[i], strlen(bad[i]));
        EXPECT(ans == NULL, bad[i]);
        free(ans);
    }
    /* a peer answering garbage ends the round without changing anything */
    tkms_release_sync *s = tkms_release_sync_begin(b.ctx);
    char *req = tkms_release_sync_next(s);
    EXPECT(tkms_release_sync_answer(s, "{\"digests\":[]}", 14, NOW_MS) == TKMS_REL_BAD_REQUEST, "bad digests");
    free(req);
    EXPECT(tkms_release_sync_next(s) == NULL, "round over");
    tkms_release_sync_end(s);
    free(ids), free(salts);
    free_node(&a), free_node(&b), free_node(&full);
}

static void test_statements(node_t *nodes) {
    int st;
    char *before = snapshot(&nodes[0]);
    /* stale */
    char *s1 = statement(1, "\"insecure-dev\",\"gcp-cs\"", OWNER_SK, SALT);
    EXPECT(update(&nodes[0], s1, &st) == TKMS_REL_STALE_STATEMENT && st == 409, "stale statement");
    free(s1);
    /* signed by someone else: correct wrapper, wrong key */
    uint8_t other[32];
    uint8_t oa[20];
    do tu_randbytes(other, 32);
    while (!tkms_eth_address_of_key(oa, other));
    tkms_status err;
    char stm[1024], *can = NULL;
    snprintf(stm, sizeof stm, "{\"app_id\":\"%s\",\"seq\":9,\"methods\":[\"insecure-dev\"]}", APPS);
    tkms_app_statement ps;
    TU_CHECK(tkms_app_statement_parse(&ps, &can, &err, stm, strlen(stm)) == TKMS_REL_OK);
    uint8_t sig[65];
    TU_CHECK(tkms_eip191_sign(sig, other, (const uint8_t *)can, strlen(can)));
    char sh[65], gh[131], body[2048];
    tu_hex(sh, SALT, 32), tu_hex(gh, sig, 65);
    snprintf(body, sizeof body, "{\"salt\":\"%s\",\"signature\":\"%s\",\"statement\":%s}", sh, gh, can);
    EXPECT(update(&nodes[0], body, &st) == TKMS_REL_BAD_SIGNATURE && st == 403, "wrong owner signature");
    /* owner's signature but the seq edited afterwards */
    TU_CHECK(tkms_eip191_sign(sig, OWNER_SK, (const uint8_t *)can, strlen(can)));
    tu_hex(gh, sig, 65);
    snprintf(body, sizeof body, "{\"salt\":\"%s\",\"signature\":\"%s\",\"statement\":%s}", sh, gh, can);
    char *p = strstr(body, "\"seq\":9");
    p[6] = '8';
    EXPECT(update(&nodes[0], body, &st) == TKMS_REL_BAD_SIGNATURE, "edited statement");
    EXPECT(update(&nodes[0], "{nope", &st) == TKMS_REL_BAD_REQUEST && st == 400, "malformed update");
    char *after = snapshot(&nodes[0]);
    EXPECT(strcmp(before, after) == 0, "refused updates change nothing");
    free(after), free(can);

    /* a higher seq that drops insecure-dev takes effect at once (cache keyed by seq) */
    char *s2 = statement(2, "\"gcp-cs\"", OWNER_SK, SALT);
    EXPECT(update(&nodes[0], s2, &st) == TKMS_REL_OK && st == 200, "seq 2 stored");
    uint8_t rsk[32], rpk[32], nonce[32], B[64];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    char *ev = dev_evidence(APP, B), *req = key_request(APP, rpk, nonce, "insecure-dev", ev);
    expect_key(&nodes[0], req, TKMS_REL_METHOD_NOT_ALLOWED, 403, "method withdrawn by seq 2");
    free(ev), free(req);

    /* anti-entropy: node 1 (seq 1) learns seq 2 from node 0 */
    char *sum1 = tkms_release_sync_summary(nodes[1].ctx), *batch = tkms_release_sync_export(nodes[0].ctx, sum1, strlen(sum1), 64);
    size_t a = 0, b = 0, c = 0;
    EXPECT(batch && tkms_release_sync_import(nodes[1].ctx, &a, &b, &c, batch, strlen(batch), NOW_MS) == TKMS_REL_OK && a == 1,
           "anti-entropy import");
    char *s0 = snapshot(&nodes[0]), *s1b = snapshot(&nodes[1]);
    EXPECT(strcmp(s0, s1b) == 0, "registries converge");
    /* GET */
    char *resp = NULL;
    EXPECT(tkms_release_handle_app_get(nodes[1].ctx, &resp, &st, APPS) == TKMS_REL_OK && st == 200 && strcmp(resp, s2) == 0, "get");
    free(resp);
    EXPECT(tkms_release_handle_app_get(nodes[1].ctx, &resp, &st, APP2S) == TKMS_REL_UNKNOWN_APP && st == 404, "get unknown");
    free(resp);
    free(s0), free(s1b), free(sum1), free(batch), free(s2), free(before);
    /* back to a statement allowing both, for the sign tests */
    char *s3 = statement(3, "\"insecure-dev\",\"gcp-cs\"", OWNER_SK, SALT);
    TU_CHECK(put_stmt(&nodes[0], s3) == TKMS_REL_OK && put_stmt(&nodes[1], s3) == TKMS_REL_OK);
    free(s3);
}

static void test_sign(node_t *nodes) {
    const char *msg = "this address belongs to app A: 0x1234";
    size_t ml = strlen(msg);
    uint8_t nonce[32], B[64];
    tu_randbytes(nonce, 32);
    binding_sign(B, APP, (const uint8_t *)msg, ml, nonce);
    char *ev = dev_evidence(APP, B), *req = sign_request(APP, (const uint8_t *)msg, ml, nonce, "insecure-dev", ev);
    uint8_t am[256];
    size_t aml = appkey_app_msg(am, sizeof am, APP, (const uint8_t *)msg, ml);
    g1_t hm;
    g1_affine_t hma;
    h2c_hash_to_g1(&hm, am, aml, (const uint8_t *)TKMS_DST_APP_SIGN, TKMS_TAG_LEN(TKMS_DST_APP_SIGN));
    g1_to_affine(&hma, &hm);
    for (int i = 0; i < 2; i++) {
        char *resp = NULL;
        int st;
        EXPECT(tkms_release_handle_sign(nodes[i].ctx, &resp, &st, req, strlen(req), "s", NOW_MS) == TKMS_REL_OK && st == 200, "sign ok");
        json_t *o = resp ? json_loads(resp, 0, NULL) : NULL;
        uint8_t part[48], sig[64], m[512], *e = m;
        g1_affine_t pa;
        EXPECT(o && hexget(part, 48, o, "partial") && hexget(sig, 64, o, "signature"), "sign response");
        EXPECT(g1_deserialize(&pa, part, 48, 0) == G1_OK && tbls_verify_partial(&pa, &hma, &PKS[i]), "partial signature verifies");
        memcpy(e, "TKMS-V1-SIGN-RESPONSE", 21);
        e = lp(e + 21, APP, 20);
        memset(e, 0, 8), e[7] = 7, put32(e + 8, (uint32_t)i + 1), e += 12;
        e = lp(e, nonce, 32);
        e = lp(e, (const uint8_t *)msg, ml);
        e = lp(e, part, 48);
        EXPECT(tkms_ed25519_verify(sig, IDS[i].sign_pk, m, (size_t)(e - m)), "sign response signature");
        json_decref(o);
        free(resp);
    }
    free(req);
    /* evidence bound to another message */
    req = sign_request(APP, (const uint8_t *)"another statement", 17, nonce, "insecure-dev", ev);
    char *resp = NULL;
    int st;
    EXPECT(tkms_release_handle_sign(nodes[0].ctx, &resp, &st, req, strlen(req), "s", NOW_MS) == TKMS_REL_BINDING_MISMATCH, "msg swap");
    free(resp), free(req), free(ev);
    /* key evidence (B with a recipient) cannot be used for signing */
    uint8_t rpk[32] = {9};
    binding_key(B, APP, rpk, nonce);
    ev = dev_evidence(APP, B);
    req = sign_request(APP, (const uint8_t *)msg, ml, nonce, "insecure-dev", ev);
    EXPECT(tkms_release_handle_sign(nodes[0].ctx, &resp, &st, req, strlen(req), "s", NOW_MS) == TKMS_REL_BINDING_MISMATCH, "key evidence for sign");
    free(resp), free(req), free(ev);
    /* oversize message */
    uint8_t *big = calloc(1, 4097);
    req = sign_request(APP, big, 4097, nonce, "insecure-dev", "{}");
    EXPECT(tkms_release_handle_sign(nodes[0].ctx, &resp, &st, req, strlen(req), "s", NOW_MS) == TKMS_REL_BAD_REQUEST, "msg > 4096");
    free(resp), free(req), free(big);
}

/* gcp-cs statement allowing the given digests, projects and service accounts (JSON list bodies;
 * accounts NULL: no service_accounts list). */
static char *statement_gcp(unsigned seq, const char *digests, const char *projects, const char *accounts) {
    tkms_status err;
    char s[2048], acc[512] = "", *out = NULL;
    if (accounts) snprintf(acc, sizeof acc, ",\"service_accounts\":[%s]", accounts);
    snprintf(s, sizeof s,
             "{\"app_id\":\"%s\",\"seq\":%u,\"methods\":[\"gcp-cs\"],\"image_digests\":[%s],"
             "\"deployments\":{\"gcp_projects\":[%s]%s}}",
             APPS, seq, digests, projects, acc);
    tkms_release_code c = tkms_app_sign_statement(&out, &err, s, strlen(s), OWNER_SK, SALT);
    if (c != TKMS_REL_OK) fprintf(stderr, "sign: %s\n", err.msg);
    TU_CHECK(out);
    return out;
}

/* gcp-cs replay bookkeeping: the statement's digests and projects go into the verifier's policy, so
 * that a token refused for them is refused before its jti is recorded. Once the owner allows the
 * digest (then the project), the very same request is accepted, not taken for a replay; sent once
 * more after that, it is a replay. */
static void test_gcp_refusal_keeps_jti(void) {
    node_t nd = make_node(0, 1, 1000);
    static const char *D2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    char dl1[128], dl2[256];
    snprintf(dl1, sizeof dl1, "\"%s\"", DIGEST);
    snprintf(dl2, sizeof dl2, "\"%s\",\"%s\"", DIGEST, D2);
    char *st = statement_gcp(1, dl1, "\"acme-prod\"", NULL);
    TU_CHECK(put_stmt(&nd, st) == TKMS_REL_OK);
    free(st);
    uint8_t rsk[32], rpk[32], nonce[32], B[64];
    recipient(rsk, rpk);
    tu_randbytes(nonce, 32);
    binding_key(B, APP, rpk, nonce);
    tok_opts o;
    memset(&o, 0, sizeof o);
    o.digest = D2;
    char *tok = gcp_token(B, &o), *req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nd, req, TKMS_REL_DIGEST_NOT_ALLOWED, 403, "digest not allowed (yet)");
    st = statement_gcp(2, dl2, "\"acme-prod\"", NULL);
    TU_CHECK(put_stmt(&nd, st) == TKMS_REL_OK);
    free(st);
    char *resp = key_call(&nd, req, strlen(req), TKMS_REL_OK, 200, "same token once the digest is allowed");
    g1_affine_t part;
    EXPECT(resp && client_key(&part, resp, 0, rsk, rpk, nonce, APP), "partial released after the digest was allowed");
    free(resp);
    expect_key(&nd, req, TKMS_REL_ATTESTATION_REFUSED, 403, "the same token once more");
    EXPECT(strcmp(last_reason, "replay") == 0, "a released token is a replay");
    free(tok), free(req);

    /* the same for the project */
    memset(&o, 0, sizeof o);
    o.project = "acme-staging";
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nd, req, TKMS_REL_DEPLOYMENT_NOT_ALLOWED, 403, "project not allowed (yet)");
    st = statement_gcp(3, dl2, "\"acme-prod\",\"acme-staging\"", NULL);
    TU_CHECK(put_stmt(&nd, st) == TKMS_REL_OK);
    free(st);
    resp = key_call(&nd, req, strlen(req), TKMS_REL_OK, 200, "same token once the project is allowed");
    free(resp);
    free(tok), free(req);

    /* ... and for the service account */
    static const char *ACC = "\"app@acme-prod.iam.gserviceaccount.com\"",
                      *ACC2 = "\"app@acme-prod.iam.gserviceaccount.com\",\"ci@acme-prod.iam.gserviceaccount.com\"";
    st = statement_gcp(4, dl2, "\"acme-prod\"", ACC);
    TU_CHECK(put_stmt(&nd, st) == TKMS_REL_OK);
    free(st);
    memset(&o, 0, sizeof o);
    o.account = "ci@acme-prod.iam.gserviceaccount.com";
    tok = gcp_token(B, &o);
    req = key_request(APP, rpk, nonce, "gcp-cs", tok);
    expect_key(&nd, req, TKMS_REL_DEPLOYMENT_NOT_ALLOWED, 403, "service account not allowed (yet)");
    st = statement_gcp(5, dl2, "\"acme-prod\"", ACC2);
    TU_CHECK(put_stmt(&nd, st) == TKMS_REL_OK);
    free(st);
    resp = key_call(&nd, req, strlen(req), TKMS_REL_OK, 200, "same token once the service account is allowed");
    free(resp);
    free(tok), free(req);
    free_node(&nd);
}

/* A body the JSON parser refuses with a message that quotes it ("near '...'"): when the quoted
 * bytes were not UTF-8 the error body could not be built and the answer was a bodiless 500 (found by
 * fuzz_release_request). Now: 400 bad_request with a JSON body, on both endpoints. */
static void test_error_body_quotes_input(void) {
    node_t nd = make_node(0, 1, 1000);
    static const char body[] = "{\"app_id\":\"0x00\",\"attestation\":{\"e\\\xd7\xa5\x01p\":1}}";
    for (int sign = 0; sign <= 1; sign++) {
        char *resp = NULL;
        int st = 0;
        tkms_release_code c = sign ? tkms_release_handle_sign(nd.ctx, &resp, &st, body, sizeof body - 1, "s", NOW_MS)
                                   : tkms_release_handle_key(nd.ctx, &resp, &st, body, sizeof body - 1, "s", NOW_MS);
        TU_CHECK(c == TKMS_REL_BAD_REQUEST && st == 400 && resp);
        json_t *j = json_loads(resp, 0, NULL);
        TU_CHECK(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
        json_decref(j);
        free(resp);
    }
    free_node(&nd);
    printf("ok an error message quoting non-UTF-8 input still gives a 400 with a JSON body\n");
}

int main(void) {
    tu_seed();
    uint8_t seed[32], wide[64];
    fr_t secret;
    tu_randbytes(wide, 64);
    fr_from_bytes_wide(&secret, wide, 64);
    tu_randbytes(seed, 32);
    void *scratch = malloc(tbls_scratch_size(16));
    TU_CHECK(tbls_deal(SHARES, COMM, &secret, seed, T, N, scratch));
    tbls_public_shares(PKS, COMM, T, N, scratch);
    free(scratch);
    for (int i = 0; i < N; i++) {
        tu_randbytes(seed, 32);
        TU_CHECK(tkms_identity_from_seed(&IDS[i], seed));
    }
    do tu_randbytes(OWNER_SK, 32);
    while (!tkms_eth_address_of_key(OWNER, OWNER_SK));
    tu_randbytes(SALT, 32);
    tkms_app_id_derive(APP, OWNER, SALT);
    tkms_app_id_format(APPS, APP);
    tu_randbytes(APP2, 20);
    tkms_app_id_format(APP2S, APP2);
    tu_randbytes(DEV_SK, 32);
    TU_CHECK(tkms_ed25519_pubkey(DEV_PK, DEV_SK));
    RSA_KEY = EVP_RSA_gen(2048);
    TU_CHECK(RSA_KEY);
    char *n = bn_b64url(OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(OSSL_PKEY_PARAM_RSA_E);
    JWKS = malloc(strlen(n) + 256);
    sprintf(JWKS, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"test\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);
    free(n), free(e);

    node_t nodes[2] = {make_node(0, 1, 1000), make_node(1, 1, 1000)};
    node_t prod = make_node(2, 0, 1000);
    char *s1 = statement(1, "\"insecure-dev\",\"gcp-cs\"", OWNER_SK, SALT);
    TU_CHECK(s1);
    for (int i = 0; i < 2; i++) TU_CHECK(put_stmt(&nodes[i], s1) == TKMS_REL_OK);
    TU_CHECK(put_stmt(&prod, s1) == TKMS_REL_OK);
    free(s1);

    test_release_ok(nodes);
    test_refusals(nodes, &prod);
    test_rate_limit();
    test_statements(nodes);
    test_sign(nodes);
    test_audit_fail_closed(nodes);
    test_registry_limits();
    test_paged_sync();
    test_gcp_refusal_keeps_jti();
    test_error_body_quotes_input();
    EXPECT(audit_count > 20 && audit_refused > 10, "every request audited");

    for (int i = 0; i < 2; i++) free_node(&nodes[i]);
    free_node(&prod);
    EVP_PKEY_free(RSA_KEY);
    free(JWKS);
    if (failures) {
        fprintf(stderr, "test_release_handler: %d failure(s) (seed %llu)\n", failures, (unsigned long long)tu_get_seed());
        return 1;
    }
    printf("test_release_handler: ok\n");
    return 0;
}
