/* tkms attestation: Google Confidential Space tokens, OIDC (RS256 key from a JWKS by kid) and PKI
 * (x5c chain to the pinned root). Signature first, then the payload, read at exact paths only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "att_util.h"

#define MAX_JWKS_KEYS 64

static json_t *load_obj(const uint8_t *b, size_t n) {
    json_error_t je;
    json_t *j = json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &je);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Decodes a base64url member of a JWK into a BIGNUM (big-endian, no leading zero byte). */
static BIGNUM *jwk_bn(json_t *k, const char *name, size_t max) {
    json_t *v = json_object_get(k, name);
    uint8_t *raw = NULL;
    size_t n = 0;
    if (!json_is_string(v) || !att_b64url_decode(&raw, &n, json_string_value(v), json_string_length(v))) return NULL;
    BIGNUM *bn = NULL;
    if (n > 0 && n <= max && raw[0] != 0) bn = BN_bin2bn(raw, (int)n, NULL);
    free(raw);
    return bn;
}

static EVP_PKEY *rsa_from_ne(BIGNUM *n, BIGNUM *e) {
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (b && c && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return pk;
}

/* The JWKS key with this kid; exactly one must exist (two keys with one kid would let the
 * choice depend on order). */
static tkms_attest_reason jwks_key(tkms_attest_result *res, EVP_PKEY **out, const uint8_t *jwks, size_t jwks_len, const char *kid) {
    *out = NULL;
    if (!jwks || jwks_len == 0) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "OIDC token needs a JWKS (--jwks)");
    if (jwks_len > ATT_MAX_COLLATERAL) return att_fail(res, TKMS_ATTEST_E_OVERSIZE, "JWKS too large");
    json_t *root = load_obj(jwks, jwks_len), *keys = root ? json_object_get(root, "keys") : NULL, *hit = NULL;
    tkms_attest_reason r;
    if (!json_is_array(keys) || json_array_size(keys) > MAX_JWKS_KEYS) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "JWKS is not {\"keys\": [...]} (at most %d keys, no duplicate members)", MAX_JWKS_KEYS);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i), *kv = json_object_get(k, "kid");
        if (json_is_string(kv) && strcmp(json_string_value(kv), kid) == 0) {
            if (hit) {
                r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "JWKS lists kid '%s' twice", kid);
                goto out;
            }
            hit = k;
        }
    }
    if (!hit) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_KID, "kid '%s' not in the JWKS", kid);
        goto out;
    }
    json_t *kty = json_object_get(hit, "kty"), *alg = json_object_get(hit, "alg"), *use = json_object_get(hit, "use");
    if (!json_is_string(kty) || strcmp(json_string_value(kty), "RSA") != 0 ||
        (alg && (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0)) ||
        (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_ALG, "JWKS key '%s' is not an RS256 signing key", kid);
        goto out;
    }
    BIGNUM *n = jwk_bn(hit, "n", 1024), *e = jwk_bn(hit, "e", 8);
    if (n && e && BN_num_bits(n) >= 2048) *out = rsa_from_ne(n, e);
    BN_free(n);
    BN_free(e);
    if (!*out) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "JWKS key '%s': n/e not strict base64url or modulus below 2048 bits", kid);
        goto out;
    }
    r = TKMS_ATTEST_OK;
out:
    json_decref(root);
    return r;
}

/* x5c = [leaf, (intermediate,) root]: root pinned by the SHA-256 of its DER, chain verified at
 * `now` with a store holding only that root, leaf RSA >= 2048 signed with sha256WithRSA. */
