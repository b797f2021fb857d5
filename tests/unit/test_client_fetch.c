/* libtkms-client key release against in-process mock nodes (tests/tools/mock_node.c) with really
 * dealt shares: n = 4 and 7, bad partials named, bad signatures ignored, n - t nodes down, retries,
 * timeouts, fewer than t honest (clear error, no key), nodes named as addressed (not as they claim),
 * reshared epochs, forged next-epoch group files refused, colluding partials that pass the batch
 * check stopped by the final MPK check, and sealed secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* RAND_set_rand_method (deprecated in OpenSSL 3) fixes the client's RNG in test_batch_fooled */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "appkey.h"
#include "fr.h"
#include "g1.h"
#include "mock_node.h"
#include "seal.h"
#include "tbls.h"
#include "testutil.h"
#include "tkms/client.h"
#include "tkms/wallet.h"

/* the app the mock nodes have registered (MOCK_APP_TEXT; set in main) */
static uint8_t APP[20];
static int g_verbose;

static void log_line(void *ctx, const char *line) {
    (void)ctx;
    if (g_verbose) fprintf(stderr, "    | %s\n", line);
}

/* The mnemonic computed directly from t shares with the core (no client code involved). */
static void expected_mnemonic(char *out, size_t cap, const mock_cluster *m, size_t t, unsigned epoch) {
    tbls_partial parts[MOCK_MAX_N];
    void *scratch = aligned_alloc(64, (tbls_scratch_size(t) + 63) / 64 * 64);
    TU_CHECK(scratch);
    for (size_t i = 0; i < t; i++) {
        uint8_t sb[32];
        fr_t s;
        g1_t k;
        mock_share(m, epoch, (uint32_t)(i + 1), sb);
        TU_CHECK(fr_from_bytes(&s, sb));
        appkey_partial(&k, &s, APP);
        g1_to_affine(&parts[i].sig, &k);
        parts[i].index = (uint32_t)(i + 1);
    }
    g1_t key;
    g1_affine_t ka;
    uint8_t kb[48];
    TU_CHECK(tbls_combine(&key, parts, t, scratch));
    g1_to_affine(&ka, &key);
    g1_serialize(kb, &ka);
    TU_CHECK(tkms_mnemonic_from_app_key(out, cap, kb) == TKMS_WALLET_OK);
    free(scratch);
}

typedef struct {
    mock_cluster *m;
    tkms_client_group *g;
    tkms_client_fetch_opts o;
    tkms_client_key k;
    tkms_client_report r;
    tkms_client_status st;
    tkms_status err;
} run;

static void start(run *x, mock_config *cfg) {
    memset(x, 0, sizeof *x);
    tu_randbytes(cfg->seed, 32);
    x->m = mock_start(cfg);
    TU_CHECK(x->m);
    const char *gj = mock_group_json(x->m, 0);
    TU_CHECK(tkms_client_group_parse(&x->g, &x->err, gj, strlen(gj)) == TKMS_CLIENT_OK);
    tkms_client_fetch_opts_default(&x->o);
    x->o.group = x->g;
    memcpy(x->o.app_id, APP, 20);
    x->o.timeout_ms = 2000;
    x->o.log = log_line;
}

static void go(run *x) { x->st = tkms_client_fetch(&x->k, &x->r, &x->err, &x->o); }

static void finish(run *x) {
    tkms_client_report_free(&x->r);
    tkms_client_key_wipe(&x->k);
    tkms_client_group_free(x->g);
    mock_stop(x->m);
}

static const tkms_client_node_report *node(const run *x, uint32_t index) {
    for (size_t i = 0; i < x->r.n_nodes; i++)
        if (x->r.nodes[i].index == index) return &x->r.nodes[i];
    TU_CHECK(0);
    return NULL;
}

/* Member index's address in the group file of epoch 0 (what the client addresses). */
static void addr_of(char *out, size_t cap, const run *x, uint32_t index) {
    json_t *g = json_loads(mock_group_json(x->m, 0), 0, NULL);
    const char *a = json_string_value(json_object_get(json_array_get(json_object_get(g, "members"), index - 1), "address"));
    TU_CHECK(a && strlen(a) < cap);
    snprintf(out, cap, "%s", a);
    json_decref(g);
}

