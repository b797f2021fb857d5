/* tkms attestation: the single verify entry point, reason names, the policy (defaults and JSON
 * form), the bounded jti replay cache, RFC 3339 parsing and the normalised claims as JSON. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "att_util.h"
#include "proto_tags.h"
#include "proto.h"

static const char *const REASONS[] = {
    [TKMS_ATTEST_OK] = "ok",
    [TKMS_ATTEST_E_ARGUMENT] = "bad_argument",
    [TKMS_ATTEST_E_POLICY_FORMAT] = "policy_format",
    [TKMS_ATTEST_E_MALFORMED] = "malformed",
    [TKMS_ATTEST_E_OVERSIZE] = "oversize",
    [TKMS_ATTEST_E_UNSUPPORTED] = "unsupported",
    [TKMS_ATTEST_E_COLLATERAL_FORMAT] = "collateral_format",
    [TKMS_ATTEST_E_UNTRUSTED_ROOT] = "untrusted_root",
    [TKMS_ATTEST_E_CHAIN] = "chain_invalid",
    [TKMS_ATTEST_E_CERT_EXPIRED] = "cert_expired",
    [TKMS_ATTEST_E_REVOKED] = "revoked",
    [TKMS_ATTEST_E_CRL] = "crl_invalid",
    [TKMS_ATTEST_E_COLLATERAL_SIGNATURE] = "collateral_signature",
    [TKMS_ATTEST_E_COLLATERAL_EXPIRED] = "collateral_expired",
    [TKMS_ATTEST_E_QE_REPORT_SIGNATURE] = "qe_report_signature",
    [TKMS_ATTEST_E_QE_BINDING] = "qe_report_binding",
    [TKMS_ATTEST_E_QE_IDENTITY] = "qe_identity_mismatch",
    [TKMS_ATTEST_E_SIGNATURE] = "bad_signature",
    [TKMS_ATTEST_E_FMSPC_MISMATCH] = "fmspc_mismatch",
    [TKMS_ATTEST_E_TDX_MODULE] = "tdx_module_mismatch",
    [TKMS_ATTEST_E_TCB_UNKNOWN] = "tcb_level_not_found",
    [TKMS_ATTEST_E_TCB_STATUS] = "tcb_status",
    [TKMS_ATTEST_E_TCB_MISMATCH] = "tcb_mismatch",
    [TKMS_ATTEST_E_CHIP_ID_MISMATCH] = "chip_id_mismatch",
    [TKMS_ATTEST_E_DEBUG] = "debug_enabled",
    [TKMS_ATTEST_E_TD_ATTRIBUTES] = "td_attributes",
    [TKMS_ATTEST_E_GUEST_POLICY] = "guest_policy",
    [TKMS_ATTEST_E_VMPL] = "vmpl",
    [TKMS_ATTEST_E_MEASUREMENT] = "measurement_not_allowed",
    [TKMS_ATTEST_E_BINDING] = "binding_mismatch",
    [TKMS_ATTEST_E_JWT_FORMAT] = "jwt_format",
    [TKMS_ATTEST_E_JWT_ALG] = "jwt_alg",
    [TKMS_ATTEST_E_JWT_KID] = "jwt_kid",
    [TKMS_ATTEST_E_ISSUER] = "issuer",
    [TKMS_ATTEST_E_AUDIENCE] = "audience",
    [TKMS_ATTEST_E_EXPIRED] = "expired",
    [TKMS_ATTEST_E_NOT_YET_VALID] = "not_yet_valid",
    [TKMS_ATTEST_E_TOO_OLD] = "too_old",
    [TKMS_ATTEST_E_SWNAME] = "swname",
    [TKMS_ATTEST_E_HWMODEL] = "hwmodel",
    [TKMS_ATTEST_E_ATTESTER_TCB] = "attester_tcb",
    [TKMS_ATTEST_E_SECBOOT] = "secboot",
    [TKMS_ATTEST_E_SUPPORT_ATTRIBUTES] = "support_attributes",
    [TKMS_ATTEST_E_SWVERSION] = "swversion",
    [TKMS_ATTEST_E_IMAGE_DIGEST] = "image_digest",
    [TKMS_ATTEST_E_DEPLOYMENT] = "deployment_not_allowed",
    [TKMS_ATTEST_E_REPLAY] = "replay",
    [TKMS_ATTEST_E_REPLAY_FULL] = "replay_cache_full",
    [TKMS_ATTEST_E_DEV_MODE] = "dev_mode_required",
    [TKMS_ATTEST_E_DEV_KEY] = "dev_key_not_allowed",
    [TKMS_ATTEST_E_INTERNAL] = "internal",
};

const char *tkms_attest_reason_name(tkms_attest_reason r) {
    if ((unsigned)r < sizeof REASONS / sizeof REASONS[0] && REASONS[r]) return REASONS[r];
    return "unknown";
}

static const char *const METHODS[] = {NULL, "tdx", "sev-snp", "gcp-cs", "insecure-dev"};

tkms_attest_method tkms_attest_method_from_name(const char *name) {
    for (int i = 1; i < 5; i++)
        if (name && strcmp(name, METHODS[i]) == 0) return (tkms_attest_method)i;
    return (tkms_attest_method)0;
}

const char *tkms_attest_method_name(tkms_attest_method m) {
    return (m >= TKMS_ATTEST_TDX && m <= TKMS_ATTEST_INSECURE_DEV) ? METHODS[m] : "unknown";
}


/* ---- policy ---- */

