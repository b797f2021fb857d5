/* tkmsd: API handlers -- health, group, metrics, operator signing, peer protocol endpoints and
 * committee proposals (the key-release routes go to release.c). Authentication and input checks
 * happen here; protocol logic is the engine's. */
#include "tkmsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "g1.h"
#include "tbls.h"

#define SIGN_DST "TKMS-V1-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
#define MAX_SIGN_MSG 65536

int api_route(const char *method, const char *path) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (get && !strcmp(path, "/v1/health")) return ROUTE_HEALTH;
    if (get && !strcmp(path, "/v1/group")) return ROUTE_GROUP;
    if (get && !strcmp(path, "/metrics")) return ROUTE_METRICS;
    if (post && !strcmp(path, "/v1/sign")) return ROUTE_SIGN;
    if (post && !strcmp(path, "/v1/peer/bundle")) return ROUTE_PEER_BUNDLE;
    if (post && !strcmp(path, "/v1/committee/proposal")) return ROUTE_PROPOSAL;
    if (post && !strcmp(path, "/v1/keys/app")) return ROUTE_KEYS_APP;
    if (post && !strcmp(path, "/v1/sign/app")) return ROUTE_SIGN_APP;
    if (post && !strcmp(path, "/v1/apps")) return ROUTE_APPS_POST;
    if (get && !strncmp(path, "/v1/apps/", 9)) return ROUTE_APPS_GET;
    if (post && !strcmp(path, "/v1/peer/apps")) return ROUTE_PEER_APPS;
    return ROUTE_OTHER;
}

static void set_json(http_resp *rs, int status, json_t *j) {
    rs->status = status;
    rs->body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    rs->ctype = "application/json";
    json_decref(j);
}

static void set_err(http_resp *rs, int status, const char *code, const char *msg) {
    if (status >= 400 && status < 500 && status != 404 && status != 429) metrics_rejected();
    set_json(rs, status, json_pack("{s:[s], s:s}", "errors", msg, "code", code));
}

/* Checks the signed envelope headers. Returns 0 with rs set on failure; key receives the signer. */
static int check_envelope(tkmsd *d, const http_req *rq, http_resp *rs, uint8_t key[32]) {
    uint8_t sig[64];
    if (!rq->h_key || !rq->h_time || !rq->h_sig) {
        set_err(rs, 401, "unauthenticated", "missing X-Tkms-Key / X-Tkms-Time / X-Tkms-Sig");
        return 0;
    }
    if (!node_unhex(key, 32, rq->h_key) || !node_unhex(sig, 64, rq->h_sig)) {
        set_err(rs, 401, "bad_signature", "malformed X-Tkms-Key or X-Tkms-Sig");
        return 0;
    }
    char *end = NULL;
    unsigned long long ts = strtoull(rq->h_time, &end, 10);
    uint64_t now = node_now_ms(), skew = (uint64_t)d->cfg.clock_skew_s * 1000u;
    if (!end || *end || ts + skew < now || ts > now + skew) {
        set_err(rs, 401, "stale", "X-Tkms-Time outside the accepted clock skew");
        return 0;
    }
    if (!node_envelope_verify(sig, key, rq->method, rq->path, ts, rq->body, rq->body_len)) {
        set_err(rs, 401, "bad_signature", "envelope signature does not verify");
        return 0;
    }
    uint8_t dg[32];
    node_envelope_digest(dg, sig);
    int fresh = node_store_replay_check(d->store, dg, ts);
    if (fresh == 0) {
        set_err(rs, 409, "replayed", "this signed request was already received");
        return 0;
    }
    if (fresh < 0) {
        set_err(rs, 503, "storage", "cannot record the request (storage error)");
        return 0;
    }
    return 1;
}

