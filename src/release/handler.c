/* tkms release handlers (docs/release-protocol.md §1-3): POST /v1/keys/app, /v1/sign/app and
 * /v1/apps without HTTP. Evidence, then registry policy, then the share; every request audited. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "appkey.h"
#include "fr.h"
#include "g1.h"
#include "hpke.h"
#include "identity.h"
#include "release_internal.h"
#include "tbls.h"
#include "proto.h"

#define HPKE_INFO TKMS_INFO_PARTIAL_KEY
#define SIGN_RESP_TAG TKMS_TAG_SIGN_RESPONSE
#define SIGN_NONCE_TAG TKMS_TAG_SIGN_APP

/* ---- token buckets ---- */

#define RL_SLOTS 4096
#define RL_PROBE 8

typedef struct {
    uint64_t key;   /* 0 = empty */
    double tokens;
    int64_t last_ms;
} rl_slot;

typedef struct {
    pthread_mutex_t mu;
    double rate, burst;
    uint64_t seed;
    rl_slot slot[RL_SLOTS];
} rl_table;

static uint64_t rl_hash(uint64_t seed, const char *s) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return h ? h : 1;
}

/* Takes one token for key; 1 if allowed. When the probe window is full the least recently used
 * bucket is recycled (docs/registry.md explains the trade-off). */
static int rl_take(rl_table *t, const char *key, int64_t now_ms) {
    uint64_t h = rl_hash(t->seed, key);
    pthread_mutex_lock(&t->mu);
    rl_slot *hit = NULL, *victim = NULL;
    for (size_t i = 0; i < RL_PROBE; i++) {
        rl_slot *s = &t->slot[(h + i) % RL_SLOTS];
        if (s->key == h) {
            hit = s;
            break;
        }
        if (!victim || s->key == 0 || (victim->key != 0 && s->last_ms < victim->last_ms)) victim = s;
    }
    if (!hit) {
        hit = victim;
        hit->key = h;
        hit->tokens = t->burst;
        hit->last_ms = now_ms;
    }
    if (now_ms > hit->last_ms) {
        hit->tokens += (double)(now_ms - hit->last_ms) * t->rate / 1000.0;
        if (hit->tokens > t->burst) hit->tokens = t->burst;
        hit->last_ms = now_ms;
    }
    int ok = hit->tokens >= 1.0;
    if (ok) hit->tokens -= 1.0;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* ---- Q_A / statement cache ---- */

typedef struct {
    int used;
    uint8_t app_id[20];
    uint64_t seq, last_use;
    g1_t q;
    tkms_app_statement st;
} qa_entry;

/* ---- context ---- */

typedef struct {
    fr_t share;
    uint8_t ed_sk[32];
} secrets_t;

struct tkms_release_ctx {
    sqlite3 *db;
    pthread_mutex_t db_mu;
    tkms_attest_policy policy;
    tkms_attest_replay *replay;
    int own_replay;
    tkms_release_audit_fn audit;
    void *audit_arg;
    rl_table *app_rl, *src_rl;
    /* epoch state: read-locked by handlers, write-locked by set/clear */
    pthread_rwlock_t ep_mu;
    secrets_t *sec; /* locked, non-dumpable page */
    int ready, dev_mode;
    uint64_t epoch;
    uint32_t index;
    /* gcp-cs JWKS */
    pthread_rwlock_t jwks_mu;
    char *jwks;
    size_t jwks_len;
    /* cache */
    pthread_mutex_t qa_mu;
    qa_entry *qa;
    size_t qa_n;
    uint64_t qa_clock;
    /* registry bounds and anti-entropy caches, under db_mu; reset when another connection writes */
    tkms_registry_limits lim;
    int64_t n_apps; /* -1: count at the next new app */
    uint8_t dig[TKMS_SYNC_BUCKETS][32];
    uint8_t dig_ok[TKMS_SYNC_BUCKETS];
    int64_t data_version;
};

static secrets_t *secrets_alloc(void) {
    void *p = NULL;
    if (posix_memalign(&p, 4096, 4096) != 0) return NULL;
    memset(p, 0, 4096);
    (void)mlock(p, 4096); /* best effort: RLIMIT_MEMLOCK may be 0 in containers */
#ifdef MADV_DONTDUMP
    (void)madvise(p, 4096, MADV_DONTDUMP);
#endif
    return p;
}

static void secrets_free(secrets_t *s) {
    if (!s) return;
    OPENSSL_cleanse(s, 4096);
    munlock(s, 4096);
    free(s);
}

tkms_release_ctx *tkms_release_new(const tkms_release_config *cfg) {
    if (!cfg || !cfg->db) return NULL;
    tkms_release_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->db = cfg->db;
    pthread_mutex_init(&c->db_mu, NULL);
    pthread_rwlock_init(&c->ep_mu, NULL);
    pthread_rwlock_init(&c->jwks_mu, NULL);
    pthread_mutex_init(&c->qa_mu, NULL);
    if (cfg->platform_policy) c->policy = *cfg->platform_policy;
    else tkms_attest_policy_default(&c->policy);
    c->replay = cfg->replay;
    if (!c->replay) {
        c->replay = tkms_attest_replay_new(65536);
        c->own_replay = 1;
    }
    c->audit = cfg->audit;
    c->audit_arg = cfg->audit_arg;
    c->app_rl = calloc(1, sizeof *c->app_rl);
    c->src_rl = calloc(1, sizeof *c->src_rl);
    c->qa_n = cfg->qa_cache ? cfg->qa_cache : 256;
    c->qa = calloc(c->qa_n, sizeof *c->qa);
    c->sec = secrets_alloc();
    if (!c->replay || !c->app_rl || !c->src_rl || !c->qa || !c->sec) {
        tkms_release_free(c);
        return NULL;
    }
    uint64_t seeds[2];
    if (RAND_bytes((uint8_t *)seeds, sizeof seeds) != 1) {
        tkms_release_free(c);
        return NULL;
    }
    pthread_mutex_init(&c->app_rl->mu, NULL);
    pthread_mutex_init(&c->src_rl->mu, NULL);
    c->app_rl->seed = seeds[0];
    c->src_rl->seed = seeds[1];
    c->app_rl->rate = cfg->app_rate > 0 ? cfg->app_rate : 50;
    c->app_rl->burst = cfg->app_burst > 0 ? cfg->app_burst : 100;
    c->src_rl->rate = cfg->source_rate > 0 ? cfg->source_rate : 20;
    c->src_rl->burst = cfg->source_burst > 0 ? cfg->source_burst : 40;
    c->lim.max_apps = cfg->max_apps ? cfg->max_apps : 100000;
    c->lim.max_per_owner = cfg->max_apps_per_owner ? cfg->max_apps_per_owner : 1000;
    c->n_apps = -1;
    c->data_version = -1;
    memcpy(c->sec->ed_sk, cfg->ed25519_sk, 32);
    return c;
}

void tkms_release_free(tkms_release_ctx *c) {
    if (!c) return;
    secrets_free(c->sec);
    if (c->own_replay) tkms_attest_replay_free(c->replay);
    free(c->app_rl);
    free(c->src_rl);
    free(c->qa);
    free(c->jwks);
    pthread_mutex_destroy(&c->db_mu);
    pthread_rwlock_destroy(&c->ep_mu);
    pthread_rwlock_destroy(&c->jwks_mu);
    pthread_mutex_destroy(&c->qa_mu);
    free(c);
}

int tkms_release_set_epoch(tkms_release_ctx *c, uint64_t epoch, uint32_t index, const uint8_t share[32], int dev_mode) {
    fr_t s;
    if (index == 0 || !fr_from_bytes(&s, share) || fr_is_zero(&s)) {
        OPENSSL_cleanse(&s, sizeof s);
        return 0;
    }
    pthread_rwlock_wrlock(&c->ep_mu);
    c->sec->share = s;
    c->epoch = epoch;
    c->index = index;
    c->dev_mode = dev_mode ? 1 : 0;
    c->ready = 1;
    pthread_rwlock_unlock(&c->ep_mu);
    OPENSSL_cleanse(&s, sizeof s);
    return 1;
}

void tkms_release_clear_epoch(tkms_release_ctx *c) {
    pthread_rwlock_wrlock(&c->ep_mu);
    OPENSSL_cleanse(&c->sec->share, sizeof c->sec->share);
    c->ready = 0;
    pthread_rwlock_unlock(&c->ep_mu);
}

int tkms_release_set_jwks(tkms_release_ctx *c, const char *jwks, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return 0;
    memcpy(copy, jwks, len);
    copy[len] = 0;
    pthread_rwlock_wrlock(&c->jwks_mu);
    free(c->jwks);
    c->jwks = copy;
    c->jwks_len = len;
    pthread_rwlock_unlock(&c->jwks_mu);
    return 1;
}

/* ---- responses ---- */

typedef struct {
    const char *endpoint, *source;
    char app_id[TKMS_APP_ID_TEXT + 8];
    char method[16];
    char digest[100];
    const char *reason;
    uint64_t seq;
    int insecure;
    int genuine; /* the verifier found the evidence genuine */
    int quiet; /* no audit record (public reads) */
    char msg[320];
} req_state;

/* Audits the request and builds the answer. A release or signature (fail_closed) whose audit
 * record cannot be written becomes audit_unavailable: its body is wiped, nothing leaves. */
static tkms_release_code finish(tkms_release_ctx *c, req_state *rs, tkms_release_code code, char **resp, int *status,
                                char *ok_body, const char *decision, int fail_closed) {
    if (c->audit && !rs->quiet) {
        tkms_release_audit a = {rs->endpoint, rs->app_id, rs->method, rs->digest, rs->source ? rs->source : "",
                                code == TKMS_REL_OK ? decision : "refuse", tkms_release_code_name(code),
                                rs->reason ? rs->reason : "", rs->seq, rs->insecure, rs->genuine};
        if (!c->audit(c->audit_arg, &a) && code == TKMS_REL_OK && fail_closed) {
            code = TKMS_REL_AUDIT_FAILED;
            snprintf(rs->msg, sizeof rs->msg, "the audit record could not be written; nothing was released");
            if (ok_body) OPENSSL_cleanse(ok_body, strlen(ok_body));
        }
    }
    *status = tkms_release_code_http(code);
    if (code == TKMS_REL_OK) {
        *resp = ok_body;
        if (!ok_body) *status = 500;
        return code;
    }
    free(ok_body);
    /* messages can quote the input (a JSON parser's "near '...'"): printable ASCII only, so that
     * the error body is always valid JSON (a non-UTF-8 byte made json_pack fail: no body, 500) */
    for (char *m = rs->msg; *m; m++)
        if ((unsigned char)*m < 0x20 || (unsigned char)*m > 0x7e) *m = '?';
    json_t *e = json_pack("{s:s, s:s}", "code", tkms_release_code_name(code), "message", rs->msg[0] ? rs->msg : tkms_release_code_name(code));
    if (e && rs->reason && code == TKMS_REL_ATTESTATION_REFUSED) json_object_set_new(e, "reason", json_string(rs->reason));
    json_t *o = e ? json_pack("{s:o}", "error", e) : NULL;
    *resp = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!*resp) *status = 500;
    return code;
}

