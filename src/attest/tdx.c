/* tkms attestation: Intel TDX DCAP quote v4/v5 verification against an offline collateral bundle
 * (dcap-qvl QuoteCollateralV3 JSON), in the order of ATTESTATION-NOTES.md §2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "att_util.h"

#define HDR_LEN 48
#define BODY_V10 584
#define BODY_V15 648
#define QE_REPORT_LEN 384

static const uint8_t INTEL_QE_VENDOR[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

typedef struct {
    int version;
    const uint8_t *body;
    size_t body_len, signed_len;
    const uint8_t *sig, *att_key, *qe_report, *qe_sig, *qe_auth, *pck_pem;
    size_t qe_auth_len, pck_pem_len;
} quote;

/* Every read is preceded by a check against the remaining length; offsets never wrap because each
 * is bounded by n (<= ATT_MAX_EVIDENCE). */
static tkms_attest_reason parse_quote(tkms_attest_result *res, quote *q, const uint8_t *b, size_t n) {
    memset(q, 0, sizeof *q);
    if (n < HDR_LEN) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "quote shorter than its header (%zu bytes)", n);
    q->version = att_le16(b);
    if (q->version != 4 && q->version != 5)
        return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "quote version %d (want 4 or 5)", q->version);
    if (att_le16(b + 2) != 2) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "attestation key type %u (want 2, P-256)", att_le16(b + 2));
    if (att_le32(b + 4) != 0x81) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "TEE type 0x%x (want 0x81, TDX)", att_le32(b + 4));
    if (memcmp(b + 12, INTEL_QE_VENDOR, 16) != 0) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "QE vendor is not Intel");
    size_t off = HDR_LEN;
    if (q->version == 4) {
        q->body_len = BODY_V10;
    } else {
        if (n - off < 6) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated v5 body descriptor");
        uint16_t type = att_le16(b + off);
        uint32_t size = att_le32(b + off + 2);
        if (!((type == 2 && size == BODY_V10) || (type == 3 && size == BODY_V15)))
            return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "v5 body type %u size %u", type, size);
        q->body_len = size;
        off += 6;
    }
    if (n - off < q->body_len) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated TD report body");
    q->body = b + off;
    off += q->body_len;
    q->signed_len = off;
    if (n - off < 4) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated signature length");
    size_t sig_len = att_le32(b + off);
    off += 4;
    if (sig_len > n - off) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "signature data length %zu exceeds the quote", sig_len);
    /* Bytes after the signature data are not signed: tolerate only zero padding (GCP pads to a
     * fixed size), so that two different byte strings cannot both be "the" quote. */
    for (size_t i = off + sig_len; i < n; i++)
        if (b[i] != 0) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "non-zero bytes after the signature data");
    const uint8_t *s = b + off;
    size_t sn = sig_len, p = 0;
    if (sn < 128 + 6) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated signature data");
    q->sig = s;
    q->att_key = s + 64;
    p = 128;
    if (att_le16(s + p) != 6) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "certification data type %u (want 6)", att_le16(s + p));
    size_t cd_len = att_le32(s + p + 2);
    p += 6;
    if (cd_len != sn - p) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "certification data length %zu != %zu", cd_len, sn - p);
    if (sn - p < QE_REPORT_LEN + 64 + 2) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated QE report");
    q->qe_report = s + p;
    q->qe_sig = s + p + QE_REPORT_LEN;
    p += QE_REPORT_LEN + 64;
    q->qe_auth_len = att_le16(s + p);
    p += 2;
    if (q->qe_auth_len > sn - p) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "QE auth data overruns");
    q->qe_auth = s + p;
    p += q->qe_auth_len;
    if (sn - p < 6) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "truncated PCK certification data");
    if (att_le16(s + p) != 5) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "inner certification type %u (want 5, PCK chain)", att_le16(s + p));
    q->pck_pem_len = att_le32(s + p + 2);
    p += 6;
    if (q->pck_pem_len != sn - p) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "PCK chain length %zu != %zu", q->pck_pem_len, sn - p);
    q->pck_pem = s + p;
    return TKMS_ATTEST_OK;
}

/* ---- collateral ---- */

typedef struct {
    json_t *root;
    X509_CRL *root_crl, *pck_crl;
    const char *tcb_info, *qe_identity;
    size_t tcb_info_len, qe_identity_len;
    uint8_t tcb_sig[64], qe_sig[64];
    STACK_OF(X509) *tcb_chain, *qe_chain;
    json_t *tcb, *qe; /* parsed bodies */
} collateral;

