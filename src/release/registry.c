/* tkms app registry: app IDs, EIP-191 owner signatures (libsecp256k1 with its recovery module),
 * release statements in canonical JSON, the SQLite apps table and anti-entropy export/import. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "release_internal.h"
#include "tkms/wallet.h"
#include "proto.h"
#include "proto_bytes.h"
#include "prim.h"

/* ---- small helpers ---- */





int rel_b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen) {
    *out = NULL;
    *out_len = 0;
    return slen > 0 && tkms_b64_decode_alloc(out, out_len, s, slen, 0, 1);
}

void rel_ok(tkms_status *es) {
    if (es) memset(es, 0, sizeof *es);
}

tkms_class tkms_release_class(tkms_release_code c) {
    switch (c) {
    case TKMS_REL_OK: return TKMS_CLASS_OK;
    case TKMS_REL_STORAGE:
    case TKMS_REL_AUDIT_FAILED:
    case TKMS_REL_REGISTRY_FULL: return TKMS_CLASS_STORAGE;
    case TKMS_REL_INTERNAL: return TKMS_CLASS_INTERNAL;
    case TKMS_REL_NOT_READY: return TKMS_CLASS_PEER; /* the cluster has not certified this node's share */
    default: return TKMS_CLASS_INPUT;                 /* a refused request or statement */
    }
}

tkms_release_code rel_fail(tkms_status *es, tkms_release_code code, const char *fmt, ...) {
    if (es) {
        es->cls = tkms_release_class(code);
        es->code = (int)code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(es->msg, sizeof es->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *const CODE_NAMES[] = {
    "ok", "bad_request", "too_large", "unknown_app", "method_not_allowed", "attestation_refused",
    "binding_mismatch", "app_not_bound", "digest_not_allowed", "measurement_not_allowed", "deployment_not_allowed",
    "dev_mode_only", "rate_limited", "not_ready", "bad_statement", "bad_signature", "stale_statement",
    "owner_mismatch", "storage_error", "internal_error", "audit_unavailable", "registry_full", "owner_quota_exceeded"};
static const int CODE_HTTP[] = {200, 400, 413, 404, 403, 403, 403, 403, 403, 403, 403,
                                403, 429, 503, 400, 403, 409, 403, 500, 500, 503, 507, 403};
_Static_assert(sizeof CODE_NAMES / sizeof *CODE_NAMES == sizeof CODE_HTTP / sizeof *CODE_HTTP, "one status per code");
_Static_assert(sizeof CODE_HTTP / sizeof *CODE_HTTP == TKMS_REL_OWNER_QUOTA + 1, "every code has a name");

const char *tkms_release_code_name(tkms_release_code c) {
    if ((unsigned)c >= sizeof CODE_NAMES / sizeof *CODE_NAMES) return "internal_error";
    return CODE_NAMES[c];
}

int tkms_release_code_http(tkms_release_code c) {
    if ((unsigned)c >= sizeof CODE_HTTP / sizeof *CODE_HTTP) return 500;
    return CODE_HTTP[c];
}

/* ---- app IDs ---- */

#define APP_TAG TKMS_TAG_APP_ID

void tkms_app_id_derive(uint8_t app_id[TKMS_APP_ID_LEN], const uint8_t owner[20], const uint8_t salt[32]) {
    uint8_t buf[sizeof APP_TAG - 1 + 20 + 32], h[32];
    memcpy(buf, APP_TAG, sizeof APP_TAG - 1);
    memcpy(buf + sizeof APP_TAG - 1, owner, 20);
    memcpy(buf + sizeof APP_TAG - 1 + 20, salt, 32);
    tkms_keccak256(h, buf, sizeof buf);
    memcpy(app_id, h + 12, 20);
}

int tkms_app_id_parse(uint8_t app_id[TKMS_APP_ID_LEN], const char *s) { return tkms_proto_app_id_parse(app_id, s); }

void tkms_app_id_format(char out[TKMS_APP_ID_TEXT], const uint8_t app_id[TKMS_APP_ID_LEN]) {
    tkms_proto_app_id_format(out, app_id);
}

/* ---- secp256k1 / EIP-191 ---- */

static secp256k1_context *g_secp;
static pthread_once_t g_secp_once = PTHREAD_ONCE_INIT;

static void secp_init(void) {
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    if (c && RAND_bytes(seed, 32) == 1 && !secp256k1_context_randomize(c, seed)) {
        secp256k1_context_destroy(c);
        c = NULL;
    }
    OPENSSL_cleanse(seed, sizeof seed);
    g_secp = c;
}

static const secp256k1_context *secp(void) {
    pthread_once(&g_secp_once, secp_init);
    return g_secp;
}

static void address_of_pub(uint8_t addr[20], const secp256k1_context *c, const secp256k1_pubkey *pk) {
    uint8_t ser[65], h[32];
    size_t n = sizeof ser;
    secp256k1_ec_pubkey_serialize(c, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED);
    tkms_keccak256(h, ser + 1, 64);
    memcpy(addr, h + 12, 20);
}

int tkms_eth_address_of_key(uint8_t addr[20], const uint8_t sk[32]) {
    const secp256k1_context *c = secp();
    secp256k1_pubkey pk;
    if (!c || !secp256k1_ec_pubkey_create(c, &pk, sk)) return 0;
    address_of_pub(addr, c, &pk);
    return 1;
}

void tkms_eip191_hash(uint8_t out[32], const uint8_t *msg, size_t len) {
    static const char prefix[] = "\x19" "Ethereum Signed Message:\n";
    char dec[24];
    int dl = snprintf(dec, sizeof dec, "%zu", len);
    size_t total = sizeof prefix - 1 + (size_t)dl + len;
    uint8_t stackbuf[1024], *buf = total <= sizeof stackbuf ? stackbuf : malloc(total);
    if (!buf) { /* only reachable on OOM for huge messages: hash something no key signed */
        memset(out, 0, 32);
        return;
    }
    memcpy(buf, prefix, sizeof prefix - 1);
    memcpy(buf + sizeof prefix - 1, dec, (size_t)dl);
    if (len) memcpy(buf + sizeof prefix - 1 + (size_t)dl, msg, len);
    tkms_keccak256(out, buf, total);
    if (buf != stackbuf) free(buf);
}

int tkms_eip191_sign(uint8_t sig[65], const uint8_t sk[32], const uint8_t *msg, size_t len) {
    const secp256k1_context *c = secp();
    secp256k1_ecdsa_recoverable_signature rs;
    uint8_t h[32];
    int recid = 0;
    if (!c) return 0;
    tkms_eip191_hash(h, msg, len);
    if (!secp256k1_ecdsa_sign_recoverable(c, &rs, h, sk, NULL, NULL)) return 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(c, sig, &recid, &rs);
    sig[64] = (uint8_t)(27 + recid);
    return 1;
}

int tkms_eip191_recover(uint8_t addr[20], const uint8_t sig[65], const uint8_t *msg, size_t len) {
    const secp256k1_context *c = secp();
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_ecdsa_signature plain;
    secp256k1_pubkey pk;
    uint8_t h[32];
    if (!c || (sig[64] != 27 && sig[64] != 28)) return 0;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, sig, sig[64] - 27)) return 0;
    secp256k1_ecdsa_recoverable_signature_convert(c, &plain, &rs);
    /* normalize returns 1 when s was high: refuse the malleated twin of a valid signature. */
    if (secp256k1_ecdsa_signature_normalize(c, NULL, &plain)) return 0;
    tkms_eip191_hash(h, msg, len);
    if (!secp256k1_ecdsa_recover(c, &pk, &rs, h)) return 0;
    address_of_pub(addr, c, &pk);
    return 1;
}

/* ---- statements ---- */

static tkms_release_code bad(tkms_status *es, const char *fmt, const char *what) {
    return rel_fail(es, TKMS_REL_BAD_STATEMENT, fmt, what);
}

/* Checks that o is an object whose keys are all in allowed (NULL-terminated). */
static int only_keys(json_t *o, const char *const *allowed, const char **badkey) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++) ok |= strcmp(k, allowed[i]) == 0;
        if (!ok) {
            *badkey = k;
            return 0;
        }
        (void)v;
    }
    return 1;
}

