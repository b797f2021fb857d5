/* tkms command line: parallel HTTP requests to nodes (libcurl multi), request authentication
 * (signed envelope or admin token) and locating the tkmsd binary. */
#include "nodecli.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"

#define NCLI_RESP_MAX (16u << 20)

int ncli_auth_load(ncli_auth *a, const char *config_path, const char *token_file) {
    memset(a, 0, sizeof *a);
    if (config_path) {
        tkms_status st = {0};
        node_secrets *sec = node_secure_alloc(sizeof *sec);
        if (!sec || !node_load_identity(sec, NULL, config_path, &st)) {
            node_secure_free(sec, sizeof *sec);
            cli_fail(CLI_USAGE, "%s", st.msg);
            return 0;
        }
        memcpy(a->ed_sk, sec->ed_sk, 32);
        memcpy(a->ed_pk, sec->ed_pk, 32);
        node_secure_free(sec, sizeof *sec);
        a->have_key = 1;
        return 1;
    }
    const char *path = token_file ? token_file : getenv("TKMS_ADMIN_TOKEN_FILE");
    if (!path) {
        cli_fail(CLI_USAGE, "no credentials: give --node-config CFG (operator key) or --token-file F (admin token)");
        return 0;
    }
    int ok = cli_read_secret_hex(a->token, 32, path);
    a->have_token = ok;
    return ok;
}

void ncli_auth_wipe(ncli_auth *a) { node_wipe(a, sizeof *a); }

static size_t on_header(char *p, size_t sz, size_t nm, void *ud) {
    ncli_req *r = ud;
    size_t n = sz * nm;
    static const struct {
        const char *name;
        size_t off;
    } hs[] = {{"x-tkms-key:", offsetof(ncli_req, resp_key)},
              {"x-tkms-time:", offsetof(ncli_req, resp_time)},
              {"x-tkms-sig:", offsetof(ncli_req, resp_sig)}};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(hs[i].name);
        if (n > l && !strncasecmp(p, hs[i].name, l)) {
            const char *v = p + l;
            size_t vl = n - l;
            while (vl && (*v == ' ')) v++, vl--;
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
            char **dst = (char **)((char *)r + hs[i].off);
            free(*dst);
            *dst = strndup(v, vl);
        }
    }
    return n;
}

static uint64_t g_fixed_ts;

void ncli_run_fixed(ncli_req *reqs, size_t n, const ncli_auth *auth, long timeout_ms) {
    g_fixed_ts = node_now_ms();
    for (size_t i = 0; i < n; i++) ncli_run(&reqs[i], 1, auth, timeout_ms);
    g_fixed_ts = 0;
}

void ncli_run(ncli_req *reqs, size_t n, const ncli_auth *auth, long timeout_ms) {
    tkms_net_global_init();
    CURLM *m = curl_multi_init();
    CURL **hs = calloc(n ? n : 1, sizeof *hs);
    struct curl_slist **hl = calloc(n ? n : 1, sizeof *hl);
    tkms_net_body *bodies = calloc(n ? n : 1, sizeof *bodies);
    if (!m || !hs || !hl || !bodies) {
        for (size_t i = 0; i < n; i++) snprintf(reqs[i].err, sizeof reqs[i].err, "out of memory");
        curl_multi_cleanup(m);
        free(hs);
        free(hl);
        free(bodies);
        return;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++) {
        ncli_req *r = &reqs[i];
        size_t ul = strlen(r->url) + strlen(r->path) + 1;
        char *url = malloc(ul);
        if (!url) continue;
        snprintf(url, ul, "%s%s", r->url, r->path);
        tkms_net_body_init(&bodies[i], NCLI_RESP_MAX);
        tkms_net_opts no = {.timeout_ms = timeout_ms, .connect_timeout_ms = timeout_ms, .body = &bodies[i], .priv = r};
        CURL *h = tkms_net_easy(url, &no);
        free(url);
        hs[i] = h;
        if (!h) continue;
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
        hl[i] = curl_slist_append(NULL, "Expect:");
        if (!strcmp(r->method, "POST")) {
            tkms_net_post(h, r->body, r->body_len);
            hl[i] = curl_slist_append(hl[i], "Content-Type: application/json");
        }
        char hb[256];
        if (auth && auth->have_token) {
            char th[65];
            tkms_hex(th, auth->token, 32);
            snprintf(hb, sizeof hb, "Authorization: Bearer %s", th);
            hl[i] = curl_slist_append(hl[i], hb);
            node_wipe(th, sizeof th);
            node_wipe(hb, sizeof hb);
        } else if (auth && auth->have_key) {
            char path[512];
            snprintf(path, sizeof path, "%s", r->path);
            char *q = strchr(path, '?');
            if (q) *q = 0;
            uint64_t ts = g_fixed_ts ? g_fixed_ts : node_now_ms();
            uint8_t sig[64];
            char kh[65], sh[129];
            if (node_envelope_sign(sig, auth->ed_sk, r->url, r->method, path, ts, r->body, r->body_len)) {
                tkms_hex(kh, auth->ed_pk, 32);
                tkms_hex(sh, sig, 64);
                snprintf(hb, sizeof hb, "X-Tkms-Key: %s", kh);
                hl[i] = curl_slist_append(hl[i], hb);
                snprintf(hb, sizeof hb, "X-Tkms-Time: %llu", (unsigned long long)ts);
                hl[i] = curl_slist_append(hl[i], hb);
                snprintf(hb, sizeof hb, "X-Tkms-Sig: %s", sh);
                hl[i] = curl_slist_append(hl[i], hb);
            }
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl[i]);
        curl_multi_add_handle(m, h);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            ncli_req *r = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            r->ok = msg->data.result == CURLE_OK;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
            /* the body moves to the request (NUL-terminated, or NULL when there was none) */
            tkms_net_body *b = &bodies[r - reqs];
            free(r->resp);
            r->resp = (char *)b->p;
            r->resp_len = b->len;
            b->p = NULL;
            tkms_net_body_free(b);
            if (!r->ok && !r->err[0]) snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(msg->data.result));
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        }
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (hs[i]) {
            curl_multi_remove_handle(m, hs[i]);
            curl_easy_cleanup(hs[i]);
        }
        curl_slist_free_all(hl[i]);
    }
    for (size_t i = 0; i < n; i++) tkms_net_body_free(&bodies[i]);
    curl_multi_cleanup(m);
    free(hs);
    free(hl);
    free(bodies);
}

void ncli_req_free(ncli_req *r) {
    free(r->url);
    free(r->path);
    free(r->resp);
    free(r->resp_key);
    free(r->resp_time);
    free(r->resp_sig);
    memset(r, 0, sizeof *r);
}

char *ncli_tkmsd_path(void) {
    const char *env = getenv("TKMSD");
    if (env) return strdup(env);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *d = dirname(self);
        char *p = node_path_join(d, "tkmsd");
        if (p && access(p, X_OK) == 0) return p;
        free(p);
    }
    return strdup("tkmsd");
}
