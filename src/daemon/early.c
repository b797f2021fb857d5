/* tkmsd: the early-bundle buffer (early.h): per-sender slots of one session each, byte and count
 * budgets per sender and in total, eviction from the largest holder, expiry. */
#include "early.h"

#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <openssl/sha.h>

#include "engine.h"
#include "gfile.h"

#define EARLY_MAX_SENDERS (2u * MAX_MEMBERS) /* current committee + a proposal's new members */
#define SID_OFF 6                            /* "TKDG" | version | type | session[32] */
#define TRIM_AFTER_BYTES (1u << 20)          /* give freed pages back to the OS past this */

typedef struct entry {
    struct entry *next;
    uint64_t at;
    uint8_t digest[32]; /* SHA-256 of msg: exact duplicates (echo storms) are kept once */
    size_t len;
    uint8_t msg[];
} entry;

typedef struct {
    uint8_t key[32];
    uint8_t sid[32];
    entry *head, *tail; /* arrival order */
    size_t bytes, n;
} sender;

struct early_buf {
    early_limits lim;
    sender *s;
    size_t n_s;
    size_t bytes, n;
    uint64_t dropped; /* refused, evicted or expired: the metrics counter */
    size_t freed_since_trim;
    /* early_next_session cache */
    int have_expect;
    uint8_t expect[32];
    uint64_t expect_epoch, expect_until_ms;
    int expect_has_group;
};

early_buf *early_new(const early_limits *lim) {
    early_buf *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    if (lim) b->lim = *lim;
    if (!b->lim.total_bytes) b->lim.total_bytes = EARLY_TOTAL_BYTES;
    if (!b->lim.sender_bytes) b->lim.sender_bytes = EARLY_SENDER_BYTES;
    if (!b->lim.sender_bundles) b->lim.sender_bundles = EARLY_SENDER_BUNDLES;
    if (!b->lim.max_age_ms) b->lim.max_age_ms = EARLY_MAX_AGE_MS;
    if (b->lim.sender_bytes > b->lim.total_bytes) b->lim.sender_bytes = b->lim.total_bytes;
    b->s = calloc(EARLY_MAX_SENDERS, sizeof *b->s);
    if (!b->s) {
        free(b);
        return NULL;
    }
    return b;
}

static void trim(early_buf *b, int force) {
    if (!force && b->freed_since_trim < TRIM_AFTER_BYTES) return;
    b->freed_since_trim = 0;
#if defined(__GLIBC__)
    /* bundles are up to 256 KiB: glibc keeps such chunks in the arena; hand the pages back */
    malloc_trim(0);
#endif
}

static void drop_head(early_buf *b, sender *s, int counted) {
    entry *e = s->head;
    s->head = e->next;
    if (!s->head) s->tail = NULL;
    s->bytes -= e->len;
    s->n--;
    b->bytes -= e->len;
    b->n--;
    b->freed_since_trim += e->len;
    b->dropped += (uint64_t)counted;
    free(e);
}

static void drop_sender(early_buf *b, sender *s, int counted) {
    while (s->head) drop_head(b, s, counted);
}

void early_free(early_buf *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_s; i++) drop_sender(b, &b->s[i], 0);
    free(b->s);
    free(b);
}

size_t early_bytes(const early_buf *b) { return b->bytes; }
size_t early_count(const early_buf *b) { return b->n; }

static sender *find_sender(early_buf *b, const uint8_t key[32], int create) {
    sender *free_slot = NULL;
    for (size_t i = 0; i < b->n_s; i++) {
        if (!memcmp(b->s[i].key, key, 32)) return &b->s[i];
        if (!free_slot && !b->s[i].head) free_slot = &b->s[i];
    }
    if (!create) return NULL;
    if (!free_slot) {
        if (b->n_s == EARLY_MAX_SENDERS) return NULL;
        free_slot = &b->s[b->n_s++];
    }
    memset(free_slot, 0, sizeof *free_slot);
    memcpy(free_slot->key, key, 32);
    return free_slot;
}

static sender *largest(early_buf *b) {
    sender *big = NULL;
    for (size_t i = 0; i < b->n_s; i++)
        if (b->s[i].head && (!big || b->s[i].bytes > big->bytes)) big = &b->s[i];
    return big;
}

