/* SEV-SNP verifier: the real go-sev-guest Milan report (genuine, refused on DEBUG alone), flips and
 * truncation, and a synthetic ARK/ASK/VCEK for policy, TCB, chip-ID and revocation cases. */
#include "attest_synth_snp.h"

static uint8_t *vcek;
static size_t vn;

static at_case real_case(void) {
    at_case c = {TKMS_ATTEST_SEV_SNP, rep, rn, vcek, vn, NULL, T, NULL, NULL, 0};
    return c;
}

static void test_real(void) {
    at_case c = real_case();
    AT_EXPECT(TKMS_ATTEST_E_DEBUG, &c, "go-sev-guest report: DEBUG=1");
    AT_TRUE(at_res.claims.genuine && strcmp(at_res.claims.snp_product, "Milan") == 0, "genuine Milan report");
    AT_TRUE(at_res.claims.snp_policy == 0xb0000 && at_res.claims.debug, "policy 0xb0000");
    /* PEM VCEK */
    const unsigned char *p = vcek;
    X509 *x = d2i_X509(NULL, &p, (long)vn);
    TU_CHECK(x);
    char *pem = at_pem(x);
    c.col = (const uint8_t *)pem;
    c.coln = strlen(pem);
    AT_EXPECT(TKMS_ATTEST_E_DEBUG, &c, "PEM VCEK");
    free(pem);
    X509_free(x);
    c = real_case();
    c.now = at_time("2030-01-01T00:00:00Z");
    AT_EXPECT(TKMS_ATTEST_E_CERT_EXPIRED, &c, "VCEK expired");
    c.now = at_time("2022-01-01T00:00:00Z");
    AT_EXPECT(TKMS_ATTEST_E_CERT_EXPIRED, &c, "VCEK not yet valid");
    c = real_case();
    c.col = (const uint8_t *)"junk";
    c.coln = 4;
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "VCEK junk");

    /* every bit flip in the signed region and the signature is refused */
    uint8_t *q = malloc(rn);
    int accepted = 0, wrong = 0;
    for (size_t i = 0; i < 0x2A0 + 144; i++) {
        memcpy(q, rep, rn);
        q[i] ^= (uint8_t)(1u << (i % 8));
        c = real_case();
        c.ev = q;
        tkms_attest_reason r = at_run(&c);
        if (r == TKMS_ATTEST_OK || r == TKMS_ATTEST_E_DEBUG) accepted++;
        /* outside the fields the parser itself rejects, a flip must fail the signature */
        int parsed_field = i < 4 || (i >= 0x34 && i < 0x38) || (i >= 0x48 && i < 0x4c);
        if (!parsed_field && r != TKMS_ATTEST_E_SIGNATURE) wrong++;
    }
    AT_TRUE(accepted == 0, "no flipped report verifies");
    AT_TRUE(wrong == 0, "flips fail the signature");
    memcpy(q, rep, rn);
    q[0x34] = 2;
    c.ev = q;
    AT_EXPECT(TKMS_ATTEST_E_UNSUPPORTED, &c, "SIG_ALGO != 1");
    memcpy(q, rep, rn);
    q[0x2A0 + 71] = 1; /* high byte of R's 72-byte field */
    AT_EXPECT(TKMS_ATTEST_E_SIGNATURE, &c, "R wider than 48 bytes");
    for (size_t n = 0; n < rn; n += 7) {
        c.evn = n;
        if (n && at_run(&c) != TKMS_ATTEST_E_MALFORMED) wrong++;
    }
    AT_TRUE(wrong == 0, "truncations malformed");
    free(q);

    /* the pinned Milan ARK/ASK replaced: the real VCEK no longer chains */
    EVP_PKEY *k = at_rsa_key(2048);
    X509 *ark = at_cert(k, "ARK-Milan", NULL, k, 1, 1, T - 86400 * 3650, T + 86400 * 3650, EVP_sha384());
    X509 *ask = at_cert(k, "SEV-Milan", ark, k, 1, 2, T - 86400 * 3650, T + 86400 * 3650, EVP_sha384());
    char *a1 = at_pem(ask), *a2 = at_pem(ark);
    TU_CHECK(tkms_attest_testhook_amd(0, a1, a2));
    c = real_case();
    AT_TRUE(at_run(&c) == TKMS_ATTEST_E_CHAIN || at_res.reason == TKMS_ATTEST_E_UNTRUSTED_ROOT, "ASK from a test ARK");
    TU_CHECK(tkms_attest_testhook_amd(0, NULL, NULL));
    free(a1), free(a2);
    X509_free(ark), X509_free(ask);
    EVP_PKEY_free(k);
}


