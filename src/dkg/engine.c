/* Sans-I/O DKG and Reshare engine (DESIGN.md §3; wire format and rules in docs/dkg.md): signed,
 * echoed bundles, HPKE-encrypted shares, batched Feldman checks, complaints/justifications, QUAL,
 * certification by t_new signatures, catch-up by fetch, checkpoints. All memory is caller-owned. */
#include "engine.h"

#include <string.h>

#include "hpke.h"
#include "sha256.h"
#include "tbls.h"
#include "proto_bytes.h"
#include "proto_tags.h"

#define HDR 46
#define SIG 64
#define PT_LEN 192  /* commitments travel uncompressed: no square root per point (docs/dkg.md) */
#define CT_LEN 80   /* enc(32) || ChaCha20-Poly1305(share 32) + tag 16 */
#define EV_LEN 104  /* be32 dealer || be32 body_len || digest || sig */
#define VERSION 1

#define SIG_DST_LEN TKMS_TAG_LEN(TKMS_TAG_DKG_SIG)
#define SHARE_AAD_LEN (TKMS_TAG_LEN(TKMS_TAG_DKG_SHARE) + 32 + 4 + 4)

typedef struct {
    uint8_t *p; /* whole message: header || body || sig */
    uint32_t len;
    uint8_t digest[32]; /* SHA-256(body) */
} smsg;

typedef struct {
    smsg deal;
    uint8_t deal_bad;    /* structurally invalid (or points failing the subgroup check) */
    uint8_t const_st;    /* reshare: 0 unchecked, 1 C'_0 == PK_i, 2 mismatch */
    uint8_t equiv;       /* two different signed deal digests seen (reported in our response) */
    uint8_t equiv_rep;   /* equivocation proven inside a response that counts: disqualifies */
    uint8_t have_known;  /* known_digest holds a signed digest */
    uint8_t known[32];
    uint8_t ev[2][EV_LEN]; /* two distinct signed deal headers (valid when equiv) */
    uint8_t share_st;      /* 0 none, 1 decrypted, 2 verified, 3 bad */
    fr_t share;
    smsg just;
} dealer_t;

typedef struct {
    smsg resp, cert;
    uint8_t resp_equiv, cert_equiv;
    uint8_t resp_late; /* arrived after the response deadline: its complaints do not count */
} recv_t;

typedef struct {
    int32_t dest;
    const uint8_t *p;
    uint32_t len;
} outmsg;

struct tkms_dkg {
    uint8_t *arena;
    size_t arena_used, arena_cap;
    /* configuration */
    uint64_t epoch;
    size_t n_new, t_new, n_old, t_old, n_dealers;
    int reshare, dev_mode;
    tkms_dkg_fault fault;
    tkms_dkg_rng_fn rng;
    void *rng_ctx;
    tkms_dkg_member *newm, *oldm; /* in a DKG oldm == newm */
    g2_affine_t *old_poly;
    tkms_identity self;
    uint32_t my_new, my_old;
    uint8_t session[32], prev_id[32];
    /* wire tag: the session ID for attempt 0, else a per-attempt tag (docs/dkg.md, "Attempts");
     * in every message header, AAD and seed derivation. The transcript and the certification
     * always use the session ID itself. */
    uint8_t wire[32];
    uint32_t attempt;
    size_t n_peers, self_slot;
    const uint8_t **peer_key;
    int32_t *old_slot; /* old index - 1 -> slot */
    uint64_t start, d_deal, d_resp, d_just, d_cert, fetch_ticks, next_fetch;
    /* signed its CERT and passed d_cert without a quorum: keeps fetching (never aborts on its own) */
    int cert_wait, just_missing;
    uint64_t wait_period, next_pull;
    /* progress */
    int dealt, responded, justified, finished, want_fetch, persist, replaying;
    size_t n_deals, n_resps; /* messages held, to test "all in" in O(1) */
    uint64_t respond_at, justify_at; /* after a restart: wait for catch-up before speaking */
    int started, adopt_pending;
    uint64_t echo_ticks, all_deals_at; /* an early response waits for echoes (equivocation) */
    uint8_t adopt_hash[32]; /* a certified transcript we still lack bundles for */
    tkms_dkg_state state;
    int has_seed, has_old_share, has_share, aborted_calc;
    uint8_t seed[32];
    fr_t old_share, share;
    dealer_t *dealers;
    recv_t *recvs;
    /* outcome */
    uint32_t *qual;
    size_t n_qual;
    g2_affine_t *poly;
    uint8_t thash[32];
    uint32_t *sig_idx;
    uint8_t (*sigs)[64];
    size_t n_sigs;
    /* output queue */
    outmsg *out;
    size_t out_n, out_head, out_cap;
    uint8_t *fetch_buf, *equiv_buf;
    /* scratch */
    size_t m;        /* max(n_dealers, n_new, t_new, t_old) + 1 */
    g2_t *s_proj;    /* m */
    g2_affine_t *s_aff, *s_aff2, *s_aff3; /* m each */
    fp2_t *s_fp2;    /* m */
    uint64_t (*s_sc)[4]; /* m */
    fr_t *s_fr, *s_fr2;  /* m each */
    uint32_t *s_idx, *s_idx2; /* m each */
    void *s_msm;         /* g2_msm_scratch_size(m) */
    void *s_tbls;        /* tbls_scratch_size(m) */
    tkms_dkg_stats st;
};

/* ------------------------------------------------------------------ encoding helpers */


static size_t al8(size_t x) { return (x + 7) & ~(size_t)7; }
static size_t bm_len(size_t n) { return (n + 7) / 8; }
static int bm_get(const uint8_t *b, size_t i) { return (b[i / 8] >> (i % 8)) & 1; }
static void bm_set(uint8_t *b, size_t i) { b[i / 8] |= (uint8_t)(1u << (i % 8)); }

/* ------------------------------------------------------------------ shared definitions */

void tkms_dkg_session_id(uint8_t out[32], uint64_t epoch, const uint8_t prev_group_id[32],
                         const tkms_dkg_member *members, size_t n, size_t t_new, size_t t_old) {
    sha256_ctx c;
    uint8_t b[8];
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_SESSION, TKMS_TAG_LEN(TKMS_TAG_SESSION));
    proto_be64(b, epoch);
    sha256_update(&c, b, 8);
    sha256_update(&c, prev_group_id, 32);
    proto_be32(b, (uint32_t)n);
    sha256_update(&c, b, 4);
    for (size_t i = 0; i < n; i++) {
        size_t al = strnlen(members[i].address, TKMS_DKG_ADDR_MAX - 1);
        proto_be32(b, (uint32_t)(i + 1));
        sha256_update(&c, b, 4);
        sha256_update(&c, members[i].sign_pk, 32);
        sha256_update(&c, members[i].kem_pk, 32);
        proto_be32(b, (uint32_t)al);
        sha256_update(&c, b, 4);
        sha256_update(&c, members[i].address, al);
    }
    proto_be32(b, (uint32_t)t_new);
    sha256_update(&c, b, 4);
    proto_be32(b, (uint32_t)t_old);
    sha256_update(&c, b, 4);
    sha256_final(&c, out);
}

void tkms_dkg_transcript_hash(uint8_t out[32], const uint8_t session[32], const uint32_t *qual, size_t n_qual,
                              const g2_affine_t *poly, size_t t) {
    sha256_ctx c;
    uint8_t b[96];
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_TRANSCRIPT, TKMS_TAG_LEN(TKMS_TAG_TRANSCRIPT));
    sha256_update(&c, session, 32);
    proto_be32(b, (uint32_t)n_qual);
    sha256_update(&c, b, 4);
    for (size_t i = 0; i < n_qual; i++) {
        proto_be32(b, qual[i]);
        sha256_update(&c, b, 4);
    }
    proto_be32(b, (uint32_t)t);
    sha256_update(&c, b, 4);
    for (size_t k = 0; k < t; k++) {
        g2_serialize(b, &poly[k]);
        sha256_update(&c, b, 96);
    }
    sha256_final(&c, out);
}

void tkms_dkg_cert_message(uint8_t out[TKMS_DKG_CERT_MSG_LEN], const uint8_t session[32], const uint8_t thash[32]) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_GROUP_CERT) };
    memcpy(out, TKMS_TAG_GROUP_CERT, TL);
    memcpy(out + TL, session, 32);
    memcpy(out + TL + 32, thash, 32);
}

/* ------------------------------------------------------------------ sizes and layout */

static size_t deal_max(size_t t, size_t n) { return HDR + 4 + t * PT_LEN + 4 + n * CT_LEN + SIG; }
static size_t resp_max(size_t nd) { return HDR + 4 + nd + 32 + 4 + 2 * nd * EV_LEN + SIG; }
static size_t just_max(size_t n) { return HDR + 4 + n * 36 + SIG; }
static size_t cert_max(size_t nd) { return HDR + 32 + 4 + nd * 4 + 64 + SIG; }
static size_t fetch_len(size_t nd, size_t n) { return HDR + 16 + 2 * bm_len(nd) + 2 * bm_len(n) + SIG; }

static int cfg_ok(const tkms_dkg_config *c) {
    if (!c || !c->new_members || !c->self || !c->rng) return 0;
    if (c->n_new < 1 || c->n_new > TKMS_DKG_MAX_N || c->t_new < 1 || c->t_new > c->n_new) return 0;
    if (c->n_old) {
        if (c->n_old > TKMS_DKG_MAX_N || c->t_old < 1 || c->t_old > c->n_old || !c->old_members || !c->old_poly)
            return 0;
    }
    return 1;
}

static size_t peers_upper(const tkms_dkg_config *c) { return c->n_new + c->n_old; }

size_t tkms_dkg_mem_size(const tkms_dkg_config *c) {
    if (!cfg_ok(c)) return 0;
    size_t nd = c->n_old ? c->n_old : c->n_new, n = c->n_new, t = c->t_new;
    size_t m = nd;
    if (n > m) m = n;
    if (t > m) m = t;
    if (c->t_old > m) m = c->t_old;
    m += 1;
    size_t np = peers_upper(c);
    size_t s = al8(sizeof(struct tkms_dkg));
    s += al8(n * sizeof(tkms_dkg_member)) + al8(c->n_old * sizeof(tkms_dkg_member)) +
         al8((c->t_old + 1) * sizeof(g2_affine_t));
    s += al8(np * sizeof(uint8_t *)) + al8((nd + 1) * sizeof(int32_t));
    s += al8(nd * sizeof(dealer_t)) + al8(n * sizeof(recv_t));
    s += al8(nd * 4) + al8(t * sizeof(g2_affine_t)) + al8(n * 4) + al8(n * 64);
    size_t oc = 2 * (nd + n) + np + 32;
    s += al8(oc * sizeof(outmsg)) + al8(fetch_len(nd, n)) + al8(deal_max(t, n));
    s += 3 * al8(m * sizeof(g2_affine_t)) + al8(m * sizeof(g2_t)) + al8(m * sizeof(fp2_t)) + al8(m * 32) +
         2 * al8(m * sizeof(fr_t)) + 2 * al8(m * 4) + al8(g2_msm_scratch_size(m)) + al8(tbls_scratch_size(m));
    /* every held message, plus the sender's own copy of its four */
    s += (nd + 1) * (al8(deal_max(t, n)) + al8(just_max(n))) + (n + 1) * (al8(resp_max(nd)) + al8(cert_max(nd)));
    return s + 64;
}

