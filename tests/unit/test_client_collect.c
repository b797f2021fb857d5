/* libtkms-client's sans-I/O collector (src/client/collect.h) driven directly with crafted
 * responses, no network: t good key responses give the key (and the same as s * Q_A); a bad
 * partial is named and excluded; a node answering twice is a duplicate; a response signed over
 * another transcript (nonce), a tampered ciphertext, another app, a false index, malformed JSON
 * and an error body are each named; too few partials give the quorum error naming every node; an
 * answer for the next epoch asks for its group file, which must follow from the trusted one (and
 * a fetch failure makes the answer stale); answers for an epoch that the walk passed (one node
 * announcing a forged next committee) still count; `tkms sign`'s feed: unauthenticated and malformed
 * answers refused, t partials combine under the MPK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appkey.h"
#include "collect.h"
#include "fr.h"
#include "g1.h"
#include "group.h"
#include "hpke.h"
#include "identity.h"
#include "proto.h"
#include "sha256.h"
#include "tbls.h"
#include "testutil.h"

#define N 5
#define T 3

static const uint8_t APP[20] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

typedef struct {
    tkms_identity id[N + 1];
    fr_t secret, share[2][N + 1];     /* epochs 0 and 1 */
    tkms_group g[2];
    char *json[2];
    uint8_t sk[32], recipient[32], nonce[32];
    g1_affine_t qa;
} world;

static void certify(world *w, tkms_group *g, uint64_t epoch, const g2_affine_t *poly, const tkms_group *prev) {
    memset(g, 0, sizeof *g);
    g->epoch = epoch;
    g->n = N;
    g->t = T;
    g->t_old = prev ? T : 0;
    g->dev_mode = 1;
    if (prev) TU_CHECK(tkms_group_id(g->previous, prev));
    else sha256(g->previous, "", 0);
    for (size_t i = 0; i < N; i++) {
        memcpy(g->members[i].sign_pk, w->id[i + 1].sign_pk, 32);
        memcpy(g->members[i].kem_pk, w->id[i + 1].kem_pk, 32);
        snprintf(g->members[i].address, sizeof g->members[i].address, "http://node%zu.test:80", i + 1);
    }
    g->n_qual = prev ? T : N;
    for (size_t i = 0; i < g->n_qual; i++) g->qual[i] = (uint32_t)(i + 1);
    memcpy(g->poly, poly, T * sizeof *poly);
    tkms_dkg_session_id(g->session, epoch, g->previous, g->members, N, T, g->t_old);
    tkms_dkg_transcript_hash(g->transcript_hash, g->session, g->qual, g->n_qual, g->poly, T);
    uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
    tkms_dkg_cert_message(cm, g->session, g->transcript_hash);
    g->n_sigs = N;
    for (size_t i = 0; i < N; i++) {
        g->sig_index[i] = (uint32_t)(i + 1);
        TU_CHECK(tkms_ed25519_sign(g->sigs[i], w->id[i + 1].sign_sk, cm, sizeof cm));
    }
}

static void world_init(world *w) {
    memset(w, 0, sizeof *w);
    for (uint32_t i = 1; i <= N; i++) {
        uint8_t seed[32];
        tu_randbytes(seed, 32);
        TU_CHECK(tkms_identity_from_seed(&w->id[i], seed));
    }
    uint8_t sb[64];
    tu_randbytes(sb, 64);
    fr_from_bytes_wide(&w->secret, sb, 64);
    void *scratch = aligned_alloc(64, (tbls_scratch_size(N) + 63) / 64 * 64);
    TU_CHECK(scratch);
    for (int e = 0; e < 2; e++) {
        fr_t shares[N];
        g2_affine_t poly[N];
        uint8_t seed[32];
        tu_randbytes(seed, 32);
        TU_CHECK(tbls_deal(shares, poly, &w->secret, seed, T, N, scratch));
        for (uint32_t i = 1; i <= N; i++) w->share[e][i] = shares[i - 1];
        certify(w, &w->g[e], (uint64_t)e, poly, e ? &w->g[0] : NULL);
        w->json[e] = tkms_group_to_json(&w->g[e], 1);
        TU_CHECK(w->json[e]);
    }
    free(scratch);
    char err[200];
    TU_CHECK(tkms_group_verify(&w->g[1], &w->g[0], err, sizeof err));
    tu_randbytes(w->sk, 32);
    tu_randbytes(w->nonce, 32);
    TU_CHECK(tkms_x25519_pubkey(w->recipient, w->sk));
    g1_t q;
    appkey_identity_point(&q, APP);
    g1_to_affine(&w->qa, &q);
}

