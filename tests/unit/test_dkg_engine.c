/* DKG engine driven directly by a lossless in-test message pump: session binding, rejection of
 * old-session / forged / truncated / mutated messages, batched share checks (one batch, no
 * fallback when honest), checkpoint and restore mid-protocol, erasure of the old share, group
 * files (canonical JSON, verify, tamper, continuity) and shares of different epochs not mixing. */
#include <string.h>

#include "engine.h"
#include "group.h"
#include "identity.h"
#include "sim.h"
#include "tbls.h"
#include "testutil.h"

#define MAXN 16

static void trng(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    tu_randbytes(out, len);
}

typedef struct {
    tkms_identity id[MAXN];
    tkms_dkg_member m[MAXN];
    tkms_dkg *e[MAXN];
    void *mem[MAXN];
    tkms_dkg_config cfg[MAXN];
    fr_t old_share[MAXN];
    size_t n;
    /* FIFO of (to, bytes) */
    uint8_t *q[200000];
    int qto[200000], qfrom[200000];
    size_t qlen[200000], qh, qt;
    uint64_t now;
    int drop_to; /* node that receives nothing (crashed) or -1 */
    int part;    /* partition: messages between odd and even nodes are cut (and kept in held) */
    int hold_certs_to; /* node whose CERTs are held (delivered late), or -1 */
    uint8_t *held[20000];
    int held_to[20000];
    size_t held_len[20000], n_held;
    uint8_t *captured; /* first deal seen, for replay tests */
    size_t captured_len;
} net;

static void enqueue(net *w, int from, int to, const uint8_t *m, size_t len) {
    TU_CHECK(w->qt < 200000);
    w->qfrom[w->qt] = from;
    w->q[w->qt] = malloc(len);
    memcpy(w->q[w->qt], m, len);
    w->qlen[w->qt] = len;
    w->qto[w->qt++] = to;
    if (!w->captured && m[5] == TKMS_DKG_MSG_DEAL) {
        w->captured = malloc(len);
        memcpy(w->captured, m, len);
        w->captured_len = len;
    }
}

static void drain(net *w, int i) {
    int32_t d;
    const uint8_t *m;
    size_t len;
    while (tkms_dkg_pop_output(w->e[i], &d, &m, &len)) {
        for (size_t j = 0; j < w->n; j++) {
            if ((int)j == i || (d != TKMS_DKG_BROADCAST && (size_t)d != tkms_dkg_self_slot(w->e[j]))) continue;
            if (d != TKMS_DKG_BROADCAST) {
                /* map the slot through the sender's peer list */
                if (memcmp(tkms_dkg_peer_key(w->e[i], (size_t)d), w->id[j].sign_pk, 32) != 0) continue;
            }
            enqueue(w, i, (int)j, m, len);
        }
    }
}

static void pump(net *w, uint64_t until) {
    for (;;) {
        while (w->qh < w->qt) {
            size_t k = w->qh++;
            int to = w->qto[k];
            int cert_held = to == w->hold_certs_to && w->q[k][5] == TKMS_DKG_MSG_CERT;
            if ((w->part && (w->qfrom[k] % 2) != (to % 2)) || cert_held) {
                /* cut or delayed: kept, to be delivered later (leftovers of this attempt) */
                TU_CHECK(w->n_held < 20000);
                w->held[w->n_held] = w->q[k];
                w->held_len[w->n_held] = w->qlen[k];
                w->held_to[w->n_held++] = to;
                continue;
            }
            if (to != w->drop_to && w->e[to]) {
                (void)tkms_dkg_receive(w->e[to], w->now, w->q[k], w->qlen[k]);
                drain(w, to);
            }
            free(w->q[k]);
        }
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < w->n; i++) {
            if (!w->e[i] || (int)i == w->drop_to) continue;
            uint64_t d = tkms_dkg_next_deadline(w->e[i]);
            if (d < next) next = d;
        }
        if (next == UINT64_MAX || next > until) break;
        if (next > w->now) w->now = next;
        for (size_t i = 0; i < w->n; i++)
            if (w->e[i] && (int)i != w->drop_to) {
                tkms_dkg_tick(w->e[i], w->now);
                drain(w, (int)i);
            }
    }
}

