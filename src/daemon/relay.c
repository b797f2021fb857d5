/* tkmsd: the relay (struct relay) between the daemon and the key-release library (src/release):
 * the release context on its own SQLite connection, the epoch hook, the HTTP routes, app registry
 * anti-entropy with the peers and the gcp-cs JWKS (file and URL). The protocol logic is the
 * library's. */
#include "tkmsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "release.h"

#define JWKS_MAX (1u << 20)
#define JWKS_RETRY_MS 60000u           /* after a failed URL refresh */

/* One anti-entropy round with one peer (main thread). */
typedef struct peer_round {
    tkmsd *d;
    tkms_release_sync *s;
    char url[256];
    uint64_t started_ms;
    struct peer_round *next;
} peer_round;

struct relay {
    sqlite3 *db; /* the release context's own connection (the store's is not shared) */
    tkms_release_ctx *ctx;
    /* main thread only */
    uint64_t next_sync_ms, next_jwks_ms;
    peer_round *rounds; /* running anti-entropy rounds, one per peer at most */
    int jwks_fetching;
};

/* Audit rows (the library never passes key material, evidence or nonces): every release, app
 * signature and stored statement, and every refusal of genuine evidence. Refusals of requests
 * nobody authenticated (malformed, rate limited, unknown app, forged evidence, ...) are counted in
 * tkms_release_requests_total and sampled in the log instead: anyone can send those, and one row
 * each let unauthenticated traffic grow the table without bound (docs/security.md, "Audit log").
 * Returns 0 when a row to keep could not be written: the handler then refuses a release. */
static int on_audit(void *arg, const tkms_release_audit *a) {
    tkmsd *d = arg;
    int ok = 1;
    if (strcmp(a->decision, "refuse") != 0 || a->genuine) {
        json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "method", a->method, "digest", a->digest,
                                   "source", a->source, "code", a->code, "reason", a->reason, "seq",
                                   (json_int_t)a->seq, "insecure", a->insecure);
        char *dt = detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(detail);
        ok = dt && node_store_audit(d->store, a->endpoint, a->app_id, a->decision, dt) == 1;
        free(dt);
        if (!ok)
            log_json(TLOG_ERROR, "audit_failed",
                     json_pack("{s:s, s:s, s:s, s:s}", "endpoint", a->endpoint, "app_id", a->app_id, "decision",
                               a->decision, "consequence",
                               strcmp(a->decision, "release") == 0 || strcmp(a->decision, "sign") == 0
                                   ? "refused with 503 audit_unavailable (fail closed)"
                               : strcmp(a->decision, "stored") == 0 ? "statement stored without an audit row"
                                                                     : "refused, without an audit row"));
    }
    if (a->insecure) {
        /* insecure-dev evidence proves nothing about the code that receives the key: say so for every
         * release; refusals (anyone can send forged dev evidence) are sampled like request_rejected */
        static log_sampler refusals = LOG_SAMPLER_INIT;
        uint64_t suppressed = 0;
        int released = strcmp(a->decision, "release") == 0 || strcmp(a->decision, "sign") == 0;
        if (released || log_sample(&refusals, 10.0, 50.0, &suppressed))
            log_json(TLOG_WARN, "INSECURE_DEV_EVIDENCE",
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "warning",
                               "insecure-dev evidence accepted by a dev-mode cluster: NOT FOR PRODUCTION", "endpoint",
                               a->endpoint, "app_id", a->app_id, "decision", a->decision, "dev_key", a->digest,
                               "source", a->source, "suppressed_refusals", (json_int_t)suppressed));
        else
            metrics_log_suppressed();
    }
    return ok;
}

static int load_jwks_file(tkmsd *d, tkms_status *st) {
    if (!d->cfg.gcp_jwks_file) return 1;
    char *p = node_path_join(d->cfg.dir, d->cfg.gcp_jwks_file);
    size_t n = 0;
    char *txt = p ? node_read_file(p, &n, JWKS_MAX, st) : NULL;
    int ok = txt != NULL;
    if (ok) {
        json_t *j = json_loadb(txt, n, JSON_REJECT_DUPLICATES, NULL);
        ok = json_is_array(json_object_get(j, "keys"));
        json_decref(j);
        if (!ok) node_err(st, TKMS_CLASS_USAGE, "gcp_jwks_file %s: not a JWKS ({\"keys\": [...]})", p);
    }
    if (ok && !tkms_release_set_jwks(d->relay->ctx, txt, n)) ok = node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    if (ok) logf_(TLOG_INFO, "jwks_loaded", "gcp-cs JWKS loaded from %s", p);
    free(txt);
    free(p);
    return ok;
}

