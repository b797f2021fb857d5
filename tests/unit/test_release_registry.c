/* App registry: app IDs, EIP-191 sign/recover (incl. malleated and malformed signatures), statement
 * validation and canonical form, the SQLite apps table (seq ordering, owner binding, legacy table)
 * and anti-entropy export/import between two stores. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release.h"
#include "testutil.h"

static int failures;
#define EXPECT(cond, label)                                                                 \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__, __LINE__, label, #cond);   \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

static uint8_t SK[32], SK2[32], OWNER[20], SALT[32], APP[20];
static char APPS[TKMS_APP_ID_TEXT];

static char *stmt(unsigned seq, const char *extra) {
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"app_id\":\"%s\",\"seq\":%u,\"methods\":[\"gcp-cs\",\"insecure-dev\"],"
             "\"image_digests\":[\"sha256:%064d\"],\"deployments\":{\"gcp_projects\":[\"acme-prod\"]}%s}",
             APPS, seq, 7, extra ? extra : "");
    return s;
}

static char *signed_stmt(unsigned seq, const uint8_t *sk) {
    tkms_status err;
    char *s = stmt(seq, NULL), *out = NULL;
    tkms_release_code c = tkms_app_sign_statement(&out, &err, s, strlen(s), sk, SALT);
    free(s);
    if (c != TKMS_REL_OK) return NULL;
    return out;
}

static void test_ids_and_sigs(void) {
    uint8_t id[20], back[20], sig[65], addr[20];
    char txt[TKMS_APP_ID_TEXT];
    tkms_app_id_derive(id, OWNER, SALT);
    tkms_app_id_format(txt, id);
    EXPECT(strlen(txt) == 42 && txt[0] == '0' && txt[1] == 'x', "format");
    EXPECT(tkms_app_id_parse(back, txt) && memcmp(back, id, 20) == 0, "parse round trip");
    txt[5] = (char)toupper((unsigned char)txt[5]);
    EXPECT(tkms_app_id_parse(back, txt) && memcmp(back, id, 20) == 0, "parse any case");
    EXPECT(!tkms_app_id_parse(back, "0x1234"), "short");
    EXPECT(!tkms_app_id_parse(back, "1x00000000000000000000000000000000000000000"), "prefix");

    const char *msg = "hello tkms";
    TU_CHECK(tkms_eip191_sign(sig, SK, (const uint8_t *)msg, strlen(msg)));
    EXPECT(sig[64] == 27 || sig[64] == 28, "v");
    EXPECT(tkms_eip191_recover(addr, sig, (const uint8_t *)msg, strlen(msg)) && memcmp(addr, OWNER, 20) == 0, "recover");
    EXPECT(tkms_eip191_recover(addr, sig, (const uint8_t *)"hello tkmS", 10) && memcmp(addr, OWNER, 20) != 0,
           "other message recovers another address");
    uint8_t bad[65];
    memcpy(bad, sig, 65);
    bad[64] = (uint8_t)(sig[64] - 27);
    EXPECT(!tkms_eip191_recover(addr, bad, (const uint8_t *)msg, strlen(msg)), "v in {0,1} refused");
    bad[64] = 29;
    EXPECT(!tkms_eip191_recover(addr, bad, (const uint8_t *)msg, strlen(msg)), "v 29 refused");
    /* The malleated twin: s' = n - s, v flipped. Valid for ecrecover, refused here (low s only). */
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0x0a, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    memcpy(bad, sig, 65);
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = N[i] - sig[32 + i] - borrow;
        borrow = d < 0;
        bad[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    bad[64] = sig[64] == 27 ? 28 : 27;
    EXPECT(!tkms_eip191_recover(addr, bad, (const uint8_t *)msg, strlen(msg)), "high s refused");
    memset(bad, 0xff, 64);
    bad[64] = 27;
    EXPECT(!tkms_eip191_recover(addr, bad, (const uint8_t *)msg, strlen(msg)), "r, s >= n refused");
    memset(bad, 0, 64);
    EXPECT(!tkms_eip191_recover(addr, bad, (const uint8_t *)msg, strlen(msg)), "zero r, s refused");
    uint8_t zero[32] = {0};
    EXPECT(!tkms_eth_address_of_key(addr, zero), "zero key");
}

