/* tkms attestation: bounded encoders/decoders, a DER walker, RFC 3339 times, X.509 chain verification at an
 * injected time and raw-ECDSA verification shared by the TDX, SNP and JWT verifiers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "att_util.h"
#include "prim.h"

tkms_attest_reason att_fail(tkms_attest_result *res, tkms_attest_reason r, const char *fmt, ...) {
    va_list ap;
    res->reason = r;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return r;
}


int att_unhex(uint8_t *out, size_t n, const char *hex, size_t hexlen) {
    return tkms_unhex(out, n, hex, hexlen, TKMS_HEX_ANY_CASE);
}

void att_hex(char *out, const uint8_t *in, size_t n) { tkms_hex(out, in, n); }

int att_strcpy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

int att_b64url_decode(uint8_t **out, size_t *outlen, const char *in, size_t inlen) {
    return tkms_b64_decode_alloc(out, outlen, in, inlen, 1, 0);
}

int att_b64std_decode(uint8_t **out, size_t *outlen, const char *in, size_t inlen) {
    return inlen > 0 && tkms_b64_decode_alloc(out, outlen, in, inlen, 0, 1);
}

int att_der_next(att_der *d, uint8_t *tag, att_der *val) {
    if (d->len < 2) return 0;
    const uint8_t *p = d->p;
    size_t n = d->len, off = 2, l = p[1];
    if ((p[0] & 0x1f) == 0x1f) return 0; /* multi-byte tags never occur in what we read */
    if (l & 0x80) {
        size_t k = l & 0x7f;
        if (k == 0 || k > 4 || n < 2 + k) return 0;
        l = 0;
        for (size_t i = 0; i < k; i++) l = (l << 8) | p[2 + i];
        off += k;
    }
    if (l > n - off) return 0;
    *tag = p[0];
    val->p = p + off;
    val->len = l;
    d->p += off + l;
    d->len -= off + l;
    return 1;
}

int att_der_uint(const att_der *v, uint64_t *out) {
    size_t n = v->len;
    const uint8_t *p = v->p;
    if (n == 0 || (p[0] & 0x80)) return 0;
    if (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    if (n > 8) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x = (x << 8) | p[i];
    *out = x;
    return 1;
}

STACK_OF(X509) *att_pem_chain(const uint8_t *pem, size_t len, size_t max) {
    while (len > 0 && pem[len - 1] == 0) len--; /* DCAP cert data may end in NUL */
    if (len == 0 || len > INT32_MAX) return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!b || !sk) goto err;
    for (;;) {
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (!x) break;
        if ((size_t)sk_X509_num(sk) >= max || !sk_X509_push(sk, x)) {
            X509_free(x);
            goto err;
        }
    }
    ERR_clear_error();
    if (sk_X509_num(sk) == 0) goto err;
    BIO_free(b);
    return sk;
err:
    BIO_free(b);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

X509_CRL *att_crl_from_der(const uint8_t *der, size_t len) {
    const unsigned char *p = der;
    if (len > INT32_MAX) return NULL;
    X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);
    if (c && p != der + len) { /* trailing bytes: not the object that was signed */
        X509_CRL_free(c);
        return NULL;
    }
    return c;
}