/* Delivers the held (cut or delayed) messages. */
static void release_held(net *w) {
    for (size_t k = 0; k < w->n_held; k++) {
        int to = w->held_to[k];
        if (w->e[to]) {
            (void)tkms_dkg_receive(w->e[to], w->now, w->held[k], w->held_len[k]);
            drain(w, to);
        }
        free(w->held[k]);
    }
    w->n_held = 0;
}

static void setup(net *w, size_t n, size_t t, tkms_dkg_fault fault0) {
    memset(w, 0, sizeof *w);
    w->n = n;
    w->drop_to = -1;
    w->hold_certs_to = -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[32];
        tu_randbytes(seed, 32);
        TU_CHECK(tkms_identity_from_seed(&w->id[i], seed));
        memcpy(w->m[i].sign_pk, w->id[i].sign_pk, 32);
        memcpy(w->m[i].kem_pk, w->id[i].kem_pk, 32);
        snprintf(w->m[i].address, sizeof w->m[i].address, "node%zu:7400", i + 1);
    }
    for (size_t i = 0; i < n; i++) {
        tkms_dkg_config *c = &w->cfg[i];
        memset(c, 0, sizeof *c);
        c->new_members = w->m;
        c->n_new = n;
        c->t_new = t;
        c->self = &w->id[i];
        c->deal_ticks = c->resp_ticks = c->just_ticks = 10;
        c->cert_ticks = 50;
        c->fetch_ticks = 5;
        c->rng = trng;
        c->fault = i == 0 ? fault0 : TKMS_DKG_FAULT_NONE;
        size_t ml = tkms_dkg_mem_size(c);
        TU_CHECK(ml > 0);
        w->mem[i] = aligned_alloc(64, (ml + 63) & ~(size_t)63);
        w->e[i] = tkms_dkg_init(w->mem[i], ml, c);
        TU_CHECK(w->e[i] != NULL);
    }
}

static void teardown(net *w) {
    for (size_t i = 0; i < w->n; i++) {
        if (w->e[i]) tkms_dkg_wipe(w->e[i]);
        free(w->mem[i]);
    }
    while (w->qh < w->qt) free(w->q[w->qh++]);
    for (size_t k = 0; k < w->n_held; k++) free(w->held[k]);
    free(w->captured);
}

static void session_binding(void) {
    tkms_dkg_member m[3];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 3; i++) m[i].sign_pk[0] = (uint8_t)i;
    uint8_t prev[32] = {0}, a[32], b[32];
    tkms_dkg_session_id(a, 1, prev, m, 3, 2, 2);
    tkms_dkg_session_id(b, 1, prev, m, 3, 2, 2);
    TU_CHECK(memcmp(a, b, 32) == 0);
    tkms_dkg_session_id(b, 2, prev, m, 3, 2, 2);
    TU_CHECK(memcmp(a, b, 32) != 0);
    tkms_dkg_session_id(b, 1, prev, m, 3, 3, 2);
    TU_CHECK(memcmp(a, b, 32) != 0);
    tkms_dkg_session_id(b, 1, prev, m, 3, 2, 1);
    TU_CHECK(memcmp(a, b, 32) != 0);
    prev[31] = 1;
    tkms_dkg_session_id(b, 1, prev, m, 3, 2, 2);
    TU_CHECK(memcmp(a, b, 32) != 0);
    prev[31] = 0;
    strcpy(m[2].address, "x");
    tkms_dkg_session_id(b, 1, prev, m, 3, 2, 2);
    TU_CHECK(memcmp(a, b, 32) != 0);
}

