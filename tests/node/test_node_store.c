/* Unit tests of the operator node library: strict config parsing, the at-rest seal, the signed
 * envelope (destination bound), strict decimal parsing, cluster-signing approvals, and the store's
 * epoch commit (atomic switch, old shares erased, wrong key refused). */
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
    node_status st = {0};
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
    node_status st = {0};
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
    node_status st = {0};
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
    node_status st = {0};
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

int main(void) {
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
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
