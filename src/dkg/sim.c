/* DKG/reshare simulator: runs real engines over an in-process network driven by one seeded event
 * queue (virtual milliseconds), with loss, duplication, delay, partitions, crashes and Byzantine
 * nodes, then checks agreement, validity, share consistency, MPK continuity and erasure. */
#define _GNU_SOURCE
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_fault.h"
#include "sha256.h"
#include "tbls.h"

static const char *const KIND_NAMES[TKMS_SIM_KINDS] = {"honest", "bad-share", "equivocate", "bad-justification",
                                                       "wrong-constant", "replay", "silent"};

int tkms_sim_kind_from_name(const char *name) {
    for (int k = 1; k < TKMS_SIM_KINDS; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) return k;
    return -1;
}
const char *tkms_sim_kind_name(tkms_sim_kind k) { return (unsigned)k < TKMS_SIM_KINDS ? KIND_NAMES[k] : "?"; }

/* ------------------------------------------------------------------ rng */

typedef struct {
    uint64_t s[4];
} xrng;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static void xseed(xrng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t xnext(xrng *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}
static double xunit(xrng *r) { return (double)(xnext(r) >> 11) / 9007199254740992.0; }
static uint64_t xrange(xrng *r, uint64_t lo, uint64_t hi) { return hi <= lo ? lo : lo + xnext(r) % (hi - lo + 1); }
static void engine_rng(void *ctx, uint8_t *out, size_t len) {
    xrng *r = ctx;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = xnext(r);
        for (size_t k = 0; k < 8 && i + k < len; k++) out[i + k] = (uint8_t)(v >> (8 * k));
    }
}

/* ------------------------------------------------------------------ messages and events */

typedef struct buf {
    struct buf *next;
    uint8_t *p;
    size_t len;
    int refs;
    uint64_t key;
} buf_t;

#define NBUCKET 65536
typedef struct {
    buf_t *b[NBUCKET];
} intern_t;

static uint64_t msg_key(const uint8_t *p, size_t len) {
    uint64_t k = len;
    size_t s = len >= 64 ? len - 64 : 0;
    for (size_t i = s; i < len && i < s + 8; i++) k = k * 131 + p[i];
    return k;
}

/* Identical bytes (an echo is the original message) share one buffer. Messages are signed, so
 * equal length, header and signature mean equal content. */
static buf_t *intern(intern_t *t, const uint8_t *p, size_t len) {
    uint64_t k = msg_key(p, len);
    buf_t **slot = &t->b[k % NBUCKET];
    size_t cmp = len < 110 ? len : 46;
    for (buf_t *b = *slot; b; b = b->next)
        if (b->key == k && b->len == len && memcmp(b->p, p, cmp) == 0 && memcmp(b->p + len - 64, p + len - 64, len < 64 ? len : 64) == 0)
            return b;
    buf_t *b = calloc(1, sizeof *b);
    if (!b || !(b->p = malloc(len ? len : 1))) {
        /* the simulator (a test program) cannot go on without its message table */
        fprintf(stderr, "tkms-sim: out of memory\n");
        abort();
    }
    memcpy(b->p, p, len);
    b->len = len;
    b->key = k;
    b->next = *slot;
    *slot = b;
    return b;
}

static void release(intern_t *t, buf_t *b) {
    if (--b->refs > 0) return;
    buf_t **pp = &t->b[b->key % NBUCKET];
    while (*pp != b) pp = &(*pp)->next;
    *pp = b->next;
    free(b->p);
    free(b);
}

enum { EV_DELIVER, EV_TICK, EV_CRASH, EV_RESTART, EV_REPLAY, EV_GIVEUP };
typedef struct {
    uint64_t time, seq;
    int kind, node;
    buf_t *b;
    uint64_t gen;
} event;

typedef struct {
    event *a;
    size_t n, cap;
    uint64_t seq;
} heap;

static int ev_less(const event *x, const event *y) { return x->time < y->time || (x->time == y->time && x->seq < y->seq); }
static void hpush(heap *h, event e) {
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 1024;
        h->a = realloc(h->a, h->cap * sizeof(event));
    }
    e.seq = h->seq++;
    size_t i = h->n++;
    while (i && ev_less(&e, &h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = e;
}
static event hpop(heap *h) {
    event top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && ev_less(&h->a[c + 1], &h->a[c])) c++;
        if (!ev_less(&h->a[c], &last)) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = last;
    return top;
}

/* ------------------------------------------------------------------ nodes */

typedef struct {
    tkms_identity id;
    tkms_dkg_member member;
    tkms_sim_kind kind;
    int in_phase, up, crashes, restarts, forever_down, late_certs;
    tkms_dkg_config cfg;
    tkms_dkg_fault fault; /* Byzantine dealer kinds the engine plays itself */
    void *mem;
    size_t mem_len;
    tkms_dkg *e;
    xrng rng;
    uint8_t *ckpt;
    size_t ckpt_len;
    uint64_t tick_gen, tick_at, last_tick;
    int same_tick;
    int *slot_node; /* engine slot -> node id */
    fr_t old_share;
    int has_old_share;
    int lost; /* reshare: started without its old share (repair receiver) */
    double cpu;
    uint32_t old_index, new_index;
} node_t;

typedef struct {
    const tkms_sim_params *p;
    tkms_sim_result *r;
    node_t *nodes;
    size_t n_nodes;
    heap h;
    intern_t *tab;
    xrng net;
    uint64_t now, messages, bytes, events;
    /* replay material: messages of an earlier session */
    uint8_t **rec;
    size_t *rec_len, n_rec, rec_cap;
    int recording;
    g2_affine_t *old_poly_mem;
    int within;   /* node faults within n - t on both committees */
    int promised; /* within, and a synchronous network (no loss, no partition): success promised */
    uint64_t cert_release; /* CERTs to late-cert nodes are held until then */
} sim_t;

