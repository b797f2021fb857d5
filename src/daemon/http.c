/* tkmsd: the HTTP/1.1 server. One I/O thread (epoll) accepts, reads and writes every connection and
 * enforces the limits -- a total and a per-source connection cap with slots reserved for committee
 * members, total deadlines for a request's head and body that trickled bytes do not extend, bounded
 * head and body sizes, the strict parser of http_parse.c. Complete requests go to worker threads
 * (one of them serves committee members only), which run the handlers and sign the answers; the
 * I/O thread writes them. docs/security.md says why it is not libmicrohttpd. */
#define _GNU_SOURCE
#include "tkmsd.h"
#include "http_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINGER_MS 2000              /* after a final answer, unread input is drained this long ... */
#define LINGER_MAX_BYTES (1u << 20) /* ... or up to this much, so the answer is not lost to a RST */
#define REFUSING_MAX 64             /* refused connections being answered 503 at once; more are closed */
#define FD_HEADROOM 256             /* fds beyond the connections: store, peer client, log, JWKS */
#define SWEEP_MS 100                /* deadline resolution */
#define SUMMARY_MS 10000            /* at most one http_limits log line per 10 s */
#define LEARNED_MAX 64              /* member addresses learned from authenticated peer requests */
#define LEARNED_TTL_MS (3600u * 1000u)
#define BODY_BUDGET_FACTOR 64 /* request bodies buffered at once: at most 64 x max_body_bytes */

#define REJECT_LOG_RATE 10.0  /* request_rejected lines per second ... */
#define REJECT_LOG_BURST 50.0 /* ... with bursts of this many */

typedef enum { C_HEAD, C_BODY, C_BUSY, C_WRITE, C_LINGER } cstate;

typedef struct conn {
    struct conn *prev, *next; /* live list (I/O thread) */
    struct conn *qnext;       /* work queue or done list */
    int fd;
    uint32_t src;             /* IPv4 address, network byte order */
    char src_str[INET_ADDRSTRLEN];
    int refusing;             /* a refused connection being answered; not an admitted one */
    cstate state;
    int in_epoll;
    uint32_t events;
    unsigned served;                          /* requests answered on this connection */
    uint64_t head_deadline, req_deadline, deadline; /* monotonic ms */
    char *head;
    size_t hlen, scanned, head_len;
    hp_request req;
    int route;
    uint8_t *body;
    size_t body_len, body_got;
    int pipelined;   /* bytes after the request arrived before its answer */
    int close_after; /* answer with Connection: close, then close */
    int counted;     /* counted in d->active_requests */
    uint64_t start_us;
    char *out;
    size_t out_len, out_off;
    size_t lingered;
} conn;

typedef struct {
    uint32_t addr, n;
} src_slot;

typedef struct server {
    tkmsd *d;
    http_app app;
    int lfd, ep, wake, spare;
    pthread_t io;
    int io_started;
    pthread_t *workers;
    size_t nworkers, started;
    size_t max_conn, per_source, reserved, max_head;
    size_t open, refusing, body_bytes; /* I/O thread only */
    conn *live;
    src_slot *src_tab; /* open connections per source address (open addressing), I/O thread only */
    size_t src_mask;
    /* work queues: members first; the last worker takes members only */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    conn *mq, *mq_tail, *cq, *cq_tail;
    int stop_workers;
    pthread_mutex_t dmu;
    conn *done;
    _Atomic int quiesce, stop;
    int quiesced;
    /* committee source addresses */
    pthread_mutex_t mmu;
    uint32_t members[2 * MAX_MEMBERS];
    size_t nmembers;
    struct {
        uint32_t addr;
        uint64_t seen_ms;
    } learned[LEARNED_MAX];
    /* http_limits summary */
    uint64_t last_summary;
    unsigned long long n_refused[HTTP_REFUSED_COUNT], n_timeout[HTTP_TIMEOUT_COUNT];
    unsigned long long logged_refused[HTTP_REFUSED_COUNT], logged_timeout[HTTP_TIMEOUT_COUNT];
} server;

static server *g_srv;

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void wake(server *s) {
    uint64_t one = 1;
    ssize_t w = write(s->wake, &one, sizeof one);
    (void)w; /* a full eventfd counter still wakes the loop */
}

/* ---- committee source addresses ---- */

/* The IPv4 literal of a member's URL (http://1.2.3.4:7000/...), if it has one. */
static int url_ipv4(const char *url, uint32_t *out) {
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, ":/?#");
    char host[64];
    if (n == 0 || n >= sizeof host) return 0;
    memcpy(host, h, n);
    host[n] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1) return 0;
    *out = a.s_addr;
    return 1;
}

