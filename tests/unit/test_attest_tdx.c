/* TDX DCAP verifier: the real dcap-qvl quotes and bundles at pinned times (UpToDate accepted,
 * outdated refused), byte flips and truncation of every region, wrong roots, and a synthetic
 * Intel-shaped PKI for revocation, expiry, TCB status, QE identity and TD attribute cases. */
#include "attest_synth_tdx.h"

static uint8_t *oquote, *obundle;
static size_t oqn, obn;
static int64_t T_OK, T_OUT;

static at_case real_case(void) {
    at_case c = {TKMS_ATTEST_TDX, quote, qn, bundle, bn, NULL, T_OK, NULL, NULL, 0};
    return c;
}

static void test_real(void) {
    at_case c = real_case();
    AT_EXPECT(TKMS_ATTEST_OK, &c, "dcap-qvl UpToDate quote, default policy");
    AT_TRUE(at_res.claims.genuine && strcmp(at_res.claims.tcb_status, "UpToDate") == 0, "UpToDate status");
    AT_TRUE(at_res.claims.tdx_version == 4 && !at_res.claims.debug, "v4, debug off");
    char *j = tkms_attest_claims_json(&at_res.claims);
    AT_TRUE(j && strstr(j, "\"mrconfigid\"") && strstr(j, "\"fmspc\": \"b0c06f000000\""), "claims JSON");
    free(j);

    uint8_t b[64];
    memcpy(b, quote + 48 + 0x208, 64);
    c.binding = b;
    AT_EXPECT(TKMS_ATTEST_OK, &c, "REPORTDATA == B");
    AT_TRUE(at_res.claims.binding_checked, "binding checked");
    b[63] ^= 1;
    AT_EXPECT(TKMS_ATTEST_E_BINDING, &c, "REPORTDATA != B");

    /* outdated quote (v5, TDX 1.5 body): genuine, refused on TCB status */
    at_case o = {TKMS_ATTEST_TDX, oquote, oqn, obundle, obn, NULL, T_OUT, NULL, NULL, 0};
    AT_EXPECT(TKMS_ATTEST_E_TCB_STATUS, &o, "dcap-qvl outdated quote");
    AT_TRUE(at_res.claims.genuine && at_res.claims.tdx_version == 5, "outdated quote is genuine v5");
    tkms_attest_policy pol;
    tkms_attest_policy_default(&pol);
    pol.tcb_status_allowed = 0x3f;
    o.pol = &pol;
    AT_EXPECT(TKMS_ATTEST_E_TCB_STATUS, &o, "below every level: no policy accepts it");

    /* real FMSPC mismatch: the UpToDate quote against the other platform's (valid, signed) bundle */
    at_case f = {TKMS_ATTEST_TDX, quote, qn, obundle, obn, NULL, T_OUT, NULL, NULL, 0};
    AT_EXPECT(TKMS_ATTEST_E_FMSPC_MISMATCH, &f, "FMSPC of another platform");

    /* time */
    c = real_case();
    c.now = at_time("2025-06-19T10:10:00Z");
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_EXPIRED, &c, "TCB info not yet valid");
    c.now = at_time("2025-07-20T00:00:00Z");
    AT_EXPECT(TKMS_ATTEST_E_CRL, &c, "PCK CRL expired");
    c.now = at_time("2017-01-01T00:00:00Z");
    AT_TRUE(at_run(&c) != TKMS_ATTEST_OK, "before the certificates");

    /* policy: measurements */
    tkms_attest_policy_default(&pol);
    c = real_case();
    c.pol = &pol;
    pol.tdx_mrtd.n = 1;
    memcpy(pol.tdx_mrtd.v[0], quote + 48 + 0x88, 48);
    AT_EXPECT(TKMS_ATTEST_OK, &c, "MRTD allowed");
    pol.tdx_mrtd.v[0][0] ^= 1;
    AT_EXPECT(TKMS_ATTEST_E_MEASUREMENT, &c, "MRTD not allowed");
    tkms_attest_policy_default(&pol);
    for (int i = 0; i < 4; i++) {
        pol.tdx_rtmr[i].n = 1;
        memset(pol.tdx_rtmr[i].v[0], 0xee, 48);
        AT_EXPECT(TKMS_ATTEST_E_MEASUREMENT, &c, "RTMR not allowed");
        memcpy(pol.tdx_rtmr[i].v[0], quote + 48 + 0x148 + 48 * i, 48);
        AT_EXPECT(TKMS_ATTEST_OK, &c, "RTMR allowed");
    }
    pol.tdx_mrconfigid.n = 1;
    memset(pol.tdx_mrconfigid.v[0], 0x11, 48);
    AT_EXPECT(TKMS_ATTEST_E_MEASUREMENT, &c, "MRCONFIGID not allowed");
    tkms_attest_policy_default(&pol);
    pol.tdx_xfam_set = 1;
    pol.tdx_xfam = 1;
    AT_EXPECT(TKMS_ATTEST_E_TD_ATTRIBUTES, &c, "XFAM differs");
}