static double cpu_now(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void schedule_tick(sim_t *s, int id) {
    node_t *nd = &s->nodes[id];
    uint64_t d = tkms_dkg_next_deadline(nd->e);
    if (d == UINT64_MAX) return;
    if (d < s->now) d = s->now;
    /* an engine must make progress at a deadline; never let one spin the clock in place */
    if (d == nd->last_tick && ++nd->same_tick > 64) d = s->now + 1;
    if (d != nd->last_tick) nd->same_tick = 0;
    nd->last_tick = d;
    if (nd->tick_at == d && nd->tick_gen) return;
    nd->tick_at = d;
    nd->tick_gen++;
    hpush(&s->h, (event){d, 0, EV_TICK, id, NULL, nd->tick_gen});
}

static int cut(const sim_t *s, int a, int b) {
    const tkms_sim_params *p = s->p;
    if (p->partition_end <= p->partition_start || s->now < p->partition_start || s->now >= p->partition_end) return 0;
    return (a % 2) != (b % 2);
}

static void send_to(sim_t *s, int from, int to, buf_t *b) {
    s->messages++;
    s->bytes += b->len;
    if (xunit(&s->net) < s->p->loss || cut(s, from, to)) return;
    int copies = 1 + (xunit(&s->net) < s->p->dup);
    for (int c = 0; c < copies; c++) {
        uint64_t d = xrange(&s->net, s->p->delay_min, s->p->delay_max), at = s->now + d;
        /* late certificates: every CERT to such a node (original, echo or fetch reply) arrives
         * only after the certification deadline */
        if (s->nodes[to].late_certs && b->len > 5 && b->p[5] == TKMS_DKG_MSG_CERT && at < s->cert_release)
            at = s->cert_release + d;
        b->refs++;
        hpush(&s->h, (event){at, 0, EV_DELIVER, to, b, 0});
    }
}

static void drain(sim_t *s, int id) {
    node_t *nd = &s->nodes[id];
    if (tkms_dkg_needs_persist(nd->e)) {
        size_t n = tkms_dkg_checkpoint(nd->e, NULL, 0);
        free(nd->ckpt);
        nd->ckpt = malloc(n);
        nd->ckpt_len = tkms_dkg_checkpoint(nd->e, nd->ckpt, n);
    }
    int32_t dest;
    const uint8_t *m;
    size_t len;
    int mute = nd->kind == TKMS_SIM_SILENT || nd->kind == TKMS_SIM_REPLAY;
    while (tkms_dkg_pop_output(nd->e, &dest, &m, &len)) {
        if (mute) continue;
        buf_t *b = intern(s->tab, m, len);
        b->refs++; /* hold while fanning out */
        if (dest == TKMS_DKG_BROADCAST) {
            size_t np = tkms_dkg_peer_count(nd->e), self = tkms_dkg_self_slot(nd->e);
            for (size_t k = 0; k < np; k++)
                if (k != self) send_to(s, id, nd->slot_node[k], b);
        } else if ((size_t)dest < tkms_dkg_peer_count(nd->e)) {
            send_to(s, id, nd->slot_node[dest], b);
        }
        release(s->tab, b);
    }
    schedule_tick(s, id);
}

static void call_begin(sim_t *s, double *t0) {
    if (s->p->measure_node_cpu) *t0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
}
static void call_end(sim_t *s, int id, double t0) {
    if (s->p->measure_node_cpu) s->nodes[id].cpu += cpu_now(CLOCK_THREAD_CPUTIME_ID) - t0;
}

static void make_identity(node_t *nd, uint64_t seed, size_t id) {
    uint8_t in[16], h[32];
    for (int i = 0; i < 8; i++) in[i] = (uint8_t)(seed >> (8 * i));
    for (int i = 0; i < 8; i++) in[8 + i] = (uint8_t)((uint64_t)id >> (8 * i));
    sha256(h, in, 16);
    (void)tkms_identity_from_seed(&nd->id, h);
    memcpy(nd->member.sign_pk, nd->id.sign_pk, 32);
    memcpy(nd->member.kem_pk, nd->id.kem_pk, 32);
    snprintf(nd->member.address, sizeof nd->member.address, "sim-node-%zu.tkms.test:7400", id);
}

static int start_engine(sim_t *s, int id, int from_ckpt) {
    node_t *nd = &s->nodes[id];
    nd->cfg.self = &nd->id;
    nd->cfg.rng_ctx = &nd->rng;
    nd->cfg.old_share = nd->has_old_share ? &nd->old_share : NULL;
    if (!nd->mem) {
        nd->mem_len = tkms_dkg_mem_size(&nd->cfg);
        nd->mem = aligned_alloc(64, (nd->mem_len + 63) & ~(size_t)63);
    }
    if (from_ckpt && nd->ckpt)
        nd->e = tkms_dkg_restore_faulty(nd->mem, nd->mem_len, &nd->cfg, nd->ckpt, nd->ckpt_len, s->now, nd->fault);
    else
        nd->e = tkms_dkg_init_faulty(nd->mem, nd->mem_len, &nd->cfg, nd->fault);
    if (!nd->e) return 0;
    if (!nd->slot_node) nd->slot_node = malloc(tkms_dkg_peer_count(nd->e) * sizeof(int));
    for (size_t k = 0; k < tkms_dkg_peer_count(nd->e); k++) {
        const uint8_t *key = tkms_dkg_peer_key(nd->e, k);
        nd->slot_node[k] = -1;
        for (size_t j = 0; j < s->n_nodes; j++)
            if (s->nodes[j].in_phase && memcmp(s->nodes[j].id.sign_pk, key, 32) == 0) nd->slot_node[k] = (int)j;
    }
    nd->up = 1;
    nd->tick_gen++;
    nd->tick_at = UINT64_MAX;
    return 1;
}

static void stop_engine(node_t *nd) {
    if (nd->e) tkms_dkg_wipe(nd->e);
    nd->e = NULL;
    nd->up = 0;
}

/* ------------------------------------------------------------------ one protocol run */

typedef struct {
    uint64_t deal, resp, just, cert, fetch, echo;
} timing;

static timing timing_for(const tkms_sim_params *p) {
    uint64_t B = p->delay_max ? p->delay_max : 1;
    timing t = {3 * B + 20, 3 * B + 20, 3 * B + 20, 8 * B + 200, 2 * B + 10, 2 * B + 2};
    return t;
}

static void run_events(sim_t *s, uint64_t limit) {
    while (s->h.n) {
        event ev = hpop(&s->h);
        if (ev.time > limit) {
            if (ev.b) release(s->tab, ev.b);
            continue;
        }
        s->now = ev.time;
        s->events++;
        node_t *nd = &s->nodes[ev.node];
        double t0 = 0;
        switch (ev.kind) {
        case EV_DELIVER:
            if (nd->up && nd->e) {
                if (s->recording && s->n_rec < s->rec_cap) {
                    s->rec[s->n_rec] = malloc(ev.b->len);
                    memcpy(s->rec[s->n_rec], ev.b->p, ev.b->len);
                    s->rec_len[s->n_rec++] = ev.b->len;
                }
                call_begin(s, &t0);
                (void)tkms_dkg_receive(nd->e, s->now, ev.b->p, ev.b->len);
                call_end(s, ev.node, t0);
                drain(s, ev.node);
            }
            release(s->tab, ev.b);
            break;
        case EV_TICK:
            if (!nd->up || !nd->e || ev.gen != nd->tick_gen) break;
            nd->tick_at = UINT64_MAX;
            call_begin(s, &t0);
            tkms_dkg_tick(nd->e, s->now);
            call_end(s, ev.node, t0);
            drain(s, ev.node);
            break;
        case EV_CRASH:
            if (!nd->up) break;
            stop_engine(nd);
            nd->crashes++;
            break;
        case EV_RESTART:
            if (nd->up) break;
            call_begin(s, &t0);
            if (start_engine(s, ev.node, 1)) {
                call_end(s, ev.node, t0);
                nd->restarts++;
                drain(s, ev.node);
            }
            break;
        case EV_GIVEUP:
            /* the drivers' time window for this session ends (the daemon's next slot): an
             * engine still waiting for certificates is told to stop */
            for (size_t j = 0; j < s->n_nodes; j++) {
                node_t *x = &s->nodes[j];
                if (!x->in_phase || !x->up || !x->e || tkms_dkg_get_state(x->e) != TKMS_DKG_RUNNING) continue;
                tkms_dkg_abandon(x->e);
                drain(s, (int)j);
            }
            break;
        case EV_REPLAY:
            /* a replaying node re-sends messages of an earlier session to everyone */
            for (size_t k = 0; k < s->n_rec; k++) {
                if (!s->rec[k]) continue;
                buf_t *b = intern(s->tab, s->rec[k], s->rec_len[k]);
                b->refs++;
                for (size_t j = 0; j < s->n_nodes; j++)
                    if (s->nodes[j].in_phase && (int)j != ev.node) send_to(s, ev.node, (int)j, b);
                release(s->tab, b);
            }
            break;
        }
    }
}

static size_t default_t(size_t n) { return (2 * n + 2) / 3; }

/* Configures and runs one session over nodes[ids_old] -> nodes[ids_new]. */
static void setup_session(sim_t *s, const int *olds, size_t n_old, size_t t_old, const int *news, size_t n_new,
                          size_t t_new, uint64_t epoch, const uint8_t prev_id[32], const g2_affine_t *old_poly,
                          tkms_dkg_member *old_members, tkms_dkg_member *new_members, uint64_t seed) {
    timing tm = timing_for(s->p);
    for (size_t i = 0; i < s->n_nodes; i++) {
        node_t *nd = &s->nodes[i];
        nd->in_phase = 0;
        nd->old_index = nd->new_index = 0;
    }
    for (size_t i = 0; i < n_new; i++) {
        new_members[i] = s->nodes[news[i]].member;
        s->nodes[news[i]].in_phase = 1;
        s->nodes[news[i]].new_index = (uint32_t)(i + 1);
    }
    for (size_t i = 0; i < n_old; i++) {
        old_members[i] = s->nodes[olds[i]].member;
        s->nodes[olds[i]].in_phase = 1;
        s->nodes[olds[i]].old_index = (uint32_t)(i + 1);
    }
    for (size_t i = 0; i < s->n_nodes; i++) {
        node_t *nd = &s->nodes[i];
        if (!nd->in_phase) continue;
        memset(&nd->cfg, 0, sizeof nd->cfg);
        nd->cfg.epoch = epoch;
        if (prev_id) memcpy(nd->cfg.prev_group_id, prev_id, 32);
        nd->cfg.new_members = new_members;
        nd->cfg.n_new = n_new;
        nd->cfg.t_new = t_new;
        if (old_poly) {
            nd->cfg.old_members = old_members;
            nd->cfg.n_old = n_old;
            nd->cfg.t_old = t_old;
            nd->cfg.old_poly = old_poly;
        }
        nd->cfg.start_tick = 0;
        nd->cfg.deal_ticks = tm.deal;
        nd->cfg.resp_ticks = tm.resp;
        nd->cfg.just_ticks = tm.just;
        nd->cfg.cert_ticks = tm.cert;
        nd->cfg.fetch_ticks = tm.fetch;
        nd->cfg.echo_ticks = tm.echo;
        nd->cfg.rng = engine_rng;
        nd->fault = TKMS_DKG_FAULT_NONE;
        if (nd->old_index) {
            if (nd->kind == TKMS_SIM_BAD_SHARE) nd->fault = TKMS_DKG_FAULT_BAD_SHARE;
            if (nd->kind == TKMS_SIM_EQUIVOCATE) nd->fault = TKMS_DKG_FAULT_EQUIVOCATE;
            if (nd->kind == TKMS_SIM_BAD_JUST) nd->fault = TKMS_DKG_FAULT_BAD_JUST;
            if (nd->kind == TKMS_SIM_WRONG_CONSTANT) nd->fault = TKMS_DKG_FAULT_WRONG_CONSTANT;
        }
        xseed(&nd->rng, seed ^ (0x1000003ull * (i + 1)));
        free(nd->ckpt);
        nd->ckpt = NULL;
        nd->ckpt_len = 0;
        free(nd->slot_node);
        nd->slot_node = NULL;
        free(nd->mem);
        nd->mem = NULL;
        nd->e = NULL;
        nd->up = 0;
    }
}

static void free_engines(sim_t *s) {
    for (size_t i = 0; i < s->n_nodes; i++) {
        node_t *nd = &s->nodes[i];
        stop_engine(nd);
        free(nd->mem);
        nd->mem = NULL;
        free(nd->slot_node);
        nd->slot_node = NULL;
        if (nd->ckpt) tkms_wipe(nd->ckpt, nd->ckpt_len);
        free(nd->ckpt);
        nd->ckpt = NULL;
    }
}

static int honest(const node_t *nd) { return nd->kind == TKMS_SIM_HONEST; }

static void why(tkms_sim_result *r, const char *msg, uint64_t seed) {
    if (!r->why[0]) snprintf(r->why, sizeof r->why, "%s (seed %llu)", msg, (unsigned long long)seed);
}

/* Checks shares of the honest FINAL new members: each matches the public polynomial and
 * several random t-subsets interpolate to the secret behind poly[0]. */
static int shares_consistent(sim_t *s, const tkms_dkg_result *res, const uint32_t *idx, const fr_t *sh, size_t k) {
    for (size_t a = 0; a < k; a++)
        if (!tbls_verify_share(&sh[a], idx[a], res->poly, res->t)) return 0;
    size_t t = res->t;
    if (k < t) return 2; /* consistent, but too few honest shares to reconstruct here */
    uint32_t *sel = malloc(t * 4);
    fr_t *lam = malloc(t * sizeof(fr_t));
    void *scr = malloc(tbls_scratch_size(t));
    size_t *perm = malloc(k * sizeof(size_t));
    int ok = 1;
    for (int round = 0; round < 3 && ok; round++) {
        for (size_t a = 0; a < k; a++) perm[a] = a;
        for (size_t a = 0; a < t; a++) {
            size_t b = a + (size_t)(xnext(&s->net) % (k - a)), tmp = perm[a];
            perm[a] = perm[b];
            perm[b] = tmp;
        }
        for (size_t a = 0; a < t; a++) sel[a] = idx[perm[a]];
        if (!tbls_lagrange_at_zero(lam, sel, t, scr)) {
            ok = 0;
            break;
        }
        fr_t sec = FR_ZERO, term;
        for (size_t a = 0; a < t; a++) {
            fr_mul(&term, &lam[a], &sh[perm[a]]);
            fr_add(&sec, &sec, &term);
        }
        g2_t g, m, want;
        uint64_t sc[4];
        g2_from_affine(&g, &G2_GENERATOR);
        fr_to_scalar(sc, &sec);
        g2_mul(&m, &g, sc);
        g2_from_affine(&want, &res->poly[0]);
        ok = (int)g2_eq(&m, &want);
        tkms_wipe(&sec, sizeof sec);
    }
    free(sel);
    free(lam);
    free(scr);
    free(perm);
    return ok;
}

/* Evaluates a finished session. Returns 1 if every honest node that is up ended FINAL on one
 * group file and the shares are consistent. */
static int evaluate(sim_t *s, int final_phase, const uint8_t *mpk_before, tkms_group *g_out, int *agreed_out,
                    int *clean_out, uint32_t *share_idx, fr_t *shares, size_t *n_shares, int *erased_out) {
    tkms_sim_result *r = s->r;
    const tkms_dkg_result *ref = NULL;
    tkms_dkg_result res;
    int agreed = 1, any_final = 0, all_aborted = 1, all_final = 1, erased = 1, unrepaired = 0;
    size_t k = 0, nf = 0, na = 0, nh = 0, final_new = 0;
    tkms_dkg_result refbuf;
    for (size_t i = 0; i < s->n_nodes; i++) {
        node_t *nd = &s->nodes[i];
        if (!nd->in_phase || !honest(nd) || nd->forever_down || !nd->e) continue;
        nh++;
        tkms_dkg_state st = tkms_dkg_get_state(nd->e);
        if (st == TKMS_DKG_FINAL) {
            nf++;
            any_final = 1;
            all_aborted = 0;
            tkms_dkg_get_result(nd->e, &res);
            if (!ref) {
                refbuf = res;
                ref = &refbuf;
            } else if (memcmp(res.transcript_hash, ref->transcript_hash, 32) != 0) {
                agreed = 0;
            }
            if (nd->new_index) {
                final_new++;
                if (nd->lost && !res.has_share && s->promised && !nd->crashes) unrepaired = 1;
                if (res.has_share && k < TKMS_DKG_MAX_N) {
                    share_idx[k] = nd->new_index;
                    tkms_dkg_get_share(nd->e, &shares[k]);
                    k++;
                }
            }
            /* erasure: no old share in memory or in the persisted checkpoint (a new member that
             * ended without a share of the new group keeps its old one: docs/dkg.md rule 8) */
            if (nd->old_index && final_phase && (res.has_share || !nd->new_index)) {
                if (tkms_dkg_holds_old_share(nd->e)) erased = 0;
                uint8_t ob[32];
                fr_to_bytes(ob, &nd->old_share);
                fr_t cur;
                /* with t_old = t_new = 1 the new share is the old one (f' is constant) */
                int same = tkms_dkg_get_share(nd->e, &cur) && fr_eq(&cur, &nd->old_share);
                tkms_wipe(&cur, sizeof cur);
                if (!same && nd->ckpt && nd->has_old_share && memmem(nd->ckpt, nd->ckpt_len, ob, 32)) erased = 0;
                tkms_wipe(ob, 32);
            }
        } else {
            all_final = 0;
            if (st == TKMS_DKG_ABORTED) na++;
            else all_aborted = 0;
        }
    }
    r->n_honest = nh;
    r->n_final = nf;
    r->n_aborted = na;
    *agreed_out = agreed;
    *clean_out = !any_final && all_aborted;
    *n_shares = k;
    *erased_out = erased;
    if (!any_final) return 0;
    if (!agreed) {
        why(r, "honest nodes certified different group files", s->p->seed);
        return 0;
    }
    if (!all_final) {
        why(r, "some honest nodes did not reach the certified group", s->p->seed);
        return 0;
    }
    if (ref->n_sigs < ref->t) why(r, "certificate below threshold", s->p->seed);
    int sc = shares_consistent(s, ref, share_idx, shares, k);
    if (!sc) {
        why(r, "honest shares inconsistent with the public polynomial", s->p->seed);
        return -1;
    }
    if (sc == 2 && s->promised) {
        why(r, "fewer than t honest shares although the faults were within bounds", s->p->seed);
        return -1;
    }
    if (mpk_before) {
        uint8_t m[96];
        g2_serialize(m, &ref->poly[0]);
        if (memcmp(m, mpk_before, 96) != 0) {
            why(r, "MPK changed by reshare", s->p->seed);
            return -1;
        }
    }
    if (unrepaired) {
        why(r, "a member without its old share ended without a new one (repair failed)", s->p->seed);
        return -1;
    }
    if (!erased) why(r, "old share not erased after certification", s->p->seed);
    /* the group file verifies on its own */
    const node_t *any = NULL;
    for (size_t i = 0; i < s->n_nodes && !any; i++)
        if (s->nodes[i].in_phase && honest(&s->nodes[i]) && s->nodes[i].e &&
            tkms_dkg_get_state(s->nodes[i].e) == TKMS_DKG_FINAL && s->nodes[i].new_index)
            any = &s->nodes[i];
    if (any) {
        tkms_dkg_result rr;
        tkms_dkg_get_result(any->e, &rr);
        if (!tkms_group_from_result(g_out, &rr, any->cfg.new_members)) return -1;
    }
    (void)final_new;
    return erased ? 1 : -1;
}

/* Faults within n - t in the old committee and within n - q in the new one, q the certificate
 * quorum (tkms_dkg_cert_quorum: t, or floor(n/2) + 1 when t is below that), since a new group needs
 * q member signatures (faulty = Byzantine or crashed at least once): then success is what the
 * protocol promises. */
static int within_bounds(const sim_t *S, const tkms_sim_params *P) {
    size_t bad_old = 0, bad_new = 0;
    for (size_t i = 0; i < S->n_nodes; i++) {
        const node_t *nd = &S->nodes[i];
        if (!nd->in_phase) continue;
        int faulty = nd->kind != TKMS_SIM_HONEST || nd->crashes > 0;
        /* a member without its old share cannot deal: a fault of the old committee only */
        if ((faulty || nd->lost) && nd->old_index) bad_old++;
        if (faulty && nd->new_index) bad_new++;
    }
    size_t n_old = P->n, t_old = P->t, n_new = P->reshare ? P->n2 : P->n, t_new = P->reshare ? P->t2 : P->t;
    size_t q_new = tkms_dkg_cert_quorum(t_new, n_new);
    return bad_old <= n_old - t_old && bad_new <= n_new - q_new;
}

/* Success is promised only on a synchronous network: every message delivered within the
 * maximum delay. Loss and partitions break that assumption (a bundle lost at the wrong moment,
 * e.g. a complaint cut off until after the response deadline, legitimately costs the sender its
 * share); the promise is then agreement and validity, with either a success or a clean abort. */
static int synchronous(const tkms_sim_params *P) {
    return P->loss <= 0 && !(P->partition_end > P->partition_start);
}

/* The first k honest new members receive their certificates only after d_cert. */
static void mark_late_certs(sim_t *S, size_t k) {
    for (size_t i = 0; i < S->n_nodes; i++) {
        node_t *nd = &S->nodes[i];
        nd->late_certs = 0;
        if (k && nd->in_phase && nd->new_index && honest(nd)) {
            nd->late_certs = 1;
            k--;
        }
    }
}

static void pick(xrng *r, int *out, const int *pool, size_t n_pool, size_t k) {
    int *tmp = malloc((n_pool + 1) * sizeof(int));
    if (!tmp) {
        fprintf(stderr, "tkms-sim: out of memory\n");
        abort();
    }
    memcpy(tmp, pool, n_pool * sizeof(int));
    for (size_t a = 0; a < k && a < n_pool; a++) {
        size_t b = a + (size_t)(xnext(r) % (n_pool - a));
        int x = tmp[a];
        tmp[a] = tmp[b];
        tmp[b] = x;
        out[a] = tmp[a];
    }
    free(tmp);
}

/* ------------------------------------------------------------------ a run: the steps of tkms_sim_run */

/* Everything one run holds: the simulation, the committees, the group files and index lists. */
typedef struct {
    sim_t S;
    tkms_sim_params P;     /* the caller's parameters, defaults filled in */
    tkms_sim_params dkg_p; /* a reshare's setup DKG: the same without loss or partition */
    timing tm;
    uint64_t horizon, limit, window;
    size_t nbyz, fresh, nsh;
    int *olds, *news, *byz, *cand, *victims, *lose_cand, *lose_pick;
    tkms_dkg_member *om, *nm, *om2;
    tkms_group *g0, *g1;
    double cpu0;
    int verdict, agreed, clean, erased;
} run_t;

/* Fills in default thresholds and checks the sizes. Returns 0 with r->why set. */
static int check_params(tkms_sim_params *P, tkms_sim_result *r, size_t *nbyz) {
    if (!P->t) P->t = default_t(P->n);
    if (P->reshare && !P->t2) P->t2 = default_t(P->n2);
    if (P->n < 1 || P->n > TKMS_DKG_MAX_N || P->t < 1 || P->t > P->n ||
        (P->reshare && (P->n2 < 1 || P->n2 > TKMS_DKG_MAX_N || P->t2 < 1 || P->t2 > P->n2 || P->keep > P->n ||
                        P->keep > P->n2))) {
        snprintf(r->why, sizeof r->why, "bad sizes");
        return 0;
    }
    if (P->delay_max < P->delay_min) P->delay_max = P->delay_min;
    *nbyz = 0;
    for (int k = 1; k < TKMS_SIM_KINDS; k++) *nbyz += P->byz[k];
    if (*nbyz + P->crash > P->n + (P->reshare ? P->n2 : 0)) {
        snprintf(r->why, sizeof r->why, "more faulty nodes than nodes");
        return 0;
    }
    return 1;
}

/* The nodes (n old ones, then the fresh members of a reshare) with their identities, and the
 * run's buffers. */
static void run_alloc(run_t *R, tkms_sim_result *r) {
    const tkms_sim_params *P = &R->P;
    sim_t *S = &R->S;
    S->p = P;
    S->r = r;
    S->tab = calloc(1, sizeof(intern_t));
    R->fresh = P->reshare ? P->n2 - P->keep : 0;
    S->n_nodes = P->n + R->fresh;
    S->nodes = calloc(S->n_nodes, sizeof(node_t));
    xseed(&S->net, P->seed);
    for (size_t i = 0; i < S->n_nodes; i++) make_identity(&S->nodes[i], P->seed, i);
    R->olds = malloc(P->n * sizeof(int));
    R->news = malloc((P->n2 + 1) * sizeof(int));
    for (size_t i = 0; i < P->n; i++) R->olds[i] = (int)i;
    R->om = calloc(TKMS_DKG_MAX_N, sizeof(tkms_dkg_member));
    R->nm = calloc(TKMS_DKG_MAX_N, sizeof(tkms_dkg_member));
    R->om2 = calloc(TKMS_DKG_MAX_N, sizeof(tkms_dkg_member));
    R->g0 = calloc(1, sizeof(tkms_group));
    R->g1 = calloc(1, sizeof(tkms_group));
    R->byz = calloc(P->n + 1, sizeof(int));
    R->cand = malloc(S->n_nodes * sizeof(int));
    R->victims = malloc(S->n_nodes * sizeof(int));
    R->lose_cand = malloc(S->n_nodes * sizeof(int));
    R->lose_pick = malloc(S->n_nodes * sizeof(int));
    R->tm = timing_for(P);
    R->horizon = R->tm.deal + R->tm.resp + R->tm.just + R->tm.cert;
    R->limit = 40 * R->horizon + 100000;
    /* the drivers' window for one attempt; the latest d_cert (a node restarting late moves its
     * deadlines out) stays well inside it */
    R->window = 3 * R->horizon;
    R->agreed = 1;
    R->erased = 1;
}

/* Byzantine dealers: random members of the (old) committee, of each kind in turn. */
static void assign_byzantine(run_t *R) {
    const tkms_sim_params *P = &R->P;
    pick(&R->S.net, R->byz, R->olds, P->n, R->nbyz);
    size_t b = 0, lim = R->nbyz < P->n ? R->nbyz : P->n; /* pick() filled R->byz[0..lim) */
    for (int k = 1; k < TKMS_SIM_KINDS; k++)
        for (size_t c = 0; c < P->byz[k] && b < lim; c++) R->S.nodes[R->byz[b++]].kind = (tkms_sim_kind)k;
}

/* Crash victims: honest members of the session being tested (cand[0..nc)). */
static size_t pick_crash_victims(run_t *R, size_t nc) {
    size_t ncrash = R->P.crash < nc ? R->P.crash : nc;
    pick(&R->S.net, R->victims, R->cand, nc, ncrash);
    return ncrash;
}

/* Each victim crashes at a random time before d_just; about half restart from their checkpoint. */
static void schedule_crashes(run_t *R, size_t ncrash) {
    sim_t *S = &R->S;
    const timing *tm = &R->tm;
    for (size_t c = 0; c < ncrash; c++) {
        int v = R->victims[c];
        uint64_t at = xrange(&S->net, 0, tm->deal + tm->resp + tm->just);
        hpush(&S->h, (event){at, 0, EV_CRASH, v, NULL, 0});
        if (xnext(&S->net) & 1)
            hpush(&S->h, (event){at + xrange(&S->net, 1, 2 * (tm->deal + tm->resp)), 0, EV_RESTART, v, NULL, 0});
        else
            S->nodes[v].forever_down = 1;
    }
}

static void schedule_replays(sim_t *S, int id, const timing *tm) {
    hpush(&S->h, (event){1, 0, EV_REPLAY, id, NULL, 0});
    hpush(&S->h, (event){tm->deal + 5, 0, EV_REPLAY, id, NULL, 0});
}

/* Replay material for a DKG: a ghost session (another epoch) whose signed deals the replaying
 * nodes re-send. */
static void record_ghost_deals(run_t *R) {
    sim_t *S = &R->S;
    for (size_t i = 0; i < R->P.n; i++) {
        node_t *nd = &S->nodes[i];
        if (nd->kind != TKMS_SIM_REPLAY) continue;
        tkms_dkg_config gc = nd->cfg;
        gc.epoch = 7;
        size_t ml = tkms_dkg_mem_size(&gc);
        void *mem = aligned_alloc(64, (ml + 63) & ~(size_t)63);
        tkms_dkg *ge = tkms_dkg_init(mem, ml, &gc);
        if (ge) {
            tkms_dkg_tick(ge, 0);
            int32_t d;
            const uint8_t *m;
            size_t len;
            while (tkms_dkg_pop_output(ge, &d, &m, &len))
                if (S->n_rec < S->rec_cap) {
                    S->rec[S->n_rec] = malloc(len);
                    memcpy(S->rec[S->n_rec], m, len);
                    S->rec_len[S->n_rec++] = len;
                }
            tkms_dkg_wipe(ge);
        }
        free(mem);
        schedule_replays(S, (int)i, &R->tm);
    }
}

/* Phase 1: the DKG of nodes 0..n-1, the run under test or, for a reshare, its fault-free setup
 * (no Byzantine dealers, loss or partition; crashes are for the reshare). Returns 0 if the run
 * stops here (r->why says why). */
static int run_first_dkg(run_t *R) {
    sim_t *S = &R->S;
    const tkms_sim_params *P = &R->P;
    tkms_sim_result *r = S->r;
    if (P->reshare) {
        for (size_t i = 0; i < P->n; i++) S->nodes[i].kind = TKMS_SIM_HONEST;
    }
    setup_session(S, R->olds, P->n, 0, R->olds, P->n, P->t, 0, NULL, NULL, R->om, R->om, P->seed);
    S->recording = P->reshare && P->byz[TKMS_SIM_REPLAY];
    S->rec_cap = 4 * P->n;
    S->rec = calloc(S->rec_cap + 1, sizeof(uint8_t *));
    S->rec_len = calloc(S->rec_cap + 1, sizeof(size_t));
    R->dkg_p = *P;
    if (P->reshare) {
        R->dkg_p.loss = R->dkg_p.dup = 0;
        R->dkg_p.partition_end = R->dkg_p.partition_start = 0;
        S->p = &R->dkg_p;
    }
    size_t ncrash = 0;
    if (!P->reshare) {
        size_t nc = 0;
        for (size_t i = 0; i < P->n; i++)
            if (S->nodes[i].kind == TKMS_SIM_HONEST) R->cand[nc++] = (int)i;
        ncrash = pick_crash_victims(R, nc);
    }
    for (size_t i = 0; i < P->n; i++) {
        if (!start_engine(S, (int)i, 0)) {
            snprintf(r->why, sizeof r->why, "engine init failed");
            return 0;
        }
    }
    if (!P->reshare && P->byz[TKMS_SIM_REPLAY]) record_ghost_deals(R);
    schedule_crashes(R, ncrash);
    S->cert_release = R->horizon + R->tm.fetch;
    mark_late_certs(S, P->reshare ? 0 : P->cert_late);
    hpush(&S->h, (event){R->window, 0, EV_GIVEUP, 0, NULL, 0});
    for (size_t i = 0; i < P->n; i++) drain(S, (int)i);
    if (!P->reshare) R->cpu0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
    run_events(S, R->limit);
    S->within = P->reshare ? 1 : within_bounds(S, P);
    S->promised = P->reshare ? 1 : S->within && synchronous(P);
    int ag = 1, cl = 0, er = 1;
    R->verdict = evaluate(S, !P->reshare, NULL, R->g0, &ag, &cl, P->reshare ? r->old_share_index : r->share_index,
                          P->reshare ? r->old_shares : r->shares, &R->nsh, &er);
    if (P->reshare) {
        r->n_old_shares = R->nsh;
        if (R->verdict != 1) {
            char tmp[200];
            snprintf(tmp, sizeof tmp, "%.180s", r->why[0] ? r->why : "?");
            snprintf(r->why, sizeof r->why, "setup DKG failed: %s", tmp);
            return 0;
        }
        r->why[0] = 0;
        g2_serialize(r->mpk_before, &R->g0->poly[0]);
        r->prev_group_json = tkms_group_to_json(R->g0, 1);
    } else {
        R->agreed = ag;
        R->clean = cl;
        r->n_shares = R->nsh;
        R->erased = er;
    }
    return 1;
}

/* The new committee of a reshare: `keep` random old members (in ascending order, which keeps the
 * new indices readable), then the fresh nodes. */
static void choose_new_committee(run_t *R) {
    const tkms_sim_params *P = &R->P;
    int *kept = calloc(P->keep + 1, sizeof(int));
    pick(&R->S.net, kept, R->olds, P->n, P->keep);
    for (size_t a = 0; a < P->keep; a++)
        for (size_t c2 = a + 1; c2 < P->keep; c2++)
            if (kept[c2] < kept[a]) {
                int x = kept[a];
                kept[a] = kept[c2];
                kept[c2] = x;
            }
    for (size_t a = 0; a < P->keep; a++) R->news[a] = kept[a];
    for (size_t a = 0; a < R->fresh; a++) R->news[P->keep + a] = (int)(P->n + a);
    free(kept);
}

/* Repair: honest members of both committees that are not crash victims lose their share. */
static void lose_old_shares(run_t *R, size_t ncrash) {
    sim_t *S = &R->S;
    size_t nl = 0;
    for (size_t i = 0; i < S->n_nodes; i++) {
        int victim = 0;
        for (size_t c = 0; c < ncrash; c++) victim |= R->victims[c] == (int)i;
        if (S->nodes[i].in_phase && S->nodes[i].kind == TKMS_SIM_HONEST && S->nodes[i].old_index &&
            S->nodes[i].new_index && !victim)
            R->lose_cand[nl++] = (int)i;
    }
    size_t nlose = R->P.lose < nl ? R->P.lose : nl;
    pick(&S->net, R->lose_pick, R->lose_cand, nl, nlose);
    for (size_t c = 0; c < nlose; c++) {
        node_t *nd = &S->nodes[R->lose_pick[c]];
        nd->lost = 1;
        nd->has_old_share = 0;
        tkms_wipe(&nd->old_share, sizeof(fr_t));
    }
}

/* Phase 2 of a reshare: the old committee (with its Byzantine dealers) reshares to the new one,
 * under the run's crashes, loss and partition. Returns 0 if the run stops here. */
static int run_reshare(run_t *R) {
    sim_t *S = &R->S;
    const tkms_sim_params *P = &R->P;
    tkms_sim_result *r = S->r;
    /* keep the old shares, then build the new committee */
    for (size_t i = 0; i < P->n; i++) {
        node_t *nd = &S->nodes[i];
        nd->has_old_share = nd->e && tkms_dkg_get_share(nd->e, &nd->old_share);
        nd->kind = TKMS_SIM_HONEST;
    }
    uint8_t prev_id[32];
    tkms_group_id(prev_id, R->g0);
    /* a copy of the previous group's polynomial (g1 is filled only after the reshare has run) */
    g2_affine_t *old_poly = malloc(P->t * sizeof(g2_affine_t));
    memcpy(old_poly, R->g0->poly, P->t * sizeof(g2_affine_t));
    S->old_poly_mem = old_poly;
    memcpy(R->om2, R->om, P->n * sizeof(tkms_dkg_member));
    choose_new_committee(R);
    assign_byzantine(R);
    free_engines(S);
    S->p = P;
    S->recording = 0;
    setup_session(S, R->olds, P->n, P->t, R->news, P->n2, P->t2, 1, prev_id, old_poly, R->om2, R->nm,
                  P->seed ^ 0x5eedull);
    size_t nc = 0;
    for (size_t i = 0; i < S->n_nodes; i++)
        if (S->nodes[i].in_phase && S->nodes[i].kind == TKMS_SIM_HONEST) R->cand[nc++] = (int)i;
    size_t ncrash = pick_crash_victims(R, nc);
    lose_old_shares(R, ncrash);
    for (size_t i = 0; i < S->n_nodes; i++)
        if (S->nodes[i].in_phase && !start_engine(S, (int)i, 0)) {
            snprintf(r->why, sizeof r->why, "engine init failed (reshare)");
            return 0;
        }
    for (size_t i = 0; i < S->n_nodes; i++)
        if (S->nodes[i].in_phase && S->nodes[i].kind == TKMS_SIM_REPLAY) schedule_replays(S, (int)i, &R->tm);
    schedule_crashes(R, ncrash);
    S->messages = S->bytes = S->events = 0;
    S->now = 0;
    mark_late_certs(S, P->cert_late);
    hpush(&S->h, (event){R->window, 0, EV_GIVEUP, 0, NULL, 0});
    R->cpu0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < S->n_nodes; i++)
        if (S->nodes[i].in_phase) drain(S, (int)i);
    run_events(S, R->limit);
    S->within = within_bounds(S, P);
    S->promised = S->within && synchronous(P);
    R->verdict = evaluate(S, 1, r->mpk_before, R->g1, &R->agreed, &R->clean, r->share_index, r->shares, &R->nsh,
                          &R->erased);
    r->n_shares = R->nsh;
    return 1;
}