static int is_member(server *s, uint32_t a, uint64_t now_ms) {
    int m = 0;
    pthread_mutex_lock(&s->mmu);
    for (size_t i = 0; !m && i < s->nmembers; i++) m = s->members[i] == a;
    for (size_t i = 0; !m && i < LEARNED_MAX; i++)
        m = s->learned[i].addr == a && now_ms - s->learned[i].seen_ms < LEARNED_TTL_MS;
    pthread_mutex_unlock(&s->mmu);
    return m;
}

/* A request from a that the handlers authenticated as a committee member (peer envelope checked,
 * signer in the committee): a peer whose address is a host name, or is behind NAT, gets the
 * reserved slots from then on. */
static void learn_member(server *s, uint32_t a, uint64_t now_ms) {
    pthread_mutex_lock(&s->mmu);
    size_t slot = 0;
    for (size_t i = 0; i < LEARNED_MAX; i++) {
        if (s->learned[i].addr == a) {
            slot = i;
            break;
        }
        if (s->learned[i].seen_ms < s->learned[slot].seen_ms) slot = i;
    }
    s->learned[slot].addr = a;
    s->learned[slot].seen_ms = now_ms;
    pthread_mutex_unlock(&s->mmu);
}

void http_members_changed(tkmsd *d) {
    server *s = g_srv;
    if (!s) return;
    uint32_t tmp[2 * MAX_MEMBERS];
    size_t n = 0;
    pthread_rwlock_rdlock(&d->lock);
    if (d->group)
        for (uint32_t i = 0; i < d->group->g.n && n < 2 * MAX_MEMBERS; i++) n += url_ipv4(d->group->g.members[i].address, &tmp[n]);
    if (d->have_genesis)
        for (uint32_t i = 0; i < d->genesis.n && n < 2 * MAX_MEMBERS; i++)
            n += url_ipv4(d->genesis.members[i].address, &tmp[n]);
    pthread_rwlock_unlock(&d->lock);
    pthread_mutex_lock(&s->mmu);
    memcpy(s->members, tmp, n * sizeof tmp[0]);
    s->nmembers = n;
    pthread_mutex_unlock(&s->mmu);
}

/* ---- open connections per source (I/O thread) ---- */

static size_t src_home(const server *s, uint32_t a) {
    uint32_t h = a; /* lowbias32: spreads adjacent addresses */
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h & s->src_mask;
}

static size_t src_find(const server *s, uint32_t a) {
    size_t i = src_home(s, a);
    while (s->src_tab[i].addr && s->src_tab[i].addr != a) i = (i + 1) & s->src_mask;
    return i;
}

static uint32_t src_count(const server *s, uint32_t a) {
    size_t i = src_find(s, a);
    return s->src_tab[i].addr ? s->src_tab[i].n : 0;
}

/* The table has twice as many slots as connections can be open, so it never fills. */
static void src_inc(server *s, uint32_t a) {
    size_t i = src_find(s, a);
    s->src_tab[i].addr = a;
    s->src_tab[i].n++;
}

static void src_dec(server *s, uint32_t a) {
    size_t i = src_find(s, a);
    if (!s->src_tab[i].addr || --s->src_tab[i].n) return;
    /* backward-shift deletion: no tombstones, every probe chain stays intact */
    size_t j = i;
    for (;;) {
        s->src_tab[i].addr = 0;
        s->src_tab[i].n = 0;
        size_t k;
        do {
            j = (j + 1) & s->src_mask;
            if (!s->src_tab[j].addr) return;
            k = src_home(s, s->src_tab[j].addr);
        } while (i <= j ? (i < k && k <= j) : (i < k || k <= j));
        s->src_tab[i] = s->src_tab[j];
        i = j;
    }
}

/* ---- responses ---- */

static const char *status_text(int st) {
    switch (st) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return st < 300 ? "OK" : st < 500 ? "Client Error" : "Server Error";
    }
}

/* Status line, headers and body in one buffer (c->out). The signed-response headers cover the
 * path and the body exactly as docs/operator.md §4 says. Returns 0 on allocation failure. */