#define FAIL(code, ...)                                                   \
    do {                                                                  \
        snprintf(rs->msg, sizeof rs->msg, __VA_ARGS__);                   \
        return (code);                                                    \
    } while (0)

/* ---- helpers ---- */

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && tkms_unhex(out, n, json_string_value(v), json_string_length(v), 0);
}

static int only(json_t *o, const char *const *keys, size_t required) {
    const char *k;
    json_t *v;
    size_t req = 0;
    json_object_foreach(o, k, v) {
        int found = 0;
        for (size_t i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0) {
                found = 1;
                if (i < required) req++;
            }
        if (!found) return 0;
        (void)v;
    }
    return req == required;
}

typedef struct {
    uint8_t app_id[20];
    uint8_t nonce[32];
    uint8_t recipient[32];
    uint8_t *msg;
    size_t msg_len;
    tkms_attest_method method;
    uint8_t *evidence, *collateral;
    size_t evidence_len, collateral_len;
} parsed_req;

static void parsed_free(parsed_req *p) {
    free(p->msg);
    free(p->evidence);
    free(p->collateral);
}

/* Parses a keys/app (with_recipient) or sign/app request. */
static tkms_release_code parse_req(parsed_req *p, req_state *rs, const char *req, size_t len, int with_recipient) {
    static const char *const kkeys[] = {"app_id", "recipient", "nonce", "attestation", NULL};
    static const char *const skeys[] = {"app_id", "msg", "nonce", "attestation", NULL};
    static const char *const akeys[] = {"method", "evidence", "collateral", NULL};
    json_error_t je;
    memset(p, 0, sizeof *p);
    json_t *o = json_loadb(req, len, JSON_REJECT_DUPLICATES, &je);
    tkms_release_code code = TKMS_REL_BAD_REQUEST;
    if (!json_is_object(o)) {
        snprintf(rs->msg, sizeof rs->msg, "body is not a JSON object: %s", o ? "wrong type" : je.text);
        goto out;
    }
    if (!only(o, with_recipient ? kkeys : skeys, 4)) {
        snprintf(rs->msg, sizeof rs->msg, "members must be exactly {%s}",
                 with_recipient ? "app_id, recipient, nonce, attestation" : "app_id, msg, nonce, attestation");
        goto out;
    }
    json_t *app = json_object_get(o, "app_id");
    if (json_is_string(app) && json_string_length(app) < 48) memcpy(rs->app_id, json_string_value(app), json_string_length(app) + 1);
    if (!json_is_string(app) || !tkms_app_id_parse(p->app_id, json_string_value(app))) {
        snprintf(rs->msg, sizeof rs->msg, "app_id must be 0x + 40 hex");
        goto out;
    }
    tkms_app_id_format(rs->app_id, p->app_id);
    if (!hexfield(p->nonce, 32, o, "nonce")) {
        snprintf(rs->msg, sizeof rs->msg, "nonce must be 64 hex");
        goto out;
    }
    if (with_recipient && !hexfield(p->recipient, 32, o, "recipient")) {
        snprintf(rs->msg, sizeof rs->msg, "recipient must be 64 hex (X25519 public key)");
        goto out;
    }
    if (!with_recipient) {
        json_t *m = json_object_get(o, "msg");
        size_t ml = json_is_string(m) ? json_string_length(m) : 1;
        if (!json_is_string(m) || ml % 2 || ml / 2 > TKMS_RELEASE_MAX_MSG) {
            snprintf(rs->msg, sizeof rs->msg, "msg must be hex of at most %u bytes", TKMS_RELEASE_MAX_MSG);
            goto out;
        }
        p->msg_len = ml / 2;
        p->msg = malloc(p->msg_len ? p->msg_len : 1);
        if (!p->msg || !tkms_unhex(p->msg, p->msg_len, json_string_value(m), ml, 0)) {
            snprintf(rs->msg, sizeof rs->msg, "msg must be hex");
            goto out;
        }
    }
    json_t *at = json_object_get(o, "attestation");
    if (!json_is_object(at) || !only(at, akeys, 2)) {
        snprintf(rs->msg, sizeof rs->msg, "attestation must be {method, evidence[, collateral]}");
        goto out;
    }
    json_t *mv = json_object_get(at, "method"), *ev = json_object_get(at, "evidence"), *cv = json_object_get(at, "collateral");
    p->method = json_is_string(mv) ? tkms_attest_method_from_name(json_string_value(mv)) : 0;
    if (!p->method) {
        snprintf(rs->msg, sizeof rs->msg, "unknown attestation method");
        goto out;
    }
    snprintf(rs->method, sizeof rs->method, "%s", tkms_attest_method_name(p->method));
    if (p->method != TKMS_ATTEST_TDX && len > TKMS_RELEASE_MAX_BODY) {
        code = TKMS_REL_TOO_LARGE;
        snprintf(rs->msg, sizeof rs->msg, "body larger than %u bytes", TKMS_RELEASE_MAX_BODY);
        goto out;
    }
    if (!json_is_string(ev) || !rel_b64_decode(&p->evidence, &p->evidence_len, json_string_value(ev), json_string_length(ev))) {
        snprintf(rs->msg, sizeof rs->msg, "evidence must be standard padded base64");
        goto out;
    }
    int need_col = p->method == TKMS_ATTEST_TDX || p->method == TKMS_ATTEST_SEV_SNP;
    if (need_col != (cv != NULL)) {
        snprintf(rs->msg, sizeof rs->msg, need_col ? "%s needs collateral" : "%s takes no collateral", rs->method);
        goto out;
    }
    if (cv && (!json_is_string(cv) ||
               !rel_b64_decode(&p->collateral, &p->collateral_len, json_string_value(cv), json_string_length(cv)))) {
        snprintf(rs->msg, sizeof rs->msg, "collateral must be standard padded base64");
        goto out;
    }
    code = TKMS_REL_OK;
out:
    json_decref(o);
    if (code != TKMS_REL_OK) parsed_free(p);
    return code;
}