static void flip_expect(size_t off, tkms_attest_reason want, const char *label) {
    uint8_t *q = malloc(qn);
    memcpy(q, quote, qn);
    q[off] ^= 0x01;
    at_case c = real_case();
    c.ev = q;
    AT_EXPECT(want, &c, label);
    free(q);
}

static void test_flips(void) {
    layout l = lay(quote);
    AT_TRUE(l.end <= qn, "layout inside the quote");
    for (size_t i = l.end; i < qn; i++) AT_TRUE(quote[i] == 0, "dcap-qvl quote is zero-padded after its signature data");
    flip_expect(0x1c, TKMS_ATTEST_E_SIGNATURE, "header user data flip");
    flip_expect(48 + 0x88, TKMS_ATTEST_E_SIGNATURE, "MRTD flip");
    flip_expect(48 + 0xB8, TKMS_ATTEST_E_SIGNATURE, "MRCONFIGID flip");
    flip_expect(48 + 0x78, TKMS_ATTEST_E_SIGNATURE, "TD attributes flip");
    flip_expect(48 + 0x208, TKMS_ATTEST_E_SIGNATURE, "REPORTDATA flip");
    flip_expect(l.sig + 5, TKMS_ATTEST_E_SIGNATURE, "quote signature flip");
    flip_expect(l.att + 3, TKMS_ATTEST_E_QE_BINDING, "attestation key flip");
    flip_expect(l.qe_report + 0x80, TKMS_ATTEST_E_QE_REPORT_SIGNATURE, "QE report MRSIGNER flip");
    flip_expect(l.qe_report + 0x140, TKMS_ATTEST_E_QE_REPORT_SIGNATURE, "QE report data flip");
    flip_expect(l.qe_sig + 7, TKMS_ATTEST_E_QE_REPORT_SIGNATURE, "QE report signature flip");
    flip_expect(l.auth, TKMS_ATTEST_E_QE_BINDING, "QE auth data flip");
    flip_expect(0, TKMS_ATTEST_E_UNSUPPORTED, "version flip");
    flip_expect(4, TKMS_ATTEST_E_UNSUPPORTED, "TEE type flip");
    flip_expect(2, TKMS_ATTEST_E_UNSUPPORTED, "key type flip");

    /* every single-bit flip anywhere in the quote is refused */
    int accepted = 0;
    uint8_t *q = malloc(qn);
    for (size_t i = 0; i < qn; i++) {
        memcpy(q, quote, qn);
        q[i] ^= (uint8_t)(1u << (i % 8));
        at_case c = real_case();
        c.ev = q;
        if (at_run(&c) == TKMS_ATTEST_OK) {
            fprintf(stderr, "flip at %zu accepted\n", i);
            accepted++;
        }
    }
    AT_TRUE(accepted == 0, "no flipped quote accepted");

    /* truncation at every length: malformed, never read past the end (ASan) */
    int bad = 0;
    for (size_t n = 1; n < l.end; n++) {
        uint8_t *t = malloc(n);
        memcpy(t, quote, n);
        at_case c = real_case();
        c.ev = t;
        c.evn = n;
        tkms_attest_reason r = at_run(&c);
        if (r != TKMS_ATTEST_E_MALFORMED) {
            if (bad < 5) fprintf(stderr, "truncation to %zu: %s (%s)\n", n, tkms_attest_reason_name(r), at_res.message);
            bad++;
        }
        free(t);
    }
    AT_TRUE(bad == 0, "every truncation is malformed");
    at_case tc = real_case();
    tc.evn = l.end;
    AT_EXPECT(TKMS_ATTEST_OK, &tc, "padding removed");

    /* zero padding after the signature data is tolerated (GCP pads), anything else is not */
    uint8_t *p = calloc(1, qn + 100);
    memcpy(p, quote, qn);
    at_case c = real_case();
    c.ev = p;
    c.evn = qn + 100;
    AT_EXPECT(TKMS_ATTEST_OK, &c, "zero padding");
    p[qn + 50] = 1;
    AT_EXPECT(TKMS_ATTEST_E_MALFORMED, &c, "garbage after the quote");
    free(p);
    free(q);

    /* a length field pointing past the end */
    q = malloc(qn);
    memcpy(q, quote, qn);
    put32(q + SIGNED_V4, 0xffffff00u);
    c = real_case();
    c.ev = q;
    AT_EXPECT(TKMS_ATTEST_E_MALFORMED, &c, "signature length overflow");
    memcpy(q, quote, qn);
    put16(q + l.auth_len, 0xffff);
    AT_EXPECT(TKMS_ATTEST_E_MALFORMED, &c, "auth data length overflow");
    free(q);
}