void tkms_attest_policy_default(tkms_attest_policy *p) {
    memset(p, 0, sizeof *p);
    p->tcb_status_allowed = TKMS_TCB_UP_TO_DATE;
    p->tdx_require_sept_ve_disable = 1;
    p->snp_max_vmpl = 0;
    snprintf(p->gcp_issuer, sizeof p->gcp_issuer, "https://confidentialcomputing.googleapis.com");
    snprintf(p->gcp_audience, sizeof p->gcp_audience, "tkms");
    p->gcp_hwmodel.n = 1;
    snprintf(p->gcp_hwmodel.v[0], sizeof p->gcp_hwmodel.v[0], "GCP_INTEL_TDX");
    p->gcp_attester_tcb.n = 1;
    snprintf(p->gcp_attester_tcb.v[0], sizeof p->gcp_attester_tcb.v[0], "INTEL");
    snprintf(p->gcp_support_attribute, sizeof p->gcp_support_attribute, "STABLE");
    p->gcp_swversion_min = 0;
    p->gcp_skew = 60;
    p->gcp_max_age = 3600;
}

typedef struct {
    char *err;
    size_t errlen;
} perr;

static int pfail(perr *e, const char *fmt, const char *k) {
    snprintf(e->err, e->errlen, fmt, k);
    return 0;
}

static int p_allow(perr *e, tkms_attest_allow *a, json_t *v, size_t n, const char *k) {
    if (!json_is_array(v) || json_array_size(v) > TKMS_ATTEST_MAX_ALLOW) return pfail(e, "%s: want an array of at most 16 hex values", k);
    a->n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_string(x) || !att_unhex(a->v[i], n, json_string_value(x), json_string_length(x)))
            return pfail(e, "%s: entry is not the right number of hex bytes", k);
        a->n++;
    }
    return 1;
}

static int p_strlist(perr *e, tkms_attest_strlist *l, json_t *v, const char *k) {
    if (!json_is_array(v) || json_array_size(v) > TKMS_ATTEST_MAX_ALLOW) return pfail(e, "%s: want an array of at most 16 strings", k);
    l->n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_string(x) || !att_strcpy(l->v[i], sizeof l->v[i], json_string_value(x)))
            return pfail(e, "%s: entry is not a short string", k);
        l->n++;
    }
    return 1;
}

