/* Confidential Space verifier: RS256 tokens minted here with a local RSA key + JWKS (OIDC) and a test
 * root/intermediate/leaf (PKI), in the claim layout of real tokens; every refusal has its reason. */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>

#include "attest_test.h"

static EVP_PKEY *key, *other;
static char *jwks;
static int64_t NOW;
static uint8_t APP[20], RCPT[32], B[64];
static char APP_HEX[43];
static tkms_attest_replay *replay;
static int jti_counter;

static char *b64url(const uint8_t *in, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *o = malloc(n * 4 / 3 + 4), *p = o;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63], *p++ = a[(v >> 6) & 63], *p++ = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *p++ = a[v >> 18], *p++ = a[(v >> 12) & 63], *p++ = a[(v >> 6) & 63];
    }
    *p = 0;
    return o;
}

static char *b64std(const uint8_t *in, size_t n) {
    char *o = malloc(n * 4 / 3 + 8);
    EVP_EncodeBlock((unsigned char *)o, in, (int)n);
    return o;
}

static char *bn_b64url(EVP_PKEY *k, const char *name) {
    BIGNUM *bn = NULL;
    TU_CHECK(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
    uint8_t buf[512];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url(buf, (size_t)n);
}

/* header.payload.signature with RS256 (or `alg_override` signing rules for the bad-alg cases). */
static char *mint_raw(const char *hdr, const char *payload, EVP_PKEY *k) {
    char *h = b64url((const uint8_t *)hdr, strlen(hdr)), *p = b64url((const uint8_t *)payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *msg = malloc(n);
    snprintf(msg, n, "%s.%s", h, p);
    uint8_t sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    TU_CHECK(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) == 1 && EVP_DigestSign(m, sig, &sl, (uint8_t *)msg, strlen(msg)) == 1);
    EVP_MD_CTX_free(m);
    char *s = b64url(sig, sl);
    char *tok = malloc(strlen(msg) + strlen(s) + 2);
    sprintf(tok, "%s.%s", msg, s);
    free(h), free(p), free(msg), free(s);
    return tok;
}

static json_t *payload(void) {
    char nonce[65], jti[32];
    at_hexs(nonce, B, 32);
    snprintf(jti, sizeof jti, "jti-%d", ++jti_counter);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:[s], s:b, s:s, s:[s], s:i,"
                     " s:[s], s:{s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:{s:[s,s]}, s:{s:s, s:s, s:s, s:s}}}",
                     "iss", "https://confidentialcomputing.googleapis.com", "aud", "tkms", "sub",
                     "https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/i", "iat", (json_int_t)(NOW - 60),
                     "nbf", (json_int_t)(NOW - 60), "exp", (json_int_t)(NOW + 3540), "jti", jti, "eat_nonce", nonce,
                     "dbgstat", "disabled-since-boot", "swname", "CONFIDENTIAL_SPACE", "swversion", "250300", "secboot", 1,
                     "hwmodel", "GCP_INTEL_TDX", "attester_tcb", "INTEL", "oemid", 11129, "google_service_accounts",
                     "app@p.iam.gserviceaccount.com", "submods", "container", "image_reference", "docker.io/acme/app:1",
                     "image_digest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "restart_policy",
                     "Never", "env", "TKMS_APP_ID", APP_HEX, "PATH", "/bin", "confidential_space", "support_attributes",
                     "LATEST", "STABLE", "gce", "zone", "us-central1-a", "project_id", "acme-prod", "project_number",
                     "123456789", "instance_name", "app-1");
}

static char *dump_payload(void) {
    json_t *pl = payload();
    char *p = json_dumps(pl, JSON_COMPACT);
    json_decref(pl);
    return p;
}

static char *mint(json_t *pl, const char *hdr) {
    char *p = json_dumps(pl, JSON_COMPACT);
    char *t = mint_raw(hdr ? hdr : "{\"alg\":\"RS256\",\"kid\":\"test\",\"typ\":\"JWT\"}", p, key);
    free(p);
    json_decref(pl);
    return t;
}