static int build_response(tkmsd *d, conn *c, const http_resp *rs) {
    char hdr[1024], date[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
                     "Content-Length: %zu\r\n",
                     rs->status, status_text(rs->status), date, rs->ctype ? rs->ctype : "application/json",
                     rs->body_len);
    if (rs->sign && d->sec && c->req.path) {
        uint64_t ts = node_now_ms();
        uint8_t sig[64];
        if (node_envelope_sign(sig, d->sec->ed_sk, "", "RESPONSE", c->req.path, ts, (const uint8_t *)rs->body,
                               rs->body_len)) {
            char sh[129];
            tkms_hex(sh, sig, 64);
            n += snprintf(hdr + n, sizeof hdr - (size_t)n, "X-Tkms-Key: %s\r\nX-Tkms-Time: %llu\r\nX-Tkms-Sig: %s\r\n",
                          d->node_id, (unsigned long long)ts, sh);
        }
    }
    if (rs->status == 503 && !rs->sign) n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Retry-After: 1\r\n");
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s\r\n", c->close_after ? "Connection: close\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof hdr) return 0; /* cannot happen: the fields are bounded */
    size_t blen = c->req.method && !strcmp(c->req.method, "HEAD") ? 0 : rs->body_len;
    c->out = malloc((size_t)n + blen);
    if (!c->out) return 0;
    memcpy(c->out, hdr, (size_t)n);
    if (blen) memcpy(c->out + n, rs->body, blen);
    c->out_len = (size_t)n + blen;
    c->out_off = 0;
    return 1;
}

static void simple_error(http_resp *rs, int status, const char *code, const char *msg) {
    rs->status = status;
    /* every route answers errors in one shape, {"error": {"code", "message"}} (docs/release-protocol.md §3) */
    json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    rs->body = json_dumps(j, JSON_COMPACT);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    json_decref(j);
}

static void log_rejected(const conn *c, const http_resp *rs) {
    int lvl = rs->status == 404 ? TLOG_DEBUG : TLOG_WARN;
    if (rs->status < 400 || rs->status == 429 || rs->status == 503 || !log_enabled(lvl)) return;
    /* Anyone can cause these: sampled (the metrics count every one), so a flood of refused
     * requests cannot fill the disk through the log. */
    static log_sampler sampler = LOG_SAMPLER_INIT;
    uint64_t suppressed = 0;
    if (!log_sample(&sampler, REJECT_LOG_RATE, REJECT_LOG_BURST, &suppressed)) {
        metrics_log_suppressed();
        return;
    }
    log_json(lvl, "request_rejected",
             json_pack("{s:s, s:s, s:i, s:s, s:s%, s:I}", "method", c->req.method ? c->req.method : "?", "path",
                       c->req.path ? c->req.path : "?", "status", rs->status, "peer", c->src_str, "reason",
                       rs->body ? rs->body : "", (size_t)(rs->body_len > 300 ? 300 : rs->body_len), "suppressed",
                       (json_int_t)suppressed));
}

/* ---- connection life cycle (I/O thread) ---- */

static void set_events(server *s, conn *c, uint32_t ev) {
    if (c->in_epoll && c->events == ev) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(s->ep, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == 0) {
        c->in_epoll = 1;
        c->events = ev;
    }
}

static void unwatch(server *s, conn *c) {
    if (c->in_epoll) epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->in_epoll = 0;
}

/* Admitted connections; the (at most REFUSING_MAX) refused ones being answered are not counted. */
static void publish_open(server *s) { metrics_http_connections((unsigned long)s->open); }

/* Ends the current request: body freed, no longer counted as running. */
static void end_request(server *s, conn *c) {
    if (c->counted) atomic_fetch_sub(&s->d->active_requests, 1);
    c->counted = 0;
    if (c->body) {
        s->body_bytes -= c->body_len;
        free(c->body);
        c->body = NULL;
    }
    c->body_len = c->body_got = 0;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
}

static void conn_close(server *s, conn *c) {
    unwatch(s, c);
    close(c->fd);
    end_request(s, c);
    free(c->head);
    if (c->refusing) s->refusing--;
    else {
        s->open--;
        src_dec(s, c->src);
    }
    if (c->prev) c->prev->next = c->next;
    else s->live = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
    publish_open(s);
}

static void reset_deadlines(server *s, conn *c, uint64_t now) {
    c->head_deadline = now + (uint64_t)s->d->cfg.header_timeout_ms;
    c->req_deadline = now + (uint64_t)s->d->cfg.request_timeout_s * 1000u;
    c->deadline = c->head_deadline < c->req_deadline ? c->head_deadline : c->req_deadline;
}

static void begin_linger(server *s, conn *c, uint64_t now) {
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->lingered = 0;
    c->deadline = now + LINGER_MS;
    set_events(s, c, EPOLLIN);
}