static void collateral_free(collateral *c) {
    X509_CRL_free(c->root_crl);
    X509_CRL_free(c->pck_crl);
    sk_X509_pop_free(c->tcb_chain, X509_free);
    sk_X509_pop_free(c->qe_chain, X509_free);
    json_decref(c->tcb);
    json_decref(c->qe);
    json_decref(c->root);
}

static const char *jstr(json_t *o, const char *k, size_t *len) {
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

static X509_CRL *crl_from_hex(const char *hex, size_t len) {
    if (!hex || len % 2 || len / 2 > ATT_MAX_COLLATERAL) return NULL;
    uint8_t *der = malloc(len / 2 + 1);
    X509_CRL *c = NULL;
    if (der && att_unhex(der, len / 2, hex, len)) c = att_crl_from_der(der, len / 2);
    free(der);
    return c;
}

static tkms_attest_reason parse_collateral(tkms_attest_result *res, collateral *c, const uint8_t *b, size_t n) {
    json_error_t je;
    size_t l1, l2;
    const char *s;
    if (!b || n == 0) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "TDX needs a collateral bundle");
    if (n > ATT_MAX_COLLATERAL) return att_fail(res, TKMS_ATTEST_E_OVERSIZE, "collateral larger than %u bytes", ATT_MAX_COLLATERAL);
    c->root = json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(c->root)) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "collateral JSON: %s", je.text);
    s = jstr(c->root, "root_ca_crl", &l1);
    if (!(c->root_crl = crl_from_hex(s, s ? l1 : 0)))
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "root_ca_crl missing or not hex DER");
    s = jstr(c->root, "pck_crl", &l1);
    if (!(c->pck_crl = crl_from_hex(s, s ? l1 : 0)))
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "pck_crl missing or not hex DER");
    c->tcb_info = jstr(c->root, "tcb_info", &c->tcb_info_len);
    c->qe_identity = jstr(c->root, "qe_identity", &c->qe_identity_len);
    if (!c->tcb_info || !c->qe_identity) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "tcb_info or qe_identity missing");
    s = jstr(c->root, "tcb_info_signature", &l1);
    if (!s || !att_unhex(c->tcb_sig, 64, s, l1)) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "tcb_info_signature is not 64 hex bytes");
    s = jstr(c->root, "qe_identity_signature", &l1);
    if (!s || !att_unhex(c->qe_sig, 64, s, l1)) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "qe_identity_signature is not 64 hex bytes");
    s = jstr(c->root, "tcb_info_issuer_chain", &l1);
    const char *s2 = jstr(c->root, "qe_identity_issuer_chain", &l2);
    if (!s || !s2 || !(c->tcb_chain = att_pem_chain((const uint8_t *)s, l1, 3)) ||
        !(c->qe_chain = att_pem_chain((const uint8_t *)s2, l2, 3)))
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "TCB info / QE identity issuer chain missing or not PEM");
    return TKMS_ATTEST_OK;
}

/* ---- PCK certificate SGX extension (1.2.840.113741.1.13.1) ---- */