static tkms_attest_reason run_tok(const char *tok, const tkms_attest_policy *pol, const uint8_t *binding) {
    at_case c = {TKMS_ATTEST_GCP_CS, (const uint8_t *)tok, strlen(tok), (const uint8_t *)jwks, strlen(jwks), binding, NOW, pol, replay, 0};
    return at_run(&c);
}

#define TOK_EXPECT(want, tok, pol, label)                                                                    \
    do {                                                                                                     \
        char *t_ = (tok);                                                                                    \
        tkms_attest_reason g_ = run_tok(t_, pol, B);                                                         \
        if (g_ != (want)) {                                                                                  \
            fprintf(stderr, "%s:%d: %s: got %s (%s), want %s\n", __FILE__, __LINE__, label,                  \
                    tkms_attest_reason_name(g_), at_res.message, tkms_attest_reason_name(want));            \
            at_failures++;                                                                                   \
        }                                                                                                    \
        free(t_);                                                                                            \
    } while (0)

static json_t *with(json_t *pl, const char *k, json_t *v) {
    if (v) json_object_set_new(pl, k, v);
    else json_object_del(pl, k);
    return pl;
}

static json_t *with_sub(json_t *pl, const char *a, const char *b, json_t *v) {
    json_t *o = json_object_get(json_object_get(pl, "submods"), a);
    if (v) json_object_set_new(o, b, v);
    else json_object_del(o, b);
    return pl;
}