static int p_str(perr *e, char *dst, size_t cap, json_t *v, const char *k) {
    if (!json_is_string(v) || !att_strcpy(dst, cap, json_string_value(v)) || !dst[0]) return pfail(e, "%s: want a non-empty short string", k);
    return 1;
}

static int p_int(perr *e, int64_t *out, json_t *v, int64_t lo, int64_t hi, const char *k) {
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) return pfail(e, "%s: integer out of range", k);
    *out = json_integer_value(v);
    return 1;
}

static int p_bool(perr *e, int *out, json_t *v, const char *k) {
    if (!json_is_boolean(v)) return pfail(e, "%s: want true or false", k);
    *out = json_is_true(v);
    return 1;
}

static int p_tdx(perr *e, tkms_attest_policy *p, json_t *o) {
    const char *k;
    json_t *v;
    if (!json_is_object(o)) return pfail(e, "%s: want an object", "tdx");
    json_object_foreach(o, k, v) {
        if (strcmp(k, "mrtd") == 0) {
            if (!p_allow(e, &p->tdx_mrtd, v, 48, "tdx.mrtd")) return 0;
        } else if (strncmp(k, "rtmr", 4) == 0 && k[4] >= '0' && k[4] <= '3' && k[5] == 0) {
            if (!p_allow(e, &p->tdx_rtmr[k[4] - '0'], v, 48, "tdx.rtmrN")) return 0;
        } else if (strcmp(k, "mrconfigid") == 0) {
            if (!p_allow(e, &p->tdx_mrconfigid, v, 48, "tdx.mrconfigid")) return 0;
        } else if (strcmp(k, "require_sept_ve_disable") == 0) {
            if (!p_bool(e, &p->tdx_require_sept_ve_disable, v, k)) return 0;
        } else if (strcmp(k, "xfam") == 0) {
            uint8_t x[8];
            if (!json_is_string(v) || !att_unhex(x, 8, json_string_value(v), json_string_length(v)))
                return pfail(e, "%s: want 8 hex bytes (quote byte order)", "tdx.xfam");
            p->tdx_xfam = att_le64(x);
            p->tdx_xfam_set = 1;
        } else {
            return pfail(e, "unknown policy key tdx.%s", k);
        }
    }
    return 1;
}

static int p_snp(perr *e, tkms_attest_policy *p, json_t *o) {
    const char *k;
    json_t *v;
    int64_t x;
    if (!json_is_object(o)) return pfail(e, "%s: want an object", "sev_snp");
    json_object_foreach(o, k, v) {
        if (strcmp(k, "measurement") == 0) {
            if (!p_allow(e, &p->snp_measurement, v, 48, "sev_snp.measurement")) return 0;
        } else if (strcmp(k, "host_data") == 0) {
            if (!p_allow(e, &p->snp_host_data, v, 32, "sev_snp.host_data")) return 0;
        } else if (strcmp(k, "max_vmpl") == 0) {
            if (!p_int(e, &x, v, 0, 3, k)) return 0;
            p->snp_max_vmpl = (uint32_t)x;
        } else if (strcmp(k, "min_tcb") == 0) {
            static const char *const f[4] = {"bootloader", "tee", "snp", "microcode"};
            if (!json_is_object(v) || json_object_size(v) != 4) return pfail(e, "%s: want {bootloader, tee, snp, microcode}", k);
            for (int i = 0; i < 4; i++) {
                if (!p_int(e, &x, json_object_get(v, f[i]), 0, 255, f[i])) return 0;
                p->snp_min_tcb[i] = (uint8_t)x;
            }
            p->snp_min_tcb_set = 1;
        } else {
            return pfail(e, "unknown policy key sev_snp.%s", k);
        }
    }
    return 1;
}