static void expect_stmt(tkms_release_code want, const char *json, const char *label) {
    tkms_app_statement st;
    tkms_status err;
    char *can = NULL;
    tkms_release_code got = tkms_app_statement_parse(&st, &can, &err, json, strlen(json));
    if (got != want) {
        fprintf(stderr, "%s: got %s (%s), want %s\n", label, tkms_release_code_name(got), err.msg, tkms_release_code_name(want));
        failures++;
    }
    /* the status carries the same code, its class and, on failure, a message */
    if (err.code != (int)got || err.cls != tkms_release_class(got) || (got != TKMS_REL_OK) != (err.msg[0] != 0) ||
        (got == TKMS_REL_BAD_STATEMENT && err.cls != TKMS_CLASS_INPUT)) {
        fprintf(stderr, "%s: status {%s, %d, \"%s\"} for %s\n", label, tkms_class_name(err.cls), err.code, err.msg,
                tkms_release_code_name(got));
        failures++;
    }
    free(can);
}

static void test_statements(void) {
    char *s = stmt(1, NULL), buf[4096];
    tkms_app_statement st;
    tkms_status err;
    char *can = NULL;
    EXPECT(tkms_app_statement_parse(&st, &can, &err, s, strlen(s)) == TKMS_REL_OK, "valid statement");
    EXPECT(st.seq == 1 && st.methods == (TKMS_APP_M_GCP_CS | TKMS_APP_M_INSECURE_DEV) && st.image_digests.n == 1 &&
               st.gcp_projects.n == 1 && memcmp(st.app_id, APP, 20) == 0,
           "parsed fields");
    /* canonical: sorted keys, no whitespace */
    EXPECT(can && strncmp(can, "{\"app_id\":", 10) == 0 && strstr(can, "\"deployments\":{\"gcp_projects\":[\"acme-prod\"]},\"image_digests\"") &&
               !strchr(can, ' '),
           "canonical form");
    /* whitespace and key order do not change the canonical bytes */
    snprintf(buf, sizeof buf, "{ \"seq\" : 1, \"methods\":[\"gcp-cs\",\"insecure-dev\"], \"deployments\": {\"gcp_projects\": [\"acme-prod\"]},"
             " \"image_digests\": [\"sha256:%064d\"], \"app_id\": \"%s\" }", 7, APPS);
    char *can2 = NULL;
    EXPECT(tkms_app_statement_parse(&st, &can2, &err, buf, strlen(buf)) == TKMS_REL_OK && can && can2 && strcmp(can, can2) == 0,
           "canonical independent of layout");
    free(can2);
    free(can);
    free(s);

#define BAD(extra, label)                                  \
    do {                                                   \
        char *b_ = stmt(1, extra);                         \
        expect_stmt(TKMS_REL_BAD_STATEMENT, b_, label);    \
        free(b_);                                          \
    } while (0)
    BAD(",\"policy\":{}", "unknown member");
    BAD(",\"snp\":{\"measurement\":[\"00\"]}", "short measurement");
    BAD(",\"tdx\":{\"mrtd\":[\"AA0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"]}", "uppercase hex");
    BAD(",\"tdx\":{\"rtmr3\":[]}", "rtmr3 not a statement field");
    BAD(",\"seq\":2", "duplicate key");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":0,\"methods\":[\"insecure-dev\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "seq 0");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1.5,\"methods\":[\"insecure-dev\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "seq not an integer");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":9007199254740992,\"methods\":[\"insecure-dev\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "seq above 2^53-1");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "no methods");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"tdx\",\"tdx\"],\"tdx\":{\"mrtd\":[\"%096d\"]}}", APPS, 1);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "repeated method");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"sgx\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "unknown method");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"gcp-cs\"],\"deployments\":{\"gcp_projects\":[\"p1\"]}}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "gcp-cs without image digests");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"gcp-cs\"],\"image_digests\":[\"sha256:%064d\"]}", APPS, 1);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "gcp-cs without deployments");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"tdx\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "tdx without mrtd");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"sev-snp\"]}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "sev-snp without measurement");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"sev-snp\"],\"snp\":{\"measurement\":[\"%096d\"]},"
             "\"deployments\":{\"snp_host_data\":[\"%064d\"]}}", APPS, 1, 2);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "host_data not starting with the app ID");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"insecure-dev\"],\"image_digests\":[\"sha256:%064d\",\"sha256:%064d\"]}", APPS, 1, 1);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "duplicate digest");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"insecure-dev\"],\"deployments\":{\"service_accounts\":[\"a\\\"b@x\"]}}", APPS);
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "service account with a quote");
    snprintf(buf, sizeof buf, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"insecure-dev\"]}", "0xABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD");
    expect_stmt(TKMS_REL_BAD_STATEMENT, buf, "uppercase app id in a statement");
    expect_stmt(TKMS_REL_BAD_STATEMENT, "[1,2]", "not an object");
    expect_stmt(TKMS_REL_BAD_STATEMENT, "{\"app_id\":", "truncated");
}