static const uint8_t SGX_OID[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

typedef struct {
    uint8_t comp[16];
    uint16_t pcesvn;
    uint8_t pceid[2], fmspc[6];
    int have_tcb, have_pceid, have_fmspc;
} pck_ext;

/* 1 if oid == SGX_OID || suffix. */
static int oid_is(const att_der *oid, const uint8_t *suffix, size_t sl) {
    return oid->len == sizeof SGX_OID + sl && memcmp(oid->p, SGX_OID, sizeof SGX_OID) == 0 &&
           memcmp(oid->p + sizeof SGX_OID, suffix, sl) == 0;
}

static int parse_pck_tcb(pck_ext *e, att_der seq) {
    int seen = 0;
    while (seq.len) {
        uint8_t t;
        att_der item, oid, val;
        if (!att_der_next(&seq, &t, &item) || t != 0x30) return 0;
        if (!att_der_next(&item, &t, &oid) || t != 0x06) return 0;
        if (!att_der_next(&item, &t, &val)) return 0;
        if (oid.len != sizeof SGX_OID + 2 || memcmp(oid.p, SGX_OID, sizeof SGX_OID) || oid.p[sizeof SGX_OID] != 2) continue;
        uint8_t k = oid.p[sizeof SGX_OID + 1];
        uint64_t v;
        if (k >= 1 && k <= 16) {
            if (t != 0x02 || !att_der_uint(&val, &v) || v > 255) return 0;
            e->comp[k - 1] = (uint8_t)v;
            seen |= 1;
        } else if (k == 17) {
            if (t != 0x02 || !att_der_uint(&val, &v) || v > 65535) return 0;
            e->pcesvn = (uint16_t)v;
            seen |= 2;
        }
    }
    return seen == 3;
}

static int parse_pck_ext(pck_ext *e, X509 *leaf) {
    memset(e, 0, sizeof *e);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int idx = obj ? X509_get_ext_by_OBJ(leaf, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (idx < 0) return 0;
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
    att_der d = {ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)}, seq;
    uint8_t t;
    if (!att_der_next(&d, &t, &seq) || t != 0x30) return 0;
    while (seq.len) {
        att_der item, oid, val;
        if (!att_der_next(&seq, &t, &item) || t != 0x30) return 0;
        if (!att_der_next(&item, &t, &oid) || t != 0x06) return 0;
        if (!att_der_next(&item, &t, &val)) return 0;
        if (oid_is(&oid, (const uint8_t[]){2}, 1)) {
            if (t != 0x30 || !parse_pck_tcb(e, val)) return 0;
            e->have_tcb = 1;
        } else if (oid_is(&oid, (const uint8_t[]){3}, 1)) {
            if (t != 0x04 || val.len != 2) return 0;
            memcpy(e->pceid, val.p, 2);
            e->have_pceid = 1;
        } else if (oid_is(&oid, (const uint8_t[]){4}, 1)) {
            if (t != 0x04 || val.len != 6) return 0;
            memcpy(e->fmspc, val.p, 6);
            e->have_fmspc = 1;
        }
    }
    return e->have_tcb && e->have_pceid && e->have_fmspc;
}

/* ---- TCB info / QE identity ---- */

static uint32_t status_bit(const char *s) {
    static const struct {
        const char *n;
        uint32_t b;
    } m[] = {{"UpToDate", TKMS_TCB_UP_TO_DATE},
             {"SWHardeningNeeded", TKMS_TCB_SW_HARDENING_NEEDED},
             {"ConfigurationNeeded", TKMS_TCB_CONFIGURATION_NEEDED},
             {"ConfigurationAndSWHardeningNeeded", TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED},
             {"OutOfDate", TKMS_TCB_OUT_OF_DATE},
             {"OutOfDateConfigurationNeeded", TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(s, m[i].n) == 0) return m[i].b;
    return 0; /* Revoked and anything unknown: never acceptable */
}

/* Severity order for combining the platform, module and QE verdicts: the worst one wins. */
static int status_rank(const char *s) {
    static const char *const order[] = {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                        "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                        "OutOfDateConfigurationNeeded"};
    for (int i = 0; i < 6; i++)
        if (strcmp(s, order[i]) == 0) return i;
    return 100;
}

static void worst_status(char *acc, size_t cap, const char *s) {
    if (!acc[0] || status_rank(s) > status_rank(acc)) snprintf(acc, cap, "%s", s);
}

static int jhex(uint8_t *out, size_t n, json_t *o, const char *k) {
    size_t l;
    const char *s = jstr(o, k, &l);
    return s && att_unhex(out, n, s, l);
}

static int jint(json_t *o, const char *k, json_int_t lo, json_int_t hi, json_int_t *out) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) return 0;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

/* Verifies a TCB info / QE identity document: signing chain to the pinned root with the root CRL,
 * ECDSA over the exact raw JSON bytes, id/version, and issueDate <= now <= nextUpdate. */
static tkms_attest_reason check_signed_doc(tkms_attest_result *res, const char *what, const char *doc, size_t doc_len,
                                           const uint8_t sig[64], STACK_OF(X509) *chain, X509_CRL *root_crl,
                                           X509 *root, int64_t now, const char *want_id, json_int_t want_version,
                                           json_t **parsed) {
    char detail[160];
    X509 *signer = sk_X509_value(chain, 0);
    STACK_OF(X509) *rest = sk_X509_new_null();
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    tkms_attest_reason r = TKMS_ATTEST_E_INTERNAL;
    if (!rest || !crls || !sk_X509_CRL_push(crls, root_crl)) {
        r = att_fail(res, r, "out of memory");
        goto out;
    }
    for (int i = 1; i < sk_X509_num(chain); i++) sk_X509_push(rest, sk_X509_value(chain, i));
    r = att_verify_chain(detail, sizeof detail, root, signer, rest, crls, now);
    if (r != TKMS_ATTEST_OK) {
        if (r == TKMS_ATTEST_E_CHAIN) r = TKMS_ATTEST_E_COLLATERAL_SIGNATURE;
        att_fail(res, r, "%s signing chain: %s", what, detail);
        goto out;
    }
    char cn[128] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(signer), NID_commonName, cn, sizeof cn);
    if (strcmp(cn, "Intel SGX TCB Signing") != 0) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "%s signed by '%s', not Intel SGX TCB Signing", what, cn);
        goto out;
    }
    EVP_PKEY *pk = X509_get0_pubkey(signer);
    if (!pk || !att_ecdsa_verify_rs(pk, EVP_sha256(), (const uint8_t *)doc, doc_len, sig, sig + 32, 32)) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_SIGNATURE, "%s signature does not verify", what);
        goto out;
    }
    json_error_t je;
    json_t *j = json_loadb(doc, doc_len, JSON_REJECT_DUPLICATES, &je);
    *parsed = j;
    json_int_t ver;
    const char *id = j ? jstr(j, "id", NULL) : NULL;
    if (!json_is_object(j) || !id || !jint(j, "version", 0, 100, &ver)) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "%s is not a well-formed document", what);
        goto out;
    }
    if (strcmp(id, want_id) != 0 || ver != want_version) {
        r = att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "%s id %s version %lld (want %s %lld)", what, id, (long long)ver,
                     want_id, (long long)want_version);
        goto out;
    }
    int64_t issue, next;
    const char *si = jstr(j, "issueDate", NULL), *sn = jstr(j, "nextUpdate", NULL);
    if (!si || !sn || !tkms_attest_parse_time(&issue, si) || !tkms_attest_parse_time(&next, sn)) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "%s dates malformed", what);
        goto out;
    }
    if (now < issue || now > next) {
        r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_EXPIRED, "%s valid %s .. %s, not at the verification time", what, si, sn);
        goto out;
    }
    r = TKMS_ATTEST_OK;