static void response_done(server *s, conn *c, uint64_t now) {
    end_request(s, c);
    c->served++;
    if (c->close_after || c->refusing || atomic_load(&s->quiesce)) return begin_linger(s, c, now);
    /* keep-alive: the next request's deadlines start now; an idle connection costs no buffer */
    free(c->head);
    c->head = NULL;
    c->hlen = c->scanned = c->head_len = 0;
    c->pipelined = 0;
    memset(&c->req, 0, sizeof c->req);
    c->route = ROUTE_OTHER;
    c->start_us = 0;
    c->state = C_HEAD;
    reset_deadlines(s, c, now);
    set_events(s, c, EPOLLIN);
}

static void do_write(server *s, conn *c, uint64_t now) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return set_events(s, c, EPOLLOUT);
        return conn_close(s, c);
    }
    response_done(s, c, now);
}

static void start_write(server *s, conn *c, uint64_t now) {
    c->state = C_WRITE;
    c->deadline = now + (uint64_t)s->d->cfg.request_timeout_s * 1000u;
    do_write(s, c, now);
}

/* An answer decided by the I/O thread (malformed or refused request): logged, counted, and the
 * connection closed after it. */
static void answer_error(server *s, conn *c, int status, const char *code, const char *why, uint64_t now) {
    http_resp rs = {0};
    simple_error(&rs, status, code, why);
    log_rejected(c, &rs);
    if (status != 503) metrics_rejected();
    metrics_request(c->route, status, c->start_us ? now_us() - c->start_us : 0);
    c->close_after = 1;
    int ok = build_response(s->d, c, &rs);
    free(rs.body);
    if (!ok) return conn_close(s, c);
    start_write(s, c, now);
}

static void dispatch(server *s, conn *c, uint64_t now) {
    if (c->body) c->body[c->body_len] = 0;
    c->state = C_BUSY;
    unwatch(s, c); /* the worker owns it now; no event may touch it */
    int member = is_member(s, c->src, now);
    pthread_mutex_lock(&s->qmu);
    c->qnext = NULL;
    conn **head = member ? &s->mq : &s->cq, **tail = member ? &s->mq_tail : &s->cq_tail;
    if (*tail) (*tail)->qnext = c;
    else *head = c;
    *tail = c;
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
}

static void head_complete(server *s, conn *c, uint64_t now) {
    tkmsd *d = s->d;
    const char *why = "malformed request";
    int st = hp_parse(&c->req, c->head, c->head_len, &why);
    c->route = c->req.method && c->req.path ? s->app.route(c->req.method, c->req.path) : ROUTE_OTHER;
    c->start_us = now_us();
    atomic_fetch_add(&d->active_requests, 1);
    c->counted = 1;
    if (st) {
        const char *code = st == 431   ? "header_too_large"
                           : st == 411 ? "length_required"
                           : st == 417 ? "expectation_failed"
                           : st == 505 ? "http_version"
                                       : "bad_request";
        return answer_error(s, c, st, code, why, now);
    }
    c->close_after = c->req.close;
    uint64_t cl = c->req.has_length ? c->req.content_length : 0;
    if (cl > (uint64_t)d->cfg.max_body_bytes)
        return answer_error(s, c, 413, "too_large",
                            "request body exceeds max_body_bytes", now);
    if (s->body_bytes + cl > (size_t)d->cfg.max_body_bytes * BODY_BUDGET_FACTOR)
        return answer_error(s, c, 503, ROUTE_IS_RELEASE(c->route) ? "not_ready" : "busy",
                            "too many request bodies in flight; retry", now);
    c->body = malloc((size_t)cl + 1);
    if (!c->body) return conn_close(s, c);
    c->body_len = (size_t)cl;
    s->body_bytes += c->body_len;
    size_t extra = c->hlen - c->head_len, take = extra < c->body_len ? extra : c->body_len;
    memcpy(c->body, c->head + c->head_len, take);
    c->body_got = take;
    if (extra > take) c->pipelined = 1;
    if (c->body_got == c->body_len) return dispatch(s, c, now);
    if (c->req.expect_continue && extra == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof cont - 1))
            return conn_close(s, c);
    }
    c->state = C_BODY;
    c->deadline = c->req_deadline;
}