static void test_oidc(void) {
    tkms_attest_policy pol;
    char *t = mint(payload(), NULL);
    TOK_EXPECT(TKMS_ATTEST_OK, strdup(t), NULL, "valid token");
    AT_TRUE(strcmp(at_res.claims.app_id, APP_HEX) == 0 && strcmp(at_res.claims.project_id, "acme-prod") == 0 &&
                at_res.claims.service_accounts.n == 1 && at_res.claims.swversion == 250300 && at_res.claims.binding_checked,
            "claims exposed");
    TOK_EXPECT(TKMS_ATTEST_E_REPLAY, strdup(t), NULL, "replayed jti");
    free(t);

    /* time */
    TOK_EXPECT(TKMS_ATTEST_E_EXPIRED, mint(with(payload(), "exp", json_integer(NOW - 61)), NULL), NULL, "expired");
    TOK_EXPECT(TKMS_ATTEST_OK, mint(with(payload(), "exp", json_integer(NOW - 30)), NULL), NULL, "expired within skew");
    TOK_EXPECT(TKMS_ATTEST_E_NOT_YET_VALID, mint(with(payload(), "nbf", json_integer(NOW + 600)), NULL), NULL, "future nbf");
    TOK_EXPECT(TKMS_ATTEST_E_NOT_YET_VALID, mint(with(with(payload(), "nbf", NULL), "iat", json_integer(NOW + 600)), NULL), NULL, "future iat");
    /* nbf present and past: only the iat check sees the future issue time */
    TOK_EXPECT(TKMS_ATTEST_E_NOT_YET_VALID, mint(with(payload(), "iat", json_integer(NOW + 600)), NULL), NULL, "future iat, past nbf");
    TOK_EXPECT(TKMS_ATTEST_E_TOO_OLD, mint(with(with(payload(), "iat", json_integer(NOW - 7200)), "nbf", json_integer(NOW - 7200)), NULL), NULL, "too old");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, mint(with(payload(), "exp", json_string("soon")), NULL), NULL, "exp not a number");

    /* issuer, audience */
    TOK_EXPECT(TKMS_ATTEST_E_ISSUER, mint(with(payload(), "iss", json_string("https://evil.example")), NULL), NULL, "wrong iss");
    TOK_EXPECT(TKMS_ATTEST_E_AUDIENCE, mint(with(payload(), "aud", json_string("sts.googleapis.com")), NULL), NULL, "wrong aud");
    TOK_EXPECT(TKMS_ATTEST_E_AUDIENCE, mint(with(payload(), "aud", json_pack("[s,s]", "tkms", "other")), NULL), NULL, "two audiences");
    TOK_EXPECT(TKMS_ATTEST_OK, mint(with(payload(), "aud", json_pack("[s]", "tkms")), NULL), NULL, "one-element aud array");

    /* platform */
    TOK_EXPECT(TKMS_ATTEST_E_DEBUG, mint(with(payload(), "dbgstat", json_string("enabled")), NULL), NULL, "dbgstat enabled");
    TOK_EXPECT(TKMS_ATTEST_E_HWMODEL, mint(with(payload(), "hwmodel", json_string("GCP_AMD_SEV")), NULL), NULL, "wrong hardware");
    TOK_EXPECT(TKMS_ATTEST_E_HWMODEL, mint(with(payload(), "hwmodel", json_string("GCP_SHIELDED_VM")), NULL), NULL, "shielded VM");
    TOK_EXPECT(TKMS_ATTEST_E_SWNAME, mint(with(payload(), "swname", json_string("GCE")), NULL), NULL, "swname GCE");
    TOK_EXPECT(TKMS_ATTEST_E_ATTESTER_TCB, mint(with(payload(), "attester_tcb", json_pack("[s]", "AMD")), NULL), NULL, "attester_tcb");
    TOK_EXPECT(TKMS_ATTEST_E_SECBOOT, mint(with(payload(), "secboot", json_false()), NULL), NULL, "secboot false");
    TOK_EXPECT(TKMS_ATTEST_E_SUPPORT_ATTRIBUTES,
               mint(with_sub(payload(), "confidential_space", "support_attributes", json_pack("[s]", "LATEST")), NULL), NULL, "no STABLE");
    tkms_attest_policy_default(&pol);
    pol.gcp_swversion_min = 250400;
    TOK_EXPECT(TKMS_ATTEST_E_SWVERSION, mint(payload(), NULL), &pol, "old swversion");
    pol.gcp_swversion_min = 250300;
    TOK_EXPECT(TKMS_ATTEST_OK, mint(payload(), NULL), &pol, "swversion at the floor");

    /* binding */
    uint8_t other_b[64], r2[32];
    memcpy(r2, RCPT, 32);
    r2[0] ^= 1;
    TU_CHECK(tkms_attest_binding(other_b, APP, r2, (const uint8_t *)"n1", 2));
    {
        char *tk = mint(payload(), NULL);
        if (run_tok(tk, NULL, other_b) != TKMS_ATTEST_E_BINDING) at_failures++, fprintf(stderr, "nonce for another key accepted\n");
        free(tk);
        uint8_t app2[20];
        memcpy(app2, APP, 20);
        app2[19] ^= 1;
        TU_CHECK(tkms_attest_binding(other_b, app2, RCPT, (const uint8_t *)"n1", 2));
        tk = mint(payload(), NULL);
        if (run_tok(tk, NULL, other_b) != TKMS_ATTEST_E_BINDING) at_failures++, fprintf(stderr, "nonce for another app accepted\n");
        free(tk);
    }
    char nonce[65];
    at_hexs(nonce, B, 32);
    TOK_EXPECT(TKMS_ATTEST_OK, mint(with(payload(), "eat_nonce", json_pack("[s]", nonce)), NULL), NULL, "nonce as one-element array");
    TOK_EXPECT(TKMS_ATTEST_E_BINDING, mint(with(payload(), "eat_nonce", json_pack("[s,s]", nonce, "extra-nonce")), NULL), NULL, "extra nonce");
    TOK_EXPECT(TKMS_ATTEST_E_BINDING, mint(with(payload(), "eat_nonce", NULL), NULL), NULL, "no nonce");

    /* workload and deployment at exact paths */
    json_t *pl = with_sub(payload(), "container", "image_digest", NULL);
    json_object_set_new(json_object_get(json_object_get(json_object_get(pl, "submods"), "container"), "env"), "image_digest",
                        json_string("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    TOK_EXPECT(TKMS_ATTEST_E_IMAGE_DIGEST, mint(pl, NULL), NULL, "digest only in env");
    pl = payload();
    json_object_set_new(pl, "image_digest", json_string("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    TOK_EXPECT(TKMS_ATTEST_E_IMAGE_DIGEST, mint(with_sub(pl, "container", "image_digest", NULL), NULL), NULL, "digest only at top level");
    tkms_attest_policy_default(&pol);
    pol.gcp_image_digest.n = 1;
    strcpy(pol.gcp_image_digest.v[0], "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    TOK_EXPECT(TKMS_ATTEST_E_IMAGE_DIGEST, mint(payload(), NULL), &pol, "unregistered digest");
    tkms_attest_policy_default(&pol);
    pol.gcp_project_id.n = 1;
    strcpy(pol.gcp_project_id.v[0], "other-project");
    TOK_EXPECT(TKMS_ATTEST_E_DEPLOYMENT, mint(payload(), NULL), &pol, "wrong project");
    tkms_attest_policy_default(&pol);
    pol.gcp_service_account.n = 1;
    strcpy(pol.gcp_service_account.v[0], "x@y.iam.gserviceaccount.com");
    TOK_EXPECT(TKMS_ATTEST_E_DEPLOYMENT, mint(payload(), NULL), &pol, "wrong service account");
    TOK_EXPECT(TKMS_ATTEST_E_MALFORMED, mint(with_sub(payload(), "container", "env", json_pack("{s:s}", "TKMS_APP_ID", "acme")), NULL), NULL, "malformed app id");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, mint(with(payload(), "jti", NULL), NULL), NULL, "no jti");

    /* header: alg, kid, duplicates */
    TOK_EXPECT(TKMS_ATTEST_E_JWT_ALG, mint(payload(), "{\"alg\":\"none\",\"kid\":\"test\"}"), NULL, "alg none");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_ALG, mint(payload(), "{\"alg\":\"RS512\",\"kid\":\"test\"}"), NULL, "alg RS512");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_KID, mint(payload(), "{\"alg\":\"RS256\",\"kid\":\"nope\"}"), NULL, "unknown kid");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_KID, mint(payload(), "{\"alg\":\"RS256\"}"), NULL, "no kid");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, mint(payload(), "{\"alg\":\"RS256\",\"kid\":\"test\",\"kid\":\"test\"}"), NULL, "duplicate header key");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_ALG, mint(payload(), "{\"alg\":\"RS256\",\"kid\":\"test\",\"crit\":[\"b64\"]}"), NULL, "crit header");
    {
        /* HS256 keyed with the public modulus (the classic key-confusion forgery) */
        const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"test\"}";
        char *p = dump_payload();
        char *h = b64url((const uint8_t *)hdr, strlen(hdr)), *pp = b64url((const uint8_t *)p, strlen(p));
        char msg[8192];
        snprintf(msg, sizeof msg, "%s.%s", h, pp);
        uint8_t mac[32];
        unsigned int ml = 0;
        HMAC(EVP_sha256(), jwks, (int)strlen(jwks), (const uint8_t *)msg, strlen(msg), mac, &ml);
        char *s = b64url(mac, ml), *tok = malloc(strlen(msg) + strlen(s) + 2);
        sprintf(tok, "%s.%s", msg, s);
        TOK_EXPECT(TKMS_ATTEST_E_JWT_ALG, tok, NULL, "HS256 with the public key as secret");
        free(p), free(h), free(pp), free(s);
    }
    {
        char *p = dump_payload();
        char *tk = mint_raw("{\"alg\":\"RS256\",\"kid\":\"test\"}", p, other);
        TOK_EXPECT(TKMS_ATTEST_E_SIGNATURE, tk, NULL, "foreign key");
        free(p);
        /* duplicate payload keys, properly signed */
        const char *dup = "{\"iss\":\"https://confidentialcomputing.googleapis.com\",\"iss\":\"x\"}";
        TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, mint_raw("{\"alg\":\"RS256\",\"kid\":\"test\"}", dup, key), NULL, "duplicate payload key");
    }

    /* encoding: padding, standard alphabet, non-canonical tail, parts, truncated signature */
    t = mint(payload(), NULL);
    size_t n = strlen(t);
    char *u = malloc(n + 4);
    sprintf(u, "%s==", t);
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, strdup(u), NULL, "padded signature");
    strcpy(u, t);
    char *d1 = strchr(u, '.');
    d1[-1] = '+';
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, strdup(u), NULL, "standard-alphabet character");
    strcpy(u, t);
    u[n - 10] = 0;
    TOK_EXPECT(TKMS_ATTEST_E_SIGNATURE, strdup(u), NULL, "truncated signature");
    strcpy(u, t);
    strcat(u, ".x");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, strdup(u), NULL, "four parts");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, strdup("a.b"), NULL, "two parts");
    TOK_EXPECT(TKMS_ATTEST_E_JWT_FORMAT, strdup(".."), NULL, "empty parts");

    /* every single-character substitution anywhere is refused */
    int accepted = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '.') continue;
        strcpy(u, t);
        u[i] = u[i] == 'A' ? 'B' : 'A';
        tkms_attest_replay_clear(replay);
        if (run_tok(u, NULL, B) == TKMS_ATTEST_OK) {
            fprintf(stderr, "substitution at %zu accepted\n", i);
            accepted++;
        }
    }
    AT_TRUE(accepted == 0, "no altered token accepted");
    free(u);
    free(t);

    /* oversize evidence */
    size_t big = 70 * 1024;
    char *o = malloc(big + 1);
    memset(o, 'A', big);
    o[big] = 0;
    TOK_EXPECT(TKMS_ATTEST_E_OVERSIZE, o, NULL, "oversize");

    /* replay cache bound: full of live entries -> fail closed */
    tkms_attest_replay *small = tkms_attest_replay_new(2), *saved = replay;
    replay = small;
    TOK_EXPECT(TKMS_ATTEST_OK, mint(payload(), NULL), NULL, "cache slot 1");
    TOK_EXPECT(TKMS_ATTEST_OK, mint(payload(), NULL), NULL, "cache slot 2");
    TOK_EXPECT(TKMS_ATTEST_E_REPLAY_FULL, mint(payload(), NULL), NULL, "cache full");
    replay = saved;
    tkms_attest_replay_free(small);

    /* JWKS problems */
    t = mint(payload(), NULL);
    at_case c = {TKMS_ATTEST_GCP_CS, (const uint8_t *)t, strlen(t), NULL, 0, B, NOW, NULL, replay, 0};
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "no JWKS");
    const char *dupk = "{\"keys\":[{\"kid\":\"test\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},{\"kid\":\"test\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
    c.col = (const uint8_t *)dupk;
    c.coln = strlen(dupk);
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "kid twice in the JWKS");
    const char *small_n = "{\"keys\":[{\"kid\":\"test\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
    c.col = (const uint8_t *)small_n;
    c.coln = strlen(small_n);
    AT_EXPECT(TKMS_ATTEST_E_COLLATERAL_FORMAT, &c, "tiny modulus");
    c.replay = NULL;
    c.col = (const uint8_t *)jwks;
    c.coln = strlen(jwks);
    AT_EXPECT(TKMS_ATTEST_E_ARGUMENT, &c, "no replay cache");
    free(t);
}

