/* src/net: the body collector (empty body, growth across many appends, the cap: refused whole,
 * nothing appended, over set, reset for a retry) and the easy-handle setup against a local
 * libmicrohttpd server (a body within the cap arrives whole; a body above it is refused both when
 * its length is announced and when it is streamed without one; an empty body; file:// and a
 * redirect are refused; a stalled server hits the timeout). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "net.h"
#include "testutil.h"

static void body_collector(void) {
    tkms_net_body b;
    tkms_net_body_init(&b, 1000);
    TU_CHECK(b.p == NULL && b.len == 0 && !b.over);
    /* an empty append: a valid empty, NUL-terminated body */
    TU_CHECK(tkms_net_body_append(&b, "", 0) && b.len == 0 && b.p && b.p[0] == 0);
    /* growth: 999 one-byte appends, contents intact, always NUL-terminated */
    for (int i = 0; i < 999; i++) {
        char c = (char)('a' + i % 26);
        TU_CHECK(tkms_net_body_append(&b, &c, 1) && b.len == (size_t)i + 1 && b.p[b.len] == 0);
    }
    for (size_t i = 0; i < 999; i++) TU_CHECK(b.p[i] == 'a' + i % 26);
    TU_CHECK(b.cap <= 1001);
    /* the cap: 2 more bytes would make 1001 > 1000: refused whole */
    TU_CHECK(!tkms_net_body_append(&b, "xy", 2) && b.over && b.len == 999);
    /* exactly the cap still fits (after a reset) */
    tkms_net_body_reset(&b);
    TU_CHECK(b.len == 0 && !b.over && b.p[0] == 0);
    char big[1001];
    memset(big, 'z', sizeof big);
    TU_CHECK(tkms_net_body_append(&b, big, 1000) && b.len == 1000 && b.p[1000] == 0);
    TU_CHECK(!tkms_net_body_append(&b, big, 1) && b.over);
    /* the write callback: returns what it took, 0 past the cap (libcurl then aborts) */
    tkms_net_body_free(&b);
    TU_CHECK(b.p == NULL && b.max == 1000);
    TU_CHECK(tkms_net_body_write(big, 1, 600, &b) == 600);
    TU_CHECK(tkms_net_body_write(big, 2, 300, &b) == 0 && b.over && b.len == 600);
    /* a size_t overflow in len + n is refused, not wrapped */
    tkms_net_body_reset(&b);
    TU_CHECK(tkms_net_body_append(&b, big, 10));
    TU_CHECK(!tkms_net_body_append(&b, big, SIZE_MAX - 5) && b.over && b.len == 10);
    tkms_net_body_free(&b);
    /* a header list: one failure check for a chain */
    struct curl_slist *l = NULL;
    TU_CHECK(tkms_net_header(&l, "X-A: %d", 1) && tkms_net_header(&l, "X-B: %s", "two") && l && l->next &&
             !strcmp(l->next->data, "X-B: two"));
    char longv[600];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    TU_CHECK(!tkms_net_header(&l, "X-C: %s", longv) && l == NULL);
    printf("ok body collector: empty body, growth, the cap refused whole, reset, write callback, headers\n");
}

/* ---- a local server ---- */

#define BIG 5000

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)cls;
    if (pos >= BIG) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = BIG - pos < max ? (size_t)(BIG - pos) : max;
    if (n > 100) n = 100;
    memset(buf, 's', n);
    return (ssize_t)n;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                             const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls, (void)method, (void)version, (void)upload;
    if (!*con_cls) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    static char big[BIG];
    memset(big, 'b', sizeof big);
    struct MHD_Response *r;
    unsigned status = 200;
    if (!strcmp(url, "/small")) r = MHD_create_response_from_buffer(5, (void *)"hello", MHD_RESPMEM_PERSISTENT);
    else if (!strcmp(url, "/empty")) r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else if (!strcmp(url, "/big")) r = MHD_create_response_from_buffer(BIG, big, MHD_RESPMEM_MUST_COPY);
    else if (!strcmp(url, "/stream")) r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 100, stream_cb, NULL, NULL);
    else if (!strcmp(url, "/slow")) {
        usleep(1500 * 1000);
        r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", "file:///etc/passwd");
        status = 302;
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static CURLcode get(const char *base, const char *path, tkms_net_body *b, long timeout_ms, long *status, int post) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    tkms_net_opts o = {.timeout_ms = timeout_ms, .body = b};
    CURL *h = tkms_net_easy(url, &o);
    TU_CHECK(h != NULL);
    if (post) TU_CHECK(tkms_net_post(h, "{}", 2));
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return rc;
}

static void easy_setup(void) {
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                            serve, NULL, MHD_OPTION_END);
    TU_CHECK(d != NULL);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    TU_CHECK(di && di->port);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)di->port);
    tkms_net_global_init();
    tkms_net_global_init(); /* once */
    tkms_net_body b;
    long st;
    tkms_net_body_init(&b, 1000);
    CURLcode rc = get(base, "/small", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_OK && st == 200 && b.len == 5 && !memcmp(b.p, "hello", 6) && !tkms_net_too_large(rc, &b));
    tkms_net_body_reset(&b);
    rc = get(base, "/small", &b, 5000, &st, 1);
    TU_CHECK(rc == CURLE_OK && st == 200 && b.len == 5);
    tkms_net_body_free(&b);
    rc = get(base, "/empty", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_OK && st == 200 && b.len == 0 && !b.over);
    /* announced too large: refused before reading (CURLOPT_MAXFILESIZE) */
    rc = get(base, "/big", &b, 5000, &st, 0);
    TU_CHECK(rc != CURLE_OK && tkms_net_too_large(rc, &b) && b.len <= 1000);
    /* streamed without a length: refused by the collector at the cap */
    tkms_net_body_free(&b);
    rc = get(base, "/stream", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_WRITE_ERROR && b.over && tkms_net_too_large(rc, &b) && b.len <= 1000);
    /* the same bodies within a larger cap */
    tkms_net_body_free(&b);
    tkms_net_body_init(&b, BIG);
    rc = get(base, "/stream", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_OK && b.len == BIG && b.p[0] == 's' && b.p[BIG - 1] == 's');
    tkms_net_body_reset(&b);
    rc = get(base, "/big", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_OK && b.len == BIG && b.p[BIG - 1] == 'b');
    /* no redirects followed */
    tkms_net_body_reset(&b);
    rc = get(base, "/redirect", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_OK && st == 302 && b.len == 0);
    /* the timeout */
    rc = get(base, "/slow", &b, 300, &st, 0);
    TU_CHECK(rc == CURLE_OPERATION_TIMEDOUT && !tkms_net_too_large(rc, &b));
    /* only http and https */
    rc = get("file:///etc/hostname", "", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_UNSUPPORTED_PROTOCOL);
    rc = get("ftp://127.0.0.1:1", "/x", &b, 5000, &st, 0);
    TU_CHECK(rc == CURLE_UNSUPPORTED_PROTOCOL);
    tkms_net_body_free(&b);
    MHD_stop_daemon(d);
    printf("ok easy setup: body within the cap, empty body, announced and streamed bodies above the cap refused,\n"
           "   no redirects, timeout, file:// and ftp:// refused\n");
}

int main(void) {
    body_collector();
    easy_setup();
    return 0;
}