static void on_readable(server *s, conn *c, uint64_t now) {
    if (c->state == C_LINGER) {
        char scratch[16384];
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0 || (c->lingered += (size_t)n) > LINGER_MAX_BYTES) conn_close(s, c);
        return;
    }
    if (c->state == C_BODY) {
        ssize_t n = recv(c->fd, c->body + c->body_got, c->body_len - c->body_got, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0) return conn_close(s, c);
        c->body_got += (size_t)n;
        if (c->body_got == c->body_len) dispatch(s, c, now);
        return;
    }
    if (c->state != C_HEAD) return;
    if (!c->head && !(c->head = malloc(s->max_head))) return conn_close(s, c);
    ssize_t n = recv(c->fd, c->head + c->hlen, s->max_head - c->hlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) return conn_close(s, c);
    c->hlen += (size_t)n;
    const char *why = "malformed request";
    int r = hp_scan(c->head, c->hlen, &c->scanned, &c->head_len, &why);
    if (r == HP_BAD) return answer_error(s, c, 400, "bad_request", why, now);
    if (r == HP_MORE) {
        if (c->hlen == s->max_head)
            answer_error(s, c, 431, "header_too_large", "request head exceeds max_header_bytes", now);
        return;
    }
    head_complete(s, c, now);
}

static void refuse(server *s, int fd, uint32_t src, int reason, uint64_t now) {
    static const char body[] = "{\"error\":{\"code\":\"connection_limit\",\"message\":\"connection limit reached\"}}";
    static char resp[256];
    static int resp_len;
    if (!resp_len)
        resp_len = snprintf(resp, sizeof resp,
                            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                            "Cache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            sizeof body - 1, body);
    metrics_http_refused(reason);
    s->n_refused[reason]++;
    conn *c = s->refusing < REFUSING_MAX ? calloc(1, sizeof *c) : NULL;
    char *out = c ? malloc((size_t)resp_len) : NULL;
    if (!out) {
        /* too many answers pending already: best effort, then close at once (reading what already
         * arrived first, so the close is a FIN rather than a RST that could destroy the answer) */
        free(c);
        char scratch[4096];
        if (send(fd, resp, (size_t)resp_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* best effort: the client may be gone already */
        }
        if (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) < 0) {
            /* nothing pending */
        }
        close(fd);
        return;
    }
    memcpy(out, resp, (size_t)resp_len);
    c->fd = fd;
    c->src = src;
    c->route = ROUTE_OTHER;
    c->refusing = 1;
    c->out = out;
    c->out_len = (size_t)resp_len;
    c->next = s->live;
    if (s->live) s->live->prev = c;
    s->live = c;
    s->refusing++;
    publish_open(s);
    start_write(s, c, now);
}

static void accept_ready(server *s, uint64_t now) {
    for (int k = 0; k < 256; k++) {
        struct sockaddr_in sa = {0};
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if ((errno == EMFILE || errno == ENFILE) && s->spare >= 0) {
                /* out of fds despite the limits: use the spare to take one pending connection off the
                 * backlog and close it, so the loop does not spin on a readable listener */
                close(s->spare);
                int x = accept(s->lfd, NULL, NULL);
                if (x >= 0) close(x);
                s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
                metrics_http_refused(HTTP_REFUSED_CAPACITY);
                s->n_refused[HTTP_REFUSED_CAPACITY]++;
            }
            return;
        }
        uint32_t a = sa.sin_addr.s_addr;
        int member = is_member(s, a, now);
        if (s->open >= s->max_conn || (!member && s->open + s->reserved >= s->max_conn)) {
            refuse(s, fd, a, HTTP_REFUSED_CAPACITY, now);
            continue;
        }
        if (!member && src_count(s, a) >= s->per_source) {
            refuse(s, fd, a, HTTP_REFUSED_PER_SOURCE, now);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->src = a;
        inet_ntop(AF_INET, &sa.sin_addr, c->src_str, sizeof c->src_str);
        c->route = ROUTE_OTHER;
        c->state = C_HEAD;
        reset_deadlines(s, c, now);
        c->next = s->live;
        if (s->live) s->live->prev = c;
        s->live = c;
        s->open++;
        src_inc(s, a);
        set_events(s, c, EPOLLIN);
        if (!c->in_epoll) {
            conn_close(s, c);
            continue;
        }
        publish_open(s);
    }
}

/* A deadline fired. A connection that sent part of a request gets a short 408 (best effort, no
 * lingering: it is the slow client's problem); an idle keep-alive connection is just closed. */
static void expire(server *s, conn *c) {
    static const char r408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    int phase = -1;
    if (c->state == C_HEAD && (c->hlen || !c->served)) phase = HTTP_TIMEOUT_HEAD;
    else if (c->state == C_BODY) phase = HTTP_TIMEOUT_BODY;
    else if (c->state == C_WRITE && !c->refusing) phase = HTTP_TIMEOUT_WRITE;
    if (phase >= 0) {
        metrics_http_timeout(phase);
        s->n_timeout[phase]++;
    }
    if ((c->state == C_HEAD && c->hlen) || c->state == C_BODY) {
        ssize_t w = send(c->fd, r408, sizeof r408 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    conn_close(s, c);
}

static void sweep(server *s, uint64_t now) {
    for (conn *c = s->live, *n; c; c = n) {
        n = c->next;
        if (c->state != C_BUSY && now >= c->deadline) expire(s, c);
    }
    if (now - s->last_summary < SUMMARY_MS) return;
    s->last_summary = now;
    unsigned long long dr[HTTP_REFUSED_COUNT], dt[HTTP_TIMEOUT_COUNT], any = 0;
    for (int i = 0; i < HTTP_REFUSED_COUNT; i++) {
        dr[i] = s->n_refused[i] - s->logged_refused[i];
        any += dr[i];
    }
    for (int i = 0; i < HTTP_TIMEOUT_COUNT; i++) {
        dt[i] = s->n_timeout[i] - s->logged_timeout[i];
        any += dt[i];
    }
    if (!any) return;
    memcpy(s->logged_refused, s->n_refused, sizeof s->n_refused);
    memcpy(s->logged_timeout, s->n_timeout, sizeof s->n_timeout);
    log_json(TLOG_WARN, "http_limits",
             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "refused_per_source", (json_int_t)dr[HTTP_REFUSED_PER_SOURCE],
                       "refused_capacity", (json_int_t)dr[HTTP_REFUSED_CAPACITY], "timeout_head",
                       (json_int_t)dt[HTTP_TIMEOUT_HEAD], "timeout_body", (json_int_t)dt[HTTP_TIMEOUT_BODY],
                       "timeout_write", (json_int_t)dt[HTTP_TIMEOUT_WRITE], "open", (json_int_t)s->open));
}

static void do_quiesce(server *s) {
    if (s->quiesced) return;
    s->quiesced = 1;
    if (s->lfd >= 0) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
        close(s->lfd);
        s->lfd = -1;
    }
    for (conn *c = s->live, *n; c; c = n) {
        n = c->next;
        if (c->state == C_HEAD && !c->hlen) conn_close(s, c);
        else if (c->state != C_BUSY) c->close_after = 1;
    }
}

static void take_done(server *s, uint64_t now) {
    pthread_mutex_lock(&s->dmu);
    conn *c = s->done;
    s->done = NULL;
    pthread_mutex_unlock(&s->dmu);
    while (c) {
        conn *n = c->qnext;
        if (c->out) start_write(s, c, now);
        else conn_close(s, c);
        c = n;
    }
}

static void *io_main(void *arg) {
    server *s = arg;
    struct epoll_event ev[256];
    uint64_t last_sweep = 0;
    while (!atomic_load(&s->stop)) {
        int n = epoll_wait(s->ep, ev, 256, SWEEP_MS);
        uint64_t now = node_mono_ms();
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &s->lfd) {
                if (s->lfd >= 0) accept_ready(s, now);
            } else if (ev[i].data.ptr == &s->wake) {
                uint64_t v;
                ssize_t r = read(s->wake, &v, sizeof v);
                (void)r;
            } else {
                conn *c = ev[i].data.ptr;
                if (c->state == C_WRITE && (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) do_write(s, c, now);
                else if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(s, c, now);
            }
        }
        /* connections may have been freed above; events of this batch for them are not looked at
         * again, because each batch handles a given connection at most once (one fd, one event) */
        take_done(s, now);
        if (atomic_load(&s->quiesce)) do_quiesce(s);
        if (now - last_sweep >= SWEEP_MS) {
            last_sweep = now;
            sweep(s, now);
        }
    }
    return NULL;
}