/* "node I (ADDRESS): STATE" as the error summary names a node. */
static int err_names(const run *x, uint32_t index, const char *state) {
    char a[128], want[256];
    addr_of(a, sizeof a, x, index);
    snprintf(want, sizeof want, "node %u (%s): %s", index, a, state);
    return strstr(x->err.msg, want) != NULL;
}

static void check_key(run *x, size_t t, unsigned epoch) {
    char want[TKMS_BIP39_MNEMONIC_MAX];
    if (x->st != TKMS_CLIENT_OK) fprintf(stderr, "fetch failed: %s\n", x->err.msg);
    TU_CHECK(x->st == TKMS_CLIENT_OK);
    expected_mnemonic(want, sizeof want, x->m, t, epoch);
    TU_CHECK(strcmp(want, x->k.mnemonic) == 0);
    TU_CHECK(memcmp(x->k.app_id, APP, 20) == 0);
    size_t used = 0;
    for (size_t i = 0; i < x->r.n_nodes; i++) used += x->r.nodes[i].state == TKMS_CLIENT_NODE_USED;
    TU_CHECK(used == t);
}

static int all_zero(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static void test_honest(size_t n, size_t t) {
    run x;
    mock_config cfg = {.n = n, .t = t};
    start(&x, &cfg);
    go(&x);
    check_key(&x, t, 0);
    TU_CHECK(x.r.n == n && x.r.t == t && x.r.epoch == 0 && x.r.n_bad == 0);
    TU_CHECK(x.r.ms_total > 0 && x.r.ms_network > 0);
    char first[TKMS_BIP39_MNEMONIC_MAX];
    strcpy(first, x.k.mnemonic);
    /* same key on a second fetch (fresh recipient key, nonce, evidence), and with wait_all */
    tkms_client_report_free(&x.r);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, t, 0);
    TU_CHECK(strcmp(first, x.k.mnemonic) == 0);
    TU_CHECK(x.r.n_valid == n);
    printf("ok honest n=%zu t=%zu (%.1f ms)\n", n, t, x.r.ms_total);
    finish(&x);
}

static void test_bad_partial(size_t n, size_t t, int wait_all) {
    run x;
    mock_config cfg = {.n = n, .t = t};
    cfg.fault[2] = MOCK_WRONG_PARTIAL;
    start(&x, &cfg);
    x.o.wait_all = wait_all;
    go(&x);
    check_key(&x, t, 0);
    if (wait_all) {
        TU_CHECK(node(&x, 2)->state == TKMS_CLIENT_NODE_BAD_PARTIAL && x.r.n_bad == 1);
        TU_CHECK(strcmp(node(&x, 2)->code, "bad_partial") == 0);
    } else {
        TU_CHECK(node(&x, 2)->state != TKMS_CLIENT_NODE_USED);
    }
    printf("ok wrong partial named, key still correct (n=%zu, wait_all=%d)\n", n, wait_all);
    finish(&x);
}

static void test_bad_signature(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3};
    cfg.fault[3] = MOCK_BAD_SIGNATURE;
    start(&x, &cfg);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 0);
    TU_CHECK(node(&x, 3)->state == TKMS_CLIENT_NODE_BAD_SIGNATURE);
    printf("ok bad response signature ignored\n");
    finish(&x);
}

static void test_down(size_t n, size_t t) {
    run x;
    mock_config cfg = {.n = n, .t = t};
    for (size_t i = 0; i < n - t; i++) cfg.fault[n - i] = MOCK_DOWN;
    start(&x, &cfg);
    x.o.retries = 1;
    x.o.backoff_ms = 20;
    go(&x);
    check_key(&x, t, 0);
    for (size_t i = 0; i < n - t; i++) {
        const tkms_client_node_report *r = node(&x, (uint32_t)(n - i));
        TU_CHECK(r->state == TKMS_CLIENT_NODE_UNREACHABLE || r->state == TKMS_CLIENT_NODE_NOT_ASKED);
    }
    printf("ok %zu of %zu nodes down (t=%zu)\n", n - t, n, t);
    finish(&x);
}