static tkms_attest_reason x5c_key(tkms_attest_result *res, EVP_PKEY **out, json_t *x5c, int64_t now) {
    *out = NULL;
    size_t n = json_array_size(x5c);
    X509 *certs[3] = {NULL, NULL, NULL};
    STACK_OF(X509) *inter = NULL;
    tkms_attest_reason r;
    char detail[160];
    if (!json_is_array(x5c) || n < 2 || n > 3) return att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "x5c must hold 2 or 3 certificates");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(x5c, i);
        uint8_t *der = NULL;
        size_t dl = 0;
        if (!json_is_string(v) || !att_b64std_decode(&der, &dl, json_string_value(v), json_string_length(v))) {
            r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "x5c[%zu] is not base64", i);
            goto out;
        }
        const unsigned char *p = der;
        certs[i] = d2i_X509(NULL, &p, (long)dl);
        int exact = certs[i] && p == der + dl;
        free(der);
        if (!exact) {
            r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "x5c[%zu] is not one DER certificate", i);
            goto out;
        }
    }
    uint8_t h[32];
    if (!att_x509_der_sha256(h, certs[n - 1]) || memcmp(h, att_anchor_gcp_root_sha256(), 32) != 0) {
        r = att_fail(res, TKMS_ATTEST_E_UNTRUSTED_ROOT, "x5c root is not the pinned Confidential Space root");
        goto out;
    }
    inter = sk_X509_new_null();
    if (!inter || (n == 3 && !sk_X509_push(inter, certs[1]))) {
        r = att_fail(res, TKMS_ATTEST_E_INTERNAL, "out of memory");
        goto out;
    }
    if ((r = att_verify_chain(detail, sizeof detail, certs[n - 1], certs[0], inter, NULL, now)) != TKMS_ATTEST_OK) {
        att_fail(res, r, "x5c chain: %s", detail);
        goto out;
    }
    EVP_PKEY *pk = X509_get0_pubkey(certs[0]);
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048 ||
        X509_get_signature_nid(certs[0]) != NID_sha256WithRSAEncryption) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_ALG, "x5c leaf is not an RSA-2048+ sha256WithRSA certificate");
        goto out;
    }
    EVP_PKEY_up_ref(pk);
    *out = pk;
    r = TKMS_ATTEST_OK;
out:
    sk_X509_free(inter);
    for (size_t i = 0; i < 3; i++) X509_free(certs[i]);
    return r;
}

static int rs256_verify(EVP_PKEY *pk, const char *msg, size_t msg_len, const uint8_t *sig, size_t sig_len) {
    if ((int)sig_len != EVP_PKEY_get_size(pk)) return 0; /* exact length: no truncated or padded signatures */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = m && EVP_DigestVerifyInit(m, &pc, EVP_sha256(), NULL, pk) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestVerify(m, sig, sig_len, (const uint8_t *)msg, msg_len) == 1;
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return ok;
}

/* Exact-path lookup: a.b.c through objects only. */
static json_t *path(json_t *o, const char *a, const char *b, const char *c) {
    json_t *v = json_object_get(o, a);
    if (b) v = json_is_object(v) ? json_object_get(v, b) : NULL;
    if (c) v = json_is_object(v) ? json_object_get(v, c) : NULL;
    return v;
}

static int copy_str(char *dst, size_t cap, json_t *v) {
    return json_is_string(v) && att_strcpy(dst, cap, json_string_value(v));
}

static int is_digest(const char *s) {
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64) return 0;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static int is_app_id(const char *s) {
    if ((s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) || strlen(s) != 42) return 0;
    uint8_t tmp[20];
    return att_unhex(tmp, 20, s + 2, 40);
}

static int parse_swversion(json_t *v, uint32_t *out) {
    /* ["YYMMnn", ...]: every entry must be a decimal; the smallest is compared to the floor. */
    json_t *arr = v;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_array(v) && !json_is_string(v)) return 0;
    if (n == 0 || n > 8) return 0;
    uint32_t lo = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_is_array(arr) ? json_array_get(arr, i) : v;
        if (!json_is_string(x)) return 0;
        const char *s = json_string_value(x);
        size_t l = strlen(s);
        if (l == 0 || l > 9) return 0;
        uint32_t val = 0;
        for (size_t k = 0; k < l; k++) {
            if (s[k] < '0' || s[k] > '9') return 0;
            val = val * 10 + (uint32_t)(s[k] - '0');
        }
        if (val < lo) lo = val;
    }
    *out = lo;
    return 1;
}

