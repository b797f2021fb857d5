/* Synthetic Intel TDX evidence for tests: the real dcap-qvl v4 quote and collateral bundle
 * (tests/vectors/attestation) re-signed under a test PKI of Intel's shape (root, PCK platform CA,
 * PCK leaf with the real leaf's SGX extension, TCB signing key), with the TD report body edited as
 * asked (REPORTDATA, MRCONFIGID, MRTD, attributes). The test root is installed with
 * tkms_attest_testhook_intel_root, so the library is tkms_attest_testhooks. Shared by
 * test_attest_tdx.c (verifier) and test_release_tee.c (release handler). */
#ifndef TKMS_ATTEST_SYNTH_TDX_H
#define TKMS_ATTEST_SYNTH_TDX_H

#include <jansson.h>

#include "attest_test.h"

#define SIGNED_V4 0x278
#define TDX_BODY 48 /* the TD report body follows the 48-byte header */

/* The real quote and its collateral bundle (at_tdx_load). */
static uint8_t *quote, *bundle;
static size_t qn, bn;

static inline void at_tdx_load(void) {
    if (quote) return;
    quote = at_read("attestation/dcapqvl_tdx_quote", &qn);
    bundle = at_read("attestation/dcapqvl_tdx_quote_collateral.json", &bn);
}

