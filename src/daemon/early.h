/* tkmsd: the early-bundle buffer -- protocol bundles that reach this node before its own session
 * starts (a peer's scheduler runs a few ms ahead). Bounded per sender and in total, for the next
 * expected session only, so that one member can neither grow this node's memory nor crowd out the
 * bundles of the others (docs/security.md, "Peer memory bounds"). Not thread-safe: the scheduler
 * calls it under its own mutex. */
#ifndef TKMSD_EARLY_H
#define TKMSD_EARLY_H

#include <stddef.h>
#include <stdint.h>

#include "tkmsd.h"

#define EARLY_TOTAL_BYTES (4u << 20)    /* all senders together */
#define EARLY_SENDER_BYTES (256u << 10) /* one sender; also the largest bundle kept */
#define EARLY_SENDER_BUNDLES 64u        /* one sender */
#define EARLY_MAX_AGE_MS 60000u         /* older bundles are dropped (and their memory freed) */

typedef struct early_buf early_buf;

typedef struct {
    size_t total_bytes, sender_bytes, sender_bundles;
    uint64_t max_age_ms;
} early_limits;

/* A buffer with the given limits (NULL: the defaults above). NULL on OOM. */
early_buf *early_new(const early_limits *lim);
void early_free(early_buf *b);

/* Keeps a copy of msg, a bundle ("TKDG" framing, len >= 38 checked by the caller) that the member
 * from (authenticated by its envelope) sent while no session runs here. expect is the session ID
 * this node runs next, or NULL if unknown (then any session is kept). Each sender holds bundles of
 * one session only (a bundle of another session replaces them: the newest wins), at most
 * sender_bundles of them in sender_bytes (its oldest make room); when the total is full, the
 * sender holding the most bytes loses its oldest, so a flooding member only evicts its own.
 * Returns an HTTP status with *why set on refusal: 200 kept (or an exact duplicate), 409 another
 * session than expect, 413 larger than sender_bytes, 503 out of memory. */
int early_put(early_buf *b, const uint8_t from[32], const uint8_t *msg, size_t len, const uint8_t *expect,
              uint64_t now_ms, const char **why);

/* Calls fn(arg, msg, len) for every bundle of session sid younger than max_age_ms (each sender's
 * in arrival order), then drops every bundle. */
void early_drain(early_buf *b, const uint8_t sid[32], uint64_t now_ms,
                 void (*fn)(void *arg, const uint8_t *msg, size_t len), void *arg);

/* Drops bundles older than max_age_ms. Cheap when there is nothing to drop: call it every tick. */
void early_expire(early_buf *b, uint64_t now_ms);

/* Bytes and bundles held (for tests; the metrics gauges follow them). */
size_t early_bytes(const early_buf *b);
size_t early_count(const early_buf *b);

/* The session this node runs next: the reshare of the current certified group into the committee
 * of its pending proposal (or the same committee), or the genesis DKG before any group. Computed
 * as sched.c plans sessions (build_config, apply_proposal); cached per epoch for a second, since
 * it parses the group file. Returns 1 with sid set, 0 if unknown. Takes d->lock for reading. */
int early_next_session(early_buf *b, tkmsd *d, uint64_t now_ms, uint8_t sid[32]);

#endif