out:
    sk_X509_free(rest);
    sk_X509_CRL_free(crls);
    return r;
}

static int level_svns(json_t *arr, uint8_t out[16]) {
    if (!json_is_array(arr) || json_array_size(arr) != 16) return 0;
    for (size_t i = 0; i < 16; i++) {
        json_int_t v;
        if (!jint(json_array_get(arr, i), "svn", 0, 255, &v)) return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

/* First TCB level whose SGX components and PCESVN (from the PCK certificate) and TDX components
 * (from TEE_TCB_SVN) are all >= the level's; Intel orders levels newest first. */
static tkms_attest_reason select_tcb_level(tkms_attest_result *res, json_t *tcb, const pck_ext *e,
                                           const uint8_t tee_tcb_svn[16], const char **status) {
    json_t *levels = json_object_get(tcb, "tcbLevels");
    if (!json_is_array(levels) || json_array_size(levels) == 0 || json_array_size(levels) > 128)
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "tcbLevels missing");
    size_t start = tee_tcb_svn[1] > 0 ? 2 : 0; /* TDX 1.5+: bytes 0-1 are the module version */
    for (size_t i = 0; i < json_array_size(levels); i++) {
        json_t *lv = json_array_get(levels, i), *t = json_object_get(lv, "tcb");
        uint8_t sgx[16], tdx[16];
        json_int_t pcesvn;
        const char *st = jstr(lv, "tcbStatus", NULL);
        if (!json_is_object(t) || !st || !level_svns(json_object_get(t, "sgxtcbcomponents"), sgx) ||
            !level_svns(json_object_get(t, "tdxtcbcomponents"), tdx) || !jint(t, "pcesvn", 0, 65535, &pcesvn))
            return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "tcbLevels[%zu] malformed", i);
        int ok = e->pcesvn >= pcesvn;
        for (size_t k = 0; k < 16; k++) ok &= e->comp[k] >= sgx[k];
        for (size_t k = start; k < 16; k++) ok &= tee_tcb_svn[k] >= tdx[k];
        if (ok) {
            *status = st;
            return TKMS_ATTEST_OK;
        }
    }
    /* Below every level in some component (Intel's QVL: "TCB not supported"). dcap-qvl compares
     * the SVN arrays lexicographically and would call some of these OutOfDate; either way the
     * platform is refused, and no policy can allow it. */
    *status = "Unrecognized";
    return TKMS_ATTEST_OK;
}

/* MRSIGNERSEAM / SEAMATTRIBUTES against the TDX module identity; for TDX 1.5+ also the module's
 * own TCB level (by TEE_TCB_SVN[0]). */