/* Offsets of the regions of a v4 quote (parsed here independently of the library). */
typedef struct {
    size_t sig, att, qe_report, qe_sig, auth_len, auth, pem, pem_len, end;
} layout;

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline void put16(uint8_t *p, size_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, size_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

static inline layout lay(const uint8_t *q) {
    layout l;
    size_t s = SIGNED_V4 + 4;
    l.sig = s;
    l.att = s + 64;
    l.qe_report = s + 128 + 6;
    l.qe_sig = l.qe_report + 384;
    l.auth_len = l.qe_sig + 64;
    l.auth = l.auth_len + 2;
    l.pem = l.auth + le16(q + l.auth_len) + 6;
    l.pem_len = le32(q + l.pem - 4);
    l.end = l.pem + l.pem_len;
    return l;
}

/* Reassembles a v4 quote from its parts with consistent length fields. */
static inline uint8_t *build(size_t *outn, const uint8_t *signed_part, const uint8_t sig[64], const uint8_t att[64],
                      const uint8_t qe_report[384], const uint8_t qe_sig[64], const uint8_t *auth, size_t al,
                      const char *pem, size_t pl) {
    size_t cd = 384 + 64 + 2 + al + 6 + pl, sd = 128 + 6 + cd, n = SIGNED_V4 + 4 + sd;
    uint8_t *q = calloc(1, n), *p = q;
    memcpy(p, signed_part, SIGNED_V4), p += SIGNED_V4;
    put32(p, sd), p += 4;
    memcpy(p, sig, 64), p += 64;
    memcpy(p, att, 64), p += 64;
    put16(p, 6), put32(p + 2, cd), p += 6;
    memcpy(p, qe_report, 384), p += 384;
    memcpy(p, qe_sig, 64), p += 64;
    put16(p, al), p += 2;
    memcpy(p, auth, al), p += al;
    put16(p, 5), put32(p + 2, pl), p += 6;
    memcpy(p, pem, pl);
    *outn = n;
    return q;
}

/* Collateral edits that keep the JSON valid. */
static inline char *bundle_with(const char *key, const char *value) {
    json_error_t je;
    json_t *j = json_loadb((const char *)bundle, bn, 0, &je);
    TU_CHECK(j);
    if (value) json_object_set_new(j, key, json_string(value));
    else json_object_del(j, key);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static inline const char *bundle_str(const char *key) {
    static json_t *j;
    json_error_t je;
    if (!j) j = json_loadb((const char *)bundle, bn, 0, &je);
    return json_string_value(json_object_get(j, key));
}

static inline char *edit(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    TU_CHECK(p);
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, s, a);
    memcpy(o + a, to, tl);
    memcpy(o + a + tl, p + fl, n - a - fl + 1);
    return o;
}

/* ---- synthetic PKI with Intel's shape ---- */

typedef struct {
    long revoke_pck, revoke_ca, revoke_tcb;
    int64_t pck_not_after;
    int body_set_debug, body_clear_sept, body_flip_seam_signer;
    const char *tcb_from, *tcb_to; /* text substitution in tcb_info */
    const char *qe_from, *qe_to;
    int foreign_tcb_signer;
    /* TD report body fields to set (NULL: the real quote's) */
    const uint8_t *report_data; /* 64 bytes: the binding B */
    const uint8_t *mrconfigid;  /* 48 */
    const uint8_t *mrtd;        /* 48 */
} synth_opts;

static EVP_PKEY *k_root, *k_ca, *k_pck, *k_tcb, *k_att, *k_other;

static inline void hexdump_to(char *out, const uint8_t *b, size_t n) { at_hexs(out, b, n); }

static inline char *crl_hex(X509_CRL *c) {
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(c, &der);
    char *h = malloc(2 * (size_t)n + 1);
    hexdump_to(h, der, (size_t)n);
    OPENSSL_free(der);
    return h;
}

static inline char *cat(const char *a, const char *b) {
    char *s = malloc(strlen(a) + strlen(b) + 1);
    strcpy(s, a);
    strcat(s, b);
    return s;
}

static inline void at_synth_tdx(const synth_opts *o, uint8_t **qout, size_t *qoutn, char **colout) {
    int64_t nb = at_time("2025-01-01T00:00:00Z"), na = at_time("2026-01-01T00:00:00Z");
    if (!k_root) {
        k_root = at_ec_key("P-256"), k_ca = at_ec_key("P-256"), k_pck = at_ec_key("P-256");
        k_tcb = at_ec_key("P-256"), k_att = at_ec_key("P-256"), k_other = at_ec_key("P-256");
    }
    X509 *root = at_cert(k_root, "Intel SGX Root CA", NULL, k_root, 1, 1, nb, na, EVP_sha256());
    X509 *ca = at_cert(k_ca, "Intel SGX PCK Platform CA", root, k_root, 1, 2, nb, na, EVP_sha256());
    /* PCK leaf: the real leaf's SGX extension (FMSPC, PCEID, TCB), our key and CA */
    layout l = lay(quote);
    STACK_OF(X509) *real = NULL;
    {
        BIO *b = BIO_new_mem_buf(quote + l.pem, (int)l.pem_len);
        real = sk_X509_new_null();
        X509 *x;
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) sk_X509_push(real, x);
        BIO_free(b);
    }
    X509 *rl = sk_X509_value(real, 0);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    X509_EXTENSION *sgx = X509_get_ext(rl, X509_get_ext_by_OBJ(rl, obj, -1));
    X509 *pck = X509_new();
    X509_set_version(pck, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(pck), 3);
    at_name(X509_get_subject_name(pck), "Intel SGX PCK Certificate");
    X509_set_issuer_name(pck, X509_get_subject_name(ca));
    ASN1_TIME_set(X509_getm_notBefore(pck), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(pck), (time_t)(o->pck_not_after ? o->pck_not_after : na));
    X509_set_pubkey(pck, k_pck);
    X509_add_ext(pck, sgx, -1);
    at_ext(pck, ca, NID_authority_key_identifier, "keyid:always");
    TU_CHECK(X509_sign(pck, k_ca, EVP_sha256()) > 0);
    ASN1_OBJECT_free(obj);
    sk_X509_pop_free(real, X509_free);
    X509 *tcb;
    if (o->foreign_tcb_signer) {
        X509 *other = at_cert(k_other, "Intel SGX Root CA", NULL, k_other, 1, 9, nb, na, EVP_sha256());
        tcb = at_cert(k_tcb, "Intel SGX TCB Signing", other, k_other, 0, 4, nb, na, EVP_sha256());
        X509_free(other);
    } else {
        tcb = at_cert(k_tcb, "Intel SGX TCB Signing", root, k_root, 0, 4, nb, na, EVP_sha256());
    }
    int64_t lu = at_time("2025-06-01T00:00:00Z"), nu = at_time("2025-08-01T00:00:00Z");
    long root_rev[3] = {0, 0, 0}, pck_rev[2] = {0, 0};
    int ri = 0;
    if (o->revoke_ca) root_rev[ri++] = o->revoke_ca;
    if (o->revoke_tcb) root_rev[ri++] = o->revoke_tcb;
    if (o->revoke_pck) pck_rev[0] = o->revoke_pck;
    X509_CRL *rcrl = at_crl(root, k_root, lu, nu, root_rev), *pcrl = at_crl(ca, k_ca, lu, nu, pck_rev);

    /* quote: real header/body (edited), our attestation key, a QE report binding it */
    uint8_t signed_part[SIGNED_V4], att[64], sig[64], qe[384], qe_sig[64];
    memcpy(signed_part, quote, SIGNED_V4);
    if (o->report_data) memcpy(signed_part + TDX_BODY + 0x208, o->report_data, 64);
    if (o->mrconfigid) memcpy(signed_part + TDX_BODY + 0xB8, o->mrconfigid, 48);
    if (o->mrtd) memcpy(signed_part + TDX_BODY + 0x88, o->mrtd, 48);
    if (o->body_set_debug) signed_part[48 + 0x78] |= 1;
    if (o->body_clear_sept) signed_part[48 + 0x78 + 3] &= (uint8_t)~0x10;
    if (o->body_flip_seam_signer) signed_part[48 + 0x40] ^= 1;
    at_ec_xy(att, 32, k_att);
    at_ecdsa_sign(sig, 32, k_att, EVP_sha256(), signed_part, SIGNED_V4);
    memcpy(qe, quote + l.qe_report, 384);
    size_t al = le16(quote + l.auth_len);
    uint8_t *h = malloc(64 + al);
    memcpy(h, att, 64);
    memcpy(h + 64, quote + l.auth, al);
    unsigned int hl;
    EVP_Digest(h, 64 + al, qe + 0x140, &hl, EVP_sha256(), NULL);
    memset(qe + 0x160, 0, 32);
    free(h);
    at_ecdsa_sign(qe_sig, 32, k_pck, EVP_sha256(), qe, 384);
    char *p1 = at_pem(pck), *p2 = at_pem(ca), *p3 = at_pem(root), *p4 = at_pem(tcb);
    char *c12 = cat(p1, p2), *chain = cat(c12, p3), *tchain = cat(p4, p3), *cachain = cat(p2, p3);
    *qout = build(qoutn, signed_part, sig, att, qe, qe_sig, quote + l.auth, al, chain, strlen(chain));

    /* collateral: the real TCB info / QE identity (edited), signed by our TCB signing key */
    char *ti = o->tcb_from ? edit(bundle_str("tcb_info"), o->tcb_from, o->tcb_to) : strdup(bundle_str("tcb_info"));
    char *qi = o->qe_from ? edit(bundle_str("qe_identity"), o->qe_from, o->qe_to) : strdup(bundle_str("qe_identity"));
    uint8_t ts[64], qs[64];
    char tsh[129], qsh[129];
    at_ecdsa_sign(ts, 32, k_tcb, EVP_sha256(), (const uint8_t *)ti, strlen(ti));
    at_ecdsa_sign(qs, 32, k_tcb, EVP_sha256(), (const uint8_t *)qi, strlen(qi));
    at_hexs(tsh, ts, 64);
    at_hexs(qsh, qs, 64);
    char *rh = crl_hex(rcrl), *ph = crl_hex(pcrl);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "pck_crl_issuer_chain", cachain, "root_ca_crl", rh,
                          "pck_crl", ph, "tcb_info_issuer_chain", tchain, "tcb_info", ti, "tcb_info_signature", tsh,
                          "qe_identity_issuer_chain", tchain, "qe_identity", qi, "qe_identity_signature", qsh);
    *colout = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    TU_CHECK(tkms_attest_testhook_intel_root(p3));
    free(ti), free(qi), free(rh), free(ph), free(p1), free(p2), free(p3), free(p4), free(c12), free(chain), free(tchain), free(cachain);
    X509_CRL_free(rcrl), X509_CRL_free(pcrl);
    X509_free(root), X509_free(ca), X509_free(pck), X509_free(tcb);
}

#endif