/* Looks up the app's statement (cached with Q_A by seq). */
static tkms_release_code lookup(tkms_release_ctx *c, req_state *rs, tkms_app_statement *st, g1_t *q, const uint8_t app[20]) {
    uint64_t seq = 0;
    pthread_mutex_lock(&c->db_mu);
    int r = tkms_registry_seq(c->db, &seq, app);
    pthread_mutex_unlock(&c->db_mu);
    if (r < 0) FAIL(TKMS_REL_STORAGE, "registry unavailable");
    if (r == 0) FAIL(TKMS_REL_UNKNOWN_APP, "no release statement is registered for %s", rs->app_id);
    pthread_mutex_lock(&c->qa_mu);
    for (size_t i = 0; i < c->qa_n; i++) {
        qa_entry *e = &c->qa[i];
        if (e->used && e->seq == seq && memcmp(e->app_id, app, 20) == 0) {
            e->last_use = ++c->qa_clock;
            *st = e->st;
            *q = e->q;
            pthread_mutex_unlock(&c->qa_mu);
            rs->seq = seq;
            return TKMS_REL_OK;
        }
    }
    pthread_mutex_unlock(&c->qa_mu);
    tkms_app_signed s;
    pthread_mutex_lock(&c->db_mu);
    tkms_release_code code = tkms_registry_get(c->db, &s, app);
    pthread_mutex_unlock(&c->db_mu);
    if (code == TKMS_REL_UNKNOWN_APP) FAIL(code, "no release statement is registered for %s", rs->app_id);
    if (code != TKMS_REL_OK) FAIL(TKMS_REL_STORAGE, "stored statement unreadable");
    *st = s.st;
    tkms_app_signed_free(&s);
    appkey_identity_point(q, app);
    rs->seq = st->seq;
    pthread_mutex_lock(&c->qa_mu);
    qa_entry *v = &c->qa[0];
    for (size_t i = 0; i < c->qa_n; i++) {
        qa_entry *e = &c->qa[i];
        if (e->used && memcmp(e->app_id, app, 20) == 0) { /* older seq of the same app */
            v = e;
            break;
        }
        if (!e->used || (v->used && e->last_use < v->last_use)) v = e;
    }
    v->used = 1;
    memcpy(v->app_id, app, 20);
    v->seq = st->seq;
    v->st = *st;
    v->q = *q;
    v->last_use = ++c->qa_clock;
    pthread_mutex_unlock(&c->qa_mu);
    return TKMS_REL_OK;
}

static uint32_t method_bit(tkms_attest_method m) {
    switch (m) {
    case TKMS_ATTEST_GCP_CS: return TKMS_APP_M_GCP_CS;
    case TKMS_ATTEST_TDX: return TKMS_APP_M_TDX;
    case TKMS_ATTEST_SEV_SNP: return TKMS_APP_M_SEV_SNP;
    case TKMS_ATTEST_INSECURE_DEV: return TKMS_APP_M_INSECURE_DEV;
    }
    return 0;
}

static int allowed(const tkms_attest_allow *a, const uint8_t *v, size_t n) {
    if (a->n == 0) return 1;
    int hit = 0;
    for (size_t i = 0; i < a->n; i++) hit |= CRYPTO_memcmp(a->v[i], v, n) == 0;
    return hit;
}

static int str_listed(const tkms_attest_strlist *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0) return 1;
    return 0;
}