/* ---- PKI variant ---- */

static void test_pki(void) {
    EVP_PKEY *kr = at_rsa_key(2048), *ki = at_rsa_key(2048), *kf = at_rsa_key(2048);
    int64_t nb = NOW - 86400 * 30, na = NOW + 86400 * 365;
    X509 *root = at_cert(kr, "Confidential Space Root CA", NULL, kr, 1, 1, nb, na, EVP_sha256());
    X509 *inter = at_cert(ki, "Confidential Space Intermediate CA", root, kr, 1, 2, nb, na, EVP_sha256());
    X509 *leaf = at_cert(key, "Confidential Space Signer", inter, ki, 0, 3, nb, na, EVP_sha256());
    X509 *old = at_cert(key, "Confidential Space Signer", inter, ki, 0, 4, nb, NOW - 3600, EVP_sha256());
    X509 *foreign = at_cert(kf, "Confidential Space Root CA", NULL, kf, 1, 1, nb, na, EVP_sha256());
    uint8_t fp[32];
    unsigned int fl;
    X509_digest(root, EVP_sha256(), fp, &fl);
    tkms_attest_testhook_gcp_root(fp);
#define X5C(l, i, r, hdr)                                                                                    \
    do {                                                                                                     \
        X509 *cs_[3] = {l, i, r};                                                                            \
        char *e_[3];                                                                                         \
        for (int z = 0; z < 3; z++) {                                                                        \
            unsigned char *der = NULL;                                                                       \
            int dn = i2d_X509(cs_[z], &der);                                                                 \
            e_[z] = b64std(der, (size_t)dn);                                                                 \
            OPENSSL_free(der);                                                                               \
        }                                                                                                    \
        snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[\"%s\",\"%s\",\"%s\"]}", e_[0], e_[1], e_[2]); \
        for (int z = 0; z < 3; z++) free(e_[z]);                                                             \
    } while (0)
    static char hdr[16384];
    X5C(leaf, inter, root, hdr);
    TOK_EXPECT(TKMS_ATTEST_OK, mint(payload(), hdr), NULL, "PKI token");
    AT_TRUE(at_res.claims.gcp_pki, "PKI flagged");
    X5C(leaf, inter, foreign, hdr);
    TOK_EXPECT(TKMS_ATTEST_E_UNTRUSTED_ROOT, mint(payload(), hdr), NULL, "PKI token with a foreign root");
    X5C(old, inter, root, hdr);
    TOK_EXPECT(TKMS_ATTEST_E_CERT_EXPIRED, mint(payload(), hdr), NULL, "PKI token with an expired leaf");
    X5C(leaf, inter, root, hdr);
    {
        char *p = dump_payload();
        TOK_EXPECT(TKMS_ATTEST_E_SIGNATURE, mint_raw(hdr, p, kf), NULL, "PKI token signed by another key");
        free(p);
    }
    TOK_EXPECT(TKMS_ATTEST_E_DEBUG, mint(with(payload(), "dbgstat", json_string("enabled")), hdr), NULL, "PKI claims checked too");
    tkms_attest_testhook_gcp_root(NULL);
    TOK_EXPECT(TKMS_ATTEST_E_UNTRUSTED_ROOT, mint(payload(), hdr), NULL, "test root is not Google's");
    X509_free(root), X509_free(inter), X509_free(leaf), X509_free(old), X509_free(foreign);
    EVP_PKEY_free(kr), EVP_PKEY_free(ki), EVP_PKEY_free(kf);
#undef X5C
}

int main(void) {
    NOW = at_time("2025-07-01T12:00:00Z");
    key = at_rsa_key(2048);
    other = at_rsa_key(2048);
    char *n = bn_b64url(key, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(key, OSSL_PKEY_PARAM_RSA_E);
    jwks = malloc(2 * strlen(n) + 512);
    sprintf(jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"other\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"},"
                  "{\"kty\":\"RSA\",\"kid\":\"test\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e, n, e);
    free(n), free(e);
    for (int i = 0; i < 20; i++) APP[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 32; i++) RCPT[i] = (uint8_t)i;
    APP_HEX[0] = '0', APP_HEX[1] = 'x';
    at_hexs(APP_HEX + 2, APP, 20);
    TU_CHECK(tkms_attest_binding(B, APP, RCPT, (const uint8_t *)"n1", 2));
    replay = tkms_attest_replay_new(4096);
    test_oidc();
    test_pki();
    tkms_attest_replay_free(replay);
    return at_finish("test_attest_gcp");
}