static void *take(tkms_dkg *e, size_t n) {
    n = al8(n);
    if (e->arena_used + n > e->arena_cap) return NULL;
    void *p = e->arena + e->arena_used;
    e->arena_used += n;
    return p;
}

/* ------------------------------------------------------------------ points */

/* Uncompressed ZCash G2 encoding; checks range, flags and the curve equation and rejects the
 * identity. Subgroup membership is checked on the aggregate (docs/dkg.md, "subgroup checks"). */
static int parse_pt(g2_affine_t *r, const uint8_t in[PT_LEN]) {
    if (in[0] & 0xe0) return 0;
    if (!fp2_from_bytes(&r->x, in) || !fp2_from_bytes(&r->y, in + 96)) return 0;
    if (g2_affine_is_identity(r) || !g2_affine_is_on_curve(r)) return 0;
    return 1;
}

static void mul_small(g2_t *r, const g2_t *p, uint32_t k) {
    if (k == 0) {
        g2_identity(r);
        return;
    }
    g2_t acc = *p;
    int top = 31 - __builtin_clz(k);
    for (int b = top - 1; b >= 0; b--) {
        g2_dbl(&acc, &acc);
        if ((k >> b) & 1) g2_add(&acc, &acc, p);
    }
    *r = acc;
}

/* sum_k x^k C_k by Horner with a small public x (variable time, public data). */
static void eval_commit(g2_t *out, const g2_affine_t *C, size_t t, uint32_t x) {
    g2_t acc;
    g2_from_affine(&acc, &C[t - 1]);
    for (size_t k = t - 1; k-- > 0;) {
        mul_small(&acc, &acc, x);
        g2_add_affine(&acc, &acc, &C[k]);
    }
    *out = acc;
}

static void gen_mul(g2_t *r, const fr_t *s) {
    g2_t g;
    uint64_t k[4];
    g2_from_affine(&g, &G2_GENERATOR);
    fr_to_scalar(k, s);
    g2_mul(r, &g, k);
    tkms_wipe(k, sizeof k);
}

/* ------------------------------------------------------------------ messages */

static const uint8_t *body_of(const smsg *m) { return m->p + HDR; }
static size_t body_len(const smsg *m) { return m->len - HDR - SIG; }

static void sign_input(uint8_t out[SIG_DST_LEN + HDR + 32], const uint8_t *hdr, const uint8_t digest[32]) {
    memcpy(out, TKMS_TAG_DKG_SIG, SIG_DST_LEN);
    memcpy(out + SIG_DST_LEN, hdr, HDR);
    memcpy(out + SIG_DST_LEN + HDR, digest, 32);
}

static void write_hdr(uint8_t *o, const uint8_t session[32], uint8_t type, uint32_t sender, uint32_t blen) {
    memcpy(o, "TKDG", 4);
    o[4] = VERSION;
    o[5] = type;
    memcpy(o + 6, session, 32);
    proto_be32(o + 38, sender);
    proto_be32(o + 42, blen);
}

/* Signs buf = header || body (len bytes) in place: appends the signature. */
static int sign_msg(tkms_dkg *e, uint8_t *buf, size_t body_n, uint8_t digest[32]) {
    uint8_t si[SIG_DST_LEN + HDR + 32];
    sha256(digest, buf + HDR, body_n);
    sign_input(si, buf, digest);
    return tkms_ed25519_sign(buf + HDR + body_n, e->self.sign_sk, si, sizeof si);
}

static void queue(tkms_dkg *e, int32_t dest, const uint8_t *p, size_t len) {
    if (e->replaying) return;
    if (e->out_n >= e->out_cap) {
        e->st.rx_bad++; /* cannot happen with a drained queue; counted, never silent */
        return;
    }
    e->out[e->out_n].dest = dest;
    e->out[e->out_n].p = p;
    e->out[e->out_n].len = (uint32_t)len;
    e->out_n++;
    e->st.tx++;
}

static int store(tkms_dkg *e, smsg *slot, const uint8_t *msg, size_t len, const uint8_t digest[32]) {
    uint8_t *p = take(e, len);
    if (!p) return 0;
    memcpy(p, msg, len);
    slot->p = p;
    slot->len = (uint32_t)len;
    memcpy(slot->digest, digest, 32);
    return 1;
}

static const tkms_dkg_member *dealer_member(const tkms_dkg *e, uint32_t i) { return &e->oldm[i - 1]; }

/* ------------------------------------------------------------------ init */

static int setup(tkms_dkg *e, void *mem, size_t mem_len, const tkms_dkg_config *c) {
    size_t need = tkms_dkg_mem_size(c);
    if (!need || mem_len < need || ((uintptr_t)mem & 7)) return 0;
    memset(mem, 0, al8(sizeof(struct tkms_dkg)));
    e->arena = mem;
    e->arena_cap = mem_len;
    e->arena_used = al8(sizeof(struct tkms_dkg));
    e->epoch = c->epoch;
    e->n_new = c->n_new;
    e->t_new = c->t_new;
    e->reshare = c->n_old > 0;
    e->n_old = e->reshare ? c->n_old : c->n_new;
    e->t_old = e->reshare ? c->t_old : 0;
    e->n_dealers = e->n_old;
    e->dev_mode = c->dev_mode;
    e->fault = c->fault;
    e->rng = c->rng;
    e->rng_ctx = c->rng_ctx;
    e->self = *c->self;
    size_t nd = e->n_dealers, n = e->n_new, t = e->t_new;
    e->newm = take(e, n * sizeof(tkms_dkg_member));
    memcpy(e->newm, c->new_members, n * sizeof(tkms_dkg_member));
    for (size_t i = 0; i < n; i++) e->newm[i].address[TKMS_DKG_ADDR_MAX - 1] = 0;
    if (e->reshare) {
        e->oldm = take(e, c->n_old * sizeof(tkms_dkg_member));
        memcpy(e->oldm, c->old_members, c->n_old * sizeof(tkms_dkg_member));
        e->old_poly = take(e, (c->t_old + 1) * sizeof(g2_affine_t));
        memcpy(e->old_poly, c->old_poly, c->t_old * sizeof(g2_affine_t));
        memcpy(e->prev_id, c->prev_group_id, 32);
    } else {
        e->oldm = e->newm;
        sha256(e->prev_id, "", 0);
    }
    for (size_t i = 0; i < n; i++)
        if (memcmp(e->newm[i].sign_pk, e->self.sign_pk, 32) == 0) e->my_new = (uint32_t)(i + 1);
    for (size_t i = 0; i < nd; i++)
        if (memcmp(e->oldm[i].sign_pk, e->self.sign_pk, 32) == 0) e->my_old = (uint32_t)(i + 1);
    if (!e->my_new && !e->my_old) return 0;
    /* An old member without its old share (it missed a reshare, lost its store, or was restored
     * from an old backup) takes part as a receiver only: it deals nothing, the other dealers'
     * deals give it a share of the new epoch. This is the repair reshare (docs/dkg.md). An old
     * member that is not a new member has nothing to do without a share. */
    if (e->reshare && e->my_old && !c->old_share && !e->my_new) return 0;
    /* participants */
    size_t np = peers_upper(c);
    e->peer_key = take(e, np * sizeof(uint8_t *));
    e->old_slot = take(e, (nd + 1) * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) e->peer_key[i] = e->newm[i].sign_pk;
    e->n_peers = n;
    if (e->reshare) {
        for (size_t i = 0; i < c->n_old; i++) {
            int32_t slot = -1;
            for (size_t j = 0; j < n; j++)
                if (memcmp(e->oldm[i].sign_pk, e->newm[j].sign_pk, 32) == 0) slot = (int32_t)j;
            if (slot < 0) {
                slot = (int32_t)e->n_peers;
                e->peer_key[e->n_peers++] = e->oldm[i].sign_pk;
            }
            e->old_slot[i] = slot;
        }
    } else {
        for (size_t i = 0; i < n; i++) e->old_slot[i] = (int32_t)i;
    }
    e->self_slot = e->my_new ? e->my_new - 1 : (size_t)e->old_slot[e->my_old - 1];
    e->dealers = take(e, nd * sizeof(dealer_t));
    e->recvs = take(e, n * sizeof(recv_t));
    memset(e->dealers, 0, nd * sizeof(dealer_t));
    memset(e->recvs, 0, n * sizeof(recv_t));
    e->qual = take(e, nd * 4);
    e->poly = take(e, t * sizeof(g2_affine_t));
    e->sig_idx = take(e, n * 4);
    e->sigs = take(e, n * 64);
    e->out_cap = 2 * (nd + n) + np + 32;
    e->out = take(e, e->out_cap * sizeof(outmsg));
    e->fetch_buf = take(e, fetch_len(nd, n));
    e->equiv_buf = take(e, deal_max(t, n));
    size_t m = nd;
    if (n > m) m = n;
    if (t > m) m = t;
    if (e->t_old > m) m = e->t_old;
    m += 1;
    e->m = m;
    e->s_aff = take(e, m * sizeof(g2_affine_t));
    e->s_aff2 = take(e, m * sizeof(g2_affine_t));
    e->s_aff3 = take(e, m * sizeof(g2_affine_t));
    e->s_proj = take(e, m * sizeof(g2_t));
    e->s_fp2 = take(e, m * sizeof(fp2_t));
    e->s_sc = take(e, m * 32);
    e->s_fr = take(e, m * sizeof(fr_t));
    e->s_fr2 = take(e, m * sizeof(fr_t));
    e->s_idx = take(e, m * 4);
    e->s_idx2 = take(e, m * 4);
    e->s_msm = take(e, g2_msm_scratch_size(m));
    e->s_tbls = take(e, tbls_scratch_size(m));
    if (!e->s_tbls) return 0;
    tkms_dkg_session_id(e->session, e->epoch, e->prev_id, e->newm, n, t, e->t_old);
    e->attempt = c->attempt;
    tkms_dkg_wire_tag(e->wire, e->session, c->attempt);
    e->start = c->start_tick;
    e->d_deal = e->start + c->deal_ticks;
    e->d_resp = e->d_deal + c->resp_ticks;
    e->d_just = e->d_resp + c->just_ticks;
    e->d_cert = e->d_just + c->cert_ticks;
    e->fetch_ticks = c->fetch_ticks ? c->fetch_ticks : 1;
    e->echo_ticks = c->echo_ticks ? c->echo_ticks : c->deal_ticks / 2;
    e->state = TKMS_DKG_RUNNING;
    return 1;
}

/* The dealing seed from a driver-given one, bound to the session: a seed reused by mistake for
 * another session does not give the same polynomial there. */
static void seed_from_cfg(tkms_dkg *e, const uint8_t deal_seed[32]) {
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_DKG_DEAL_SEED, TKMS_TAG_LEN(TKMS_TAG_DKG_DEAL_SEED));
    sha256_update(&c, e->wire, 32);
    sha256_update(&c, deal_seed, 32);
    sha256_final(&c, e->seed);
    tkms_wipe(&c, sizeof c);
    e->has_seed = 1;
}

