/* libtkms-client: the sans-I/O collector of threshold partials (docs/client.md, "Structure").
 *
 * One collector gathers the partials of one message point hm -- Q_A for an app key
 * (tkms_client_fetch), H(msg) under the cluster-signature DST for `tkms sign` -- from the members
 * of a trusted group file and of the epochs that follow it. Like the DKG engine (src/dkg/engine.h)
 * it does no I/O (it only reads the clock to report its own verification time): a driver moves
 * the bytes and feeds what came back.
 *
 *   targets:  cl_collect_target() for each member to ask (one row of the report each); new epochs
 *             add targets of their own (cl_collect_n_targets() grows: ask those too).
 *   feed:     cl_collect_feed_key() / cl_collect_feed_sign() with a row's final HTTP status and
 *             body; transport outcomes (timeout, unreachable, too large) through cl_collect_set().
 *             A feed checks the response (transcript, signature, echo, index, epoch), opens the
 *             partial and keeps it pending; CL_NEED_GROUP means an answer names a newer epoch:
 *   groups:   while cl_collect_wants_group(): GET <base>/v1/group?epoch=<e> and give the answer
 *             (or the transport error) to cl_collect_group(); each group must follow from the
 *             previous one (tkms_group_verify), so the MPK stays the trusted one.
 *   quorum:   cl_collect_quorum() batch-checks the pending partials of each epoch against its
 *             public shares (naming bad nodes) and says whether some epoch has t valid ones.
 *   verdict:  cl_collect_verdict() combines the first t valid partials of that epoch and checks
 *             the result under the trusted MPK; cl_collect_report() hands over the report.
 *
 * Randomness: batch-check seeds come from RAND_bytes. Not thread-safe (one driver). */
#ifndef TKMS_CLIENT_COLLECT_H
#define TKMS_CLIENT_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "g1.h"
#include "group.h"
#include "tkms/client.h"

typedef struct cl_collect cl_collect;

typedef struct {
    const tkms_group *group;  /* the trusted group file (copied) */
    const g1_affine_t *hm;    /* the message point (copied) */
    tkms_client_log_fn log;   /* may be NULL */
    void *log_ctx;
} cl_collect_cfg;

/* NULL on allocation failure. */
cl_collect *cl_collect_new(const cl_collect_cfg *cfg);
/* Wipes the partials and the key-response secret and frees everything. */
void cl_collect_free(cl_collect *c);

/* Key release: what the responses must echo and the X25519 key that opens their partials. */
void cl_collect_set_release(cl_collect *c, const uint8_t app_id[20], const uint8_t recipient[32], const uint8_t nonce[32],
                            const uint8_t sk[32]);

/* Adds a member to ask: its address and index in the group of `epoch`. Returns its row, or
 * SIZE_MAX if that address is already a target (or on allocation failure). */
size_t cl_collect_target(cl_collect *c, const char *address, uint32_t index, uint64_t epoch);
size_t cl_collect_n_targets(const cl_collect *c);
/* The full address of a row (the report's copy may be truncated). */
const char *cl_collect_address(const cl_collect *c, size_t row);
/* A row of the report (the driver fills attempts, ms, http_status). */
tkms_client_node_report *cl_collect_row(cl_collect *c, size_t row);
/* Sets a row's state, code and detail (transport outcomes, cancelled requests). */
void cl_collect_set(cl_collect *c, size_t row, tkms_client_node_state s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

typedef enum {
    CL_FEED_DONE = 0,  /* the response is accounted for (its row says how) */
    CL_FEED_NEED_GROUP /* it names a newer epoch: fetch groups (cl_collect_wants_group) */
} cl_feed;

/* A key-release answer (POST /v1/keys/app, docs/release-protocol.md §1): a 200 body is checked
 * and its partial opened; another status is recorded with the error body's code. */
cl_feed cl_collect_feed_key(cl_collect *c, size_t row, long http_status, const uint8_t *body, size_t len);
/* A 200 answer to POST /v1/sign: {"epoch", "index", "partial"}. authentic says whether the
 * transport-level response signature (the envelope headers, checked by the caller under the
 * member's key in the group file) verified. */
cl_feed cl_collect_feed_sign(cl_collect *c, size_t row, const uint8_t *body, size_t len, int authentic);

/* 1 while a fed response waits for the group of *epoch, to be fetched from *base. */
int cl_collect_wants_group(const cl_collect *c, const char **base, uint64_t *epoch);
/* The group file asked for (body NULL: transport_err says why it could not be fetched). */
cl_feed cl_collect_group(cl_collect *c, const uint8_t *body, size_t len, const char *transport_err);

/* Batch-checks pending partials of every epoch that could reach t (all of them with force).
 * Returns 1 once some epoch has t valid partials (newest epoch first). */
int cl_collect_quorum(cl_collect *c, int force);
/* Combines the first t valid partials of the quorum epoch into *out and checks it under the
 * trusted MPK (e(out, G2) == e(hm, MPK)); marks them used. Without a quorum: TKMS_CLIENT_E_QUORUM
 * naming every node that gave no valid partial. */
tkms_client_status cl_collect_verdict(cl_collect *c, g1_affine_t *out, tkms_status *es);
/* The best epoch so far: its valid partials, its threshold and number. */
void cl_collect_best(const cl_collect *c, size_t *valid, size_t *t, uint64_t *epoch);
/* Moves the report (rows, counts, n/t/epoch of the quorum epoch, ms_verify) into rep. */
void cl_collect_report(cl_collect *c, tkms_client_report *rep);
/* Milliseconds spent verifying (signatures, HPKE, batch checks). */
double cl_collect_ms_verify(const cl_collect *c);

#endif