/* Verifies the evidence against B and the app's statement (docs/release-protocol.md §4). */
static tkms_release_code check_evidence(tkms_release_ctx *c, req_state *rs, const parsed_req *p,
                                        const tkms_app_statement *st, const uint8_t B[64], int dev_mode, int64_t now_ms) {
    if (!(st->methods & method_bit(p->method))) FAIL(TKMS_REL_METHOD_NOT_ALLOWED, "the app's statement does not allow %s", rs->method);
    if (p->method == TKMS_ATTEST_INSECURE_DEV && !dev_mode)
        FAIL(TKMS_REL_DEV_MODE_ONLY, "insecure-dev evidence is only accepted by dev-mode clusters");
    tkms_attest_policy *pol = malloc(sizeof *pol);
    tkms_attest_result *res = malloc(sizeof *res);
    tkms_release_code code = TKMS_REL_INTERNAL;
    if (!pol || !res) {
        snprintf(rs->msg, sizeof rs->msg, "out of memory");
        goto out;
    }
    *pol = c->policy;
    if (p->method == TKMS_ATTEST_GCP_CS) {
        /* In the verifier's policy so a refused token is refused before its jti is recorded. */
        pol->gcp_image_digest = st->image_digests;
        pol->gcp_project_id = st->gcp_projects;
        pol->gcp_service_account = st->service_accounts;
    }
    tkms_attest_request rq = {p->method, p->evidence, p->evidence_len, p->collateral, p->collateral_len, B,
                              now_ms / 1000, pol, c->replay, dev_mode ? TKMS_ATTEST_F_DEV_MODE : 0};
    tkms_attest_reason r;
    if (p->method == TKMS_ATTEST_GCP_CS) {
        pthread_rwlock_rdlock(&c->jwks_mu);
        rq.collateral = (const uint8_t *)c->jwks;
        rq.collateral_len = c->jwks_len;
        r = tkms_attest_verify(res, &rq);
        pthread_rwlock_unlock(&c->jwks_mu);
    } else {
        r = tkms_attest_verify(res, &rq);
    }
    const tkms_attest_claims *cl = &res->claims;
    rs->insecure = cl->insecure;
    rs->genuine = cl->genuine;
    if (p->method == TKMS_ATTEST_GCP_CS) snprintf(rs->digest, sizeof rs->digest, "%s", cl->image_digest);
    else if (p->method == TKMS_ATTEST_TDX) tkms_hex(rs->digest, cl->mrtd, 48);
    else if (p->method == TKMS_ATTEST_SEV_SNP) tkms_hex(rs->digest, cl->measurement, 48);
    else tkms_hex(rs->digest, cl->dev_key, 32);
    if (r != TKMS_ATTEST_OK) {
        rs->reason = tkms_attest_reason_name(r);
        snprintf(rs->msg, sizeof rs->msg, "%s: %s", rs->reason, res->message);
        code = r == TKMS_ATTEST_E_BINDING        ? TKMS_REL_BINDING_MISMATCH
               : r == TKMS_ATTEST_E_IMAGE_DIGEST ? TKMS_REL_DIGEST_NOT_ALLOWED
               : r == TKMS_ATTEST_E_DEPLOYMENT   ? TKMS_REL_DEPLOYMENT_NOT_ALLOWED
               : r == TKMS_ATTEST_E_MEASUREMENT  ? TKMS_REL_MEASUREMENT_NOT_ALLOWED
               : r == TKMS_ATTEST_E_DEV_MODE     ? TKMS_REL_DEV_MODE_ONLY
               : r == TKMS_ATTEST_E_INTERNAL     ? TKMS_REL_INTERNAL
                                                 : TKMS_REL_ATTESTATION_REFUSED;
        goto out;
    }
    if (!cl->binding_checked) {
        code = TKMS_REL_INTERNAL;
        snprintf(rs->msg, sizeof rs->msg, "verifier did not check the binding");
        goto out;
    }
    uint8_t named[20];
    code = TKMS_REL_APP_NOT_BOUND;
    switch (p->method) {
    case TKMS_ATTEST_GCP_CS:
        if (!cl->app_id[0] || !tkms_app_id_parse(named, cl->app_id) || memcmp(named, p->app_id, 20) != 0) {
            snprintf(rs->msg, sizeof rs->msg, "submods.container.env.TKMS_APP_ID does not name %s", rs->app_id);
            goto out;
        }
        if (!str_listed(&st->image_digests, cl->image_digest)) {
            code = TKMS_REL_DIGEST_NOT_ALLOWED;
            snprintf(rs->msg, sizeof rs->msg, "image digest not in the app's statement");
            goto out;
        }
        break;
    case TKMS_ATTEST_TDX:
        if (memcmp(cl->mrconfigid, p->app_id, 20) != 0) {
            snprintf(rs->msg, sizeof rs->msg, "MRCONFIGID[0:20] is not %s", rs->app_id);
            goto out;
        }
        if (!allowed(&st->tdx_mrconfigid, cl->mrconfigid, 48)) {
            code = TKMS_REL_DEPLOYMENT_NOT_ALLOWED;
            snprintf(rs->msg, sizeof rs->msg, "MRCONFIGID not in deployments.tdx_mrconfigid");
            goto out;
        }
        code = TKMS_REL_MEASUREMENT_NOT_ALLOWED;
        if (!allowed(&st->tdx_mrtd, cl->mrtd, 48)) {
            snprintf(rs->msg, sizeof rs->msg, "MRTD not in the app's statement");
            goto out;
        }
        for (int i = 0; i < 3; i++)
            if (!allowed(&st->tdx_rtmr[i], cl->rtmr[i], 48)) {
                snprintf(rs->msg, sizeof rs->msg, "RTMR%d not in the app's statement", i);
                goto out;
            }
        break;
    case TKMS_ATTEST_SEV_SNP:
        if (memcmp(cl->host_data, p->app_id, 20) != 0) {
            snprintf(rs->msg, sizeof rs->msg, "HOST_DATA[0:20] is not %s", rs->app_id);
            goto out;
        }
        if (!allowed(&st->snp_host_data, cl->host_data, 32)) {
            code = TKMS_REL_DEPLOYMENT_NOT_ALLOWED;
            snprintf(rs->msg, sizeof rs->msg, "HOST_DATA not in deployments.snp_host_data");
            goto out;
        }
        if (!allowed(&st->snp_measurement, cl->measurement, 48)) {
            code = TKMS_REL_MEASUREMENT_NOT_ALLOWED;
            snprintf(rs->msg, sizeof rs->msg, "MEASUREMENT not in the app's statement");
            goto out;
        }
        break;
    case TKMS_ATTEST_INSECURE_DEV:
        if (!tkms_app_id_parse(named, cl->app_id) || memcmp(named, p->app_id, 20) != 0) {
            snprintf(rs->msg, sizeof rs->msg, "dev statement names another app");
            goto out;
        }
        break;
    }
    code = TKMS_REL_OK;
out:
    free(pol);
    free(res);
    return code;
}

/* ---- POST /v1/keys/app ---- */

