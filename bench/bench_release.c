/* tkms-bench-release: cost of one key release, in-process, broken down (verify per method, hash to
 * G1, scalar mul, HPKE, Ed25519, audit write) and handler requests/s for insecure-dev and gcp-cs.
 * Table by default; --json prints one {"op","ns","iters"} object per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "appkey.h"
#include "g1.h"
#include "hpke.h"
#include "identity.h"
#include "release.h"
#include "tbls.h"
#include "proto_tags.h"

static int json_out;
static const int64_t NOW_MS = 1751371200000LL; /* 2025-07-01T12:00:00Z */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *op, double ns, long iters) {
    if (json_out) printf("{\"op\":\"%s\",\"ns\":%.0f,\"iters\":%ld}\n", op, ns, iters);
    else printf("%-34s %12.0f ns %10.0f /s  (%ld iters)\n", op, ns, 1e9 / ns, iters);
}

/* A failed step ends the benchmark (exit: no cleanup needed on this path). */
static _Noreturn void bench_fail(const char *what, const char *detail) {
    fprintf(stderr, "%s: %s\n", what, detail ? detail : "failed");
    exit(1);
}

#define BENCH(name, iters, ...)                                      \
    do {                                                              \
        long n_ = (iters);                                            \
        double t0_ = now_ns();                                        \
        for (long i_ = 0; i_ < n_; i_++) {                            \
            __VA_ARGS__;                                              \
        }                                                             \
        report(name, (now_ns() - t0_) / (double)n_, n_);              \
    } while (0)

static void hex(char *o, const uint8_t *b, size_t n) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) o[2 * i] = d[b[i] >> 4], o[2 * i + 1] = d[b[i] & 15];
    o[2 * n] = 0;
}

static char *b64(const uint8_t *in, size_t n, int url) {
    char *o = malloc(n * 4 / 3 + 8);
    int l = EVP_EncodeBlock((unsigned char *)o, in, (int)n);
    if (url) {
        while (l > 0 && o[l - 1] == '=') o[--l] = 0;
        for (int i = 0; i < l; i++) o[i] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
    }
    return o;
}

static uint8_t *readf(const char *rel, size_t *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", TKMS_VECTORS_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = malloc(1 << 20);
    *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static EVP_PKEY *RSA_KEY;
static uint8_t DEV_SK[32], DEV_PK[32], APP[20];
static char APPS[TKMS_APP_ID_TEXT];
static const char *DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static char *token(const uint8_t B[64], long k) {
    char nonce[65], pl[2048];
    hex(nonce, B, 32);
    int64_t now = NOW_MS / 1000;
    snprintf(pl, sizeof pl,
             "{\"iss\":\"https://confidentialcomputing.googleapis.com\",\"aud\":\"tkms\",\"sub\":\"x\",\"iat\":%lld,\"nbf\":%lld,"
             "\"exp\":%lld,\"jti\":\"bench-%ld-%d\",\"eat_nonce\":\"%s\",\"dbgstat\":\"disabled-since-boot\",\"swname\":\"CONFIDENTIAL_SPACE\","
             "\"swversion\":[\"250300\"],\"secboot\":true,\"hwmodel\":\"GCP_INTEL_TDX\",\"attester_tcb\":[\"INTEL\"],"
             "\"google_service_accounts\":[\"app@acme-prod.iam.gserviceaccount.com\"],\"submods\":{\"container\":{"
             "\"image_reference\":\"docker.io/acme/app:1\",\"image_digest\":\"%s\",\"restart_policy\":\"Never\",\"env\":{"
             "\"TKMS_APP_ID\":\"%s\"}},\"confidential_space\":{\"support_attributes\":[\"LATEST\",\"STABLE\"]},\"gce\":{"
             "\"zone\":\"us-central1-a\",\"project_id\":\"acme-prod\",\"project_number\":\"1\",\"instance_name\":\"i\"}}}",
             (long long)now - 60, (long long)now - 60, (long long)now + 3540, k, (int)getpid(), nonce, DIGEST, APPS);
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"bench\",\"typ\":\"JWT\"}";
    char *h = b64((const uint8_t *)hdr, strlen(hdr), 1), *p = b64((const uint8_t *)pl, strlen(pl), 1);
    size_t mlen = strlen(h) + strlen(p) + 2;
    char *msg = malloc(mlen);
    snprintf(msg, mlen, "%s.%s", h, p);
    uint8_t sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, RSA_KEY);
    EVP_DigestSign(m, sig, &sl, (uint8_t *)msg, strlen(msg));
    EVP_MD_CTX_free(m);
    char *s = b64(sig, sl, 1), *tok = malloc(strlen(msg) + strlen(s) + 2);
    sprintf(tok, "%s.%s", msg, s);
    free(h), free(p), free(msg), free(s);
    return tok;
}