static tkms_attest_reason check_module(tkms_attest_result *res, json_t *tcb, const uint8_t *body, const char **mstatus) {
    const uint8_t *svn = body, *mrsigner = body + 0x40, *attrs = body + 0x70;
    json_t *mod = json_object_get(tcb, "tdxModule");
    json_t *ident = NULL;
    *mstatus = NULL;
    if (svn[1] > 0) {
        char id[16];
        snprintf(id, sizeof id, "TDX_%02X", svn[1]);
        json_t *ids = json_object_get(tcb, "tdxModuleIdentities");
        for (size_t i = 0; json_is_array(ids) && i < json_array_size(ids); i++) {
            const char *s = jstr(json_array_get(ids, i), "id", NULL);
            if (s && strcmp(s, id) == 0) ident = json_array_get(ids, i);
        }
        if (!ident) return att_fail(res, TKMS_ATTEST_E_TDX_MODULE, "no module identity %s in the TCB info", id);
        mod = ident;
    }
    uint8_t want_signer[48], want_attr[8], mask[8];
    if (!json_is_object(mod) || !jhex(want_signer, 48, mod, "mrsigner") || !jhex(want_attr, 8, mod, "attributes") ||
        !jhex(mask, 8, mod, "attributesMask"))
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "tdxModule malformed");
    if (memcmp(mrsigner, want_signer, 48) != 0) return att_fail(res, TKMS_ATTEST_E_TDX_MODULE, "MRSIGNERSEAM differs from the TDX module's");
    for (int i = 0; i < 8; i++)
        if ((attrs[i] & mask[i]) != want_attr[i]) return att_fail(res, TKMS_ATTEST_E_TDX_MODULE, "SEAMATTRIBUTES not allowed");
    if (ident) {
        json_t *levels = json_object_get(ident, "tcbLevels");
        for (size_t i = 0; json_is_array(levels) && i < json_array_size(levels); i++) {
            json_t *lv = json_array_get(levels, i);
            json_int_t isvsvn;
            const char *st = jstr(lv, "tcbStatus", NULL);
            if (!st || !jint(json_object_get(lv, "tcb"), "isvsvn", 0, 255, &isvsvn))
                return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "module tcbLevels malformed");
            if (svn[0] >= isvsvn) {
                *mstatus = st;
                return TKMS_ATTEST_OK;
            }
        }
        *mstatus = "Unrecognized"; /* below every module level: never acceptable */
        return TKMS_ATTEST_OK;
    }
    return TKMS_ATTEST_OK;
}

/* QE report body (SGX REPORT): MISCSELECT 0x10, ATTRIBUTES 0x30, MRSIGNER 0x80, ISVPRODID 0x100,
 * ISVSVN 0x102, REPORTDATA 0x140. */
static tkms_attest_reason check_qe_identity(tkms_attest_result *res, json_t *qe, const uint8_t *rep, const char **qstatus) {
    uint8_t misc[4], misc_mask[4], attr[16], attr_mask[16], signer[32];
    json_int_t prodid;
    if (!jhex(misc, 4, qe, "miscselect") || !jhex(misc_mask, 4, qe, "miscselectMask") || !jhex(attr, 16, qe, "attributes") ||
        !jhex(attr_mask, 16, qe, "attributesMask") || !jhex(signer, 32, qe, "mrsigner") || !jint(qe, "isvprodid", 0, 65535, &prodid))
        return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "QE identity malformed");
    if (memcmp(rep + 0x80, signer, 32) != 0) return att_fail(res, TKMS_ATTEST_E_QE_IDENTITY, "QE MRSIGNER differs from the QE identity's");
    if (att_le16(rep + 0x100) != prodid) return att_fail(res, TKMS_ATTEST_E_QE_IDENTITY, "QE ISVPRODID %u (want %lld)", att_le16(rep + 0x100), (long long)prodid);
    /* miscselect is printed as a big-endian number; the report holds it little-endian. */
    uint32_t m = att_le32(rep + 0x10);
    uint32_t wm = (uint32_t)misc[0] << 24 | (uint32_t)misc[1] << 16 | (uint32_t)misc[2] << 8 | misc[3];
    uint32_t mm = (uint32_t)misc_mask[0] << 24 | (uint32_t)misc_mask[1] << 16 | (uint32_t)misc_mask[2] << 8 | misc_mask[3];
    if ((m & mm) != wm) return att_fail(res, TKMS_ATTEST_E_QE_IDENTITY, "QE MISCSELECT not allowed");
    for (int i = 0; i < 16; i++)
        if ((rep[0x30 + i] & attr_mask[i]) != attr[i]) return att_fail(res, TKMS_ATTEST_E_QE_IDENTITY, "QE ATTRIBUTES not allowed");
    uint16_t isvsvn = att_le16(rep + 0x102);
    res->claims.qe_isvsvn = isvsvn;
    json_t *levels = json_object_get(qe, "tcbLevels");
    for (size_t i = 0; json_is_array(levels) && i < json_array_size(levels); i++) {
        json_t *lv = json_array_get(levels, i);
        json_int_t want;
        const char *st = jstr(lv, "tcbStatus", NULL);
        if (!st || !jint(json_object_get(lv, "tcb"), "isvsvn", 0, 65535, &want))
            return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "QE tcbLevels malformed");
        if (isvsvn >= want) {
            *qstatus = st;
            return TKMS_ATTEST_OK;
        }
    }
    *qstatus = "Unrecognized"; /* below every QE level: never acceptable */
    return TKMS_ATTEST_OK;
}