int early_put(early_buf *b, const uint8_t from[32], const uint8_t *msg, size_t len, const uint8_t *expect,
              uint64_t now_ms, const char **why) {
    const uint8_t *sid = msg + SID_OFF;
    int status = 200;
    uint8_t dg[32];
    sender *s = NULL;
    entry *e;
    if (len > b->lim.sender_bytes) {
        *why = "bundle larger than the early buffer keeps per sender";
        status = 413;
        goto out;
    }
    if (expect && memcmp(sid, expect, 32) != 0) {
        *why = "no session running, and the bundle is not for the session this node runs next";
        status = 409;
        goto out;
    }
    if (!(s = find_sender(b, from, 1))) {
        *why = "early buffer: too many senders";
        status = 503;
        goto out;
    }
    if (s->head && memcmp(s->sid, sid, 32) != 0) drop_sender(b, s, 1); /* the sender moved on: newest wins */
    memcpy(s->sid, sid, 32);
    SHA256(msg, len, dg);
    for (e = s->head; e; e = e->next)
        if (e->len == len && !memcmp(e->digest, dg, 32)) goto out; /* already held */
    while (s->head && (s->n >= b->lim.sender_bundles || s->bytes + len > b->lim.sender_bytes)) drop_head(b, s, 1);
    while (b->bytes + len > b->lim.total_bytes) {
        /* Only the largest holder loses: a flooding member evicts its own bundles first. */
        sender *big = largest(b);
        if (!big) break;
        drop_head(b, big, 1);
    }
    if (!(e = malloc(sizeof *e + len))) {
        *why = "out of memory";
        status = 503;
        goto out;
    }
    e->next = NULL;
    e->at = now_ms;
    e->len = len;
    memcpy(e->digest, dg, 32);
    memcpy(e->msg, msg, len);
    if (s->tail) s->tail->next = e;
    else s->head = e;
    s->tail = e;
    s->bytes += len;
    s->n++;
    b->bytes += len;
    b->n++;
out:
    if (status != 200) b->dropped++;
    trim(b, 0);
    metrics_early(b->bytes, b->n, b->dropped);
    return status;
}

void early_drain(early_buf *b, const uint8_t sid[32], uint64_t now_ms,
                 void (*fn)(void *arg, const uint8_t *msg, size_t len), void *arg) {
    int had = b->n != 0;
    for (size_t i = 0; i < b->n_s; i++) {
        sender *s = &b->s[i];
        int same = s->head && !memcmp(s->sid, sid, 32);
        for (entry *e = s->head; same && e; e = e->next)
            if (now_ms - e->at < b->lim.max_age_ms) fn(arg, e->msg, e->len);
        drop_sender(b, s, !same);
    }
    b->n_s = 0;
    if (had) trim(b, 1);
    metrics_early(0, 0, b->dropped);
}

void early_expire(early_buf *b, uint64_t now_ms) {
    if (!b->n) return;
    size_t before = b->n;
    for (size_t i = 0; i < b->n_s; i++) {
        sender *s = &b->s[i];
        while (s->head && now_ms - s->head->at >= b->lim.max_age_ms) drop_head(b, s, 1);
    }
    if (b->n == before) return;
    trim(b, 1);
    metrics_early(b->bytes, b->n, b->dropped);
}

int early_next_session(early_buf *b, tkmsd *d, uint64_t now_ms, uint8_t sid[32]) {
    pthread_rwlock_rdlock(&d->lock);
    int has_group = d->group != NULL;
    uint64_t epoch = has_group ? d->group->g.epoch + 1 : 0;
    if (b->have_expect && now_ms < b->expect_until_ms && b->expect_has_group == has_group && b->expect_epoch == epoch) {
        pthread_rwlock_unlock(&d->lock);
        memcpy(sid, b->expect, 32);
        return 1;
    }
    next_committee *c = malloc(sizeof *c);
    int ok = c && daemon_next_committee(d, c);
    pthread_rwlock_unlock(&d->lock);
    if (ok) {
        tkms_dkg_session_id(sid, c->epoch, c->prev_group_id, c->members, c->n_new, c->t_new, c->t_old);
        memcpy(b->expect, sid, 32);
        b->have_expect = 1;
        b->expect_epoch = epoch;
        b->expect_has_group = has_group;
        b->expect_until_ms = now_ms + 1000;
    }
    free(c);
    return ok;
}