/* All-honest DKG: everyone final on one transcript, one batch per receiver and no fallback. */
static void honest_run(void) {
    static net w;
    setup(&w, 7, 5, TKMS_DKG_FAULT_NONE);
    pump(&w, 1000);
    tkms_dkg_result r0, r;
    for (size_t i = 0; i < w.n; i++) {
        TU_CHECK(tkms_dkg_get_state(w.e[i]) == TKMS_DKG_FINAL);
        TU_CHECK(tkms_dkg_get_result(w.e[i], i ? &r : &r0));
        if (i) TU_CHECK(memcmp(r.transcript_hash, r0.transcript_hash, 32) == 0);
        const tkms_dkg_stats *st = tkms_dkg_get_stats(w.e[i]);
        TU_CHECK(st->batch_checks == 1 && st->batch_fallbacks == 0);
        fr_t s;
        TU_CHECK(tkms_dkg_get_share(w.e[i], &s));
        TU_CHECK(tbls_verify_share(&s, (uint32_t)(i + 1), r0.poly, r0.t));
    }
    TU_CHECK(r0.n_qual == 7 && r0.n_sigs >= 5);
    /* the group file: canonical, verifies, and every tampering is caught */
    static tkms_group g, g2;
    char err[256];
    TU_CHECK(tkms_group_from_result(&g, &r0, w.m));
    char *js = tkms_group_to_json(&g, 1);
    TU_CHECK(js && !strchr(js, ' ') && !strchr(js, '\n'));
    TU_CHECK(tkms_group_parse(&g2, js, strlen(js), err, sizeof err));
    char *js2 = tkms_group_to_json(&g2, 1);
    TU_CHECK(strcmp(js, js2) == 0);
    TU_CHECK(tkms_group_verify(&g2, NULL, err, sizeof err) >= 5);
    /* a signature byte, the threshold, a member key, the mpk */
    g2.sigs[0][10] ^= 1;
    TU_CHECK(!tkms_group_verify(&g2, NULL, err, sizeof err));
    g2 = g;
    g2.t = 4;
    TU_CHECK(!tkms_group_verify(&g2, NULL, err, sizeof err));
    g2 = g;
    g2.members[3].kem_pk[0] ^= 1;
    TU_CHECK(!tkms_group_verify(&g2, NULL, err, sizeof err));
    g2 = g;
    g2.n_sigs = 4; /* below threshold */
    TU_CHECK(!tkms_group_verify(&g2, NULL, err, sizeof err));
    g2 = g;
    g2.sig_index[1] = g2.sig_index[0]; /* a repeated signer */
    TU_CHECK(!tkms_group_verify(&g2, NULL, err, sizeof err));
    char *bad = strdup(js);
    char *p = strstr(bad, "\"mpk\":\"");
    TU_CHECK(p);
    p[8] = p[8] == 'a' ? 'b' : 'a';
    TU_CHECK(!tkms_group_parse(&g2, bad, strlen(bad), err, sizeof err) || !tkms_group_verify(&g2, NULL, err, sizeof err));
    free(bad);
    free(js);
    free(js2);

    /* negative inputs: an old-session message, forged signature, truncations, bit flips */
    const tkms_dkg_stats *st = tkms_dkg_get_stats(w.e[1]);
    uint64_t stale = st->rx_stale, badsig = st->rx_badsig;
    uint8_t *m = malloc(w.captured_len);
    memcpy(m, w.captured, w.captured_len);
    m[10] ^= 1; /* session byte: another session */
    TU_CHECK(!tkms_dkg_receive(w.e[1], w.now, m, w.captured_len));
    TU_CHECK(st->rx_stale == stale + 1);
    memcpy(m, w.captured, w.captured_len);
    m[w.captured_len - 5] ^= 1; /* signature */
    TU_CHECK(!tkms_dkg_receive(w.e[1], w.now, m, w.captured_len));
    TU_CHECK(st->rx_badsig == badsig + 1);
    for (size_t cut = 0; cut < w.captured_len; cut += 1 + cut / 3)
        TU_CHECK(!tkms_dkg_receive(w.e[1], w.now, w.captured, cut));
    for (int it = 0; it < 300; it++) {
        memcpy(m, w.captured, w.captured_len);
        m[tu_rand64() % w.captured_len] ^= (uint8_t)(1u << (tu_rand64() % 8));
        TU_CHECK(!tkms_dkg_receive(w.e[1], w.now, m, w.captured_len));
    }
    TU_CHECK(tkms_dkg_get_state(w.e[1]) == TKMS_DKG_FINAL);
    free(m);
    teardown(&w);
}