static int p_gcp(perr *e, tkms_attest_policy *p, json_t *o) {
    const char *k;
    json_t *v;
    int64_t x;
    if (!json_is_object(o)) return pfail(e, "%s: want an object", "gcp_cs");
    json_object_foreach(o, k, v) {
        int ok;
        if (strcmp(k, "issuer") == 0) ok = p_str(e, p->gcp_issuer, sizeof p->gcp_issuer, v, k);
        else if (strcmp(k, "audience") == 0) ok = p_str(e, p->gcp_audience, sizeof p->gcp_audience, v, k);
        else if (strcmp(k, "hwmodel") == 0) ok = p_strlist(e, &p->gcp_hwmodel, v, k) && (p->gcp_hwmodel.n || pfail(e, "%s: empty", k));
        else if (strcmp(k, "attester_tcb") == 0) ok = p_strlist(e, &p->gcp_attester_tcb, v, k);
        else if (strcmp(k, "support_attribute") == 0) ok = p_str(e, p->gcp_support_attribute, sizeof p->gcp_support_attribute, v, k);
        else if (strcmp(k, "image_digest") == 0) ok = p_strlist(e, &p->gcp_image_digest, v, k);
        else if (strcmp(k, "project_id") == 0) ok = p_strlist(e, &p->gcp_project_id, v, k);
        else if (strcmp(k, "service_account") == 0) ok = p_strlist(e, &p->gcp_service_account, v, k);
        else if (strcmp(k, "swversion_min") == 0) {
            ok = p_int(e, &x, v, 0, 999999, k);
            if (ok) p->gcp_swversion_min = (uint32_t)x;
        } else if (strcmp(k, "skew") == 0) ok = p_int(e, &p->gcp_skew, v, 0, 600, k);
        else if (strcmp(k, "max_age") == 0) ok = p_int(e, &p->gcp_max_age, v, 1, 86400, k);
        else ok = pfail(e, "unknown policy key gcp_cs.%s", k);
        if (!ok) return 0;
    }
    return 1;
}

tkms_attest_reason tkms_attest_policy_parse(tkms_attest_policy *p, char *err, size_t errlen, const char *json, size_t json_len) {
    perr e = {err, errlen};
    json_error_t je;
    char dummy[8];
    if (!e.err || !e.errlen) {
        e.err = dummy;
        e.errlen = sizeof dummy;
    }
    e.err[0] = 0;
    tkms_attest_policy_default(p);
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        snprintf(e.err, e.errlen, "policy JSON: %s", root ? "not an object" : je.text);
        json_decref(root);
        return TKMS_ATTEST_E_POLICY_FORMAT;
    }
    const char *k;
    json_t *v;
    int ok = 1;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "tcb_status") == 0) {
            tkms_attest_strlist l;
            static const struct {
                const char *n;
                uint32_t b;
            } m[] = {{"UpToDate", TKMS_TCB_UP_TO_DATE},
                     {"SWHardeningNeeded", TKMS_TCB_SW_HARDENING_NEEDED},
                     {"ConfigurationNeeded", TKMS_TCB_CONFIGURATION_NEEDED},
                     {"ConfigurationAndSWHardeningNeeded", TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED},
                     {"OutOfDate", TKMS_TCB_OUT_OF_DATE},
                     {"OutOfDateConfigurationNeeded", TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED}};
            ok = p_strlist(&e, &l, v, k);
            p->tcb_status_allowed = 0;
            for (size_t i = 0; ok && i < l.n; i++) {
                uint32_t b = 0;
                for (size_t j = 0; j < sizeof m / sizeof m[0]; j++)
                    if (strcmp(l.v[i], m[j].n) == 0) b = m[j].b;
                if (!b) ok = pfail(&e, "tcb_status: '%s' is not an acceptable status", l.v[i]);
                p->tcb_status_allowed |= b;
            }
        } else if (strcmp(k, "tdx") == 0) {
            ok = p_tdx(&e, p, v);
        } else if (strcmp(k, "sev_snp") == 0) {
            ok = p_snp(&e, p, v);
        } else if (strcmp(k, "gcp_cs") == 0) {
            ok = p_gcp(&e, p, v);
        } else if (strcmp(k, "insecure_dev") == 0) {
            json_t *keys = json_object_get(v, "keys");
            ok = json_is_object(v) && json_object_size(v) == 1 && keys ? p_allow(&e, &p->dev_keys, keys, 32, "insecure_dev.keys")
                                                                       : pfail(&e, "%s: want {\"keys\": [...]}", k);
        } else {
            ok = pfail(&e, "unknown policy key %s", k);
        }
        if (!ok) break;
    }
    json_decref(root);
    return ok ? TKMS_ATTEST_OK : TKMS_ATTEST_E_POLICY_FORMAT;
}

