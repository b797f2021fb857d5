/* Sans-I/O DKG (epoch 0) and Reshare (e -> e+1) engine, DESIGN.md §3: a state machine fed with
 * messages and ticks that queues messages to send. No sockets, clock, threads or RNG of its own.
 * Implementation: src/dkg/engine_*.c (engine_internal.h lists the files). Byzantine fault
 * injection for tests is a separate build of the engine (engine_fault.h), not part of this API. */
#ifndef TKMS_DKG_ENGINE_H
#define TKMS_DKG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "fr.h"
#include "g2.h"
#include "identity.h"
#include "proto_tags.h"

#define TKMS_DKG_MAX_N 256       /* committee size bound (old and new) */
#define TKMS_DKG_ADDR_MAX 128    /* member address, bytes including the NUL */
#define TKMS_DKG_BROADCAST (-1)  /* output destination: every other participant */

/* Message types (byte 5 of the header, see docs/dkg.md). */
enum {
    TKMS_DKG_MSG_DEAL = 1,
    TKMS_DKG_MSG_RESPONSE = 2,
    TKMS_DKG_MSG_JUSTIFICATION = 3,
    TKMS_DKG_MSG_CERT = 4,
    TKMS_DKG_MSG_FETCH_NEW = 5, /* catch-up request from a new member (sender = new index) */
    TKMS_DKG_MSG_FETCH_OLD = 6  /* catch-up request from an old-only member (sender = old index) */
};

/* A committee member; its index is its position in the list plus one. */
typedef struct {
    uint8_t sign_pk[32]; /* Ed25519 */
    uint8_t kem_pk[32];  /* X25519 */
    char address[TKMS_DKG_ADDR_MAX];
} tkms_dkg_member;

/* RNG callback: fills out with len fresh random bytes. The engine's only source of randomness. */
typedef void (*tkms_dkg_rng_fn)(void *ctx, uint8_t *out, size_t len);

typedef struct {
    uint64_t epoch;
    /* Group id of the previous group file (tkms_group_id) for a reshare; ignored for epoch 0,
     * where SHA-256 of the empty string is used. */
    uint8_t prev_group_id[32];
    /* New committee (receivers). */
    const tkms_dkg_member *new_members;
    size_t n_new, t_new;
    /* Old committee (dealers) for a reshare: n_old = 0 means a DKG (the dealers are the new
     * members). old_poly holds the t_old coefficients of the old public polynomial. */
    const tkms_dkg_member *old_members;
    size_t n_old, t_old;
    const g2_affine_t *old_poly;
    /* This node: its identity keys, and its old share when it is an old member. */
    const tkms_identity *self;
    const fr_t *old_share;
    /* Phase lengths in ticks, counted from start_tick. */
    uint64_t start_tick, deal_ticks, resp_ticks, just_ticks, cert_ticks, fetch_ticks;
    /* Time an echo needs to reach everyone (about two network delays): a receiver that has all
     * deals early still waits this long before responding, so that an equivocating dealer's
     * second bundle reaches it first. 0 means deal_ticks / 2. */
    uint64_t echo_ticks;
    int dev_mode; /* copied into the group file */
    tkms_dkg_rng_fn rng;
    void *rng_ctx;
    /* Optional (NULL: drawn from rng): 32 secret bytes the dealing seed is derived from (with
     * the session ID). A deal is a deterministic function of (seed, session, config), so a dealer
     * that runs the same session again with the same deal_seed re-sends byte-identical deals. A
     * driver that retries a session without its checkpoint passes the deal_seed of the earlier
     * attempt here (docs/dkg.md, "Retries"). Ignored when the node deals nothing. */
    const uint8_t *deal_seed;
    /* Attempt number of the session (docs/dkg.md, "Attempts"): 0 normally; the driver moves to
     * attempt k + 1 only once members have promised that attempt k can never be certified. */
    uint32_t attempt;
} tkms_dkg_config;

typedef enum { TKMS_DKG_RUNNING = 0, TKMS_DKG_FINAL, TKMS_DKG_ABORTED } tkms_dkg_state;

/* Counters for tests and the simulator. */
typedef struct {
    uint64_t rx, rx_dup, rx_bad, rx_stale, rx_badsig, tx, echoes, fetches_sent, fetches_served, adopted;
    uint64_t batch_checks, batch_fallbacks;
} tkms_dkg_stats;