/* A receiver that gets bad shares complains, the dealer justifies, the batch falls back once. */
static void bad_share_run(void) {
    static net w;
    setup(&w, 4, 3, TKMS_DKG_FAULT_BAD_SHARE);
    pump(&w, 1000);
    tkms_dkg_result r0;
    TU_CHECK(tkms_dkg_get_result(w.e[1], &r0));
    TU_CHECK(r0.n_qual == 4); /* justified complaints keep the dealer */
    TU_CHECK(tkms_dkg_get_stats(w.e[1])->batch_fallbacks == 1); /* node 2 was a victim */
    for (size_t i = 1; i < w.n; i++) {
        fr_t s;
        TU_CHECK(tkms_dkg_get_state(w.e[i]) == TKMS_DKG_FINAL);
        TU_CHECK(tkms_dkg_get_share(w.e[i], &s));
        TU_CHECK(tbls_verify_share(&s, (uint32_t)(i + 1), r0.poly, r0.t));
    }
    teardown(&w);
    setup(&w, 4, 3, TKMS_DKG_FAULT_BAD_JUST);
    pump(&w, 1000);
    TU_CHECK(tkms_dkg_get_result(w.e[1], &r0));
    TU_CHECK(r0.n_qual == 3 && r0.qual[0] == 2); /* a wrong justification disqualifies */
    teardown(&w);
}

/* A node checkpoints, crashes mid-protocol, restarts from the checkpoint and catches up. */
static void crash_restart(void) {
    static net w;
    setup(&w, 4, 3, TKMS_DKG_FAULT_NONE);
    for (size_t i = 0; i < w.n; i++) {
        tkms_dkg_tick(w.e[i], 0);
        drain(&w, (int)i);
    }
    size_t cl = tkms_dkg_checkpoint(w.e[3], NULL, 0);
    uint8_t *ck = malloc(cl);
    TU_CHECK(tkms_dkg_checkpoint(w.e[3], ck, cl) == cl);
    /* node 4 is down: it misses everything from now on */
    tkms_dkg_wipe(w.e[3]);
    w.e[3] = NULL;
    pump(&w, 25);
    /* a corrupted checkpoint is refused; the real one restores */
    ck[cl / 2] ^= 1;
    size_t ml = tkms_dkg_mem_size(&w.cfg[3]);
    TU_CHECK(tkms_dkg_restore(w.mem[3], ml, &w.cfg[3], ck, cl, w.now) == NULL);
    ck[cl / 2] ^= 1;
    w.e[3] = tkms_dkg_restore(w.mem[3], ml, &w.cfg[3], ck, cl, w.now);
    TU_CHECK(w.e[3] != NULL);
    drain(&w, 3);
    pump(&w, 1000);
    tkms_dkg_result a, b;
    for (size_t i = 0; i < w.n; i++)
        if (tkms_dkg_get_state(w.e[i]) != TKMS_DKG_FINAL) {
            const tkms_dkg_stats *st = tkms_dkg_get_stats(w.e[i]);
            fprintf(stderr, "node %zu state %d now %llu rx %llu fetch %llu/%llu adopted %llu\n", i + 1,
                    (int)tkms_dkg_get_state(w.e[i]), (unsigned long long)w.now, (unsigned long long)st->rx,
                    (unsigned long long)st->fetches_sent, (unsigned long long)st->fetches_served,
                    (unsigned long long)st->adopted);
        }
    for (size_t i = 0; i < w.n; i++) TU_CHECK(tkms_dkg_get_state(w.e[i]) == TKMS_DKG_FINAL);
    TU_CHECK(tkms_dkg_get_result(w.e[0], &a) && tkms_dkg_get_result(w.e[3], &b));
    TU_CHECK(memcmp(a.transcript_hash, b.transcript_hash, 32) == 0);
    fr_t s;
    TU_CHECK(tkms_dkg_get_share(w.e[3], &s) && tbls_verify_share(&s, 4, a.poly, a.t));
    free(ck);
    teardown(&w);
}

/* A node that signed its CERT but gets the certificates only after its d_cert must not abort:
 * it keeps its share and fetching, and ends FINAL on the group its peers certified. */
