/* tkmsd: Prometheus metrics (counters and latency histograms kept with atomics; text exposition). */
#include "tkmsd.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release.h"

static const double BUCKETS_S[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB (sizeof BUCKETS_S / sizeof BUCKETS_S[0])
static const double RESHARE_BUCKETS_S[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define NRB (sizeof RESHARE_BUCKETS_S / sizeof RESHARE_BUCKETS_S[0])

typedef struct {
    _Atomic unsigned long long code[6]; /* 1xx..5xx by first digit; [0] unused */
    _Atomic unsigned long long bucket[NB + 1];
    _Atomic unsigned long long sum_us;
    _Atomic unsigned long long count;
} route_stats;

static route_stats g_routes[ROUTE_COUNT];
static _Atomic unsigned long long g_reshare_ok, g_reshare_fail, g_dkg_ok, g_dkg_fail;
static _Atomic unsigned long long g_reshare_bucket[NRB + 1], g_reshare_sum_ms, g_reshare_count;
static _Atomic unsigned long long g_peer_msgs_out, g_peer_msgs_fail, g_peer_msgs_in, g_rejected;

static const char *route_name(int r) {
    static const char *n[ROUTE_COUNT] = {"health", "group", "metrics", "sign", "peer_bundle", "proposal",
                                         "keys_app", "sign_app", "apps_post", "apps_get", "peer_apps", "sign_approve",
                                         "sign_revoke", "peer_noshare", "peer_nocert", "other"};
    return n[r];
}

void metrics_request(int route, int status, uint64_t us) {
    route_stats *r = &g_routes[route];
    int c = status / 100;
    if (c >= 1 && c <= 5) atomic_fetch_add(&r->code[c], 1);
    double s = (double)us / 1e6;
    size_t b = 0;
    while (b < NB && s > BUCKETS_S[b]) b++;
    atomic_fetch_add(&r->bucket[b], 1);
    atomic_fetch_add(&r->sum_us, us);
    atomic_fetch_add(&r->count, 1);
}

void metrics_reshare(int is_dkg, int ok, uint64_t ms) {
    if (is_dkg) atomic_fetch_add(ok ? &g_dkg_ok : &g_dkg_fail, 1);
    else atomic_fetch_add(ok ? &g_reshare_ok : &g_reshare_fail, 1);
    if (!ok) return;
    double s = (double)ms / 1e3;
    size_t b = 0;
    while (b < NRB && s > RESHARE_BUCKETS_S[b]) b++;
    atomic_fetch_add(&g_reshare_bucket[b], 1);
    atomic_fetch_add(&g_reshare_sum_ms, ms);
    atomic_fetch_add(&g_reshare_count, 1);
}

void metrics_peer(int out_ok, int out_fail, int in) {
    atomic_fetch_add(&g_peer_msgs_out, (unsigned long long)out_ok);
    atomic_fetch_add(&g_peer_msgs_fail, (unsigned long long)out_fail);
    atomic_fetch_add(&g_peer_msgs_in, (unsigned long long)in);
}

void metrics_rejected(void) { atomic_fetch_add(&g_rejected, 1); }

static _Atomic unsigned long long g_repair_ok, g_repair_fail, g_noshare_sent, g_noshare_recv;
void metrics_repair(int ok) { atomic_fetch_add(ok ? &g_repair_ok : &g_repair_fail, 1); }
void metrics_noshare(int sent) { atomic_fetch_add(sent ? &g_noshare_sent : &g_noshare_recv, 1); }

static _Atomic unsigned long long g_early_bytes, g_early_bundles, g_early_dropped, g_log_suppressed;

void metrics_log_suppressed(void) { atomic_fetch_add(&g_log_suppressed, 1); }

void metrics_early(size_t bytes, size_t bundles, uint64_t dropped_total) {
    atomic_store(&g_early_bytes, (unsigned long long)bytes);
    atomic_store(&g_early_bundles, (unsigned long long)bundles);
    atomic_store(&g_early_dropped, (unsigned long long)dropped_total);
}

static _Atomic unsigned long g_http_open;
static _Atomic unsigned long long g_http_refused[HTTP_REFUSED_COUNT], g_http_timeout[HTTP_TIMEOUT_COUNT];

void metrics_http_connections(unsigned long open) { atomic_store(&g_http_open, open); }
void metrics_http_refused(int reason) { atomic_fetch_add(&g_http_refused[reason], 1); }
void metrics_http_timeout(int phase) { atomic_fetch_add(&g_http_timeout[phase], 1); }

#define REL_CODES 32
static _Atomic unsigned long long g_release[3][REL_CODES];

void metrics_release(int endpoint, int code) {
    if (endpoint >= 0 && endpoint < 3 && code >= 0 && code < REL_CODES) atomic_fetch_add(&g_release[endpoint][code], 1);
}

/* Appends to a growing buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) return;
        if (b->p && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 8192) + (size_t)w;
        char *np = realloc(b->p, nc);
        if (!np) return;
        b->p = np;
        b->cap = nc;
    }
}

char *metrics_render(const metrics_gauges *g) {
    sbuf b = {0};
    sb_printf(&b, "# HELP tkms_epoch Current certified epoch (-1 before the DKG).\n# TYPE tkms_epoch gauge\n");
    sb_printf(&b, "tkms_epoch %lld\n", g->epoch);
    sb_printf(&b, "# HELP tkms_threshold Threshold t of the current epoch.\n# TYPE tkms_threshold gauge\n");
    sb_printf(&b, "tkms_threshold %u\n", g->threshold);
    sb_printf(&b, "# HELP tkms_committee_size Members n of the current epoch.\n# TYPE tkms_committee_size gauge\n");
    sb_printf(&b, "tkms_committee_size %u\n", g->n);
    sb_printf(&b, "# HELP tkms_serving 1 if this node holds a share of the current epoch.\n# TYPE tkms_serving gauge\n");
    sb_printf(&b, "tkms_serving %d\n", g->serving);
    sb_printf(&b, "# HELP tkms_has_share 1 if this node holds a share of the current epoch (served or not).\n"
                  "# TYPE tkms_has_share gauge\n");
    sb_printf(&b, "tkms_has_share %d\n", g->has_share);
    sb_printf(&b, "# HELP tkms_share_holders Members known (last probe round) to hold a share of the current epoch, "
                  "this node included; below tkms_threshold the master secret is lost.\n# TYPE tkms_share_holders gauge\n");
    sb_printf(&b, "tkms_share_holders %u\n", g->share_holders);
    sb_printf(&b, "# HELP tkms_repairs_total Repair reshares run by this node, by result.\n# TYPE tkms_repairs_total counter\n");
    sb_printf(&b, "tkms_repairs_total{result=\"ok\"} %llu\n", (unsigned long long)g_repair_ok);
    sb_printf(&b, "tkms_repairs_total{result=\"failed\"} %llu\n", (unsigned long long)g_repair_fail);
    sb_printf(&b, "# HELP tkms_noshare_announcements_total No-share announcements sent and received.\n"
                  "# TYPE tkms_noshare_announcements_total counter\n");
    sb_printf(&b, "tkms_noshare_announcements_total{dir=\"out\"} %llu\n", (unsigned long long)g_noshare_sent);
    sb_printf(&b, "tkms_noshare_announcements_total{dir=\"in\"} %llu\n", (unsigned long long)g_noshare_recv);
    sb_printf(&b, "# HELP tkms_peers_up Peers that answered the last probe.\n# TYPE tkms_peers_up gauge\n");
    sb_printf(&b, "tkms_peers_up %u\n", g->peers_up);
    sb_printf(&b, "# HELP tkms_peers Peers in the current committee (excluding this node).\n# TYPE tkms_peers gauge\n");
    sb_printf(&b, "tkms_peers %u\n", g->peers);
    sb_printf(&b, "# HELP tkms_session_active 1 while a DKG or reshare session runs.\n# TYPE tkms_session_active gauge\n");
    sb_printf(&b, "tkms_session_active %d\n", g->session_active);
    sb_printf(&b, "# HELP tkms_next_reshare_timestamp_seconds Start of the next reshare slot.\n"
                  "# TYPE tkms_next_reshare_timestamp_seconds gauge\n");
    sb_printf(&b, "tkms_next_reshare_timestamp_seconds %llu\n", (unsigned long long)g->next_reshare_s);
    if (g->registry_apps >= 0) {
        sb_printf(&b, "# HELP tkms_registry_apps Apps in this node's registry.\n# TYPE tkms_registry_apps gauge\n");
        sb_printf(&b, "tkms_registry_apps %lld\n", g->registry_apps);
        sb_printf(&b, "# HELP tkms_registry_max_apps registry_max_apps: new apps are refused (registry_full) at this size.\n"
                      "# TYPE tkms_registry_max_apps gauge\ntkms_registry_max_apps %lld\n",
                  g->registry_max_apps);
    }
    sb_printf(&b, "# HELP tkms_sessions_total Finished protocol sessions by kind and result.\n# TYPE tkms_sessions_total counter\n");
    sb_printf(&b, "tkms_sessions_total{kind=\"dkg\",result=\"ok\"} %llu\n", (unsigned long long)g_dkg_ok);
    sb_printf(&b, "tkms_sessions_total{kind=\"dkg\",result=\"failed\"} %llu\n", (unsigned long long)g_dkg_fail);
    sb_printf(&b, "tkms_sessions_total{kind=\"reshare\",result=\"ok\"} %llu\n", (unsigned long long)g_reshare_ok);
    sb_printf(&b, "tkms_sessions_total{kind=\"reshare\",result=\"failed\"} %llu\n", (unsigned long long)g_reshare_fail);
    sb_printf(&b, "# HELP tkms_session_duration_seconds Duration of successful DKG/reshare sessions.\n"
                  "# TYPE tkms_session_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t i = 0; i < NRB; i++) {
        cum += g_reshare_bucket[i];
        sb_printf(&b, "tkms_session_duration_seconds_bucket{le=\"%g\"} %llu\n", RESHARE_BUCKETS_S[i], cum);
    }
    cum += g_reshare_bucket[NRB];
    sb_printf(&b, "tkms_session_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    sb_printf(&b, "tkms_session_duration_seconds_sum %.3f\n", (double)g_reshare_sum_ms / 1e3);
    sb_printf(&b, "tkms_session_duration_seconds_count %llu\n", (unsigned long long)g_reshare_count);
    sb_printf(&b, "# HELP tkms_peer_messages_total Peer protocol messages.\n# TYPE tkms_peer_messages_total counter\n");
    sb_printf(&b, "tkms_peer_messages_total{dir=\"out\",result=\"ok\"} %llu\n", (unsigned long long)g_peer_msgs_out);
    sb_printf(&b, "tkms_peer_messages_total{dir=\"out\",result=\"failed\"} %llu\n", (unsigned long long)g_peer_msgs_fail);
    sb_printf(&b, "tkms_peer_messages_total{dir=\"in\",result=\"accepted\"} %llu\n", (unsigned long long)g_peer_msgs_in);
    sb_printf(&b, "# HELP tkms_early_bundle_bytes Bytes of peer bundles held for a session that has not started here.\n"
                  "# TYPE tkms_early_bundle_bytes gauge\ntkms_early_bundle_bytes %llu\n",
              (unsigned long long)g_early_bytes);
    sb_printf(&b, "# HELP tkms_early_bundles Peer bundles held for a session that has not started here.\n"
                  "# TYPE tkms_early_bundles gauge\ntkms_early_bundles %llu\n",
              (unsigned long long)g_early_bundles);
    sb_printf(&b, "# HELP tkms_early_bundles_dropped_total Early bundles refused, evicted or expired.\n"
                  "# TYPE tkms_early_bundles_dropped_total counter\ntkms_early_bundles_dropped_total %llu\n",
              (unsigned long long)g_early_dropped);
    sb_printf(&b, "# HELP tkms_rejected_requests_total Requests refused as bad input or unauthenticated.\n"
                  "# TYPE tkms_rejected_requests_total counter\n");
    sb_printf(&b, "tkms_rejected_requests_total %llu\n", (unsigned long long)g_rejected);
    sb_printf(&b, "# HELP tkms_log_lines_suppressed_total request_rejected log lines sampled out (at most 10/s are "
                  "written).\n# TYPE tkms_log_lines_suppressed_total counter\ntkms_log_lines_suppressed_total %llu\n",
              (unsigned long long)g_log_suppressed);
    sb_printf(&b, "# HELP tkms_http_connections Open HTTP connections.\n# TYPE tkms_http_connections gauge\n");
    sb_printf(&b, "tkms_http_connections %lu\n", (unsigned long)g_http_open);
    sb_printf(&b, "# HELP tkms_http_connections_refused_total Connections refused at accept (per_source: the "
                  "address's limit; capacity: no free slot).\n# TYPE tkms_http_connections_refused_total counter\n");
    sb_printf(&b, "tkms_http_connections_refused_total{reason=\"per_source\"} %llu\n",
              (unsigned long long)g_http_refused[HTTP_REFUSED_PER_SOURCE]);
    sb_printf(&b, "tkms_http_connections_refused_total{reason=\"capacity\"} %llu\n",
              (unsigned long long)g_http_refused[HTTP_REFUSED_CAPACITY]);
    sb_printf(&b, "# HELP tkms_http_timeouts_total Connections closed by a deadline, by phase.\n"
                  "# TYPE tkms_http_timeouts_total counter\n");
    static const char *const phase[HTTP_TIMEOUT_COUNT] = {"head", "body", "write"};
    for (int i = 0; i < HTTP_TIMEOUT_COUNT; i++)
        sb_printf(&b, "tkms_http_timeouts_total{phase=\"%s\"} %llu\n", phase[i], (unsigned long long)g_http_timeout[i]);
    static const char *const rel_ep[3] = {"keys/app", "sign/app", "apps"};
    sb_printf(&b, "# HELP tkms_release_requests_total Release, app-signing and app-registry requests by endpoint and "
                  "result (ok or the error code).\n# TYPE tkms_release_requests_total counter\n");
    for (int e = 0; e < 3; e++)
        for (int c = 0; c < REL_CODES; c++)
            if (g_release[e][c] || (c == 0 && e == 0))
                sb_printf(&b, "tkms_release_requests_total{endpoint=\"%s\",result=\"%s\"} %llu\n", rel_ep[e],
                          c == 0 ? "ok" : tkms_release_code_name((tkms_release_code)c),
                          (unsigned long long)g_release[e][c]);
    sb_printf(&b, "# HELP tkms_http_requests_total HTTP requests by route and status class.\n"
                  "# TYPE tkms_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int c = 1; c <= 5; c++)
            if (g_routes[r].code[c])
                sb_printf(&b, "tkms_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n", route_name(r), c,
                          (unsigned long long)g_routes[r].code[c]);
    sb_printf(&b, "# HELP tkms_http_request_duration_seconds HTTP request latency by route.\n"
                  "# TYPE tkms_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        if (!g_routes[r].count) continue;
        cum = 0;
        for (size_t i = 0; i < NB; i++) {
            cum += g_routes[r].bucket[i];
            sb_printf(&b, "tkms_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_name(r),
                      BUCKETS_S[i], cum);
        }
        cum += g_routes[r].bucket[NB];
        sb_printf(&b, "tkms_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_name(r), cum);
        sb_printf(&b, "tkms_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_name(r),
                  (double)g_routes[r].sum_us / 1e6);
        sb_printf(&b, "tkms_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(r),
                  (unsigned long long)g_routes[r].count);
    }
    return b.p;
}