/* ---- workers ---- */

typedef struct {
    server *s;
    int members_only;
} worker_arg;

static void handle(server *s, conn *c) {
    tkmsd *d = s->d;
    http_resp rs = {0};
    int route = c->route;
    if (atomic_load(&d->stopping) && route != ROUTE_HEALTH && route != ROUTE_METRICS) {
        simple_error(&rs, 503, ROUTE_IS_RELEASE(route) ? "not_ready" : "shutting_down", "node is shutting down");
    } else {
        http_req rq = {
            .method = c->req.method,
            .path = c->req.path,
            .query_epoch = hp_query_get(&c->req, "epoch"),
            .h_key = hp_field_get(&c->req, "X-Tkms-Key"),
            .h_time = hp_field_get(&c->req, "X-Tkms-Time"),
            .h_sig = hp_field_get(&c->req, "X-Tkms-Sig"),
            .h_auth = hp_field_get(&c->req, "Authorization"),
            .h_ctype = hp_field_get(&c->req, "Content-Type"),
            .source = c->src_str,
            .body = c->body ? c->body : (const uint8_t *)"",
            .body_len = c->body_len,
        };
        s->app.handle(d, route, &rq, &rs);
        if (!rs.status) { /* a handler that decided nothing is a bug: say so rather than send status 0 */
            free(rs.body);
            rs = (http_resp){0};
            simple_error(&rs, 500, "internal", "no answer");
        }
    }
    log_rejected(c, &rs);
    if (rs.status == 200 && (route == ROUTE_PEER_BUNDLE || route == ROUTE_PEER_APPS))
        learn_member(s, c->src, node_mono_ms());
    /* No pipelining: bytes of a next request that arrived before this answer are not read; the
     * answer says Connection: close (the client retries on a new connection). */
    char b;
    if (c->pipelined || recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0 || atomic_load(&s->quiesce)) c->close_after = 1;
    if (!build_response(d, c, &rs)) c->out = NULL;
    metrics_request(route, rs.status, now_us() - c->start_us);
    free(rs.body);
}