static int hexlist(tkms_attest_allow *a, json_t *arr, size_t bytes) {
    memset(a, 0, sizeof *a);
    if (!arr) return 1;
    if (!json_is_array(arr) || json_array_size(arr) > TKMS_ATTEST_MAX_ALLOW) return 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || !tkms_unhex(a->v[i], bytes, json_string_value(v), json_string_length(v), 1)) return 0;
        for (size_t j = 0; j < i; j++)
            if (memcmp(a->v[j], a->v[i], bytes) == 0) return 0;
        a->n = i + 1;
    }
    return 1;
}

typedef int (*str_ok_fn)(const char *s, size_t n);

static int digest_ok(const char *s, size_t n) {
    uint8_t d[32];
    return n == 71 && strncmp(s, "sha256:", 7) == 0 && tkms_unhex(d, 32, s + 7, 64, 1);
}

/* GCP project IDs: lowercase letters, digits, hyphens; domain-scoped ones add '.' and ':'. */
static int project_ok(const char *s, size_t n) {
    if (n < 1 || n > 63) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == ':'))
            return 0;
    return 1;
}

/* Service accounts are e-mail addresses; a conservative ASCII set keeps the canonical form
 * identical in every JSON serialiser (no escapes). */
static int account_ok(const char *s, size_t n) {
    int at = 0;
    if (n < 3 || n > 159) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '@') at++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                   c == '_' || c == '+'))
            return 0;
    }
    return at == 1;
}

static int strlist(tkms_attest_strlist *l, json_t *arr, str_ok_fn ok) {
    memset(l, 0, sizeof *l);
    if (!arr) return 1;
    if (!json_is_array(arr) || json_array_size(arr) > TKMS_ATTEST_MAX_ALLOW) return 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v)) return 0;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n >= sizeof l->v[0] || strlen(s) != n || !ok(s, n)) return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->v[j], s) == 0) return 0;
        memcpy(l->v[i], s, n + 1);
        l->n = i + 1;
    }
    return 1;
}