static void col_expect(const char *key, const char *value, tkms_attest_reason want, const char *label) {
    char *s = bundle_with(key, value);
    at_case c = real_case();
    c.col = (const uint8_t *)s;
    c.coln = strlen(s);
    AT_EXPECT(want, &c, label);
    free(s);
}


static void test_collateral(void) {
    char *t = edit(bundle_str("tcb_info"), "UpToDate", "UpToDatf");
    col_expect("tcb_info", t, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "TCB info byte changed");
    free(t);
    t = edit(bundle_str("qe_identity"), "\"isvprodid\":2", "\"isvprodid\":3");
    col_expect("qe_identity", t, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "QE identity byte changed");
    free(t);
    char sig[129];
    snprintf(sig, sizeof sig, "%s", bundle_str("tcb_info_signature"));
    sig[10] = sig[10] == '0' ? '1' : '0';
    col_expect("tcb_info_signature", sig, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "TCB info signature flip");
    snprintf(sig, sizeof sig, "%s", bundle_str("qe_identity_signature"));
    sig[70] = sig[70] == '0' ? '1' : '0';
    col_expect("qe_identity_signature", sig, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "QE identity signature flip");
    char *crl = strdup(bundle_str("pck_crl"));
    crl[strlen(crl) - 10] = crl[strlen(crl) - 10] == '0' ? '1' : '0';
    col_expect("pck_crl", crl, TKMS_ATTEST_E_CRL, "PCK CRL signature flip");
    free(crl);
    col_expect("pck_crl", NULL, TKMS_ATTEST_E_COLLATERAL_FORMAT, "PCK CRL missing");
    col_expect("root_ca_crl", "zz", TKMS_ATTEST_E_COLLATERAL_FORMAT, "root CRL not hex");
    col_expect("tcb_info_issuer_chain", "", TKMS_ATTEST_E_COLLATERAL_FORMAT, "TCB chain missing");
    /* the QE identity chain replaced by the PCK CRL chain (Platform CA, not TCB Signing) */
    col_expect("qe_identity_issuer_chain", bundle_str("pck_crl_issuer_chain"), TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "QE identity signed by the wrong certificate");

    const char dup[] = "{\"pck_crl\":\"00\",\"pck_crl\":\"00\"}";
    at_case c = real_case();
    c.col = (const uint8_t *)dup;
    c.coln = sizeof dup - 1;
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "duplicate key in the bundle");
    c.col = NULL;
    c.coln = 0;
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "no bundle");
}