static void test_retries(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3};
    cfg.fault[1] = MOCK_FLAKY;
    cfg.fault[2] = MOCK_5XX;
    start(&x, &cfg);
    x.o.retries = 2;
    x.o.backoff_ms = 10;
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 0);
    TU_CHECK(node(&x, 1)->attempts == 2 && node(&x, 1)->state == TKMS_CLIENT_NODE_USED);
    TU_CHECK(node(&x, 2)->attempts == 3 && node(&x, 2)->state == TKMS_CLIENT_NODE_SERVER_ERROR);
    TU_CHECK(node(&x, 2)->http_status == 500 && mock_requests(x.m, 2) == 3);
    printf("ok retries bounded and reported (flaky node recovered, 5xx node gave up after 3 attempts)\n");
    finish(&x);
}

static void test_timeout(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3, .sleep_ms = 3000};
    cfg.fault[4] = MOCK_TIMEOUT;
    start(&x, &cfg);
    x.o.timeout_ms = 300;
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 0);
    TU_CHECK(node(&x, 4)->state == TKMS_CLIENT_NODE_TIMEOUT && node(&x, 4)->attempts == 1);
    TU_CHECK(x.r.ms_total < 2000);
    /* without wait_all the client does not wait for the slow node at all */
    tkms_client_report_free(&x.r);
    x.o.wait_all = 0;
    x.o.timeout_ms = 5000;
    go(&x);
    check_key(&x, 3, 0);
    TU_CHECK(x.r.ms_total < 1500 && node(&x, 4)->state == TKMS_CLIENT_NODE_PENDING);
    printf("ok slow node: timeout reported, quorum does not wait for it\n");
    finish(&x);
}

static void expect_no_key(run *x, const char *what) {
    TU_CHECK(x->st == TKMS_CLIENT_E_QUORUM);
    TU_CHECK(all_zero(&x->k, sizeof x->k));
    TU_CHECK(strstr(x->err.msg, "no key") != NULL);
    printf("ok %s: \"%s\"\n", what, x->err.msg);
}

static void test_not_enough(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3};
    cfg.fault[1] = MOCK_WRONG_PARTIAL;
    cfg.fault[3] = MOCK_BAD_SIGNATURE;
    start(&x, &cfg);
    go(&x);
    expect_no_key(&x, "2 of 4 dishonest");
    TU_CHECK(err_names(&x, 1, "bad_partial") && err_names(&x, 3, "bad_signature"));
    finish(&x);

    mock_config cfg2 = {.n = 7, .t = 5};
    cfg2.fault[2] = MOCK_DOWN;
    cfg2.fault[4] = MOCK_5XX;
    cfg2.fault[6] = MOCK_WRONG_PARTIAL;
    start(&x, &cfg2);
    x.o.retries = 0;
    go(&x);
    expect_no_key(&x, "3 of 7 down/faulty");
    TU_CHECK(x.r.n_valid == 4);
    finish(&x);

    mock_config cfg3 = {.n = 4, .t = 3, .production = 1};
    start(&x, &cfg3);
    go(&x);
    expect_no_key(&x, "dev evidence on a production cluster");
    TU_CHECK(strcmp(node(&x, 1)->code, "dev_mode_only") == 0 && node(&x, 1)->state == TKMS_CLIENT_NODE_REFUSED);
    finish(&x);

    mock_config cfg4 = {.n = 4, .t = 3};
    cfg4.fault[1] = cfg4.fault[2] = MOCK_WRONG_APP;
    start(&x, &cfg4);
    go(&x);
    expect_no_key(&x, "responses for another app");
    TU_CHECK(node(&x, 1)->state == TKMS_CLIENT_NODE_BAD_RESPONSE && strcmp(node(&x, 1)->code, "echo_mismatch") == 0);
    finish(&x);
}