static tkms_release_code do_key(tkms_release_ctx *c, req_state *rs, char **body, const char *req, size_t len,
                                int64_t now_ms) {
    parsed_req p;
    tkms_app_statement *st = NULL;
    g1_t q;
    uint8_t B[64];
    tkms_release_code code;
    *body = NULL;
    if (len > TKMS_RELEASE_MAX_BODY_TDX) FAIL(TKMS_REL_TOO_LARGE, "body larger than %u bytes", TKMS_RELEASE_MAX_BODY_TDX);
    if (!rl_take(c->src_rl, rs->source ? rs->source : "", now_ms)) FAIL(TKMS_REL_RATE_LIMITED, "too many requests from this source");
    pthread_rwlock_rdlock(&c->ep_mu);
    int ready = c->ready, dev_mode = c->dev_mode;
    pthread_rwlock_unlock(&c->ep_mu);
    if (!ready) FAIL(TKMS_REL_NOT_READY, "this node has no certified share yet");
    if ((code = parse_req(&p, rs, req, len, 1)) != TKMS_REL_OK) return code;
    st = malloc(sizeof *st);
    if (!st) {
        parsed_free(&p);
        FAIL(TKMS_REL_INTERNAL, "out of memory");
    }
    if ((code = lookup(c, rs, st, &q, p.app_id)) != TKMS_REL_OK) goto out;
    if (!tkms_attest_binding(B, p.app_id, p.recipient, p.nonce, 32)) {
        code = TKMS_REL_INTERNAL;
        goto out;
    }
    if ((code = check_evidence(c, rs, &p, st, B, dev_mode, now_ms)) != TKMS_REL_OK) goto out;
    if (!rl_take(c->app_rl, rs->app_id, now_ms)) {
        code = TKMS_REL_RATE_LIMITED;
        snprintf(rs->msg, sizeof rs->msg, "too many requests for this app");
        goto out;
    }

    /* K_A,i = s_i * Q_A, sealed to the recipient; epoch and index read under the same lock. */
    uint8_t partial[48], sealed[32 + 48 + 16], ikm[32], aad[TKMS_PROTO_KEY_AAD_LEN];
    uint64_t epoch;
    uint32_t index;
    g1_t k;
    g1_affine_t ka;
    pthread_rwlock_rdlock(&c->ep_mu);
    if (!c->ready) {
        pthread_rwlock_unlock(&c->ep_mu);
        code = TKMS_REL_NOT_READY;
        snprintf(rs->msg, sizeof rs->msg, "share withdrawn");
        goto out;
    }
    epoch = c->epoch;
    index = c->index;
    tbls_partial_sign_hashed(&k, &c->sec->share, &q);
    pthread_rwlock_unlock(&c->ep_mu);
    g1_to_affine(&ka, &k);
    g1_serialize(partial, &ka);
    OPENSSL_cleanse(&k, sizeof k);
    OPENSSL_cleanse(&ka, sizeof ka);
    tkms_proto_key_aad(aad, p.app_id, epoch, index);
    int ok = RAND_bytes(ikm, 32) == 1 &&
             tkms_hpke_seal(sealed, p.recipient, (const uint8_t *)HPKE_INFO, sizeof HPKE_INFO - 1, aad, sizeof aad, partial,
                            48, ikm) == 1;
    OPENSSL_cleanse(partial, sizeof partial);
    OPENSSL_cleanse(ikm, sizeof ikm);
    if (!ok) {
        code = TKMS_REL_BAD_REQUEST;
        snprintf(rs->msg, sizeof rs->msg, "recipient is not a usable X25519 public key");
        goto out;
    }
    uint8_t m[TKMS_PROTO_KEY_RESPONSE_LEN], sig[64];
    tkms_proto_key_response(m, p.app_id, epoch, index, p.recipient, p.nonce, sealed, sealed + 32);
    if (tkms_ed25519_sign(sig, c->sec->ed_sk, m, sizeof m) != 1) {
        code = TKMS_REL_INTERNAL;
        snprintf(rs->msg, sizeof rs->msg, "signing failed");
        goto out;
    }
    char enc_h[65], ct_h[129], sig_h[129];
    tkms_hex(enc_h, sealed, 32);
    tkms_hex(ct_h, sealed + 32, 64);
    tkms_hex(sig_h, sig, 64);
    size_t bl = 512;
    *body = malloc(bl);
    if (*body)
        snprintf(*body, bl,
                 "{\"app_id\":\"%s\",\"ciphertext\":\"%s\",\"enc\":\"%s\",\"epoch\":%llu,\"index\":%u,\"signature\":\"%s\"}",
                 rs->app_id, ct_h, enc_h, (unsigned long long)epoch, index, sig_h);
    code = TKMS_REL_OK;
out:
    free(st);
    parsed_free(&p);
    return code;
}

tkms_release_code tkms_release_handle_key(tkms_release_ctx *c, char **resp, int *status, const char *req, size_t len,
                                          const char *source, int64_t now_ms) {
    req_state rs;
    memset(&rs, 0, sizeof rs);
    rs.endpoint = "keys/app";
    rs.source = source;
    char *body = NULL;
    tkms_release_code code = do_key(c, &rs, &body, req, len, now_ms);
    return finish(c, &rs, code, resp, status, body, "release", 1);
}

/* ---- POST /v1/sign/app ---- */

