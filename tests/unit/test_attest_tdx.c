/* TDX DCAP verifier: the real dcap-qvl quotes and bundles at pinned times (UpToDate accepted,
 * outdated refused), byte flips and truncation of every region, wrong roots, and a synthetic
 * Intel-shaped PKI for revocation, expiry, TCB status, QE identity and TD attribute cases. */
#include <jansson.h>

#include "attest_test.h"

#define SIGNED_V4 0x278

static uint8_t *quote, *bundle, *oquote, *obundle;
static size_t qn, bn, oqn, obn;
static int64_t T_OK, T_OUT;

/* Offsets of the regions of a v4 quote (parsed here independently of the library). */
typedef struct {
    size_t sig, att, qe_report, qe_sig, auth_len, auth, pem, pem_len, end;
} layout;

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put16(uint8_t *p, size_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, size_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

static layout lay(const uint8_t *q) {
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
static uint8_t *build(size_t *outn, const uint8_t *signed_part, const uint8_t sig[64], const uint8_t att[64],
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

/* Collateral edits that keep the JSON valid. */
static char *bundle_with(const char *key, const char *value) {
    json_error_t je;
    json_t *j = json_loadb((const char *)bundle, bn, 0, &je);
    TU_CHECK(j);
    if (value) json_object_set_new(j, key, json_string(value));
    else json_object_del(j, key);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static const char *bundle_str(const char *key) {
    static json_t *j;
    json_error_t je;
    if (!j) j = json_loadb((const char *)bundle, bn, 0, &je);
    return json_string_value(json_object_get(j, key));
}

static void col_expect(const char *key, const char *value, tkms_attest_reason want, const char *label) {
    char *s = bundle_with(key, value);
    at_case c = real_case();
    c.col = (const uint8_t *)s;
    c.coln = strlen(s);
    AT_EXPECT(want, &c, label);
    free(s);
}

static char *edit(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    TU_CHECK(p);
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, s, a);
    memcpy(o + a, to, tl);
    memcpy(o + a + tl, p + fl, n - a - fl + 1);
    return o;
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

/* ---- synthetic PKI with Intel's shape ---- */

typedef struct {
    long revoke_pck, revoke_ca, revoke_tcb;
    int64_t pck_not_after;
    int body_set_debug, body_clear_sept, body_flip_seam_signer;
    const char *tcb_from, *tcb_to; /* text substitution in tcb_info */
    const char *qe_from, *qe_to;
    int foreign_tcb_signer;
} synth_opts;

static EVP_PKEY *k_root, *k_ca, *k_pck, *k_tcb, *k_att, *k_other;

static void hexdump_to(char *out, const uint8_t *b, size_t n) { at_hexs(out, b, n); }

static char *crl_hex(X509_CRL *c) {
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(c, &der);
    char *h = malloc(2 * (size_t)n + 1);
    hexdump_to(h, der, (size_t)n);
    OPENSSL_free(der);
    return h;
}

static char *cat(const char *a, const char *b) {
    char *s = malloc(strlen(a) + strlen(b) + 1);
    strcpy(s, a);
    strcat(s, b);
    return s;
}

static void synth(const synth_opts *o, uint8_t **qout, size_t *qoutn, char **colout) {
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

static void synth_expect(const synth_opts *o, const tkms_attest_policy *pol, tkms_attest_reason want, const char *label) {
    uint8_t *q;
    size_t n;
    char *col;
    synth(o, &q, &n, &col);
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
    quote = at_read("attestation/dcapqvl_tdx_quote", &qn);
    bundle = at_read("attestation/dcapqvl_tdx_quote_collateral.json", &bn);
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