/* A node that labels its answer with another member's index, or answers for an epoch that does not
 * exist, is reported under the index and URL the client addressed, never under what it claims. */
static void test_named_as_addressed(void) {
    run x;
    mock_config cfg = {.n = 7, .t = 5};
    cfg.fault[2] = MOCK_CLAIM_INDEX; /* says it is member 3 */
    cfg.fault[4] = MOCK_BAD_EPOCH;   /* says epoch 99 */
    start(&x, &cfg);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 5, 0);
    char a[128];
    for (uint32_t i = 1; i <= 7; i++) { /* one report per member, at the member's own address */
        size_t k = 0;
        for (size_t j = 0; j < x.r.n_nodes; j++) k += x.r.nodes[j].index == i;
        TU_CHECK(k == 1);
        addr_of(a, sizeof a, &x, i);
        TU_CHECK(strcmp(node(&x, i)->address, a) == 0 && node(&x, i)->epoch == 0);
    }
    const tkms_client_node_report *n2 = node(&x, 2), *n3 = node(&x, 3), *n4 = node(&x, 4);
    TU_CHECK(n2->state == TKMS_CLIENT_NODE_BAD_RESPONSE && strcmp(n2->code, "index_mismatch") == 0);
    TU_CHECK(strstr(n2->detail, "answered as member 3"));
    TU_CHECK(n3->state == TKMS_CLIENT_NODE_USED || n3->state == TKMS_CLIENT_NODE_VALID); /* not blamed */
    TU_CHECK(n4->state == TKMS_CLIENT_NODE_STALE_EPOCH && strstr(n4->detail, "epoch 99"));
    TU_CHECK(x.r.n_bad == 1 && x.r.n_valid == 5);
    printf("ok node 2 claiming index 3 and node 4 claiming epoch 99 are named as addressed: %s; %s\n", n2->detail,
           n4->detail);
    finish(&x);

    mock_config cfg2 = {.n = 4, .t = 3};
    cfg2.fault[2] = MOCK_BAD_EPOCH;
    cfg2.fault[3] = MOCK_CLAIM_INDEX;
    start(&x, &cfg2);
    go(&x);
    expect_no_key(&x, "epoch 99 and a false index");
    TU_CHECK(err_names(&x, 2, "stale_epoch") && err_names(&x, 3, "bad_response index_mismatch"));
    TU_CHECK(!err_names(&x, 4, "bad"));
    finish(&x);
}

static void test_reshared(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3, .reshares = 2};
    cfg.fault[4] = MOCK_WRONG_PARTIAL;
    start(&x, &cfg);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 2);
    TU_CHECK(x.r.epoch == 2 && node(&x, 4)->state == TKMS_CLIENT_NODE_BAD_PARTIAL);
    /* same mnemonic as from epoch 0's shares: the MPK never changes */
    char e0[TKMS_BIP39_MNEMONIC_MAX];
    expected_mnemonic(e0, sizeof e0, x.m, 3, 0);
    TU_CHECK(strcmp(e0, x.k.mnemonic) == 0);
    printf("ok group file of epoch 0, nodes at epoch 2: chain verified, same key\n");
    finish(&x);
}

/* A node answers for an epoch older than the client's group file (with a partial valid in that
 * epoch): the client reports it as stale, it does not judge it by the newer group's keys. */