static char *dev_ev(const uint8_t B[64]) {
    uint8_t msg[104], sig[64];
    memcpy(msg, TKMS_TAG_INSECURE_DEV, 20);
    memcpy(msg + 20, APP, 20);
    memcpy(msg + 40, B, 64);
    if (!tkms_ed25519_sign(sig, DEV_SK, msg, sizeof msg)) exit(1);
    char bh[129], kh[65], sh[129], *o = malloc(1024);
    hex(bh, B, 64), hex(kh, DEV_PK, 32), hex(sh, sig, 64);
    snprintf(o, 1024, "{\"format\":\"tkms-insecure-dev-v1\",\"app_id\":\"%s\",\"binding\":\"%s\",\"public_key\":\"%s\",\"signature\":\"%s\"}",
             APPS, bh, kh, sh);
    return o;
}

static char *key_req(const uint8_t rpk[32], const uint8_t nonce[32], const char *method, const char *ev) {
    char rh[65], nh[65];
    hex(rh, rpk, 32), hex(nh, nonce, 32);
    char *e = b64((const uint8_t *)ev, strlen(ev), 0), *o = malloc(strlen(e) + 512);
    sprintf(o, "{\"app_id\":\"%s\",\"recipient\":\"%s\",\"nonce\":\"%s\",\"attestation\":{\"method\":\"%s\",\"evidence\":\"%s\"}}", APPS,
            rh, nh, method, e);
    free(e);
    return o;
}