static void late_certificates(void) {
    static net w;
    setup(&w, 4, 3, TKMS_DKG_FAULT_NONE);
    w.hold_certs_to = 3;
    pump(&w, 200); /* d_cert = 80 */
    TU_CHECK(w.now > 80);
    tkms_dkg_result r0, r;
    TU_CHECK(tkms_dkg_get_state(w.e[0]) == TKMS_DKG_FINAL && tkms_dkg_get_result(w.e[0], &r0));
    /* past its deadline, node 4 still waits (the old engine reported ABORTED here) */
    TU_CHECK(tkms_dkg_get_state(w.e[3]) == TKMS_DKG_RUNNING);
    TU_CHECK(tkms_dkg_next_deadline(w.e[3]) != UINT64_MAX);
    fr_t s;
    TU_CHECK(tkms_dkg_get_share(w.e[3], &s));
    /* its checkpoint restores into the same waiting state */
    size_t cl = tkms_dkg_checkpoint(w.e[3], NULL, 0);
    uint8_t *ck = malloc(cl);
    TU_CHECK(tkms_dkg_checkpoint(w.e[3], ck, cl) == cl);
    tkms_dkg_wipe(w.e[3]);
    w.e[3] = tkms_dkg_restore(w.mem[3], tkms_dkg_mem_size(&w.cfg[3]), &w.cfg[3], ck, cl, w.now);
    TU_CHECK(w.e[3] != NULL);
    drain(&w, 3);
    w.hold_certs_to = -1;
    release_held(&w);
    pump(&w, w.now + 200);
    TU_CHECK(tkms_dkg_get_state(w.e[3]) == TKMS_DKG_FINAL && tkms_dkg_get_result(w.e[3], &r));
    TU_CHECK(memcmp(r.transcript_hash, r0.transcript_hash, 32) == 0 && r.n_sigs >= 3);
    TU_CHECK(tkms_dkg_get_share(w.e[3], &s) && tbls_verify_share(&s, 4, r0.poly, r0.t));
    teardown(&w);
    free(ck);
    /* no certificate ever comes: the node waits until its driver abandons the attempt; the
     * computed share stays readable for the driver */
    setup(&w, 4, 3, TKMS_DKG_FAULT_NONE);
    w.hold_certs_to = 3;
    pump(&w, 1000);
    TU_CHECK(tkms_dkg_get_state(w.e[3]) == TKMS_DKG_RUNNING);
    TU_CHECK(tkms_dkg_get_stats(w.e[3])->fetches_sent < 60); /* backed off: ~180 at one per fetch period */
    tkms_dkg_abandon(w.e[3]);
    TU_CHECK(tkms_dkg_get_state(w.e[3]) == TKMS_DKG_ABORTED);
    TU_CHECK(tkms_dkg_get_result(w.e[3], &r) && tkms_dkg_get_share(w.e[3], &s));
    TU_CHECK(tkms_dkg_next_deadline(w.e[3]) == UINT64_MAX);
    teardown(&w);
}

/* A session fails (a partition for its whole window), then is retried with the same config and
 * hence the same session ID, while leftover messages of the first attempt are still delivered.
 * mode 0: retry from each node's checkpoint; 1: fresh engines reusing their dealing seeds;
 * 2: fresh engines with new seeds (what the rule forbids): the leftovers make the dealers
 * look like equivocators. */
