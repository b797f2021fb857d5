/* Unit tests of the operator node library: strict config parsing, the at-rest seal, the signed
 * envelope (destination bound), strict decimal parsing, cluster-signing approvals, audit retention,
 * the store's epoch commit (atomic switch, old shares erased, wrong key refused), and
 * secrets at rest read back with plain SQLite: no plaintext in the file, and a sealed blob that
 * is moved to another row or relabelled (epoch, index, transcript hash, session ID) does not
 * decrypt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "node.h"
#include "testutil.h" /* tu_seed / tu_randbytes: test inputs reproducible from the printed seed */

static char g_dir[256];

static char *path_in(const char *name) { return node_path_join(g_dir, name); }

static void write_text(const char *name, const char *txt) {
    char *p = path_in(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(txt, f);
    fclose(f);
    free(p);
}

static void test_config_strict(void **state) {
    (void)state;
    node_config c;
    tkms_status st = {0};
    write_text("c1.json", "{\"address\": \"http://127.0.0.1:7001\", \"threads\": 2}");
    char *p = path_in("c1.json");
    assert_int_equal(node_config_load(&c, p, &st), 1);
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.max_body_bytes, 1 << 20); /* default */
    /* connection limits and deadlines (docs/security.md) */
    assert_int_equal(c.max_connections, 1024);
    assert_int_equal(c.max_connections_per_source, 32);
    assert_int_equal(c.peer_reserved_connections, 64);
    assert_int_equal(c.header_timeout_ms, 5000);
    assert_int_equal(c.request_timeout_s, 10);
    assert_int_equal(c.max_header_bytes, 8192);
    assert_string_equal(c.db, "tkms.db");
    node_config_free(&c);
    free(p);
    write_text("c2.json", "{\"address\": \"http://x\", \"thread\": 2}"); /* typo */
    p = path_in("c2.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    assert_non_null(strstr(st.msg, "unknown key"));
    free(p);
    write_text("c3.json", "{\"address\": \"http://x\", \"threads\": 0}");
    p = path_in("c3.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    free(p);
    write_text("c4.json", "{\"address\": \"http://x\", \"address\": \"http://y\"}");
    p = path_in("c4.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    free(p);
    /* the reserved slots must leave room for clients; one source cannot be allowed more than all */
    write_text("c5.json", "{\"address\": \"http://x\", \"max_connections\": 100, \"peer_reserved_connections\": 100}");
    p = path_in("c5.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    assert_non_null(strstr(st.msg, "peer_reserved_connections"));
    free(p);
    write_text("c6.json", "{\"address\": \"http://x\", \"max_connections\": 100, \"max_connections_per_source\": 101}");
    p = path_in("c6.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    assert_non_null(strstr(st.msg, "max_connections_per_source"));
    free(p);
    write_text("c7.json", "{\"address\": \"http://x\", \"header_timeout_ms\": 99}");
    p = path_in("c7.json");
    assert_int_equal(node_config_load(&c, p, &st), 0);
    free(p);
    write_text("c8.json", "{\"address\": \"http://x\", \"max_connections\": 100, \"max_connections_per_source\": 100, "
                          "\"peer_reserved_connections\": 99, \"header_timeout_ms\": 100, \"max_header_bytes\": 65536}");
    p = path_in("c8.json");
    assert_int_equal(node_config_load(&c, p, &st), 1);
    assert_int_equal(c.peer_reserved_connections, 99);
    node_config_free(&c);
    free(p);
}

static void test_seal(void **state) {
    (void)state;
    uint8_t key[32], pt[40], ct[40 + NODE_SEAL_OVERHEAD], out[40];
    assert_true(node_random(key, 32) && node_random(pt, 40));
    assert_true(node_seal(ct, key, pt, 40, "tkms/v1/share/1/2"));
    assert_true(node_open(out, key, ct, sizeof ct, "tkms/v1/share/1/2"));
    assert_memory_equal(out, pt, 40);
    assert_false(node_open(out, key, ct, sizeof ct, "tkms/v1/share/1/3")); /* moved to another row */
    ct[20] ^= 1;
    assert_false(node_open(out, key, ct, sizeof ct, "tkms/v1/share/1/2"));
}

static void test_envelope(void **state) {
    (void)state;
    uint8_t sk[32], pk[32], sig[64];
    const char *n2 = "http://127.0.0.1:17502", *n3 = "http://127.0.0.1:17503";
    assert_true(node_ed25519_keygen(sk, pk));
    const uint8_t body[] = "{\"msg\":\"00\"}";
    assert_true(node_envelope_sign(sig, sk, n2, "POST", "/v1/sign", 1234, body, sizeof body - 1));
    assert_true(node_envelope_verify(sig, pk, n2, "POST", "/v1/sign", 1234, body, sizeof body - 1));
    assert_true(node_envelope_verify(sig, pk, "http://127.0.0.1:17502/", "POST", "/v1/sign", 1234, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n3, "POST", "/v1/sign", 1234, body, sizeof body - 1)); /* other node */
    assert_false(node_envelope_verify(sig, pk, "", "POST", "/v1/sign", 1234, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n2, "GET", "/v1/sign", 1234, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n2, "POST", "/v1/sign", 1235, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n2, "POST", "/v1/group", 1234, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n2, "POST", "/v1/sign", 1234, body, sizeof body - 2));
    /* the length prefixes keep the fields apart: moving bytes between dest and method fails */
    assert_false(node_envelope_verify(sig, pk, "http://127.0.0.1:17502P", "OST", "/v1/sign", 1234, body, sizeof body - 1));
    /* a response (no destination) is not a request */
    assert_true(node_envelope_sign(sig, sk, "", "RESPONSE", "/v1/sign", 1234, body, sizeof body - 1));
    assert_true(node_envelope_verify(sig, pk, NULL, "RESPONSE", "/v1/sign", 1234, body, sizeof body - 1));
    assert_false(node_envelope_verify(sig, pk, n2, "RESPONSE", "/v1/sign", 1234, body, sizeof body - 1));
}

static void test_parse_u64(void **state) {
    (void)state;
    uint64_t v = 7;
    assert_true(node_parse_u64("0", &v) && v == 0);
    assert_true(node_parse_u64("17", &v) && v == 17);
    assert_true(node_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "01", "00", "1e3", "0x10", "18446744073709551616",
                                      "99999999999999999999", "184467440737095516150", "1.0", "\t1", NULL};
    for (size_t i = 0; bad[i]; i++) {
        v = 42;
        assert_false(node_parse_u64(bad[i], &v));
        assert_true(v == 42); /* untouched */
    }
    assert_false(node_parse_u64(NULL, &v));
}

static void test_approvals(void **state) {
    (void)state;
    tkms_status st = {0};
    char *db = path_in("a.db");
    node_store *s = NULL;
    assert_int_equal(node_store_open(&s, db, &st), 1);
    uint8_t h1[32] = {1}, h2[32] = {2};
    uint64_t exp = 1, now = 1000000;
    int found = -1;
    assert_true(node_store_get_approval(s, h1, now, &exp, &st) && exp == 0);
    assert_true(node_store_put_approval(s, h1, now, now + 5000, "admin", &st));
    assert_true(node_store_get_approval(s, h1, now + 4999, &exp, &st) && exp == now + 5000);
    assert_true(node_store_get_approval(s, h1, now + 5000, &exp, &st) && exp == 0); /* expired */
    assert_true(node_store_get_approval(s, h2, now, &exp, &st) && exp == 0);       /* other message */
    assert_true(node_store_revoke_approval(s, h2, now, &found, &st) && found == 0);
    assert_true(node_store_revoke_approval(s, h1, now, &found, &st) && found == 1);
    assert_true(node_store_get_approval(s, h1, now, &exp, &st) && exp == 0);
    /* a new approval replaces the old one; putting prunes expired rows */
    assert_true(node_store_put_approval(s, h1, now, now + 10, "admin", &st));
    assert_true(node_store_put_approval(s, h2, now + 20, now + 100, "admin", &st));
    assert_true(node_store_get_approval(s, h1, now, &exp, &st) && exp == 0);
    assert_true(node_store_get_approval(s, h2, now + 50, &exp, &st) && exp == now + 100);
    node_store_close(s);
    free(db);
}

static void test_store_epochs(void **state) {
    (void)state;
    tkms_status st = {0};
    char *db = path_in("t.db");
    node_store *s = NULL;
    assert_int_equal(node_store_open(&s, db, &st), 1);
    struct stat sb;
    assert_int_equal(stat(db, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0); /* 0600 */
    node_secrets sec;
    memset(&sec, 0, sizeof sec);
    assert_true(node_ed25519_keygen(sec.ed_sk, sec.ed_pk) && node_x25519_keygen(sec.x_sk, sec.x_pk) &&
                node_random(sec.storage_key, 32));
    assert_int_equal(node_store_put_identity(s, &sec, "http://127.0.0.1:1", &st), 1);
    node_secrets back;
    memset(&back, 0, sizeof back);
    memcpy(back.storage_key, sec.storage_key, 32);
    assert_int_equal(node_store_get_identity(s, &back, NULL, &st), 1);
    assert_memory_equal(back.ed_sk, sec.ed_sk, 32);
    back.storage_key[0] ^= 1;
    assert_int_equal(node_store_get_identity(s, &back, NULL, &st), 0);
    assert_non_null(strstr(st.msg, "wrong storage key"));

    uint8_t sh0[32], sh1[32], got[64];
    memset(sh0, 0x11, 32);
    memset(sh1, 0x22, 32);
    uint8_t sid[32] = {7};
    assert_int_equal(node_store_put_session(s, sec.storage_key, sid, 1, "reshare", sh0, 32, NULL, &st), 1);
    assert_int_equal(node_store_commit_epoch(s, sec.storage_key, 0, "{\"e\":0}", 1, sh0, 32, &st), 1);
    assert_int_equal(node_store_commit_epoch_meta(s, sec.storage_key, 1, "{\"e\":1}", 2, sh1, 32, "next_slot", "5", &st), 1);
    uint64_t e = 0;
    uint32_t idx = 0;
    size_t len = 0;
    int found = 0;
    assert_int_equal(node_store_get_share(s, sec.storage_key, &e, &idx, got, &len, &found, &st), 1);
    assert_true(found);
    assert_int_equal(e, 1);
    assert_int_equal(idx, 2);
    assert_memory_equal(got, sh1, 32);
    char *v = NULL;
    assert_int_equal(node_store_get_meta(s, "next_slot", &v, &st), 1);
    assert_string_equal(v, "5");
    free(v);
    /* the session checkpoint of epoch 1 went with the commit */
    uint8_t sid2[32];
    char kind[16];
    uint8_t *blob = NULL;
    assert_int_equal(node_store_get_session(s, sec.storage_key, sid2, &e, kind, &blob, &len, &st), 1);
    assert_null(blob);
    /* a failed attempt's checkpoint is found by its session ID (for the retry) */
    uint8_t sid3[32] = {9}, sid4[32] = {10};
    assert_int_equal(node_store_put_session(s, sec.storage_key, sid3, 2, "reshare", sh1, 32, NULL, &st), 1);
    assert_int_equal(node_store_get_session_by_sid(s, sec.storage_key, sid4, &blob, &len, &st), 1);
    assert_null(blob);
    assert_int_equal(node_store_get_session_by_sid(s, sec.storage_key, sid3, &blob, &len, &st), 1);
    assert_non_null(blob);
    assert_int_equal(len, 32);
    assert_memory_equal(blob, sh1, 32);
    free(blob);
    blob = NULL;
    /* a member of the new group adopting it without a share keeps its old share (rule 8) */
    assert_int_equal(node_store_commit_epoch_keep(s, sec.storage_key, 2, "{\"e\":2}", 3, NULL, 0, 1, NULL, NULL, &st), 1);
    assert_int_equal(node_store_get_share(s, sec.storage_key, &e, &idx, got, &len, &found, &st), 1);
    assert_true(found);
    assert_int_equal(e, 1);
    assert_int_equal(node_store_get_session_by_sid(s, sec.storage_key, sid3, &blob, &len, &st), 1);
    assert_null(blob); /* the checkpoint of epoch 2 went with the commit */
    /* adopting a later group without a share erases the last share */
    assert_int_equal(node_store_commit_epoch(s, sec.storage_key, 2, "{\"e\":2}", 0, NULL, 0, &st), 1);
    assert_int_equal(node_store_get_share(s, sec.storage_key, &e, &idx, got, &len, &found, &st), 1);
    assert_false(found);
    char *g = NULL;
    uint64_t ge = 0;
    assert_int_equal(node_store_get_group(s, UINT64_MAX, &g, &ge, &st), 1);
    assert_int_equal(ge, 2);
    free(g);
    assert_int_equal(node_store_get_group(s, 0, &g, &ge, &st), 1);
    assert_string_equal(g, "{\"e\":0}");
    free(g);
    /* replay cache */
    uint8_t dg[32] = {1, 2, 3};
    assert_int_equal(node_store_replay_check(s, dg, node_now_ms()), 1);
    assert_int_equal(node_store_replay_check(s, dg, node_now_ms()), 0);
    node_store_close(s);
    free(db);
}

static int g_notes;
static void note(void *arg, const char *event, const char *msg) {
    (void)arg;
    (void)msg;
    if (!strcmp(event, "audit_pruned")) g_notes++;
}

static long count_sql(const char *dbpath, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long n = -1;
    if (sqlite3_open(dbpath, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* Audit retention: never more than max_rows rows; with an archive directory every pruned row is in
 * exactly one archive file (ids contiguous from 1), without one the oldest are deleted. */
static void test_audit_retention(void **state) {
    (void)state;
    node_store *s = NULL;
    tkms_status st = {0};
    char *db = path_in("audit.db"), *arch = path_in("audit-archive");
    assert_int_equal(node_store_open(&s, db, &st), 1);
    node_store_audit_retention(s, 200, arch, note, NULL);
    for (int i = 0; i < 1000; i++) {
        char subj[32];
        snprintf(subj, sizeof subj, "row %d", i + 1);
        assert_int_equal(node_store_audit(s, "keys/app", subj, "release", "{\"code\":\"ok\"}"), 1);
        assert_true(count_sql(db, "SELECT count(*) FROM audit") <= 200);
    }
    assert_true(g_notes > 0);
    long kept = count_sql(db, "SELECT count(*) FROM audit"), lo = count_sql(db, "SELECT min(id) FROM audit");
    assert_true(kept >= 198 && kept <= 200);
    assert_int_equal(count_sql(db, "SELECT max(id) FROM audit"), 1000);
    /* the archive holds rows 1 .. lo-1, each once, in order */
    char cmd[600], line[512];
    snprintf(cmd, sizeof cmd, "cat %s/audit-*.jsonl", arch);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    long want = 1;
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "id")), want);
        char subj[32];
        snprintf(subj, sizeof subj, "row %ld", want);
        assert_string_equal(json_string_value(json_object_get(o, "subject")), subj);
        json_decref(o);
        want++;
    }
    pclose(f);
    assert_int_equal(want, lo);
    /* without an archive the oldest rows are deleted; a smaller bound applies at the next insert */
    node_store_audit_retention(s, 100, NULL, NULL, NULL);
    assert_int_equal(node_store_audit(s, "keys/app", "row 1001", "release", NULL), 1);
    assert_true(count_sql(db, "SELECT count(*) FROM audit") <= 100);
    assert_int_equal(count_sql(db, "SELECT max(id) FROM audit"), 1001);
    node_store_close(s);
    free(db);
    free(arch);
}

/* ---- secrets at rest, inspected with a second SQLite connection ---- */

static sqlite3 *raw_open(const char *path) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql) {
    char *em = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &em);
    if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, em ? em : "?");
    sqlite3_free(em);
    assert_int_equal(rc, SQLITE_OK);
}

/* The one blob selected by sql (malloc'd). */
static uint8_t *raw_blob(sqlite3 *db, const char *sql, size_t *len) {
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    *len = (size_t)sqlite3_column_bytes(q, 0);
    uint8_t *b = malloc(*len + 1);
    assert_non_null(b);
    memcpy(b, sqlite3_column_blob(q, 0), *len);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE); /* exactly one row */
    sqlite3_finalize(q);
    return b;
}

/* UPDATE ... SET sealed = blob WHERE where. */
static void raw_set_sealed(sqlite3 *db, const char *table, const char *where, const uint8_t *blob, size_t len) {
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE %s SET sealed = ? WHERE %s", table, where);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, blob, (int)len, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

/* The store file and its WAL hold none of the secrets. */
static void assert_file_lacks(const char *db, const uint8_t *secret, size_t len) {
    char path[512];
    for (int w = 0; w < 2; w++) {
        snprintf(path, sizeof path, "%s%s", db, w ? "-wal" : "");
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        size_t cap = 1 << 22, n = 0;
        uint8_t *b = malloc(cap);
        assert_non_null(b);
        n = fread(b, 1, cap, f);
        fclose(f);
        assert_true(n < cap);
        if (contains(b, n, secret, len)) fail_msg("%s holds a secret in plaintext", path);
        free(b);
    }
}

static void random_nonzero(uint8_t *b, size_t n) {
    tu_randbytes(b, n);
    b[0] |= 1; /* never all-zero (a zero column would "contain" a zero share) */
}

static void expect_share(node_store *s, const uint8_t key[32], uint64_t want_e, uint32_t want_i, const uint8_t *want) {
    tkms_status st = {0};
    uint64_t e = 0;
    uint32_t i = 0;
    uint8_t got[64];
    size_t len = 0;
    int found = 0;
    if (!node_store_get_share(s, key, &e, &i, got, &len, &found, &st)) fail_msg("get_share: %s", st.msg);
    assert_true(found);
    assert_int_equal(e, want_e);
    assert_int_equal(i, want_i);
    assert_int_equal(len, 32);
    assert_memory_equal(got, want, 32);
}

static void expect_share_refused(node_store *s, const uint8_t key[32], const char *what) {
    tkms_status st = {0};
    uint64_t e = 0;
    uint32_t i = 0;
    uint8_t got[64];
    size_t len = 0;
    int found = 0;
    if (node_store_get_share(s, key, &e, &i, got, &len, &found, &st))
        fail_msg("%s: the share still decrypts (epoch %llu, index %u)", what, (unsigned long long)e, i);
    assert_int_equal(st.cls, TKMS_CLASS_STORAGE);
    assert_non_null(strstr(st.msg, "does not decrypt"));
    assert_false(found);
}

/* Shares: sealed on disk, bound to their epoch and index. */
static void test_share_at_rest(void **state) {
    (void)state;
    tkms_status st = {0};
    char *db = path_in("rest-share.db");
    node_store *s = NULL;
    assert_int_equal(node_store_open(&s, db, &st), 1);
    uint8_t key[32], sh5[32], sh6[32];
    tu_randbytes(key, 32);
    random_nonzero(sh5, 32);
    random_nonzero(sh6, 32);
    assert_int_equal(node_store_commit_epoch(s, key, 5, "{\"e\":5}", 3, sh5, 32, &st), 1);
    expect_share(s, key, 5, 3, sh5);
    sqlite3 *raw = raw_open(db);
    size_t n5 = 0;
    uint8_t *blob5 = raw_blob(raw, "SELECT sealed FROM shares WHERE epoch = 5", &n5);
    assert_int_equal(n5, 32 + NODE_SEAL_OVERHEAD);
    if (contains(blob5, n5, sh5, 32)) fail_msg("the share is stored in plaintext");
    assert_file_lacks(db, sh5, 32);

    /* relabelled rows: another epoch, another index */
    raw_exec(raw, "UPDATE shares SET epoch = 6 WHERE epoch = 5");
    expect_share_refused(s, key, "epoch column changed");
    raw_exec(raw, "UPDATE shares SET epoch = 5 WHERE epoch = 6");
    expect_share(s, key, 5, 3, sh5);
    raw_exec(raw, "UPDATE shares SET idx = 4 WHERE epoch = 5");
    expect_share_refused(s, key, "index column changed");
    raw_exec(raw, "UPDATE shares SET idx = 3 WHERE epoch = 5");
    expect_share(s, key, 5, 3, sh5);

    /* a sealed blob copied into another row: the next epoch's share, same index */
    assert_int_equal(node_store_commit_epoch(s, key, 6, "{\"e\":6}", 3, sh6, 32, &st), 1);
    expect_share(s, key, 6, 3, sh6);
    size_t n6 = 0;
    uint8_t *blob6 = raw_blob(raw, "SELECT sealed FROM shares WHERE epoch = 6", &n6);
    if (contains(blob6, n6, sh6, 32)) fail_msg("the share is stored in plaintext");
    raw_set_sealed(raw, "shares", "epoch = 6", blob5, n5);
    expect_share_refused(s, key, "epoch 5's blob in epoch 6's row");
    raw_set_sealed(raw, "shares", "epoch = 6", blob6, n6);
    expect_share(s, key, 6, 3, sh6);
    /* ... and a newer row made of an old blob */
    raw_exec(raw, "INSERT INTO shares(epoch, idx, sealed, stored_ms) SELECT 7, idx, sealed, stored_ms FROM shares WHERE epoch = 6");
    expect_share_refused(s, key, "epoch 6's blob in a new row of epoch 7");
    raw_exec(raw, "DELETE FROM shares WHERE epoch = 7");
    expect_share(s, key, 6, 3, sh6);
    assert_file_lacks(db, sh6, 32);
    free(blob5);
    free(blob6);
    sqlite3_close(raw);
    node_store_close(s);
    free(db);
}

static void expect_pending(node_store *s, const uint8_t key[32], uint64_t e, const uint8_t th[32], uint32_t want_i,
                           const uint8_t *want) {
    tkms_status st = {0};
    uint32_t i = 0;
    uint8_t got[32];
    int found = 0;
    if (!node_store_get_pending_share(s, key, e, th, &i, got, &found, &st)) fail_msg("get_pending_share: %s", st.msg);
    assert_true(found);
    assert_int_equal(i, want_i);
    assert_memory_equal(got, want, 32);
}

static void expect_pending_refused(node_store *s, const uint8_t key[32], uint64_t e, const uint8_t th[32], const char *what) {
    tkms_status st = {0};
    uint32_t i = 0;
    uint8_t got[32];
    int found = 0;
    if (node_store_get_pending_share(s, key, e, th, &i, got, &found, &st))
        fail_msg("%s: the pending share still %s", what, found ? "decrypts" : "is reported absent");
    assert_int_equal(st.cls, TKMS_CLASS_STORAGE);
    assert_non_null(strstr(st.msg, "does not decrypt"));
    assert_false(found);
}

/* Pending shares (both writers: put_pending_share and put_session's pending argument): sealed on
 * disk, bound to epoch, transcript hash and index. */
static void test_pending_at_rest(void **state) {
    (void)state;
    tkms_status st = {0};
    char *db = path_in("rest-pending.db");
    node_store *s = NULL;
    assert_int_equal(node_store_open(&s, db, &st), 1);
    uint8_t key[32], p1[32], p2[32], th1[32], th2[32], sid[32], ck[64];
    tu_randbytes(key, 32);
    tu_randbytes(th1, 32);
    tu_randbytes(th2, 32);
    tu_randbytes(sid, 32);
    random_nonzero(p1, 32);
    random_nonzero(p2, 32);
    random_nonzero(ck, sizeof ck);
    assert_int_equal(node_store_put_pending_share(s, key, 9, th1, 2, p1, &st), 1);
    /* the second one comes with a session checkpoint, as the daemon writes it */
    node_pending_share pend = {.epoch = 9, .index = 2};
    memcpy(pend.thash, th2, 32);
    memcpy(pend.share, p2, 32);
    assert_int_equal(node_store_put_session(s, key, sid, 9, "reshare", ck, sizeof ck, &pend, &st), 1);
    expect_pending(s, key, 9, th1, 2, p1);
    expect_pending(s, key, 9, th2, 2, p2);
    sqlite3 *raw = raw_open(db);
    raw_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
    char where1[128], where2[128], th1h[65], th2h[65];
    tkms_hex(th1h, th1, 32);
    tkms_hex(th2h, th2, 32);
    snprintf(where1, sizeof where1, "epoch = 9 AND thash = x'%s'", th1h);
    snprintf(where2, sizeof where2, "epoch = 9 AND thash = x'%s'", th2h);
    char sql[300];
    size_t n1 = 0, n2 = 0;
    snprintf(sql, sizeof sql, "SELECT sealed FROM pending_shares WHERE %s", where1);
    uint8_t *b1 = raw_blob(raw, sql, &n1);
    snprintf(sql, sizeof sql, "SELECT sealed FROM pending_shares WHERE %s", where2);
    uint8_t *b2 = raw_blob(raw, sql, &n2);
    assert_int_equal(n1, 32 + NODE_SEAL_OVERHEAD);
    assert_int_equal(n2, 32 + NODE_SEAL_OVERHEAD);
    if (contains(b1, n1, p1, 32)) fail_msg("put_pending_share stores the share in plaintext");
    if (contains(b2, n2, p2, 32)) fail_msg("put_session stores the pending share in plaintext");
    assert_file_lacks(db, p1, 32);
    assert_file_lacks(db, p2, 32);

    /* relabelled: epoch, transcript hash, index (each restored after) */
    snprintf(sql, sizeof sql, "UPDATE pending_shares SET epoch = 10 WHERE %s", where1);
    raw_exec(raw, sql);
    expect_pending_refused(s, key, 10, th1, "epoch column changed");
    raw_exec(raw, "UPDATE pending_shares SET epoch = 9 WHERE epoch = 10");
    expect_pending(s, key, 9, th1, 2, p1);
    uint8_t th3[32];
    memcpy(th3, th1, 32);
    th3[31] ^= 1;
    char th3h[65];
    tkms_hex(th3h, th3, 32);
    snprintf(sql, sizeof sql, "UPDATE pending_shares SET thash = x'%s' WHERE %s", th3h, where1);
    raw_exec(raw, sql);
    expect_pending_refused(s, key, 9, th3, "transcript hash column changed");
    snprintf(sql, sizeof sql, "UPDATE pending_shares SET thash = x'%s' WHERE epoch = 9 AND thash = x'%s'", th1h, th3h);
    raw_exec(raw, sql);
    expect_pending(s, key, 9, th1, 2, p1);
    snprintf(sql, sizeof sql, "UPDATE pending_shares SET idx = 3 WHERE %s", where2);
    raw_exec(raw, sql);
    expect_pending_refused(s, key, 9, th2, "index column changed");
    snprintf(sql, sizeof sql, "UPDATE pending_shares SET idx = 2 WHERE %s", where2);
    raw_exec(raw, sql);
    expect_pending(s, key, 9, th2, 2, p2);
    /* moved: one row's blob in the other row (same epoch and index, other transcript) */
    raw_set_sealed(raw, "pending_shares", where2, b1, n1);
    expect_pending_refused(s, key, 9, th2, "blob of transcript 1 in the row of transcript 2");
    raw_set_sealed(raw, "pending_shares", where2, b2, n2);
    expect_pending(s, key, 9, th2, 2, p2);
    free(b1);
    free(b2);
    sqlite3_close(raw);
    node_store_close(s);
    free(db);
}

/* Session checkpoints: sealed on disk, bound to their session ID. (The epoch and kind columns are
 * bookkeeping only: the daemon takes the epoch from the decrypted checkpoint.) */
static void test_session_at_rest(void **state) {
    (void)state;
    tkms_status st = {0};
    char *db = path_in("rest-session.db");
    node_store *s = NULL;
    assert_int_equal(node_store_open(&s, db, &st), 1);
    uint8_t key[32] = {0}, sa[32] = {0}, sb[32], ca[96], cb[96];
    tu_randbytes(key, 32);
    tu_randbytes(sa, 32);
    sb[0] = (uint8_t)(sa[0] ^ 1);
    random_nonzero(ca, sizeof ca);
    random_nonzero(cb, sizeof cb);
    assert_int_equal(node_store_put_session(s, key, sa, 4, "reshare", ca, sizeof ca, NULL, &st), 1);
    assert_int_equal(node_store_put_session(s, key, sb, 4, "reshare", cb, sizeof cb, NULL, &st), 1);
    sqlite3 *raw = raw_open(db);
    raw_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
    char sah[65], sbh[65], sql[300];
    tkms_hex(sah, sa, 32);
    tkms_hex(sbh, sb, 32);
    size_t na = 0, nb = 0;
    snprintf(sql, sizeof sql, "SELECT sealed FROM sessions WHERE sid = x'%s'", sah);
    uint8_t *ba = raw_blob(raw, sql, &na);
    snprintf(sql, sizeof sql, "SELECT sealed FROM sessions WHERE sid = x'%s'", sbh);
    uint8_t *bb = raw_blob(raw, sql, &nb);
    assert_int_equal(na, sizeof ca + NODE_SEAL_OVERHEAD);
    /* no 16-byte run of the checkpoint appears in its column or in the file */
    for (size_t off = 0; off + 16 <= sizeof ca; off += 16) {
        if (contains(ba, na, ca + off, 16) || contains(bb, nb, cb + off, 16)) fail_msg("a checkpoint is stored in plaintext");
        assert_file_lacks(db, ca + off, 16);
    }
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(node_store_get_session_by_sid(s, key, sa, &blob, &len, &st), 1);
    assert_non_null(blob);
    assert_memory_equal(blob, ca, sizeof ca);
    free(blob);
    blob = NULL;

    /* relabelled: session a's row under a new session ID */
    uint8_t sc[32];
    memcpy(sc, sa, 32);
    sc[31] ^= 0x80;
    char sch[65], where[100];
    tkms_hex(sch, sc, 32);
    snprintf(sql, sizeof sql, "UPDATE sessions SET sid = x'%s', updated_ms = updated_ms + 100000 WHERE sid = x'%s'", sch, sah);
    raw_exec(raw, sql);
    if (node_store_get_session_by_sid(s, key, sc, &blob, &len, &st)) fail_msg("a relabelled checkpoint decrypts");
    assert_null(blob);
    assert_non_null(strstr(st.msg, "does not decrypt"));
    uint8_t got_sid[32];
    uint64_t ge = 0;
    char kind[16];
    /* the newest row is the relabelled one: the resume path refuses it too */
    if (node_store_get_session(s, key, got_sid, &ge, kind, &blob, &len, &st)) fail_msg("a relabelled checkpoint resumes");
    assert_null(blob);
    snprintf(sql, sizeof sql, "UPDATE sessions SET sid = x'%s' WHERE sid = x'%s'", sah, sch);
    raw_exec(raw, sql);
    assert_int_equal(node_store_get_session(s, key, got_sid, &ge, kind, &blob, &len, &st), 1);
    assert_non_null(blob);
    assert_memory_equal(got_sid, sa, 32);
    assert_memory_equal(blob, ca, sizeof ca);
    free(blob);
    blob = NULL;
    /* moved: session a's blob in session b's row */
    snprintf(where, sizeof where, "sid = x'%s'", sbh);
    raw_set_sealed(raw, "sessions", where, ba, na);
    if (node_store_get_session_by_sid(s, key, sb, &blob, &len, &st)) fail_msg("a checkpoint moved to another session decrypts");
    assert_null(blob);
    raw_set_sealed(raw, "sessions", where, bb, nb);
    assert_int_equal(node_store_get_session_by_sid(s, key, sb, &blob, &len, &st), 1);
    assert_non_null(blob);
    assert_memory_equal(blob, cb, sizeof cb);
    free(blob);
    free(ba);
    free(bb);
    sqlite3_close(raw);
    node_store_close(s);
    free(db);
}

int main(void) {
    tu_seed();
    snprintf(g_dir, sizeof g_dir, "/tmp/tkms-node-test.XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_strict),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_approvals),
        cmocka_unit_test(test_store_epochs),
        cmocka_unit_test(test_audit_retention),
        cmocka_unit_test(test_share_at_rest),
        cmocka_unit_test(test_pending_at_rest),
        cmocka_unit_test(test_session_at_rest),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
