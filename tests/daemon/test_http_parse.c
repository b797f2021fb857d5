/* Unit tests of the daemon's strict HTTP/1.1 request-head parser (src/daemon/http_parse.c): every
 * rule of docs/security.md "HTTP strictness" with a request that breaks it, valid requests that must
 * pass, and two metamorphic checks -- scanning byte by byte finds the same head as scanning at once,
 * and turning any single CRLF of a valid head into a bare LF is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"

static const char *g_why; /* the reason of the last refusal */

/* Scans and parses txt (a copy); returns the parser's status, or -1 if the scan refused it, or -2
 * if the head is incomplete. */
static int run(const char *txt, hp_request *r, char **keep) {
    size_t len = strlen(txt), scanned = 0, head_len = 0;
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    memcpy(buf, txt, len + 1);
    const char *why = NULL;
    int sr = hp_scan(buf, len, &scanned, &head_len, &why);
    int st;
    if (sr == HP_BAD) {
        assert_non_null(why);
        st = -1;
    } else if (sr == HP_MORE) {
        st = -2;
    } else {
        st = hp_parse(r, buf, head_len, &why);
        if (st) assert_non_null(why);
    }
    g_why = why;
    if (keep) *keep = buf;
    else free(buf);
    return st;
}

static int status_of(const char *txt) {
    hp_request r = {0};
    return run(txt, &r, NULL);
}

static void test_valid_get(void **state) {
    (void)state;
    hp_request r = {0};
    char *buf = NULL;
    assert_int_equal(run("GET /v1/group?x=1&epoch=7&flag HTTP/1.1\r\nHost: kms1:7000\r\n"
                         "X-Tkms-Key:  abc \t\r\nAccept: */*\r\nAccept: text/plain\r\n\r\n",
                         &r, &buf),
                     0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/v1/group");
    assert_int_equal(r.minor, 1);
    assert_string_equal(hp_query_get(&r, "epoch"), "7");
    assert_string_equal(hp_query_get(&r, "x"), "1");
    assert_string_equal(hp_query_get(&r, "flag"), "");
    assert_null(hp_query_get(&r, "epo"));
    assert_string_equal(hp_field_get(&r, "x-tkms-key"), "abc"); /* case-insensitive, OWS trimmed */
    assert_string_equal(hp_field_get(&r, "HOST"), "kms1:7000");
    assert_null(hp_field_get(&r, "Content-Length"));
    assert_int_equal(r.has_length, 0);
    assert_int_equal(r.close, 0);
    assert_int_equal(r.expect_continue, 0);
    free(buf);
}

static void test_valid_post(void **state) {
    (void)state;
    hp_request r = {0};
    char *buf = NULL;
    assert_int_equal(run("POST /v1/sign HTTP/1.1\r\nHost: a\r\nContent-Length: 0012\r\nExpect: 100-Continue\r\n"
                         "Connection: keep-alive, Close\r\nX-Obs: caf\xc3\xa9\r\nX-Empty:\r\n\r\n",
                         &r, &buf),
                     0);
    assert_int_equal(r.has_length, 1);
    assert_int_equal(r.content_length, 12);
    assert_int_equal(r.expect_continue, 1);
    assert_int_equal(r.close, 1);
    assert_null(r.query);
    assert_string_equal(hp_field_get(&r, "x-empty"), "");
    free(buf);
    /* saturating length: the server answers 413, not 400 */
    assert_int_equal(run("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r, &buf), 0);
    assert_true(r.content_length == UINT64_MAX);
    free(buf);
    /* HTTP/1.0: Host optional, never keep-alive */
    assert_int_equal(run("GET /v1/health HTTP/1.0\r\n\r\n", &r, &buf), 0);
    assert_int_equal(r.minor, 0);
    assert_int_equal(r.close, 1);
    free(buf);
}

static void test_line_ends(void **state) {
    (void)state;
    assert_int_equal(status_of("GET / HTTP/1.1\nHost: a\r\n\r\n"), -1); /* bare LF, request line */
    assert_non_null(strstr(g_why, "bare LF"));
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\n\r\n"), -1);     /* bare LF, field */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n\n"), -1);     /* bare LF, end */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), -1); /* bare CR */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r"), -2);    /* CR at the end: wait */
    char buf[] = "GET / HTTP/1.1\r\nHost: \0\r\n\r\n";
    size_t scanned = 0, hl = 0;
    const char *why = NULL;
    assert_int_equal(hp_scan(buf, sizeof buf - 1, &scanned, &hl, &why), HP_BAD); /* NUL */
    assert_int_equal(status_of("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400); /* empty line first */
}

static void test_fields(void **state) {
    (void)state;
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), 400);
    assert_non_null(strstr(g_why, "obs-fold"));
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"), 400);
    assert_non_null(strstr(g_why, "obs-fold"));
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    assert_non_null(strstr(g_why, "whitespace"));
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01" "c\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n"), 400);
    /* the fields the daemon reads may appear once */
    static const char *const once[] = {"Host: b", "Content-Length: 0", "Expect: 100-continue", "Authorization: x",
                                       "Content-Type: x", "X-Tkms-Key: x", "X-Tkms-Time: 1", "X-Tkms-Sig: x"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: a\r\n%s\r\n%s\r\n\r\n", once[i], once[i]);
        assert_int_equal(status_of(req), 400);
    }
    char many[64 * 16 + 128];
    size_t n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < HP_MAX_FIELDS; i++) n += (size_t)snprintf(many + n, sizeof many - n, "X-%d: v\r\n", i);
    snprintf(many + n, sizeof many - n, "\r\n");
    assert_int_equal(status_of(many), 431);
}

