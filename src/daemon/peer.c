/* tkmsd: the peer client -- a libcurl multi handle driven by the main thread; any thread may queue
 * requests, which are signed with the node's Ed25519 key (signed envelope, naming the destination's
 * base URL) and bounded in time and response size. */
#include "tkmsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define MAX_RESP (8u << 20)

typedef struct preq {
    struct preq *next;
    char *url, *dest, *path, *method; /* dest: the base URL, as the envelope names it */
    uint8_t *body;
    size_t len;
    int sign;
    peer_done_fn cb;
    void *ctx;
    /* in flight */
    CURL *h;
    struct curl_slist *hdrs;
    tkms_net_body resp;
} preq;

struct peer_client {
    tkmsd *d;
    CURLM *m;
    pthread_mutex_t mu;
    preq *queue, *queue_tail;
    preq *inflight; /* main thread only */
    int running;
};

struct peer_client *peer_new(tkmsd *d) {
    struct peer_client *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->d = d;
    p->m = curl_multi_init();
    pthread_mutex_init(&p->mu, NULL);
    curl_multi_setopt(p->m, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
    return p;
}

static void preq_free(preq *r) {
    if (!r) return;
    if (r->h) curl_easy_cleanup(r->h);
    curl_slist_free_all(r->hdrs);
    free(r->url);
    free(r->dest);
    free(r->path);
    free(r->method);
    free(r->body);
    tkms_net_body_free(&r->resp);
    free(r);
}

void peer_free(struct peer_client *p) {
    if (!p) return;
    preq *r = p->queue;
    while (r) {
        preq *n = r->next;
        preq_free(r);
        r = n;
    }
    r = p->inflight;
    while (r) {
        preq *n = r->next;
        curl_multi_remove_handle(p->m, r->h);
        if (r->cb) r->cb(r->ctx, 0, 0, NULL, 0);
        preq_free(r);
        r = n;
    }
    curl_multi_cleanup(p->m);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void peer_send(struct peer_client *p, const char *method, const char *base_url, const char *path,
               const uint8_t *body, size_t len, int sign, peer_done_fn cb, void *ctx) {
    preq *r = calloc(1, sizeof *r);
    if (!r) {
        if (cb) cb(ctx, 0, 0, NULL, 0); /* the callback owns ctx: it must always run */
        return;
    }
    size_t ul = strlen(base_url) + strlen(path) + 1;
    r->url = malloc(ul);
    if (r->url) snprintf(r->url, ul, "%s%s", base_url, path);
    r->dest = strdup(base_url);
    r->path = strdup(path);
    char *q = r->path ? strchr(r->path, '?') : NULL;
    if (q) *q = 0; /* the envelope covers the path without the query */
    r->method = strdup(method);
    if (len) {
        r->body = malloc(len);
        if (r->body) memcpy(r->body, body, len);
    }
    r->len = len;
    tkms_net_body_init(&r->resp, MAX_RESP);
    r->sign = sign;
    r->cb = cb;
    r->ctx = ctx;
    if (!r->url || !r->dest || !r->path || !r->method || (len && !r->body)) {
        preq_free(r);
        if (cb) cb(ctx, 0, 0, NULL, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->queue_tail) p->queue_tail->next = r;
    else p->queue = r;
    p->queue_tail = r;
    pthread_mutex_unlock(&p->mu);
    curl_multi_wakeup(p->m);
}

static void start(struct peer_client *p, preq *r) {
    tkmsd *d = p->d;
    tkms_net_opts no = {.timeout_ms = d->cfg.peer_timeout_ms,
                        .connect_timeout_ms = d->cfg.peer_timeout_ms < 2000 ? d->cfg.peer_timeout_ms : 2000L,
                        .body = &r->resp,
                        .priv = r};
    r->h = tkms_net_easy(r->url, &no);
    if (!r->h) {
        if (r->cb) r->cb(r->ctx, 0, 0, NULL, 0);
        preq_free(r);
        return;
    }
    r->hdrs = curl_slist_append(r->hdrs, "Expect:");
    if (!strcmp(r->method, "POST")) {
        tkms_net_post(r->h, r->body, r->len);
        r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/octet-stream");
    }
    if (r->sign && d->sec) {
        uint64_t ts = node_now_ms();
        uint8_t sig[64];
        char h[256], sh[129];
        if (node_envelope_sign(sig, d->sec->ed_sk, r->dest, r->method, r->path, ts, r->body, r->len)) {
            tkms_hex(sh, sig, 64);
            snprintf(h, sizeof h, "X-Tkms-Key: %s", d->node_id);
            r->hdrs = curl_slist_append(r->hdrs, h);
            snprintf(h, sizeof h, "X-Tkms-Time: %llu", (unsigned long long)ts);
            r->hdrs = curl_slist_append(r->hdrs, h);
            snprintf(h, sizeof h, "X-Tkms-Sig: %s", sh);
            r->hdrs = curl_slist_append(r->hdrs, h);
        }
    }
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
    curl_multi_add_handle(p->m, r->h);
    r->next = p->inflight;
    p->inflight = r;
}

int peer_poll(struct peer_client *p, int timeout_ms) {
    pthread_mutex_lock(&p->mu);
    preq *q = p->queue;
    p->queue = p->queue_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    while (q) {
        preq *n = q->next;
        q->next = NULL;
        start(p, q);
        q = n;
    }
    curl_multi_perform(p->m, &p->running);
    curl_multi_poll(p->m, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(p->m, &p->running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(p->m, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        preq *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        int ok = msg->data.result == CURLE_OK && !r->resp.over;
        curl_multi_remove_handle(p->m, msg->easy_handle);
        for (preq **pp = &p->inflight; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        if (r->cb) r->cb(r->ctx, ok, code, (const char *)r->resp.p, r->resp.len);
        preq_free(r);
    }
    return p->running;
}

void peer_wakeup(struct peer_client *p) { curl_multi_wakeup(p->m); }

int peer_pending(struct peer_client *p) {
    pthread_mutex_lock(&p->mu);
    int q = p->queue != NULL;
    pthread_mutex_unlock(&p->mu);
    return q || p->running;
}