/* TKMS_SIM_DEBUG: one line per node of the last session on stderr. */
static void debug_dump(const sim_t *S) {
    for (size_t i = 0; i < S->n_nodes; i++) {
        const node_t *nd = &S->nodes[i];
        if (!nd->in_phase) continue;
        tkms_dkg_result rr;
        int have = nd->e && tkms_dkg_get_result(nd->e, &rr);
        const tkms_dkg_stats *st = nd->e ? tkms_dkg_get_stats(nd->e) : NULL;
        fprintf(stderr, "node %zu old %u new %u kind %s up %d crashes %d restarts %d down %d state %d qual %zu th %02x rx %llu fetch %llu adopt %llu\n",
                i, nd->old_index, nd->new_index, tkms_sim_kind_name(nd->kind), nd->up, nd->crashes, nd->restarts,
                nd->forever_down, nd->e ? (int)tkms_dkg_get_state(nd->e) : -1, have ? rr.n_qual : 0,
                have ? rr.transcript_hash[0] : 0, st ? (unsigned long long)st->rx : 0,
                st ? (unsigned long long)st->fetches_sent : 0, st ? (unsigned long long)st->adopted : 0);
    }
}

/* The verdict and the figures of the session under test. */
static void fill_result(run_t *R) {
    const sim_t *S = &R->S;
    const tkms_sim_params *P = &R->P;
    tkms_sim_result *r = S->r;
    r->cpu_s = cpu_now(CLOCK_PROCESS_CPUTIME_ID) - R->cpu0;
    r->within_bounds = S->within;
    if (getenv("TKMS_SIM_DEBUG")) debug_dump(S);
    r->success = R->verdict == 1;
    r->agreed = R->agreed;
    r->consistent = R->verdict == 1;
    r->clean_abort = R->clean;
    r->old_erased = R->erased;
    const tkms_group *g = P->reshare ? R->g1 : R->g0;
    if (r->success) {
        r->n_qual = g->n_qual;
        memcpy(r->qual, g->qual, g->n_qual * 4);
        g2_serialize(r->mpk, &g->poly[0]);
        r->has_mpk = 1;
        r->group_json = tkms_group_to_json(g, 1);
    }
    int impossible_ok = !r->within_bounds || P->loss > 0 || P->partition_end > P->partition_start;
    r->ok = (r->success && r->agreed) || (r->clean_abort && r->agreed && impossible_ok);
    if (!r->ok && !r->why[0]) why(r, r->clean_abort ? "aborted although success was possible" : "no agreement", P->seed);
    r->messages = S->messages;
    r->bytes = S->bytes;
    r->events = S->events;
    double mx = 0, sum = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < S->n_nodes; i++) {
        const node_t *nd = &S->nodes[i];
        if (!nd->in_phase) continue;
        if (nd->e) {
            const tkms_dkg_stats *st = tkms_dkg_get_stats(nd->e);
            r->stale_rejected += st->rx_stale;
            r->adopted += st->adopted;
            r->fetches += st->fetches_sent;
        }
        if (nd->cpu > mx) mx = nd->cpu;
        sum += nd->cpu;
        cnt++;
    }
    r->node_cpu_max_s = mx;
    r->node_cpu_avg_s = cnt ? sum / (double)cnt : 0;
}