static void test_old_epoch(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3, .reshares = 1};
    cfg.fault[4] = MOCK_OLD_EPOCH;
    start(&x, &cfg);
    tkms_client_group_free(x.g);
    x.g = NULL;
    const char *gj = mock_group_json(x.m, 1);
    TU_CHECK(tkms_client_group_parse(&x.g, &x.err, gj, strlen(gj)) == TKMS_CLIENT_OK);
    TU_CHECK(tkms_client_group_epoch(x.g) == 1);
    x.o.group = x.g;
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 1);
    const tkms_client_node_report *r = node(&x, 4);
    if (r->state != TKMS_CLIENT_NODE_STALE_EPOCH) fprintf(stderr, "old-epoch node: %s %s %s\n", tkms_client_node_state_name(r->state), r->code, r->detail);
    TU_CHECK(r->state == TKMS_CLIENT_NODE_STALE_EPOCH && strcmp(r->code, "stale_epoch") == 0 && r->epoch == 1);
    TU_CHECK(strstr(r->detail, "answered for epoch 0") && strstr(r->detail, "older than the newest known group"));
    TU_CHECK(x.r.epoch == 1 && x.r.n_valid == 3);
    printf("ok node answering for an older epoch reported stale: \"%s\"\n", r->detail);
    finish(&x);
}

static void test_group_rejects(void) {
    mock_config cfg = {.n = 4, .t = 3};
    tu_randbytes(cfg.seed, 32);
    mock_cluster *m = mock_start(&cfg);
    TU_CHECK(m);
    const char *gj = mock_group_json(m, 0);
    char *bad = strdup(gj);
    tkms_status err;
    char *p = strstr(bad, "127.0.0.1:");
    TU_CHECK(p);
    p[10] = p[10] == '9' ? '8' : '9'; /* another port: the session id no longer matches */
    tkms_client_group *g = NULL;
    TU_CHECK(tkms_client_group_parse(&g, &err, bad, strlen(bad)) == TKMS_CLIENT_E_GROUP && !g);
    TU_CHECK(tkms_client_group_parse(&g, &err, "{}", 2) == TKMS_CLIENT_E_GROUP);
    TU_CHECK(tkms_client_group_load(&g, &err, "/nonexistent/group.json") == TKMS_CLIENT_E_GROUP);
    TU_CHECK(tkms_client_group_parse(&g, &err, gj, strlen(gj)) == TKMS_CLIENT_OK);
    uint8_t a[96], b[96];
    tkms_client_group_mpk(a, g);
    mock_mpk(m, b);
    TU_CHECK(memcmp(a, b, 96) == 0 && tkms_client_group_n(g) == 4 && tkms_client_group_t(g) == 3 &&
             tkms_client_group_dev_mode(g) == 1 && tkms_client_group_epoch(g) == 0);
    TU_CHECK(strncmp(tkms_client_group_address(g, 1), "http://127.0.0.1:", 17) == 0 && !tkms_client_group_address(g, 5));
    /* usage errors */
    tkms_client_fetch_opts o;
    tkms_client_key k;
    tkms_client_fetch_opts_default(&o);
    TU_CHECK(tkms_client_fetch(&k, NULL, &err, &o) == TKMS_CLIENT_E_USAGE);
    uint8_t app[20];
    static const uint8_t A1[20] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    TU_CHECK(tkms_client_parse_app_id(app, "0xA1B2c3d4e5f60708090a0b0c0d0e0f1011121314") && memcmp(app, A1, 20) == 0);
    TU_CHECK(tkms_client_parse_app_id(app, MOCK_APP_TEXT) && memcmp(app, APP, 20) == 0);
    TU_CHECK(!tkms_client_parse_app_id(app, "a1b2c3d4e5f60708090a0b0c0d0e0f1011121314") &&
             !tkms_client_parse_app_id(app, "0xa1b2c3d4e5f60708090a0b0c0d0e0f101112131") &&
             !tkms_client_parse_app_id(app, "0xg1b2c3d4e5f60708090a0b0c0d0e0f1011121314"));
    free(bad);
    tkms_client_group_free(g);
    mock_stop(m);
    printf("ok group file checks\n");
}

