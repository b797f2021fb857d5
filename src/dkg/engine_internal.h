/* Private to the DKG engine (engine_*.c): the engine state, the wire layout and the functions the
 * engine's files share. Nothing here is part of the API (engine.h). Only the fault-injection
 * build (TKMS_DKG_FAULTS, engine_fault.c) adds to it: two fields at the end of struct tkms_dkg
 * and the hooks declared at the end; production objects are compiled without them and never
 * share a program with that build (see engine_fault.c).
 *
 * Files: engine_wire.c (message formats: header, body checks and views, signatures),
 * engine_deal.c (dealing, share checks, responses, justifications, QUAL and the outcome),
 * engine_cert.c (certification and adoption), engine_driver.c (init, accessors, receive, fetch,
 * timers), engine_ckpt.c (checkpoint, restore, retry); session.c holds the definitions shared
 * with group files. engine_fault.c is the test-only fault-injection build of all of them. */
#ifndef TKMS_DKG_ENGINE_INTERNAL_H
#define TKMS_DKG_ENGINE_INTERNAL_H

#include <string.h>

#include "engine.h"
#include "g2.h"
#include "proto_tags.h"

#if TKMS_DKG_FAULTS
#include "engine_fault.h"
#endif

/* ------------------------------------------------------------------ wire layout (docs/dkg.md) */

#define HDR 46
#define SIG 64
#define PT_LEN 192  /* commitments travel uncompressed: no square root per point (docs/dkg.md) */
#define CT_LEN 80   /* enc(32) || ChaCha20-Poly1305(share 32) + tag 16 */
#define EV_LEN 104  /* be32 dealer || be32 body_len || digest || sig */
#define JUST_ENT 36 /* be32 receiver || share */
#define VERSION 1

/* header: "TKDG" | version | type | wire tag (32) | be32 sender | be32 body length */
enum { HDR_VERSION = 4, HDR_TYPE = 5, HDR_TAG = 6, HDR_SENDER = 38, HDR_BODY_LEN = 42 };
/* evidence of a signed deal: be32 dealer | be32 body length | body digest | signature */
enum { EV_DEALER = 0, EV_BODY_LEN = 4, EV_DIGEST = 8, EV_SIG = 40 };

#define SIG_DST_LEN TKMS_TAG_LEN(TKMS_TAG_DKG_SIG)
#define SHARE_AAD_LEN (TKMS_TAG_LEN(TKMS_TAG_DKG_SHARE) + 32 + 4 + 4)

/* A message header, parsed once (dkg_parse_hdr). */
typedef struct {
    uint8_t type;
    uint32_t sender, body_len;
    const uint8_t *tag;  /* 32 bytes */
    const uint8_t *body; /* body_len bytes (when the length checks passed) */
} dkg_hdr;

/* Views of checked bodies: named fields instead of offsets (dkg_view_*). */
typedef struct { /* DEAL: be32 t | t commitments | be32 n | n ciphertexts */
    const uint8_t *commits, *cts;
} dkg_deal_view;
typedef struct { /* RESPONSE: be32 nd | nd verdicts | dealset digest | be32 n_ev | n_ev evidences */
    const uint8_t *verdict; /* per dealer: 0 ok, 1 complaint, 2 equivocation seen */
    const uint8_t *dealset; /* 32 bytes */
    uint32_t n_ev;
    const uint8_t *ev;
} dkg_resp_view;
typedef struct { /* JUSTIFICATION: be32 count | count x (be32 receiver | share) */
    uint32_t count;
    const uint8_t *ent;
} dkg_just_view;
typedef struct { /* CERT: transcript hash | be32 n_qual | n_qual x be32 index | member signature */
    const uint8_t *thash;
    uint32_t n_qual;
    const uint8_t *qual, *member_sig;
} dkg_cert_view;

/* ------------------------------------------------------------------ engine state */

typedef struct {
    uint8_t *p; /* whole message: header || body || sig */
    uint32_t len;
    uint8_t digest[32]; /* SHA-256(body) */
} smsg;