static void test_signed(void) {
    tkms_status err;
    char *js = signed_stmt(3, SK);
    TU_CHECK(js);
    tkms_app_signed s;
    EXPECT(tkms_app_signed_parse(&s, &err, js, strlen(js)) == TKMS_REL_OK, "signed parses");
    EXPECT(memcmp(s.owner, OWNER, 20) == 0 && s.st.seq == 3, "owner recovered");
    char *again = tkms_app_signed_json(&s);
    EXPECT(again && strcmp(again, js) == 0, "signed JSON is canonical");
    free(again);
    tkms_app_signed_free(&s);
    /* Signed by another key: the recovered signer is not H^-1(app_id). */
    char *s2 = stmt(3, NULL), *o2 = NULL;
    EXPECT(tkms_app_sign_statement(&o2, &err, s2, strlen(s2), SK2, SALT) == TKMS_REL_BAD_SIGNATURE, "signer refuses other app");
    free(s2);
    /* forge: take a valid signature and swap in another statement body */
    char *forged = strdup(js), *p = strstr(forged, "\"seq\":3");
    TU_CHECK(p);
    p[6] = '4';
    EXPECT(tkms_app_signed_parse(&s, &err, forged, strlen(forged)) == TKMS_REL_BAD_SIGNATURE, "tampered seq");
    free(forged);
    forged = strdup(js);
    p = strstr(forged, "\"salt\":\"") + 8;
    p[0] = p[0] == '0' ? '1' : '0';
    EXPECT(tkms_app_signed_parse(&s, &err, forged, strlen(forged)) == TKMS_REL_BAD_SIGNATURE, "other salt");
    free(forged);
    EXPECT(tkms_app_signed_parse(&s, &err, "{\"statement\":{}}", 16) == TKMS_REL_BAD_REQUEST, "missing members");
    free(js);
}

static int count_rows(sqlite3 *db) {
    sqlite3_stmt *q;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM apps", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n;
}

static tkms_release_code put(sqlite3 *db, const char *js) {
    tkms_app_signed s;
    tkms_status err;
    tkms_release_code c = tkms_app_signed_parse(&s, &err, js, strlen(js));
    if (c != TKMS_REL_OK) return c;
    c = tkms_registry_put(db, &s, 1000, &err);
    tkms_app_signed_free(&s);
    return c;
}