tkms_attest_reason att_verify_chain(char *detail, size_t detail_len, X509 *root, X509 *leaf,
                                    STACK_OF(X509) *untrusted, STACK_OF(X509_CRL) *crls, int64_t now) {
    tkms_attest_reason r = TKMS_ATTEST_E_INTERNAL;
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    snprintf(detail, detail_len, "internal error");
    if (!st || !ctx || !X509_STORE_add_cert(st, root)) goto out;
    if (!X509_STORE_CTX_init(ctx, st, leaf, untrusted)) goto out;
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)now);
    unsigned long fl = 0; /* not X509_STRICT: AMD VCEKs lack an AKID; the roots are pinned */
    if (crls) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        fl |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    X509_VERIFY_PARAM_set_flags(vp, fl);
    int ok = X509_verify_cert(ctx);
    int e = X509_STORE_CTX_get_error(ctx);
    snprintf(detail, detail_len, "%s (depth %d)", X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
    if (ok == 1) {
        /* The store holds one certificate, so a successful chain ends there; check anyway so a
         * future change to the store cannot silently widen trust. */
        STACK_OF(X509) *ch = X509_STORE_CTX_get0_chain(ctx);
        int n = ch ? sk_X509_num(ch) : 0;
        r = (n > 0 && X509_cmp(sk_X509_value(ch, n - 1), root) == 0) ? TKMS_ATTEST_OK : TKMS_ATTEST_E_UNTRUSTED_ROOT;
        goto out;
    }
    switch (e) {
    case X509_V_ERR_CERT_REVOKED:
        r = TKMS_ATTEST_E_REVOKED;
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        r = TKMS_ATTEST_E_CERT_EXPIRED;
        break;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
        r = TKMS_ATTEST_E_CRL;
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        r = TKMS_ATTEST_E_UNTRUSTED_ROOT;
        break;
    default:
        r = TKMS_ATTEST_E_CHAIN;
    }
out:
    if (ctx) X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return r;
}

int att_sha256(uint8_t out[32], const uint8_t *in, size_t len) {
    unsigned int n = 0;
    return EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

int att_x509_der_sha256(uint8_t out[32], X509 *x) {
    unsigned int n = 0;
    return X509_digest(x, EVP_sha256(), out, &n) == 1 && n == 32;
}

int att_x509_spki_sha256(uint8_t out[32], X509 *x) {
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (n <= 0) return 0;
    int ok = att_sha256(out, der, (size_t)n);
    OPENSSL_free(der);
    return ok;
}

EVP_PKEY *att_ec_pub_xy(const char *curve, const uint8_t *xy, size_t nbytes) {
    uint8_t pt[1 + 2 * 66];
    if (nbytes > 66) return NULL;
    pt[0] = 0x04;
    memcpy(pt + 1, xy, 2 * nbytes);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!b || !c) goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * nbytes))
        goto out;
    params = OSSL_PARAM_BLD_to_param(b);
    /* fromdata checks that the point is on the curve. */
    if (!params || EVP_PKEY_fromdata_init(c) != 1 || EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return pk;
}

int att_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t msg_len, const uint8_t *r,
                        const uint8_t *s, size_t nbytes) {
    int ok = 0;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)nbytes, NULL), *bs = BN_bin2bn(s, (int)nbytes, NULL);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (!sig || !br || !bs || !mc) goto out;
    if (!ECDSA_SIG_set0(sig, br, bs)) goto out;
    br = bs = NULL;
    int dlen = i2d_ECDSA_SIG(sig, &der);
    if (dlen <= 0) goto out;
    if (EVP_DigestVerifyInit(mc, NULL, md, NULL, key) != 1) goto out;
    ok = EVP_DigestVerify(mc, der, (size_t)dlen, msg, msg_len) == 1;
out:
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    OPENSSL_free(der);
    EVP_MD_CTX_free(mc);
    ERR_clear_error();
    return ok;
}

int att_allowed(const tkms_attest_allow *a, const uint8_t *v, size_t n) {
    int hit = 0;
    for (size_t i = 0; i < a->n; i++) hit |= CRYPTO_memcmp(a->v[i], v, n) == 0;
    return hit;
}

int att_str_allowed(const tkms_attest_strlist *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0) return 1;
    return 0;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int tkms_attest_parse_time(int64_t *out, const char *s) {
    int Y, M, D, h, mi, sec;
    if (!s || strlen(s) < 20) return 0;
    if (!digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60) return 0;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0)) return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59) return 0;
        off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return 0;
    }
    if (*p) return 0;
    if (sec == 60) sec = 59; /* leap second: clamp */
    *out = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 1;
}
