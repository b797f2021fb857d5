/* Attestation tests: shared helpers (vector loading, one-call verify, synthetic keys, certificates
 * and CRLs built with OpenSSL for the negative cases the real vectors cannot provide). */
#ifndef TKMS_ATTEST_TEST_H
#define TKMS_ATTEST_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest_testhook.h"
#include "testutil.h"
#include "tkms/attest.h"

static int at_failures;

static inline uint8_t *at_read(const char *rel, size_t *n) {
    FILE *f = fopen(tu_vector_path(rel), "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", tu_vector_path(rel));
        exit(1);
    }
    uint8_t *b = malloc(1 << 20);
    *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static inline int64_t at_time(const char *s) {
    int64_t t;
    TU_CHECK(tkms_attest_parse_time(&t, s));
    return t;
}

typedef struct {
    tkms_attest_method method;
    const uint8_t *ev;
    size_t evn;
    const uint8_t *col;
    size_t coln;
    const uint8_t *binding;
    int64_t now;
    const tkms_attest_policy *pol;
    tkms_attest_replay *replay;
    uint32_t flags;
} at_case;

static tkms_attest_result at_res;

static inline tkms_attest_reason at_run(const at_case *c) {
    tkms_attest_request rq = {c->method, c->ev, c->evn, c->col, c->coln, c->binding, c->now, c->pol, c->replay, c->flags};
    if (!c->binding) rq.flags |= TKMS_ATTEST_F_NO_BINDING;
    return tkms_attest_verify(&at_res, &rq);
}

/* Checks the reason of one verification; reports and counts mismatches instead of stopping so a
 * run shows every broken case. */
#define AT_EXPECT(want, casep, label)                                                                          \
    do {                                                                                                       \
        tkms_attest_reason got_ = at_run(casep);                                                               \
        if (got_ != (want)) {                                                                                  \
            fprintf(stderr, "%s:%d: %s: got %s (%s), want %s\n", __FILE__, __LINE__, label,                    \
                    tkms_attest_reason_name(got_), at_res.message, tkms_attest_reason_name(want));            \
            at_failures++;                                                                                     \
        }                                                                                                      \
    } while (0)

#define AT_TRUE(cond, label)                                                                                   \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, label, #cond);               \
            at_failures++;                                                                                     \
        }                                                                                                      \
    } while (0)

/* ---- synthetic PKI ---- */

static inline EVP_PKEY *at_ec_key(const char *curve) {
    EVP_PKEY *k = EVP_EC_gen(curve);
    TU_CHECK(k);
    return k;
}

static inline EVP_PKEY *at_rsa_key(unsigned bits) {
    EVP_PKEY *k = EVP_RSA_gen(bits);
    TU_CHECK(k);
    return k;
}

static inline void at_name(X509_NAME *n, const char *cn) {
    TU_CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0));
}

static inline void at_ext(X509 *x, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    TU_CHECK(e && X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

/* A certificate for key `pub` named cn, issued by (issuer, ikey) or self-signed when issuer is
 * NULL, valid [nb, na] (unix seconds). */
static inline X509 *at_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca, long serial, int64_t nb,
                     int64_t na, const EVP_MD *md) {
    X509 *x = X509_new();
    TU_CHECK(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    at_name(X509_get_subject_name(x), cn);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
    X509_set_pubkey(x, pub);
    at_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    at_ext(x, issuer ? issuer : x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation");
    at_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
    at_ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid:always");
    TU_CHECK(X509_sign(x, ikey, md) > 0);
    return x;
}

/* A CRL by (issuer, ikey) valid [lu, nu] listing the given serials (0-terminated). */
static inline X509_CRL *at_crl(X509 *issuer, EVP_PKEY *ikey, int64_t lu, int64_t nu, const long *revoked) {
    X509_CRL *c = X509_CRL_new();
    TU_CHECK(c);
    X509_CRL_set_version(c, 1);
    X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME_set(t, (time_t)lu);
    X509_CRL_set1_lastUpdate(c, t);
    ASN1_TIME_set(t, (time_t)nu);
    X509_CRL_set1_nextUpdate(c, t);
    for (; revoked && *revoked; revoked++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *s = ASN1_INTEGER_new();
        ASN1_INTEGER_set(s, *revoked);
        X509_REVOKED_set_serialNumber(r, s);
        ASN1_TIME_set(t, (time_t)lu);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(c, r);
        ASN1_INTEGER_free(s);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(c);
    TU_CHECK(X509_CRL_sign(c, ikey, EVP_sha256()) > 0);
    return c;
}

static inline char *at_pem(X509 *x) {
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    BIO_free(b);
    return s;
}

/* Raw ECDSA signature r||s (nbytes each, big-endian) over msg. */
static inline void at_ecdsa_sign(uint8_t *rs, size_t nbytes, EVP_PKEY *k, const EVP_MD *md, const uint8_t *msg, size_t len) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t der[160];
    size_t dl = sizeof der;
    TU_CHECK(EVP_DigestSignInit(m, NULL, md, NULL, k) == 1 && EVP_DigestSign(m, der, &dl, msg, len) == 1);
    EVP_MD_CTX_free(m);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    TU_CHECK(sig);
    TU_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, (int)nbytes) == (int)nbytes);
    TU_CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + nbytes, (int)nbytes) == (int)nbytes);
    ECDSA_SIG_free(sig);
}

/* Uncompressed public point X||Y of an EC key. */
static inline void at_ec_xy(uint8_t *xy, size_t nbytes, EVP_PKEY *k) {
    uint8_t pt[133];
    size_t n = 0;
    TU_CHECK(EVP_PKEY_get_octet_string_param(k, "pub", pt, sizeof pt, &n) == 1 && n == 1 + 2 * nbytes);
    memcpy(xy, pt + 1, 2 * nbytes);
}

static inline void at_hexs(char *out, const uint8_t *b, size_t n) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = d[b[i] >> 4], out[2 * i + 1] = d[b[i] & 15];
    out[2 * n] = 0;
}

static inline int at_finish(const char *name) {
    if (at_failures) {
        fprintf(stderr, "%s: %d failure(s)\n", name, at_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