static void test_unseal(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3};
    start(&x, &cfg);
    go(&x);
    check_key(&x, 3, 0);
    uint8_t mpk[96], other[20];
    mock_mpk(x.m, mpk);
    memcpy(other, APP, 20);
    other[19] ^= 1;
    tkms_buf s1 = {0}, s2 = {0};
    const char *secret = "db-password: hunter2";
    TU_CHECK(tkms_seal(&s1, mpk, APP, "DB", (const uint8_t *)secret, strlen(secret)).code == TKMS_SEAL_OK);
    TU_CHECK(tkms_seal(&s2, mpk, other, "DB", (const uint8_t *)secret, strlen(secret)).code == TKMS_SEAL_OK);
    uint8_t *pt;
    size_t pl;
    tkms_status err;
    TU_CHECK(tkms_client_unseal(&pt, &pl, &err, &x.k, (const char *)s1.p, s1.len) == TKMS_CLIENT_OK);
    TU_CHECK(pl == strlen(secret) && memcmp(pt, secret, pl) == 0 && pt[pl] == 0);
    tkms_client_secret_free(pt, pl);
    TU_CHECK(tkms_client_unseal(&pt, &pl, &err, &x.k, (const char *)s2.p, s2.len) == TKMS_CLIENT_E_SEALED && !pt);
    s1.p[s1.len - 3] ^= 1;
    TU_CHECK(tkms_client_unseal(&pt, &pl, &err, &x.k, (const char *)s1.p, s1.len) == TKMS_CLIENT_E_SEALED);
    tkms_buf_free(&s1);
    tkms_buf_free(&s2);
    tkms_client_addresses a;
    TU_CHECK(tkms_client_addresses_derive(&a, &x.k) == TKMS_CLIENT_OK);
    TU_CHECK(strncmp(a.eth, "0x", 2) == 0 && strlen(a.eth) == 42 && strncmp(a.btc, "bc1q", 4) == 0 && strlen(a.sol) >= 32);
    printf("ok unseal: own app opens, other app and tampered refused; addresses %s %s\n", a.eth, a.sol);
    finish(&x);
}

/* A node presents a next epoch whose group file the chain does not certify: its partial must not
 * count, and the key comes from the honest nodes. (1) epoch 1 with the same key but member
 * signatures that do not verify; (2) t nodes present an epoch 1 with another MPK, signed by its
 * members, each with a partial valid for it. */
static void test_forged_epoch(void) {
    run x;
    mock_config cfg = {.n = 4, .t = 3, .forge = MOCK_FORGE_UNSIGNED};
    cfg.fault[1] = MOCK_FORGED_EPOCH;
    start(&x, &cfg);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 3, 0);
    const tkms_client_node_report *r = node(&x, 1);
    if (r->state != TKMS_CLIENT_NODE_STALE_EPOCH || r->epoch != 1) fprintf(stderr, "forger: %s %s %s epoch %llu\n", tkms_client_node_state_name(r->state), r->code, r->detail, (unsigned long long)r->epoch);
    /* the report names the node as addressed (asked from the group of epoch 0); the detail says
     * which epoch it answered for */
    TU_CHECK(r->state == TKMS_CLIENT_NODE_STALE_EPOCH && strcmp(r->code, "stale_epoch") == 0 && r->epoch == 0 &&
             strstr(r->detail, "answered for epoch 1"));
    TU_CHECK(strstr(r->detail, "does not follow") && strstr(r->detail, "signature"));
    TU_CHECK(x.r.epoch == 0 && x.r.n_valid == 3);
    printf("ok uncertified next-epoch group file refused: \"%s\"\n", r->detail);
    finish(&x);

    mock_config cfg2 = {.n = 4, .t = 2, .forge = MOCK_FORGE_NEW_MPK};
    cfg2.fault[1] = cfg2.fault[2] = MOCK_FORGED_EPOCH;
    start(&x, &cfg2);
    x.o.wait_all = 1;
    go(&x);
    check_key(&x, 2, 0);
    for (uint32_t i = 1; i <= 2; i++) {
        r = node(&x, i);
        if (r->state != TKMS_CLIENT_NODE_STALE_EPOCH) fprintf(stderr, "forger %u: %s %s\n", i, tkms_client_node_state_name(r->state), r->detail);
        TU_CHECK(r->state == TKMS_CLIENT_NODE_STALE_EPOCH && strstr(r->detail, "MPK changed"));
    }
    TU_CHECK(x.r.epoch == 0 && x.r.n_valid == 2);
    printf("ok MPK-changing next-epoch group file refused: \"%s\"\n", r->detail);
    finish(&x);
}