tkms_dkg *tkms_dkg_init(void *mem, size_t mem_len, const tkms_dkg_config *cfg) {
    tkms_dkg *e = mem;
    if (!setup(e, mem, mem_len, cfg)) {
        if (mem && mem_len >= sizeof(struct tkms_dkg)) tkms_wipe(mem, sizeof(struct tkms_dkg));
        return NULL;
    }
    if (e->reshare && e->my_old && cfg->old_share) {
        e->old_share = *cfg->old_share;
        e->has_old_share = 1;
    }
    if (cfg->deal_seed && e->my_old && (!e->reshare || e->has_old_share)) seed_from_cfg(e, cfg->deal_seed);
    return e;
}

void tkms_dkg_abandon(tkms_dkg *e) {
    if (e->state != TKMS_DKG_RUNNING) return;
    e->state = TKMS_DKG_ABORTED;
    e->want_fetch = 0;
    e->persist = 1;
}

void tkms_dkg_wipe(tkms_dkg *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n_dealers; i++) tkms_wipe(&e->dealers[i].share, sizeof(fr_t));
    tkms_wipe(e->s_fr, e->m * sizeof(fr_t));
    tkms_wipe(e->s_fr2, e->m * sizeof(fr_t));
    tkms_wipe(e->s_tbls, tbls_scratch_size(e->m));
    tkms_wipe(&e->self, sizeof e->self);
    tkms_wipe(e->seed, 32);
    tkms_wipe(&e->old_share, sizeof(fr_t));
    tkms_wipe(&e->share, sizeof(fr_t));
    e->has_seed = e->has_old_share = e->has_share = 0;
}

/* ------------------------------------------------------------------ accessors */

size_t tkms_dkg_peer_count(const tkms_dkg *e) { return e->n_peers; }
const uint8_t *tkms_dkg_peer_key(const tkms_dkg *e, size_t slot) { return slot < e->n_peers ? e->peer_key[slot] : NULL; }
size_t tkms_dkg_self_slot(const tkms_dkg *e) { return e->self_slot; }
tkms_dkg_state tkms_dkg_get_state(const tkms_dkg *e) { return e->state; }
const tkms_dkg_stats *tkms_dkg_get_stats(const tkms_dkg *e) { return &e->st; }
const uint8_t *tkms_dkg_session(const tkms_dkg *e) { return e->wire; }

int tkms_dkg_cert_signed(const tkms_dkg *e) { return e->my_new && e->recvs[e->my_new - 1].cert.p != NULL; }

void tkms_dkg_wire_tag(uint8_t out[32], const uint8_t session[32], uint32_t attempt) {
    if (!attempt) {
        memmove(out, session, 32);
        return;
    }
    uint8_t a[4];
    proto_be32(a, attempt);
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_ATTEMPT, TKMS_TAG_LEN(TKMS_TAG_ATTEMPT));
    sha256_update(&c, session, 32);
    sha256_update(&c, a, 4);
    sha256_final(&c, out);
}
int tkms_dkg_needs_persist(const tkms_dkg *e) { return e->persist; }
int tkms_dkg_holds_old_share(const tkms_dkg *e) { return e->has_old_share; }

int tkms_dkg_pop_output(tkms_dkg *e, int32_t *dest, const uint8_t **msg, size_t *len) {
    if (e->out_head >= e->out_n) {
        e->out_head = e->out_n = 0;
        return 0;
    }
    outmsg *o = &e->out[e->out_head++];
    *dest = o->dest;
    *msg = o->p;
    *len = o->len;
    return 1;
}

int tkms_dkg_get_result(const tkms_dkg *e, tkms_dkg_result *r) {
    if (!e->finished && e->state != TKMS_DKG_FINAL) return 0;
    if (e->aborted_calc && e->state != TKMS_DKG_FINAL) return 0;
    memset(r, 0, sizeof *r);
    r->epoch = e->epoch;
    r->n = e->n_new;
    r->t = e->t_new;
    r->t_old = e->t_old;
    memcpy(r->session, e->session, 32);
    memcpy(r->prev_group_id, e->prev_id, 32);
    memcpy(r->transcript_hash, e->thash, 32);
    r->qual = e->qual;
    r->n_qual = e->n_qual;
    r->poly = e->poly;
    r->has_share = e->has_share;
    r->my_index = e->my_new;
    r->n_sigs = e->n_sigs;
    r->sig_index = e->sig_idx;
    r->sigs = (const uint8_t(*)[64])e->sigs;
    r->dev_mode = e->dev_mode;
    return 1;
}

int tkms_dkg_get_share(const tkms_dkg *e, fr_t *share) {
    if (!e->has_share) return 0;
    *share = e->share;
    return 1;
}

/* ------------------------------------------------------------------ dealing */

/* Certificates needed for a group file to be final: t_new, but never fewer than a majority of the
 * new committee. With a lowered threshold (t_new <= n_new/2) two disjoint sets of t_new honest
 * nodes with different views could otherwise each certify a different file for one epoch; any
 * two majorities intersect. For the default t = ceil(2n/3) this is exactly t_new. */
size_t tkms_dkg_cert_quorum(size_t t_new, size_t n_new) { return t_new > n_new / 2 ? t_new : n_new / 2 + 1; }

static size_t deal_body_len(const tkms_dkg *e) { return 4 + e->t_new * PT_LEN + 4 + e->n_new * CT_LEN; }

static void share_aad(uint8_t aad[SHARE_AAD_LEN], const uint8_t session[32], uint32_t dealer, uint32_t recv) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_DKG_SHARE) };
    memcpy(aad, TKMS_TAG_DKG_SHARE, TL);
    memcpy(aad + TL, session, 32);
    proto_be32(aad + TL + 32, dealer);
    proto_be32(aad + TL + 36, recv);
}

/* The polynomial's constant term: a fresh secret (DKG) or the old share (reshare). */
static void deal_secret(tkms_dkg *e, fr_t *secret, const uint8_t seed[32]) {
    if (e->reshare) {
        *secret = e->old_share;
        if (e->fault == TKMS_DKG_FAULT_WRONG_CONSTANT) fr_add(secret, secret, &FR_ONE);
    } else {
        uint8_t prk[32], wide[64];
        hkdf_sha256_extract(prk, (const uint8_t *)TKMS_TAG_DKG_SECRET, TKMS_TAG_LEN(TKMS_TAG_DKG_SECRET), seed, 32);
        (void)hkdf_sha256_expand(wide, 64, prk, (const uint8_t *)"", 0);
        fr_from_bytes_wide(secret, wide, 64);
        tkms_wipe(prk, 32);
        tkms_wipe(wide, 64);
    }
}

static int is_victim(const tkms_dkg *e, uint32_t j) {
    return (e->fault == TKMS_DKG_FAULT_BAD_SHARE || e->fault == TKMS_DKG_FAULT_BAD_JUST) && j % 2 == 0 &&
           j != e->my_new;
}

/* shares[j-1] = f(j) for every receiver (as sent, i.e. with the fault applied), commitments. */
static int eval_poly(tkms_dkg *e, fr_t *shares, g2_affine_t *commits, const uint8_t seed[32]) {
    fr_t secret;
    deal_secret(e, &secret, seed);
    int ok = tbls_deal(shares, commits, &secret, seed, e->t_new, e->n_new, e->s_tbls);
    tkms_wipe(&secret, sizeof secret);
    for (size_t j = 1; ok && j <= e->n_new; j++)
        if (is_victim(e, (uint32_t)j)) fr_add(&shares[j - 1], &shares[j - 1], &FR_ONE);
    return ok;
}

/* The HPKE ephemeral key material for receiver j is derived from the dealing seed, not drawn from
 * the RNG: a deal is then a function of (seed, session, config), and a dealer that deals the same
 * session again from the same seed (a restart, a retry) re-sends byte-identical bytes, which
 * receivers take for a duplicate instead of an equivocation (docs/dkg.md, "Retries"). */
static void hpke_ikm(uint8_t ikm[32], const uint8_t session[32], const uint8_t seed[32], uint32_t j) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_DKG_HPKE_IKM) };
    uint8_t prk[32], info[TL + 32 + 4];
    hkdf_sha256_extract(prk, (const uint8_t *)TKMS_TAG_DKG_HPKE_IKM, TL, seed, 32);
    memcpy(info, TKMS_TAG_DKG_HPKE_IKM, TL);
    memcpy(info + TL, session, 32);
    proto_be32(info + TL + 32, j);
    (void)hkdf_sha256_expand(ikm, 32, prk, info, sizeof info);
    tkms_wipe(prk, 32);
}