enum { GOOD = 0, WRONG_SHARE, OTHER_NONCE, TAMPER_CT, OTHER_APP, CLAIM_NEXT };

/* The key response node `index` of epoch e would give (as docs/release-protocol.md §1). */
static char *response(const world *w, unsigned e, uint32_t index, int fault) {
    fr_t sh = w->share[e][index];
    if (fault == WRONG_SHARE) {
        fr_t one;
        fr_from_u64(&one, 1);
        fr_add(&sh, &sh, &one);
    }
    uint8_t app[20];
    memcpy(app, APP, 20);
    if (fault == OTHER_APP) app[19] ^= 1;
    uint32_t ci = fault == CLAIM_NEXT ? index % N + 1 : index;
    g1_t k;
    g1_affine_t ka;
    uint8_t pt[48], out[96], ikm[32], aad[TKMS_PROTO_KEY_AAD_LEN];
    appkey_partial(&k, &sh, APP);
    g1_to_affine(&ka, &k);
    g1_serialize(pt, &ka);
    tkms_proto_key_aad(aad, app, e, ci);
    tu_randbytes(ikm, 32);
    TU_CHECK(tkms_hpke_seal(out, w->recipient, (const uint8_t *)TKMS_INFO_PARTIAL_KEY, TKMS_TAG_LEN(TKMS_INFO_PARTIAL_KEY),
                            aad, sizeof aad, pt, 48, ikm));
    uint8_t nonce[32], msg[TKMS_PROTO_KEY_RESPONSE_LEN], sig[64];
    memcpy(nonce, w->nonce, 32);
    if (fault == OTHER_NONCE) nonce[0] ^= 1;
    tkms_proto_key_response(msg, app, e, ci, w->recipient, nonce, out, out + 32);
    TU_CHECK(tkms_ed25519_sign(sig, w->id[ci].sign_sk, msg, sizeof msg));
    if (fault == TAMPER_CT) out[40] ^= 1;
    char ah[43], eh[65], ch[129], sgh[129];
    tkms_proto_app_id_format(ah, app);
    tkms_hex(eh, out, 32), tkms_hex(ch, out + 32, 64), tkms_hex(sgh, sig, 64);
    json_t *o = json_pack("{s:s, s:I, s:i, s:s, s:s, s:s}", "app_id", ah, "epoch", (json_int_t)e, "index", (int)ci, "enc", eh,
                          "ciphertext", ch, "signature", sgh);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static cl_collect *new_collector(const world *w, const g1_affine_t *hm) {
    cl_collect_cfg cfg = {.group = &w->g[0], .hm = hm};
    cl_collect *c = cl_collect_new(&cfg);
    TU_CHECK(c);
    cl_collect_set_release(c, APP, w->recipient, w->nonce, w->sk);
    for (uint32_t i = 1; i <= N; i++) TU_CHECK(cl_collect_target(c, w->g[0].members[i - 1].address, i, 0) == i - 1);
    /* one target per address */
    TU_CHECK(cl_collect_target(c, w->g[0].members[0].address, 1, 0) == SIZE_MAX);
    return c;
}

static cl_feed feed(cl_collect *c, const world *w, unsigned e, uint32_t index, int fault, size_t row) {
    char *s = response(w, e, index, fault);
    cl_feed f = cl_collect_feed_key(c, row, 200, (const uint8_t *)s, strlen(s));
    free(s);
    return f;
}

static const tkms_client_node_report *row(cl_collect *c, size_t r) { return cl_collect_row(c, r); }

static void expect_key(cl_collect *c, const world *w) {
    g1_affine_t key;
    tkms_status err;
    TU_CHECK(cl_collect_verdict(c, &key, &err) == TKMS_CLIENT_OK && err.cls == TKMS_CLASS_OK);
    g1_t k;
    g1_affine_t want;
    appkey_partial(&k, &w->secret, APP);
    g1_to_affine(&want, &k);
    uint8_t a[48], b[48];
    g1_serialize(a, &key), g1_serialize(b, &want);
    TU_CHECK(memcmp(a, b, 48) == 0);
}

static void good_and_bad(const world *w) {
    cl_collect *c = new_collector(w, &w->qa);
    TU_CHECK(feed(c, w, 0, 1, GOOD, 0) == CL_FEED_DONE && row(c, 0)->state == TKMS_CLIENT_NODE_VALID);
    TU_CHECK(feed(c, w, 0, 2, WRONG_SHARE, 1) == CL_FEED_DONE && row(c, 1)->state == TKMS_CLIENT_NODE_VALID);
    TU_CHECK(!cl_collect_quorum(c, 0)); /* 2 < t: no batch yet */
    TU_CHECK(row(c, 1)->state == TKMS_CLIENT_NODE_VALID);
    TU_CHECK(feed(c, w, 0, 3, GOOD, 2) == CL_FEED_DONE);
    /* 3 pending, one bad: the batch names it, 2 valid are not t */
    TU_CHECK(!cl_collect_quorum(c, 0));
    TU_CHECK(row(c, 1)->state == TKMS_CLIENT_NODE_BAD_PARTIAL && !strcmp(row(c, 1)->code, "bad_partial"));
    /* member 3 once more, asked at a second address: a duplicate index, refused */
    TU_CHECK(cl_collect_target(c, "http://node3-alias.test:80", 3, 0) == N);
    TU_CHECK(feed(c, w, 0, 3, GOOD, N) == CL_FEED_DONE && row(c, N)->state == TKMS_CLIENT_NODE_BAD_RESPONSE &&
             !strcmp(row(c, N)->code, "duplicate") && row(c, 2)->state == TKMS_CLIENT_NODE_VALID);
    TU_CHECK(!cl_collect_quorum(c, 1));
    TU_CHECK(feed(c, w, 0, 4, GOOD, 3) == CL_FEED_DONE);
    TU_CHECK(cl_collect_quorum(c, 0));
    expect_key(c, w);
    TU_CHECK(row(c, 0)->state == TKMS_CLIENT_NODE_USED && row(c, 3)->state == TKMS_CLIENT_NODE_USED);
    tkms_client_report rep = {0};
    cl_collect_report(c, &rep);
    TU_CHECK(rep.n_nodes == N + 1 && rep.n_valid == 3 && rep.n_bad == 2 && rep.epoch == 0 && rep.t == T);
    tkms_client_report_free(&rep);
    cl_collect_free(c);
    printf("ok good partials combine to s * Q_A; a bad partial is named and excluded; a repeated answer is a duplicate\n");
}

static void refusals(const world *w) {
    cl_collect *c = new_collector(w, &w->qa);
    TU_CHECK(feed(c, w, 0, 1, OTHER_NONCE, 0) == CL_FEED_DONE && row(c, 0)->state == TKMS_CLIENT_NODE_BAD_SIGNATURE);
    TU_CHECK(feed(c, w, 0, 2, TAMPER_CT, 1) == CL_FEED_DONE && row(c, 1)->state == TKMS_CLIENT_NODE_BAD_SIGNATURE);
    TU_CHECK(feed(c, w, 0, 3, OTHER_APP, 2) == CL_FEED_DONE && !strcmp(row(c, 2)->code, "echo_mismatch"));
    TU_CHECK(feed(c, w, 0, 4, CLAIM_NEXT, 3) == CL_FEED_DONE && !strcmp(row(c, 3)->code, "index_mismatch"));
    const char *junk = "{\"epoch\":0}";
    TU_CHECK(cl_collect_feed_key(c, 4, 200, (const uint8_t *)junk, strlen(junk)) == CL_FEED_DONE &&
             !strcmp(row(c, 4)->code, "malformed"));
    TU_CHECK(!cl_collect_quorum(c, 1));
    g1_affine_t key;
    tkms_status err;
    TU_CHECK(cl_collect_verdict(c, &key, &err) == TKMS_CLIENT_E_QUORUM);
    TU_CHECK(err.cls == TKMS_CLASS_PEER && err.code == TKMS_CLIENT_E_QUORUM);
    TU_CHECK(strstr(err.msg, "only 0 valid partial keys, 3 needed") && strstr(err.msg, "node 1 (http://node1.test:80): bad_signature") &&
             strstr(err.msg, "node 3 (http://node3.test:80): bad_response echo_mismatch") &&
             strstr(err.msg, "node 4 (http://node4.test:80): bad_response index_mismatch"));
    cl_collect_free(c);
    /* too few: t - 1 good answers, the rest refused with error bodies */
    c = new_collector(w, &w->qa);
    TU_CHECK(feed(c, w, 0, 1, GOOD, 0) == CL_FEED_DONE && feed(c, w, 0, 2, GOOD, 1) == CL_FEED_DONE);
    const char *e403 = "{\"error\":{\"code\":\"attestation_refused\",\"message\":\"no\",\"reason\":\"signature\"}}";
    TU_CHECK(cl_collect_feed_key(c, 2, 403, (const uint8_t *)e403, strlen(e403)) == CL_FEED_DONE &&
             row(c, 2)->state == TKMS_CLIENT_NODE_REFUSED && !strcmp(row(c, 2)->code, "attestation_refused"));
    TU_CHECK(cl_collect_feed_key(c, 3, 503, NULL, 0) == CL_FEED_DONE && row(c, 3)->state == TKMS_CLIENT_NODE_SERVER_ERROR &&
             !strcmp(row(c, 3)->code, "http_503"));
    cl_collect_set(c, 4, TKMS_CLIENT_NODE_TIMEOUT, "timeout", "no answer within %u ms", 5u);
    TU_CHECK(!cl_collect_quorum(c, 1));
    TU_CHECK(cl_collect_verdict(c, &key, &err) == TKMS_CLIENT_E_QUORUM);
    TU_CHECK(strstr(err.msg, "only 2 valid partial keys, 3 needed") && strstr(err.msg, "refused attestation_refused") &&
             strstr(err.msg, "node 5 (http://node5.test:80): timeout"));
    cl_collect_free(c);
    printf("ok refused: other transcript, tampered ciphertext, other app, false index, malformed, error bodies;\n"
           "   too few: \"%.60s...\"\n", err.msg);
}

static void next_epoch(const world *w) {
    cl_collect *c = new_collector(w, &w->qa);
    const char *base;
    uint64_t e;
    TU_CHECK(!cl_collect_wants_group(c, &base, &e));
    /* node 2 answers for epoch 1: the collector wants that group first */
    TU_CHECK(feed(c, w, 1, 2, GOOD, 1) == CL_FEED_NEED_GROUP);
    TU_CHECK(cl_collect_wants_group(c, &base, &e) && e == 1 && !strcmp(base, "http://node2.test:80"));
    /* a group that does not follow (the epoch-0 file again) is refused: the answer is stale */
    TU_CHECK(cl_collect_group(c, (const uint8_t *)w->json[0], strlen(w->json[0]), NULL) == CL_FEED_DONE);
    TU_CHECK(row(c, 1)->state == TKMS_CLIENT_NODE_STALE_EPOCH && !cl_collect_wants_group(c, &base, &e));
    /* a transport failure: stale too */
    TU_CHECK(feed(c, w, 1, 3, GOOD, 2) == CL_FEED_NEED_GROUP);
    TU_CHECK(cl_collect_group(c, NULL, 0, "GET /v1/group?epoch=1: timeout") == CL_FEED_DONE);
    TU_CHECK(row(c, 2)->state == TKMS_CLIENT_NODE_STALE_EPOCH && strstr(row(c, 2)->detail, "timeout"));
    cl_collect_free(c);
    /* the real next group: the answers of epoch 1 combine to the same key */
    c = new_collector(w, &w->qa);
    TU_CHECK(feed(c, w, 1, 1, GOOD, 0) == CL_FEED_NEED_GROUP);
    TU_CHECK(cl_collect_group(c, (const uint8_t *)w->json[1], strlen(w->json[1]), NULL) == CL_FEED_DONE);
    TU_CHECK(row(c, 0)->state == TKMS_CLIENT_NODE_VALID);
    /* an answer for epoch 0 still counts in the file's epoch */
    TU_CHECK(feed(c, w, 0, 4, GOOD, 3) == CL_FEED_DONE && row(c, 3)->state == TKMS_CLIENT_NODE_VALID);
    TU_CHECK(feed(c, w, 1, 2, GOOD, 1) == CL_FEED_DONE && feed(c, w, 1, 3, GOOD, 2) == CL_FEED_DONE);
    TU_CHECK(cl_collect_quorum(c, 0));
    expect_key(c, w);
    tkms_client_report rep = {0};
    cl_collect_report(c, &rep);
    TU_CHECK(rep.epoch == 1 && rep.n_valid == 4);
    tkms_client_report_free(&rep);
    cl_collect_free(c);
    printf("ok next epoch: its group is asked for, must follow from the file (or the answer is stale), same key\n");
}

/* One node announces an epoch 2 whose group is a self-certified forgery (a committee of keys it
 * made up, the same MPK, linked to the real epoch 1: every check a client can make passes). The
 * walk goes past epoch 1 to it; the honest nodes' answers for epoch 1 must still count. */
static void forged_next(const world *w) {
    tkms_group *fg = calloc(1, sizeof *fg);
    TU_CHECK(fg);
    *fg = w->g[1];
    fg->epoch = 2;
    TU_CHECK(tkms_group_id(fg->previous, &w->g[1]));
    tkms_identity *fake = calloc(N, sizeof *fake);
    TU_CHECK(fake);
    for (size_t i = 0; i < N; i++) {
        uint8_t seed[32];
        tu_randbytes(seed, 32);
        TU_CHECK(tkms_identity_from_seed(&fake[i], seed));
        memcpy(fg->members[i].sign_pk, fake[i].sign_pk, 32);
        memcpy(fg->members[i].kem_pk, fake[i].kem_pk, 32);
    }
    tkms_dkg_session_id(fg->session, 2, fg->previous, fg->members, N, T, T);
    tkms_dkg_transcript_hash(fg->transcript_hash, fg->session, fg->qual, fg->n_qual, fg->poly, T);
    uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
    tkms_dkg_cert_message(cm, fg->session, fg->transcript_hash);
    for (size_t i = 0; i < N; i++) TU_CHECK(tkms_ed25519_sign(fg->sigs[i], fake[i].sign_sk, cm, sizeof cm));
    char err[200];
    TU_CHECK(tkms_group_verify(fg, &w->g[1], err, sizeof err)); /* indistinguishable for a client */
    char *fjson = tkms_group_to_json(fg, 1);
    TU_CHECK(fjson);

    cl_collect *c = new_collector(w, &w->qa);
    const char *base;
    uint64_t e;
    /* node 5 claims epoch 2: the collector walks 0 -> 1 -> 2 */
    char *s5 = response(w, 1, 5, GOOD), *at = strstr(s5, "\"epoch\":1");
    TU_CHECK(at);
    at[8] = '2';
    TU_CHECK(cl_collect_feed_key(c, 4, 200, (const uint8_t *)s5, strlen(s5)) == CL_FEED_NEED_GROUP);
    free(s5);
    TU_CHECK(cl_collect_wants_group(c, &base, &e) && e == 1);
    TU_CHECK(cl_collect_group(c, (const uint8_t *)w->json[1], strlen(w->json[1]), NULL) == CL_FEED_NEED_GROUP);
    TU_CHECK(cl_collect_wants_group(c, &base, &e) && e == 2);
    TU_CHECK(cl_collect_group(c, (const uint8_t *)fjson, strlen(fjson), NULL) == CL_FEED_DONE);
    TU_CHECK(row(c, 4)->state != TKMS_CLIENT_NODE_VALID);
    /* the honest members answer for epoch 1, which the walk passed: they count */
    for (uint32_t i = 1; i <= T; i++) {
        TU_CHECK(feed(c, w, 1, i, GOOD, i - 1) == CL_FEED_DONE);
        TU_CHECK(row(c, i - 1)->state == TKMS_CLIENT_NODE_VALID);
    }
    TU_CHECK(cl_collect_quorum(c, 0));
    expect_key(c, w);
    cl_collect_free(c);
    free(fjson);
    free(fake);
    free(fg);
    printf("ok forged next epoch: answers for the epoch the walk passed still count, same key\n");
}

/* tkms sign's answers: {"epoch", "index", "partial"} authenticated by the caller. */
static void sign_feed(const world *w) {
    uint8_t other[20];
    memcpy(other, APP, 20);
    other[0] ^= 0x55;
    g1_t q;
    g1_affine_t hm;
    appkey_identity_point(&q, other);
    g1_to_affine(&hm, &q);
    cl_collect_cfg cfg = {.group = &w->g[0], .hm = &hm};
    cl_collect *c = cl_collect_new(&cfg);
    TU_CHECK(c);
    for (uint32_t i = 1; i <= N; i++) TU_CHECK(cl_collect_target(c, w->g[0].members[i - 1].address, i, 0) == i - 1);
    for (uint32_t i = 1; i <= N; i++) {
        g1_t k;
        g1_affine_t ka;
        uint8_t pb[48];
        char ph[97], body[256];
        appkey_partial(&k, &w->share[0][i], other);
        g1_to_affine(&ka, &k);
        g1_serialize(pb, &ka);
        tkms_hex(ph, pb, 48);
        snprintf(body, sizeof body, "{\"epoch\":0,\"index\":%u,\"partial\":\"%s\"}", i == 5 ? 1u : i, i == 4 ? "00" : ph);
        TU_CHECK(cl_collect_feed_sign(c, i - 1, (const uint8_t *)body, strlen(body), i != 2) == CL_FEED_DONE);
    }
    TU_CHECK(row(c, 1)->state == TKMS_CLIENT_NODE_BAD_SIGNATURE && row(c, 3)->state == TKMS_CLIENT_NODE_BAD_RESPONSE &&
             !strcmp(row(c, 4)->code, "index_mismatch"));
    TU_CHECK(!cl_collect_quorum(c, 1));
    size_t best, t;
    uint64_t e;
    cl_collect_best(c, &best, &t, &e);
    TU_CHECK(best == 2 && t == T && e == 0);
    cl_collect_free(c);
    /* three good answers: the signature verifies under the MPK */
    c = cl_collect_new(&cfg);
    for (uint32_t i = 1; i <= N; i++) TU_CHECK(cl_collect_target(c, w->g[0].members[i - 1].address, i, 0) == i - 1);
    for (uint32_t i = 3; i <= 5; i++) {
        g1_t k;
        g1_affine_t ka;
        uint8_t pb[48];
        char ph[97], body[256];
        appkey_partial(&k, &w->share[0][i], other);
        g1_to_affine(&ka, &k);
        g1_serialize(pb, &ka);
        tkms_hex(ph, pb, 48);
        snprintf(body, sizeof body, "{\"epoch\":0,\"index\":%u,\"partial\":\"%s\"}", i, ph);
        TU_CHECK(cl_collect_feed_sign(c, i - 1, (const uint8_t *)body, strlen(body), 1) == CL_FEED_DONE);
    }
    TU_CHECK(cl_collect_quorum(c, 0));
    g1_affine_t sig;
    tkms_status err;
    TU_CHECK(cl_collect_verdict(c, &sig, &err) == TKMS_CLIENT_OK);
    TU_CHECK(tbls_verify_partial(&sig, &hm, &w->g[0].poly[0]));
    cl_collect_free(c);
    printf("ok sign feed: unauthenticated, malformed and misindexed answers refused; t partials verify under the MPK\n");
}

int main(void) {
    tu_seed();
    world *w = calloc(1, sizeof *w);
    TU_CHECK(w);
    world_init(w);
    good_and_bad(w);
    refusals(w);
    next_epoch(w);
    forged_next(w);
    sign_feed(w);
    free(w->json[0]);
    free(w->json[1]);
    free(w);
    printf("all collector tests passed\n");
    return 0;
}
