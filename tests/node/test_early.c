/* Unit tests of tkmsd's early-bundle buffer (src/daemon/early.c): per-sender and total budgets,
 * eviction from the largest holder only, one session per sender (newest wins), the expected-session
 * filter, duplicates kept once, drain of the started session only, expiry freeing everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "early.h"

/* A framed bundle of len bytes for session sid; tag makes its body distinct. */
static uint8_t *bundle(size_t len, uint8_t sid, uint32_t tag) {
    uint8_t *m = calloc(1, len);
    memcpy(m, "TKDG\x01\x01", 6);
    memset(m + 6, sid, 32);
    memcpy(m + 46, &tag, sizeof tag);
    return m;
}

static int put(early_buf *b, uint8_t who, size_t len, uint8_t sid, uint32_t tag, const uint8_t *expect, uint64_t now) {
    uint8_t key[32];
    memset(key, who, 32);
    uint8_t *m = bundle(len, sid, tag);
    const char *why = "";
    int st = early_put(b, key, m, len, expect, now, &why);
    free(m);
    return st;
}

static size_t g_fed, g_fed_bytes;
static void count_fed(void *arg, const uint8_t *msg, size_t len) {
    const uint8_t *want = arg;
    assert_memory_equal(msg + 6, want, 32); /* only the started session's bundles */
    g_fed++;
    g_fed_bytes += len;
}

static void test_budgets(void **state) {
    (void)state;
    early_limits lim = {.total_bytes = 10000, .sender_bytes = 4000, .sender_bundles = 8, .max_age_ms = 1000};
    early_buf *b = early_new(&lim);
    assert_non_null(b);
    assert_int_equal(put(b, 1, 4001, 7, 0, NULL, 0), 413);     /* larger than a sender's budget */
    for (uint32_t i = 0; i < 100; i++) assert_int_equal(put(b, 1, 1000, 7, i, NULL, 0), 200);
    assert_int_equal(early_bytes(b), 4000);                      /* flooder: its own budget only */
    for (uint32_t i = 0; i < 20; i++) assert_int_equal(put(b, 2, 100, 7, i, NULL, 0), 200);
    assert_int_equal(early_count(b), 4 + 8);                     /* count budget for sender 2 */
    assert_int_equal(put(b, 2, 100, 7, 19, NULL, 0), 200);       /* exact duplicate: kept once */
    assert_int_equal(early_count(b), 12);
    /* fill the total: senders 3 and 4 push it over; only the largest holder (1) loses */
    assert_int_equal(put(b, 3, 2500, 7, 0, NULL, 0), 200);
    assert_int_equal(put(b, 4, 3000, 7, 0, NULL, 0), 200);
    assert_true(early_bytes(b) <= 10000);
    assert_int_equal(early_count(b), 12 - 1 + 2);                /* one 1000-byte bundle of 1 evicted */
    g_fed = g_fed_bytes = 0;
    uint8_t sid[32];
    memset(sid, 7, 32);
    early_drain(b, sid, 10, count_fed, sid);
    assert_int_equal(g_fed, 3 + 8 + 1 + 1);
    assert_int_equal(early_bytes(b), 0);
    assert_int_equal(early_count(b), 0);
    early_free(b);
}

static void test_sessions(void **state) {
    (void)state;
    early_buf *b = early_new(NULL);
    uint8_t next[32];
    memset(next, 9, 32);
    assert_int_equal(put(b, 1, 500, 8, 0, next, 0), 409);        /* not the session we run next */
    assert_int_equal(early_count(b), 0);
    assert_int_equal(put(b, 1, 500, 9, 0, next, 0), 200);
    /* without an expected session, a sender switching session replaces its bundles */
    assert_int_equal(put(b, 2, 500, 5, 0, NULL, 0), 200);
    assert_int_equal(put(b, 2, 500, 5, 1, NULL, 0), 200);
    assert_int_equal(put(b, 2, 500, 6, 2, NULL, 0), 200);
    assert_int_equal(early_count(b), 2);
    /* drain keeps only the started session's bundles; the rest is freed */
    g_fed = 0;
    early_drain(b, next, 5, count_fed, next);
    assert_int_equal(g_fed, 1);
    assert_int_equal(early_count(b), 0);
    early_free(b);
}

static void test_expiry(void **state) {
    (void)state;
    early_limits lim = {.max_age_ms = 1000};
    early_buf *b = early_new(&lim);
    assert_int_equal(put(b, 1, 50000, 3, 0, NULL, 0), 200);
    assert_int_equal(put(b, 2, 50000, 3, 0, NULL, 600), 200);
    early_expire(b, 999);
    assert_int_equal(early_count(b), 2);
    early_expire(b, 1000);                                       /* the first is 1 s old */
    assert_int_equal(early_count(b), 1);
    assert_int_equal(early_bytes(b), 50000);
    uint8_t sid[32];
    memset(sid, 3, 32);
    g_fed = 0;
    early_drain(b, sid, 1700, count_fed, sid);                   /* too old to replay, still freed */
    assert_int_equal(g_fed, 0);
    assert_int_equal(early_bytes(b), 0);
    early_expire(b, 5000);
    early_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
