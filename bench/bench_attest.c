/* tkms-bench-attest: cost of one tkms_attest_verify per method (real TDX/SNP vectors, minted
 * Confidential Space tokens, a dev statement). Median of timed batches; a table, or JSON lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest_testhook.h"
#include "tkms/attest.h"
#include "proto_tags.h"

#ifndef TKMS_VECTORS_DIR
#define TKMS_VECTORS_DIR "tests/vectors"
#endif

static uint8_t *readf(const char *rel, size_t *n) {
    char p[1024];
    const char *d = getenv("TKMS_VECTORS");
    snprintf(p, sizeof p, "%s/attestation/%s", d ? d : TKMS_VECTORS_DIR, rel);
    FILE *f = fopen(p, "rb");
    if (!f) {
        perror(p);
        exit(2);
    }
    uint8_t *b = malloc(1 << 20);
    *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static char *b64url(const uint8_t *in, size_t n) {
    char *o = malloc(n * 4 / 3 + 8);
    int l = EVP_EncodeBlock((unsigned char *)o, in, (int)n);
    for (int i = 0; i < l; i++) o[i] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
    while (l > 0 && o[l - 1] == '=') o[--l] = 0;
    return o;
}

static char *mint(EVP_PKEY *k, const char *hdr, const char *pl) {
    char *h = b64url((const uint8_t *)hdr, strlen(hdr)), *p = b64url((const uint8_t *)pl, strlen(pl));
    char *msg = malloc(strlen(h) + strlen(p) + 2);
    sprintf(msg, "%s.%s", h, p);
    uint8_t sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(m, sig, &sl, (uint8_t *)msg, strlen(msg));
    EVP_MD_CTX_free(m);
    char *s = b64url(sig, sl), *t = malloc(strlen(msg) + strlen(s) + 2);
    sprintf(t, "%s.%s", msg, s);
    free(h), free(p), free(msg), free(s);
    return t;
}

static X509 *cert(EVP_PKEY *k, const char *cn, X509 *iss, EVP_PKEY *ik, int64_t now) {
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(uintptr_t)cn & 0xffff);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, iss ? X509_get_subject_name(iss) : X509_get_subject_name(x));
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - 86400));
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + 86400));
    X509_set_pubkey(x, k);
    if (!iss) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, ik, EVP_sha256());
    return x;
}

typedef struct {
    const char *op;
    tkms_attest_request rq;
    tkms_attest_replay *rc;
} op;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void run(op *o, int json) {
    static tkms_attest_result res;
    if (o->rc) tkms_attest_replay_clear(o->rc);
    tkms_attest_reason want = tkms_attest_verify(&res, &o->rq);
    uint64_t iters = 1;
    for (;;) { /* calibrate to ~50 ms per batch */
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < iters; i++) {
            if (o->rc) tkms_attest_replay_clear(o->rc);
            if (tkms_attest_verify(&res, &o->rq) != want) {
                fprintf(stderr, "%s: verdict changed\n", o->op);
                exit(1);
            }
        }
        if (now_ns() - t0 > 50000000u || iters > (1u << 20)) break;
        iters *= 2;
    }
    uint64_t s[7];
    for (int b = 0; b < 7; b++) {
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < iters; i++) {
            if (o->rc) tkms_attest_replay_clear(o->rc);
            if (tkms_attest_verify(&res, &o->rq) != want) exit(1);
        }
        s[b] = (now_ns() - t0) / iters;
    }
    qsort(s, 7, sizeof s[0], cmp);
    if (json)
        printf("{\"op\":\"%s\",\"ns\":%llu,\"iters\":%llu,\"verdict\":\"%s\"}\n", o->op, (unsigned long long)s[3],
               (unsigned long long)(iters * 7), tkms_attest_reason_name(want));
    else
        printf("%-28s %12.1f us   %-16s\n", o->op, (double)s[3] / 1000.0, tkms_attest_reason_name(want));
}

