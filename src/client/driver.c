/* libtkms-client: the libcurl driver of a release round (client_internal.h). It only moves bytes:
 * one POST per collector target in parallel (libcurl multi, src/net), retries of transient
 * failures with exponential backoff, the group files the collector asks for, the overall
 * deadline; every verdict is the collector's (collect.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "collect.h"
#include "net.h"

#define RESP_MAX (64u << 10)
#define GROUP_MAX (16u << 20)

/* One request target: a collector row. */
typedef struct {
    char url[TKMS_DKG_ADDR_MAX + 16];
    CURL *h;
    tkms_net_body body;
    int active;       /* in the multi handle */
    int waiting;      /* retry scheduled at next_try */
    double next_try, started;
    size_t rep;       /* the collector's row */
} node_req;

typedef struct {
    cl_collect *col;
    const cl_drive_opts *o;
    CURLM *m;
    struct curl_slist *hdrs;
    node_req **nodes;
    size_t n_nodes;
} drive_ctx;

static void logf_(drive_ctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(drive_ctx *d, const char *fmt, ...) {
    if (!d->o->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    d->o->log(d->o->log_ctx, line);
}

static int start(drive_ctx *d, node_req *nr) {
    tkms_net_body_reset(&nr->body);
    nr->started = cl_now_ms();
    nr->waiting = 0;
    if (curl_multi_add_handle(d->m, nr->h) != CURLM_OK) return 0;
    nr->active = 1;
    cl_collect_row(d->col, nr->rep)->attempts++;
    return 1;
}

/* Starts requests for the collector's targets that have none yet. */
static void add_targets(drive_ctx *d) {
    size_t n = cl_collect_n_targets(d->col);
    if (n <= d->n_nodes) return;
    node_req **np = realloc(d->nodes, n * sizeof *np);
    if (!np) return;
    d->nodes = np;
    while (d->n_nodes < n) {
        size_t row = d->n_nodes;
        node_req *nr = calloc(1, sizeof *nr);
        d->nodes[d->n_nodes++] = nr;
        if (!nr) continue; /* the row stays not_asked */
        nr->rep = row;
        snprintf(nr->url, sizeof nr->url, "%s/v1/keys/app", cl_collect_address(d->col, row));
        tkms_net_body_init(&nr->body, RESP_MAX);
        tkms_net_opts no = {.timeout_ms = (long)d->o->timeout_ms, .body = &nr->body, .headers = d->hdrs, .priv = nr};
        nr->h = tkms_net_easy(nr->url, &no);
        if (!nr->h || !tkms_net_post(nr->h, d->o->body, strlen(d->o->body)) || !start(d, nr)) {
            if (nr->h) curl_easy_cleanup(nr->h);
            nr->h = NULL;
        }
    }
}

/* GET <base>/v1/group?epoch=e, blocking (the collector waits for it). */
static void fetch_groups(drive_ctx *d) {
    const char *base;
    uint64_t epoch;
    while (cl_collect_wants_group(d->col, &base, &epoch)) {
        char url[TKMS_DKG_ADDR_MAX + 64], why[200] = "";
        snprintf(url, sizeof url, "%s/v1/group?epoch=%llu", base, (unsigned long long)epoch);
        tkms_net_body b;
        tkms_net_body_init(&b, GROUP_MAX);
        tkms_net_opts no = {.timeout_ms = (long)d->o->timeout_ms, .body = &b};
        CURL *h = tkms_net_easy(url, &no);
        long code = 0;
        CURLcode rc = h ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
        if (h) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (h) curl_easy_cleanup(h);
        int ok = rc == CURLE_OK && code == 200 && b.p;
        if (!ok)
            snprintf(why, sizeof why, "GET /v1/group?epoch=%llu: %s", (unsigned long long)epoch,
                     rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error");
        cl_collect_group(d->col, ok ? b.p : NULL, ok ? b.len : 0, why);
        tkms_net_body_free(&b);
    }
}

static int transient(CURLcode rc, long code) {
    if (rc == CURLE_OK) return code == 429 || (code >= 500 && code != 501);
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

static void on_done(drive_ctx *d, node_req *nr, CURLcode rc) {
    long code = 0;
    tkms_client_node_report *r = cl_collect_row(d->col, nr->rep);
    curl_multi_remove_handle(d->m, nr->h);
    nr->active = 0;
    r->ms = cl_now_ms() - nr->started;
    if (rc == CURLE_OK) curl_easy_getinfo(nr->h, CURLINFO_RESPONSE_CODE, &code);
    r->http_status = code;
    if (transient(rc, code) && r->attempts <= d->o->retries) {
        double delay = (double)d->o->backoff_ms * (double)(1u << (r->attempts - 1 > 10 ? 10 : r->attempts - 1));
        nr->waiting = 1;
        nr->next_try = cl_now_ms() + delay;
        logf_(d, "node %u (%s): %s, retry %u/%u in %.0f ms", r->index, r->address,
              rc != CURLE_OK ? curl_easy_strerror(rc) : (code == 429 ? "rate limited" : "server error"), r->attempts,
              d->o->retries, delay);
        return;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        cl_collect_set(d->col, nr->rep, TKMS_CLIENT_NODE_TIMEOUT, "timeout", "no answer within %u ms", d->o->timeout_ms);
    } else if (tkms_net_too_large(rc, &nr->body)) {
        cl_collect_set(d->col, nr->rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "too_large", "response larger than %u bytes", RESP_MAX);
    } else if (rc != CURLE_OK) {
        cl_collect_set(d->col, nr->rep, TKMS_CLIENT_NODE_UNREACHABLE, "unreachable", "%s", curl_easy_strerror(rc));
    } else if (cl_collect_feed_key(d->col, nr->rep, code, nr->body.p, nr->body.len) == CL_FEED_NEED_GROUP) {
        fetch_groups(d);
        add_targets(d); /* members of the new epoch */
    }
    r = cl_collect_row(d->col, nr->rep); /* add_targets may have moved the rows */
    if (r->state == TKMS_CLIENT_NODE_VALID)
        logf_(d, "node %u (%s): signed partial, %s (%.1f ms)", r->index, r->address, r->detail, r->ms);
    else
        logf_(d, "node %u (%s): %s: %s", r->index, r->address, tkms_client_node_state_name(r->state), r->detail);
}

int cl_drive_release(cl_collect *col, const cl_drive_opts *o) {
    drive_ctx dx = {.col = col, .o = o}, *d = &dx;
    int done = 0;
    tkms_net_global_init();
    d->m = curl_multi_init();
    d->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    d->hdrs = d->hdrs ? curl_slist_append(d->hdrs, "Expect:") : NULL;
    int ok = d->m && d->hdrs;
    if (!ok) goto out;
    double deadline = cl_now_ms() + (o->deadline_ms ? o->deadline_ms : 20000);
    add_targets(d);
    for (;;) {
        int running = 0;
        curl_multi_perform(d->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(d->m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            node_req *nr = NULL;
            CURLcode rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&nr);
            if (nr) on_done(d, nr, rc);
        }
        /* a quorum already there: no retry is started for nothing */
        if (!o->wait_all && cl_collect_quorum(col, 0)) {
            done = 1;
            break;
        }
        size_t outstanding = 0;
        double now = cl_now_ms(), next = deadline;
        for (size_t i = 0; i < d->n_nodes; i++) {
            node_req *nr = d->nodes[i];
            if (!nr || !nr->h) continue;
            if (nr->waiting && nr->next_try <= now && !start(d, nr)) nr->waiting = 0;
            if (nr->waiting && nr->next_try < next) next = nr->next_try;
            outstanding += nr->active || nr->waiting;
        }
        if (!o->wait_all || outstanding == 0) done = cl_collect_quorum(col, outstanding == 0);
        if (done || outstanding == 0 || now >= deadline) break;
        int wait = (int)(next - now);
        if (wait > 50) wait = 50;
        if (wait < 1) wait = 1;
        curl_multi_poll(d->m, NULL, 0, wait, NULL);
    }
    for (size_t i = 0; i < d->n_nodes; i++) {
        node_req *nr = d->nodes[i];
        if (!nr || !nr->h) continue;
        tkms_client_node_report *r = cl_collect_row(col, nr->rep);
        if (nr->active) {
            cl_collect_set(col, nr->rep, done ? TKMS_CLIENT_NODE_PENDING : TKMS_CLIENT_NODE_TIMEOUT, done ? "" : "deadline",
                           done ? "still running when t partials were valid" : "no answer before the overall deadline");
        } else if (nr->waiting) {
            if (done) cl_collect_set(col, nr->rep, TKMS_CLIENT_NODE_NOT_ASKED, "", "retry not needed");
            else
                cl_collect_set(col, nr->rep, r->state ? r->state : TKMS_CLIENT_NODE_UNREACHABLE, "deadline",
                               "retry after the deadline");
        }
    }
out:
    for (size_t i = 0; i < d->n_nodes; i++) {
        node_req *nr = d->nodes[i];
        if (!nr) continue;
        if (nr->h) {
            if (nr->active) curl_multi_remove_handle(d->m, nr->h);
            curl_easy_cleanup(nr->h);
        }
        tkms_net_body_free(&nr->body);
        free(nr);
    }
    free(d->nodes);
    if (d->m) curl_multi_cleanup(d->m);
    curl_slist_free_all(d->hdrs);
    return ok;
}
