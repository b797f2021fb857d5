/* tkms: the one libcurl setup and body collector (net.h). */
#include "net.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void tkms_net_body_init(tkms_net_body *b, size_t max) {
    memset(b, 0, sizeof *b);
    b->max = max;
}

void tkms_net_body_reset(tkms_net_body *b) {
    b->len = 0;
    b->over = 0;
    if (b->p) b->p[0] = 0;
}

void tkms_net_body_free(tkms_net_body *b) {
    size_t max = b->max;
    free(b->p);
    tkms_net_body_init(b, max);
}

int tkms_net_body_append(tkms_net_body *b, const void *data, size_t n) {
    if (n > b->max || b->len > b->max - n) {
        b->over = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1) nc = nc > SIZE_MAX / 2 ? b->len + n + 1 : nc * 2;
        if (b->max < SIZE_MAX && nc > b->max + 1) nc = b->max + 1;
        uint8_t *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np;
        b->cap = nc;
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 1;
}

size_t tkms_net_body_write(char *data, size_t size, size_t nmemb, void *body) {
    size_t n = size * nmemb;
    return tkms_net_body_append(body, data, n) ? n : 0;
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void tkms_net_global_init(void) { pthread_once(&g_once, global_init); }

int tkms_net_setup(CURL *h, const char *url, const tkms_net_opts *o) {
    static const tkms_net_opts none = {0};
    if (!o) o = &none;
    int ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L) == CURLE_OK;
    if (o->connect_timeout_ms > 0) ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) == CURLE_OK;
    if (o->headers) ok &= curl_easy_setopt(h, CURLOPT_HTTPHEADER, o->headers) == CURLE_OK;
    if (o->unix_socket) ok &= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket) == CURLE_OK;
    if (o->priv) ok &= curl_easy_setopt(h, CURLOPT_PRIVATE, o->priv) == CURLE_OK;
    if (o->body) {
        ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tkms_net_body_write) == CURLE_OK;
        ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, o->body) == CURLE_OK;
        /* a body announced longer than the cap is refused before it is read */
        ok &= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->body->max) == CURLE_OK;
    }
    return ok;
}

CURL *tkms_net_easy(const char *url, const tkms_net_opts *o) {
    CURL *h = curl_easy_init();
    if (h && !tkms_net_setup(h, url, o)) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

int tkms_net_post(CURL *h, const void *body, size_t len) {
    int ok = curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK;
    return ok;
}

int tkms_net_too_large(CURLcode rc, const tkms_net_body *b) {
    return rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && b && b->over);
}

int tkms_net_header(struct curl_slist **l, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct curl_slist *n = w >= 0 && (size_t)w < sizeof line ? curl_slist_append(*l, line) : NULL;
    OPENSSL_cleanse(line, sizeof line);
    if (!n) curl_slist_free_all(*l);
    *l = n;
    return n != NULL;
}