static void test_wrong_root(void) {
    /* (a) a different pinned root: Intel's real chain no longer verifies */
    EVP_PKEY *k = at_ec_key("P-256");
    X509 *r = at_cert(k, "Intel SGX Root CA", NULL, k, 1, 1, T_OK - 86400 * 365, T_OK + 86400 * 365, EVP_sha256());
    char *pem = at_pem(r);
    TU_CHECK(tkms_attest_testhook_intel_root(pem));
    at_case c = real_case();
    AT_EXPECT(TKMS_ATTEST_E_UNTRUSTED_ROOT, &c, "pinned root replaced");
    TU_CHECK(tkms_attest_testhook_intel_root(NULL));
    AT_EXPECT(TKMS_ATTEST_OK, &c, "pinned root restored");

    /* (b) the pre-production case: the quote carries a root with Intel's subject but another key */
    layout l = lay(quote);
    const char *pq = (const char *)quote + l.pem;
    const char *third = strstr(strstr(strstr(pq, "-----BEGIN") + 1, "-----BEGIN") + 1, "-----BEGIN");
    TU_CHECK(third);
    size_t keep = (size_t)(third - pq);
    size_t pl = keep + strlen(pem);
    char *chain = malloc(pl + 1);
    memcpy(chain, pq, keep);
    memcpy(chain + keep, pem, strlen(pem) + 1);
    size_t nn;
    uint8_t *q = build(&nn, quote, quote + l.sig, quote + l.att, quote + l.qe_report, quote + l.qe_sig, quote + l.auth,
                       le16(quote + l.auth_len), chain, pl);
    c.ev = q;
    c.evn = nn;
    AT_EXPECT(TKMS_ATTEST_E_UNTRUSTED_ROOT, &c, "same-subject root with another key");
    free(q);
    /* a chain without its root still verifies against the pinned one */
    q = build(&nn, quote, quote + l.sig, quote + l.att, quote + l.qe_report, quote + l.qe_sig, quote + l.auth,
              le16(quote + l.auth_len), chain, keep);
    c.ev = q;
    c.evn = nn;
    AT_EXPECT(TKMS_ATTEST_OK, &c, "chain without the root certificate");
    free(q);
    free(chain);
    free(pem);
    X509_free(r);
    EVP_PKEY_free(k);
}


static void synth_expect(const synth_opts *o, const tkms_attest_policy *pol, tkms_attest_reason want, const char *label) {
    uint8_t *q;
    size_t n;
    char *col;
    at_synth_tdx(o, &q, &n, &col);
    at_case c = {TKMS_ATTEST_TDX, q, n, (const uint8_t *)col, strlen(col), NULL, T_OK, pol, NULL, 0};
    AT_EXPECT(want, &c, label);
    free(q);
    free(col);
}