static tkms_attest_reason check_claims(tkms_attest_result *res, json_t *pl, const tkms_attest_request *req,
                                       const tkms_attest_policy *pol) {
    tkms_attest_claims *c = &res->claims;
    json_t *v;
    int64_t now = req->now;

    /* identity of the issuer and audience */
    if (!copy_str(c->iss, sizeof c->iss, json_object_get(pl, "iss")) || strcmp(c->iss, pol->gcp_issuer) != 0)
        return att_fail(res, TKMS_ATTEST_E_ISSUER, "iss is not %s", pol->gcp_issuer);
    v = json_object_get(pl, "aud");
    if (json_is_array(v)) {
        if (json_array_size(v) != 1) return att_fail(res, TKMS_ATTEST_E_AUDIENCE, "token names %zu audiences (want exactly one)", json_array_size(v));
        v = json_array_get(v, 0);
    }
    if (!copy_str(c->aud, sizeof c->aud, v) || strcmp(c->aud, pol->gcp_audience) != 0)
        return att_fail(res, TKMS_ATTEST_E_AUDIENCE, "aud is not '%s'", pol->gcp_audience);
    copy_str(c->sub, sizeof c->sub, json_object_get(pl, "sub"));

    /* time window */
    json_t *exp = json_object_get(pl, "exp"), *iat = json_object_get(pl, "iat"), *nbf = json_object_get(pl, "nbf");
    if (!json_is_integer(exp) || !json_is_integer(iat) || (nbf && !json_is_integer(nbf)))
        return att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "exp/iat (and nbf) must be integers");
    c->exp = json_integer_value(exp);
    c->iat = json_integer_value(iat);
    c->nbf = nbf ? json_integer_value(nbf) : c->iat;
    if (now > c->exp + pol->gcp_skew) return att_fail(res, TKMS_ATTEST_E_EXPIRED, "token expired at %lld", (long long)c->exp);
    if (c->nbf > now + pol->gcp_skew) return att_fail(res, TKMS_ATTEST_E_NOT_YET_VALID, "token not valid before %lld", (long long)c->nbf);
    if (c->iat > now + pol->gcp_skew) return att_fail(res, TKMS_ATTEST_E_NOT_YET_VALID, "token issued in the future (%lld)", (long long)c->iat);
    if (now - c->iat > pol->gcp_max_age)
        return att_fail(res, TKMS_ATTEST_E_TOO_OLD, "token issued %lld s ago (max %lld)", (long long)(now - c->iat), (long long)pol->gcp_max_age);

    /* platform */
    if (!copy_str(c->swname, sizeof c->swname, json_object_get(pl, "swname")) || strcmp(c->swname, "CONFIDENTIAL_SPACE") != 0)
        return att_fail(res, TKMS_ATTEST_E_SWNAME, "swname is not CONFIDENTIAL_SPACE");
    if (!copy_str(c->hwmodel, sizeof c->hwmodel, json_object_get(pl, "hwmodel")) || !att_str_allowed(&pol->gcp_hwmodel, c->hwmodel))
        return att_fail(res, TKMS_ATTEST_E_HWMODEL, "hwmodel '%s' not allowed", c->hwmodel);
    v = json_object_get(pl, "attester_tcb");
    for (size_t i = 0; i < pol->gcp_attester_tcb.n; i++) {
        int found = 0;
        for (size_t k = 0; json_is_array(v) && k < json_array_size(v); k++) {
            json_t *x = json_array_get(v, k);
            found |= json_is_string(x) && strcmp(json_string_value(x), pol->gcp_attester_tcb.v[i]) == 0;
        }
        if (!found) return att_fail(res, TKMS_ATTEST_E_ATTESTER_TCB, "attester_tcb lacks %s", pol->gcp_attester_tcb.v[i]);
    }
    if (!json_is_true(json_object_get(pl, "secboot"))) return att_fail(res, TKMS_ATTEST_E_SECBOOT, "secboot is not true");
    if (!copy_str(c->dbgstat, sizeof c->dbgstat, json_object_get(pl, "dbgstat")) || strcmp(c->dbgstat, "disabled-since-boot") != 0) {
        c->debug = 1;
        return att_fail(res, TKMS_ATTEST_E_DEBUG, "dbgstat is '%s' (want disabled-since-boot)", c->dbgstat);
    }
    v = path(pl, "submods", "confidential_space", "support_attributes");
    int stable = 0;
    for (size_t k = 0; json_is_array(v) && k < json_array_size(v) && k < TKMS_ATTEST_MAX_ALLOW; k++) {
        json_t *x = json_array_get(v, k);
        if (!json_is_string(x)) continue;
        stable |= strcmp(json_string_value(x), pol->gcp_support_attribute) == 0;
        if (att_strcpy(c->support_attributes.v[c->support_attributes.n], sizeof c->support_attributes.v[0], json_string_value(x)))
            c->support_attributes.n++;
    }
    if (!stable) return att_fail(res, TKMS_ATTEST_E_SUPPORT_ATTRIBUTES, "support_attributes lacks %s", pol->gcp_support_attribute);
    if (!parse_swversion(json_object_get(pl, "swversion"), &c->swversion))
        return att_fail(res, TKMS_ATTEST_E_SWVERSION, "swversion missing or not decimal");
    if (c->swversion < pol->gcp_swversion_min)
        return att_fail(res, TKMS_ATTEST_E_SWVERSION, "swversion %u below %u", c->swversion, pol->gcp_swversion_min);

    /* binding: eat_nonce == hex(B[0:32]), one nonce only */
    v = json_object_get(pl, "eat_nonce");
    if (json_is_array(v)) {
        if (json_array_size(v) != 1) return att_fail(res, TKMS_ATTEST_E_BINDING, "eat_nonce holds %zu nonces (want exactly one)", json_array_size(v));
        v = json_array_get(v, 0);
    }
    if (!copy_str(c->eat_nonce, sizeof c->eat_nonce, v)) return att_fail(res, TKMS_ATTEST_E_BINDING, "eat_nonce missing");
    if (req->binding) {
        char want[65];
        att_hex(want, req->binding, 32);
        if (strlen(c->eat_nonce) != 64 || CRYPTO_memcmp(c->eat_nonce, want, 64) != 0)
            return att_fail(res, TKMS_ATTEST_E_BINDING, "eat_nonce differs from hex(B[0:32])");
        c->binding_checked = 1;
    }

    /* workload and deployment, at their exact paths */
    if (!copy_str(c->image_digest, sizeof c->image_digest, path(pl, "submods", "container", "image_digest")) || !is_digest(c->image_digest)) {
        c->image_digest[0] = 0;
        return att_fail(res, TKMS_ATTEST_E_IMAGE_DIGEST, "submods.container.image_digest missing or not sha256:<hex>");
    }
    if (pol->gcp_image_digest.n && !att_str_allowed(&pol->gcp_image_digest, c->image_digest))
        return att_fail(res, TKMS_ATTEST_E_IMAGE_DIGEST, "image digest %s not allowed", c->image_digest);
    copy_str(c->image_reference, sizeof c->image_reference, path(pl, "submods", "container", "image_reference"));
    v = path(pl, "submods", "container", "env");
    v = json_is_object(v) ? json_object_get(v, "TKMS_APP_ID") : NULL;
    if (v && (!copy_str(c->app_id, sizeof c->app_id, v) || !is_app_id(c->app_id))) {
        c->app_id[0] = 0;
        return att_fail(res, TKMS_ATTEST_E_MALFORMED, "TKMS_APP_ID is not 0x + 40 hex digits");
    }
    copy_str(c->project_id, sizeof c->project_id, path(pl, "submods", "gce", "project_id"));
    v = path(pl, "submods", "gce", "project_number");
    if (json_is_integer(v)) snprintf(c->project_number, sizeof c->project_number, "%lld", (long long)json_integer_value(v));
    else copy_str(c->project_number, sizeof c->project_number, v);
    copy_str(c->instance_name, sizeof c->instance_name, path(pl, "submods", "gce", "instance_name"));
    copy_str(c->zone, sizeof c->zone, path(pl, "submods", "gce", "zone"));
    v = json_object_get(pl, "google_service_accounts");
    for (size_t k = 0; json_is_array(v) && k < json_array_size(v); k++) {
        json_t *x = json_array_get(v, k);
        if (c->service_accounts.n == TKMS_ATTEST_MAX_ALLOW || !json_is_string(x) ||
            !att_strcpy(c->service_accounts.v[c->service_accounts.n], sizeof c->service_accounts.v[0], json_string_value(x)))
            return att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "google_service_accounts malformed or too many");
        c->service_accounts.n++;
    }
    if (pol->gcp_project_id.n && !att_str_allowed(&pol->gcp_project_id, c->project_id))
        return att_fail(res, TKMS_ATTEST_E_DEPLOYMENT, "project '%s' not allowed", c->project_id);
    if (pol->gcp_service_account.n) {
        int ok = 0;
        for (size_t k = 0; k < c->service_accounts.n; k++) ok |= att_str_allowed(&pol->gcp_service_account, c->service_accounts.v[k]);
        if (!ok) return att_fail(res, TKMS_ATTEST_E_DEPLOYMENT, "no allowed service account");
    }

    /* replay last, so that a refused token does not occupy the cache */
    if (!copy_str(c->jti, sizeof c->jti, json_object_get(pl, "jti")) || !c->jti[0])
        return att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "jti missing");
    uint8_t key[32];
    size_t li = strlen(c->iss), lj = strlen(c->jti);
    uint8_t buf[sizeof c->iss + 1 + sizeof c->jti];
    memcpy(buf, c->iss, li);
    buf[li] = 0;
    memcpy(buf + li + 1, c->jti, lj);
    if (!att_sha256(key, buf, li + 1 + lj)) return att_fail(res, TKMS_ATTEST_E_INTERNAL, "SHA-256 failed");
    int ins = att_replay_check_insert(req->replay, key, c->exp + pol->gcp_skew, now);
    if (ins == 0) return att_fail(res, TKMS_ATTEST_E_REPLAY, "jti '%s' already used", c->jti);
    if (ins < 0) return att_fail(res, TKMS_ATTEST_E_REPLAY_FULL, "replay cache full");
    return TKMS_ATTEST_OK;
}

