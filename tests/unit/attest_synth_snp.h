/* Synthetic AMD SEV-SNP evidence for tests: the real go-sev-guest Milan report
 * (tests/vectors/attestation) with fields edited as asked (policy, VMPL, REPORT_DATA, HOST_DATA,
 * MEASUREMENT, ...), signed by a test VCEK under a test ARK -> ASK chain installed with
 * tkms_attest_testhook_amd (library tkms_attest_testhooks). Shared by test_attest_snp.c (verifier)
 * and test_release_tee.c (release handler). */
#ifndef TKMS_ATTEST_SYNTH_SNP_H
#define TKMS_ATTEST_SYNTH_SNP_H

#include "attest_test.h"

/* The real report and the time the synthetic certificates are valid around (at_snp_load). */
static uint8_t *rep;
static size_t rn;
static int64_t T;

static inline void at_snp_load(void) {
    if (rep) return;
    rep = at_read("attestation/snp_attestation.bin", &rn);
    T = at_time("2024-01-01T00:00:00Z");
}

/* ---- synthetic: test ARK -> ASK -> VCEK, report signed with the VCEK key ---- */

static EVP_PKEY *k_ark, *k_ask, *k_vcek;

static inline void add_raw_ext(X509 *x, const char *oid, const uint8_t *val, size_t n) {
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(s, val, (int)n);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, s);
    TU_CHECK(e && X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(s);
    ASN1_OBJECT_free(o);
}

typedef struct {
    uint64_t policy;
    uint32_t vmpl, sig_algo;
    int vcek_bl;          /* SPL in the VCEK; -1 = same as the report */
    int chip_flip;        /* VCEK hwID differs from CHIP_ID */
    int revoke_ask;       /* append an ARK-signed CRL listing the ASK */
    int crl_expired;
    uint8_t report_data_fill;
    /* fields to set (NULL: the real report's; report_data: else filled with report_data_fill) */
    const uint8_t *report_data; /* 64 bytes: the binding B */
    const uint8_t *host_data;   /* 32 */
    const uint8_t *measurement; /* 48 */
} snp_opts;

static inline void at_synth_snp(const snp_opts *o, uint8_t *out, char **col) {
    int64_t nb = T - 86400 * 365, na = T + 86400 * 365;
    if (!k_ark) k_ark = at_rsa_key(2048), k_ask = at_rsa_key(2048), k_vcek = at_ec_key("P-384");
    X509 *ark = at_cert(k_ark, "ARK-Milan", NULL, k_ark, 1, 1, nb, na, EVP_sha384());
    X509 *ask = at_cert(k_ask, "SEV-Milan", ark, k_ark, 1, 2, nb, na, EVP_sha384());
    memcpy(out, rep, rn);
    memcpy(out + 8, &o->policy, 8);
    memcpy(out + 0x30, &o->vmpl, 4);
    memcpy(out + 0x34, &o->sig_algo, 4);
    memset(out + 0x50, o->report_data_fill, 64);
    if (o->report_data) memcpy(out + 0x50, o->report_data, 64);
    if (o->host_data) memcpy(out + 0xC0, o->host_data, 32);
    if (o->measurement) memcpy(out + 0x90, o->measurement, 48);
    /* VCEK with the report's SPLs and CHIP_ID */
    X509 *v = X509_new();
    X509_set_version(v, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(v), 0);
    at_name(X509_get_subject_name(v), "SEV-VCEK");
    X509_set_issuer_name(v, X509_get_subject_name(ask));
    ASN1_TIME_set(X509_getm_notBefore(v), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(v), (time_t)na);
    X509_set_pubkey(v, k_vcek);
    const uint8_t *t = out + 0x180;
    uint8_t spl[3] = {0x02, 0x01, 0};
    spl[2] = o->vcek_bl >= 0 ? (uint8_t)o->vcek_bl : t[0];
    add_raw_ext(v, "1.3.6.1.4.1.3704.1.3.1", spl, 3);
    spl[2] = t[1];
    add_raw_ext(v, "1.3.6.1.4.1.3704.1.3.2", spl, 3);
    spl[2] = t[6];
    add_raw_ext(v, "1.3.6.1.4.1.3704.1.3.3", spl, 3);
    spl[2] = t[7];
    if (spl[2] & 0x80) TU_CHECK(0); /* keep the INTEGER positive in one byte */
    add_raw_ext(v, "1.3.6.1.4.1.3704.1.3.8", spl, 3);
    uint8_t hw[64];
    memcpy(hw, out + 0x1A0, 64);
    if (o->chip_flip) hw[5] ^= 1;
    add_raw_ext(v, "1.3.6.1.4.1.3704.1.4", hw, 64);
    TU_CHECK(X509_sign(v, k_ask, EVP_sha384()) > 0);
    uint8_t rs[96];
    at_ecdsa_sign(rs, 48, k_vcek, EVP_sha384(), out, 0x2A0);
    memset(out + 0x2A0, 0, 144);
    for (int i = 0; i < 48; i++) out[0x2A0 + i] = rs[47 - i], out[0x2A0 + 72 + i] = rs[95 - i];
    char *a1 = at_pem(ask), *a2 = at_pem(ark), *vp = at_pem(v);
    TU_CHECK(tkms_attest_testhook_amd(0, a1, a2));
    if (o->revoke_ask || o->crl_expired) {
        long rv[2] = {o->revoke_ask ? 2 : 0, 0};
        X509_CRL *crl = at_crl(ark, k_ark, T - 86400, o->crl_expired ? T - 3600 : T + 86400, rv);
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509_CRL(b, crl);
        char *cp;
        long cl = BIO_get_mem_data(b, &cp);
        char *all = malloc(strlen(vp) + (size_t)cl + 1);
        strcpy(all, vp);
        memcpy(all + strlen(vp), cp, (size_t)cl);
        all[strlen(vp) + (size_t)cl] = 0;
        free(vp);
        vp = all;
        BIO_free(b);
        X509_CRL_free(crl);
    }
    *col = vp;
    free(a1), free(a2);
    X509_free(ark), X509_free(ask), X509_free(v);
}

#endif