static void test_synthetic(void) {
    synth_opts o;
    tkms_attest_policy pol;
#define RESET() memset(&o, 0, sizeof o)
    RESET();
    synth_expect(&o, NULL, TKMS_ATTEST_OK, "synthetic baseline");
    RESET();
    o.revoke_pck = 3;
    synth_expect(&o, NULL, TKMS_ATTEST_E_REVOKED, "PCK leaf revoked");
    RESET();
    o.revoke_ca = 2;
    synth_expect(&o, NULL, TKMS_ATTEST_E_REVOKED, "PCK Platform CA revoked");
    RESET();
    o.revoke_tcb = 4;
    synth_expect(&o, NULL, TKMS_ATTEST_E_REVOKED, "TCB signing certificate revoked");
    RESET();
    o.pck_not_after = at_time("2025-06-30T00:00:00Z");
    synth_expect(&o, NULL, TKMS_ATTEST_E_CERT_EXPIRED, "PCK leaf expired");
    RESET();
    o.foreign_tcb_signer = 1;
    synth_expect(&o, NULL, TKMS_ATTEST_E_UNTRUSTED_ROOT, "TCB info signed under another root");
    RESET();
    o.tcb_from = "\"fmspc\":\"B0C06F000000\"";
    o.tcb_to = "\"fmspc\":\"B0C06F000001\"";
    synth_expect(&o, NULL, TKMS_ATTEST_E_FMSPC_MISMATCH, "FMSPC mismatch (signed TCB info)");
    RESET();
    o.tcb_from = "\"pceId\":\"0000\"";
    o.tcb_to = "\"pceId\":\"0001\"";
    synth_expect(&o, NULL, TKMS_ATTEST_E_FMSPC_MISMATCH, "PCEID mismatch");
    RESET();
    /* TCB statuses of the matching platform level (the first level of tcbLevels) */
    static const struct {
        const char *st;
        uint32_t bit;
    } sts[] = {{"SWHardeningNeeded", TKMS_TCB_SW_HARDENING_NEEDED},
               {"ConfigurationNeeded", TKMS_TCB_CONFIGURATION_NEEDED},
               {"OutOfDate", TKMS_TCB_OUT_OF_DATE},
               {"Revoked", 0}};
    const char *ti = bundle_str("tcb_info");
    /* the platform levels are the last "tcbLevels" (module identities have their own before) */
    const char *lv = NULL;
    for (const char *p = strstr(ti, "\"tcbLevels\""); p; p = strstr(p + 1, "\"tcbLevels\"")) lv = p;
    TU_CHECK(lv);
    const char *first = strstr(lv, "\"tcbStatus\":\"UpToDate\"");
    TU_CHECK(first);
    for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
        char to[64];
        snprintf(to, sizeof to, "\"tcbStatus\":\"%s\"", sts[i].st);
        /* edit() replaces the first occurrence: use the text from the tcbLevels key on */
        size_t fl = (size_t)(first - lv) + 22;
        char *from = malloc(fl + 1), *to_full = malloc(fl + 64);
        snprintf(from, fl + 1, "%.*s", (int)fl, lv);
        snprintf(to_full, fl + 64, "%.*s%s", (int)(first - lv), lv, to);
        RESET();
        o.tcb_from = from;
        o.tcb_to = to_full;
        synth_expect(&o, NULL, TKMS_ATTEST_E_TCB_STATUS, sts[i].st);
        tkms_attest_policy_default(&pol);
        pol.tcb_status_allowed |= sts[i].bit | (sts[i].bit ? 0 : 0x3f);
        synth_expect(&o, &pol, sts[i].bit ? TKMS_ATTEST_OK : TKMS_ATTEST_E_TCB_STATUS,
                     sts[i].bit ? "status allowed by policy" : "Revoked under any policy");
        free(to_full);
        free(from);
    }
    RESET();
    o.qe_from = "\"isvprodid\":2";
    o.qe_to = "\"isvprodid\":3";
    synth_expect(&o, NULL, TKMS_ATTEST_E_QE_IDENTITY, "QE ISVPRODID mismatch");
    RESET();
    o.qe_from = "\"mrsigner\":\"DC9E";
    o.qe_to = "\"mrsigner\":\"DC9F";
    synth_expect(&o, NULL, TKMS_ATTEST_E_QE_IDENTITY, "QE MRSIGNER mismatch");
    RESET();
    o.body_set_debug = 1;
    synth_expect(&o, NULL, TKMS_ATTEST_E_DEBUG, "TD DEBUG set");
    RESET();
    o.body_clear_sept = 1;
    synth_expect(&o, NULL, TKMS_ATTEST_E_TD_ATTRIBUTES, "SEPT_VE_DISABLE clear");
    tkms_attest_policy_default(&pol);
    pol.tdx_require_sept_ve_disable = 0;
    synth_expect(&o, &pol, TKMS_ATTEST_OK, "SEPT_VE_DISABLE not required by policy");
    RESET();
    o.body_flip_seam_signer = 1;
    synth_expect(&o, NULL, TKMS_ATTEST_E_TDX_MODULE, "MRSIGNERSEAM mismatch");
    TU_CHECK(tkms_attest_testhook_intel_root(NULL));
#undef RESET
}

int main(void) {
    at_tdx_load();
    oquote = at_read("attestation/dcapqvl_tdx_quote_outdated", &oqn);
    obundle = at_read("attestation/dcapqvl_tdx_quote_outdated_collateral.json", &obn);
    T_OK = at_time("2025-07-01T00:00:00Z");
    T_OUT = at_time("2026-03-01T00:00:00Z");
    test_real();
    test_flips();
    test_collateral();
    test_wrong_root();
    test_synthetic();
    return at_finish("test_attest_tdx");
}
