/* insecure-dev method (dev mode only, key list, binding), plus the shared pieces: policy JSON,
 * RFC 3339 parsing, the binding B, argument errors and reason names. */
#include <jansson.h>

#include "attest_test.h"

static uint8_t APP[20], B[64];

static char *statement(EVP_PKEY *k, const uint8_t *app, const uint8_t *b, int corrupt) {
    uint8_t msg[20 + 20 + 64], sig[64], pub[32];
    size_t sl = 64, pl = 32;
    memcpy(msg, "TKMS-V1-INSECURE-DEV", 20);
    memcpy(msg + 20, app, 20);
    memcpy(msg + 40, b, 64);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    TU_CHECK(EVP_DigestSignInit(m, NULL, NULL, NULL, k) == 1 && EVP_DigestSign(m, sig, &sl, msg, sizeof msg) == 1);
    EVP_MD_CTX_free(m);
    TU_CHECK(EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1);
    if (corrupt) sig[3] ^= 1;
    char ah[41], bh[129], ph[65], sh[129];
    at_hexs(ah, app, 20), at_hexs(bh, b, 64), at_hexs(ph, pub, 32), at_hexs(sh, sig, 64);
    char *s = malloc(1024);
    snprintf(s, 1024, "{\"format\":\"tkms-insecure-dev-v1\",\"app_id\":\"0x%s\",\"binding\":\"%s\",\"public_key\":\"%s\",\"signature\":\"%s\"}", ah, bh, ph, sh);
    return s;
}

static void test_dev(void) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    TU_CHECK(k && k2);
    char *s = statement(k, APP, B, 0);
    at_case c = {TKMS_ATTEST_INSECURE_DEV, (const uint8_t *)s, strlen(s), NULL, 0, B, 0, NULL, NULL, 0};
    AT_EXPECT(TKMS_ATTEST_E_DEV_MODE, &c, "production cluster refuses dev evidence");
    AT_TRUE(at_res.claims.insecure, "insecure flag set even when refused");
    c.flags = TKMS_ATTEST_F_DEV_MODE;
    AT_EXPECT(TKMS_ATTEST_OK, &c, "dev mode accepts");
    AT_TRUE(at_res.claims.insecure && at_res.claims.binding_checked && strncmp(at_res.claims.app_id, "0xa0a1", 6) == 0, "dev claims");
    uint8_t b2[64];
    memcpy(b2, B, 64);
    b2[9] ^= 1;
    c.binding = b2;
    AT_EXPECT(TKMS_ATTEST_E_BINDING, &c, "nonce mismatch");
    c.binding = B;
    tkms_attest_policy pol;
    tkms_attest_policy_default(&pol);
    pol.dev_keys.n = 1;
    size_t pl = 32;
    TU_CHECK(EVP_PKEY_get_raw_public_key(k2, pol.dev_keys.v[0], &pl) == 1);
    c.pol = &pol;
    AT_EXPECT(TKMS_ATTEST_E_DEV_KEY, &c, "key not in the dev list");
    c.pol = NULL;
    free(s);
    s = statement(k, APP, B, 1);
    c.ev = (const uint8_t *)s;
    c.evn = strlen(s);
    AT_EXPECT(TKMS_ATTEST_E_SIGNATURE, &c, "bad dev signature");
    free(s);
    uint8_t app2[20];
    memcpy(app2, APP, 20);
    app2[0] ^= 1;
    s = statement(k, app2, B, 0);
    c.ev = (const uint8_t *)s;
    c.evn = strlen(s);
    AT_EXPECT(TKMS_ATTEST_OK, &c, "other app id, same B: B itself binds the app (registry checks claims.app_id)");
    free(s);
    const char *bad = "{\"format\":\"tkms-insecure-dev-v1\"}";
    c.ev = (const uint8_t *)bad;
    c.evn = strlen(bad);
    AT_EXPECT(TKMS_ATTEST_E_MALFORMED, &c, "malformed statement");
    EVP_PKEY_free(k), EVP_PKEY_free(k2);
}