static tkms_release_code do_sign(tkms_release_ctx *c, req_state *rs, char **body, const char *req, size_t len,
                                 int64_t now_ms) {
    parsed_req p;
    tkms_app_statement *st = NULL;
    g1_t q;
    uint8_t B[64], np[32];
    tkms_release_code code;
    uint8_t *m = NULL, *sm = NULL;
    *body = NULL;
    if (len > TKMS_RELEASE_MAX_BODY_TDX) FAIL(TKMS_REL_TOO_LARGE, "body larger than %u bytes", TKMS_RELEASE_MAX_BODY_TDX);
    if (!rl_take(c->src_rl, rs->source ? rs->source : "", now_ms)) FAIL(TKMS_REL_RATE_LIMITED, "too many requests from this source");
    pthread_rwlock_rdlock(&c->ep_mu);
    int ready = c->ready, dev_mode = c->dev_mode;
    pthread_rwlock_unlock(&c->ep_mu);
    if (!ready) FAIL(TKMS_REL_NOT_READY, "this node has no certified share yet");
    if ((code = parse_req(&p, rs, req, len, 0)) != TKMS_REL_OK) return code;
    st = malloc(sizeof *st);
    size_t cap = sizeof SIGN_NONCE_TAG - 1 + 4 + p.msg_len + 32;
    m = malloc(cap + 64);
    if (!st || !m) {
        code = TKMS_REL_INTERNAL;
        snprintf(rs->msg, sizeof rs->msg, "out of memory");
        goto out;
    }
    if ((code = lookup(c, rs, st, &q, p.app_id)) != TKMS_REL_OK) goto out;
    /* nonce' = SHA-256("TKMS-V1-SIGN-APP" || lp(msg) || nonce) ties the evidence to the message. */
    uint8_t *e = m;
    memcpy(e, SIGN_NONCE_TAG, sizeof SIGN_NONCE_TAG - 1);
    e = proto_put_lp(e + sizeof SIGN_NONCE_TAG - 1, p.msg, p.msg_len);
    memcpy(e, p.nonce, 32);
    e += 32;
    unsigned int nl = 32;
    EVP_Digest(m, (size_t)(e - m), np, &nl, EVP_sha256(), NULL);
    (void)tkms_proto_binding(B, p.app_id, NULL, 0, np, 32);
    if ((code = check_evidence(c, rs, &p, st, B, dev_mode, now_ms)) != TKMS_REL_OK) goto out;
    if (!rl_take(c->app_rl, rs->app_id, now_ms)) {
        code = TKMS_REL_RATE_LIMITED;
        snprintf(rs->msg, sizeof rs->msg, "too many requests for this app");
        goto out;
    }
    size_t am_len = appkey_app_msg(m, cap + 64, p.app_id, p.msg, p.msg_len);
    uint64_t epoch;
    uint32_t index;
    g1_t s;
    g1_affine_t sa;
    uint8_t partial[48], sig[64];
    pthread_rwlock_rdlock(&c->ep_mu);
    if (!c->ready || am_len == 0) {
        pthread_rwlock_unlock(&c->ep_mu);
        code = TKMS_REL_NOT_READY;
        snprintf(rs->msg, sizeof rs->msg, "share withdrawn");
        goto out;
    }
    epoch = c->epoch;
    index = c->index;
    tbls_partial_sign(&s, &c->sec->share, m, am_len, (const uint8_t *)TKMS_DST_APP_SIGN, TKMS_TAG_LEN(TKMS_DST_APP_SIGN));
    pthread_rwlock_unlock(&c->ep_mu);
    g1_to_affine(&sa, &s);
    g1_serialize(partial, &sa);
    size_t sml = sizeof SIGN_RESP_TAG - 1 + 24 + 12 + 36 + 4 + p.msg_len + 52;
    sm = malloc(sml);
    if (!sm) {
        code = TKMS_REL_INTERNAL;
        goto out;
    }
    e = sm;
    memcpy(e, SIGN_RESP_TAG, sizeof SIGN_RESP_TAG - 1);
    e = proto_put_lp(e + sizeof SIGN_RESP_TAG - 1, p.app_id, 20);
    proto_be64(e, epoch);
    proto_be32(e + 8, index);
    e = proto_put_lp(e + 12, p.nonce, 32);
    e = proto_put_lp(e, p.msg, p.msg_len);
    e = proto_put_lp(e, partial, 48);
    if (tkms_ed25519_sign(sig, c->sec->ed_sk, sm, (size_t)(e - sm)) != 1) {
        code = TKMS_REL_INTERNAL;
        snprintf(rs->msg, sizeof rs->msg, "signing failed");
        goto out;
    }
    char part_h[97], sig_h[129];
    tkms_hex(part_h, partial, 48);
    tkms_hex(sig_h, sig, 64);
    *body = malloc(512);
    if (*body)
        snprintf(*body, 512, "{\"app_id\":\"%s\",\"epoch\":%llu,\"index\":%u,\"partial\":\"%s\",\"signature\":\"%s\"}",
                 rs->app_id, (unsigned long long)epoch, index, part_h, sig_h);
    code = TKMS_REL_OK;
out:
    free(sm);
    free(m);
    free(st);
    parsed_free(&p);
    return code;
}

tkms_release_code tkms_release_handle_sign(tkms_release_ctx *c, char **resp, int *status, const char *req, size_t len,
                                           const char *source, int64_t now_ms) {
    req_state rs;
    memset(&rs, 0, sizeof rs);
    rs.endpoint = "sign/app";
    rs.source = source;
    char *body = NULL;
    tkms_release_code code = do_sign(c, &rs, &body, req, len, now_ms);
    return finish(c, &rs, code, resp, status, body, "sign", 1);
}

/* ---- registry caches (db_mu held) ---- */

/* Drops the cached app count and bucket digests if another connection committed to the
 * database since they were computed (PRAGMA data_version changes only for others' commits; this
 * context's own writes update the caches themselves). */
static void caches_check(tkms_release_ctx *c) {
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA data_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (v < 0 || v != c->data_version) {
        memset(c->dig_ok, 0, sizeof c->dig_ok);
        c->n_apps = -1;
        c->data_version = v;
    }
}

/* This node's bucket digests; the lock is taken per bucket, so that recomputing all of them (at
 * start, ~50 ms for 50,000 apps) never holds up a key release for long. Returns 1 or 0. */
static int bucket_digests(tkms_release_ctx *c, uint8_t out[TKMS_SYNC_BUCKETS][32]) {
    int ok = 1;
    for (unsigned b = 0; ok && b < TKMS_SYNC_BUCKETS; b++) {
        pthread_mutex_lock(&c->db_mu);
        if (b == 0) caches_check(c);
        if (!c->dig_ok[b]) c->dig_ok[b] = (uint8_t)rel_bucket_digest(c->db, b, c->dig[b]);
        ok = c->dig_ok[b];
        memcpy(out[b], c->dig[b], 32);
        pthread_mutex_unlock(&c->db_mu);
    }
    return ok;
}

/* Imports signed statements from a peer: stale ones are recognised under the lock without a
 * signature check, the others are authenticated without the lock, then written in one
 * transaction, obeying max_apps (not the per-owner quota: every owner-signed statement some node
 * accepted may spread). */
static tkms_release_code import_batch(tkms_release_ctx *c, json_t *arr, int64_t now_ms, size_t *stored, size_t *stale,
                                      size_t *refused) {
    size_t n = json_array_size(arr);
    tkms_app_signed *v = calloc(n ? n : 1, sizeof *v);
    uint8_t *todo = calloc(n ? n : 1, 1);
    tkms_release_code res = TKMS_REL_OK;
    if (!v || !todo) {
        free(v);
        free(todo);
        return TKMS_REL_INTERNAL;
    }
    pthread_mutex_lock(&c->db_mu);
    caches_check(c);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[20];
        uint64_t seq = 0, cur = 0;
        todo[i] = 1;
        if (rel_statement_key(json_array_get(arr, i), id, &seq) && tkms_registry_seq(c->db, &cur, id) == 1 && cur >= seq) {
            todo[i] = 0;
            (*stale)++;
        }
    }
    pthread_mutex_unlock(&c->db_mu);
    for (size_t i = 0; i < n; i++)
        if (todo[i] && rel_signed_from_json(&v[i], json_array_get(arr, i)) != TKMS_REL_OK) {
            todo[i] = 0;
            (*refused)++;
        }
    tkms_registry_limits lim = {c->lim.max_apps, 0};
    size_t got = 0;
    pthread_mutex_lock(&c->db_mu);
    int tx = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    if (!tx) res = TKMS_REL_STORAGE;
    for (size_t i = 0; tx && i < n && res == TKMS_REL_OK; i++) {
        if (!todo[i]) continue;
        tkms_release_code r = rel_registry_put(c->db, &v[i], now_ms, &lim, &c->n_apps, NULL);
        if (r == TKMS_REL_OK) got++, c->dig_ok[v[i].st.app_id[0]] = 0;
        else if (r == TKMS_REL_STALE_STATEMENT) (*stale)++;
        else if (r == TKMS_REL_STORAGE) res = r;
        else (*refused)++; /* registry_full, owner_mismatch */
    }
    if (tx && (res != TKMS_REL_OK || sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        res = TKMS_REL_STORAGE;
        got = 0;
        memset(c->dig_ok, 0, sizeof c->dig_ok);
        c->n_apps = -1;
    }
    pthread_mutex_unlock(&c->db_mu);
    *stored += got;
    for (size_t i = 0; i < n; i++) tkms_app_signed_free(&v[i]);
    free(v);
    free(todo);
    return res;
}