typedef struct tkms_dkg tkms_dkg;

/* Bytes of memory an engine for cfg needs (the engine lives entirely in caller memory). Returns
 * 0 if cfg is out of range. */
size_t tkms_dkg_mem_size(const tkms_dkg_config *cfg);
/* Creates an engine in mem (8-byte aligned, mem_len >= tkms_dkg_mem_size). cfg's arrays are
 * copied; old_share is copied (the caller may wipe its copy). In a reshare, an old member that is
 * also a new member may pass old_share = NULL: it deals nothing and receives a share of the new
 * epoch from the others (repair, docs/dkg.md). Returns NULL on bad arguments: t out of range,
 * self in neither committee, a reshare without old_poly, or an old-only member without a share. */
tkms_dkg *tkms_dkg_init(void *mem, size_t mem_len, const tkms_dkg_config *cfg);
/* Recreates an engine from a checkpoint taken with tkms_dkg_checkpoint under the same cfg
 * (cfg->old_share is ignored: the share comes from the checkpoint, or is gone if erased).
 * The engine re-announces its own messages and asks its peers for what it missed. Returns NULL
 * if the checkpoint is malformed or belongs to another session. */
tkms_dkg *tkms_dkg_restore(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ckpt, size_t len,
                           uint64_t now);
/* Starts a new attempt of the session of a checkpoint (an earlier attempt that aborted, or was
 * abandoned, with the same session ID), on the deadlines of cfg (normally a later start_tick).
 * Everything held is kept: the dealing seed (the deal is re-sent byte-identical), the old share,
 * every signed bundle, and this node's own response, justification and CERT, which are re-sent
 * unchanged, so that the node never signs two different bundles of one kind in one session.
 * A checkpoint that is FINAL gives a FINAL engine. Returns NULL as tkms_dkg_restore does. */
tkms_dkg *tkms_dkg_retry(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ckpt, size_t len,
                         uint64_t now);
/* The driver's signal that this attempt is over for it (e.g. its time window ended): a RUNNING
 * engine becomes ABORTED. A node that signed its CERT never aborts on its own (it waits for the
 * certificates past d_cert); this is how its driver stops it. The computed outcome and share stay
 * readable (tkms_dkg_get_result/get_share), the old share is kept. */
void tkms_dkg_abandon(tkms_dkg *e);
/* Erases the old-epoch share. FINAL erases it by itself except on a new member that ended FINAL
 * without a share of the new group; its driver calls this once it no longer needs it. */
void tkms_dkg_erase_old_share(tkms_dkg *e);
/* Wipes every secret the engine holds. */
void tkms_dkg_wipe(tkms_dkg *e);

/* Feeds one received message (any bytes; they are parsed strictly). Returns 1 if it was new and
 * accepted, 0 if it was a duplicate or rejected (see stats). */
int tkms_dkg_receive(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len);
/* Advances time: deals at the first tick, moves phases at their deadlines. */
void tkms_dkg_tick(tkms_dkg *e, uint64_t now);
/* The next tick at which tkms_dkg_tick has something to do (UINT64_MAX if none). */
uint64_t tkms_dkg_next_deadline(const tkms_dkg *e);

/* Output queue: after every receive/tick call, first persist (tkms_dkg_checkpoint) if
 * tkms_dkg_needs_persist says so, then pop and send every queued message before the next call.
 * dest is a participant slot (tkms_dkg_peer_key) or TKMS_DKG_BROADCAST. *msg stays valid until
 * the next receive/tick call, and (for the one-time echo of an equivocation proof) as long as the
 * input buffer of the call that queued it. Returns 0 when the queue is empty. */
int tkms_dkg_pop_output(tkms_dkg *e, int32_t *dest, const uint8_t **msg, size_t *len);
int tkms_dkg_needs_persist(const tkms_dkg *e);

/* Participants: the new members (slot = new index - 1) followed by the old members that are not
 * new members. Returns the Ed25519 key of slot, or NULL. */
size_t tkms_dkg_peer_count(const tkms_dkg *e);
const uint8_t *tkms_dkg_peer_key(const tkms_dkg *e, size_t slot);
/* This node's own slot. */
size_t tkms_dkg_self_slot(const tkms_dkg *e);