static void test_policy(void) {
    tkms_attest_policy p;
    char err[256];
    const char *good = "{\"tcb_status\":[\"UpToDate\",\"SWHardeningNeeded\"],"
                       "\"tdx\":{\"mrtd\":[\"" "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" "\"],"
                       "\"require_sept_ve_disable\":false,\"xfam\":\"e702060000000000\"},"
                       "\"sev_snp\":{\"max_vmpl\":1,\"min_tcb\":{\"bootloader\":1,\"tee\":0,\"snp\":5,\"microcode\":68}},"
                       "\"gcp_cs\":{\"audience\":\"https://kms.example\",\"hwmodel\":[\"GCP_INTEL_TDX\",\"GCP_AMD_SEV\"],"
                       "\"swversion_min\":250300,\"image_digest\":[\"sha256:00\"],\"skew\":30,\"max_age\":600},"
                       "\"insecure_dev\":{\"keys\":[\"" "0000000000000000000000000000000000000000000000000000000000000000" "\"]}}";
    TU_CHECK(tkms_attest_policy_parse(&p, err, sizeof err, good, strlen(good)) == TKMS_ATTEST_OK);
    AT_TRUE(p.tcb_status_allowed == (TKMS_TCB_UP_TO_DATE | TKMS_TCB_SW_HARDENING_NEEDED) && p.tdx_mrtd.n == 1 &&
                !p.tdx_require_sept_ve_disable && p.tdx_xfam == 0x602e7 && p.snp_max_vmpl == 1 && p.snp_min_tcb[3] == 68 &&
                strcmp(p.gcp_audience, "https://kms.example") == 0 && p.gcp_hwmodel.n == 2 && p.gcp_max_age == 600 && p.dev_keys.n == 1,
            "policy fields");
    static const char *const bads[] = {
        "[]", "{\"bogus\":1}", "{\"tcb_status\":[\"Revoked\"]}", "{\"tdx\":{\"mrtd\":[\"00\"]}}",
        "{\"tdx\":{\"rtmr4\":[]}}", "{\"gcp_cs\":{\"audience\":\"a\",\"audience\":\"b\"}}", "{\"sev_snp\":{\"max_vmpl\":7}}",
        "{\"gcp_cs\":{\"hwmodel\":[]}}", "{\"insecure_dev\":{}}", "{", "{\"gcp_cs\":{\"skew\":\"60\"}}",
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        if (tkms_attest_policy_parse(&p, err, sizeof err, bads[i], strlen(bads[i])) != TKMS_ATTEST_E_POLICY_FORMAT) {
            fprintf(stderr, "bad policy accepted: %s\n", bads[i]);
            at_failures++;
        }
}

static void test_misc(void) {
    int64_t t;
    AT_TRUE(tkms_attest_parse_time(&t, "1970-01-01T00:00:00Z") && t == 0, "epoch");
    AT_TRUE(tkms_attest_parse_time(&t, "2025-07-01T00:00:00Z") && t == 1751328000, "2025-07-01");
    AT_TRUE(tkms_attest_parse_time(&t, "2025-07-01T02:00:00.123+02:00") && t == 1751328000, "offset and fraction");
    AT_TRUE(tkms_attest_parse_time(&t, "2024-02-29T00:00:00Z"), "leap day");
    static const char *const badt[] = {"2023-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-07-01", "2025-07-01T00:00:00",
                                       "2025-07-01T00:00:00Zjunk", "2025-07-01T24:00:00Z", "x"};
    for (size_t i = 0; i < sizeof badt / sizeof badt[0]; i++) AT_TRUE(!tkms_attest_parse_time(&t, badt[i]), badt[i]);

    /* B against an independent computation */
    uint8_t rc[32], want[64], got[64], buf[14 + 4 + 20 + 4 + 32 + 4 + 3];
    memset(rc, 7, 32);
    size_t o = 0;
    memcpy(buf, "TKMS-V1-ATTEST", 14), o = 14;
    buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 20;
    memcpy(buf + o, APP, 20), o += 20;
    buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 32;
    memcpy(buf + o, rc, 32), o += 32;
    buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 3;
    memcpy(buf + o, "abc", 3), o += 3;
    unsigned int wl;
    EVP_Digest(buf, o, want, &wl, EVP_sha512(), NULL);
    TU_CHECK(tkms_attest_binding(got, APP, rc, (const uint8_t *)"abc", 3));
    AT_TRUE(memcmp(want, got, 64) == 0, "binding B");

    /* argument errors */
    at_case c = {TKMS_ATTEST_TDX, (const uint8_t *)"x", 1, NULL, 0, NULL, 0, NULL, NULL, 0};
    tkms_attest_request rq = {TKMS_ATTEST_TDX, (const uint8_t *)"x", 1, NULL, 0, NULL, 0, NULL, NULL, 0};
    AT_TRUE(tkms_attest_verify(&at_res, &rq) == TKMS_ATTEST_E_ARGUMENT, "binding required unless F_NO_BINDING");
    rq.method = (tkms_attest_method)99;
    rq.flags = TKMS_ATTEST_F_NO_BINDING;
    AT_TRUE(tkms_attest_verify(&at_res, &rq) == TKMS_ATTEST_E_ARGUMENT, "unknown method");
    c.evn = 0;
    AT_EXPECT(TKMS_ATTEST_E_ARGUMENT, &c, "empty evidence");
    AT_TRUE(tkms_attest_verify(NULL, &rq) == TKMS_ATTEST_E_ARGUMENT, "NULL result");
    for (int r = 0; r <= TKMS_ATTEST_E_INTERNAL; r++) AT_TRUE(strcmp(tkms_attest_reason_name((tkms_attest_reason)r), "unknown") != 0, "reason named");
    AT_TRUE(tkms_attest_method_from_name("sev-snp") == TKMS_ATTEST_SEV_SNP && !tkms_attest_method_from_name("sgx"), "method names");
}

int main(void) {
    for (int i = 0; i < 20; i++) APP[i] = (uint8_t)(0xa0 + i);
    uint8_t rc[32] = {1};
    TU_CHECK(tkms_attest_binding(B, APP, rc, (const uint8_t *)"n", 1));
    test_dev();
    test_policy();
    test_misc();
    return at_finish("test_attest_dev");
}