static void retry_run(int mode) {
    static net w;
    static uint8_t seeds[MAXN][32];
    setup(&w, 4, 3, TKMS_DKG_FAULT_NONE);
    for (size_t i = 0; i < w.n; i++) {
        tu_randbytes(seeds[i], 32);
        if (mode == 1) {
            /* the driver chose the seed (and persisted it) */
            w.cfg[i].deal_seed = seeds[i];
            tkms_dkg_wipe(w.e[i]);
            w.e[i] = tkms_dkg_init(w.mem[i], tkms_dkg_mem_size(&w.cfg[i]), &w.cfg[i]);
            TU_CHECK(w.e[i] != NULL);
        }
    }
    w.part = 1;
    pump(&w, 500);
    uint8_t *ck[MAXN];
    size_t cl[MAXN];
    for (size_t i = 0; i < w.n; i++) {
        TU_CHECK(tkms_dkg_get_state(w.e[i]) == TKMS_DKG_ABORTED); /* a clean abort */
        cl[i] = tkms_dkg_checkpoint(w.e[i], NULL, 0);
        ck[i] = malloc(cl[i]);
        TU_CHECK(tkms_dkg_checkpoint(w.e[i], ck[i], cl[i]) == cl[i]);
        tkms_dkg_wipe(w.e[i]);
        w.e[i] = NULL;
    }
    /* the next slot: same config (same session ID), later start; the network is healed */
    w.part = 0;
    w.now = 1000;
    for (size_t i = 0; i < w.n; i++) {
        w.cfg[i].start_tick = 1000;
        size_t ml = tkms_dkg_mem_size(&w.cfg[i]);
        if (mode == 0)
            w.e[i] = tkms_dkg_retry(w.mem[i], ml, &w.cfg[i], ck[i], cl[i], w.now);
        else
            w.e[i] = tkms_dkg_init(w.mem[i], ml, &w.cfg[i]);
        TU_CHECK(w.e[i] != NULL);
        TU_CHECK(memcmp(tkms_dkg_session(w.e[i]), ck[i] + 5, 32) == 0);
    }
    /* the first attempt's messages still in flight arrive first */
    release_held(&w);
    for (size_t i = 0; i < w.n; i++) {
        tkms_dkg_tick(w.e[i], w.now);
        drain(&w, (int)i);
    }
    pump(&w, 3000);
    tkms_dkg_result r0, r;
    int all_final = 1;
    for (size_t i = 0; i < w.n; i++) all_final &= tkms_dkg_get_state(w.e[i]) == TKMS_DKG_FINAL;
    if (mode == 2) {
        /* honest dealers disqualified as equivocators: no full QUAL */
        TU_CHECK(!all_final || (tkms_dkg_get_result(w.e[0], &r0) && r0.n_qual < 4));
    } else {
        TU_CHECK(all_final);
        TU_CHECK(tkms_dkg_get_result(w.e[0], &r0) && r0.n_qual == 4); /* nobody disqualified */
        for (size_t i = 0; i < w.n; i++) {
            fr_t s;
            TU_CHECK(tkms_dkg_get_result(w.e[i], &r));
            TU_CHECK(memcmp(r.transcript_hash, r0.transcript_hash, 32) == 0);
            TU_CHECK(tkms_dkg_get_share(w.e[i], &s) && tbls_verify_share(&s, (uint32_t)(i + 1), r0.poly, r0.t));
        }
    }
    for (size_t i = 0; i < w.n; i++) free(ck[i]);
    teardown(&w);
}

/* The same seed gives the same deal bytes (HPKE ephemerals included). */
static void deterministic_deal(void) {
    static net w;
    static uint8_t seed[32];
    tu_randbytes(seed, 32);
    /* same identities, same seed, different RNG streams: identical bytes */
    setup(&w, 3, 2, TKMS_DKG_FAULT_NONE);
    uint8_t *a = NULL;
    size_t alen = 0;
    for (int k = 0; k < 2; k++) {
        w.cfg[0].deal_seed = seed;
        tkms_dkg_wipe(w.e[0]);
        w.e[0] = tkms_dkg_init(w.mem[0], tkms_dkg_mem_size(&w.cfg[0]), &w.cfg[0]);
        TU_CHECK(w.e[0] != NULL);
        tkms_dkg_tick(w.e[0], 0);
        int32_t d;
        const uint8_t *m;
        size_t len;
        TU_CHECK(tkms_dkg_pop_output(w.e[0], &d, &m, &len) && m[5] == TKMS_DKG_MSG_DEAL);
        if (!k) {
            a = malloc(len);
            memcpy(a, m, len);
            alen = len;
        } else {
            TU_CHECK(len == alen && memcmp(a, m, len) == 0);
            /* a receiver takes the second copy for a duplicate */
            TU_CHECK(tkms_dkg_receive(w.e[1], 0, a, alen) == 1);
            TU_CHECK(tkms_dkg_receive(w.e[1], 0, m, len) == 0 && tkms_dkg_get_stats(w.e[1])->rx_dup == 1);
        }
    }
    free(a);
    teardown(&w);
}