/* Checkpoint: serialises the state needed to resume (secrets included: store it like a key).
 * With out == NULL returns the size; otherwise writes it (cap must suffice) and returns the
 * length, or 0. Clears the persist flag. */
size_t tkms_dkg_checkpoint(tkms_dkg *e, uint8_t *out, size_t cap);

tkms_dkg_state tkms_dkg_get_state(const tkms_dkg *e);
const tkms_dkg_stats *tkms_dkg_get_stats(const tkms_dkg *e);
/* The session's wire tag (= the session ID for attempt 0; see tkms_dkg_wire_tag): what message
 * headers and checkpoints carry. The session ID itself is in tkms_dkg_result.session. */
const uint8_t *tkms_dkg_session(const tkms_dkg *e);
/* 1 if this node has signed its CERT in this attempt. */
int tkms_dkg_cert_signed(const tkms_dkg *e);
/* Wire tag of attempt a of session: the session ID for a = 0, else
 * SHA-256("TKMS-V1-ATTEMPT" || session || be32(a)). out may alias session. */
void tkms_dkg_wire_tag(uint8_t out[32], const uint8_t session[32], uint32_t attempt);

/* The certified (or, before that, computed) outcome. Pointers stay valid as long as e. */
typedef struct {
    uint64_t epoch;
    size_t n, t, t_old;
    uint8_t session[32], prev_group_id[32], transcript_hash[32];
    const uint32_t *qual;        /* dealer indices (old indices in a reshare), ascending */
    size_t n_qual;
    const g2_affine_t *poly;     /* t coefficients; poly[0] is the MPK */
    int has_share;               /* this node is a new member with a valid share */
    uint32_t my_index;           /* new index, 0 if not a new member */
    size_t n_sigs;               /* member certification signatures on transcript_hash */
    const uint32_t *sig_index;
    const uint8_t (*sigs)[64];
    int dev_mode;
} tkms_dkg_result;
/* Returns 1 and fills r if the engine has computed its transcript (state FINAL, or RUNNING after
 * its own computation), 0 otherwise. */
int tkms_dkg_get_result(const tkms_dkg *e, tkms_dkg_result *r);
/* Copies this node's new share (secret) if it has one. Returns 1/0. */
int tkms_dkg_get_share(const tkms_dkg *e, fr_t *share);
/* Whether the engine still holds an old-epoch share (erased once the new group is certified,
 * unless this new member has no share of it: see tkms_dkg_erase_old_share). */
int tkms_dkg_holds_old_share(const tkms_dkg *e);

/* ---- shared definitions (group files use them too) ---- */

/* Session ID = SHA-256("TKMS-V1-SESSION" || be64(epoch) || prev_group_id || member list ||
 * be32(t_new) || be32(t_old)), member list = be32(n) || per member be32(index) || ed25519 ||
 * x25519 || lp(address). prev_group_id is SHA-256("") for epoch 0. */
/* Matching certificates a group file needs: max(t_new, floor(n_new/2) + 1). */
size_t tkms_dkg_cert_quorum(size_t t_new, size_t n_new);
void tkms_dkg_session_id(uint8_t out[32], uint64_t epoch, const uint8_t prev_group_id[32],
                         const tkms_dkg_member *members, size_t n, size_t t_new, size_t t_old);
/* Transcript hash = SHA-256("TKMS-V1-TRANSCRIPT" || session || be32(|QUAL|) || be32 each QUAL
 * index || be32(t) || each coefficient compressed). */
void tkms_dkg_transcript_hash(uint8_t out[32], const uint8_t session[32], const uint32_t *qual, size_t n_qual,
                              const g2_affine_t *poly, size_t t);
/* The bytes a member signs to certify: TKMS_TAG_GROUP_CERT || session || transcript hash (82). */
#define TKMS_DKG_CERT_MSG_LEN (TKMS_TAG_LEN(TKMS_TAG_GROUP_CERT) + 32 + 32)
void tkms_dkg_cert_message(uint8_t out[TKMS_DKG_CERT_MSG_LEN], const uint8_t session[32], const uint8_t thash[32]);

#endif