int relay_start(tkmsd *d, tkms_status *st) {
    struct relay *r = calloc(1, sizeof *r);
    if (!r) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    d->relay = r;
    char *path = node_path_join(d->cfg.dir, d->cfg.db);
    if (!path) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
    free(path);
    if (rc != SQLITE_OK) return node_err(st, TKMS_CLASS_STORAGE, "release: cannot open the node DB: %s", sqlite3_errmsg(r->db));
    sqlite3_busy_timeout(r->db, 5000);
    char *em = NULL;
    if (sqlite3_exec(r->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL,
                     &em) != SQLITE_OK) {
        node_err(st, TKMS_CLASS_STORAGE, "release: %s", em ? em : "pragma failed");
        sqlite3_free(em);
        return 0;
    }
    tkms_status es;
    if (!tkms_registry_init(r->db, &es)) return node_err(st, TKMS_CLASS_STORAGE, "app registry: %s", es.msg);
    tkms_release_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db = r->db;
    memcpy(cfg.ed25519_sk, d->sec->ed_sk, 32);
    cfg.audit = on_audit;
    cfg.audit_arg = d;
    cfg.source_rate = (double)d->cfg.release_source_rate;
    cfg.source_burst = (double)d->cfg.release_source_burst;
    cfg.app_rate = (double)d->cfg.release_app_rate;
    cfg.app_burst = (double)d->cfg.release_app_burst;
    cfg.max_apps = (uint64_t)d->cfg.registry_max_apps;
    cfg.max_apps_per_owner = (uint64_t)d->cfg.registry_max_apps_per_owner;
    r->ctx = tkms_release_new(&cfg);
    node_wipe(cfg.ed25519_sk, sizeof cfg.ed25519_sk);
    if (!r->ctx) return node_err(st, TKMS_CLASS_INTERNAL, "cannot create the release context");
    return load_jwks_file(d, st);
}

void relay_stop(tkmsd *d) {
    struct relay *r = d->relay;
    if (!r) return;
    while (r->rounds) { /* rounds whose request was still queued when the peer client stopped */
        peer_round *n = r->rounds->next;
        tkms_release_sync_end(r->rounds->s);
        free(r->rounds);
        r->rounds = n;
    }
    tkms_release_free(r->ctx);
    if (r->db) sqlite3_close(r->db);
    free(r);
    d->relay = NULL;
}

void relay_set_epoch(tkmsd *d, uint64_t epoch, uint32_t index, const fr_t *share, int dev_mode) {
    struct relay *r = d->relay;
    if (!r || !r->ctx) return;
    if (!share) {
        tkms_release_clear_epoch(r->ctx);
        return;
    }
    uint8_t sb[32];
    fr_to_bytes(sb, share);
    int ok = tkms_release_set_epoch(r->ctx, epoch, index, sb, dev_mode);
    node_wipe(sb, sizeof sb);
    if (!ok) {
        tkms_release_clear_epoch(r->ctx);
        logf_(TLOG_ERROR, "release_not_ready", "the share of epoch %llu is not a valid scalar", (unsigned long long)epoch);
        return;
    }
    log_json(dev_mode ? TLOG_WARN : TLOG_INFO, "release_ready",
             json_pack("{s:I, s:i, s:b, s:s}", "epoch", (json_int_t)epoch, "index", (int)index, "dev_mode", dev_mode,
                       "evidence", dev_mode ? "insecure-dev ACCEPTED (development cluster)" : "insecure-dev refused"));
}

long long relay_app_count(tkmsd *d) { return d->relay && d->relay->ctx ? (long long)tkms_release_app_count(d->relay->ctx) : -1; }