static int combine_is_mpk(const uint32_t *idx, const fr_t *sh, size_t t, const g2_affine_t *mpk) {
    fr_t lam[TKMS_DKG_MAX_N], sec = FR_ZERO, term;
    static uint8_t scratch[1 << 20];
    TU_CHECK(tbls_scratch_size(t) <= sizeof scratch);
    TU_CHECK(tbls_lagrange_at_zero(lam, idx, t, scratch));
    for (size_t a = 0; a < t; a++) {
        fr_mul(&term, &lam[a], &sh[a]);
        fr_add(&sec, &sec, &term);
    }
    g2_t g, m, want;
    uint64_t k[4];
    g2_from_affine(&g, &G2_GENERATOR);
    fr_to_scalar(k, &sec);
    g2_mul(&m, &g, k);
    g2_from_affine(&want, mpk);
    return (int)g2_eq(&m, &want);
}

/* Reshare through the simulator: MPK kept, group continuity verified, old shares erased, and
 * shares of the two epochs never combine to the master key. */
static void reshare_epochs(void) {
    tkms_sim_params p;
    memset(&p, 0, sizeof p);
    p.reshare = 1;
    p.n = 4;
    p.n2 = 5;
    p.keep = 3;
    p.seed = tu_rand64();
    p.delay_min = 1;
    p.delay_max = 10;
    static tkms_sim_result r;
    TU_CHECK(tkms_sim_run(&p, &r));
    if (!r.ok) fprintf(stderr, "reshare failed: %s\n", r.why);
    TU_CHECK(r.ok && r.success && r.old_erased);
    TU_CHECK(memcmp(r.mpk, r.mpk_before, 96) == 0);
    static tkms_group g0, g1, other;
    char err[256];
    TU_CHECK(tkms_group_parse(&g0, r.prev_group_json, strlen(r.prev_group_json), err, sizeof err));
    TU_CHECK(tkms_group_parse(&g1, r.group_json, strlen(r.group_json), err, sizeof err));
    TU_CHECK(tkms_group_verify(&g0, NULL, err, sizeof err));
    TU_CHECK(tkms_group_verify(&g1, &g0, err, sizeof err));
    TU_CHECK(g1.epoch == 1 && g1.t_old == 3 && g1.n_qual == 3);
    /* continuity is checked: the new group is not the successor of itself or of a tampered previous */
    TU_CHECK(!tkms_group_verify(&g1, &g1, err, sizeof err));
    other = g0;
    other.members[0].address[0] ^= 1;
    TU_CHECK(!tkms_group_verify(&g1, &other, err, sizeof err));
    /* t shares of one epoch give the MPK; mixing epochs does not */
    size_t t0 = 3, t1 = 4;
    TU_CHECK(r.n_old_shares >= t0 && r.n_shares >= t1);
    TU_CHECK(combine_is_mpk(r.old_share_index, r.old_shares, t0, &g0.poly[0]));
    TU_CHECK(combine_is_mpk(r.share_index, r.shares, t1, &g1.poly[0]));
    uint32_t idx[8];
    fr_t sh[8];
    for (size_t a = 0; a < t1; a++) {
        idx[a] = r.share_index[a];
        sh[a] = r.shares[a];
    }
    /* replace one new share by the old share of the same index (if that member had one) */
    for (size_t a = 0; a < r.n_old_shares; a++)
        if (r.old_share_index[a] == idx[0]) sh[0] = r.old_shares[a];
    if (memcmp(&sh[0], &r.shares[0], sizeof(fr_t)) == 0) sh[0] = r.old_shares[0];
    TU_CHECK(!combine_is_mpk(idx, sh, t1, &g1.poly[0]));
    for (size_t a = 0; a < t0; a++) {
        idx[a] = r.old_share_index[a];
        sh[a] = r.old_shares[a];
    }
    sh[t0 - 1] = r.shares[0];
    idx[t0 - 1] = r.share_index[0] == idx[0] || r.share_index[0] == idx[1] ? idx[t0 - 1] : r.share_index[0];
    TU_CHECK(!combine_is_mpk(idx, sh, t0, &g0.poly[0]));
    tkms_sim_result_free(&r);
}

int main(void) {
    tu_seed();
    session_binding();
    honest_run();
    bad_share_run();
    crash_restart();
    late_certificates();
    deterministic_deal();
    for (int mode = 0; mode < 3; mode++) retry_run(mode);
    reshare_epochs();
    printf("dkg engine: ok\n");
    return 0;
}