/* ---- verify ---- */

tkms_attest_reason tkms_attest_verify(tkms_attest_result *res, const tkms_attest_request *req) {
    tkms_attest_policy def;
    if (!res) return TKMS_ATTEST_E_ARGUMENT;
    memset(res, 0, sizeof *res);
    if (!req) return att_fail(res, TKMS_ATTEST_E_ARGUMENT, "no request");
    res->claims.method = req->method;
    if (!req->evidence || req->evidence_len == 0) return att_fail(res, TKMS_ATTEST_E_ARGUMENT, "no evidence");
    if (!req->binding && !(req->flags & TKMS_ATTEST_F_NO_BINDING))
        return att_fail(res, TKMS_ATTEST_E_ARGUMENT, "no binding B (pass TKMS_ATTEST_F_NO_BINDING to inspect evidence)");
    if (req->evidence_len > ATT_MAX_EVIDENCE)
        return att_fail(res, TKMS_ATTEST_E_OVERSIZE, "evidence larger than %u bytes", ATT_MAX_EVIDENCE);
    const tkms_attest_policy *pol = req->policy;
    if (!pol) {
        tkms_attest_policy_default(&def);
        pol = &def;
    }
    switch (req->method) {
    case TKMS_ATTEST_TDX:
        return att_verify_tdx(res, req, pol);
    case TKMS_ATTEST_SEV_SNP:
        return att_verify_snp(res, req, pol);
    case TKMS_ATTEST_GCP_CS:
        return att_verify_gcp(res, req, pol);
    case TKMS_ATTEST_INSECURE_DEV:
        return att_verify_dev(res, req, pol);
    }
    return att_fail(res, TKMS_ATTEST_E_ARGUMENT, "unknown method %d", (int)req->method);
}

int tkms_attest_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t recipient_x25519[32],
                        const uint8_t *nonce, size_t nonce_len) {
    return tkms_proto_binding(out, app_id, recipient_x25519, 32, nonce, nonce_len);
}

/* ---- claims JSON ---- */

static void jset_hex(json_t *o, const char *k, const uint8_t *b, size_t n) {
    char buf[2 * 64 + 1];
    att_hex(buf, b, n);
    json_object_set_new(o, k, json_string(buf));
}

static void jset_str(json_t *o, const char *k, const char *s) {
    if (s[0]) json_object_set_new(o, k, json_string(s));
}

static json_t *jlist(const tkms_attest_strlist *l) {
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++) json_array_append_new(a, json_string(l->v[i]));
    return a;
}