tkms_release_code rel_statement_from_json(tkms_app_statement *st, char **canonical, tkms_status *es,
                                          json_t *o) {
    static const char *const top[] = {"app_id", "seq", "methods", "image_digests", "tdx", "snp", "deployments", NULL};
    static const char *const tdxk[] = {"mrtd", "rtmr0", "rtmr1", "rtmr2", NULL};
    static const char *const snpk[] = {"measurement", NULL};
    static const char *const depk[] = {"gcp_projects", "service_accounts", "tdx_mrconfigid", "snp_host_data", NULL};
    const char *bk = NULL;
    if (canonical) *canonical = NULL;
    memset(st, 0, sizeof *st);
    if (!json_is_object(o)) return bad(es, "%s", "statement is not a JSON object");
    if (!only_keys(o, top, &bk)) return bad(es, "unknown statement member '%s'", bk);
    json_t *app = json_object_get(o, "app_id"), *seq = json_object_get(o, "seq"), *ms = json_object_get(o, "methods");
    json_t *tdx = json_object_get(o, "tdx"), *snp = json_object_get(o, "snp"), *dep = json_object_get(o, "deployments");
    if (!json_is_string(app) || json_string_length(app) != 42 || strncmp(json_string_value(app), "0x", 2) != 0 ||
        !tkms_unhex(st->app_id, 20, json_string_value(app) + 2, 40, 1))
        return bad(es, "%s", "app_id must be 0x + 40 lowercase hex");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1 || json_integer_value(seq) > (json_int_t)((1LL << 53) - 1))
        return bad(es, "%s", "seq must be an integer in 1..2^53-1");
    st->seq = (uint64_t)json_integer_value(seq);
    if (!json_is_array(ms) || json_array_size(ms) == 0 || json_array_size(ms) > 4)
        return bad(es, "%s", "methods must be a non-empty list");
    for (size_t i = 0; i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i);
        const char *name = json_is_string(m) ? json_string_value(m) : "";
        uint32_t bit = strcmp(name, "gcp-cs") == 0 ? TKMS_APP_M_GCP_CS
                       : strcmp(name, "tdx") == 0 ? TKMS_APP_M_TDX
                       : strcmp(name, "sev-snp") == 0 ? TKMS_APP_M_SEV_SNP
                       : strcmp(name, "insecure-dev") == 0 ? TKMS_APP_M_INSECURE_DEV
                                                           : 0;
        if (!bit || (st->methods & bit)) return bad(es, "unknown or repeated method '%s'", name);
        st->methods |= bit;
    }
    if (!strlist(&st->image_digests, json_object_get(o, "image_digests"), digest_ok))
        return bad(es, "%s", "image_digests: list of distinct sha256:<64 lowercase hex>");
    if (tdx) {
        if (!json_is_object(tdx) || !only_keys(tdx, tdxk, &bk)) return bad(es, "%s", "tdx: only mrtd, rtmr0..2");
        if (!hexlist(&st->tdx_mrtd, json_object_get(tdx, "mrtd"), 48) ||
            !hexlist(&st->tdx_rtmr[0], json_object_get(tdx, "rtmr0"), 48) ||
            !hexlist(&st->tdx_rtmr[1], json_object_get(tdx, "rtmr1"), 48) ||
            !hexlist(&st->tdx_rtmr[2], json_object_get(tdx, "rtmr2"), 48))
            return bad(es, "%s", "tdx: lists of distinct 96-hex values");
    }
    if (snp) {
        if (!json_is_object(snp) || !only_keys(snp, snpk, &bk)) return bad(es, "%s", "snp: only measurement");
        if (!hexlist(&st->snp_measurement, json_object_get(snp, "measurement"), 48))
            return bad(es, "%s", "snp.measurement: list of distinct 96-hex values");
    }
    if (dep) {
        if (!json_is_object(dep) || !only_keys(dep, depk, &bk))
            return bad(es, "%s", "deployments: only gcp_projects, service_accounts, tdx_mrconfigid, snp_host_data");
        if (!strlist(&st->gcp_projects, json_object_get(dep, "gcp_projects"), project_ok))
            return bad(es, "%s", "deployments.gcp_projects: distinct GCP project IDs");
        if (!strlist(&st->service_accounts, json_object_get(dep, "service_accounts"), account_ok))
            return bad(es, "%s", "deployments.service_accounts: distinct e-mail addresses");
        if (!hexlist(&st->tdx_mrconfigid, json_object_get(dep, "tdx_mrconfigid"), 48))
            return bad(es, "%s", "deployments.tdx_mrconfigid: distinct 96-hex values");
        if (!hexlist(&st->snp_host_data, json_object_get(dep, "snp_host_data"), 32))
            return bad(es, "%s", "deployments.snp_host_data: distinct 64-hex values");
    }
    /* A policy must bind code and, for Confidential Space, who launched it: TKMS_APP_ID is chosen
     * by the launcher, so without a project or service account anyone running the same public
     * image could name this app (docs/registry.md, "Binding"). */
    if ((st->methods & TKMS_APP_M_GCP_CS) && st->image_digests.n == 0)
        return bad(es, "%s", "gcp-cs needs image_digests");
    if ((st->methods & TKMS_APP_M_GCP_CS) && st->gcp_projects.n == 0 && st->service_accounts.n == 0)
        return bad(es, "%s", "gcp-cs needs deployments.gcp_projects or deployments.service_accounts");
    if ((st->methods & TKMS_APP_M_TDX) && st->tdx_mrtd.n == 0) return bad(es, "%s", "tdx needs tdx.mrtd");
    if ((st->methods & TKMS_APP_M_SEV_SNP) && st->snp_measurement.n == 0)
        return bad(es, "%s", "sev-snp needs snp.measurement");
    for (size_t i = 0; i < st->tdx_mrconfigid.n; i++)
        if (memcmp(st->tdx_mrconfigid.v[i], st->app_id, 20) != 0)
            return bad(es, "%s", "deployments.tdx_mrconfigid entries must start with the app ID");
    for (size_t i = 0; i < st->snp_host_data.n; i++)
        if (memcmp(st->snp_host_data.v[i], st->app_id, 20) != 0)
            return bad(es, "%s", "deployments.snp_host_data entries must start with the app ID");
    if (canonical) {
        *canonical = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (!*canonical) return rel_fail(es, TKMS_REL_INTERNAL, "out of memory");
    }
    return TKMS_REL_OK;
}