static void run_free(run_t *R) {
    sim_t *S = &R->S;
    free_engines(S);
    /* the events still queued hold the last references to their messages: every buffer left in
     * the table goes at once (no per-event release) */
    S->h.n = 0;
    for (size_t k = 0; S->tab && k < NBUCKET; k++)
        for (buf_t *b = S->tab->b[k], *next; b; b = next) {
            next = b->next;
            free(b->p);
            free(b);
        }
    free(S->h.a);
    free(S->old_poly_mem);
    for (size_t i = 0; i < S->n_rec; i++) free(S->rec[i]);
    free(S->rec);
    free(S->rec_len);
    for (size_t i = 0; i < S->n_nodes; i++) {
        tkms_identity_wipe(&S->nodes[i].id);
        tkms_wipe(&S->nodes[i].old_share, sizeof(fr_t));
    }
    free(S->nodes);
    free(S->tab);
    free(R->olds);
    free(R->news);
    free(R->om);
    free(R->nm);
    free(R->om2);
    free(R->g0);
    free(R->g1);
    free(R->byz);
    free(R->cand);
    free(R->victims);
    free(R->lose_cand);
    free(R->lose_pick);
}

int tkms_sim_run(const tkms_sim_params *p0, tkms_sim_result *r) {
    memset(r, 0, sizeof *r);
    run_t R;
    memset(&R, 0, sizeof R);
    R.P = *p0;
    if (!check_params(&R.P, r, &R.nbyz)) return 0;
    run_alloc(&R, r);
    assign_byzantine(&R); /* for a reshare, drawn again for the reshare itself */
    R.cpu0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
    if (run_first_dkg(&R) && (!R.P.reshare || run_reshare(&R))) fill_result(&R);
    run_free(&R);
    return 1;
}

void tkms_sim_result_free(tkms_sim_result *r) {
    free(r->group_json);
    free(r->prev_group_json);
    r->group_json = r->prev_group_json = NULL;
    tkms_wipe(r->shares, sizeof r->shares);
    tkms_wipe(r->old_shares, sizeof r->old_shares);
}