static void set_body(http_resp *rs, int status, char *body) {
    static const char oom[] = "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";
    rs->status = body ? status : 500;
    rs->body = body ? body : strdup(oom);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    rs->ctype = "application/json";
}

void relay_handle(tkmsd *d, int route, const http_req *rq, http_resp *rs) {
    struct relay *r = d->relay;
    char *body = NULL;
    int status = 500;
    tkms_release_code code;
    int64_t now = (int64_t)node_now_ms();
    const char *src = rq->source ? rq->source : "";
    const char *req = (const char *)rq->body;
    switch (route) {
    case ROUTE_KEYS_APP:
        code = tkms_release_handle_key(r->ctx, &body, &status, req, rq->body_len, src, now);
        metrics_release(0, (int)code);
        break;
    case ROUTE_SIGN_APP:
        code = tkms_release_handle_sign(r->ctx, &body, &status, req, rq->body_len, src, now);
        metrics_release(1, (int)code);
        break;
    case ROUTE_APPS_POST:
        code = tkms_release_handle_app_update(r->ctx, &body, &status, req, rq->body_len, src, now);
        metrics_release(2, (int)code);
        if (code == TKMS_REL_OK) logf_(TLOG_INFO, "app_stored", "statement stored (from %s)", src);
        break;
    default: /* ROUTE_APPS_GET */
        (void)tkms_release_handle_app_get(r->ctx, &body, &status, rq->path + strlen("/v1/apps/")); /* not in the metrics */
        break;
    }
    set_body(rs, status, body);
}

/* ---- anti-entropy (paged: docs/release-protocol.md §5) ---- */

void relay_peer_sync(tkmsd *d, const http_req *rq, http_resp *rs) {
    char *answer = tkms_release_sync_serve(d->relay->ctx, (const char *)rq->body, rq->body_len);
    if (!answer) {
        rs->status = 400;
        rs->body = strdup("{\"error\":{\"code\":\"bad_request\","
                          "\"message\":\"body must be an app registry digest or pull request\"}}");
        rs->body_len = rs->body ? strlen(rs->body) : 0;
        rs->ctype = "application/json";
        return;
    }
    set_body(rs, 200, answer);
}

static void round_send(peer_round *pr);

static void round_end(peer_round *pr) {
    struct relay *r = pr->d->relay;
    size_t stored = 0, stale = 0, refused = 0, requests = 0;
    tkms_release_sync_counts(pr->s, &stored, &stale, &refused, &requests);
    if (stored || refused)
        log_json(refused ? TLOG_WARN : TLOG_INFO, "apps_synced",
                 json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "peer", pr->url, "stored", (json_int_t)stored, "stale",
                           (json_int_t)stale, "refused", (json_int_t)refused, "requests", (json_int_t)requests, "ms",
                           (json_int_t)(node_mono_ms() - pr->started_ms)));
    for (peer_round **pp = &r->rounds; *pp; pp = &(*pp)->next)
        if (*pp == pr) {
            *pp = pr->next;
            break;
        }
    tkms_release_sync_end(pr->s);
    free(pr);
}

/* One anti-entropy request in flight: the peer it went to, so that every outcome names it. */
typedef struct {
    tkmsd *d;
    char url[256];
} sync_req;

static void on_sync(void *ctx, int ok, long status, const char *body, size_t len) {
    peer_round *pr = ctx;
    tkms_release_code c = tkms_release_sync_answer(pr->s, ok && status == 200 ? body : NULL, len, (int64_t)node_now_ms());
    if (!ok) {
        /* a peer that is down shows in peers_up; say which one only at debug level */
        if (log_enabled(TLOG_DEBUG))
            log_json(TLOG_DEBUG, "apps_sync_failed", json_pack("{s:s, s:s}", "peer", pr->url, "error", "unreachable"));
    } else if (status != 200) {
        log_json(TLOG_WARN, "apps_sync_failed",
                 json_pack("{s:s, s:s, s:i}", "peer", pr->url, "error", "peer refused the request", "status", (int)status));
    } else if (c != TKMS_REL_OK) {
        log_json(TLOG_WARN, "apps_sync_failed",
                 json_pack("{s:s, s:s, s:s}", "peer", pr->url, "error", "the peer's answer was not imported", "code",
                           tkms_release_code_name(c)));
    }
    round_send(pr);
}