int main(int argc, char **argv) {
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    size_t qn, bn, rn, vn;
    uint8_t *q = readf("dcapqvl_tdx_quote", &qn), *b = readf("dcapqvl_tdx_quote_collateral.json", &bn);
    uint8_t *r = readf("snp_attestation.bin", &rn), *v = readf("snp_vcek.der", &vn);
    int64_t t_tdx = 1751328000, t_snp = 1704067200, t_gcp = 1751371200;
    uint8_t B[64] = {0}, app[20] = {0}, rcpt[32] = {0};
    if (!tkms_attest_binding(B, app, rcpt, (const uint8_t *)"n", 1)) return 1;
    char nonce[65];
    for (int i = 0; i < 32; i++) sprintf(nonce + 2 * i, "%02x", B[i]);

    /* Confidential Space: one RSA-2048 key, a JWKS, and a test PKI chain for the x5c variant */
    EVP_PKEY *k = EVP_RSA_gen(2048), *kr = EVP_RSA_gen(2048);
    BIGNUM *bn_n = NULL;
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn_n);
    uint8_t nb[512];
    int nl = BN_bn2bin(bn_n, nb);
    BN_free(bn_n);
    char *n64 = b64url(nb, (size_t)nl), jwks[2048];
    snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n64);
    char pl[2048];
    snprintf(pl, sizeof pl,
             "{\"iss\":\"https://confidentialcomputing.googleapis.com\",\"aud\":\"tkms\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,"
             "\"jti\":\"j\",\"eat_nonce\":\"%s\",\"dbgstat\":\"disabled-since-boot\",\"swname\":\"CONFIDENTIAL_SPACE\","
             "\"swversion\":[\"250300\"],\"secboot\":true,\"hwmodel\":\"GCP_INTEL_TDX\",\"attester_tcb\":[\"INTEL\"],"
             "\"submods\":{\"container\":{\"image_digest\":\"sha256:%064d\",\"env\":{}},\"confidential_space\":"
             "{\"support_attributes\":[\"STABLE\"]},\"gce\":{\"project_id\":\"p\"}}}",
             (long long)t_gcp - 10, (long long)t_gcp - 10, (long long)t_gcp + 3000, nonce, 0);
    char *oidc = mint(k, "{\"alg\":\"RS256\",\"kid\":\"k\"}", pl);
    X509 *root = cert(kr, "root", NULL, kr, t_gcp), *leaf = cert(k, "leaf", root, kr, t_gcp);
    unsigned char *d1 = NULL, *d2 = NULL;
    int l1 = i2d_X509(leaf, &d1), l2 = i2d_X509(root, &d2);
    char *e1 = malloc((size_t)l1 * 2), *e2 = malloc((size_t)l2 * 2), *hdr = malloc((size_t)(l1 + l2) * 2 + 128);
    EVP_EncodeBlock((unsigned char *)e1, d1, l1);
    EVP_EncodeBlock((unsigned char *)e2, d2, l2);
    sprintf(hdr, "{\"alg\":\"RS256\",\"x5c\":[\"%s\",\"%s\"]}", e1, e2);
    char *pki = mint(k, hdr, pl);
    uint8_t fp[32];
    unsigned int fl;
    X509_digest(root, EVP_sha256(), fp, &fl);
    tkms_attest_testhook_gcp_root(fp);

    /* insecure-dev statement */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t msg[104], sig[64], pub[32];
    size_t sl = 64, publ = 32;
    memcpy(msg, TKMS_TAG_INSECURE_DEV, 20);
    memcpy(msg + 20, app, 20);
    memcpy(msg + 40, B, 64);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, NULL, NULL, NULL, ed);
    EVP_DigestSign(m, sig, &sl, msg, sizeof msg);
    EVP_MD_CTX_free(m);
    EVP_PKEY_get_raw_public_key(ed, pub, &publ);
    char dev[512], bh[129], ph[65], sh[129];
    for (int i = 0; i < 64; i++) sprintf(bh + 2 * i, "%02x", B[i]), sprintf(sh + 2 * i, "%02x", sig[i]);
    for (int i = 0; i < 32; i++) sprintf(ph + 2 * i, "%02x", pub[i]);
    snprintf(dev, sizeof dev, "{\"format\":\"tkms-insecure-dev-v1\",\"app_id\":\"0x%040d\",\"binding\":\"%s\",\"public_key\":\"%s\",\"signature\":\"%s\"}", 0, bh, ph, sh);

    tkms_attest_replay *rc = tkms_attest_replay_new(16);
    op ops[] = {
        {"verify_tdx_dcap", {TKMS_ATTEST_TDX, q, qn, b, bn, NULL, t_tdx, NULL, NULL, TKMS_ATTEST_F_NO_BINDING}, NULL},
        {"verify_sev_snp", {TKMS_ATTEST_SEV_SNP, r, rn, v, vn, NULL, t_snp, NULL, NULL, TKMS_ATTEST_F_NO_BINDING}, NULL},
        {"verify_gcp_cs_oidc", {TKMS_ATTEST_GCP_CS, (uint8_t *)oidc, strlen(oidc), (uint8_t *)jwks, strlen(jwks), B, t_gcp, NULL, rc, 0}, rc},
        {"verify_gcp_cs_pki", {TKMS_ATTEST_GCP_CS, (uint8_t *)pki, strlen(pki), NULL, 0, B, t_gcp, NULL, rc, 0}, rc},
        {"verify_insecure_dev", {TKMS_ATTEST_INSECURE_DEV, (uint8_t *)dev, strlen(dev), NULL, 0, B, 0, NULL, NULL, TKMS_ATTEST_F_DEV_MODE}, NULL},
    };
    if (!json) printf("%-28s %15s   %s\n", "op", "time/verify", "verdict");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) run(&ops[i], json);
    tkms_attest_replay_free(rc);
    return 0;
}