tkms_release_code tkms_app_statement_parse(tkms_app_statement *st, char **canonical, tkms_status *es,
                                           const char *json, size_t len) {
    rel_ok(es);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        if (canonical) *canonical = NULL;
        return rel_fail(es, TKMS_REL_BAD_STATEMENT, "statement is not JSON: %s", je.text);
    }
    tkms_release_code c = rel_statement_from_json(st, canonical, es, o);
    json_decref(o);
    return c;
}

void tkms_app_signed_free(tkms_app_signed *s) {
    if (!s) return;
    free(s->canonical);
    s->canonical = NULL;
}

static tkms_release_code signed_from_json(tkms_app_signed *out, tkms_status *es, json_t *o) {
    static const char *const keys[] = {"salt", "signature", "statement", NULL};
    const char *bk = NULL;
    memset(out, 0, sizeof *out);
    if (!json_is_object(o) || !only_keys(o, keys, &bk) || json_object_size(o) != 3)
        return rel_fail(es, TKMS_REL_BAD_REQUEST, "a signed statement is {\"salt\",\"signature\",\"statement\"}");
    json_t *salt = json_object_get(o, "salt"), *sig = json_object_get(o, "signature");
    if (!json_is_string(salt) || !tkms_unhex(out->salt, 32, json_string_value(salt), json_string_length(salt), 1))
        return rel_fail(es, TKMS_REL_BAD_REQUEST, "salt must be 64 lowercase hex");
    if (!json_is_string(sig) || !tkms_unhex(out->signature, 65, json_string_value(sig), json_string_length(sig), 1))
        return rel_fail(es, TKMS_REL_BAD_REQUEST, "signature must be 130 lowercase hex (r || s || v)");
    tkms_release_code c = rel_statement_from_json(&out->st, &out->canonical, es, json_object_get(o, "statement"));
    if (c != TKMS_REL_OK) return c;
    uint8_t want[20];
    if (!tkms_eip191_recover(out->owner, out->signature, (const uint8_t *)out->canonical, strlen(out->canonical))) {
        tkms_app_signed_free(out);
        return rel_fail(es, TKMS_REL_BAD_SIGNATURE, "owner signature does not parse or recover (v 27/28, low s)");
    }
    tkms_app_id_derive(want, out->owner, out->salt);
    if (memcmp(want, out->st.app_id, 20) != 0) {
        tkms_app_signed_free(out);
        return rel_fail(es, TKMS_REL_BAD_SIGNATURE, "signer is not the app's owner (app ID != H(signer, salt))");
    }
    return TKMS_REL_OK;
}

tkms_release_code tkms_app_signed_parse(tkms_app_signed *out, tkms_status *es, const char *json, size_t len) {
    rel_ok(es);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        memset(out, 0, sizeof *out);
        return rel_fail(es, TKMS_REL_BAD_REQUEST, "not JSON: %s", je.text);
    }
    tkms_release_code c = signed_from_json(out, es, o);
    json_decref(o);
    return c;
}

static char *signed_json_parts(const uint8_t salt[32], const uint8_t sig[65], const char *canonical) {
    char sh[65], gh[131];
    tkms_hex(sh, salt, 32);
    tkms_hex(gh, sig, 65);
    size_t n = strlen(canonical) + 64 + 130 + 64;
    char *o = malloc(n);
    if (o) snprintf(o, n, "{\"salt\":\"%s\",\"signature\":\"%s\",\"statement\":%s}", sh, gh, canonical);
    return o;
}

char *tkms_app_signed_json(const tkms_app_signed *s) { return signed_json_parts(s->salt, s->signature, s->canonical); }

tkms_release_code tkms_app_sign_statement(char **out_json, tkms_status *es, const char *stmt_json, size_t len,
                                          const uint8_t owner_sk[32], const uint8_t salt[32]) {
    rel_ok(es);
    tkms_app_statement st;
    char *can = NULL;
    uint8_t owner[20], id[20], sig[65];
    *out_json = NULL;
    tkms_release_code c = tkms_app_statement_parse(&st, &can, es, stmt_json, len);
    if (c != TKMS_REL_OK) return c;
    if (!can) return rel_fail(es, TKMS_REL_INTERNAL, "out of memory"); /* parse sets it with OK */
    if (!tkms_eth_address_of_key(owner, owner_sk)) {
        free(can);
        return rel_fail(es, TKMS_REL_BAD_REQUEST, "owner key is not a valid secp256k1 private key");
    }
    tkms_app_id_derive(id, owner, salt);
    if (memcmp(id, st.app_id, 20) != 0) {
        free(can);
        return rel_fail(es, TKMS_REL_BAD_SIGNATURE, "the statement's app_id is not H(owner, salt) for this key and salt");
    }
    if (!tkms_eip191_sign(sig, owner_sk, (const uint8_t *)can, strlen(can))) {
        free(can);
        return rel_fail(es, TKMS_REL_INTERNAL, "signing failed");
    }
    *out_json = signed_json_parts(salt, sig, can);
    free(can);
    return *out_json ? TKMS_REL_OK : rel_fail(es, TKMS_REL_INTERNAL, "out of memory");
}