static void h_health(tkmsd *d, http_resp *rs) {
    pthread_rwlock_rdlock(&d->lock);
    int state = atomic_load(&d->state);
    json_t *j = json_object();
    json_object_set_new(j, "initialized", json_boolean(d->group != NULL));
    json_object_set_new(j, "sealed", json_false());
    json_object_set_new(j, "standby", json_boolean(state == NODE_SYNCING));
    json_object_set_new(j, "serving", json_boolean(state == NODE_SERVING));
    json_object_set_new(j, "state", json_string(state == NODE_SERVING   ? "serving"
                                                : state == NODE_SYNCING ? "syncing"
                                                                        : "not_ready"));
    json_object_set_new(j, "epoch", d->group ? json_integer((json_int_t)d->group->epoch) : json_null());
    json_object_set_new(j, "threshold", d->group ? json_integer(d->group->t) : json_null());
    json_object_set_new(j, "members", d->group ? json_integer(d->group->n) : json_null());
    json_object_set_new(j, "index", d->my_index ? json_integer(d->my_index) : json_null());
    if (d->group) {
        char h[193];
        node_hex(h, d->group->mpk_bytes, 96);
        json_object_set_new(j, "mpk", json_string(h));
    }
    pthread_rwlock_unlock(&d->lock);
    json_object_set_new(j, "node", json_string(d->node_id));
    json_object_set_new(j, "version", json_string(TKMS_VERSION));
    json_object_set_new(j, "server_time_utc", json_integer((json_int_t)(node_now_ms() / 1000)));
    json_object_set_new(j, "peers_up", json_integer(atomic_load(&d->peers_up)));
    json_object_set_new(j, "next_reshare", json_integer((json_int_t)atomic_load(&d->next_reshare_s)));
    json_object_set_new(j, "session", d->sched ? sched_status(d->sched) : json_null());
    set_json(rs, state == NODE_SERVING ? 200 : state == NODE_SYNCING ? 429 : 503, j);
}

static void h_group(tkmsd *d, const http_req *rq, http_resp *rs) {
    if (rq->query_epoch) {
        char *end = NULL;
        unsigned long long e = strtoull(rq->query_epoch, &end, 10);
        if (!end || *end || !rq->query_epoch[0]) return set_err(rs, 400, "bad_request", "epoch must be an integer");
        char *json = NULL;
        node_status st = {0};
        if (!node_store_get_group(d->store, e, &json, NULL, &st)) return set_err(rs, 503, "storage", st.msg);
        if (!json) return set_err(rs, 404, "not_found", "no certified group for that epoch");
        rs->status = 200;
        rs->body = json;
        rs->body_len = strlen(json);
        return;
    }
    pthread_rwlock_rdlock(&d->lock);
    if (d->group) {
        rs->status = 200;
        rs->body = strdup(d->group->json);
        rs->body_len = strlen(rs->body);
    }
    pthread_rwlock_unlock(&d->lock);
    if (!rs->body) set_err(rs, 404, "not_found", "no certified group yet");
}

static void h_metrics(tkmsd *d, http_resp *rs) {
    metrics_gauges g = {.epoch = -1};
    pthread_rwlock_rdlock(&d->lock);
    if (d->group) {
        g.epoch = (long long)d->group->epoch;
        g.threshold = d->group->t;
        g.n = d->group->n;
        g.peers = d->group->n - (d->my_index ? 1 : 0);
    }
    pthread_rwlock_unlock(&d->lock);
    g.serving = atomic_load(&d->state) == NODE_SERVING;
    g.session_active = atomic_load(&d->session_active);
    g.peers_up = atomic_load(&d->peers_up);
    g.next_reshare_s = atomic_load(&d->next_reshare_s);
    g.registry_apps = relay_app_count(d);
    g.registry_max_apps = d->cfg.registry_max_apps;
    rs->status = 200;
    rs->body = metrics_render(&g);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    rs->ctype = "text/plain; version=0.0.4";
}

static int admin_token_ok(tkmsd *d, const char *auth) {
    if (!auth || !d->have_admin_token || strncmp(auth, "Bearer ", 7)) return 0;
    uint8_t tok[32];
    if (!node_unhex(tok, 32, auth + 7)) return 0;
    int ok = CRYPTO_memcmp(tok, d->admin_token, 32) == 0;
    node_wipe(tok, sizeof tok);
    return ok;
}