int64_t tkms_release_app_count(tkms_release_ctx *c) {
    pthread_mutex_lock(&c->db_mu);
    caches_check(c);
    if (c->n_apps < 0) c->n_apps = tkms_registry_count(c->db);
    int64_t n = c->n_apps;
    pthread_mutex_unlock(&c->db_mu);
    return n;
}

/* ---- POST /v1/apps, GET /v1/apps/<id> ---- */

static tkms_release_code do_update(tkms_release_ctx *c, req_state *rs, char **body, const char *req, size_t len,
                                   int64_t now_ms) {
    tkms_app_signed s;
    *body = NULL;
    if (len > TKMS_RELEASE_MAX_BODY) FAIL(TKMS_REL_TOO_LARGE, "body larger than %u bytes", TKMS_RELEASE_MAX_BODY);
    if (!rl_take(c->src_rl, rs->source ? rs->source : "", now_ms)) FAIL(TKMS_REL_RATE_LIMITED, "too many requests from this source");
    tkms_status es;
    tkms_release_code code = tkms_app_signed_parse(&s, &es, req, len);
    if (code != TKMS_REL_OK) {
        snprintf(rs->msg, sizeof rs->msg, "%s", es.msg);
        return code;
    }
    tkms_app_id_format(rs->app_id, s.st.app_id);
    rs->seq = s.st.seq;
    pthread_mutex_lock(&c->db_mu);
    caches_check(c);
    code = rel_registry_put(c->db, &s, now_ms, &c->lim, &c->n_apps, &es);
    if (code != TKMS_REL_OK) snprintf(rs->msg, sizeof rs->msg, "%s", es.msg);
    if (code == TKMS_REL_OK) c->dig_ok[s.st.app_id[0]] = 0;
    pthread_mutex_unlock(&c->db_mu);
    if (code == TKMS_REL_OK) {
        *body = malloc(160);
        if (*body)
            snprintf(*body, 160, "{\"app_id\":\"%s\",\"seq\":%llu,\"status\":\"stored\"}", rs->app_id,
                     (unsigned long long)s.st.seq);
    }
    tkms_app_signed_free(&s);
    return code;
}

tkms_release_code tkms_release_handle_app_update(tkms_release_ctx *c, char **resp, int *status, const char *req,
                                                 size_t len, const char *source, int64_t now_ms) {
    req_state rs;
    memset(&rs, 0, sizeof rs);
    rs.endpoint = "apps";
    rs.source = source;
    char *body = NULL;
    tkms_release_code code = do_update(c, &rs, &body, req, len, now_ms);
    /* not fail-closed: the statement is stored (and is its own signed record) before the audit */
    return finish(c, &rs, code, resp, status, body, "stored", 0);
}

tkms_release_code tkms_release_handle_app_get(tkms_release_ctx *c, char **resp, int *status, const char *app_id_text) {
    req_state rs;
    uint8_t id[20];
    memset(&rs, 0, sizeof rs);
    rs.endpoint = "apps/get";
    tkms_release_code code;
    char *body = NULL;
    if (!tkms_app_id_parse(id, app_id_text)) {
        code = TKMS_REL_BAD_REQUEST;
        snprintf(rs.msg, sizeof rs.msg, "app_id must be 0x + 40 hex");
    } else {
        tkms_app_signed s;
        pthread_mutex_lock(&c->db_mu);
        code = tkms_registry_get(c->db, &s, id);
        pthread_mutex_unlock(&c->db_mu);
        if (code == TKMS_REL_OK) {
            body = tkms_app_signed_json(&s);
            tkms_app_signed_free(&s);
        } else if (code != TKMS_REL_UNKNOWN_APP) {
            code = TKMS_REL_STORAGE;
        }
    }
    rs.quiet = 1; /* reads are not audited: the registry is public */
    return finish(c, &rs, code, resp, status, body, "read", 0);
}

/* ---- anti-entropy ---- */

char *tkms_release_sync_summary(tkms_release_ctx *c) {
    pthread_mutex_lock(&c->db_mu);
    char *s = tkms_registry_summary(c->db);
    pthread_mutex_unlock(&c->db_mu);
    return s;
}

char *tkms_release_sync_export(tkms_release_ctx *c, const char *peer_summary, size_t len, size_t max) {
    pthread_mutex_lock(&c->db_mu);
    char *s = tkms_registry_export(c->db, peer_summary, len, max);
    pthread_mutex_unlock(&c->db_mu);
    return s;
}

/* {"statements":[…][,"more":b]}: the array and more, or NULL. */
static json_t *batch_of(json_t *o, int *more) {
    json_t *arr = json_object_get(o, "statements"), *m = json_object_get(o, "more");
    if (!json_is_object(o) || json_object_size(o) != 1u + (m != NULL) || !json_is_array(arr) ||
        json_array_size(arr) > TKMS_SYNC_MAX_BATCH || (m && !json_is_boolean(m)))
        return NULL;
    *more = json_is_true(m);
    return arr;
}

tkms_release_code tkms_release_sync_import(tkms_release_ctx *c, size_t *stored, size_t *stale, size_t *refused,
                                           const char *batch, size_t len, int64_t now_ms) {
    *stored = *stale = *refused = 0;
    json_t *o = json_loadb(batch, len, JSON_REJECT_DUPLICATES, NULL);
    int more = 0;
    json_t *arr = o ? batch_of(o, &more) : NULL;
    tkms_release_code code = arr ? import_batch(c, arr, now_ms, stored, stale, refused) : TKMS_REL_BAD_REQUEST;
    json_decref(o);
    return code;
}

static int id_field(uint8_t out[20], json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && tkms_app_id_parse(out, json_string_value(v));
}