static sqlite3_stmt *audit_ins;
static int audit_sqlite(void *arg, const tkms_release_audit *a) {
    (void)arg;
    sqlite3_bind_int64(audit_ins, 1, NOW_MS);
    sqlite3_bind_text(audit_ins, 2, a->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_text(audit_ins, 3, a->app_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(audit_ins, 4, a->decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(audit_ins, 5, a->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(audit_ins, 6, a->digest, -1, SQLITE_STATIC);
    int ok = sqlite3_step(audit_ins) == SQLITE_DONE;
    sqlite3_reset(audit_ins);
    return ok;
}

int main(int argc, char **argv) {
    long iters = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json_out = 1;
        else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) iters = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: tkms-bench-release [--json] [--iters N]\n");
            return 2;
        }
    }
    if (iters < 1 || iters > 10000000) return fprintf(stderr, "--iters must be in 1..10000000\n"), 2;
    /* node: a share of a dealt polynomial, identity, registry in a temporary file (WAL) */
    uint8_t seed[32], wide[64], sb[32];
    fr_t secret, shares[3];
    g2_affine_t comm[2];
    RAND_bytes(wide, 64);
    RAND_bytes(seed, 32);
    fr_from_bytes_wide(&secret, wide, 64);
    void *scratch = malloc(tbls_scratch_size(8));
    if (!tbls_deal(shares, comm, &secret, seed, 2, 3, scratch)) return 1;
    free(scratch);
    tkms_identity id;
    RAND_bytes(seed, 32);
    if (!tkms_identity_from_seed(&id, seed)) return 1;
    char dbpath[] = "/tmp/tkms-bench-release-XXXXXX";
    int fd = mkstemp(dbpath);
    if (fd < 0) return 1;
    close(fd);
    sqlite3 *db;
    tkms_status err;
    if (sqlite3_open(dbpath, &db) != SQLITE_OK || !tkms_registry_init(db, &err)) return 1;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE audit(id INTEGER PRIMARY KEY, ts_ms INTEGER, kind TEXT, subject TEXT, decision TEXT, detail TEXT, digest TEXT)",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO audit(ts_ms, kind, subject, decision, detail, digest) VALUES(?,?,?,?,?,?)", -1, &audit_ins, NULL);

    uint8_t owner_sk[32], owner[20], salt[32];
    do RAND_bytes(owner_sk, 32);
    while (!tkms_eth_address_of_key(owner, owner_sk));
    RAND_bytes(salt, 32);
    tkms_app_id_derive(APP, owner, salt);
    tkms_app_id_format(APPS, APP);
    RAND_bytes(DEV_SK, 32);
    tkms_ed25519_pubkey(DEV_PK, DEV_SK);
    RSA_KEY = EVP_RSA_gen(2048);
    BIGNUM *bn = NULL;
    uint8_t nb[512];
    EVP_PKEY_get_bn_param(RSA_KEY, OSSL_PKEY_PARAM_RSA_N, &bn);
    int nl = BN_bn2bin(bn, nb);
    BN_free(bn);
    char *n64 = b64(nb, (size_t)nl, 1), jwks[1024];
    snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bench\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n64);
    free(n64);

    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = db;
    memcpy(cfg.ed25519_sk, id.sign_sk, 32);
    cfg.audit = audit_sqlite;
    cfg.app_rate = cfg.source_rate = cfg.app_burst = cfg.source_burst = 1e12;
    tkms_release_ctx *ctx = tkms_release_new(&cfg);
    fr_to_bytes(sb, &shares[0]);
    if (!ctx || !tkms_release_set_epoch(ctx, 1, 1, sb, 1) || !tkms_release_set_jwks(ctx, jwks, strlen(jwks))) return 1;
    char stm[1024], *signed_st = NULL, *resp;
    int status;
    snprintf(stm, sizeof stm, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"gcp-cs\",\"insecure-dev\"],\"image_digests\":[\"%s\"],"
             "\"deployments\":{\"gcp_projects\":[\"acme-prod\"]}}", APPS, DIGEST);
    if (tkms_app_sign_statement(&signed_st, &err, stm, strlen(stm), owner_sk, salt) != TKMS_REL_OK ||
        tkms_release_handle_app_update(ctx, &resp, &status, signed_st, strlen(signed_st), "bench", NOW_MS) != TKMS_REL_OK)
        return fprintf(stderr, "setup failed: %s\n", err.msg), 1;
    free(resp);

    uint8_t rsk[32], rpk[32], nonce[32], B[64];
    RAND_bytes(rsk, 32);
    tkms_x25519_pubkey(rpk, rsk);
    RAND_bytes(nonce, 32);
    if (!tkms_attest_binding(B, APP, rpk, nonce, 32)) return 1;
    char *dev = dev_ev(B);
    long ntok = iters;
    char **toks = calloc((size_t)ntok * 2, sizeof(char *));
    if (!toks) bench_fail("tokens", "out of memory");
    for (long i = 0; i < 2 * ntok; i++) toks[i] = token(B, i);

    if (!json_out) printf("tkms-bench-release: per-request cost on one core (%ld iterations)\n", iters);
    /* ---- components ---- */
    tkms_attest_result *res = malloc(sizeof *res);
    tkms_attest_replay *rc = tkms_attest_replay_new((size_t)ntok + 16);
    tkms_attest_request rq = {TKMS_ATTEST_INSECURE_DEV, (const uint8_t *)dev, strlen(dev), NULL, 0, B, NOW_MS / 1000, NULL, rc,
                              TKMS_ATTEST_F_DEV_MODE};
    BENCH("verify insecure-dev", iters, if (tkms_attest_verify(res, &rq) != TKMS_ATTEST_OK) bench_fail("dev", res->message));
    rq.method = TKMS_ATTEST_GCP_CS;
    rq.collateral = (const uint8_t *)jwks;
    rq.collateral_len = strlen(jwks);
    rq.flags = 0;
    BENCH("verify gcp-cs (RS256 + claims)", ntok, {
        if (!toks[i_]) bench_fail("gcp", "no token");
        rq.evidence = (const uint8_t *)toks[i_];
        rq.evidence_len = strlen(toks[i_]);
        if (tkms_attest_verify(res, &rq) != TKMS_ATTEST_OK) bench_fail("gcp", res->message);
    });
    size_t ql, cl;
    uint8_t *quote = readf("attestation/dcapqvl_tdx_quote", &ql), *col = readf("attestation/dcapqvl_tdx_quote_collateral.json", &cl);
    if (quote && col) {
        tkms_attest_request tq = {TKMS_ATTEST_TDX, quote, ql, col, cl, NULL, 1751328000 /* 2025-07-01 */, NULL, NULL,
                                  TKMS_ATTEST_F_NO_BINDING};
        long tn = iters / 10 ? iters / 10 : 1;
        BENCH("verify tdx (vector quote, no B)", tn,
              if (tkms_attest_verify(res, &tq) != TKMS_ATTEST_OK) bench_fail("tdx", res->message));
    } else {
        fprintf(stderr, "tdx vectors not found under %s; skipped\n", TKMS_VECTORS_DIR);
    }
    free(quote), free(col);
    g1_t q, k;
    g1_affine_t ka;
    uint8_t part[48], sealed[96], ikm[32] = {1}, aad[36] = {0}, sig[64], msg[232] = {0};
    BENCH("hash_to_G1 (Q_A)", iters, appkey_identity_point(&q, APP));
    BENCH("scalar mul s_i*Q_A (ct)", iters, tbls_partial_sign_hashed(&k, &shares[0], &q));
    g1_to_affine(&ka, &k);
    g1_serialize(part, &ka);
    BENCH("HPKE seal (X25519, ChaCha20Poly1305)", iters, tkms_hpke_seal(sealed, rpk, (const uint8_t *)TKMS_INFO_PARTIAL_KEY, 19, aad, 36, part, 48, ikm));
    BENCH("Ed25519 sign response", iters, tkms_ed25519_sign(sig, id.sign_sk, msg, sizeof msg));
    tkms_release_audit ar = {"keys/app", APPS, "gcp-cs", DIGEST, "bench", "release", "ok", "", 1, 0, 1};
    BENCH("audit write (SQLite WAL, sync=NORMAL)", iters, audit_sqlite(NULL, &ar));
    uint64_t sq;
    BENCH("registry seq lookup", iters, tkms_registry_seq(db, &sq, APP));

    /* ---- whole handler ---- */
    char *req = key_req(rpk, nonce, "insecure-dev", dev);
    BENCH("handler keys/app insecure-dev", iters, {
        tkms_release_handle_key(ctx, &resp, &status, req, strlen(req), "bench", NOW_MS);
        if (status != 200) bench_fail("dev", resp);
        free(resp);
    });
    free(req);
    char **reqs = malloc(sizeof(char *) * (size_t)ntok);
    for (long i = 0; i < ntok; i++) reqs[i] = key_req(rpk, nonce, "gcp-cs", toks[ntok + i]);
    BENCH("handler keys/app gcp-cs", ntok, {
        tkms_release_handle_key(ctx, &resp, &status, reqs[i_], strlen(reqs[i_]), "bench", NOW_MS);
        if (status != 200) bench_fail("gcp", resp);
        free(resp);
    });
    for (long i = 0; i < ntok; i++) free(reqs[i]);
    for (long i = 0; i < 2 * ntok; i++) free(toks[i]);
    free(reqs), free(toks), free(dev), free(res), free(signed_st);
    tkms_attest_replay_free(rc);
    tkms_release_free(ctx);
    sqlite3_finalize(audit_ins);
    sqlite3_close(db);
    unlink(dbpath);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", dbpath);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", dbpath);
    unlink(side);
    EVP_PKEY_free(RSA_KEY);
    tkms_identity_wipe(&id);
    return 0;
}