static int build_deal(tkms_dkg *e, uint8_t *buf, const uint8_t seed[32], uint8_t digest[32]) {
    fr_t *shares = e->s_fr;
    g2_affine_t *C = e->s_aff;
    if (!eval_poly(e, shares, C, seed)) return 0;
    size_t blen = deal_body_len(e);
    write_hdr(buf, e->wire, TKMS_DKG_MSG_DEAL, e->my_old, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    proto_be32(b, (uint32_t)e->t_new);
    b += 4;
    for (size_t k = 0; k < e->t_new; k++, b += PT_LEN) g2_serialize_uncompressed(b, &C[k]);
    proto_be32(b, (uint32_t)e->n_new);
    b += 4;
    int ok = 1;
    for (size_t j = 1; j <= e->n_new && ok; j++, b += CT_LEN) {
        uint8_t pt[32], aad[SHARE_AAD_LEN], ikm[32];
        fr_to_bytes(pt, &shares[j - 1]);
        share_aad(aad, e->wire, e->my_old, (uint32_t)j);
        hpke_ikm(ikm, e->wire, seed, (uint32_t)j);
        ok = tkms_hpke_seal(b, e->newm[j - 1].kem_pk, (const uint8_t *)TKMS_INFO_DKG_SHARE, TKMS_TAG_LEN(TKMS_INFO_DKG_SHARE), aad, SHARE_AAD_LEN, pt,
                            32, ikm);
        tkms_wipe(pt, 32);
        tkms_wipe(ikm, 32);
    }
    tkms_wipe(shares, e->n_new * sizeof(fr_t));
    return ok && sign_msg(e, buf, blen, digest);
}

static int handle_msg(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len, int from_self);

static void do_deal(tkms_dkg *e, uint64_t now) {
    e->dealt = 1;
    /* a seed restored from a checkpoint or given by the driver (a retry) is reused: same deal */
    if (!e->has_seed) e->rng(e->rng_ctx, e->seed, 32);
    e->has_seed = 1;
    size_t len = HDR + deal_body_len(e) + SIG;
    uint8_t digest[32];
    uint8_t *buf = take(e, len);
    if (!buf || !build_deal(e, buf, e->seed, digest)) return;
    e->persist = 1;
    if (e->fault == TKMS_DKG_FAULT_EQUIVOCATE) {
        uint8_t seed2[32], d2[32];
        sha256(seed2, e->seed, 32);
        if (!build_deal(e, e->equiv_buf, seed2, d2)) return;
        tkms_wipe(seed2, 32);
        (void)handle_msg(e, now, buf, len, 1);
        for (size_t s = 0; s < e->n_peers; s++)
            if (s != e->self_slot) queue(e, (int32_t)s, s % 2 ? e->equiv_buf : buf, len);
        return;
    }
    (void)handle_msg(e, now, buf, len, 1);
    queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* ------------------------------------------------------------------ share verification */

static int deal_commits(const tkms_dkg *e, uint32_t i, g2_affine_t *C) {
    const uint8_t *b = body_of(&e->dealers[i - 1].deal) + 4;
    for (size_t k = 0; k < e->t_new; k++)
        if (!parse_pt(&C[k], b + k * PT_LEN)) return 0;
    return 1;
}

/* Verifies the decrypted (state 1) shares of the listed dealers with one random linear
 * combination: (sum rho_i s_i) G2 == sum rho_i PK_ij, PK_ij by Horner, the right side one MSM.
 * Falls back to one check per dealer only when the batch fails. */
static void verify_shares(tkms_dkg *e) {
    size_t k = 0;
    uint32_t *idx = e->s_idx;
    g2_affine_t *C = e->s_aff2;
    for (uint32_t i = 1; i <= e->n_dealers; i++) {
        dealer_t *d = &e->dealers[i - 1];
        if (d->share_st != 1) continue;
        if (!deal_commits(e, i, C)) {
            d->share_st = 3;
            continue;
        }
        eval_commit(&e->s_proj[k], C, e->t_new, e->my_new);
        idx[k++] = i;
    }
    if (!k) return;
    e->st.batch_checks++;
    g2_batch_to_affine(e->s_aff, e->s_proj, k, e->s_fp2);
    fr_t acc = FR_ZERO, rho, tmp;
    for (size_t a = 0; a < k; a++) {
        uint8_t r16[16];
        e->rng(e->rng_ctx, r16, 16);
        fr_from_bytes_wide(&rho, r16, 16);
        fr_to_scalar(e->s_sc[a], &rho);
        fr_mul(&tmp, &rho, &e->dealers[idx[a] - 1].share);
        fr_add(&acc, &acc, &tmp);
    }
    g2_t lhs, rhs;
    gen_mul(&lhs, &acc);
    tkms_wipe(&acc, sizeof acc);
    tkms_wipe(&tmp, sizeof tmp);
    g2_msm_vartime(&rhs, e->s_aff, (const uint64_t(*)[4])e->s_sc, k, e->s_msm);
    if (g2_eq(&lhs, &rhs)) {
        for (size_t a = 0; a < k; a++) e->dealers[idx[a] - 1].share_st = 2;
        return;
    }
    e->st.batch_fallbacks++;
    for (size_t a = 0; a < k; a++) {
        dealer_t *d = &e->dealers[idx[a] - 1];
        g2_t l, pk;
        gen_mul(&l, &d->share);
        g2_from_affine(&pk, &e->s_aff[a]);
        d->share_st = g2_eq(&l, &pk) ? 2 : 3;
    }
}

/* ------------------------------------------------------------------ responses, justifications */

static void dealset_digest(const tkms_dkg *e, uint8_t out[32]) {
    sha256_ctx c;
    sha256_init(&c);
    for (size_t i = 0; i < e->n_dealers; i++) {
        const dealer_t *d = &e->dealers[i];
        uint8_t have = d->deal.p != NULL;
        sha256_update(&c, &have, 1);
        if (have) sha256_update(&c, d->deal.digest, 32);
    }
    sha256_final(&c, out);
}

static void do_respond(tkms_dkg *e, uint64_t now) {
    e->responded = 1;
    verify_shares(e);
    size_t nd = e->n_dealers, nev = 0;
    for (size_t i = 0; i < nd; i++) nev += e->dealers[i].equiv ? 2 : 0;
    size_t blen = 4 + nd + 32 + 4 + nev * EV_LEN, len = HDR + blen + SIG;
    uint8_t *buf = take(e, len), digest[32];
    if (!buf) return;
    write_hdr(buf, e->wire, TKMS_DKG_MSG_RESPONSE, e->my_new, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    proto_be32(b, (uint32_t)nd);
    b += 4;
    for (size_t i = 0; i < nd; i++) {
        const dealer_t *d = &e->dealers[i];
        b[i] = d->equiv ? 2 : (d->deal.p && !d->deal_bad && d->share_st == 2) ? 0 : 1;
    }
    b += nd;
    dealset_digest(e, b);
    b += 32;
    proto_be32(b, (uint32_t)nev);
    b += 4;
    for (size_t i = 0; i < nd; i++)
        if (e->dealers[i].equiv) {
            memcpy(b, e->dealers[i].ev[0], EV_LEN);
            memcpy(b + EV_LEN, e->dealers[i].ev[1], EV_LEN);
            b += 2 * EV_LEN;
        }
    if (!sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)handle_msg(e, now, buf, len, 1);
    queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* Complaint bitmap for dealer i from the responses held (equivocating responders ignored). */
static size_t complaints(const tkms_dkg *e, uint32_t i, uint8_t *who) {
    size_t c = 0;
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->resp.p || r->resp_equiv || r->resp_late) continue;
        if (body_of(&r->resp)[4 + i - 1] != 0) {
            if (who) who[j] = 1;
            c++;
        }
    }
    return c;
}

static void do_justify(tkms_dkg *e, uint64_t now) {
    e->justified = 1;
    if (!e->has_seed || !e->dealers[e->my_old - 1].deal.p) return;
    uint8_t *who = (uint8_t *)e->s_idx; /* n_new <= m bytes */
    memset(who, 0, e->n_new);
    size_t c = complaints(e, e->my_old, who);
    /* t_new or more revealed shares would reveal the polynomial: such a dealer is out anyway */
    if (c == 0 || c >= e->t_new) return;
    fr_t *shares = e->s_fr;
    if (!eval_poly(e, shares, e->s_aff, e->seed)) return;
    size_t blen = 4 + c * 36, len = HDR + blen + SIG;
    uint8_t *buf = take(e, len), digest[32];
    if (!buf) return;
    write_hdr(buf, e->wire, TKMS_DKG_MSG_JUSTIFICATION, e->my_old, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    proto_be32(b, (uint32_t)c);
    b += 4;
    for (size_t j = 0; j < e->n_new; j++) {
        if (!who[j]) continue;
        fr_t s = shares[j];
        /* a bad-share dealer reveals the correct share; a bad-justification one the wrong one */
        if (e->fault == TKMS_DKG_FAULT_BAD_SHARE && is_victim(e, (uint32_t)(j + 1))) fr_sub(&s, &s, &FR_ONE);
        proto_be32(b, (uint32_t)(j + 1));
        fr_to_bytes(b + 4, &s);
        tkms_wipe(&s, sizeof s);
        b += 36;
    }
    tkms_wipe(shares, e->n_new * sizeof(fr_t));
    if (!sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)handle_msg(e, now, buf, len, 1);
    queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* The share dealer i revealed for receiver j, verified against i's commitments. */
static int justified_share(tkms_dkg *e, uint32_t i, uint32_t j, fr_t *out) {
    const dealer_t *d = &e->dealers[i - 1];
    if (!d->just.p || !d->deal.p) return 0;
    const uint8_t *b = body_of(&d->just);
    uint32_t c = proto_rd_be32(b);
    for (uint32_t a = 0; a < c; a++) {
        const uint8_t *ent = b + 4 + a * 36;
        if (proto_rd_be32(ent) != j) continue;
        fr_t s;
        if (!fr_from_bytes(&s, ent + 4)) return 0;
        g2_affine_t *C = e->s_aff2;
        if (!deal_commits(e, i, C)) return 0;
        g2_t pk, l;
        eval_commit(&pk, C, e->t_new, j);
        gen_mul(&l, &s);
        if (!g2_eq(&l, &pk)) return 0;
        *out = s;
        tkms_wipe(&s, sizeof s);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ outcome */

static int have_all_deals(const tkms_dkg *e) { return e->n_deals == e->n_dealers; }

/* Reshare: C'_i0 == PK_i for the listed dealers; batched (sum rho_i C'_i0 == sum_k (sum_i rho_i
 * i^k) A_k), per dealer only when the batch fails. Results cached in const_st. */
static void check_constants(tkms_dkg *e, const uint32_t *cand, size_t nc) {
    size_t k = 0;
    uint32_t *idx = e->s_idx;
    for (size_t a = 0; a < nc; a++)
        if (e->dealers[cand[a] - 1].const_st == 0) idx[k++] = cand[a];
    if (!k) return;
    fr_t *coef = e->s_fr2; /* t_old coefficients */
    for (size_t c = 0; c < e->t_old; c++) coef[c] = FR_ZERO;
    for (size_t a = 0; a < k; a++) {
        uint8_t r16[16];
        fr_t rho, x, pw;
        e->rng(e->rng_ctx, r16, 16);
        fr_from_bytes_wide(&rho, r16, 16);
        if (!parse_pt(&e->s_aff[a], body_of(&e->dealers[idx[a] - 1].deal) + 4)) e->s_aff[a] = e->old_poly[0];
        fr_to_scalar(e->s_sc[a], &rho);
        fr_from_u64(&x, idx[a]);
        pw = rho;
        for (size_t c = 0; c < e->t_old; c++) {
            fr_add(&coef[c], &coef[c], &pw);
            fr_mul(&pw, &pw, &x);
        }
    }
    g2_t lhs, rhs;
    g2_msm_vartime(&lhs, e->s_aff, (const uint64_t(*)[4])e->s_sc, k, e->s_msm);
    for (size_t c = 0; c < e->t_old; c++) fr_to_scalar(e->s_sc[c], &coef[c]);
    g2_msm_vartime(&rhs, e->old_poly, (const uint64_t(*)[4])e->s_sc, e->t_old, e->s_msm);
    if (g2_eq(&lhs, &rhs)) {
        for (size_t a = 0; a < k; a++) e->dealers[idx[a] - 1].const_st = 1;
        return;
    }
    for (size_t a = 0; a < k; a++) {
        g2_t pk, c0;
        eval_commit(&pk, e->old_poly, e->t_old, idx[a]);
        g2_from_affine(&c0, &e->s_aff[a]);
        e->dealers[idx[a] - 1].const_st = g2_eq(&pk, &c0) ? 1 : 2;
    }
}

/* Full subgroup check of one dealer's commitments (only when an aggregate fails). */
static int dealer_points_in_g2(tkms_dkg *e, uint32_t i) {
    g2_affine_t *C = e->s_aff2;
    if (!deal_commits(e, i, C)) return 0;
    for (size_t k = 0; k < e->t_new; k++) {
        g2_t p;
        g2_from_affine(&p, &C[k]);
        if (!g2_in_subgroup_vartime(&p)) return 0;
    }
    return 1;
}

/* Computes poly, share and transcript hash for QUAL = qual[0..nq). Returns 1 on success, 0 if the
 * aggregate left G2 (culprits are then marked deal_bad), -1 on a reshare constant mismatch or
 * missing deals. */
static int compute_with(tkms_dkg *e, const uint32_t *qual, size_t nq, g2_affine_t *poly, uint8_t thash[32],
                        fr_t *share, int *has_share) {
    fr_t *w = e->s_fr2;
    for (size_t a = 0; a < nq; a++)
        if (!e->dealers[qual[a] - 1].deal.p) return -1;
    if (e->reshare) {
        if (!tbls_lagrange_at_zero(w, qual, nq, e->s_tbls)) return -1;
        for (size_t a = 0; a < nq; a++) fr_to_scalar(e->s_sc[a], &w[a]);
    }
    int bad = 0;
    for (size_t k = 0; k < e->t_new; k++) {
        g2_t acc;
        if (e->reshare) {
            for (size_t a = 0; a < nq; a++)
                if (!parse_pt(&e->s_aff[a], body_of(&e->dealers[qual[a] - 1].deal) + 4 + k * PT_LEN)) return -1;
            g2_msm_vartime(&acc, e->s_aff, (const uint64_t(*)[4])e->s_sc, nq, e->s_msm);
        } else {
            g2_identity(&acc);
            for (size_t a = 0; a < nq; a++) {
                g2_affine_t p;
                if (!parse_pt(&p, body_of(&e->dealers[qual[a] - 1].deal) + 4 + k * PT_LEN)) return -1;
                g2_add_affine(&acc, &acc, &p);
            }
        }
        if (!g2_in_subgroup_vartime(&acc)) bad = 1;
        e->s_proj[k] = acc;
    }
    if (bad) {
        for (size_t a = 0; a < nq; a++)
            if (!dealer_points_in_g2(e, qual[a])) e->dealers[qual[a] - 1].deal_bad = 1;
        return 0;
    }
    g2_batch_to_affine(poly, e->s_proj, e->t_new, e->s_fp2);
    if (e->reshare) {
        g2_t mpk;
        g2_from_affine(&mpk, &e->old_poly[0]);
        if (!g2_eq(&e->s_proj[0], &mpk)) return -1; /* constant term must stay the MPK */
    }
    tkms_dkg_transcript_hash(thash, e->session, qual, nq, poly, e->t_new);
    *has_share = 0;
    if (e->my_new) {
        fr_t s = FR_ZERO, term;
        int ok = 1;
        for (size_t a = 0; a < nq && ok; a++) {
            dealer_t *d = &e->dealers[qual[a] - 1];
            if (d->share_st == 1) verify_shares(e);
            if (d->share_st == 2)
                term = d->share;
            else if (!justified_share(e, qual[a], e->my_new, &term))
                ok = 0;
            if (!ok) break;
            if (e->reshare) fr_mul(&term, &term, &w[a]);
            fr_add(&s, &s, &term);
        }
        tkms_wipe(&term, sizeof term);
        if (ok) {
            g2_t l, pk;
            gen_mul(&l, &s);
            eval_commit(&pk, poly, e->t_new, e->my_new);
            ok = (int)g2_eq(&l, &pk);
        }
        if (ok) {
            *share = s;
            *has_share = 1;
        }
        tkms_wipe(&s, sizeof s);
    }
    return 1;
}

static void send_cert(tkms_dkg *e, uint64_t now);
static void check_quorum(tkms_dkg *e, uint64_t now, const uint8_t hash[32]);

/* Step 4 of DESIGN.md §3: QUAL from the transcript held, then poly, share, hash, certification. */
static void do_finish(tkms_dkg *e, uint64_t now) {
    e->finished = 1;
    e->persist = 1;
    size_t nd = e->n_dealers;
    uint32_t *cand = e->qual;
    if (e->my_new && !e->responded) verify_shares(e);
    for (int round = 0; round < 3; round++) {
        size_t nc = 0;
        for (uint32_t i = 1; i <= nd; i++) {
            dealer_t *d = &e->dealers[i - 1];
            if (!d->deal.p || d->deal_bad || d->equiv_rep) continue;
            uint8_t *who = (uint8_t *)e->s_idx; /* justified_share does not touch s_idx */
            memset(who, 0, e->n_new);
            size_t c = complaints(e, i, who);
            if (c >= e->t_new) continue;
            int ok = 1;
            fr_t tmp = FR_ZERO;
            for (size_t j = 0; j < e->n_new && ok; j++)
                if (who[j]) ok = justified_share(e, i, (uint32_t)(j + 1), &tmp);
            tkms_wipe(&tmp, sizeof tmp);
            if (ok) cand[nc++] = i;
        }
        if (e->reshare) {
            check_constants(e, cand, nc);
            size_t k = 0;
            for (size_t a = 0; a < nc && k < e->t_old; a++)
                if (e->dealers[cand[a] - 1].const_st == 1) cand[k++] = cand[a];
            nc = k;
        }
        size_t need = e->reshare ? e->t_old : e->t_new;
        if (nc < need) {
            e->aborted_calc = 1;
            e->n_qual = 0;
            return;
        }
        fr_t s;
        int hs = 0;
        int r = compute_with(e, cand, nc, e->poly, e->thash, &s, &hs);
        if (r == 0) continue; /* culprits marked; select again */
        if (r < 0) {
            e->aborted_calc = 1;
            e->n_qual = 0;
            return;
        }
        e->n_qual = nc;
        e->has_share = hs;
        if (hs) e->share = s;
        tkms_wipe(&s, sizeof s);
        if (e->my_new) send_cert(e, now);
        check_quorum(e, now, e->thash);
        return;
    }
    e->aborted_calc = 1;
}

/* ------------------------------------------------------------------ certification */

static void send_cert(tkms_dkg *e, uint64_t now) {
    if (e->recvs[e->my_new - 1].cert.p) return;
    size_t blen = 32 + 4 + e->n_qual * 4 + 64, len = HDR + blen + SIG;
    uint8_t *buf = take(e, len), digest[32], cm[TKMS_DKG_CERT_MSG_LEN];
    if (!buf) return;
    write_hdr(buf, e->wire, TKMS_DKG_MSG_CERT, e->my_new, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    memcpy(b, e->thash, 32);
    proto_be32(b + 32, (uint32_t)e->n_qual);
    for (size_t a = 0; a < e->n_qual; a++) proto_be32(b + 36 + 4 * a, e->qual[a]);
    tkms_dkg_cert_message(cm, e->session, e->thash);
    if (!tkms_ed25519_sign(b + 36 + 4 * e->n_qual, e->self.sign_sk, cm, sizeof cm)) return;
    if (!sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)handle_msg(e, now, buf, len, 1);
    queue(e, TKMS_DKG_BROADCAST, buf, len);
}

static void erase_old(tkms_dkg *e) {
    tkms_wipe(&e->old_share, sizeof(fr_t));
    tkms_wipe(e->seed, 32);
    e->has_old_share = 0;
    e->has_seed = 0;
}

void tkms_dkg_erase_old_share(tkms_dkg *e) {
    if (!e->has_old_share) return;
    tkms_wipe(&e->old_share, sizeof(fr_t));
    e->has_old_share = 0;
    e->persist = 1;
}

static void collect_sigs(tkms_dkg *e) {
    e->n_sigs = 0;
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->cert.p || r->cert_equiv || memcmp(body_of(&r->cert), e->thash, 32) != 0) continue;
        const uint8_t *b = body_of(&r->cert);
        e->sig_idx[e->n_sigs] = (uint32_t)(j + 1);
        memcpy(e->sigs[e->n_sigs], b + 36 + 4 * proto_rd_be32(b + 32), 64);
        e->n_sigs++;
    }
}

static void go_final(tkms_dkg *e) {
    e->state = TKMS_DKG_FINAL;
    e->want_fetch = 0;
    e->persist = 1;
    collect_sigs(e);
    /* the new group is certified: the dealing secret is erased, and so is the old share unless
     * this node is a new member that could not obtain its new share (then the driver decides:
     * tkms_dkg_erase_old_share). A member leaving the committee erases it now. */
    if (e->has_share || !e->my_new) {
        erase_old(e);
    } else {
        tkms_wipe(e->seed, 32);
        e->has_seed = 0;
    }
}

/* Adopts the certified QUAL of the cert held from responder j: recompute from the bundles. */
static void try_adopt(tkms_dkg *e, const smsg *cert, const uint8_t hash[32]) {
    const uint8_t *b = body_of(cert);
    uint32_t nq = proto_rd_be32(b + 32);
    if (nq > e->n_dealers) return;
    uint32_t *qbuf = e->s_idx2; /* compute_with never touches s_idx2 or s_aff3 */
    for (uint32_t a = 0; a < nq; a++) qbuf[a] = proto_rd_be32(b + 36 + 4 * a);
    for (uint32_t a = 0; a < nq; a++)
        if (qbuf[a] < 1 || qbuf[a] > e->n_dealers || !e->dealers[qbuf[a] - 1].deal.p) {
            e->want_fetch = 1;
            e->adopt_pending = 1;
            memcpy(e->adopt_hash, hash, 32);
            return;
        }
    e->adopt_pending = 0;
    g2_affine_t *pbuf = e->s_aff3;
    uint8_t th[32];
    fr_t s;
    int hs = 0;
    if (compute_with(e, qbuf, nq, pbuf, th, &s, &hs) != 1 || memcmp(th, hash, 32) != 0) {
        tkms_wipe(&s, sizeof s);
        return;
    }
    memcpy(e->qual, qbuf, nq * 4);
    e->n_qual = nq;
    memcpy(e->poly, pbuf, e->t_new * sizeof(g2_affine_t));
    memcpy(e->thash, th, 32);
    e->has_share = hs;
    if (hs) e->share = s;
    tkms_wipe(&s, sizeof s);
    e->finished = 1;
    e->aborted_calc = 0;
    e->st.adopted++;
    go_final(e);
}

static void check_quorum(tkms_dkg *e, uint64_t now, const uint8_t hash[32]) {
    (void)now;
    if (e->state == TKMS_DKG_ABORTED || e->replaying) return;
    if (e->state == TKMS_DKG_FINAL) {
        if (memcmp(hash, e->thash, 32) == 0) collect_sigs(e);
        return;
    }
    size_t c = 0;
    const smsg *any = NULL;
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->cert.p || r->cert_equiv || memcmp(body_of(&r->cert), hash, 32) != 0) continue;
        c++;
        any = &r->cert;
    }
    if (c < tkms_dkg_cert_quorum(e->t_new, e->n_new)) return;
    if (e->finished && !e->aborted_calc && memcmp(hash, e->thash, 32) == 0) {
        go_final(e);
        return;
    }
    try_adopt(e, any, hash);
}

/* ------------------------------------------------------------------ receive */

static int parse_deal_body(tkms_dkg *e, const uint8_t *b, size_t blen) {
    if (blen != deal_body_len(e) || proto_rd_be32(b) != e->t_new || proto_rd_be32(b + 4 + e->t_new * PT_LEN) != e->n_new) return 0;
    g2_affine_t p;
    for (size_t k = 0; k < e->t_new; k++)
        if (!parse_pt(&p, b + 4 + k * PT_LEN)) return 0;
    return 1;
}

/* Records a validly signed deal digest for dealer i; two different ones prove equivocation. */
static void note_deal_digest(tkms_dkg *e, uint32_t i, const uint8_t ev[EV_LEN]) {
    dealer_t *d = &e->dealers[i - 1];
    if (!d->have_known) {
        memcpy(d->known, ev + 8, 32);
        memcpy(d->ev[0], ev, EV_LEN);
        d->have_known = 1;
    } else if (!d->equiv && memcmp(d->known, ev + 8, 32) != 0) {
        memcpy(d->ev[1], ev, EV_LEN);
        d->equiv = 1;
    }
}

static int verify_evidence(const tkms_dkg *e, const uint8_t ev[EV_LEN]) {
    uint32_t i = proto_rd_be32(ev);
    if (i < 1 || i > e->n_dealers) return 0;
    uint8_t hdr[HDR], si[SIG_DST_LEN + HDR + 32];
    write_hdr(hdr, e->wire, TKMS_DKG_MSG_DEAL, i, proto_rd_be32(ev + 4));
    sign_input(si, hdr, ev + 8);
    return tkms_ed25519_verify(ev + 40, dealer_member(e, i)->sign_pk, si, sizeof si);
}

static void on_deal(tkms_dkg *e, uint32_t i, const smsg *m) {
    dealer_t *d = &e->dealers[i - 1];
    const uint8_t *b = body_of(m);
    if (!parse_deal_body(e, b, body_len(m))) {
        d->deal_bad = 1;
        return;
    }
    if (e->my_new) {
        const uint8_t *ct = b + 4 + e->t_new * PT_LEN + 4 + (e->my_new - 1) * CT_LEN;
        uint8_t aad[SHARE_AAD_LEN], pt[32];
        share_aad(aad, e->wire, i, e->my_new);
        d->share_st = 3;
        if (tkms_hpke_open(pt, e->self.kem_sk, (const uint8_t *)TKMS_INFO_DKG_SHARE, TKMS_TAG_LEN(TKMS_INFO_DKG_SHARE), aad, SHARE_AAD_LEN, ct, CT_LEN) &&
            fr_from_bytes(&d->share, pt))
            d->share_st = 1;
        tkms_wipe(pt, 32);
    }
}

static int sender_ok(const tkms_dkg *e, uint8_t type, uint32_t s, const uint8_t **pk) {
    switch (type) {
    case TKMS_DKG_MSG_DEAL:
    case TKMS_DKG_MSG_JUSTIFICATION:
    case TKMS_DKG_MSG_FETCH_OLD:
        if (s < 1 || s > e->n_dealers) return 0;
        *pk = e->oldm[s - 1].sign_pk;
        return 1;
    case TKMS_DKG_MSG_RESPONSE:
    case TKMS_DKG_MSG_CERT:
    case TKMS_DKG_MSG_FETCH_NEW:
        if (s < 1 || s > e->n_new) return 0;
        *pk = e->newm[s - 1].sign_pk;
        return 1;
    default:
        return 0;
    }
}

static size_t type_max(const tkms_dkg *e, uint8_t type) {
    switch (type) {
    case TKMS_DKG_MSG_DEAL: return deal_max(e->t_new, e->n_new);
    case TKMS_DKG_MSG_RESPONSE: return resp_max(e->n_dealers);
    case TKMS_DKG_MSG_JUSTIFICATION: return just_max(e->n_new);
    case TKMS_DKG_MSG_CERT: return cert_max(e->n_dealers);
    default: return fetch_len(e->n_dealers, e->n_new);
    }
}

static void send_fetch(tkms_dkg *e, uint64_t now, int32_t dest);

/* Period of the catch-up requests: half a fetch period while the phases run (a bundle lost to a
 * partition must come back before the next deadline), one period after finishing, and a period
 * doubling up to 8 fetch periods while waiting for certificates past d_cert. */
static uint64_t fetch_period(const tkms_dkg *e) {
    if (e->cert_wait) return e->wait_period;
    if (e->finished) return e->fetch_ticks;
    return e->fetch_ticks / 2 ? e->fetch_ticks / 2 : 1;
}

static void serve_fetch(tkms_dkg *e, uint64_t now, int32_t slot, const uint8_t *b, size_t blen) {
    size_t nd = e->n_dealers, n = e->n_new;
    if (blen != 2 * bm_len(nd) + 2 * bm_len(n) + 16) return;
    const uint8_t *hd = b + 16, *hr = hd + bm_len(nd), *hj = hr + bm_len(n), *hc = hj + bm_len(nd);
    e->st.fetches_served++;
    int behind = 0; /* the requester holds a bundle we lack */
    for (size_t i = 0; i < nd; i++) {
        const dealer_t *d = &e->dealers[i];
        if (d->deal.p && !bm_get(hd, i)) queue(e, slot, d->deal.p, d->deal.len);
        if (d->just.p && !bm_get(hj, i)) queue(e, slot, d->just.p, d->just.len);
        behind |= (!d->deal.p && bm_get(hd, i)) || (!d->just.p && bm_get(hj, i));
    }
    for (size_t j = 0; j < n; j++) {
        const recv_t *r = &e->recvs[j];
        if (r->resp.p && !bm_get(hr, j)) queue(e, slot, r->resp.p, r->resp.len);
        if (r->cert.p && !bm_get(hc, j)) queue(e, slot, r->cert.p, r->cert.len);
        behind |= (!r->resp.p && bm_get(hr, j)) || (!r->cert.p && bm_get(hc, j));
    }
    /* pull in the other direction too (rate-limited): after a partition heals, whichever side
     * asks first brings both up to date */
    if (behind && e->state == TKMS_DKG_RUNNING && now >= e->next_pull) {
        send_fetch(e, now, slot);
        e->next_pull = now + fetch_period(e);
    }
}

static void send_fetch(tkms_dkg *e, uint64_t now, int32_t dest) {
    size_t nd = e->n_dealers, n = e->n_new, blen = 16 + 2 * bm_len(nd) + 2 * bm_len(n);
    uint8_t *buf = e->fetch_buf, digest[32];
    uint8_t type = e->my_new ? TKMS_DKG_MSG_FETCH_NEW : TKMS_DKG_MSG_FETCH_OLD;
    write_hdr(buf, e->wire, type, e->my_new ? e->my_new : e->my_old, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    memset(b, 0, blen);
    proto_be32(b, (uint32_t)nd);
    proto_be32(b + 4, (uint32_t)n);
    proto_be64(b + 8, now);
    uint8_t *hd = b + 16, *hr = hd + bm_len(nd), *hj = hr + bm_len(n), *hc = hj + bm_len(nd);
    for (size_t i = 0; i < nd; i++) {
        if (e->dealers[i].deal.p) bm_set(hd, i);
        if (e->dealers[i].just.p) bm_set(hj, i);
    }
    for (size_t j = 0; j < n; j++) {
        if (e->recvs[j].resp.p) bm_set(hr, j);
        if (e->recvs[j].cert.p) bm_set(hc, j);
    }
    if (!sign_msg(e, buf, blen, digest)) return;
    e->st.fetches_sent++;
    queue(e, dest, buf, HDR + blen + SIG);
}

static void advance(tkms_dkg *e, uint64_t now);

static int handle_msg(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len, int from_self) {
    e->st.rx++;
    if (len < HDR + SIG || memcmp(msg, "TKDG", 4) != 0 || msg[4] != VERSION) {
        e->st.rx_bad++;
        return 0;
    }
    uint8_t type = msg[5];
    uint32_t sender = proto_rd_be32(msg + 38), blen = proto_rd_be32(msg + 42);
    if (memcmp(msg + 6, e->wire, 32) != 0) {
        e->st.rx_stale++; /* another session: an old epoch, another committee, a replay */
        return 0;
    }
    const uint8_t *pk;
    if (!sender_ok(e, type, sender, &pk) || (size_t)blen + HDR + SIG != len || len > type_max(e, type)) {
        e->st.rx_bad++;
        return 0;
    }
    smsg *slot = NULL;
    uint8_t *equivf = NULL;
    switch (type) {
    case TKMS_DKG_MSG_DEAL: slot = &e->dealers[sender - 1].deal; break;
    case TKMS_DKG_MSG_JUSTIFICATION: slot = &e->dealers[sender - 1].just; break;
    case TKMS_DKG_MSG_RESPONSE:
        slot = &e->recvs[sender - 1].resp;
        equivf = &e->recvs[sender - 1].resp_equiv;
        break;
    case TKMS_DKG_MSG_CERT:
        slot = &e->recvs[sender - 1].cert;
        equivf = &e->recvs[sender - 1].cert_equiv;
        break;
    default: break;
    }
    /* an echo of a message already held: same signature (Ed25519 is deterministic) */
    if (slot && slot->p &&
        (memcmp(slot->p + slot->len - SIG, msg + len - SIG, SIG) == 0 ||
         (type == TKMS_DKG_MSG_DEAL && e->dealers[sender - 1].equiv &&
          memcmp(e->dealers[sender - 1].ev[1] + 40, msg + len - SIG, SIG) == 0))) {
        e->st.rx_dup++;
        return 0;
    }
    uint8_t digest[32], si[SIG_DST_LEN + HDR + 32];
    sha256(digest, msg + HDR, blen);
    if (!from_self) {
        sign_input(si, msg, digest);
        if (!tkms_ed25519_verify(msg + len - SIG, pk, si, sizeof si)) {
            e->st.rx_badsig++;
            return 0;
        }
    }
    if (type == TKMS_DKG_MSG_FETCH_NEW || type == TKMS_DKG_MSG_FETCH_OLD) {
        int32_t s = type == TKMS_DKG_MSG_FETCH_NEW ? (int32_t)(sender - 1) : e->old_slot[sender - 1];
        if ((size_t)s != e->self_slot) serve_fetch(e, now, s, msg + HDR, blen);
        return 1;
    }
    if (!slot) goto bad; /* unreachable: sender_ok admits six types, and the two without a slot returned above */
    int newly_equiv = 0;
    if (type == TKMS_DKG_MSG_DEAL) {
        uint8_t ev[EV_LEN];
        int was = e->dealers[sender - 1].equiv;
        proto_be32(ev, sender);
        proto_be32(ev + 4, blen);
        memcpy(ev + 8, digest, 32);
        memcpy(ev + 40, msg + len - SIG, SIG);
        note_deal_digest(e, sender, ev);
        newly_equiv = !was && e->dealers[sender - 1].equiv;
    }
    if (slot->p) {
        if (memcmp(slot->digest, digest, 32) == 0) {
            e->st.rx_dup++;
            return 0;
        }
        /* two different signed messages of one kind from one sender */
        if (equivf && !*equivf) {
            *equivf = 1;
            newly_equiv = 1;
            if (type == TKMS_DKG_MSG_CERT) check_quorum(e, now, slot->p + HDR);
        }
        /* the proof is echoed once, from the caller's buffer (see tkms_dkg_pop_output) */
        if (!from_self && newly_equiv) {
            queue(e, TKMS_DKG_BROADCAST, msg, len);
            e->st.echoes++;
        }
        return 1;
    }
    /* per-type body checks before storing */
    if (type == TKMS_DKG_MSG_RESPONSE) {
        const uint8_t *b = msg + HDR;
        if (blen < 4 + e->n_dealers + 36 || proto_rd_be32(b) != e->n_dealers) goto bad;
        uint32_t nev = proto_rd_be32(b + 4 + e->n_dealers + 32);
        if (nev > 2 * e->n_dealers || blen != 4 + e->n_dealers + 36 + nev * EV_LEN) goto bad;
        for (size_t a = 0; a < e->n_dealers; a++)
            if (b[4 + a] > 2) goto bad;
    } else if (type == TKMS_DKG_MSG_JUSTIFICATION) {
        const uint8_t *b = msg + HDR;
        if (blen < 4 || proto_rd_be32(b) > e->n_new || blen != 4 + proto_rd_be32(b) * 36) goto bad;
    } else if (type == TKMS_DKG_MSG_CERT) {
        const uint8_t *b = msg + HDR;
        if (blen < 36 + 64) goto bad;
        uint32_t nq = proto_rd_be32(b + 32);
        if (nq > e->n_dealers || blen != 36 + 4 * nq + 64) goto bad;
        uint32_t prev = 0;
        for (uint32_t a = 0; a < nq; a++) {
            uint32_t q = proto_rd_be32(b + 36 + 4 * a);
            if (q <= prev || q > e->n_dealers) goto bad;
            prev = q;
        }
        uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
        tkms_dkg_cert_message(cm, e->session, b);
        if (!from_self && !tkms_ed25519_verify(b + 36 + 4 * nq, pk, cm, sizeof cm)) goto bad;
    }
    if (!store(e, slot, msg, len, digest)) {
        e->st.rx_bad++;
        return 0;
    }
    if (type == TKMS_DKG_MSG_DEAL) e->n_deals++;
    if (type == TKMS_DKG_MSG_RESPONSE) {
        e->n_resps++;
        e->recvs[sender - 1].resp_late = !e->replaying && now > e->d_resp;
    }
    if (!from_self) {
        queue(e, TKMS_DKG_BROADCAST, slot->p, slot->len);
        e->st.echoes++;
    }
    switch (type) {
    case TKMS_DKG_MSG_DEAL: on_deal(e, sender, slot); break;
    case TKMS_DKG_MSG_RESPONSE: {
        const uint8_t *b = body_of(slot);
        uint32_t nev = proto_rd_be32(b + 4 + e->n_dealers + 32);
        /* a pair of valid evidences with different digests proves the dealer equivocated; it
         * disqualifies the dealer when carried by a response that counts (on time) */
        const uint8_t *ev0 = b + 4 + e->n_dealers + 36, *valid[2 * TKMS_DKG_MAX_N];
        uint32_t nv = 0;
        for (uint32_t a = 0; a < nev; a++)
            if (verify_evidence(e, ev0 + a * EV_LEN)) valid[nv++] = ev0 + a * EV_LEN;
        for (uint32_t a = 0; a < nv; a++) {
            note_deal_digest(e, proto_rd_be32(valid[a]), valid[a]);
            for (uint32_t c = a + 1; c < nv; c++)
                if (proto_rd_be32(valid[a]) == proto_rd_be32(valid[c]) && memcmp(valid[a] + 8, valid[c] + 8, 32) != 0 &&
                    !e->recvs[sender - 1].resp_late)
                    e->dealers[proto_rd_be32(valid[a]) - 1].equiv_rep = 1;
        }
        break;
    }
    case TKMS_DKG_MSG_CERT: check_quorum(e, now, body_of(slot)); break;
    default: break;
    }
    return 1;
bad:
    e->st.rx_bad++;
    return 0;
}

static int all_responses_ok(const tkms_dkg *e) {
    uint8_t mine[32];
    if (!have_all_deals(e) || e->n_resps != e->n_new) return 0;
    dealset_digest(e, mine);
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->resp.p || r->resp_equiv) return 0;
        const uint8_t *b = body_of(&r->resp);
        for (size_t i = 0; i < e->n_dealers; i++)
            if (b[4 + i]) return 0;
        if (memcmp(b + 4 + e->n_dealers, mine, 32) != 0) return 0;
    }
    for (size_t i = 0; i < e->n_dealers; i++)
        if (e->dealers[i].equiv_rep || e->dealers[i].deal_bad) return 0;
    return 1;
}

static int all_responses_in(const tkms_dkg *e) { return e->n_resps == e->n_new; }

/* A dealer that must justify (complaints held, fewer than t_new) whose justification we lack. */
static int missing_justification(const tkms_dkg *e) {
    for (uint32_t i = 1; i <= e->n_dealers; i++) {
        const dealer_t *d = &e->dealers[i - 1];
        if (!d->deal.p || d->just.p || d->deal_bad || d->equiv_rep) continue;
        size_t c = complaints(e, i, NULL);
        if (c > 0 && c < e->t_new) return 1;
    }
    return 0;
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* When the next catch-up request is due (UINT64_MAX: none). Every bundle is sent once by its
 * author, so a bundle lost to loss or to a partition would stay lost even after the network
 * heals; while the phases run, a node that still lacks a deal (after the echoes had time to
 * arrive), a response (after the deal deadline) or an expected justification (after the
 * response deadline) asks its peers for it, so that it arrives before the next deadline. */
static uint64_t catchup_at(const tkms_dkg *e) {
    if (e->state != TKMS_DKG_RUNNING) return UINT64_MAX;
    if (e->want_fetch) return e->next_fetch;
    if (e->finished) return UINT64_MAX;
    uint64_t at = UINT64_MAX;
    if (e->n_deals < e->n_dealers) at = e->start + e->echo_ticks;
    if (e->n_resps < e->n_new) at = min64(at, e->d_deal + e->echo_ticks / 2);
    if (e->just_missing) at = min64(at, e->d_resp + e->echo_ticks / 2);
    return at == UINT64_MAX ? at : max64(at, e->next_fetch);
}

/* A node that (re)starts after the session began first fetches what it missed. It responds
 * only if the response window is still open after that (a late complaint about a deal it merely
 * missed would wrongly disqualify an honest dealer); otherwise it stays silent, which complains
 * about no one. Its own deadlines move out to leave time for the catch-up. */
static void late_start(tkms_dkg *e, uint64_t now) {
    if (e->my_new && !e->responded) {
        if (now + e->fetch_ticks < e->d_deal + (e->d_resp - e->d_deal) / 2)
            e->respond_at = now + e->fetch_ticks;
        else
            e->responded = 1;
    }
    if (e->my_old && !e->justified) e->justify_at = now + e->fetch_ticks;
    uint64_t grace = (e->d_resp - e->d_deal) + e->fetch_ticks, cert = e->d_cert - e->d_just;
    if (!e->finished && e->d_just < now + grace) e->d_just = now + grace;
    if (e->d_cert < e->d_just + cert) e->d_cert = e->d_just + cert;
    if (e->finished && e->d_cert < now + grace) e->d_cert = now + grace;
    e->want_fetch = 1;
    e->next_fetch = now;
}

static void advance(tkms_dkg *e, uint64_t now) {
    if (e->state != TKMS_DKG_RUNNING || e->replaying) return;
    if (!e->started) {
        e->started = 1;
        if (now > e->start + e->fetch_ticks) late_start(e, now);
    }
    if (e->adopt_pending) check_quorum(e, now, e->adopt_hash);
    if (e->my_old && !e->dealt && now >= e->start) {
        if ((!e->reshare || e->has_old_share) && now < e->d_deal)
            do_deal(e, now);
        else
            e->dealt = 1; /* the deal phase is over (or there is nothing to deal): not a dealer now */
    }
    if (e->my_new && !e->all_deals_at && have_all_deals(e)) e->all_deals_at = now + 1;
    if (e->my_new && !e->responded && now >= e->respond_at &&
        (now >= e->d_deal || (e->all_deals_at && now + 1 >= e->all_deals_at + e->echo_ticks))) {
        /* a response sent in the second half of the window could reach the dealers after their
         * deadline: a node that is that late (it started or restarted late) stays silent */
        if (now >= e->d_deal + (e->d_resp - e->d_deal) / 2)
            e->responded = 1;
        else
            do_respond(e, now);
    }
    if (e->my_old && !e->justified && now >= e->justify_at && (now >= e->d_resp || all_responses_in(e)))
        do_justify(e, now);
    if (!e->finished && (now >= e->d_just || all_responses_ok(e))) do_finish(e, now);
    if (e->state == TKMS_DKG_RUNNING && e->finished && now >= e->d_cert && !e->cert_wait) {
        /* A node that signed its CERT does not abort at d_cert: peers that collected t_new
         * signatures in time may have certified that very transcript, and aborting would drop
         * this node's share of it (with its old share erased on adoption, the secret could be
         * lost). It keeps its share and keeps fetching until it sees a quorum (FINAL) or its
         * driver gives up (tkms_dkg_abandon). Nodes that signed nothing abort as before. */
        if (e->my_new && e->recvs[e->my_new - 1].cert.p) {
            e->cert_wait = 1;
            e->wait_period = e->fetch_ticks;
            e->want_fetch = 1;
        } else {
            e->state = TKMS_DKG_ABORTED;
            e->persist = 1;
            return;
        }
    }
    if (e->state == TKMS_DKG_RUNNING && !e->finished && now >= e->d_resp) e->just_missing = missing_justification(e);
    /* finished but not certified yet: certificates or bundles may have been lost (loss, a healed
     * partition); ask the peers for what is missing, first after one fetch period */
    if (e->state == TKMS_DKG_RUNNING && e->finished && !e->want_fetch) {
        e->want_fetch = 1;
        if (e->next_fetch < now + e->fetch_ticks) e->next_fetch = now + e->fetch_ticks;
    }
    if (now >= catchup_at(e)) {
        send_fetch(e, now, TKMS_DKG_BROADCAST);
        e->next_fetch = now + fetch_period(e);
        if (e->cert_wait && e->wait_period < 8 * e->fetch_ticks) e->wait_period *= 2;
    }
}

int tkms_dkg_receive(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len) {
    int r = handle_msg(e, now, msg, len, 0);
    advance(e, now);
    return r;
}

void tkms_dkg_tick(tkms_dkg *e, uint64_t now) { advance(e, now); }

uint64_t tkms_dkg_next_deadline(const tkms_dkg *e) {
    if (e->state != TKMS_DKG_RUNNING) return UINT64_MAX;
    uint64_t d = UINT64_MAX;
    if (e->my_old && !e->dealt) d = e->start;
    else if (e->my_new && !e->responded) {
        d = e->d_deal;
        if (e->all_deals_at && e->all_deals_at - 1 + e->echo_ticks < d) d = e->all_deals_at - 1 + e->echo_ticks;
        if (d < e->respond_at) d = e->respond_at;
    }
    else if (e->my_old && !e->justified) d = e->d_resp > e->justify_at ? e->d_resp : e->justify_at;
    else if (!e->finished) d = e->d_just;
    else if (!e->cert_wait) d = e->d_cert;
    return min64(d, catchup_at(e));
}

/* ------------------------------------------------------------------ checkpoints */

/* Layout (docs/dkg.md): "TKCP" | ver | session | flags u16 | seed? | old_share? | outcome? |
 * be32 count | count x (be32 len | message) | be32 nev | nev x (be32 dealer | 2 x evidence). */
enum { F_SEED = 1, F_OLD = 2, F_FIN = 4, F_SHARE = 8, F_FINAL = 16, F_ABORT = 32, F_ABORTCALC = 64 };

typedef struct {
    uint8_t *o;
    size_t n, cap;
} wbuf;
static void wr(wbuf *w, const void *p, size_t n) {
    if (w->o && w->n + n <= w->cap) memcpy(w->o + w->n, p, n);
    w->n += n;
}
static void wr32(wbuf *w, uint32_t v) {
    uint8_t b[4];
    proto_be32(b, v);
    wr(w, b, 4);
}

size_t tkms_dkg_checkpoint(tkms_dkg *e, uint8_t *out, size_t cap) {
    wbuf w = {out, 0, cap};
    uint8_t b[96];
    wr(&w, "TKCP", 4);
    b[0] = 1;
    wr(&w, b, 1);
    wr(&w, e->wire, 32);
    unsigned f = (e->has_seed ? F_SEED : 0) | (e->has_old_share ? F_OLD : 0) | (e->finished ? F_FIN : 0) |
                 (e->has_share ? F_SHARE : 0) | (e->state == TKMS_DKG_FINAL ? F_FINAL : 0) |
                 (e->state == TKMS_DKG_ABORTED ? F_ABORT : 0) | (e->aborted_calc ? F_ABORTCALC : 0);
    b[0] = (uint8_t)(f >> 8);
    b[1] = (uint8_t)f;
    wr(&w, b, 2);
    if (f & F_SEED) wr(&w, e->seed, 32);
    if (f & F_OLD) {
        fr_to_bytes(b, &e->old_share);
        wr(&w, b, 32);
    }
    if ((f & F_FIN) && !(f & F_ABORTCALC)) {
        wr(&w, e->thash, 32);
        wr32(&w, (uint32_t)e->n_qual);
        for (size_t a = 0; a < e->n_qual; a++) wr32(&w, e->qual[a]);
        for (size_t k = 0; k < e->t_new; k++) {
            g2_serialize(b, &e->poly[k]);
            wr(&w, b, 96);
        }
        if (f & F_SHARE) {
            fr_to_bytes(b, &e->share);
            wr(&w, b, 32);
        }
    }
    tkms_wipe(b, sizeof b);
    size_t count = 0;
    for (size_t i = 0; i < e->n_dealers; i++) count += (e->dealers[i].deal.p != NULL) + (e->dealers[i].just.p != NULL);
    for (size_t j = 0; j < e->n_new; j++) count += (e->recvs[j].resp.p != NULL) + (e->recvs[j].cert.p != NULL);
    wr32(&w, (uint32_t)count);
    const smsg *ms[4];
    for (size_t i = 0; i < e->n_dealers || i < e->n_new; i++) {
        ms[0] = i < e->n_dealers ? &e->dealers[i].deal : NULL;
        ms[1] = i < e->n_dealers ? &e->dealers[i].just : NULL;
        ms[2] = i < e->n_new ? &e->recvs[i].resp : NULL;
        ms[3] = i < e->n_new ? &e->recvs[i].cert : NULL;
        for (int k = 0; k < 4; k++)
            if (ms[k] && ms[k]->p) {
                wr32(&w, ms[k]->len);
                wr(&w, ms[k]->p, ms[k]->len);
            }
    }
    size_t nev = 0;
    for (size_t i = 0; i < e->n_dealers; i++) nev += e->dealers[i].equiv;
    wr32(&w, (uint32_t)nev);
    for (size_t i = 0; i < e->n_dealers; i++)
        if (e->dealers[i].equiv) wr(&w, e->dealers[i].ev, 2 * EV_LEN);
    if (!out) return w.n + 32;
    if (w.n + 32 > cap) return 0;
    sha256(out + w.n, out, w.n); /* detects a torn or corrupted file */
    w.n += 32;
    e->persist = 0;
    return w.n;
}

static void start_retry(tkms_dkg *e, uint64_t now);

static tkms_dkg *load(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len,
                      uint64_t now, int retry) {
    tkms_dkg *e = mem;
    uint8_t sum[32];
    if (!ck || len < 32 + 39) return NULL;
    sha256(sum, ck, len - 32);
    if (!ct_memeq(sum, ck + len - 32, 32)) return NULL;
    len -= 32;
    if (!setup(e, mem, mem_len, cfg)) return NULL;
    size_t p = 0;
#define NEED(k)                                                                                                        \
    do {                                                                                                               \
        if (len - p < (size_t)(k)) goto fail;                                                                          \
    } while (0)
    NEED(39);
    if (memcmp(ck, "TKCP", 4) != 0 || ck[4] != 1 || memcmp(ck + 5, e->wire, 32) != 0) goto fail;
    unsigned f = ((unsigned)ck[37] << 8) | ck[38];
    p = 39;
    if (f & F_SEED) {
        NEED(32);
        memcpy(e->seed, ck + p, 32);
        e->has_seed = 1;
        p += 32;
    }
    if (f & F_OLD) {
        NEED(32);
        if (!fr_from_bytes(&e->old_share, ck + p)) goto fail;
        e->has_old_share = 1;
        p += 32;
    }
    int fin = (f & F_FIN) && !(f & F_ABORTCALC);
    if (fin) {
        NEED(36);
        memcpy(e->thash, ck + p, 32);
        uint32_t nq = proto_rd_be32(ck + p + 32);
        p += 36;
        if (nq > e->n_dealers) goto fail;
        NEED((size_t)nq * 4 + e->t_new * 96);
        for (uint32_t a = 0; a < nq; a++) e->qual[a] = proto_rd_be32(ck + p + 4 * a);
        e->n_qual = nq;
        p += (size_t)nq * 4;
        for (size_t k = 0; k < e->t_new; k++, p += 96)
            if (g2_deserialize(&e->poly[k], ck + p, 96, 1) != G2_OK) goto fail;
        if (f & F_SHARE) {
            NEED(32);
            if (!fr_from_bytes(&e->share, ck + p)) goto fail;
            e->has_share = 1;
            p += 32;
        }
    }
    NEED(4);
    uint32_t count = proto_rd_be32(ck + p);
    p += 4;
    e->replaying = 1;
    for (uint32_t a = 0; a < count; a++) {
        NEED(4);
        uint32_t ml = proto_rd_be32(ck + p);
        p += 4;
        NEED(ml);
        (void)handle_msg(e, now, ck + p, ml, 0);
        p += ml;
    }
    NEED(4);
    uint32_t nev = proto_rd_be32(ck + p);
    p += 4;
    for (uint32_t a = 0; a < nev; a++) {
        NEED(2 * EV_LEN);
        for (int k = 0; k < 2; k++)
            if (verify_evidence(e, ck + p + k * EV_LEN)) note_deal_digest(e, proto_rd_be32(ck + p + k * EV_LEN), ck + p + k * EV_LEN);
        p += 2 * EV_LEN;
    }
    if (p != len) goto fail;
    e->replaying = 0;
    /* a dealer that drew its seed deals no second polynomial; one that never dealt may still
     * deal before the deadline */
    e->dealt = e->my_old && (e->dealers[e->my_old - 1].deal.p != NULL || e->has_seed || now >= e->d_deal);
    e->responded = e->my_new && e->recvs[e->my_new - 1].resp.p;
    e->justified = e->my_old && e->dealers[e->my_old - 1].just.p;
    e->finished = (f & F_FIN) != 0;
    e->aborted_calc = (f & F_ABORTCALC) != 0;
    if ((f & F_ABORT) && !retry) e->state = TKMS_DKG_ABORTED;
    if (f & F_FINAL) {
        e->state = TKMS_DKG_FINAL;
        collect_sigs(e);
    }
    if (!e->has_seed && cfg->deal_seed && e->my_old && !e->dealers[e->my_old - 1].deal.p) seed_from_cfg(e, cfg->deal_seed);
    if (retry && e->state == TKMS_DKG_RUNNING) {
        start_retry(e, now);
    } else if (e->state == TKMS_DKG_RUNNING) {
        e->started = 1;
        late_start(e, now);
        for (size_t i = 0; i < e->n_dealers; i++) {
            const smsg *m = e->my_old && i == e->my_old - 1 ? &e->dealers[i].deal : NULL;
            if (m && m->p) queue(e, TKMS_DKG_BROADCAST, m->p, m->len);
        }
        if (e->my_old && e->dealers[e->my_old - 1].just.p)
            queue(e, TKMS_DKG_BROADCAST, e->dealers[e->my_old - 1].just.p, e->dealers[e->my_old - 1].just.len);
        if (e->my_new && e->recvs[e->my_new - 1].resp.p)
            queue(e, TKMS_DKG_BROADCAST, e->recvs[e->my_new - 1].resp.p, e->recvs[e->my_new - 1].resp.len);
        if (e->my_new && e->recvs[e->my_new - 1].cert.p)
            queue(e, TKMS_DKG_BROADCAST, e->recvs[e->my_new - 1].cert.p, e->recvs[e->my_new - 1].cert.len);
        e->want_fetch = 1;
        e->next_fetch = now;
        advance(e, now);
        for (size_t j = 0; j < e->n_new && e->state == TKMS_DKG_RUNNING; j++)
            if (e->recvs[j].cert.p) check_quorum(e, now, body_of(&e->recvs[j].cert));
    }
    return e;
fail:
#undef NEED
    tkms_dkg_wipe(e);
    return NULL;
}

tkms_dkg *tkms_dkg_restore(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len,
                           uint64_t now) {
    return load(mem, mem_len, cfg, ck, len, now, 0);
}

tkms_dkg *tkms_dkg_retry(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len,
                         uint64_t now) {
    return load(mem, mem_len, cfg, ck, len, now, 1);
}

/* A new attempt of the session of a checkpoint, on the deadlines of cfg (docs/dkg.md, "Retries").
 * Every signed bundle of the earlier attempt stays held, and this node's own bundles are sent
 * again unchanged: it never signs a second, different deal, response, justification or CERT in
 * one session. What it had not sent yet it produces on the new deadlines; a node that signed a
 * CERT keeps that outcome (it cannot certify another transcript in this session). */
static void start_retry(tkms_dkg *e, uint64_t now) {
    const smsg *own[4] = {NULL, NULL, NULL, NULL};
    if (e->my_old) {
        own[0] = &e->dealers[e->my_old - 1].deal;
        own[1] = &e->dealers[e->my_old - 1].just;
    }
    if (e->my_new) {
        own[2] = &e->recvs[e->my_new - 1].resp;
        own[3] = &e->recvs[e->my_new - 1].cert;
    }
    int signed_cert = own[3] && own[3]->p;
    e->dealt = own[0] && own[0]->p; /* else it deals (with its checkpointed seed, if any) */
    e->responded = own[2] && own[2]->p;
    e->justified = own[1] && own[1]->p;
    e->started = 0;
    e->respond_at = e->justify_at = e->all_deals_at = 0;
    e->adopt_pending = 0;
    if (!signed_cert || !e->finished || e->aborted_calc) {
        /* recompute at the new d_just from everything held */
        e->finished = 0;
        e->aborted_calc = 0;
        e->n_qual = 0;
        tkms_wipe(&e->share, sizeof e->share);
        e->has_share = 0;
    }
    for (int k = 0; k < 4; k++)
        if (own[k] && own[k]->p) queue(e, TKMS_DKG_BROADCAST, own[k]->p, own[k]->len);
    e->persist = 1;
    if (now >= e->start) send_fetch(e, now, TKMS_DKG_BROADCAST);
    e->next_fetch = now + fetch_period(e);
    advance(e, now);
    for (size_t j = 0; j < e->n_new && e->state == TKMS_DKG_RUNNING; j++)
        if (e->recvs[j].cert.p) check_quorum(e, now, body_of(&e->recvs[j].cert));
}