static void *worker_main(void *arg) {
    worker_arg *w = arg;
    server *s = w->s;
    for (;;) {
        conn *c = NULL;
        pthread_mutex_lock(&s->qmu);
        for (;;) {
            if (s->mq) {
                c = s->mq;
                if (!(s->mq = c->qnext)) s->mq_tail = NULL;
            } else if (!w->members_only && s->cq) {
                c = s->cq;
                if (!(s->cq = c->qnext)) s->cq_tail = NULL;
            }
            if (c || s->stop_workers) break;
            pthread_cond_wait(&s->qcv, &s->qmu);
        }
        pthread_mutex_unlock(&s->qmu);
        if (!c) break;
        handle(s, c);
        pthread_mutex_lock(&s->dmu);
        c->qnext = s->done;
        s->done = c;
        pthread_mutex_unlock(&s->dmu);
        wake(s);
    }
    free(w);
    return NULL;
}

/* ---- start / quiesce / stop ---- */

/* Raises the soft RLIMIT_NOFILE to what the connection limits need; if the hard limit is lower,
 * lowers max_connections (logged) rather than run into EMFILE under load. */
static int fd_budget(server *s, tkms_status *st) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return node_err(st, TKMS_CLASS_INTERNAL, "getrlimit(RLIMIT_NOFILE) failed");
    rlim_t need = (rlim_t)(s->max_conn + REFUSING_MAX + FD_HEADROOM);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        struct rlimit nl = {.rlim_cur = want, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0) rl.rlim_cur = want;
        logf_(TLOG_INFO, "fd_limit", "soft RLIMIT_NOFILE raised to %llu", (unsigned long long)rl.rlim_cur);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        if (rl.rlim_cur < (rlim_t)(REFUSING_MAX + FD_HEADROOM + 16))
            return node_err(st, TKMS_CLASS_USAGE, "RLIMIT_NOFILE is %llu; tkmsd needs at least %d file descriptors",
                            (unsigned long long)rl.rlim_cur, REFUSING_MAX + FD_HEADROOM + 16);
        size_t cap = (size_t)rl.rlim_cur - REFUSING_MAX - FD_HEADROOM;
        logf_(TLOG_WARN, "fd_limit", "RLIMIT_NOFILE hard limit %llu: max_connections lowered from %zu to %zu",
              (unsigned long long)rl.rlim_max, s->max_conn, cap);
        s->max_conn = cap;
        if (s->reserved >= cap) s->reserved = cap / 2;
        if (s->per_source > cap) s->per_source = cap;
    }
    return 1;
}

static int listen_socket(const char *listen_addr, tkms_status *st) {
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    size_t hl = (size_t)(colon - listen_addr);
    if (hl >= sizeof host) return node_err(st, TKMS_CLASS_USAGE, "listen address too long"), -1;
    memcpy(host, listen_addr, hl);
    host[hl] = 0;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || port <= 0 || port > 65535) return node_err(st, TKMS_CLASS_USAGE, "bad listen port in '%s'", listen_addr), -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET}, *ai = NULL;
        if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
            return node_err(st, TKMS_CLASS_USAGE, "cannot resolve listen host '%s'", host), -1;
        sa.sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        freeaddrinfo(ai);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return node_err(st, TKMS_CLASS_INTERNAL, "socket: %s", strerror(errno)), -1;
    int one = 1;
    /* SO_REUSEADDR only (a restart binds despite TIME_WAIT); no SO_REUSEPORT, so a second daemon on
     * the same port fails instead of silently sharing the connections */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return node_err(st, TKMS_CLASS_USAGE, "cannot listen on %s: %s", listen_addr, strerror(e)), -1;
    }
    return fd;
}