tkms_attest_reason att_verify_gcp(tkms_attest_result *res, const tkms_attest_request *req, const tkms_attest_policy *pol) {
    const char *tok = (const char *)req->evidence;
    size_t n = req->evidence_len;
    json_t *hdr = NULL, *pl = NULL;
    uint8_t *hraw = NULL, *praw = NULL, *sig = NULL;
    size_t hl, pl_len, sl;
    EVP_PKEY *key = NULL;
    tkms_attest_reason r;

    if (!req->replay) return att_fail(res, TKMS_ATTEST_E_ARGUMENT, "gcp-cs needs a replay cache");
    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' ')) n--;
    const char *d1 = memchr(tok, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok)) || d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + n)
        return att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "not three non-empty dot-separated parts");
    if (!att_b64url_decode(&hraw, &hl, tok, (size_t)(d1 - tok)) ||
        !att_b64url_decode(&sig, &sl, d2 + 1, (size_t)(tok + n - d2 - 1))) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "header or signature is not strict base64url");
        goto out;
    }
    if (!(hdr = load_obj(hraw, hl))) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "header is not a JSON object without duplicate keys");
        goto out;
    }
    json_t *alg = json_object_get(hdr, "alg"), *typ = json_object_get(hdr, "typ");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_ALG, "alg is not RS256");
        goto out;
    }
    if (json_object_get(hdr, "crit")) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_ALG, "crit header not supported");
        goto out;
    }
    if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "typ is not JWT");
        goto out;
    }
    json_t *x5c = json_object_get(hdr, "x5c");
    if (x5c) {
        res->claims.gcp_pki = 1;
        if ((r = x5c_key(res, &key, x5c, req->now)) != TKMS_ATTEST_OK) goto out;
    } else {
        json_t *kid = json_object_get(hdr, "kid");
        if (!json_is_string(kid)) {
            r = att_fail(res, TKMS_ATTEST_E_JWT_KID, "no kid and no x5c in the header");
            goto out;
        }
        if ((r = jwks_key(res, &key, req->collateral, req->collateral_len, json_string_value(kid))) != TKMS_ATTEST_OK) goto out;
    }
    if (!rs256_verify(key, tok, (size_t)(d2 - tok), sig, sl)) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "RS256 signature does not verify");
        goto out;
    }
    res->claims.genuine = 1;
    /* Only now is the payload decoded: nothing unauthenticated reaches the JSON parser. */
    if (!att_b64url_decode(&praw, &pl_len, d1 + 1, (size_t)(d2 - d1 - 1)) || !(pl = load_obj(praw, pl_len))) {
        r = att_fail(res, TKMS_ATTEST_E_JWT_FORMAT, "payload is not a JSON object without duplicate keys");
        goto out;
    }
    r = check_claims(res, pl, req, pol);
out:
    EVP_PKEY_free(key);
    json_decref(hdr);
    json_decref(pl);
    free(hraw);
    free(praw);
    free(sig);
    return r;
}