/* This node's check of a dealer's share for it. */
typedef enum { SHARE_NONE = 0, SHARE_DECRYPTED, SHARE_VERIFIED, SHARE_BAD } share_state;
/* Reshare: the dealer's constant term against its old public share. */
typedef enum { CONST_UNCHECKED = 0, CONST_OK, CONST_MISMATCH } const_state;

typedef struct {
    smsg deal;
    uint8_t deal_bad;    /* structurally invalid (or points failing the subgroup check) */
    uint8_t const_st;    /* const_state */
    uint8_t equiv;       /* two different signed deal digests seen (reported in our response) */
    uint8_t equiv_rep;   /* equivocation proven inside a response that counts: disqualifies */
    uint8_t have_known;  /* known_digest holds a signed digest */
    uint8_t known[32];
    uint8_t ev[2][EV_LEN]; /* two distinct signed deal headers (valid when equiv) */
    uint8_t share_st;      /* share_state */
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

/* Where the attempt is. RUNNING (tkms_dkg_get_state) is every phase before FINAL and ABORTED.
 *   START      created (or a retry started); the first tick begins the attempt
 *   COLLECT    deals, responses, justifications: QUAL not computed yet (outcome NONE)
 *   CERTIFY    QUAL computed (outcome QUAL) or failed (outcome FAILED): collecting CERTs to d_cert
 *   CERT_WAIT  signed its CERT and passed d_cert without a quorum: keeps fetching, never aborts
 *              on its own (tkms_dkg_abandon stops it)
 *   FINAL      a quorum of CERTs on our transcript (or an adopted one)
 *   ABORTED    no certified outcome in this attempt */
typedef enum { PH_START = 0, PH_COLLECT, PH_CERTIFY, PH_CERT_WAIT, PH_FINAL, PH_ABORTED } dkg_phase;

/* The QUAL computation (step 4 of DESIGN.md §3). Independent of the phase: it stays readable
 * after an abort, and a retry that keeps a signed CERT starts with it. */
typedef enum { OUT_NONE = 0, OUT_QUAL, OUT_FAILED } dkg_outcome;

/* This node's own steps. Independent bits: a node plays up to two roles (dealer, receiver), a
 * dealer justifies after the others' responses, which may come after the computation, and a
 * node that restarts late skips its response. */
enum { STEP_DEALT = 1, STEP_RESPONDED = 2, STEP_JUSTIFIED = 4 };

struct tkms_dkg {
    uint8_t *arena;
    size_t arena_used, arena_cap;
    /* configuration */
    uint64_t epoch;
    size_t n_new, t_new, n_old, t_old, n_dealers;
    int reshare, dev_mode;
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
    uint64_t wait_period, next_pull; /* CERT_WAIT: fetch period (doubling); rate limit of pulls */
    /* progress */
    dkg_phase phase;
    dkg_outcome outcome;
    unsigned steps; /* STEP_* */
    /* The remaining flags are independent of the phase:
     * want_fetch: a catch-up request is due at next_fetch (set while behind or certifying);
     * just_missing: cached at each tick past d_resp: a justification we expect is missing;
     * adopt_pending: a quorum certified adopt_hash, whose bundles we still lack;
     * adopt_mismatch: a quorum certified adopt_hash, which the deals held do not reproduce (a
     *   dealer equivocated and this node holds its other bundle: dkg_try_swap_deal); the deals
     *   are fetched from one signer of that transcript at a time, the last one asked being slot
     *   adopt_from;
     * persist: the state changed since the last checkpoint;
     * replaying: a checkpoint's messages are being fed back (no output, no timers). */
    int want_fetch, just_missing, adopt_pending, adopt_mismatch, persist, replaying;
    size_t adopt_from;
    size_t n_deals, n_resps; /* messages held, to test "all in" in O(1) */
    uint64_t respond_at, justify_at; /* after a restart: wait for catch-up before speaking */
    uint64_t echo_ticks, all_deals_at; /* an early response waits for echoes (equivocation) */
    uint8_t adopt_hash[32]; /* a certified transcript we still lack bundles for, or do not reproduce */
    /* secrets held (independent of the phase: they are erased on their own schedule) */
    int has_seed, has_old_share, has_share;
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
    uint8_t *fetch_buf;
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
#if TKMS_DKG_FAULTS
    /* the fault-injection build only (engine_fault.c) */
    tkms_dkg_fault fault;
    uint8_t *equiv_buf; /* an equivocating dealer's second deal */
#endif
};

static inline int dkg_running(const tkms_dkg *e) { return e->phase < PH_FINAL; }
/* QUAL has been computed, successfully or not ("finished" in docs/dkg.md). */
static inline int dkg_finished(const tkms_dkg *e) { return e->outcome != OUT_NONE; }
static inline int dkg_have_all_deals(const tkms_dkg *e) { return e->n_deals == e->n_dealers; }
static inline int dkg_done(const tkms_dkg *e, unsigned step) { return (e->steps & step) != 0; }
/* Records the outcome of a computation; a running attempt moves on to certification. */
static inline void dkg_set_outcome(tkms_dkg *e, dkg_outcome o) {
    e->outcome = o;
    if (e->phase == PH_COLLECT) e->phase = PH_CERTIFY;
}

static inline size_t al8(size_t x) { return (x + 7) & ~(size_t)7; }
static inline size_t bm_len(size_t n) { return (n + 7) / 8; }
static inline const uint8_t *body_of(const smsg *m) { return m->p + HDR; }
static inline size_t body_len(const smsg *m) { return m->len - HDR - SIG; }
static inline const uint8_t *sig_of(const uint8_t *msg, size_t len) { return msg + len - SIG; }
static inline const tkms_dkg_member *dealer_member(const tkms_dkg *e, uint32_t i) { return &e->oldm[i - 1]; }

/* ------------------------------------------------------------------ engine_wire.c */

size_t dkg_deal_max(size_t t, size_t n);
size_t dkg_resp_max(size_t nd);
size_t dkg_just_max(size_t n);
size_t dkg_cert_max(size_t nd);
size_t dkg_fetch_len(size_t nd, size_t n);
size_t dkg_type_max(const tkms_dkg *e, uint8_t type);
size_t dkg_deal_body_len(const tkms_dkg *e);
/* Parses the fixed part of a header (magic, version, length at least HDR + SIG). */
int dkg_parse_hdr(dkg_hdr *h, const uint8_t *msg, size_t len);
void dkg_write_hdr(uint8_t *o, const uint8_t tag[32], uint8_t type, uint32_t sender, uint32_t blen);
/* The sender's key for a message type (dealers: old index; receivers: new index). */
int dkg_sender_ok(const tkms_dkg *e, uint8_t type, uint32_t s, const uint8_t **pk);
void dkg_sign_input(uint8_t out[SIG_DST_LEN + HDR + 32], const uint8_t *hdr, const uint8_t digest[32]);
/* Signs buf = header || body (body_n bytes) in place: appends the signature. */
int dkg_sign_msg(tkms_dkg *e, uint8_t *buf, size_t body_n, uint8_t digest[32]);
void dkg_share_aad(uint8_t aad[SHARE_AAD_LEN], const uint8_t tag[32], uint32_t dealer, uint32_t recv);
/* Body checks before a message is stored (1 = well formed). */
int dkg_check_deal(const tkms_dkg *e, const uint8_t *b, size_t blen);
int dkg_check_resp(const tkms_dkg *e, const uint8_t *b, size_t blen);
int dkg_check_just(const tkms_dkg *e, const uint8_t *b, size_t blen);
int dkg_check_cert(const tkms_dkg *e, const uint8_t *b, size_t blen);
/* Views of bodies that passed their check. */
dkg_deal_view dkg_view_deal(const tkms_dkg *e, const uint8_t *b);
dkg_resp_view dkg_view_resp(const tkms_dkg *e, const uint8_t *b);
dkg_just_view dkg_view_just(const uint8_t *b);
dkg_cert_view dkg_view_cert(const uint8_t *b);
/* A signed deal's evidence: its header fields, digest and signature. */
void dkg_make_evidence(uint8_t ev[EV_LEN], uint32_t dealer, uint32_t blen, const uint8_t digest[32],
                       const uint8_t sig[SIG]);
int dkg_verify_evidence(const tkms_dkg *e, const uint8_t ev[EV_LEN]);
/* Uncompressed G2 point: range, flags, curve equation, not the identity (no subgroup check). */
int dkg_parse_pt(g2_affine_t *r, const uint8_t in[PT_LEN]);
/* Dealer i's commitments (from its held deal). */
int dkg_deal_commits(const tkms_dkg *e, uint32_t i, g2_affine_t *C);

/* ------------------------------------------------------------------ engine_deal.c */

void dkg_eval_commit(g2_t *out, const g2_affine_t *C, size_t t, uint32_t x);
void dkg_gen_mul(g2_t *r, const fr_t *s);
void dkg_do_deal(tkms_dkg *e, uint64_t now);
void dkg_on_deal(tkms_dkg *e, uint32_t i, const smsg *m);
void dkg_verify_shares(tkms_dkg *e);
void dkg_dealset_digest(const tkms_dkg *e, uint8_t out[32]);
void dkg_do_respond(tkms_dkg *e, uint64_t now);
void dkg_note_deal_digest(tkms_dkg *e, uint32_t i, const uint8_t ev[EV_LEN]);
void dkg_on_response(tkms_dkg *e, uint32_t sender, const smsg *m);
size_t dkg_complaints(const tkms_dkg *e, uint32_t i, uint8_t *who);
void dkg_do_justify(tkms_dkg *e, uint64_t now);
int dkg_compute_with(tkms_dkg *e, const uint32_t *qual, size_t nq, g2_affine_t *poly, uint8_t thash[32], fr_t *share,
                     int *has_share);
void dkg_do_finish(tkms_dkg *e, uint64_t now);

/* ------------------------------------------------------------------ engine_cert.c */

void dkg_send_cert(tkms_dkg *e, uint64_t now);
void dkg_collect_sigs(tkms_dkg *e);
void dkg_check_quorum(tkms_dkg *e, uint64_t now, const uint8_t hash[32]);
/* After an adoption mismatch: tries a validly signed deal of dealer i (msg, len, body digest)
 * that differs from the one held in its place (docs/dkg.md rule 9, "Adoption mismatch"). */
void dkg_try_swap_deal(tkms_dkg *e, uint64_t now, uint32_t i, const uint8_t *msg, size_t len,
                       const uint8_t digest[32]);

/* ------------------------------------------------------------------ engine_driver.c */

void *dkg_take(tkms_dkg *e, size_t n);
void dkg_queue(tkms_dkg *e, int32_t dest, const uint8_t *p, size_t len);
int dkg_setup(tkms_dkg *e, void *mem, size_t mem_len, const tkms_dkg_config *c);
void dkg_seed_from_cfg(tkms_dkg *e, const uint8_t deal_seed[32]);
/* Checks and stores one message (from_self: our own, already signed by us). */
int dkg_handle_msg(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len, int from_self);
void dkg_send_fetch(tkms_dkg *e, uint64_t now, int32_t dest);
uint64_t dkg_fetch_period(const tkms_dkg *e);
void dkg_late_start(tkms_dkg *e, uint64_t now);
void dkg_advance(tkms_dkg *e, uint64_t now);

/* ------------------------------------------------------------------ engine_ckpt.c */

/* Recreates the held state from a checkpoint, without output or timers (dkg_resume does those):
 * between the two the fault-injection build arms its fault. */
tkms_dkg *dkg_load(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len, uint64_t now,
                   int retry);
void dkg_resume(tkms_dkg *e, uint64_t now, int retry);

/* ------------------------------------------------------------------ engine_fault.c (tests only) */

#if TKMS_DKG_FAULTS
/* The points where a Byzantine dealer departs from the protocol (engine_deal.c calls them). */
void dkg_fault_secret(const tkms_dkg *e, fr_t *secret);
void dkg_fault_shares(const tkms_dkg *e, fr_t *shares);
void dkg_fault_revealed(const tkms_dkg *e, uint32_t j, fr_t *s);
int dkg_fault_send_deal(tkms_dkg *e, uint64_t now, uint8_t *buf, size_t len);
#endif

#endif
