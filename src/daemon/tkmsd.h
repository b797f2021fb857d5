/* tkmsd internals: daemon state shared by the HTTP handlers (worker threads), the peer client and
 * the scheduler (main thread). The daemon moves bytes, persists and schedules; protocol logic is
 * in the sans-I/O engine (src/dkg). */
#ifndef TKMSD_H
#define TKMSD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "fr.h"
#include "g2.h"
#include "node.h"

/* ---- logging ---- */
enum { TLOG_DEBUG = 0, TLOG_INFO = 1, TLOG_WARN = 2, TLOG_ERROR = 3 };
void log_set_level(const char *name);
void log_set_node(const char *node_id);
int log_enabled(int level);
/* Takes ownership of fields (may be NULL). */
void log_json(int level, const char *event, json_t *fields);
void logf_(int level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sampling of a class of log lines that unauthenticated traffic can cause (refused requests): a
 * token bucket of `rate` lines/s, bursts of `burst`. Returns 1 if this line may be written, with
 * *suppressed = lines dropped since the last one written (log it with the line). */
typedef struct {
    pthread_mutex_t mu;
    double tokens;
    uint64_t last_ms, suppressed;
} log_sampler;
#define LOG_SAMPLER_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}
int log_sample(log_sampler *ls, double rate, double burst, uint64_t *suppressed);

/* ---- metrics ---- */
enum { ROUTE_HEALTH, ROUTE_GROUP, ROUTE_METRICS, ROUTE_SIGN, ROUTE_PEER_BUNDLE, ROUTE_PROPOSAL,
       ROUTE_KEYS_APP, ROUTE_SIGN_APP, ROUTE_APPS_POST, ROUTE_APPS_GET, ROUTE_PEER_APPS, ROUTE_SIGN_APPROVE,
       ROUTE_SIGN_REVOKE, ROUTE_PEER_NOSHARE, ROUTE_PEER_NOCERT, ROUTE_OTHER, ROUTE_COUNT };
/* Routes whose error bodies follow docs/release-protocol.md §3: {"error":{"code","message"}}. */
#define ROUTE_IS_RELEASE(r) ((r) >= ROUTE_KEYS_APP && (r) <= ROUTE_APPS_GET)
typedef struct {
    long long epoch;
    unsigned threshold, n, peers, peers_up, share_holders;
    int serving, session_active, has_share;
    uint64_t next_reshare_s;
    long long clock_offset_ms;
    long long registry_apps, registry_max_apps; /* -1: unknown */
} metrics_gauges;
/* Repair reshares (ok/failed) and no-share announcements (sent/received). */
void metrics_repair(int ok);
void metrics_noshare(int sent);
void metrics_request(int route, int status, uint64_t us);
void metrics_reshare(int is_dkg, int ok, uint64_t ms);
void metrics_peer(int out_ok, int out_fail, int in);
void metrics_rejected(void);
void metrics_log_suppressed(void); /* a sampled-out log line */
/* Early-bundle buffer (early.c): bytes and bundles held, bundles dropped so far (refused, evicted,
 * expired). */
void metrics_early(size_t bytes, size_t bundles, uint64_t dropped_total);
/* HTTP connection limits (http.c): open connections, refusals at accept, deadlines that fired. */
enum { HTTP_REFUSED_PER_SOURCE, HTTP_REFUSED_CAPACITY, HTTP_REFUSED_COUNT };
enum { HTTP_TIMEOUT_HEAD, HTTP_TIMEOUT_BODY, HTTP_TIMEOUT_WRITE, HTTP_TIMEOUT_COUNT };
void metrics_http_connections(unsigned long open);
void metrics_http_refused(int reason);
void metrics_http_timeout(int phase);
/* Release requests by endpoint (0 keys/app, 1 sign/app, 2 apps) and result (tkms_release_code). */
void metrics_release(int endpoint, int code);
char *metrics_render(const metrics_gauges *g); /* malloc'd */

/* ---- the daemon ---- */
typedef enum { NODE_NOT_READY = 0, NODE_SYNCING = 1, NODE_SERVING = 2 } node_state;

typedef struct tkmsd {
    node_config cfg;
    node_secrets *sec; /* locked memory */
    node_store *store;
    char node_id[65];

    /* Current certified epoch; guarded by lock (read: signing, health; write: epoch change). */
    pthread_rwlock_t lock;
    node_group *group;    /* NULL before the DKG */
    int have_share;
    uint32_t my_index; /* 0 if not a member of the current epoch */
    fr_t *share;       /* locked memory, valid if have_share */
    int have_genesis;
    genesis_t genesis;

    uint8_t admin_token[32];
    int have_admin_token;

    _Atomic int state;       /* node_state */
    _Atomic int session_active;
    _Atomic int pending_join; /* a verified proposal makes this node a member at the next reshare */
    _Atomic unsigned peers_up;
    _Atomic int stopping;
    _Atomic int active_requests;
    _Atomic uint64_t next_reshare_s;
    /* The installed epoch is known to be current: this node certified it, or a probe round found
     * at least t - 1 peers at it. Until then a share loaded from the store (e.g. a restored old
     * backup) is not served (docs/operator.md, "Backups"). */
    _Atomic int epoch_confirmed;
    _Atomic unsigned share_holders; /* members known to hold a share of the current epoch */

    struct peer_client *peers;
    struct sched *sched;
    struct relay *relay; /* key release and app registry (relay.c) */
} tkmsd;

extern tkmsd *g_d;

/* ---- HTTP server ---- */
struct http_req_s;
struct http_resp_s;
/* What the server serves: the router (a ROUTE_* for the admission and priority rules) and the
 * handler the workers call (api.c; given by main, so the server does not depend on the routes). */
typedef struct {
    int (*route)(const char *method, const char *path);
    void (*handle)(tkmsd *d, int route, const struct http_req_s *rq, struct http_resp_s *rs);
} http_app;
/* Binds the listener (after raising RLIMIT_NOFILE as the connection limits need) and starts the
 * I/O thread and the workers. Returns 1, or 0 with st set. */
int http_start(tkmsd *d, const http_app *app, tkms_status *st);
/* SIGTERM: closes the listener and idle connections; running requests finish (Connection: close). */
void http_quiesce(tkmsd *d);
void http_stop(tkmsd *d);
/* Re-reads the committee's addresses (current group, else genesis) whose IPv4 literals get the
 * reserved connection slots and the members' worker. Main thread, after the group changes. */
void http_members_changed(tkmsd *d);

/* An HTTP request as the handlers see it. */
typedef struct http_req_s {
    const char *method, *path, *query_epoch;
    const char *h_key, *h_time, *h_sig, *h_auth, *h_ctype;
    const char *source; /* client IP address (rate limiting, audit) */
    const uint8_t *body;
    size_t body_len;
} http_req;
typedef struct http_resp_s {
    int status;
    char *body; /* malloc'd */
    size_t body_len;
    const char *ctype;
    int sign; /* add X-Tkms-Key/Time/Sig signed by the node key */
} http_resp;

/* ---- API handlers (api.c) ---- */
int api_route(const char *method, const char *path);
void api_handle(tkmsd *d, int route, const http_req *rq, http_resp *rs);

/* ---- the next session's committee (plan.c) ---- */
typedef struct {
    int is_dkg;
    int from_proposal; /* the members and threshold are those of a verified committee proposal */
    uint64_t epoch;
    uint32_t n_new, t_new, t_old;
    uint8_t prev_group_id[32]; /* the current group's id; SHA-256("") for the DKG */
    tkms_dkg_member members[TKMS_DKG_MAX_N];
} next_committee;
/* The committee of the session after the current epoch: the DKG's (genesis members) before any
 * group, else the current group's, or that of the verified committee proposal for this epoch.
 * Returns 0 if there is neither group nor genesis. Called with d->lock held (reading). */
int daemon_next_committee(tkmsd *d, next_committee *c);
/* Whether this node takes part (an old or a new member). d->lock held. */
int daemon_in_committee(const tkmsd *d, const next_committee *c);

/* ---- the current epoch (epoch.c) ---- */
/* Loads the newest certified group and the current share from the store (or, for a new operator,
 * the join_group file, verified). Returns 1, or 0 with st set. */
int daemon_load_epoch(tkmsd *d, tkms_status *st);
/* Installs the epoch's group and share (the scheduler calls it after a certification and at
 * start-up). Takes ownership of g. share may be NULL. */
void daemon_install_epoch(tkmsd *d, node_group *g, const fr_t *share, uint32_t index);
/* Marks the installed epoch current (see epoch_confirmed): the share, if any, is served from now. */
void daemon_confirm_epoch(tkmsd *d);
/* Recomputes the state health reports (serving / syncing / not ready). */
void daemon_refresh_state(tkmsd *d);

/* ---- peer client (libcurl multi; main thread only) ---- */
typedef void (*peer_done_fn)(void *ctx, int ok, long status, const char *body, size_t len);
struct peer_client *peer_new(tkmsd *d);
void peer_free(struct peer_client *p);
/* Queues a request (thread-safe). body may be NULL for GET. Signed with the node key when
 * sign is set. cb (may be NULL) runs on the main thread. */
void peer_send(struct peer_client *p, const char *method, const char *base_url, const char *path,
               const uint8_t *body, size_t len, int sign, peer_done_fn cb, void *ctx);
/* Drives transfers for up to timeout_ms; returns the number still running. */
int peer_poll(struct peer_client *p, int timeout_ms);
void peer_wakeup(struct peer_client *p);
int peer_pending(struct peer_client *p);

/* ---- scheduler / engine driver (sched.c) ---- */
struct sched *sched_new(tkmsd *d);
void sched_free(struct sched *s);
/* Runs due work: session start at slots, engine ticks, anti-entropy. Main thread. */
void sched_tick(struct sched *s);
/* Peer bundle from a worker thread; returns an HTTP status and a short reason. */
int sched_on_bundle(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why);
/* Committee proposal (verified JSON) submitted by an operator. Returns an HTTP status; on a refusal
 * the reason goes into the caller's why (why_len bytes; worker threads call this concurrently). */
int sched_on_proposal(struct sched *s, const char *json, size_t len, char *why, size_t why_len);
json_t *sched_status(struct sched *s); /* for /v1/health */
/* Adds the share-holder, repair and clock fields of /v1/health to j. */
void sched_health(struct sched *s, json_t *j);
/* Signed no-share announcement of a member (POST /v1/peer/noshare, envelope already checked,
 * ts_ms from it). Returns an HTTP status; why is set when it is not 200. */
int sched_on_noshare(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why);
/* A member's promise never to sign a CERT of an attempt of the next epoch's session (POST
 * /v1/peer/nocert, envelope already checked; docs/dkg.md, "Attempts"). Returns an HTTP status. */
int sched_on_nocert(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why);

/* ---- key release and app registry (relay.c; the handlers are src/release) ---- */
/* Opens the release context's own connection to the node DB (WAL), initialises the registry and
 * loads the gcp-cs JWKS file. Before daemon_load_epoch. Returns 1 or 0 with st set. */
int relay_start(tkmsd *d, tkms_status *st);
void relay_stop(tkmsd *d);
/* Installs (share != NULL) or clears the release context's epoch. Called by daemon_install_epoch. */
void relay_set_epoch(tkmsd *d, uint64_t epoch, uint32_t index, const fr_t *share, int dev_mode);
/* SIGHUP: re-reads the JWKS file and refreshes the URL at once. */
void relay_reload(tkmsd *d);
/* Main thread: anti-entropy with peers and JWKS URL refreshes when due. */
void relay_tick(tkmsd *d);
/* Apps in the registry (-1 if unknown), for the metrics. */
long long relay_app_count(tkmsd *d);
/* HTTP handlers for ROUTE_KEYS_APP .. ROUTE_APPS_GET (worker threads). */
void relay_handle(tkmsd *d, int route, const http_req *rq, http_resp *rs);
/* POST /v1/peer/apps (authenticated peer): body = the peer's registry summary; answers the
 * statements it lacks. */
void relay_peer_sync(tkmsd *d, const http_req *rq, http_resp *rs);

#endif