char *tkms_release_sync_serve(tkms_release_ctx *c, const char *req, size_t len) {
    json_t *o = json_loadb(req, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *op = json_object_get(o, "op"), *apps = json_object_get(o, "apps"), *ko = json_object_get(o, "known_only");
    char *out = NULL;
    uint8_t lo[20], hi[20];
    if (!json_is_object(o)) goto done;
    if (json_is_string(op) && !strcmp(json_string_value(op), "digests") && json_object_size(o) == 1) {
        uint8_t (*d)[32] = malloc(TKMS_SYNC_BUCKETS * sizeof *d);
        json_t *arr = json_array();
        if (d && arr && bucket_digests(c, d)) {
            for (unsigned b = 0; b < TKMS_SYNC_BUCKETS; b++) {
                char h[65];
                tkms_hex(h, d[b], 32);
                json_array_append_new(arr, json_string(h));
            }
            json_t *r = json_pack("{s:O}", "digests", arr);
            out = r ? json_dumps(r, JSON_COMPACT) : NULL;
            json_decref(r);
        }
        json_decref(arr);
        free(d);
        goto done;
    }
    if (!json_is_object(apps)) goto done;
    if (op) {
        /* {"op":"pull","lo","hi","known_only","apps"}: exactly these */
        if (!json_is_string(op) || strcmp(json_string_value(op), "pull") || json_object_size(o) != 5 ||
            !id_field(lo, o, "lo") || !id_field(hi, o, "hi") || memcmp(lo, hi, 20) > 0 || !json_is_boolean(ko) ||
            json_object_size(apps) > TKMS_SYNC_MAX_SUMMARY)
            goto done;
    } else {
        /* legacy whole-registry summary {"apps":{…}} */
        if (json_object_size(o) != 1) goto done;
        memset(lo, 0, 20);
        memset(hi, 0xff, 20);
    }
    pthread_mutex_lock(&c->db_mu);
    out = rel_pull_answer(c->db, lo, hi, apps, json_is_true(ko), TKMS_SYNC_BATCH, TKMS_SYNC_ANSWER_BYTES);
    pthread_mutex_unlock(&c->db_mu);
done:
    json_decref(o);
    return out;
}

#define SYNC_MAX_REQUESTS 4096 /* per round and peer; the rest waits for the next round */

struct tkms_release_sync {
    tkms_release_ctx *c;
    enum { SY_DIGESTS, SY_PULL, SY_DONE } state;
    uint8_t differ[TKMS_SYNC_BUCKETS];
    uint8_t cursor[20]; /* next app ID to cover */
    uint8_t lo[20], hi[20]; /* the pending pull */
    size_t stored, stale, refused, requests;
};

tkms_release_sync *tkms_release_sync_begin(tkms_release_ctx *c) {
    tkms_release_sync *s = calloc(1, sizeof *s);
    if (s) s->c = c;
    return s;
}

void tkms_release_sync_end(tkms_release_sync *s) { free(s); }

void tkms_release_sync_counts(const tkms_release_sync *s, size_t *stored, size_t *stale, size_t *refused,
                              size_t *requests) {
    *stored = s->stored;
    *stale = s->stale;
    *refused = s->refused;
    *requests = s->requests;
}

/* cursor = id + 1 (160-bit big-endian); 0 past the last app ID */
static int id_next(uint8_t cursor[20], const uint8_t id[20]) {
    memcpy(cursor, id, 20);
    for (int i = 19; i >= 0; i--)
        if (++cursor[i]) return 1;
    return 0;
}

char *tkms_release_sync_next(tkms_release_sync *s) {
    tkms_release_ctx *c = s->c;
    if (s->state == SY_DONE || s->requests >= SYNC_MAX_REQUESTS) return NULL;
    if (s->state == SY_DIGESTS) {
        s->requests++;
        return strdup("{\"op\":\"digests\"}");
    }
    /* the next run of differing buckets from the cursor on */
    unsigned b = s->cursor[0], e;
    while (b < TKMS_SYNC_BUCKETS && !s->differ[b]) b++;
    if (b == TKMS_SYNC_BUCKETS) {
        s->state = SY_DONE;
        return NULL;
    }
    if (b != s->cursor[0]) {
        memset(s->cursor, 0, 20);
        s->cursor[0] = (uint8_t)b;
    }
    for (e = b; e + 1 < TKMS_SYNC_BUCKETS && s->differ[e + 1];) e++;
    uint8_t blo[20], hi_limit[20];
    rel_bucket_range(blo, hi_limit, e);
    pthread_mutex_lock(&c->db_mu);
    caches_check(c);
    if (c->n_apps < 0) c->n_apps = tkms_registry_count(c->db);
    int full = c->lim.max_apps && c->n_apps >= 0 && (uint64_t)c->n_apps >= c->lim.max_apps;
    json_t *apps = rel_page(c->db, s->cursor, hi_limit, TKMS_SYNC_PAGE, s->hi);
    pthread_mutex_unlock(&c->db_mu);
    if (!apps) {
        s->state = SY_DONE;
        return NULL;
    }
    memcpy(s->lo, s->cursor, 20);
    char lo_t[TKMS_APP_ID_TEXT], hi_t[TKMS_APP_ID_TEXT];
    tkms_app_id_format(lo_t, s->lo);
    tkms_app_id_format(hi_t, s->hi);
    /* a full registry asks only for newer statements of its own apps */
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "op", "pull", "lo", lo_t, "hi", hi_t, "known_only", full, "apps", apps);
    char *out = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!out) s->state = SY_DONE;
    else s->requests++;
    return out;
}

tkms_release_code tkms_release_sync_answer(tkms_release_sync *s, const char *body, size_t len, int64_t now_ms) {
    tkms_release_code code = TKMS_REL_BAD_REQUEST;
    if (!body) { /* the peer did not answer: the round ends, nothing is wrong with our data */
        s->state = SY_DONE;
        return TKMS_REL_OK;
    }
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!o) goto end;
    if (s->state == SY_DIGESTS) {
        json_t *arr = json_object_get(o, "digests");
        uint8_t(*mine)[32] = malloc(TKMS_SYNC_BUCKETS * sizeof *mine);
        int any = 0, ok = json_is_object(o) && json_object_size(o) == 1 && json_is_array(arr) &&
                          json_array_size(arr) == TKMS_SYNC_BUCKETS && mine && bucket_digests(s->c, mine);
        for (unsigned b = 0; ok && b < TKMS_SYNC_BUCKETS; b++) {
            json_t *v = json_array_get(arr, b);
            uint8_t d[32];
            ok = json_is_string(v) && tkms_unhex(d, 32, json_string_value(v), json_string_length(v), 1);
            s->differ[b] = ok && memcmp(d, mine[b], 32) != 0;
            any |= s->differ[b];
        }
        free(mine);
        if (!ok) goto end;
        memset(s->cursor, 0, 20);
        s->state = any ? SY_PULL : SY_DONE;
        json_decref(o);
        return TKMS_REL_OK;
    }
    if (s->state != SY_PULL) goto end;
    int more = 0;
    json_t *arr = batch_of(o, &more);
    if (!arr) goto end;
    size_t before = s->stored;
    code = import_batch(s->c, arr, now_ms, &s->stored, &s->stale, &s->refused);
    if (code != TKMS_REL_OK) goto end;
    json_decref(o);
    /* the same page again while the peer has more and this node takes some (progress: each
     * repeat stores at least one statement); else the page is done */
    if (more && s->stored > before) memcpy(s->cursor, s->lo, 20);
    else if (!id_next(s->cursor, s->hi)) s->state = SY_DONE;
    return TKMS_REL_OK;
end:
    json_decref(o);
    s->state = SY_DONE;
    return code;
}