static void fill_body_claims(tkms_attest_claims *c, const quote *q) {
    const uint8_t *b = q->body;
    c->tdx_version = q->version;
    memcpy(c->tee_tcb_svn, b, 16);
    memcpy(c->mrseam, b + 0x10, 48);
    memcpy(c->mrsignerseam, b + 0x40, 48);
    memcpy(c->seam_attributes, b + 0x70, 8);
    memcpy(c->td_attributes, b + 0x78, 8);
    memcpy(c->xfam, b + 0x80, 8);
    memcpy(c->mrtd, b + 0x88, 48);
    memcpy(c->mrconfigid, b + 0xB8, 48);
    memcpy(c->mrowner, b + 0xE8, 48);
    memcpy(c->mrownerconfig, b + 0x118, 48);
    for (int i = 0; i < 4; i++) memcpy(c->rtmr[i], b + 0x148 + 48 * i, 48);
    memcpy(c->report_data, b + 0x208, 64);
    c->debug = b[0x78] & 1;
}

tkms_attest_reason att_verify_tdx(tkms_attest_result *res, const tkms_attest_request *req, const tkms_attest_policy *pol) {
    quote q;
    collateral col;
    pck_ext ext;
    char detail[160];
    tkms_attest_claims *c = &res->claims;
    STACK_OF(X509) *pck = NULL, *inter = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    EVP_PKEY *att = NULL;
    tkms_attest_reason r;
    memset(&col, 0, sizeof col);

    /* 1. strict parse */
    if ((r = parse_quote(res, &q, req->evidence, req->evidence_len)) != TKMS_ATTEST_OK) goto out;
    fill_body_claims(c, &q);
    if ((r = parse_collateral(res, &col, req->collateral, req->collateral_len)) != TKMS_ATTEST_OK) goto out;
    X509 *root = att_anchor_intel_root();
    if (!root) {
        r = att_fail(res, TKMS_ATTEST_E_UNTRUSTED_ROOT, "pinned Intel SGX root unavailable");
        goto out;
    }

    /* 2. PCK chain to the pinned root (by key), with the root and PCK CRLs */
    if (!(pck = att_pem_chain(q.pck_pem, q.pck_pem_len, 3)) || sk_X509_num(pck) < 2) {
        r = att_fail(res, TKMS_ATTEST_E_MALFORMED, "PCK certificate chain is not 2-3 PEM certificates");
        goto out;
    }
    /* The chain is outside the quote signature: accept only its canonical PEM spelling, so that
     * no unsigned byte of the quote can vary without being noticed. */
    {
        BIO *mb = BIO_new(BIO_s_mem());
        const uint8_t *pp = q.pck_pem;
        size_t pl = q.pck_pem_len;
        char *canon = NULL;
        long cl = 0;
        while (pl > 0 && pp[pl - 1] == 0) pl--;
        for (int i = 0; mb && i < sk_X509_num(pck); i++) PEM_write_bio_X509(mb, sk_X509_value(pck, i));
        if (mb) cl = BIO_get_mem_data(mb, &canon);
        int same = mb && cl >= 0 && (size_t)cl == pl && memcmp(canon, pp, pl) == 0;
        BIO_free(mb);
        if (!same) {
            r = att_fail(res, TKMS_ATTEST_E_MALFORMED, "PCK certificate chain is not canonical PEM");
            goto out;
        }
    }
    {
        uint8_t want[32], got[32];
        X509 *top = sk_X509_value(pck, sk_X509_num(pck) - 1);
        /* A root copy in the quote must be the pinned certificate itself (the pre-production root
         * shares its subject); the chain is then verified against the pinned copy. */
        if (sk_X509_num(pck) == 3 && (!att_x509_spki_sha256(want, root) || !att_x509_spki_sha256(got, top) ||
                                      memcmp(want, got, 32) != 0 || X509_cmp(top, root) != 0)) {
            r = att_fail(res, TKMS_ATTEST_E_UNTRUSTED_ROOT, "PCK chain root is not the pinned Intel SGX root");
            goto out;
        }
    }
    inter = sk_X509_new_null();
    crls = sk_X509_CRL_new_null();
    if (!inter || !crls || !sk_X509_CRL_push(crls, col.root_crl) || !sk_X509_CRL_push(crls, col.pck_crl)) {
        r = att_fail(res, TKMS_ATTEST_E_INTERNAL, "out of memory");
        goto out;
    }
    for (int i = 1; i < sk_X509_num(pck); i++) sk_X509_push(inter, sk_X509_value(pck, i));
    X509 *leaf = sk_X509_value(pck, 0);
    if ((r = att_verify_chain(detail, sizeof detail, root, leaf, inter, crls, req->now)) != TKMS_ATTEST_OK) {
        att_fail(res, r, "PCK chain: %s", detail);
        goto out;
    }

    /* 3. QE report signed by the PCK key */
    EVP_PKEY *pck_key = X509_get0_pubkey(leaf);
    if (!pck_key || !att_ecdsa_verify_rs(pck_key, EVP_sha256(), q.qe_report, QE_REPORT_LEN, q.qe_sig, q.qe_sig + 32, 32)) {
        r = att_fail(res, TKMS_ATTEST_E_QE_REPORT_SIGNATURE, "QE report signature does not verify with the PCK key");
        goto out;
    }

    /* 4. QE REPORTDATA binds the attestation key */
    {
        uint8_t h[32];
        static const uint8_t zero[32];
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        unsigned int hl = 0;
        int ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(m, q.att_key, 64) == 1 &&
                 EVP_DigestUpdate(m, q.qe_auth, q.qe_auth_len) == 1 && EVP_DigestFinal_ex(m, h, &hl) == 1;
        EVP_MD_CTX_free(m);
        if (!ok) {
            r = att_fail(res, TKMS_ATTEST_E_INTERNAL, "SHA-256 failed");
            goto out;
        }
        if (memcmp(q.qe_report + 0x140, h, 32) != 0 || memcmp(q.qe_report + 0x160, zero, 32) != 0) {
            r = att_fail(res, TKMS_ATTEST_E_QE_BINDING, "QE report data != SHA-256(attestation key || QE auth data) || 0^32");
            goto out;
        }
    }

    /* 5. quote signature by the attestation key */
    if (!(att = att_ec_pub_xy("P-256", q.att_key, 32))) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "attestation key is not a P-256 point");
        goto out;
    }
    if (!att_ecdsa_verify_rs(att, EVP_sha256(), req->evidence, q.signed_len, q.sig, q.sig + 32, 32)) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "quote signature does not verify");
        goto out;
    }

    /* 6. collateral signatures and windows */
    if ((r = check_signed_doc(res, "TCB info", col.tcb_info, col.tcb_info_len, col.tcb_sig, col.tcb_chain, col.root_crl,
                              root, req->now, "TDX", 3, &col.tcb)) != TKMS_ATTEST_OK)
        goto out;
    if ((r = check_signed_doc(res, "QE identity", col.qe_identity, col.qe_identity_len, col.qe_sig, col.qe_chain,
                              col.root_crl, root, req->now, "TD_QE", 2, &col.qe)) != TKMS_ATTEST_OK)
        goto out;

    /* 7. FMSPC / PCEID from the PCK certificate */
    if (!parse_pck_ext(&ext, leaf)) {
        r = att_fail(res, TKMS_ATTEST_E_MALFORMED, "PCK certificate lacks a well-formed SGX extension");
        goto out;
    }
    memcpy(c->fmspc, ext.fmspc, 6);
    memcpy(c->pceid, ext.pceid, 2);
    c->pcesvn = ext.pcesvn;
    {
        uint8_t fmspc[6], pceid[2];
        if (!jhex(fmspc, 6, col.tcb, "fmspc") || !jhex(pceid, 2, col.tcb, "pceId")) {
            r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "TCB info fmspc/pceId malformed");
            goto out;
        }
        if (memcmp(fmspc, ext.fmspc, 6) != 0 || memcmp(pceid, ext.pceid, 2) != 0) {
            char a[13], b2[13];
            att_hex(a, ext.fmspc, 6);
            att_hex(b2, fmspc, 6);
            r = att_fail(res, TKMS_ATTEST_E_FMSPC_MISMATCH, "PCK FMSPC %s / TCB info FMSPC %s (or PCEID) differ", a, b2);
            goto out;
        }
    }

    /* 8-10. module identity, TCB level, QE identity */
    const char *mstatus = NULL, *pstatus = NULL, *qstatus = NULL;
    if ((r = check_module(res, col.tcb, q.body, &mstatus)) != TKMS_ATTEST_OK) goto out;
    if ((r = select_tcb_level(res, col.tcb, &ext, q.body, &pstatus)) != TKMS_ATTEST_OK) goto out;
    if ((r = check_qe_identity(res, col.qe, q.qe_report, &qstatus)) != TKMS_ATTEST_OK) goto out;
    if (!pstatus || !qstatus) { /* unreachable: both checks set their status when they return OK */
        r = att_fail(res, TKMS_ATTEST_E_INTERNAL, "TCB status not determined");
        goto out;
    }
    c->tcb_status[0] = 0;
    worst_status(c->tcb_status, sizeof c->tcb_status, pstatus);
    if (mstatus) worst_status(c->tcb_status, sizeof c->tcb_status, mstatus);
    worst_status(c->tcb_status, sizeof c->tcb_status, qstatus);
    c->genuine = 1;

    /* 11. TCB status under policy */
    if (!(status_bit(c->tcb_status) & pol->tcb_status_allowed)) {
        r = att_fail(res, TKMS_ATTEST_E_TCB_STATUS, "TCB status %s not allowed (platform %s%s, QE %s%s%s)", c->tcb_status, pstatus,
                     strcmp(pstatus, "Unrecognized") == 0 ? ": below every TCB level of its FMSPC, i.e. older than the OutOfDate levels" : "",
                     qstatus, mstatus ? ", module " : "", mstatus ? mstatus : "");
        goto out;
    }

    /* 12. TD attributes */
    uint64_t tda = att_le64(q.body + 0x78);
    if (tda & 1) {
        r = att_fail(res, TKMS_ATTEST_E_DEBUG, "TD DEBUG attribute is set");
        goto out;
    }
    if (pol->tdx_require_sept_ve_disable && !(tda & (1ull << 28))) {
        r = att_fail(res, TKMS_ATTEST_E_TD_ATTRIBUTES, "TD attribute SEPT_VE_DISABLE is clear");
        goto out;
    }
    if (pol->tdx_xfam_set && att_le64(q.body + 0x80) != pol->tdx_xfam) {
        r = att_fail(res, TKMS_ATTEST_E_TD_ATTRIBUTES, "XFAM differs from the policy's");
        goto out;
    }

    /* 13. measurements and binding */
    if (pol->tdx_mrtd.n && !att_allowed(&pol->tdx_mrtd, c->mrtd, 48)) {
        r = att_fail(res, TKMS_ATTEST_E_MEASUREMENT, "MRTD not in the allow-list");
        goto out;
    }
    for (int i = 0; i < 4; i++)
        if (pol->tdx_rtmr[i].n && !att_allowed(&pol->tdx_rtmr[i], c->rtmr[i], 48)) {
            r = att_fail(res, TKMS_ATTEST_E_MEASUREMENT, "RTMR%d not in the allow-list", i);
            goto out;
        }
    if (pol->tdx_mrconfigid.n && !att_allowed(&pol->tdx_mrconfigid, c->mrconfigid, 48)) {
        r = att_fail(res, TKMS_ATTEST_E_MEASUREMENT, "MRCONFIGID not in the allow-list");
        goto out;
    }
    if (req->binding) {
        if (CRYPTO_memcmp(c->report_data, req->binding, 64) != 0) {
            r = att_fail(res, TKMS_ATTEST_E_BINDING, "REPORTDATA differs from the binding B");
            goto out;
        }
        c->binding_checked = 1;
    }
    r = TKMS_ATTEST_OK;
out:
    EVP_PKEY_free(att);
    sk_X509_free(inter);
    sk_X509_CRL_free(crls);
    sk_X509_pop_free(pck, X509_free);
    collateral_free(&col);
    return r;
}