/* The client's RNG for test_batch_fooled: constant bytes on the calling thread (an RNG failure), the
 * kernel's RNG on the others (the mock servers; calling back into OpenSSL would recurse). */
static __thread int t_fixed_rand;
static int fixed_bytes(unsigned char *buf, int num) {
    if (t_fixed_rand) {
        memset(buf, 0x42, (size_t)num);
        return 1;
    }
    for (size_t off = 0; off < (size_t)num;) {
        ssize_t got = getrandom(buf + off, (size_t)num - off, 0);
        if (got <= 0) return 0;
        off += (size_t)got;
    }
    return 1;
}
static int fixed_status(void) { return 1; }
static const RAND_METHOD FIXED_RAND = {NULL, fixed_bytes, NULL, NULL, fixed_bytes, fixed_status};

/* The final check of the combined key against the MPK. Two colluding nodes send s_i Q_A + e_i Q_A
 * with r_1 e_1 + r_2 e_2 = 0 for the coefficients r of the client's batch check, so the batch passes
 * while the combined key is off by (lambda_1 e_1 + lambda_2 e_2) Q_A. The batch check is sound only
 * while its coefficients are unpredictable; here the client's RNG returns constant bytes (an RNG
 * failure) so the colluders know them. The final check must refuse the key: E_VERIFY, no mnemonic.
 * (The colluders' order must be node 1 then node 2: node 2 answers 300 ms later; a run whose
 * answers arrived the other way round shows both partials as bad and is repeated.) */
static void test_batch_fooled(void) {
    for (int attempt = 1;; attempt++) {
        run x;
        mock_config cfg = {.n = 2, .t = 2, .sleep_ms = 300};
        cfg.fault[1] = cfg.fault[2] = MOCK_COLLUDE;
        memset(cfg.batch_seed, 0x42, 32); /* what the client will draw */
        start(&x, &cfg);
        TU_CHECK(RAND_set_rand_method(&FIXED_RAND) == 1);
        t_fixed_rand = 1;
        go(&x);
        t_fixed_rand = 0;
        TU_CHECK(RAND_set_rand_method(NULL) == 1);
        int fooled = node(&x, 1)->state != TKMS_CLIENT_NODE_BAD_PARTIAL && node(&x, 2)->state != TKMS_CLIENT_NODE_BAD_PARTIAL;
        if (!fooled && attempt < 3) {
            fprintf(stderr, "note: the colluders' answers arrived out of order (%s); again\n", x.err.msg);
            finish(&x);
            continue;
        }
        TU_CHECK(fooled); /* the premise: both partials passed the batch check */
        if (x.st != TKMS_CLIENT_E_VERIFY) fprintf(stderr, "fetch: %s: %s\n", tkms_client_strerror(x.st), x.err.msg);
        TU_CHECK(x.st == TKMS_CLIENT_E_VERIFY);
        TU_CHECK(strstr(x.err.msg, "does not verify against the MPK") != NULL);
        TU_CHECK(all_zero(&x.k, sizeof x.k));
        printf("ok partials that pass the batch check but combine to a wrong key: \"%s\"\n", x.err.msg);
        finish(&x);
        break;
    }
}

int main(void) {
    tu_seed();
    mock_app_id(APP);
    g_verbose = getenv("TKMS_TEST_VERBOSE") != NULL;
    test_group_rejects();
    test_honest(4, 3);
    test_honest(7, 5);
    test_bad_partial(4, 3, 1);
    test_bad_partial(7, 5, 1);
    test_bad_partial(4, 3, 0);
    test_bad_signature();
    test_down(4, 3);
    test_down(7, 5);
    test_retries();
    test_timeout();
    test_not_enough();
    test_named_as_addressed();
    test_reshared();
    test_old_epoch();
    test_forged_epoch();
    test_batch_fooled();
    test_unseal();
    printf("all client fetch tests passed\n");
    return 0;
}
