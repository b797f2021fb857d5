/* Deterministic P-256 TLS keys and their self-signed certificates or CSRs (OpenSSL X.509). The key
 * depends only on (seed, domain); certificates also carry the issue time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "wallet_internal.h"

/* Builds an EVP_PKEY from the scalar via a SEC1 ECPrivateKey DER without the public key: OpenSSL's
 * decoder then computes the public point itself (constant-time fixed-base multiplication), which
 * avoids the deprecated EC_KEY/EC_POINT API. */
static EVP_PKEY *p256_from_scalar(const uint8_t scalar[32]) {
    static const uint8_t prefix[] = {0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20};
    static const uint8_t suffix[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    uint8_t der[sizeof prefix + 32 + sizeof suffix];
    memcpy(der, prefix, sizeof prefix);
    memcpy(der + sizeof prefix, scalar, 32);
    memcpy(der + sizeof prefix + 32, suffix, sizeof suffix);
    const unsigned char *p = der;
    EVP_PKEY *pk = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)sizeof der);
    tkms_wallet_wipe(der, sizeof der);
    return pk;
}

static char *bio_to_string(BIO *b) {
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ex) return 0;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok;
}

static X509_NAME *subject_for(const char *domain) {
    X509_NAME *name = X509_NAME_new();
    if (!name) return NULL;
    /* CN is limited to 64 characters (RFC 5280 ub-common-name); longer names live in the SAN only. */
    const char *cn = strlen(domain) <= 64 ? domain : "tkms";
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)) {
        X509_NAME_free(name);
        return NULL;
    }
    return name;
}

static int make_cert(BIO *out, EVP_PKEY *pk, const char *domain, int64_t now, int days) {
    int ok = 0;
    X509 *x = X509_new();
    X509_NAME *name = subject_for(domain);
    uint8_t *spki = NULL, h[32];
    char san[8 + 253];
    if (!x || !name) goto done;
    /* serial = SHA-256(SPKI || domain || be64(now))[0..15], positive: reproducible from its inputs,
     * yet a re-issued certificate gets a new serial (browsers reject reused issuer+serial pairs). */
    int spki_len = i2d_PUBKEY(pk, &spki);
    if (spki_len <= 0) goto done;
    {
        size_t dl = strlen(domain), m = (size_t)spki_len + dl + 8;
        uint8_t *buf = malloc(m);
        if (!buf) goto done;
        memcpy(buf, spki, (size_t)spki_len);
        memcpy(buf + spki_len, domain, dl);
        for (int i = 0; i < 8; i++) buf[(size_t)spki_len + dl + (size_t)i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
        tkms_sha256(h, buf, m);
        free(buf);
    }
    h[0] = (uint8_t)((h[0] & 0x7f) | 0x40); /* positive, and exactly 16 significant bytes */
    BIGNUM *bn = BN_bin2bn(h, 16, NULL);
    ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (!serial) goto done;
    int sok = X509_set_serialNumber(x, serial);
    ASN1_INTEGER_free(serial);
    if (!sok || !X509_set_version(x, 2) || !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        !X509_set_pubkey(x, pk))
        goto done;
    /* Back-date by an hour to tolerate clock skew between the TEE and its clients. */
    if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - 3600)) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + (int64_t)days * 86400)))
        goto done;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    snprintf(san, sizeof san, "DNS:%s", domain);
    if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") ||
        !add_ext(x, &ctx, NID_subject_alt_name, san) || !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto done;
    if (X509_sign(x, pk, EVP_sha256()) <= 0) goto done;
    ok = PEM_write_bio_X509(out, x) == 1;
done:
    OPENSSL_free(spki);
    X509_NAME_free(name);
    X509_free(x);
    return ok;
}

static int make_csr(BIO *out, EVP_PKEY *pk, const char *domain) {
    int ok = 0;
    char san[8 + 253];
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = subject_for(domain);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    if (!req || !name || !exts) goto done;
    if (!X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, pk))
        goto done;
    snprintf(san, sizeof san, "DNS:%s", domain);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    if (!ex) goto done;
    if (!sk_X509_EXTENSION_push(exts, ex)) {
        X509_EXTENSION_free(ex);
        goto done;
    }
    if (!X509_REQ_add_extensions(req, exts)) goto done;
    if (X509_REQ_sign(req, pk, EVP_sha256()) <= 0) goto done;
    ok = PEM_write_bio_X509_REQ(out, req) == 1;
done:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
    return ok;
}

tkms_wallet_status tkms_tls_issue(char **key_pem, char **cert_pem, const uint8_t *seed, size_t seed_len,
                                  const char *domain, int csr, int64_t now, int days) {
    uint8_t d[32];
    if (!key_pem || !cert_pem || !seed || days < 1 || days > 36500) return TKMS_WALLET_EARG;
    *key_pem = *cert_pem = NULL;
    tkms_wallet_status st = tkms_tls_scalar(d, seed, seed_len, domain);
    if (st != TKMS_WALLET_OK) return st;
    st = TKMS_WALLET_EINTERNAL;
    EVP_PKEY *pk = p256_from_scalar(d);
    tkms_wallet_wipe(d, sizeof d);
    BIO *kb = BIO_new(BIO_s_secmem());
    BIO *cb = BIO_new(BIO_s_mem());
    if (!pk || !kb || !cb) goto done;
    if (PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) != 1) goto done;
    if (!(csr ? make_csr(cb, pk, domain) : make_cert(cb, pk, domain, now, days))) goto done;
    *key_pem = bio_to_string(kb);
    *cert_pem = bio_to_string(cb);
    if (*key_pem && *cert_pem) st = TKMS_WALLET_OK;
done:
    if (st != TKMS_WALLET_OK) {
        if (*key_pem) {
            tkms_wallet_wipe(*key_pem, strlen(*key_pem));
            free(*key_pem);
        }
        free(*cert_pem);
        *key_pem = *cert_pem = NULL;
    }
    BIO_free(kb); /* secure-memory BIO: cleared on free */
    BIO_free(cb);
    EVP_PKEY_free(pk);
    return st;
}