char *tkms_attest_claims_json(const tkms_attest_claims *c) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "method", json_string(tkms_attest_method_name(c->method)));
    json_object_set_new(o, "genuine", json_boolean(c->genuine));
    json_object_set_new(o, "binding_checked", json_boolean(c->binding_checked));
    if (c->insecure) json_object_set_new(o, "insecure", json_true());
    json_object_set_new(o, "debug", json_boolean(c->debug));
    switch (c->method) {
    case TKMS_ATTEST_TDX: {
        char ver[8];
        snprintf(ver, sizeof ver, "%d", c->tdx_version);
        json_object_set_new(o, "quote_version", json_integer(c->tdx_version));
        jset_str(o, "tcb_status", c->tcb_status);
        jset_hex(o, "fmspc", c->fmspc, 6);
        jset_hex(o, "pceid", c->pceid, 2);
        json_object_set_new(o, "pcesvn", json_integer(c->pcesvn));
        json_object_set_new(o, "qe_isvsvn", json_integer(c->qe_isvsvn));
        jset_hex(o, "tee_tcb_svn", c->tee_tcb_svn, 16);
        jset_hex(o, "mrseam", c->mrseam, 48);
        jset_hex(o, "mrsignerseam", c->mrsignerseam, 48);
        jset_hex(o, "seam_attributes", c->seam_attributes, 8);
        jset_hex(o, "td_attributes", c->td_attributes, 8);
        jset_hex(o, "xfam", c->xfam, 8);
        jset_hex(o, "mrtd", c->mrtd, 48);
        jset_hex(o, "mrconfigid", c->mrconfigid, 48);
        jset_hex(o, "mrowner", c->mrowner, 48);
        jset_hex(o, "mrownerconfig", c->mrownerconfig, 48);
        json_t *r = json_array();
        for (int i = 0; i < 4; i++) {
            char buf[97];
            att_hex(buf, c->rtmr[i], 48);
            json_array_append_new(r, json_string(buf));
        }
        json_object_set_new(o, "rtmr", r);
        jset_hex(o, "report_data", c->report_data, 64);
        break;
    }
    case TKMS_ATTEST_SEV_SNP:
        jset_str(o, "product", c->snp_product);
        json_object_set_new(o, "report_version", json_integer(c->snp_version));
        json_object_set_new(o, "guest_svn", json_integer(c->guest_svn));
        json_object_set_new(o, "vmpl", json_integer(c->vmpl));
        {
            char buf[24];
            snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)c->snp_policy);
            json_object_set_new(o, "policy", json_string(buf));
            snprintf(buf, sizeof buf, "0x%016llx", (unsigned long long)c->reported_tcb);
            json_object_set_new(o, "reported_tcb", json_string(buf));
            snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)c->platform_info);
            json_object_set_new(o, "platform_info", json_string(buf));
        }
        jset_hex(o, "measurement", c->measurement, 48);
        jset_hex(o, "host_data", c->host_data, 32);
        jset_hex(o, "report_data", c->report_data, 64);
        jset_hex(o, "chip_id", c->chip_id, 64);
        jset_hex(o, "id_key_digest", c->id_key_digest, 48);
        jset_hex(o, "author_key_digest", c->author_key_digest, 48);
        break;
    case TKMS_ATTEST_GCP_CS:
        json_object_set_new(o, "pki", json_boolean(c->gcp_pki));
        jset_str(o, "iss", c->iss);
        jset_str(o, "aud", c->aud);
        jset_str(o, "sub", c->sub);
        jset_str(o, "jti", c->jti);
        json_object_set_new(o, "iat", json_integer(c->iat));
        json_object_set_new(o, "nbf", json_integer(c->nbf));
        json_object_set_new(o, "exp", json_integer(c->exp));
        jset_str(o, "hwmodel", c->hwmodel);
        jset_str(o, "swname", c->swname);
        json_object_set_new(o, "swversion", json_integer(c->swversion));
        jset_str(o, "dbgstat", c->dbgstat);
        json_object_set_new(o, "support_attributes", jlist(&c->support_attributes));
        jset_str(o, "eat_nonce", c->eat_nonce);
        jset_str(o, "image_digest", c->image_digest);
        jset_str(o, "image_reference", c->image_reference);
        jset_str(o, "app_id", c->app_id);
        jset_str(o, "project_id", c->project_id);
        jset_str(o, "project_number", c->project_number);
        jset_str(o, "instance_name", c->instance_name);
        jset_str(o, "zone", c->zone);
        json_object_set_new(o, "service_accounts", jlist(&c->service_accounts));
        break;
    case TKMS_ATTEST_INSECURE_DEV:
        jset_str(o, "app_id", c->app_id);
        jset_hex(o, "dev_key", c->dev_key, 32);
        jset_hex(o, "report_data", c->report_data, 64);
        break;
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