static void sexpect(const snp_opts *o, const tkms_attest_policy *pol, const uint8_t *binding, tkms_attest_reason want, const char *label) {
    uint8_t r[0x4A0];
    char *col;
    at_synth_snp(o, r, &col);
    at_case c = {TKMS_ATTEST_SEV_SNP, r, rn, (const uint8_t *)col, strlen(col), binding, T, pol, NULL, 0};
    AT_EXPECT(want, &c, label);
    free(col);
}

static void test_synthetic(void) {
    snp_opts base = {.policy = 0x30000, .vmpl = 0, .sig_algo = 1, .vcek_bl = -1, .report_data_fill = 0xab}, o;
    tkms_attest_policy pol;
    uint8_t b[64];
    memset(b, 0xab, 64);
    o = base;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_OK, "synthetic baseline (DEBUG off)");
    sexpect(&o, NULL, b, TKMS_ATTEST_OK, "REPORT_DATA == B");
    b[0] ^= 1;
    sexpect(&o, NULL, b, TKMS_ATTEST_E_BINDING, "REPORT_DATA for another key");
    o.policy = 0x30000 | (1u << 19);
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_DEBUG, "DEBUG");
    o = base;
    o.policy = 0x30000 | (1u << 18);
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_GUEST_POLICY, "MIGRATE_MA");
    o = base;
    o.policy = 0x10000;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_GUEST_POLICY, "reserved bit 17 clear");
    o = base;
    o.vmpl = 1;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_VMPL, "VMPL 1");
    tkms_attest_policy_default(&pol);
    pol.snp_max_vmpl = 1;
    sexpect(&o, &pol, NULL, TKMS_ATTEST_OK, "VMPL 1 allowed by policy");
    o = base;
    o.vcek_bl = 9;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_TCB_MISMATCH, "VCEK for another TCB");
    o = base;
    o.chip_flip = 1;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_CHIP_ID_MISMATCH, "VCEK of another chip");
    o = base;
    o.revoke_ask = 1;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_REVOKED, "ASK revoked");
    o = base;
    o.crl_expired = 1;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_CRL, "AMD CRL expired");
    o = base;
    tkms_attest_policy_default(&pol);
    pol.snp_measurement.n = 1;
    memcpy(pol.snp_measurement.v[0], rep + 0x90, 48);
    sexpect(&o, &pol, NULL, TKMS_ATTEST_OK, "measurement allowed");
    pol.snp_measurement.v[0][47] ^= 1;
    sexpect(&o, &pol, NULL, TKMS_ATTEST_E_MEASUREMENT, "unknown measurement");
    tkms_attest_policy_default(&pol);
    pol.snp_host_data.n = 1;
    memset(pol.snp_host_data.v[0], 0x5a, 32);
    sexpect(&o, &pol, NULL, TKMS_ATTEST_E_MEASUREMENT, "HOST_DATA not allowed");
    tkms_attest_policy_default(&pol);
    pol.snp_min_tcb_set = 1;
    pol.snp_min_tcb[3] = 255;
    sexpect(&o, &pol, NULL, TKMS_ATTEST_E_TCB_STATUS, "REPORTED_TCB below the minimum");
    o.sig_algo = 2;
    sexpect(&o, NULL, NULL, TKMS_ATTEST_E_UNSUPPORTED, "SIG_ALGO 2");
    TU_CHECK(tkms_attest_testhook_amd(0, NULL, NULL));
}

int main(void) {
    at_snp_load();
    vcek = at_read("attestation/snp_vcek.der", &vn);
    test_real();
    test_synthetic();
    return at_finish("test_attest_snp");
}
