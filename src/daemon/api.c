/* tkmsd: API handlers -- health, group, metrics, cluster signing (operator approvals and partial
 * signatures), peer protocol endpoints and committee proposals (the key-release routes go to
 * relay.c). Authentication and input checks happen here; protocol logic is the engine's. */
#include "tkmsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <openssl/sha.h>

#include "appkey.h"
#include "g1.h"
#include "tbls.h"

#define MAX_SIGN_MSG 65536
/* An operator's approval of a cluster-signing message lasts ttl_s: default one day, at most 30. */
#define APPROVAL_TTL_DEFAULT_S 86400u
#define APPROVAL_TTL_MAX_S (30u * 86400u)

int api_route(const char *method, const char *path) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (get && !strcmp(path, "/v1/health")) return ROUTE_HEALTH;
    if (get && !strcmp(path, "/v1/group")) return ROUTE_GROUP;
    if (get && !strcmp(path, "/metrics")) return ROUTE_METRICS;
    if (post && !strcmp(path, "/v1/sign")) return ROUTE_SIGN;
    if (post && !strcmp(path, "/v1/sign/approve")) return ROUTE_SIGN_APPROVE;
    if (post && !strcmp(path, "/v1/sign/revoke")) return ROUTE_SIGN_REVOKE;
    if (post && !strcmp(path, "/v1/peer/bundle")) return ROUTE_PEER_BUNDLE;
    if (post && !strcmp(path, "/v1/committee/proposal")) return ROUTE_PROPOSAL;
    if (post && !strcmp(path, "/v1/keys/app")) return ROUTE_KEYS_APP;
    if (post && !strcmp(path, "/v1/sign/app")) return ROUTE_SIGN_APP;
    if (post && !strcmp(path, "/v1/apps")) return ROUTE_APPS_POST;
    if (get && !strncmp(path, "/v1/apps/", 9)) return ROUTE_APPS_GET;
    if (post && !strcmp(path, "/v1/peer/apps")) return ROUTE_PEER_APPS;
    if (post && !strcmp(path, "/v1/peer/noshare")) return ROUTE_PEER_NOSHARE;
    if (post && !strcmp(path, "/v1/peer/nocert")) return ROUTE_PEER_NOCERT;
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
    set_json(rs, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

/* Whether sig is an envelope addressed to this node: to its configured address, or, if that
 * differs, to its own entry in the current group file (what peers sign for). */
static int envelope_for_me(tkmsd *d, const uint8_t sig[64], const uint8_t key[32], const http_req *rq, uint64_t ts) {
    if (node_envelope_verify(sig, key, d->cfg.address, rq->method, rq->path, ts, rq->body, rq->body_len)) return 1;
    char alt[TKMS_DKG_ADDR_MAX] = "";
    pthread_rwlock_rdlock(&d->lock);
    uint32_t me = d->group ? node_group_index(d->group, d->sec->ed_pk) : 0;
    if (me) snprintf(alt, sizeof alt, "%s", d->group->g.members[me - 1].address);
    pthread_rwlock_unlock(&d->lock);
    return alt[0] && strcmp(alt, d->cfg.address) != 0 &&
           node_envelope_verify(sig, key, alt, rq->method, rq->path, ts, rq->body, rq->body_len);
}

/* Checks the signed envelope headers: the signature must name this node as its destination (its
 * address: configured, or as the group file lists it), the timestamp is strict decimal within
 * the accepted skew, and the signature was not seen before. Returns 0 with rs set on failure; key
 * receives the signer. */
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
    uint64_t ts = 0;
    if (!node_parse_u64(rq->h_time, &ts)) {
        set_err(rs, 401, "bad_request", "X-Tkms-Time must be Unix milliseconds in plain decimal digits");
        return 0;
    }
    uint64_t now = node_now_ms(), skew = (uint64_t)d->cfg.clock_skew_s * 1000u;
    if (ts > UINT64_MAX - skew || ts + skew < now || ts > now + skew) {
        set_err(rs, 401, "stale", "X-Tkms-Time outside the accepted clock skew");
        return 0;
    }
    if (!envelope_for_me(d, sig, key, rq, ts)) {
        char m[384];
        snprintf(m, sizeof m, "envelope signature does not verify (it must be signed for this node's address %.256s)",
                 d->cfg.address);
        set_err(rs, 401, "bad_signature", m);
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
    json_object_set_new(j, "epoch", d->group ? json_integer((json_int_t)d->group->g.epoch) : json_null());
    json_object_set_new(j, "threshold", d->group ? json_integer(d->group->g.t) : json_null());
    json_object_set_new(j, "members", d->group ? json_integer(d->group->g.n) : json_null());
    json_object_set_new(j, "index", d->my_index ? json_integer(d->my_index) : json_null());
    if (d->group) {
        uint8_t mpk[96];
        char h[193];
        g2_serialize(mpk, &d->group->g.poly[0]);
        tkms_hex(h, mpk, 96);
        json_object_set_new(j, "mpk", json_string(h));
    }
    pthread_rwlock_unlock(&d->lock);
    json_object_set_new(j, "node", json_string(d->node_id));
    json_object_set_new(j, "version", json_string(TKMS_VERSION));
    json_object_set_new(j, "server_time_utc", json_integer((json_int_t)(node_now_ms() / 1000)));
    json_object_set_new(j, "peers_up", json_integer(atomic_load(&d->peers_up)));
    json_object_set_new(j, "next_reshare", json_integer((json_int_t)atomic_load(&d->next_reshare_s)));
    json_object_set_new(j, "session", d->sched ? sched_status(d->sched) : json_null());
    if (d->sched) sched_health(d->sched, j);
    set_json(rs, state == NODE_SERVING ? 200 : state == NODE_SYNCING ? 429 : 503, j);
}

static void h_group(tkmsd *d, const http_req *rq, http_resp *rs) {
    if (rq->query_epoch) {
        uint64_t e = 0;
        if (!node_parse_u64(rq->query_epoch, &e))
            return set_err(rs, 400, "bad_request", "epoch must be a decimal integer 0..18446744073709551615 (no sign, "
                                                   "spaces or leading zeros)");
        /* UINT64_MAX is the store's "latest" sentinel; no certified epoch can have that number */
        if (e == UINT64_MAX) return set_err(rs, 404, "not_found", "no certified group for that epoch");
        char *json = NULL;
        tkms_status st = {0};
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
        g.epoch = (long long)d->group->g.epoch;
        g.threshold = d->group->g.t;
        g.n = d->group->g.n;
        g.peers = d->group->g.n - (d->my_index ? 1 : 0);
    }
    pthread_rwlock_unlock(&d->lock);
    g.serving = atomic_load(&d->state) == NODE_SERVING;
    pthread_rwlock_rdlock(&d->lock);
    g.has_share = d->have_share && d->group;
    pthread_rwlock_unlock(&d->lock);
    g.share_holders = atomic_load(&d->share_holders);
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

/* This node's own operator: its admin token, or an envelope signed with the node's own identity key
 * (the operator key; `tkms sign approve --node-config`). Another member's envelope is refused: a
 * cluster signature must mean that t operators each approved it, so no node acts on a peer's word.
 * Returns 0 with rs set on failure; who receives "admin" or the key's hex. */
static int own_operator(tkmsd *d, const http_req *rq, http_resp *rs, char who[65]) {
    if (rq->h_auth) {
        if (!admin_token_ok(d, rq->h_auth)) {
            set_err(rs, 401, "unauthenticated", "bad admin token (each node has its own admin token)");
            return 0;
        }
        snprintf(who, 65, "admin");
        return 1;
    }
    uint8_t key[32];
    if (!check_envelope(d, rq, rs, key)) return 0;
    if (CRYPTO_memcmp(key, d->sec->ed_pk, 32) != 0) {
        set_err(rs, 403, "not_own_operator",
                "only this node's own operator (its admin token or its node key) may approve cluster signatures");
        return 0;
    }
    tkms_hex(who, key, 32);
    return 1;
}

/* Parses {"msg": HEX} (plus the optional integer fields named in extra) into a malloc'd message.
 * Returns NULL with rs set. */
static uint8_t *sign_body(const http_req *rq, http_resp *rs, size_t *mlen, const char *extra, json_int_t *extra_val) {
    json_error_t je;
    json_t *j = json_loadb((const char *)rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    json_t *m = json_is_object(j) ? json_object_get(j, "msg") : NULL;
    json_t *x = extra && json_is_object(j) ? json_object_get(j, extra) : NULL;
    size_t want = 1 + (x != NULL);
    if (!json_is_string(m) || json_object_size(j) != want || (x && !json_is_integer(x))) {
        json_decref(j);
        if (extra) {
            char e[128];
            snprintf(e, sizeof e, "body must be {\"msg\": HEX} or {\"msg\": HEX, \"%s\": N}", extra);
            set_err(rs, 400, "bad_request", e);
        } else {
            set_err(rs, 400, "bad_request", "body must be {\"msg\": HEX}");
        }
        return NULL;
    }
    if (x) *extra_val = json_integer_value(x);
    uint8_t *msg = json_string_length(m) <= 2 * MAX_SIGN_MSG ? node_unhex_alloc(json_string_value(m), mlen) : NULL;
    json_decref(j);
    if (!msg) set_err(rs, 400, "bad_request", "msg must be hex of at most 65536 bytes");
    return msg;
}

/* POST /v1/sign/approve: this node's operator approves a cluster-signing message (by its SHA-256)
 * for ttl_s seconds; from then on the node releases its partial on that message to anyone. */
static void h_sign_approve(tkmsd *d, const http_req *rq, http_resp *rs) {
    char who[65];
    if (!own_operator(d, rq, rs, who)) return;
    size_t mlen = 0;
    json_int_t ttl = APPROVAL_TTL_DEFAULT_S;
    uint8_t *msg = sign_body(rq, rs, &mlen, "ttl_s", &ttl);
    if (!msg) return;
    uint8_t h[32];
    SHA256(msg, mlen, h);
    free(msg);
    if (ttl < 1 || ttl > (json_int_t)APPROVAL_TTL_MAX_S)
        return set_err(rs, 400, "bad_request", "ttl_s must be 1..2592000 (30 days)");
    uint64_t now = node_now_ms(), exp = now + (uint64_t)ttl * 1000u;
    tkms_status st = {0};
    if (!node_store_put_approval(d->store, h, now, exp, who, &st)) return set_err(rs, 503, "storage", st.msg);
    char hh[65];
    tkms_hex(hh, h, 32);
    char detail[160];
    snprintf(detail, sizeof detail, "{\"by\":\"%s\",\"msg_len\":%zu,\"expires_ms\":%llu}", who, mlen,
             (unsigned long long)exp);
    node_store_audit(d->store, "cluster_sign", hh, "approve", detail);
    log_json(TLOG_INFO, "sign_approved",
             json_pack("{s:s, s:s, s:I, s:I}", "msg_sha256", hh, "by", who, "msg_len", (json_int_t)mlen, "expires_ms",
                       (json_int_t)exp));
    set_json(rs, 200, json_pack("{s:s, s:I, s:s}", "approved", hh, "expires_ms", (json_int_t)exp, "node", d->node_id));
    rs->sign = 1;
}

/* POST /v1/sign/revoke: withdraws this node's approval (own operator only). */
static void h_sign_revoke(tkmsd *d, const http_req *rq, http_resp *rs) {
    char who[65];
    if (!own_operator(d, rq, rs, who)) return;
    size_t mlen = 0;
    uint8_t *msg = sign_body(rq, rs, &mlen, NULL, NULL);
    if (!msg) return;
    uint8_t h[32];
    SHA256(msg, mlen, h);
    free(msg);
    tkms_status st = {0};
    int found = 0;
    if (!node_store_revoke_approval(d->store, h, node_now_ms(), &found, &st)) return set_err(rs, 503, "storage", st.msg);
    char hh[65];
    tkms_hex(hh, h, 32);
    char detail[96];
    snprintf(detail, sizeof detail, "{\"by\":\"%s\"}", who);
    node_store_audit(d->store, "cluster_sign", hh, found ? "revoke" : "revoke_none", detail);
    log_json(TLOG_INFO, "sign_revoked", json_pack("{s:s, s:s, s:b}", "msg_sha256", hh, "by", who, "was_approved", found));
    set_json(rs, 200, json_pack("{s:s, s:b, s:s}", "revoked", hh, "was_approved", found, "node", d->node_id));
    rs->sign = 1;
}

/* POST /v1/sign: this node's partial cluster signature on msg, under the cluster-signing DST (never
 * the app-message DST, which only the attested /v1/sign/app reaches), if and only if this node's
 * own operator approved msg and the approval has not expired. No credentials are needed: the
 * approval is the authority, and a partial on an approved message is meant to be combined. */
static void h_sign(tkmsd *d, const http_req *rq, http_resp *rs) {
    size_t mlen = 0;
    uint8_t *msg = sign_body(rq, rs, &mlen, NULL, NULL);
    if (!msg) return;
    uint8_t h[32];
    SHA256(msg, mlen, h);
    uint64_t exp = 0;
    tkms_status st = {0};
    if (!node_store_get_approval(d->store, h, node_now_ms(), &exp, &st)) {
        free(msg);
        return set_err(rs, 503, "storage", st.msg);
    }
    if (!exp) {
        free(msg);
        return set_err(rs, 403, "not_approved",
                       "this node's operator has not approved this message (tkms sign approve), or the approval expired");
    }
    g1_t sig;
    g1_affine_t sa;
    uint8_t out[48];
    uint64_t epoch = 0;
    uint32_t index = 0;
    pthread_rwlock_rdlock(&d->lock);
    int serving = d->have_share && d->group && atomic_load(&d->epoch_confirmed);
    if (serving) {
        tbls_partial_sign(&sig, d->share, msg, mlen, (const uint8_t *)TKMS_DST_CLUSTER_SIGN,
                          TKMS_TAG_LEN(TKMS_DST_CLUSTER_SIGN));
        epoch = d->group->g.epoch;
        index = d->my_index;
    }
    pthread_rwlock_unlock(&d->lock);
    free(msg);
    if (!serving) return set_err(rs, 503, "not_serving", "this node holds no share of the current epoch");
    g1_to_affine(&sa, &sig);
    g1_serialize(out, &sa);
    char ph[97];
    tkms_hex(ph, out, 48);
    if (log_enabled(TLOG_DEBUG))
        log_json(TLOG_DEBUG, "sign", json_pack("{s:I, s:I}", "epoch", (json_int_t)epoch, "msg_len", (json_int_t)mlen));
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
    int member = d->group ? node_group_index(d->group, key) != 0 : 0;
    for (uint32_t i = 0; !member && !d->group && d->have_genesis && i < d->genesis.n; i++)
        member = !memcmp(d->genesis.members[i].sign_pk, key, 32);
    pthread_rwlock_unlock(&d->lock);
    if (!member) return set_err(rs, 403, "not_a_member", "signer is not an operator of the current epoch");
    relay_peer_sync(d, rq, rs);
}

/* A member announces that it holds no share of the current epoch (repair, docs/dkg.md). */
static void h_peer_noshare(tkmsd *d, const http_req *rq, http_resp *rs) {
    uint8_t key[32];
    if (!check_envelope(d, rq, rs, key)) return;
    const char *why = "rejected";
    int status = sched_on_noshare(d->sched, key, rq->body, rq->body_len, &why);
    if (status == 200) set_json(rs, 200, json_pack("{s:b}", "accepted", 1));
    else set_err(rs, status, status == 403 ? "not_a_member" : status == 409 ? "stale_epoch" : "bad_request", why);
}

/* A member promises never to sign a CERT of an attempt (docs/dkg.md, "Attempts"). */
static void h_peer_nocert(tkmsd *d, const http_req *rq, http_resp *rs) {
    uint8_t key[32];
    if (!check_envelope(d, rq, rs, key)) return;
    const char *why = "rejected";
    int status = sched_on_nocert(d->sched, key, rq->body, rq->body_len, &why);
    if (status == 200) set_json(rs, 200, json_pack("{s:b}", "accepted", 1));
    else set_err(rs, status, status == 403 ? "not_a_member" : status == 409 ? "stale_epoch" : "bad_request", why);
}

static void h_proposal(tkmsd *d, const http_req *rq, http_resp *rs) {
    char why[256] = "rejected";
    int status = sched_on_proposal(d->sched, (const char *)rq->body, rq->body_len, why, sizeof why);
    if (status == 200) set_json(rs, 200, json_pack("{s:b}", "accepted", 1));
    else set_err(rs, status, "rejected", why);
}

void api_handle(tkmsd *d, int route, const http_req *rq, http_resp *rs) {
    switch (route) {
    case ROUTE_HEALTH: return h_health(d, rs);
    case ROUTE_GROUP: return h_group(d, rq, rs);
    case ROUTE_METRICS: return h_metrics(d, rs);
    case ROUTE_SIGN: return h_sign(d, rq, rs);
    case ROUTE_SIGN_APPROVE: return h_sign_approve(d, rq, rs);
    case ROUTE_SIGN_REVOKE: return h_sign_revoke(d, rq, rs);
    case ROUTE_PEER_BUNDLE: return h_peer_bundle(d, rq, rs);
    case ROUTE_PROPOSAL: return h_proposal(d, rq, rs);
    case ROUTE_KEYS_APP:
    case ROUTE_SIGN_APP:
    case ROUTE_APPS_POST:
    case ROUTE_APPS_GET: return relay_handle(d, route, rq, rs);
    case ROUTE_PEER_APPS: return h_peer_apps(d, rq, rs);
    case ROUTE_PEER_NOSHARE: return h_peer_noshare(d, rq, rs);
    case ROUTE_PEER_NOCERT: return h_peer_nocert(d, rq, rs);
    default: return set_err(rs, 404, "not_found", "no such endpoint");
    }
}