static void test_framing(void **state) {
    (void)state;
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_non_null(strstr(g_why, "both"));
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
                     400);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
    static const char *const bad_len[] = {"+5", "-1", "5,5", "5, 5", "0x5", "5 5", "", "1e3"};
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        char req[128];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", bad_len[i]);
        assert_int_equal(status_of(req), 400);
    }
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 417);
    assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), 400); /* no Host */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
}

static void test_request_line(void **state) {
    (void)state;
    assert_int_equal(status_of("GET http://kms1/v1/health HTTP/1.1\r\nHost: a\r\n\r\n"), 400); /* absolute-form */
    assert_int_equal(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(status_of("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505);
    hp_request r = {0};
    char *buf = NULL;
    /* a version error still names the route (for the error's shape and the log) */
    assert_int_equal(run("POST /v1/keys/app HTTP/3.0\r\n\r\n", &r, &buf), 505);
    assert_string_equal(r.path, "/v1/keys/app");
    free(buf);
}

static const char VALID[] = "POST /v1/peer/bundle?epoch=3 HTTP/1.1\r\nHost: 127.0.0.1:7001\r\nContent-Length: 4\r\n"
                            "X-Tkms-Key: 00\r\nX-Tkms-Time: 1\r\nX-Tkms-Sig: 00\r\n\r\nbody";

/* Streaming equals one-shot: fed one byte at a time, the scan ends at the same byte. */
static void test_streaming(void **state) {
    (void)state;
    size_t len = sizeof VALID - 1, once_scanned = 0, once_len = 0, scanned = 0, head_len = 0;
    const char *why = NULL;
    assert_int_equal(hp_scan(VALID, len, &once_scanned, &once_len, &why), HP_DONE);
    assert_int_equal(once_len, len - 4);
    int r = HP_MORE;
    size_t fed = 0;
    while (r == HP_MORE && fed < len) r = hp_scan(VALID, ++fed, &scanned, &head_len, &why);
    assert_int_equal(r, HP_DONE);
    assert_int_equal(head_len, once_len);
    assert_int_equal(fed, once_len); /* decided at the last byte of the head, not later */
}

/* Every CRLF of a valid head turned into a bare LF (and into a bare CR) is refused. */
static void test_every_line_end(void **state) {
    (void)state;
    size_t hl = sizeof VALID - 1 - 4;
    for (size_t i = 0; i + 1 < hl; i++) {
        if (VALID[i] != '\r') continue;
        char lf[sizeof VALID], cr[sizeof VALID];
        /* drop the CR: ...X\n... */
        memcpy(lf, VALID, i);
        memcpy(lf + i, VALID + i + 1, sizeof VALID - i - 1);
        assert_int_equal(status_of(lf), -1);
        /* drop the LF: ...X\rY... */
        memcpy(cr, VALID, i + 1);
        memcpy(cr + i + 1, VALID + i + 2, sizeof VALID - i - 2);
        assert_int_equal(status_of(cr), -1);
    }
    assert_int_equal(status_of(VALID), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_get),  cmocka_unit_test(test_valid_post),   cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_fields),     cmocka_unit_test(test_framing),      cmocka_unit_test(test_request_line),
        cmocka_unit_test(test_streaming),  cmocka_unit_test(test_every_line_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