static void test_db(void) {
    sqlite3 *db, *db2;
    tkms_status err;
    TU_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK && sqlite3_open(":memory:", &db2) == SQLITE_OK);
    /* the node store's placeholder table is replaced while empty */
    TU_CHECK(sqlite3_exec(db, "CREATE TABLE apps(app_id BLOB PRIMARY KEY, owner BLOB NOT NULL, seq INTEGER NOT NULL,"
                              " statement TEXT NOT NULL, updated_ms INTEGER NOT NULL)", NULL, NULL, NULL) == SQLITE_OK);
    EXPECT(tkms_registry_init(db, &err), "legacy empty table replaced");
    EXPECT(tkms_registry_init(db, &err), "init idempotent");
    TU_CHECK(tkms_registry_init(db2, &err));

    char *s1 = signed_stmt(1, SK), *s2 = signed_stmt(2, SK), *s5 = signed_stmt(5, SK);
    uint64_t seq = 0;
    EXPECT(tkms_registry_seq(db, &seq, APP) == 0, "unknown");
    EXPECT(put(db, s2) == TKMS_REL_OK, "first statement");
    EXPECT(put(db, s2) == TKMS_REL_STALE_STATEMENT, "same seq is stale");
    EXPECT(put(db, s1) == TKMS_REL_STALE_STATEMENT, "lower seq is stale");
    EXPECT(tkms_registry_seq(db, &seq, APP) == 1 && seq == 2, "seq 2 kept");
    EXPECT(put(db, s5) == TKMS_REL_OK && tkms_registry_seq(db, &seq, APP) == 1 && seq == 5, "higher seq replaces");
    tkms_app_signed g;
    EXPECT(tkms_registry_get(db, &g, APP) == TKMS_REL_OK && g.st.seq == 5, "get");
    tkms_app_signed_free(&g);
    uint8_t other[20] = {1};
    EXPECT(tkms_registry_get(db, &g, other) == TKMS_REL_UNKNOWN_APP, "get unknown");
    /* a row edited behind the node's back is not policy */
    TU_CHECK(sqlite3_exec(db2, "CREATE TABLE IF NOT EXISTS x(a)", NULL, NULL, NULL) == SQLITE_OK);

    /* anti-entropy: db2 is empty, gets seq 5; then nothing more to send */
    char *sum2 = tkms_registry_summary(db2);
    EXPECT(sum2 && strcmp(sum2, "{\"apps\":{}}") == 0, "empty summary");
    char *exp = tkms_registry_export(db, sum2, strlen(sum2), 100);
    size_t st = 0, sl = 0, rf = 0;
    EXPECT(exp && tkms_registry_import(db2, &st, &sl, &rf, exp, strlen(exp), 2000) == TKMS_REL_OK && st == 1 && sl == 0 && rf == 0,
           "import stores");
    EXPECT(tkms_registry_seq(db2, &seq, APP) == 1 && seq == 5, "db2 has seq 5");
    EXPECT(exp && tkms_registry_import(db2, &st, &sl, &rf, exp, strlen(exp), 2000) == TKMS_REL_OK && st == 0 && sl == 1, "import again: stale");
    free(sum2);
    sum2 = tkms_registry_summary(db2);
    char *exp2 = tkms_registry_export(db, sum2, strlen(sum2), 100);
    EXPECT(exp2 && strcmp(exp2, "{\"more\":false,\"statements\":[]}") == 0, "nothing newer");
    /* a batch with a forged statement: refused, state unchanged */
    char *forged = strdup(s5), *p = strstr(forged, "\"seq\":5");
    p[6] = '9';
    char batch[8192];
    snprintf(batch, sizeof batch, "{\"statements\":[%s,{\"x\":1}]}", forged);
    EXPECT(tkms_registry_import(db2, &st, &sl, &rf, batch, strlen(batch), 3000) == TKMS_REL_OK && st == 0 && rf == 2, "forged refused");
    EXPECT(tkms_registry_seq(db2, &seq, APP) == 1 && seq == 5 && count_rows(db2) == 1, "unchanged");
    EXPECT(tkms_registry_import(db2, &st, &sl, &rf, "[1]", 3, 3000) == TKMS_REL_BAD_REQUEST, "bad batch");
    EXPECT(tkms_registry_export(db, "nope", 4, 10) == NULL, "bad summary");
    /* tampered row in the DB is refused on read */
    TU_CHECK(sqlite3_exec(db2, "UPDATE apps SET statement = replace(statement, 'acme-prod', 'evil-prod')", NULL, NULL, NULL) ==
             SQLITE_OK);
    EXPECT(tkms_registry_get(db2, &g, APP) == TKMS_REL_BAD_SIGNATURE, "tampered row refused");
    free(forged), free(exp), free(exp2), free(sum2), free(s1), free(s2), free(s5);
    sqlite3_close(db);
    sqlite3_close(db2);
}

int main(void) {
    tu_seed();
    do tu_randbytes(SK, 32);
    while (!tkms_eth_address_of_key(OWNER, SK));
    uint8_t o2[20];
    do tu_randbytes(SK2, 32);
    while (!tkms_eth_address_of_key(o2, SK2));
    tu_randbytes(SALT, 32);
    tkms_app_id_derive(APP, OWNER, SALT);
    tkms_app_id_format(APPS, APP);
    test_ids_and_sigs();
    test_statements();
    test_signed();
    test_db();
    if (failures) {
        fprintf(stderr, "test_release_registry: %d failure(s) (seed %llu)\n", failures, (unsigned long long)tu_get_seed());
        return 1;
    }
    printf("test_release_registry: ok\n");
    return 0;
}