static void server_free(server *s) {
    if (!s) return;
    for (conn *c = s->live, *next; c; c = next) {
        next = c->next;
        conn_close(s, c);
    }
    if (s->lfd >= 0) close(s->lfd);
    if (s->ep >= 0) close(s->ep);
    if (s->wake >= 0) close(s->wake);
    if (s->spare >= 0) close(s->spare);
    pthread_mutex_destroy(&s->qmu);
    pthread_cond_destroy(&s->qcv);
    pthread_mutex_destroy(&s->dmu);
    pthread_mutex_destroy(&s->mmu);
    free(s->src_tab);
    free(s->workers);
    free(s);
}

static void stop_threads(server *s) {
    pthread_mutex_lock(&s->qmu);
    s->stop_workers = 1;
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    for (size_t i = 0; i < s->started; i++) pthread_join(s->workers[i], NULL);
    s->started = 0;
    if (s->io_started) {
        atomic_store(&s->stop, 1);
        wake(s);
        pthread_join(s->io, NULL);
        s->io_started = 0;
    }
}

int http_start(tkmsd *d, const http_app *app, tkms_status *st) {
    server *s = calloc(1, sizeof *s);
    if (!s) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    s->d = d;
    s->app = *app;
    s->lfd = s->ep = s->wake = s->spare = -1;
    pthread_mutex_init(&s->qmu, NULL);
    pthread_cond_init(&s->qcv, NULL);
    pthread_mutex_init(&s->dmu, NULL);
    pthread_mutex_init(&s->mmu, NULL);
    s->max_conn = (size_t)d->cfg.max_connections;
    s->per_source = (size_t)d->cfg.max_connections_per_source;
    s->reserved = (size_t)d->cfg.peer_reserved_connections;
    s->max_head = (size_t)d->cfg.max_header_bytes;
    if (!fd_budget(s, st)) goto fail;
    size_t cap = 16;
    while (cap < 2 * (s->max_conn + 1)) cap <<= 1;
    s->src_tab = calloc(cap, sizeof *s->src_tab);
    s->src_mask = cap - 1;
    s->nworkers = (size_t)d->cfg.threads + 1;
    s->workers = calloc(s->nworkers, sizeof *s->workers);
    if (!s->src_tab || !s->workers) {
        node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
        goto fail;
    }
    if ((s->lfd = listen_socket(d->cfg.listen, st)) < 0) goto fail;
    s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &s->lfd}, we = {.events = EPOLLIN, .data.ptr = &s->wake};
    if (s->ep < 0 || s->wake < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &le) != 0 ||
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &we) != 0) {
        node_err(st, TKMS_CLASS_INTERNAL, "epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    g_srv = s;
    http_members_changed(d);
    for (size_t i = 0; i < s->nworkers; i++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w) break;
        w->s = s;
        w->members_only = i + 1 == s->nworkers; /* client load cannot starve committee members */
        if (pthread_create(&s->workers[i], NULL, worker_main, w) != 0) {
            free(w);
            break;
        }
        s->started++;
    }
    if (s->started == s->nworkers && pthread_create(&s->io, NULL, io_main, s) == 0) s->io_started = 1;
    if (!s->io_started) {
        node_err(st, TKMS_CLASS_INTERNAL, "cannot start the HTTP threads");
        goto fail;
    }
    log_json(TLOG_INFO, "http_limits_set",
             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "max_connections", (json_int_t)s->max_conn,
                       "max_connections_per_source", (json_int_t)s->per_source, "peer_reserved_connections",
                       (json_int_t)s->reserved, "header_timeout_ms", (json_int_t)d->cfg.header_timeout_ms,
                       "request_timeout_s", (json_int_t)d->cfg.request_timeout_s, "max_header_bytes",
                       (json_int_t)s->max_head, "member_addresses", (json_int_t)s->nmembers));
    return 1;
fail:
    stop_threads(s);
    g_srv = NULL;
    server_free(s);
    return 0;
}

void http_quiesce(tkmsd *d) {
    (void)d;
    if (!g_srv) return;
    atomic_store(&g_srv->quiesce, 1);
    wake(g_srv);
}

void http_stop(tkmsd *d) {
    (void)d;
    server *s = g_srv;
    if (!s) return;
    stop_threads(s);
    g_srv = NULL;
    server_free(s);
}