static void round_send(peer_round *pr) {
    char *body = atomic_load(&pr->d->stopping) ? NULL : tkms_release_sync_next(pr->s);
    if (!body) {
        round_end(pr);
        return;
    }
    peer_send(pr->d->peers, "POST", pr->url, "/v1/peer/apps", (const uint8_t *)body, strlen(body), 1, on_sync, pr);
    free(body);
}

/* Starts a round with every other member: their bucket digests, then pulls of what differs. */
static void sync_peers(tkmsd *d) {
    struct relay *r = d->relay;
    char(*urls)[256] = calloc(MAX_MEMBERS, sizeof *urls);
    uint32_t k = 0;
    if (!urls) return;
    pthread_rwlock_rdlock(&d->lock);
    const tkms_dkg_member *ms = d->group ? d->group->g.members : d->have_genesis ? d->genesis.members : NULL;
    uint32_t n = d->group ? (uint32_t)d->group->g.n : d->have_genesis ? d->genesis.n : 0;
    for (uint32_t i = 0; ms && i < n; i++)
        if (memcmp(ms[i].sign_pk, d->sec->ed_pk, 32)) snprintf(urls[k++], 256, "%s", ms[i].address);
    pthread_rwlock_unlock(&d->lock);
    for (uint32_t i = 0; i < k; i++) {
        peer_round *pr = calloc(1, sizeof *pr);
        if (pr) pr->s = tkms_release_sync_begin(r->ctx);
        if (!pr || !pr->s) {
            free(pr);
            break;
        }
        pr->d = d;
        memcpy(pr->url, urls[i], sizeof pr->url);
        pr->started_ms = node_mono_ms();
        pr->next = r->rounds;
        r->rounds = pr;
        round_send(pr);
    }
    free(urls);
}

/* ---- JWKS URL ---- */

static void on_jwks(void *ctx, int ok, long status, const char *body, size_t len) {
    tkmsd *d = ctx;
    struct relay *r = d->relay;
    r->jwks_fetching = 0;
    json_t *j = ok && status == 200 && body && len <= JWKS_MAX ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    int good = json_is_array(json_object_get(j, "keys"));
    json_decref(j);
    uint64_t now = node_mono_ms();
    if (good && tkms_release_set_jwks(r->ctx, body, len)) {
        r->next_jwks_ms = now + (uint64_t)d->cfg.gcp_jwks_refresh_s * 1000u;
        logf_(TLOG_INFO, "jwks_refreshed", "gcp-cs JWKS refreshed from %s", d->cfg.gcp_jwks_url);
    } else {
        uint64_t retry = (uint64_t)d->cfg.gcp_jwks_refresh_s * 1000u;
        r->next_jwks_ms = now + (retry < JWKS_RETRY_MS ? retry : JWKS_RETRY_MS);
        logf_(TLOG_WARN, "jwks_refresh_failed", "gcp-cs JWKS from %s: %s (keeping the previous keys)",
              d->cfg.gcp_jwks_url, !ok ? "unreachable" : status != 200 ? "HTTP error" : "not a JWKS");
    }
}

void relay_tick(tkmsd *d) {
    struct relay *r = d->relay;
    if (!r || atomic_load(&d->stopping)) return;
    uint64_t now = node_mono_ms();
    if (now >= r->next_sync_ms && !r->rounds) {
        r->next_sync_ms = now + (uint64_t)d->cfg.app_sync_interval_ms;
        sync_peers(d);
    }
    if (d->cfg.gcp_jwks_url && !r->jwks_fetching && now >= r->next_jwks_ms) {
        r->jwks_fetching = 1;
        peer_send(d->peers, "GET", d->cfg.gcp_jwks_url, "", NULL, 0, 0, on_jwks, d);
    }
}

void relay_reload(tkmsd *d) {
    tkms_status st = {0};
    if (!load_jwks_file(d, &st)) log_json(TLOG_ERROR, "jwks_reload_failed", json_pack("{s:s}", "error", st.msg));
    if (d->relay) d->relay->next_jwks_ms = 0; /* refresh the URL at once */
}
