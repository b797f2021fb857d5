/* tkmsd: the HTTP server (libmicrohttpd thread pool): body accumulation with a hard size limit,
 * routing, request metrics, signed responses, graceful quiesce for SIGTERM. */
#include "tkmsd.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define REJECT_LOG_RATE 10.0  /* request_rejected lines per second ... */
#define REJECT_LOG_BURST 50.0 /* ... with bursts of this many */

static struct MHD_Daemon *g_mhd;

typedef struct {
    uint8_t *body;
    size_t len, cap;
    int too_big;
    uint64_t start_us;
    int counted;
} req_ctx;

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, tkmsd *d, const char *path, http_resp *rs) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs->body_len, rs->body ? rs->body : (char *)"", MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", rs->ctype ? rs->ctype : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (rs->sign && d->sec) {
        uint64_t ts = node_now_ms();
        uint8_t sig[64];
        if (node_envelope_sign(sig, d->sec->ed_sk, "", "RESPONSE", path, ts, (const uint8_t *)rs->body, rs->body_len)) {
            char sh[129], tb[24];
            node_hex(sh, sig, 64);
            snprintf(tb, sizeof tb, "%llu", (unsigned long long)ts);
            MHD_add_response_header(r, "X-Tkms-Key", d->node_id);
            MHD_add_response_header(r, "X-Tkms-Time", tb);
            MHD_add_response_header(r, "X-Tkms-Sig", sh);
        }
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void simple_error(http_resp *rs, int route, int status, const char *code, const char *msg) {
    rs->status = status;
    /* the release endpoints' errors follow docs/release-protocol.md §3 */
    json_t *j = ROUTE_IS_RELEASE(route) ? json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg)
                                        : json_pack("{s:[s], s:s}", "errors", msg, "code", code);
    rs->body = json_dumps(j, JSON_COMPACT);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    json_decref(j);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    tkmsd *d = cls;
    req_ctx *rc = *con_cls;
    if (!rc) {
        rc = calloc(1, sizeof *rc);
        if (!rc) return MHD_NO;
        rc->start_us = now_us();
        *con_cls = rc;
        atomic_fetch_add(&d->active_requests, 1);
        rc->counted = 1;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)d->cfg.max_body_bytes) rc->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rc->too_big) {
            if (rc->len + *upload_size > (size_t)d->cfg.max_body_bytes) {
                rc->too_big = 1;
                free(rc->body);
                rc->body = NULL;
                rc->len = rc->cap = 0;
            } else {
                if (rc->len + *upload_size + 1 > rc->cap) {
                    size_t nc = (rc->len + *upload_size + 1) * 2;
                    if (nc > (size_t)d->cfg.max_body_bytes + 1) nc = (size_t)d->cfg.max_body_bytes + 1;
                    uint8_t *nb = realloc(rc->body, nc);
                    if (!nb) return MHD_NO;
                    rc->body = nb;
                    rc->cap = nc;
                }
                memcpy(rc->body + rc->len, upload, *upload_size);
                rc->len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    int route = api_route(method, url);
    http_resp rs = {0};
    char peer[INET6_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, peer, sizeof peer);
    else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, peer, sizeof peer);
    if (rc->too_big) {
        simple_error(&rs, route, 413, ROUTE_IS_RELEASE(route) ? "too_large" : "body_too_large",
                     "request body exceeds max_body_bytes");
        metrics_rejected();
    } else if (atomic_load(&d->stopping) && route != ROUTE_HEALTH && route != ROUTE_METRICS) {
        simple_error(&rs, route, 503, ROUTE_IS_RELEASE(route) ? "not_ready" : "shutting_down", "node is shutting down");
    } else {
        if (rc->body) rc->body[rc->len] = 0;
        http_req rq = {
            .method = method,
            .path = url,
            .query_epoch = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "epoch"),
            .h_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tkms-Key"),
            .h_time = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tkms-Time"),
            .h_sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tkms-Sig"),
            .h_auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
            .h_ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
            .source = peer,
            .body = rc->body ? rc->body : (const uint8_t *)"",
            .body_len = rc->len,
        };
        api_handle(d, route, &rq, &rs);
    }
    if (rs.status >= 400 && rs.status != 429 && rs.status != 503 && log_enabled(rs.status == 404 ? LOG_DEBUG : LOG_WARN)) {
        /* Anyone can cause these: sampled (the metrics count every one), so a flood of refused
         * requests cannot fill the disk through the log. */
        static log_sampler sampler = LOG_SAMPLER_INIT;
        uint64_t suppressed = 0;
        if (log_sample(&sampler, REJECT_LOG_RATE, REJECT_LOG_BURST, &suppressed))
            log_json(rs.status == 404 ? LOG_DEBUG : LOG_WARN, "request_rejected",
                     json_pack("{s:s, s:s, s:i, s:s, s:s%, s:I}", "method", method, "path", url, "status", rs.status,
                               "peer", peer, "reason", rs.body ? rs.body : "",
                               (size_t)(rs.body_len > 300 ? 300 : rs.body_len), "suppressed", (json_int_t)suppressed));
        else
            metrics_log_suppressed();
    }
    enum MHD_Result ret = send_resp(c, d, url, &rs);
    metrics_request(route, rs.status, now_us() - rc->start_us);
    free(rs.body);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    tkmsd *d = cls;
    req_ctx *rc = *con_cls;
    if (!rc) return;
    if (rc->counted) atomic_fetch_sub(&d->active_requests, 1);
    free(rc->body);
    free(rc);
    *con_cls = NULL;
}

int http_start(tkmsd *d, node_status *st) {
    char host[256];
    const char *colon = strrchr(d->cfg.listen, ':');
    size_t hl = (size_t)(colon - d->cfg.listen);
    if (hl >= sizeof host) return node_err(st, NS_USAGE, "listen address too long");
    memcpy(host, d->cfg.listen, hl);
    host[hl] = 0;
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535) return node_err(st, NS_USAGE, "bad listen port in '%s'", d->cfg.listen);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET}, *ai = NULL;
        if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
            return node_err(st, NS_USAGE, "cannot resolve listen host '%s'", host);
        sa.sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        freeaddrinfo(ai);
    }
    g_mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO,
                             (uint16_t)port, NULL, NULL, handler, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_THREAD_POOL_SIZE, (unsigned)d->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                             (unsigned)d->cfg.request_timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_NOTIFY_COMPLETED,
                             completed, d, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!g_mhd) return node_err(st, NS_USAGE, "cannot listen on %s (address in use?)", d->cfg.listen);
    return 1;
}

void http_quiesce(tkmsd *d) {
    (void)d;
    if (g_mhd) {
        MHD_socket s = MHD_quiesce_daemon(g_mhd);
        if (s != MHD_INVALID_SOCKET) close(s);
    }
}

void http_stop(tkmsd *d) {
    (void)d;
    if (g_mhd) MHD_stop_daemon(g_mhd);
    g_mhd = NULL;
}