/* ---- SQLite ---- */

#define APPS_SCHEMA                                                                                     \
    "CREATE TABLE IF NOT EXISTS apps(app_id BLOB PRIMARY KEY CHECK (length(app_id) = 20),"          \
    " owner BLOB NOT NULL, salt BLOB NOT NULL, seq INTEGER NOT NULL, statement TEXT NOT NULL,"        \
    " signature BLOB NOT NULL, updated INTEGER NOT NULL)"

int tkms_registry_init(sqlite3 *db, tkms_status *es) {
    rel_ok(es);
    sqlite3_stmt *q = NULL;
    int cols = 0, have_salt = 0, have_sig = 0, have_upd = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA table_info(apps)", -1, &q, NULL) != SQLITE_OK) goto dberr;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 1);
        cols++;
        if (name && strcmp(name, "salt") == 0) have_salt = 1;
        if (name && strcmp(name, "signature") == 0) have_sig = 1;
        if (name && strcmp(name, "updated") == 0) have_upd = 1;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (cols && !(have_salt && have_sig && have_upd)) {
        /* A placeholder table of another shape (e.g. from an older node store): replace it only
         * while it is empty, never drop registered apps. */
        int64_t rows = -1;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM apps", -1, &q, NULL) != SQLITE_OK) goto dberr;
        if (sqlite3_step(q) == SQLITE_ROW) rows = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        q = NULL;
        if (rows != 0) {
            rel_fail(es, TKMS_REL_STORAGE, "table apps has another schema and holds rows; migrate it first");
            return 0;
        }
        if (sqlite3_exec(db, "DROP TABLE apps", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    }
    if (sqlite3_exec(db, APPS_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    /* per-owner quota (registry_max_apps_per_owner) counts by owner */
    if (sqlite3_exec(db, "CREATE INDEX IF NOT EXISTS apps_owner ON apps(owner)", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    return 1;
dberr:
    sqlite3_finalize(q);
    rel_fail(es, TKMS_REL_STORAGE, "registry schema: %s", sqlite3_errmsg(db));
    return 0;
}

/* Stored seq, owner and salt of app_id: 1, 0 if unknown, -1 on a storage error. */
static int row_of(sqlite3 *db, const uint8_t app_id[20], uint64_t *seq, uint8_t owner[20], uint8_t salt[32]) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT seq, owner, salt FROM apps WHERE app_id = ?1", -1, &q, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_blob(q, 1, app_id, 20, SQLITE_STATIC);
    int rc = sqlite3_step(q), r = -1;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 1) == 20 && sqlite3_column_bytes(q, 2) == 32) {
        *seq = (uint64_t)sqlite3_column_int64(q, 0);
        memcpy(owner, sqlite3_column_blob(q, 1), 20);
        memcpy(salt, sqlite3_column_blob(q, 2), 32);
        r = 1;
    } else if (rc == SQLITE_DONE) {
        r = 0;
    }
    sqlite3_finalize(q);
    return r;
}

static int64_t count_where(sqlite3 *db, const char *sql, const uint8_t *blob, int blen) {
    sqlite3_stmt *q = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
    if (blob) sqlite3_bind_blob(q, 1, blob, blen, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

int64_t tkms_registry_count(sqlite3 *db) { return count_where(db, "SELECT count(*) FROM apps", NULL, 0); }

tkms_release_code rel_registry_put(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms, const tkms_registry_limits *lim,
                                   int64_t *n_apps, tkms_status *es) {
    char oh[41];
    uint8_t cur_owner[20], cur_salt[32];
    uint64_t cur = 0;
    sqlite3_stmt *q = NULL;
    tkms_release_code code = TKMS_REL_OK;
    /* check and write in one IMMEDIATE transaction (unless the caller runs one): the limits and
     * the seq rule hold against concurrent writers */
    int own_tx = sqlite3_get_autocommit(db);
    if (own_tx && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    int have = row_of(db, s->st.app_id, &cur, cur_owner, cur_salt);
    if (have < 0) goto dberr;
    if (have) {
        if (cur >= s->st.seq) {
            code = rel_fail(es, TKMS_REL_STALE_STATEMENT, "seq %llu is not higher than the stored %llu",
                            (unsigned long long)s->st.seq, (unsigned long long)cur);
            goto out;
        }
        if (memcmp(cur_owner, s->owner, 20) || memcmp(cur_salt, s->salt, 32)) {
            code = rel_fail(es, TKMS_REL_OWNER_MISMATCH, "the stored app has another owner or salt");
            goto out;
        }
        if (sqlite3_prepare_v2(db,
                               "UPDATE apps SET seq = ?2, statement = ?3, signature = ?4, updated = ?5"
                               " WHERE app_id = ?1 AND seq < ?2",
                               -1, &q, NULL) != SQLITE_OK)
            goto dberr;
        sqlite3_bind_blob(q, 1, s->st.app_id, 20, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)s->st.seq);
        sqlite3_bind_text(q, 3, s->canonical, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 4, s->signature, 65, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, now_ms);
    } else {
        /* a new app: the registry's bounds (docs/security.md, "App registry limits") */
        if (lim && lim->max_apps) {
            int64_t n = n_apps && *n_apps >= 0 ? *n_apps : tkms_registry_count(db);
            if (n < 0) goto dberr;
            if (n_apps) *n_apps = n;
            if ((uint64_t)n >= lim->max_apps) {
                code = rel_fail(es, TKMS_REL_REGISTRY_FULL,
                                "the registry holds %lld apps, its limit (registry_max_apps); updates of registered "
                                "apps are still accepted",
                                (long long)n);
                goto out;
            }
        }
        if (lim && lim->max_per_owner) {
            int64_t k = count_where(db, "SELECT count(*) FROM apps WHERE owner = ?1", s->owner, 20);
            if (k < 0) goto dberr;
            if ((uint64_t)k >= lim->max_per_owner) {
                tkms_hex(oh, s->owner, 20);
                code = rel_fail(es, TKMS_REL_OWNER_QUOTA,
                                "owner 0x%s has %lld apps on this node, its limit (registry_max_apps_per_owner)", oh,
                                (long long)k);
                goto out;
            }
        }
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO apps(app_id, owner, salt, seq, statement, signature, updated)"
                               " VALUES(?1,?2,?3,?4,?5,?6,?7)",
                               -1, &q, NULL) != SQLITE_OK)
            goto dberr;
        sqlite3_bind_blob(q, 1, s->st.app_id, 20, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, s->owner, 20, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, s->salt, 32, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)s->st.seq);
        sqlite3_bind_text(q, 5, s->canonical, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 6, s->signature, 65, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, now_ms);
    }
    if (sqlite3_step(q) != SQLITE_DONE || sqlite3_changes(db) != 1) goto dberr;
    sqlite3_finalize(q);
    q = NULL;
    if (own_tx && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto dberr;
    if (!have && n_apps && *n_apps >= 0) (*n_apps)++;
    return TKMS_REL_OK;
out:
    if (own_tx) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return code;
dberr:
    rel_fail(es, TKMS_REL_STORAGE, "registry write: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    if (own_tx && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (n_apps) *n_apps = -1; /* recount next time */
    return TKMS_REL_STORAGE;
}

tkms_release_code tkms_registry_put(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms, tkms_status *es) {
    rel_ok(es);
    return rel_registry_put(db, s, now_ms, NULL, NULL, es);
}

tkms_release_code tkms_registry_put_limited(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms,
                                           const tkms_registry_limits *lim, tkms_status *es) {
    rel_ok(es);
    return rel_registry_put(db, s, now_ms, lim, NULL, es);
}

int tkms_registry_seq(sqlite3 *db, uint64_t *seq, const uint8_t app_id[TKMS_APP_ID_LEN]) {
    sqlite3_stmt *q = NULL;
    int r = -1;
    if (sqlite3_prepare_v2(db, "SELECT seq FROM apps WHERE app_id = ?1", -1, &q, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_blob(q, 1, app_id, 20, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(q, 0);
        r = 1;
    } else if (rc == SQLITE_DONE) {
        r = 0;
    }
    sqlite3_finalize(q);
    return r;
}

/* Rebuilds the signed JSON of a row (no re-verification). */
static char *row_signed_json(sqlite3_stmt *q, int salt_col, int sig_col, int stmt_col) {
    const void *salt = sqlite3_column_blob(q, salt_col), *sig = sqlite3_column_blob(q, sig_col);
    const char *st = (const char *)sqlite3_column_text(q, stmt_col);
    if (!salt || !sig || !st || sqlite3_column_bytes(q, salt_col) != 32 || sqlite3_column_bytes(q, sig_col) != 65)
        return NULL;
    return signed_json_parts(salt, sig, st);
}

tkms_release_code tkms_registry_get(sqlite3 *db, tkms_app_signed *out, const uint8_t app_id[TKMS_APP_ID_LEN]) {
    sqlite3_stmt *q = NULL;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(db, "SELECT salt, signature, statement FROM apps WHERE app_id = ?1", -1, &q, NULL) != SQLITE_OK)
        return TKMS_REL_STORAGE;
    sqlite3_bind_blob(q, 1, app_id, 20, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(q);
        return rc == SQLITE_DONE ? TKMS_REL_UNKNOWN_APP : TKMS_REL_STORAGE;
    }
    char *js = row_signed_json(q, 0, 1, 2);
    sqlite3_finalize(q);
    if (!js) return TKMS_REL_BAD_SIGNATURE;
    /* Re-authenticate: a row edited behind the node's back must not become policy. */
    tkms_release_code c = tkms_app_signed_parse(out, NULL, js, strlen(js));
    free(js);
    if (c != TKMS_REL_OK) return TKMS_REL_BAD_SIGNATURE;
    if (memcmp(out->st.app_id, app_id, 20) != 0) {
        tkms_app_signed_free(out);
        return TKMS_REL_BAD_SIGNATURE;
    }
    return TKMS_REL_OK;
}

char *tkms_registry_summary(sqlite3 *db) {
    sqlite3_stmt *q = NULL;
    json_t *apps = json_object(), *o = json_object();
    char *out = NULL;
    if (!apps || !o || sqlite3_prepare_v2(db, "SELECT app_id, seq FROM apps", -1, &q, NULL) != SQLITE_OK) goto done;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        char id[TKMS_APP_ID_TEXT];
        if (sqlite3_column_bytes(q, 0) != 20) continue;
        tkms_app_id_format(id, sqlite3_column_blob(q, 0));
        json_object_set_new(apps, id, json_integer(sqlite3_column_int64(q, 1)));
    }
    if (rc != SQLITE_DONE) goto done;
    json_object_set(o, "apps", apps);
    out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
done:
    sqlite3_finalize(q);
    json_decref(apps);
    json_decref(o);
    return out;
}

/* ---- anti-entropy, paged (docs/release-protocol.md §5) ---- */

void rel_bucket_range(uint8_t lo[20], uint8_t hi[20], unsigned bucket) {
    memset(lo, 0, 20);
    memset(hi, 0xff, 20);
    lo[0] = hi[0] = (uint8_t)bucket;
}

int rel_bucket_digest(sqlite3 *db, unsigned bucket, uint8_t out[32]) {
    static const char tag[] = TKMS_TAG_APPS_BUCKET;
    uint8_t lo[20], hi[20];
    rel_bucket_range(lo, hi, bucket);
    sqlite3_stmt *q = NULL;
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) && EVP_DigestUpdate(h, tag, sizeof tag - 1) &&
             sqlite3_prepare_v2(db, "SELECT app_id, seq FROM apps WHERE app_id >= ?1 AND app_id <= ?2 ORDER BY app_id", -1,
                                &q, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_blob(q, 1, lo, 20, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, hi, 20, SQLITE_STATIC);
        int rc;
        while (ok && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            uint8_t e[28];
            uint64_t seq = (uint64_t)sqlite3_column_int64(q, 1);
            if (sqlite3_column_bytes(q, 0) != 20) continue;
            memcpy(e, sqlite3_column_blob(q, 0), 20);
            proto_be64(e + 20, seq);
            ok = EVP_DigestUpdate(h, e, sizeof e);
        }
        ok = ok && rc == SQLITE_DONE;
    }
    unsigned int n = 32;
    ok = ok && EVP_DigestFinal_ex(h, out, &n);
    sqlite3_finalize(q);
    EVP_MD_CTX_free(h);
    return ok;
}

json_t *rel_page(sqlite3 *db, const uint8_t lo[20], const uint8_t hi_limit[20], size_t max, uint8_t hi_out[20]) {
    sqlite3_stmt *q = NULL;
    json_t *apps = json_object();
    size_t n = 0;
    memcpy(hi_out, hi_limit, 20);
    if (!apps || sqlite3_prepare_v2(db, "SELECT app_id, seq FROM apps WHERE app_id >= ?1 AND app_id <= ?2 ORDER BY app_id"
                                        " LIMIT ?3", -1, &q, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(q, 1, lo, 20, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, hi_limit, 20, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)max + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(q, 0) != 20) continue;
        if (n == max) break; /* a row past the page: the page ends at the previous one */
        char id[TKMS_APP_ID_TEXT];
        memcpy(hi_out, sqlite3_column_blob(q, 0), 20);
        tkms_app_id_format(id, hi_out);
        if (json_object_set_new(apps, id, json_integer(sqlite3_column_int64(q, 1)))) goto fail;
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
    if (rc == SQLITE_DONE) memcpy(hi_out, hi_limit, 20); /* everything up to hi_limit fits */
    sqlite3_finalize(q);
    return apps;
fail:
    sqlite3_finalize(q);
    json_decref(apps);
    return NULL;
}

typedef struct {
    uint8_t id[20];
    int64_t seq;
} sum_entry;

static int sum_cmp(const void *a, const void *b) { return memcmp(((const sum_entry *)a)->id, ((const sum_entry *)b)->id, 20); }

/* The peer's summary as a sorted array; NULL (and *bad set) if an entry is not "0x…": seq >= 0 or
 * lies outside [lo, hi]. */
static sum_entry *summary_entries(json_t *papps, const uint8_t lo[20], const uint8_t hi[20], size_t *n, int *bad) {
    size_t cap = json_object_size(papps), k = 0;
    sum_entry *e = malloc((cap ? cap : 1) * sizeof *e);
    const char *key;
    json_t *v;
    *bad = 0;
    if (!e) return NULL;
    json_object_foreach(papps, key, v) {
        if (!tkms_app_id_parse(e[k].id, key) || !json_is_integer(v) || json_integer_value(v) < 0 ||
            memcmp(e[k].id, lo, 20) < 0 || memcmp(e[k].id, hi, 20) > 0) {
            *bad = 1;
            free(e);
            return NULL;
        }
        e[k].seq = json_integer_value(v);
        k++;
    }
    qsort(e, k, sizeof *e, sum_cmp);
    *n = k;
    return e;
}

/* Appends the row's signed statement to arr unless the answer is full; 0 once it is. */
static int add_row(json_t *arr, size_t *bytes, sqlite3_stmt *q, int salt_col, size_t max, size_t max_bytes) {
    if (json_array_size(arr) >= max || (json_array_size(arr) && *bytes >= max_bytes)) return 0;
    char *js = row_signed_json(q, salt_col, salt_col + 1, salt_col + 2);
    json_error_t je;
    json_t *v = js ? json_loads(js, 0, &je) : NULL;
    if (v) {
        *bytes += strlen(js);
        json_array_append_new(arr, v);
    }
    free(js);
    return 1;
}

char *rel_pull_answer(sqlite3 *db, const uint8_t lo[20], const uint8_t hi[20], json_t *papps, int known_only, size_t max,
                      size_t max_bytes) {
    size_t n = 0, bytes = 0;
    int bad = 0, more = 0;
    sum_entry *e = summary_entries(papps, lo, hi, &n, &bad);
    json_t *arr = json_array(), *o = NULL;
    sqlite3_stmt *q = NULL;
    char *out = NULL;
    if (!e || !arr) goto done;
    /* 1. newer statements of apps the peer has: a revocation never waits behind new apps */
    if (sqlite3_prepare_v2(db, "SELECT seq, salt, signature, statement FROM apps WHERE app_id = ?1", -1, &q, NULL) != SQLITE_OK)
        goto done;
    for (size_t i = 0; i < n && !more; i++) {
        sqlite3_reset(q);
        sqlite3_bind_blob(q, 1, e[i].id, 20, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && sqlite3_column_int64(q, 0) > e[i].seq) more = !add_row(arr, &bytes, q, 1, max, max_bytes);
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto done;
    }
    sqlite3_finalize(q);
    q = NULL;
    /* 2. apps the peer lacks, in app ID order (not when the peer's registry is full) */
    if (!known_only && !more) {
        if (sqlite3_prepare_v2(db,
                               "SELECT app_id, salt, signature, statement FROM apps WHERE app_id >= ?1 AND app_id <= ?2"
                               " ORDER BY app_id",
                               -1, &q, NULL) != SQLITE_OK)
            goto done;
        sqlite3_bind_blob(q, 1, lo, 20, SQLITE_STATIC);
        sqlite3_bind_blob(q, 2, hi, 20, SQLITE_STATIC);
        int rc;
        while (!more && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (sqlite3_column_bytes(q, 0) != 20) continue;
            sum_entry key;
            memcpy(key.id, sqlite3_column_blob(q, 0), 20);
            if (n && bsearch(&key, e, n, sizeof *e, sum_cmp)) continue;
            more = !add_row(arr, &bytes, q, 1, max, max_bytes);
        }
        if (!more && rc != SQLITE_DONE) goto done;
    }
    o = json_pack("{s:O, s:b}", "statements", arr, "more", more);
    /* the statements are embedded by json_loads + dump with sorted keys: canonical already */
    out = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
done:
    sqlite3_finalize(q);
    free(e);
    json_decref(arr);
    json_decref(o);
    return out;
}

/* Legacy whole-registry export (a summary without "lo"/"hi" covers every app ID). */
char *tkms_registry_export(sqlite3 *db, const char *peer_summary, size_t len, size_t max) {
    json_error_t je;
    json_t *peer = json_loadb(peer_summary, len, JSON_REJECT_DUPLICATES, &je);
    json_t *papps = peer ? json_object_get(peer, "apps") : NULL;
    char *out = NULL;
    uint8_t lo[20], hi[20];
    memset(lo, 0, 20);
    memset(hi, 0xff, 20);
    if (json_is_object(papps)) out = rel_pull_answer(db, lo, hi, papps, 0, max, TKMS_SYNC_ANSWER_BYTES);
    json_decref(peer);
    return out;
}

tkms_release_code rel_signed_from_json(tkms_app_signed *out, json_t *o) { return signed_from_json(out, NULL, o); }

int rel_statement_key(json_t *signed_stmt, uint8_t app_id[20], uint64_t *seq) {
    json_t *st = json_object_get(signed_stmt, "statement");
    json_t *app = json_object_get(st, "app_id"), *sq = json_object_get(st, "seq");
    if (!json_is_string(app) || !tkms_app_id_parse(app_id, json_string_value(app)) || !json_is_integer(sq) ||
        json_integer_value(sq) < 1)
        return 0;
    *seq = (uint64_t)json_integer_value(sq);
    return 1;
}

tkms_release_code tkms_registry_import(sqlite3 *db, size_t *stored, size_t *stale, size_t *refused, const char *batch,
                                       size_t len, int64_t now_ms) {
    json_error_t je;
    *stored = *stale = *refused = 0;
    json_t *o = json_loadb(batch, len, JSON_REJECT_DUPLICATES, &je);
    json_t *arr = o ? json_object_get(o, "statements") : NULL, *more = o ? json_object_get(o, "more") : NULL;
    if (!json_is_object(o) || json_object_size(o) != 1u + (more != NULL) || !json_is_array(arr) ||
        json_array_size(arr) > TKMS_SYNC_MAX_BATCH || (more && !json_is_boolean(more))) {
        json_decref(o);
        return TKMS_REL_BAD_REQUEST;
    }
    tkms_release_code res = TKMS_REL_OK;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        /* a statement not newer than ours is stale whatever it is: no signature check needed */
        uint8_t id[20];
        uint64_t seq = 0, cur = 0;
        json_t *v = json_array_get(arr, i);
        if (rel_statement_key(v, id, &seq) && tkms_registry_seq(db, &cur, id) == 1 && cur >= seq) {
            (*stale)++;
            continue;
        }
        tkms_app_signed s;
        if (signed_from_json(&s, NULL, v) != TKMS_REL_OK) {
            (*refused)++;
            continue;
        }
        tkms_release_code c = tkms_registry_put(db, &s, now_ms, NULL);
        tkms_app_signed_free(&s);
        if (c == TKMS_REL_OK) (*stored)++;
        else if (c == TKMS_REL_STALE_STATEMENT) (*stale)++;
        else if (c == TKMS_REL_STORAGE) {
            res = c;
            break;
        } else (*refused)++;
    }
    json_decref(o);
    return res;
}