static void h_sign(tkmsd *d, const http_req *rq, http_resp *rs) {
    const char *who = "admin";
    char whohex[65];
    if (!admin_token_ok(d, rq->h_auth)) {
        if (rq->h_auth) return set_err(rs, 401, "unauthenticated", "bad admin token");
        uint8_t key[32];
        if (!check_envelope(d, rq, rs, key)) return;
        pthread_rwlock_rdlock(&d->lock);
        int member = d->group && group_member_by_ed(d->group, key);
        pthread_rwlock_unlock(&d->lock);
        if (!member) return set_err(rs, 401, "unauthenticated", "signer is not an operator of the current epoch");
        node_hex(whohex, key, 32);
        who = whohex;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    json_t *m = j ? json_object_get(j, "msg") : NULL;
    if (!j || !json_is_object(j) || !json_is_string(m) || json_object_size(j) != 1) {
        json_decref(j);
        return set_err(rs, 400, "bad_request", "body must be {\"msg\": HEX}");
    }
    size_t mlen = 0;
    uint8_t *msg = json_string_length(m) <= 2 * MAX_SIGN_MSG ? node_unhex_alloc(json_string_value(m), &mlen) : NULL;
    json_decref(j);
    if (!msg) return set_err(rs, 400, "bad_request", "msg must be hex of at most 65536 bytes");
    g1_t sig;
    g1_affine_t sa;
    uint8_t out[48];
    uint64_t epoch = 0;
    uint32_t index = 0;
    pthread_rwlock_rdlock(&d->lock);
    int serving = d->have_share && d->group;
    if (serving) {
        tbls_partial_sign(&sig, d->share, msg, mlen, (const uint8_t *)SIGN_DST, sizeof SIGN_DST - 1);
        epoch = d->group->epoch;
        index = d->my_index;
    }
    pthread_rwlock_unlock(&d->lock);
    free(msg);
    if (!serving) return set_err(rs, 503, "not_serving", "this node holds no share of the current epoch");
    g1_to_affine(&sa, &sig);
    g1_serialize(out, &sa);
    char ph[97];
    node_hex(ph, out, 48);
    if (log_enabled(LOG_DEBUG))
        log_json(LOG_DEBUG, "sign", json_pack("{s:s, s:I, s:I}", "by", who, "epoch", (json_int_t)epoch, "msg_len", (json_int_t)mlen));
    set_json(rs, 200,
             json_pack("{s:I, s:i, s:s, s:s}", "epoch", (json_int_t)epoch, "index", (int)index, "partial", ph, "node",
                       d->node_id));
    rs->sign = 1;
}

static void h_peer_bundle(tkmsd *d, const http_req *rq, http_resp *rs) {
    uint8_t key[32];
    if (!check_envelope(d, rq, rs, key)) return;
    const char *why = "rejected";
    int status = sched_on_bundle(d->sched, key, rq->body, rq->body_len, &why);
    if (status == 200) {
        metrics_peer(0, 0, 1);
        set_json(rs, 200, json_pack("{s:b}", "accepted", 1));
    } else {
        set_err(rs, status, status == 403 ? "not_a_member" : status == 409 ? "replayed" : "rejected", why);
    }
}

/* App registry anti-entropy: only members of the current (or genesis) committee may ask. */
static void h_peer_apps(tkmsd *d, const http_req *rq, http_resp *rs) {
    uint8_t key[32];
    if (!check_envelope(d, rq, rs, key)) return;
    pthread_rwlock_rdlock(&d->lock);
    int member = d->group ? group_member_by_ed(d->group, key) != NULL : 0;
    for (uint32_t i = 0; !member && !d->group && d->have_genesis && i < d->genesis.n; i++)
        member = !memcmp(d->genesis.members[i].ed, key, 32);
    pthread_rwlock_unlock(&d->lock);
    if (!member) return set_err(rs, 403, "not_a_member", "signer is not an operator of the current epoch");
    relay_peer_sync(d, rq, rs);
}

static void h_proposal(tkmsd *d, const http_req *rq, http_resp *rs) {
    const char *why = "rejected";
    int status = sched_on_proposal(d->sched, (const char *)rq->body, rq->body_len, &why);
    if (status == 200) set_json(rs, 200, json_pack("{s:b}", "accepted", 1));
    else set_err(rs, status, "rejected", why);
}

void api_handle(tkmsd *d, int route, const http_req *rq, http_resp *rs) {
    switch (route) {
    case ROUTE_HEALTH: return h_health(d, rs);
    case ROUTE_GROUP: return h_group(d, rq, rs);
    case ROUTE_METRICS: return h_metrics(d, rs);
    case ROUTE_SIGN: return h_sign(d, rq, rs);
    case ROUTE_PEER_BUNDLE: return h_peer_bundle(d, rq, rs);
    case ROUTE_PROPOSAL: return h_proposal(d, rq, rs);
    case ROUTE_KEYS_APP:
    case ROUTE_SIGN_APP:
    case ROUTE_APPS_POST:
    case ROUTE_APPS_GET: return relay_handle(d, route, rq, rs);
    case ROUTE_PEER_APPS: return h_peer_apps(d, rq, rs);
    default: return set_err(rs, 404, "not_found", "no such endpoint");
    }
}
