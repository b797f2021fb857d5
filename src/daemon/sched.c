/* tkmsd: scheduling and the engine driver -- genesis DKG and reshare slots, committee proposals,
 * feeding peer bundles and ticks to the sans-I/O engine, persisting its checkpoint before any of
 * its output leaves the node, committing certified epochs, peer probes and catch-up. */
#include "tkmsd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "early.h"
#include "engine.h"
#include "tbls.h"
#include "gfile.h"

/* Inputs a session was started with; persisted with its checkpoint so a restart rebuilds the
 * same engine configuration. */
typedef struct {
    int is_dkg;
    uint64_t epoch, slot, start_ms;
    uint32_t n_new, t_new;
    tkms_dkg_member new_members[TKMS_DKG_MAX_N];
    uint32_t attempt; /* docs/dkg.md, "Attempts" */
} session_plan;

#define NOCERT_SKIP_MAX 32 /* attempts a member may list as "left without a promise" */

struct sched {
    tkmsd *d;
    pthread_mutex_t mu; /* engine, plan, early buffer */
    /* the running (or last finished) engine */
    tkms_dkg *eng;
    void *eng_mem;
    size_t eng_mem_len;
    session_plan plan;
    tkms_dkg_member old_members[TKMS_DKG_MAX_N];
    uint32_t n_old;
    int finished; /* eng is kept only to answer catch-up requests */
    /* eng signed its CERT and is still RUNNING past its window: it keeps collecting certificates
     * until the next slot (or catch-up) ends the attempt with tkms_dkg_abandon */
    int lingering;
    int retried; /* eng was started by tkms_dkg_retry */
    uint64_t window_end_ms;
    uint64_t started_mono;
    tkms_identity *self; /* locked memory */
    early_buf *early; /* bundles for the next session, received before it starts here */
    /* probes and catch-up */
    uint64_t next_probe_ms;
    unsigned probe_outstanding, probe_up;
    uint64_t best_peer_epoch;
    char best_peer_url[256];
    int fetching;
    uint64_t next_slot; /* first schedule slot not attempted yet (persisted) */
    /* Schedule clock (sched_now): this node's clock plus the median offset to the members'
     * clocks measured by the probes, so that every member runs a slot's session on the same
     * deadlines although their clocks disagree by up to clock_skew_s. */
    _Atomic long long clock_offset_ms;
    uint64_t probe_sent_ms;
    unsigned probe_n;
    long long probe_off[MAX_MEMBERS];
    /* What the last probe round saw of the members of the current epoch (main thread writes,
     * under mu). peer_share[i] = 1 if member i+1 reported a share of this epoch. */
    uint64_t seen_epoch;
    uint8_t peer_share[MAX_MEMBERS];
    unsigned holders;        /* members known to hold a share of the current epoch (self included) */
    uint64_t holders_epoch;  /* the epoch holders was counted for */
    int holders_valid;       /* 0 until a probe round found us at the committee's epoch */
    unsigned last_holders;   /* for logging changes */
    unsigned peers_at_epoch; /* peers that answered the last probe round at our epoch */
    unsigned peers_ahead;    /* peers that answered with a newer epoch (a claim, not yet verified) */
    int behind;              /* more peers claim a newer epoch than can be faulty: our epoch is stale */
    /* Repair (docs/dkg.md "Repair"): no-share announcements for the current epoch. */
    uint64_t repair_epoch;   /* epoch the fields below are for */
    uint64_t repair_at;      /* earliest announcement time (announcer's schedule clock), 0: none */
    uint8_t noshare[MAX_MEMBERS];
    uint64_t repair_next_m;  /* first repair slot index not attempted yet */
    int is_repair;           /* the running session is a repair reshare */
    uint64_t next_announce_mono;
    /* Attempts (docs/dkg.md, "Attempts"): the attempt of the next epoch's session this node runs,
     * and the no-certificate promises (NOCERT) held for it, by new index. */
    uint64_t att_epoch;
    uint32_t att_value;
    int att_loaded;
    /* each new member's latest statement: no CERT in any attempt <= upto except those in skip
     * (upto = -1: none yet); this node's own statement is derived from att_value, nocert_mine and
     * my_skip */
    long long nc_upto[MAX_MEMBERS];
    uint32_t nc_skip[MAX_MEMBERS][NOCERT_SKIP_MAX];
    uint8_t nc_nskip[MAX_MEMBERS];
    uint32_t my_skip[NOCERT_SKIP_MAX]; /* attempts this node left without promising (it may have signed) */
    uint8_t my_nskip;
    int nocert_mine; /* this node promised NOCERT for (att_epoch, att_value) */
    uint64_t next_nocert_mono;
    /* test hook (TKMS_TEST_KILL_AFTER_CERT=epoch): SIGKILL once our CERT of that epoch is sent */
    long long kill_epoch;
    int kill_armed;
};

/* The schedule clock in ms (see clock_offset_ms). */
static uint64_t sched_now(const struct sched *s) {
    long long off = atomic_load(&s->clock_offset_ms);
    uint64_t now = node_now_ms();
    return off < 0 && (uint64_t)-off > now ? 0 : (uint64_t)((long long)now + off);
}

static void rng_cb(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    if (!node_random(out, len)) abort(); /* no randomness: never deal with a predictable polynomial */
}

static uint64_t phase_ms(tkmsd *d) { return (uint64_t)d->cfg.phase_timeout_ms; }
static uint64_t window_ms(tkmsd *d) { return 5 * phase_ms(d) + 2000; }
static uint64_t interval_ms(tkmsd *d) { return d->have_genesis ? (uint64_t)d->genesis.interval_s * 1000u : window_ms(d); }

/* ---- committee proposals ---- */

struct sched *sched_new(tkmsd *d) {
    struct sched *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->d = d;
    pthread_mutex_init(&s->mu, NULL);
    s->self = node_secure_alloc(sizeof *s->self);
    s->early = early_new(NULL);
    if (!s->self || !s->early) {
        node_secure_free(s->self, sizeof *s->self);
        early_free(s->early);
        free(s);
        return NULL;
    }
    memcpy(s->self->sign_sk, d->sec->ed_sk, 32);
    memcpy(s->self->sign_pk, d->sec->ed_pk, 32);
    memcpy(s->self->kem_sk, d->sec->x_sk, 32);
    memcpy(s->self->kem_pk, d->sec->x_pk, 32);
    s->kill_epoch = -1;
    const char *hook = getenv("TKMS_TEST_KILL_AFTER_CERT");
    if (hook && *hook) {
        s->kill_epoch = strtoll(hook, NULL, 10);
        logf_(TLOG_WARN, "test_hook", "TKMS_TEST_KILL_AFTER_CERT=%lld: this node kills itself after certifying", s->kill_epoch);
    }
    char *v = NULL;
    if (node_store_get_meta(d->store, "next_slot", &v, NULL) && v) s->next_slot = strtoull(v, NULL, 10);
    free(v);
    if (d->group) {
        /* a member of the pending committee proposal is waiting to join */
        next_committee *c = malloc(sizeof *c);
        if (c && daemon_next_committee(d, c) && c->from_proposal)
            for (uint32_t i = 0; i < c->n_new; i++)
                if (!memcmp(c->members[i].sign_pk, d->sec->ed_pk, 32)) atomic_store(&d->pending_join, 1);
        free(c);
    }
    return s;
}

static void drop_engine(struct sched *s) {
    if (s->eng) tkms_dkg_wipe(s->eng);
    node_secure_free(s->eng_mem, s->eng_mem_len);
    s->eng = NULL;
    s->eng_mem = NULL;
    s->eng_mem_len = 0;
    s->finished = 0;
    s->lingering = 0;
    atomic_store(&s->d->session_active, 0);
}

void sched_free(struct sched *s) {
    if (!s) return;
    drop_engine(s);
    early_free(s->early);
    node_secure_free(s->self, sizeof *s->self);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const char *address_of(struct sched *s, const uint8_t key[32]) {
    for (uint32_t i = 0; i < s->plan.n_new; i++)
        if (!memcmp(s->plan.new_members[i].sign_pk, key, 32)) return s->plan.new_members[i].address;
    for (uint32_t i = 0; i < s->n_old; i++)
        if (!memcmp(s->old_members[i].sign_pk, key, 32)) return s->old_members[i].address;
    return NULL;
}

/* ---- checkpoint blob: be32(len) || plan || engine checkpoint ---- */
static int persist(struct sched *s, tkms_status *st) {
    size_t n = tkms_dkg_checkpoint(s->eng, NULL, 0);
    size_t total = sizeof s->plan + n;
    uint8_t *b = malloc(total);
    if (!b) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    memcpy(b, &s->plan, sizeof s->plan);
    size_t w = tkms_dkg_checkpoint(s->eng, b + sizeof s->plan, n);
    int ok = w == n && w > 0;
    if (!ok) node_err(st, TKMS_CLASS_INTERNAL, "engine checkpoint failed");
    /* Once the engine has computed its outcome it signs (or has signed) its certification: the
     * new share goes to pending_shares in the same transaction, before the CERT leaves this node,
     * so that catch-up to the certified group finds it after any crash (docs/dkg.md, "Driver"). */
    node_pending_share *pend = node_secure_alloc(sizeof *pend);
    tkms_dkg_result r;
    fr_t sh;
    int has_pending = pend && tkms_dkg_get_result(s->eng, &r) && r.has_share && tkms_dkg_get_share(s->eng, &sh);
    if (has_pending) {
        pend->epoch = r.epoch;
        memcpy(pend->thash, r.transcript_hash, 32);
        pend->index = r.my_index;
        fr_to_bytes(pend->share, &sh);
        node_wipe(&sh, sizeof sh);
    }
    ok = ok && node_store_put_session(s->d->store, s->d->sec->storage_key, tkms_dkg_session(s->eng), s->plan.epoch,
                                      s->plan.is_dkg ? "dkg" : "reshare", b, total, has_pending ? pend : NULL, st);
    node_secure_free(pend, sizeof *pend);
    node_wipe(b, total);
    free(b);
    return ok;
}

static void on_sent(void *ctx, int ok, long status, const char *body, size_t len) {
    (void)ctx;
    (void)body;
    (void)len;
    metrics_peer(ok && status < 500, !(ok && status < 500), 0);
}

/* Persists (if the engine asks) and then sends every queued output. Called with s->mu held. If
 * the checkpoint cannot be written, nothing is sent: a message whose state is not on disk could
 * be contradicted after a crash. */
static void flush_outputs(struct sched *s) {
    if (!s->eng) return;
    if (tkms_dkg_needs_persist(s->eng)) {
        tkms_status st = {0};
        if (!persist(s, &st)) {
            log_json(TLOG_ERROR, "checkpoint_failed", json_pack("{s:s}", "error", st.msg));
            int32_t dest;
            const uint8_t *m;
            size_t l;
            while (tkms_dkg_pop_output(s->eng, &dest, &m, &l)) {
            }
            metrics_reshare(s->plan.is_dkg, 0, 0);
            drop_engine(s);
            return;
        }
    }
    int32_t dest;
    const uint8_t *m;
    size_t l;
    while (tkms_dkg_pop_output(s->eng, &dest, &m, &l)) {
        size_t np = tkms_dkg_peer_count(s->eng), self = tkms_dkg_self_slot(s->eng);
        /* test hook: our own CERT of the hooked epoch is on its way (header: type at 5, sender
         * at 38); the daemon dies once it has been sent (sched_tick) */
        if (s->kill_epoch >= 0 && (uint64_t)s->kill_epoch == s->plan.epoch && l > 42 && m[5] == TKMS_DKG_MSG_CERT &&
            !s->plan.is_dkg && (size_t)(((uint32_t)m[38] << 24 | (uint32_t)m[39] << 16 | (uint32_t)m[40] << 8 | m[41]) - 1) == self)
            s->kill_armed = 1;
        for (size_t slot = 0; slot < np; slot++) {
            if (slot == self || (dest != TKMS_DKG_BROADCAST && (size_t)dest != slot)) continue;
            const char *addr = address_of(s, tkms_dkg_peer_key(s->eng, slot));
            if (addr) peer_send(s->d->peers, "POST", addr, "/v1/peer/bundle", m, l, 1, on_sent, NULL);
        }
    }
}

static int build_config(struct sched *s, tkms_dkg_config *cfg, fr_t *old_share, int *have_old) {
    tkmsd *d = s->d;
    memset(cfg, 0, sizeof *cfg);
    *have_old = 0;
    cfg->epoch = s->plan.epoch;
    cfg->new_members = s->plan.new_members;
    cfg->n_new = s->plan.n_new;
    cfg->t_new = s->plan.t_new;
    cfg->self = s->self;
    uint64_t p = phase_ms(d);
    cfg->start_tick = s->plan.start_ms;
    cfg->deal_ticks = p;
    cfg->resp_ticks = p;
    cfg->just_ticks = p;
    cfg->cert_ticks = p;
    cfg->fetch_ticks = p;
    cfg->rng = rng_cb;
    cfg->attempt = s->plan.attempt;
    s->n_old = 0;
    if (!s->plan.is_dkg) {
        /* called with d->lock held for reading */
        node_group *g = d->group;
        if (!g || g->g.epoch + 1 != s->plan.epoch) return 0;
        memcpy(cfg->prev_group_id, g->id, 32);
        memcpy(s->old_members, g->g.members, g->g.n * sizeof *s->old_members);
        s->n_old = g->g.n;
        cfg->old_members = s->old_members;
        cfg->n_old = g->g.n;
        cfg->t_old = g->g.t;
        cfg->old_poly = g->g.poly;
        cfg->dev_mode = g->g.dev_mode;
        if (d->have_share) {
            *old_share = *d->share;
            *have_old = 1;
            cfg->old_share = old_share;
        }
    } else {
        cfg->t_old = 0;
        cfg->dev_mode = d->genesis.dev_mode; /* a dev cluster is one from its genesis on */
    }
    return 1;
}

/* The checkpoint kept from an earlier attempt of the session cfg describes (same session ID),
 * without its plan prefix: *blob malloc'd (wipe it), NULL if none. */
static void earlier_attempt(struct sched *s, const tkms_dkg_config *cfg, uint8_t **blob, size_t *len) {
    uint8_t sid[32], prev[32];
    *blob = NULL;
    *len = 0;
    if (cfg->n_old) memcpy(prev, cfg->prev_group_id, 32);
    else SHA256((const uint8_t *)"", 0, prev);
    tkms_dkg_session_id(sid, cfg->epoch, prev, cfg->new_members, cfg->n_new, cfg->t_new, cfg->n_old ? cfg->t_old : 0);
    tkms_dkg_wire_tag(sid, sid, cfg->attempt);
    tkms_status st = {0};
    uint8_t *b = NULL;
    size_t l = 0;
    if (!node_store_get_session_by_sid(s->d->store, s->d->sec->storage_key, sid, &b, &l, &st)) {
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
        return;
    }
    if (b && l > sizeof(session_plan)) {
        *blob = b;
        *len = l;
        return;
    }
    if (b) node_wipe(b, l);
    free(b);
}

static void replay_early(void *arg, const uint8_t *msg, size_t len) {
    struct sched *s = arg;
    tkms_dkg_receive(s->eng, sched_now(s), msg, len);
}

/* Creates the engine for s->plan: restored from ckpt (a restart within the attempt), or, without
 * ckpt, a retry from the checkpoint of an earlier attempt of the same session if one is stored
 * (docs/dkg.md, "Retries": a fresh engine would deal a second polynomial and be taken for an
 * equivocator), else a fresh one. Called with s->mu held. */
static int start_engine(struct sched *s, const uint8_t *ckpt, size_t ckpt_len) {
    tkmsd *d = s->d;
    tkms_dkg_config cfg;
    fr_t old;
    int have_old = 0, retried = 0;
    uint8_t *prior = NULL;
    size_t prior_len = 0;
    drop_engine(s);
    pthread_rwlock_rdlock(&d->lock);
    int ok = build_config(s, &cfg, &old, &have_old);
    size_t need = ok ? tkms_dkg_mem_size(&cfg) : 0;
    if (need) {
        s->eng_mem_len = need;
        s->eng_mem = node_secure_alloc(need);
    }
    if (s->eng_mem) {
        uint64_t now = sched_now(s);
        if (ckpt) {
            s->eng = tkms_dkg_restore(s->eng_mem, need, &cfg, ckpt, ckpt_len, now);
        } else {
            earlier_attempt(s, &cfg, &prior, &prior_len);
            if (prior) {
                s->eng = tkms_dkg_retry(s->eng_mem, need, &cfg, prior + sizeof(session_plan),
                                        prior_len - sizeof(session_plan), now);
                retried = s->eng != NULL;
                if (!s->eng)
                    /* Unreadable checkpoint: nothing to retry from. A fresh engine is the only way
                     * forward; peers holding the earlier deal may disqualify this dealer. */
                    log_json(TLOG_ERROR, "session_retry_failed",
                             json_pack("{s:s, s:I}", "kind", s->plan.is_dkg ? "dkg" : "reshare", "epoch",
                                       (json_int_t)s->plan.epoch));
            }
            if (!s->eng) s->eng = tkms_dkg_init(s->eng_mem, need, &cfg);
        }
    }
    pthread_rwlock_unlock(&d->lock);
    node_wipe(&old, sizeof old);
    if (prior) node_wipe(prior, prior_len);
    free(prior);
    if (!s->eng) {
        node_secure_free(s->eng_mem, s->eng_mem_len);
        s->eng_mem = NULL;
        s->eng_mem_len = 0;
        log_json(TLOG_WARN, "session_not_started",
                 json_pack("{s:s, s:I, s:b}", "kind", s->plan.is_dkg ? "dkg" : "reshare", "epoch",
                           (json_int_t)s->plan.epoch, "restore", ckpt != NULL));
        return 0;
    }
    s->finished = 0;
    s->lingering = 0;
    s->retried = retried;
    s->window_end_ms = s->plan.start_ms + window_ms(d);
    s->started_mono = node_mono_ms();
    atomic_store(&d->session_active, 1);
    char sh[65];
    tkms_hex(sh, tkms_dkg_session(s->eng), 32);
    log_json(TLOG_INFO, ckpt ? "session_resumed" : retried ? "session_retried" : "session_started",
             json_pack("{s:s, s:I, s:s, s:i, s:i, s:I}", "kind",
                       s->plan.is_dkg ? "dkg" : s->is_repair ? "repair" : "reshare", "epoch",
                       (json_int_t)s->plan.epoch, "session", sh, "n", (int)s->plan.n_new, "t", (int)s->plan.t_new,
                       "slot", (json_int_t)s->plan.slot));
    /* replay bundles that arrived before the session started */
    uint64_t now = sched_now(s);
    early_drain(s->early, tkms_dkg_session(s->eng), node_now_ms(), replay_early, s);
    tkms_dkg_tick(s->eng, now);
    flush_outputs(s);
    daemon_refresh_state(d);
    return 1;
}

static void set_last_slot(struct sched *s, uint64_t slot) {
    s->next_slot = slot + 1;
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)(slot + 1));
    tkms_status st;
    if (!node_store_set_meta(s->d->store, "next_slot", v, &st))
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
}

/* The engine certified: store the group and the share atomically, erase the old share, switch. */
static void commit_result(struct sched *s) {
    tkmsd *d = s->d;
    tkms_dkg_result r;
    if (!tkms_dkg_get_result(s->eng, &r)) return;
    tkms_status st = {0};
    char *json = gfile_from_result(&r, s->plan.new_members, s->plan.n_new, &st);
    node_group *g = json ? calloc(1, sizeof *g) : NULL;
    if (!g || !node_group_parse(g, json, &st)) {
        log_json(TLOG_ERROR, "group_build_failed", json_pack("{s:s}", "error", st.msg));
        free(json);
        free(g);
        metrics_reshare(s->plan.is_dkg, 0, 0);
        s->finished = 1;
        return;
    }
    fr_t share;
    int has = r.has_share && tkms_dkg_get_share(s->eng, &share);
    uint8_t sb[32];
    if (has) fr_to_bytes(sb, &share);
    if (!has && r.my_index) {
        /* adopted without a share: an earlier attempt of this session may have computed it */
        uint32_t pidx = 0;
        int found = 0;
        tkms_status pst = {0};
        if (node_store_get_pending_share(d->store, d->sec->storage_key, r.epoch, r.transcript_hash, &pidx, sb, &found,
                                         &pst) &&
            found && pidx == r.my_index && fr_from_bytes(&share, sb) &&
            tbls_verify_share(&share, pidx, g->g.poly, g->g.t))
            has = 1;
        if (has) tkms_dkg_erase_old_share(s->eng); /* it holds a share of the certified group now */
        else node_wipe(&share, sizeof share);
    }
    /* A member of the new group without a share of it keeps its old share (docs/dkg.md rule 8):
     * it is erased once this node holds a share of a certified group, or leaves the committee. */
    int keep_old = !has && r.my_index != 0;
    /* A retry that is FINAL within the deal phase finished an attempt of an earlier slot (the
     * certificates were out already): the committee may run the next epoch in this slot, join it. */
    uint64_t next = s->plan.slot + 1;
    if (s->retried && sched_now(s) < s->plan.start_ms + phase_ms(d)) next = s->plan.slot;
    char slotv[32];
    snprintf(slotv, sizeof slotv, "%llu", (unsigned long long)next);
    int ok = node_store_commit_epoch_keep(d->store, d->sec->storage_key, g->g.epoch, json, r.my_index, has ? sb : NULL,
                                          has ? 32 : 0, keep_old, "next_slot", slotv, &st);
    node_wipe(sb, sizeof sb);
    free(json);
    if (!ok) {
        /* nothing changed on disk; the old epoch keeps serving and the peers' certification
         * will be fetched again by catch-up once the disk is writable */
        log_json(TLOG_ERROR, "commit_failed", json_pack("{s:s}", "error", st.msg));
        node_wipe(&share, sizeof share);
        node_group_free(g);
        free(g);
        metrics_reshare(s->plan.is_dkg, 0, 0);
        s->finished = 1;
        return;
    }
    uint64_t ms = node_mono_ms() - s->started_mono;
    daemon_install_epoch(d, g, has ? &share : NULL, r.my_index);
    daemon_confirm_epoch(d); /* this node collected the certificates itself */
    node_wipe(&share, sizeof share);
    s->next_slot = next;
    metrics_reshare(s->plan.is_dkg, 1, ms);
    if (s->is_repair) metrics_repair(1);
    node_store_audit(d->store, s->plan.is_dkg ? "dkg" : "reshare", NULL, "certified", NULL);
    char mh[193];
    uint8_t mpk[96];
    g2_serialize(mpk, &g->g.poly[0]);
    tkms_hex(mh, mpk, 96);
    log_json(TLOG_INFO, "epoch_certified",
             json_pack("{s:s, s:I, s:i, s:i, s:i, s:b, s:s, s:I}", "kind",
                       s->plan.is_dkg ? "dkg" : s->is_repair ? "repair" : "reshare", "epoch",
                       (json_int_t)g->g.epoch, "t", (int)g->g.t, "n", (int)g->g.n, "index", (int)r.my_index, "share", has,
                       "mpk", mh, "ms", (json_int_t)ms));
    s->finished = 1;
    atomic_store(&d->session_active, 0);
    daemon_refresh_state(d);
}

static json_t *stats_json(const tkms_dkg *e) {
    const tkms_dkg_stats *x = tkms_dkg_get_stats(e);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx", (json_int_t)x->rx, "rx_dup",
                     (json_int_t)x->rx_dup, "rx_bad", (json_int_t)x->rx_bad, "rx_stale", (json_int_t)x->rx_stale,
                     "rx_badsig", (json_int_t)x->rx_badsig, "tx", (json_int_t)x->tx, "fetches_sent",
                     (json_int_t)x->fetches_sent, "fetches_served", (json_int_t)x->fetches_served, "adopted",
                     (json_int_t)x->adopted);
}

/* The engine gave up, but it may have computed (and signed) the new transcript: others can still
 * certify it. Keep the computed share aside so that adopting that certified group keeps it. */
static void keep_pending_share(struct sched *s) {
    tkms_dkg_result r;
    fr_t share;
    if (!tkms_dkg_get_result(s->eng, &r) || !r.has_share || !tkms_dkg_get_share(s->eng, &share)) return;
    uint8_t b[32];
    fr_to_bytes(b, &share);
    node_wipe(&share, sizeof share);
    tkms_status st = {0};
    if (!node_store_put_pending_share(s->d->store, s->d->sec->storage_key, r.epoch, r.transcript_hash, r.my_index, b, &st))
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
    else
        log_json(TLOG_INFO, "pending_share_kept", json_pack("{s:I, s:i}", "epoch", (json_int_t)r.epoch, "index", (int)r.my_index));
    node_wipe(b, sizeof b);
}

/* ---- attempts: NOCERT promises (docs/dkg.md, "Attempts") ---- */

/* Loads the attempt state of epoch into s (meta "attempt:E", "nocert:E:A"). Called with mu held. */
static void attempt_load(struct sched *s, uint64_t epoch) {
    if (s->att_loaded && s->att_epoch == epoch) return;
    char k[64], *v = NULL;
    s->att_epoch = epoch;
    s->att_value = 0;
    s->att_loaded = 1;
    for (size_t i = 0; i < MAX_MEMBERS; i++) s->nc_upto[i] = -1;
    memset(s->nc_nskip, 0, sizeof s->nc_nskip);
    s->my_nskip = 0;
    snprintf(k, sizeof k, "attempt:%llu", (unsigned long long)epoch);
    if (node_store_get_meta(s->d->store, k, &v, NULL) && v) s->att_value = (uint32_t)strtoul(v, NULL, 10);
    free(v);
    v = NULL;
    snprintf(k, sizeof k, "nocert:%llu:%u", (unsigned long long)epoch, s->att_value);
    s->nocert_mine = node_store_get_meta(s->d->store, k, &v, NULL) && v;
    free(v);
    v = NULL;
    snprintf(k, sizeof k, "skip:%llu", (unsigned long long)epoch);
    if (node_store_get_meta(s->d->store, k, &v, NULL) && v) {
        for (char *p = v, *end; *p && s->my_nskip < NOCERT_SKIP_MAX; p = *end ? end + 1 : end) {
            unsigned long a = strtoul(p, &end, 10);
            if (end == p) break;
            s->my_skip[s->my_nskip++] = (uint32_t)a;
        }
    }
    free(v);
}

/* Does statement (upto, skip) promise no CERT in attempt a? */
static int nc_covers(long long upto, const uint32_t *skip, size_t nskip, uint32_t a) {
    if (upto < (long long)a) return 0;
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] == a) return 0;
    return 1;
}

/* NOCERT promises needed to move on: n - q + 1, so that at most q - 1 members could still sign a
 * CERT of the attempt, fewer than the q = tkms_dkg_cert_quorum certificates a group file needs
 * (members keep their promises; docs/dkg.md, "Attempts", on a member that would not). Every member
 * either signs or promises once its attempt ends, so an attempt without q signers always
 * collects them. */
static uint32_t nocert_needed(const session_plan *p) {
    size_t n = p->n_new, q = tkms_dkg_cert_quorum(p->t_new, n);
    return (uint32_t)(n + 1 - q);
}

/* Fills the committee part of p (is_dkg, epoch, n_new, t_new, new_members) for the session after
 * the current epoch (daemon_next_committee). Returns 1 if this node takes part. d->lock held. */
static int plan_committee(tkmsd *d, session_plan *p) {
    next_committee *c = malloc(sizeof *c);
    int ok = c && daemon_next_committee(d, c);
    if (ok) {
        p->is_dkg = c->is_dkg;
        p->epoch = c->epoch;
        p->n_new = c->n_new;
        p->t_new = c->t_new;
        memcpy(p->new_members, c->members, c->n_new * sizeof *p->new_members);
        ok = daemon_in_committee(d, c);
    }
    free(c);
    return ok;
}

/* The plan of the session this node would run next (regular reshare or DKG). Called with mu held. */
static int next_plan(struct sched *s, session_plan *p) {
    tkmsd *d = s->d;
    memset(p, 0, sizeof *p);
    pthread_rwlock_rdlock(&d->lock);
    int ok = (d->group || d->have_genesis) && (plan_committee(d, p), 1);
    pthread_rwlock_unlock(&d->lock);
    return ok;
}

/* This node's statement: no CERT in any attempt <= upto except my_skip. Returns 0 if it has none. */
static int my_statement(const struct sched *s, long long *upto) {
    *upto = s->nocert_mine ? (long long)s->att_value : (long long)s->att_value - 1;
    return *upto >= 0;
}

static void send_nocert(struct sched *s, const session_plan *p) {
    long long upto;
    if (!my_statement(s, &upto)) return;
    char body[64 + 12 * NOCERT_SKIP_MAX];
    int bl = snprintf(body, sizeof body, "{\"epoch\":%llu,\"skip\":[", (unsigned long long)p->epoch);
    for (size_t i = 0; i < s->my_nskip; i++) bl += snprintf(body + bl, sizeof body - (size_t)bl, "%s%u", i ? "," : "", s->my_skip[i]);
    bl += snprintf(body + bl, sizeof body - (size_t)bl, "],\"upto\":%lld}", upto);
    for (uint32_t i = 0; i < p->n_new; i++)
        if (memcmp(p->new_members[i].sign_pk, s->d->sec->ed_pk, 32))
            peer_send(s->d->peers, "POST", p->new_members[i].address, "/v1/peer/nocert", (const uint8_t *)body,
                      (size_t)bl, 1, NULL, NULL);
}

/* Counts the promises for the current attempt; with enough of them the attempt can never be
 * certified: move to the next one (a fresh engine with a fresh seed, new wire tag). Called with
 * mu held. */
static void nocert_check(struct sched *s, const session_plan *p) {
  again:;
    uint32_t have = 0, need = nocert_needed(p), old = s->att_value;
    long long mine_upto;
    int mine = my_statement(s, &mine_upto);
    for (uint32_t i = 0; i < p->n_new && i < MAX_MEMBERS; i++) {
        if (!memcmp(p->new_members[i].sign_pk, s->d->sec->ed_pk, 32))
            have += mine && nc_covers(mine_upto, s->my_skip, s->my_nskip, old);
        else
            have += nc_covers(s->nc_upto[i], s->nc_skip[i], s->nc_nskip[i], old);
    }
    if (have < need) return;
    if (!s->nocert_mine && s->my_nskip < NOCERT_SKIP_MAX) {
        /* leaving an attempt without having promised (it may have signed): never claim it */
        s->my_skip[s->my_nskip++] = old;
        char sk[64], sv[12 * NOCERT_SKIP_MAX + 1];
        size_t o = 0;
        sv[0] = 0;
        for (size_t i = 0; i < s->my_nskip; i++) o += (size_t)snprintf(sv + o, sizeof sv - o, "%s%u", i ? "," : "", s->my_skip[i]);
        snprintf(sk, sizeof sk, "skip:%llu", (unsigned long long)p->epoch);
        tkms_status kst = {0};
        if (!node_store_set_meta(s->d->store, sk, sv, &kst))
            log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", kst.msg));
    }
    char k[64], v[24];
    snprintf(k, sizeof k, "attempt:%llu", (unsigned long long)p->epoch);
    snprintf(v, sizeof v, "%u", old + 1);
    tkms_status st = {0};
    if (!node_store_set_meta(s->d->store, k, v, &st)) {
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
        return;
    }
    /* the abandoned attempt's checkpoint is of no use any more (it can never be certified) */
    if (s->eng && !s->finished && s->plan.epoch == p->epoch && s->plan.attempt == old) {
        tkms_dkg_abandon(s->eng);
        drop_engine(s);
    }
    session_plan q = *p;
    q.attempt = old;
    uint8_t sid[32], prev[32];
    pthread_rwlock_rdlock(&s->d->lock);
    if (s->d->group) memcpy(prev, (s->d->group)->id, 32);
    else SHA256((const uint8_t *)"", 0, prev);
    uint32_t t_old = s->d->group ? s->d->group->g.t : 0;
    pthread_rwlock_unlock(&s->d->lock);
    tkms_dkg_session_id(sid, q.epoch, prev, q.new_members, q.n_new, q.t_new, t_old);
    tkms_dkg_wire_tag(sid, sid, old);
    if (!node_store_drop_session(s->d->store, sid, &st))
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
    log_json(TLOG_WARN, "attempt_abandoned",
             json_pack("{s:I, s:i, s:i, s:i}", "epoch", (json_int_t)p->epoch, "attempt", (int)old, "nocert", (int)have,
                       "needed", (int)need));
    s->att_value = old + 1;
    s->nocert_mine = 0;
    goto again; /* the statements held may cover the next attempt too (a node that lagged behind) */
}

/* This node ends an attempt without having signed its CERT: it promises never to (persisted before
 * it is sent) and tells every new member. Called with mu held, s->eng set. */
static void promise_nocert(struct sched *s) {
    if (tkms_dkg_cert_signed(s->eng)) return;
    attempt_load(s, s->plan.epoch);
    if (s->att_value != s->plan.attempt) return;
    char k[64];
    snprintf(k, sizeof k, "nocert:%llu:%u", (unsigned long long)s->plan.epoch, s->plan.attempt);
    tkms_status st = {0};
    if (!node_store_set_meta(s->d->store, k, "1", &st)) {
        log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
        return;
    }
    s->nocert_mine = 1;
    send_nocert(s, &s->plan);
    s->next_nocert_mono = node_mono_ms() + (uint64_t)s->d->cfg.sync_interval_ms;
    log_json(TLOG_INFO, "nocert_promised", json_pack("{s:I, s:i}", "epoch", (json_int_t)s->plan.epoch, "attempt",
                                                    (int)s->plan.attempt));
    nocert_check(s, &s->plan);
}

int sched_on_nocert(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why) {
    json_error_t je;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    json_t *e = j ? json_object_get(j, "epoch") : NULL, *u = j ? json_object_get(j, "upto") : NULL;
    json_t *sk = j ? json_object_get(j, "skip") : NULL;
    int shape = json_is_object(j) && json_object_size(j) == 3 && json_is_integer(e) && json_is_integer(u) &&
                json_is_array(sk) && json_array_size(sk) <= NOCERT_SKIP_MAX && json_integer_value(e) >= 0 &&
                json_integer_value(u) >= 0 && json_integer_value(u) < (1LL << 31);
    uint32_t skip[NOCERT_SKIP_MAX];
    size_t nskip = 0;
    for (size_t i = 0; shape && i < json_array_size(sk); i++) {
        json_t *x = json_array_get(sk, i);
        shape = json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) <= json_integer_value(u);
        if (shape) skip[nskip++] = (uint32_t)json_integer_value(x);
    }
    uint64_t epoch = shape ? (uint64_t)json_integer_value(e) : 0;
    long long upto = shape ? (long long)json_integer_value(u) : -1;
    json_decref(j);
    if (!shape) {
        *why = "body must be {\"epoch\": N, \"upto\": A, \"skip\": [attempts]}";
        return 400;
    }
    session_plan *p = malloc(sizeof *p);
    if (!p) {
        *why = "out of memory";
        return 503;
    }
    pthread_mutex_lock(&s->mu);
    int status = 200;
    if (!next_plan(s, p) || p->epoch != epoch) {
        *why = "statement for another epoch";
        status = 409;
    } else {
        uint32_t idx = 0;
        for (uint32_t i = 0; i < p->n_new; i++)
            if (!memcmp(p->new_members[i].sign_pk, from_ed, 32)) idx = i + 1;
        attempt_load(s, epoch);
        if (!idx || idx > MAX_MEMBERS) {
            *why = "sender is not a member of that epoch's committee";
            status = 403;
        } else if (upto >= s->nc_upto[idx - 1]) {
            /* statements only grow (a member never returns to an attempt it left) */
            s->nc_upto[idx - 1] = upto;
            memcpy(s->nc_skip[idx - 1], skip, nskip * sizeof skip[0]);
            s->nc_nskip[idx - 1] = (uint8_t)nskip;
            nocert_check(s, p);
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(p);
    return status;
}

/* Ends the attempt (abandoning a RUNNING engine). The session checkpoint is kept, persisted in its
 * final state: a retry of the same session (same session ID, the next slot) restarts from it with
 * tkms_dkg_retry and re-sends the same signed bundles (docs/dkg.md, "Retries"). It goes with the
 * commit of that epoch (or of a later one). */
static void fail_session(struct sched *s, const char *why) {
    if (tkms_dkg_get_state(s->eng) == TKMS_DKG_RUNNING) tkms_dkg_abandon(s->eng);
    keep_pending_share(s);
    pthread_rwlock_rdlock(&s->d->lock);
    int current = s->d->group ? s->d->group->g.epoch + 1 == s->plan.epoch : s->plan.epoch == 0;
    pthread_rwlock_unlock(&s->d->lock);
    log_json(TLOG_WARN, "session_failed",
             json_pack("{s:s, s:I, s:s, s:o}", "kind", s->plan.is_dkg ? "dkg" : "reshare", "epoch",
                       (json_int_t)s->plan.epoch, "reason", why, "stats", stats_json(s->eng)));
    node_store_audit(s->d->store, s->plan.is_dkg ? "dkg" : "reshare", NULL, "failed", why);
    metrics_reshare(s->plan.is_dkg, 0, 0);
    if (s->is_repair) metrics_repair(0);
    set_last_slot(s, s->plan.slot);
    if (tkms_dkg_needs_persist(s->eng)) {
        /* on a write error the stored checkpoint of the last sent message still serves the retry */
        tkms_status st = {0};
        if (!persist(s, &st)) log_json(TLOG_ERROR, "checkpoint_failed", json_pack("{s:s}", "error", st.msg));
    }
    if (current) promise_nocert(s); /* may drop the engine (the attempt is over for good) */
    if (s->eng) drop_engine(s);
    daemon_refresh_state(s->d);
}

/* The repair slot due now, if any (docs/dkg.md, "Repair"): repair slots are the points
 * genesis + m * repair_delay_s; a repair runs at the first one at least repair_delay_s / 2 after
 * the earliest no-share announcement for the current epoch (its time is in the announcement, so
 * every member that received it picks the same slot), skipping slots whose session would overlap
 * the regular schedule's, and the slots already attempted. Returns 1 with *start, *slot (the
 * regular slot it falls in) and *m set. Called with mu held. */
static int repair_due(struct sched *s, uint64_t now, uint64_t *start, uint64_t *slot, uint64_t *m_out) {
    tkmsd *d = s->d;
    pthread_rwlock_rdlock(&d->lock);
    int want = d->group && s->repair_at && s->repair_epoch == d->group->g.epoch;
    pthread_rwlock_unlock(&d->lock);
    if (!want) return 0;
    uint64_t g0 = d->genesis.genesis_time_s * 1000u, iv = d->genesis.interval_s * 1000u;
    uint64_t R = (uint64_t)d->cfg.repair_delay_s * 1000u, W = window_ms(d), ph = phase_ms(d);
    if (now < g0) return 0;
    uint64_t from = s->repair_at + R / 2, m = from <= g0 ? 0 : (from - g0 + R - 1) / R;
    if (m < s->repair_next_m) m = s->repair_next_m;
    uint64_t cur = (now - g0) / R, back = W / R + 1;
    if (cur > back && m < cur - back) m = cur - back; /* older slots are over anyway */
    for (; m <= cur; m++) {
        uint64_t gm = g0 + m * R;
        if (now > gm + W) continue; /* too late to join that one */
        uint64_t k = (gm - g0) / iv, ks = g0 + k * iv;
        /* clear of the regular slots' sessions: a regular reshare repairs as well */
        if (gm < ks + W + ph || gm + W + ph > ks + iv) continue;
        *start = gm;
        *slot = k;
        *m_out = m;
        return 1;
    }
    return 0;
}

/* Decides which session is due now; returns 1 and fills p if one should run (*repair set for a
 * repair reshare). */
static int due_session(struct sched *s, session_plan *p, int *repair) {
    tkmsd *d = s->d;
    *repair = 0;
    if (!d->have_genesis) return 0;
    const genesis_t *gen = &d->genesis;
    uint64_t now = sched_now(s), g0 = gen->genesis_time_s * 1000u, iv = gen->interval_s * 1000u;
    if (now < g0) return 0;
    uint64_t slot = (now - g0) / iv;
    uint64_t slot_start = g0 + slot * iv;
    memset(p, 0, sizeof *p);
    if (s->next_slot > slot + 1) {
        /* The recorded next slot lies in the future: it was written while this node's clock was
         * ahead. Waiting for it would block every reshare until then; resume with the next slot. */
        log_json(TLOG_WARN, "clock_moved_back",
                 json_pack("{s:I, s:I}", "recorded_next_slot", (json_int_t)s->next_slot, "slot", (json_int_t)slot));
        set_last_slot(s, slot);
    }
    int regular = slot >= s->next_slot && now <= slot_start + window_ms(d);
    uint64_t rstart = 0, rslot = 0, rm = 0;
    if (!regular) {
        if (!repair_due(s, now, &rstart, &rslot, &rm)) return 0;
        *repair = 1;
        slot = rslot;
        slot_start = rstart;
    }
    p->slot = slot;
    p->start_ms = slot_start;
    pthread_rwlock_rdlock(&d->lock);
    int ok = 0;
    if (!d->group) {
        /* DKG: the genesis members, at genesis or (after a failed DKG) at a later slot */
        ok = plan_committee(d, p) && !*repair;
    } else if (slot >= 1 || *repair) {
        /* a reshare: the committee of the verified proposal for this epoch, else the same one */
        ok = plan_committee(d, p);
    }
    pthread_rwlock_unlock(&d->lock);
    if (*repair) s->repair_next_m = rm + 1; /* attempted (or not ours): never twice */
    if (ok) {
        attempt_load(s, p->epoch);
        p->attempt = s->att_value;
        /* promised never to certify this attempt: wait until enough members have promised the same
         * and the next attempt begins */
        if (s->nocert_mine) ok = 0;
    }
    return ok;
}

static void next_slot_gauge(struct sched *s) {
    tkmsd *d = s->d;
    if (!d->have_genesis) return;
    uint64_t now = sched_now(s) / 1000u, g0 = d->genesis.genesis_time_s, iv = d->genesis.interval_s;
    uint64_t next = now < g0 ? g0 : g0 + ((now - g0) / iv + 1) * iv;
    atomic_store(&d->next_reshare_s, next);
}

/* Resumes a checkpointed session after a restart. */
static void resume(struct sched *s) {
    tkmsd *d = s->d;
    uint8_t sid[32];
    uint64_t epoch = 0;
    char kind[16];
    uint8_t *blob = NULL;
    size_t len = 0;
    tkms_status st = {0};
    if (!node_store_get_session(d->store, d->sec->storage_key, sid, &epoch, kind, &blob, &len, &st)) {
        log_json(TLOG_ERROR, "resume_failed", json_pack("{s:s}", "error", st.msg));
        return;
    }
    if (!blob) return;
    if (len > sizeof s->plan) {
        memcpy(&s->plan, blob, sizeof s->plan);
        uint64_t cur = d->group ? d->group->g.epoch + 1 : 0;
        attempt_load(s, s->plan.epoch);
        int promised = s->att_value != s->plan.attempt || s->nocert_mine;
        if (s->plan.epoch == cur && !promised && sched_now(s) < s->plan.start_ms + window_ms(d) &&
            s->plan.start_ms <= sched_now(s) + window_ms(d)) {
            start_engine(s, blob + sizeof s->plan, len - sizeof s->plan);
            /* an attempt that had already failed stays failed; its checkpoint serves the retry */
            if (s->eng && tkms_dkg_get_state(s->eng) == TKMS_DKG_ABORTED) {
                set_last_slot(s, s->plan.slot);
                drop_engine(s);
                daemon_refresh_state(d);
            }
        } else if (s->plan.epoch < cur) {
            if (!node_store_drop_session(d->store, sid, &st))
                log_json(TLOG_ERROR, "store_failed", json_pack("{s:s}", "error", st.msg));
        }
        /* else: the attempt's window is over; the checkpoint stays for the retry at the next slot */
    }
    node_wipe(blob, len);
    free(blob);
}

/* ---- peers: liveness probes and catch-up of certified groups ---- */
/* A certified next group proves that its own members signed it, not that they were entitled to:
 * anyone can certify a same-MPK group of keys it made up. The committee changes only through a
 * proposal signed by >= t_old current operators (DESIGN §3), so a caught-up group must have the
 * committee this node would have run itself: the current one, or that of the verified proposal
 * for this epoch (docs/dkg.md, "Catch-up"). d->lock held (reading). */
static int committee_authorized(tkmsd *d, const node_group *g, tkms_status *st) {
    next_committee *c = malloc(sizeof *c);
    int ok = c && daemon_next_committee(d, c) && c->n_new == g->g.n && c->t_new == g->g.t;
    for (uint32_t i = 0; ok && i < c->n_new; i++)
        ok = !memcmp(c->members[i].sign_pk, g->g.members[i].sign_pk, 32) &&
             !memcmp(c->members[i].kem_pk, g->g.members[i].kem_pk, 32) &&
             !strcmp(c->members[i].address, g->g.members[i].address);
    if (!c)
        node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    else if (!ok)
        node_err(st, TKMS_CLASS_INPUT,
                 "group %llu: its committee is neither the current one nor that of a verified proposal known to "
                 "this node",
                 (unsigned long long)g->g.epoch);
    free(c);
    return ok;
}

static void on_group_fetched(void *ctx, int ok, long status, const char *body, size_t len) {
    struct sched *s = ctx;
    tkmsd *d = s->d;
    s->fetching = 0;
    if (!ok || status != 200 || !body) return;
    tkms_status st = {0};
    node_group *g = calloc(1, sizeof *g);
    char *json = strndup(body, len);
    if (!g || !json || !node_group_parse(g, json, &st)) {
        log_json(TLOG_WARN, "catchup_rejected", json_pack("{s:s}", "error", st.msg));
        free(json);
        free(g);
        return;
    }
    free(json);
    pthread_rwlock_rdlock(&d->lock);
    int valid;
    if (d->group) {
        valid = g->g.epoch == d->group->g.epoch + 1 && gfile_verify_next(g, d->group, &st) &&
                committee_authorized(d, g, &st);
    } else {
        /* the DKG certified without us: epoch 0, the genesis committee and threshold, certified */
        valid = d->have_genesis && g->g.epoch == 0 && g->g.n == d->genesis.n && g->g.t == d->genesis.t &&
                !g->g.dev_mode == !d->genesis.dev_mode;
        for (uint32_t i = 0; valid && i < g->g.n; i++)
            valid = !memcmp(g->g.members[i].sign_pk, d->genesis.members[i].sign_pk, 32) &&
                    !memcmp(g->g.members[i].kem_pk, d->genesis.members[i].kem_pk, 32);
        if (!valid) node_err(&st, TKMS_CLASS_INPUT, "group 0 does not match the genesis committee");
        valid = valid && gfile_verify(g, &st);
    }
    pthread_rwlock_unlock(&d->lock);
    pthread_mutex_lock(&s->mu);
    int busy = s->eng && !s->finished && !s->lingering;
    /* a session lingering past its window (signed, waiting for certificates) ends here: the
     * committee certified without it; its computed share goes to pending_shares first */
    if (valid && !busy && s->eng && !s->finished) fail_session(s, "superseded by a certified group (catch-up)");
    pthread_mutex_unlock(&s->mu);
    if (!valid || busy) {
        if (!valid) log_json(TLOG_WARN, "catchup_rejected", json_pack("{s:s}", "error", st.msg));
        node_group_free(g);
        free(g);
        return;
    }
    /* We missed this epoch's session: adopt the certified group. Without a share of it, a member
     * of the new group keeps its old share (docs/dkg.md rule 8: erased only once it holds a share
     * of a certified group, or leaves the committee) and gets a new share at the next reshare. */
    /* the committee has moved on in this slot: do not start a session of our own in it */
    uint64_t cur = 0;
    if (d->have_genesis && sched_now(s) / 1000u >= d->genesis.genesis_time_s)
        cur = (sched_now(s) / 1000u - d->genesis.genesis_time_s) / d->genesis.interval_s;
    char slotv[32];
    snprintf(slotv, sizeof slotv, "%llu", (unsigned long long)(cur + 1));
    /* if our own session computed this very transcript before giving up, its share is valid */
    uint8_t th[32], pb[32];
    uint32_t pidx = 0;
    int have_pending = 0;
    fr_t pshare;
    json_t *gj = json_loads(g->json, 0, NULL);
    json_t *thj = gj ? json_object_get(gj, "transcript_hash") : NULL;
    uint32_t me = node_group_index(g, d->sec->ed_pk);
    if (me && json_is_string(thj) && node_unhex(th, 32, json_string_value(thj)) &&
        node_store_get_pending_share(d->store, d->sec->storage_key, g->g.epoch, th, &pidx, pb, &have_pending, &st) &&
        have_pending) {
        have_pending = pidx == me && fr_from_bytes(&pshare, pb) &&
                       tbls_verify_share(&pshare, pidx, g->g.poly, g->g.t);
    } else {
        have_pending = 0;
    }
    json_decref(gj);
    int keep_old = !have_pending && me != 0;
    if (!node_store_commit_epoch_keep(d->store, d->sec->storage_key, g->g.epoch, g->json, have_pending ? pidx : 0,
                                      have_pending ? pb : NULL, have_pending ? 32 : 0, keep_old, "next_slot", slotv,
                                      &st)) {
        node_wipe(pb, sizeof pb);
        node_wipe(&pshare, sizeof pshare);
        log_json(TLOG_ERROR, "catchup_store_failed", json_pack("{s:s}", "error", st.msg));
        node_group_free(g);
        free(g);
        return;
    }
    node_wipe(pb, sizeof pb);
    s->next_slot = cur + 1;
    log_json(TLOG_INFO, "caught_up", json_pack("{s:I, s:b, s:b}", "epoch", (json_int_t)g->g.epoch, "share", have_pending,
                                              "old_share_kept", keep_old));
    daemon_install_epoch(d, g, have_pending ? &pshare : NULL, pidx);
    node_wipe(&pshare, sizeof pshare);
    /* probe again at once: the next epoch (if any) is fetched, or this one is confirmed (or, without
     * a share, announced for repair) without waiting for the next sync interval */
    s->next_probe_ms = 0;
}

typedef struct {
    struct sched *s;
    char url[256];
    uint32_t index; /* member index in the current group, 0 if none */
} probe_ctx;

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* End of a probe round: the schedule clock offset (median of the members' offsets, this node's
 * own 0 included, so that fewer than half of them cannot move it; bounded by clock_skew_s), the
 * share holders of the current epoch, and whether that epoch is confirmed current. Main thread. */
static void probe_round_done(struct sched *s) {
    tkmsd *d = s->d;
    long long skew = (long long)d->cfg.clock_skew_s * 1000;
    if (s->probe_n) {
        long long v[MAX_MEMBERS + 1];
        unsigned k = 0;
        for (unsigned i = 0; i < s->probe_n && k < MAX_MEMBERS; i++) v[k++] = s->probe_off[i];
        v[k++] = 0;
        qsort(v, k, sizeof v[0], cmp_ll);
        long long med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
        if (med > skew || med < -skew) {
            log_json(TLOG_ERROR, "clock_skew_excessive",
                     json_pack("{s:I, s:I}", "offset_ms", (json_int_t)med, "clock_skew_s", (json_int_t)d->cfg.clock_skew_s));
            med = med > 0 ? skew : -skew;
        }
        long long cur = atomic_load(&s->clock_offset_ms);
        /* follow real changes, not the jitter of round trips */
        if (med - cur > 100 || cur - med > 100) {
            atomic_store(&s->clock_offset_ms, med);
            if (med > 1000 || med < -1000 || cur > 1000 || cur < -1000)
                log_json(TLOG_WARN, "clock_offset", json_pack("{s:I, s:I}", "offset_ms", (json_int_t)med, "previous_ms", (json_int_t)cur));
        }
    }
    /* A newer epoch that one member announces is only its claim: the next group is fetched from it
     * and verified (on_group_fetched), but our epoch counts as stale (nothing confirmed, nothing
     * served) only when more members announce one than can be faulty (n - t), so that one
     * malicious member cannot keep a restarted node from serving by announcing epochs it cannot
     * show (tests/integration/security_catchup_forged.sh). */
    pthread_rwlock_rdlock(&d->lock);
    unsigned may_fail = d->group ? (unsigned)(d->group->g.n - d->group->g.t) : 0;
    pthread_rwlock_unlock(&d->lock);
    s->behind = s->peers_ahead > may_fail;
    if (s->behind) { /* our epoch is not the committee's: nothing to count or confirm */
        pthread_mutex_lock(&s->mu);
        s->holders_valid = 0;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    pthread_mutex_lock(&s->mu);
    pthread_rwlock_rdlock(&d->lock);
    unsigned holders = 0, n = 0, t = 0;
    uint64_t epoch = 0;
    if (d->group) {
        epoch = d->group->g.epoch;
        n = d->group->g.n;
        t = d->group->g.t;
        for (uint32_t i = 1; i <= d->group->g.n; i++)
            holders += i == d->my_index ? (unsigned)d->have_share : s->peer_share[i - 1];
    }
    int member = d->group && d->my_index;
    pthread_rwlock_unlock(&d->lock);
    s->holders = holders;
    s->holders_epoch = epoch;
    s->holders_valid = n > 0;
    pthread_mutex_unlock(&s->mu);
    atomic_store(&d->share_holders, holders);
    if (member && holders != s->last_holders) {
        const char *level = holders < t ? "lost" : holders == t ? "critical" : holders < n ? "degraded" : "ok";
        log_json(holders <= t ? TLOG_ERROR : holders < n ? TLOG_WARN : TLOG_INFO, "share_holders",
                 json_pack("{s:I, s:i, s:i, s:i, s:s}", "epoch", (json_int_t)epoch, "holders", (int)holders, "n", (int)n,
                           "t", (int)t, "health", level));
        s->last_holders = holders;
    }
    /* confirmed current once t - 1 peers answer at this epoch (with this node: t, enough to serve) */
    if (d->group && s->peers_at_epoch + 1 >= t) daemon_confirm_epoch(d);
}

/* Health probe answer: counts live peers, notes their epoch, share and clock, remembers the peer
 * with the newest epoch, and once all answers are in, fetches the next certified group from it
 * if we are behind. */
static void on_probe(void *ctx, int ok, long status, const char *body, size_t len) {
    probe_ctx *pc = ctx;
    struct sched *s = pc->s;
    tkmsd *d = s->d;
    uint64_t now = node_now_ms();
    if (ok && (status == 200 || status == 429 || status == 503)) {
        s->probe_up++;
        json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        json_t *e = j ? json_object_get(j, "epoch") : NULL, *hs = j ? json_object_get(j, "has_share") : NULL;
        json_t *tm = j ? json_object_get(j, "server_time_ms") : NULL;
        if (json_is_integer(e) && (!s->best_peer_url[0] || (uint64_t)json_integer_value(e) > s->best_peer_epoch)) {
            s->best_peer_epoch = (uint64_t)json_integer_value(e);
            memcpy(s->best_peer_url, pc->url, sizeof s->best_peer_url);
        }
        if (json_is_integer(tm) && json_integer_value(tm) > 0 && s->probe_n < MAX_MEMBERS && now >= s->probe_sent_ms) {
            /* offset to the peer's clock, its answer taken as sent half-way through the round trip */
            long long mid = (long long)(s->probe_sent_ms + (now - s->probe_sent_ms) / 2);
            s->probe_off[s->probe_n++] = (long long)json_integer_value(tm) - mid;
        }
        if (json_is_integer(e) && (uint64_t)json_integer_value(e) == s->seen_epoch && pc->index) {
            s->peers_at_epoch++;
            pthread_mutex_lock(&s->mu);
            s->peer_share[pc->index - 1] = json_is_true(hs);
            pthread_mutex_unlock(&s->mu);
        }
        if (json_is_integer(e) && (uint64_t)json_integer_value(e) > s->seen_epoch) s->peers_ahead++;
        json_decref(j);
    } else if (pc->index) {
        pthread_mutex_lock(&s->mu);
        s->peer_share[pc->index - 1] = 0; /* unreachable: not known to hold a share */
        pthread_mutex_unlock(&s->mu);
    }
    free(pc);
    if (--s->probe_outstanding) return;
    atomic_store(&d->peers_up, s->probe_up);
    probe_round_done(s);
    pthread_rwlock_rdlock(&d->lock);
    uint64_t mine = d->group ? d->group->g.epoch : UINT64_MAX;
    pthread_rwlock_unlock(&d->lock);
    /* behind the committee (or without any group while peers finished the DKG): fetch the next one */
    if (s->best_peer_url[0] && (mine == UINT64_MAX || s->best_peer_epoch > mine) && !s->fetching &&
        (mine != UINT64_MAX || d->have_genesis)) {
        char path[64];
        snprintf(path, sizeof path, "/v1/group?epoch=%llu", (unsigned long long)(mine == UINT64_MAX ? 0 : mine + 1));
        s->fetching = 1;
        peer_send(d->peers, "GET", s->best_peer_url, path, NULL, 0, 0, on_group_fetched, s);
    }
}

static void probe_peers(struct sched *s) {
    tkmsd *d = s->d;
    if (s->probe_outstanding) return;
    s->probe_up = 0;
    s->best_peer_epoch = 0;
    s->best_peer_url[0] = 0;
    s->probe_n = 0;
    s->peers_at_epoch = 0;
    s->peers_ahead = 0;
    s->behind = 0;
    s->probe_sent_ms = node_now_ms();
    pthread_rwlock_rdlock(&d->lock);
    const tkms_dkg_member *ms = d->group ? d->group->g.members : d->have_genesis ? d->genesis.members : NULL;
    uint32_t n = d->group ? (uint32_t)d->group->g.n : d->have_genesis ? d->genesis.n : 0;
    uint64_t epoch = d->group ? d->group->g.epoch : UINT64_MAX;
    pthread_mutex_lock(&s->mu);
    if (epoch != s->seen_epoch) memset(s->peer_share, 0, sizeof s->peer_share);
    s->seen_epoch = epoch;
    pthread_mutex_unlock(&s->mu);
    static char urls[MAX_MEMBERS][256];
    static uint32_t idx[MAX_MEMBERS];
    uint32_t k = 0;
    for (uint32_t i = 0; ms && i < n; i++)
        if (memcmp(ms[i].sign_pk, d->sec->ed_pk, 32)) {
            idx[k] = d->group ? i + 1 : 0;
            snprintf(urls[k++], 256, "%s", ms[i].address);
        }
    pthread_rwlock_unlock(&d->lock);
    s->probe_outstanding = k;
    for (uint32_t i = 0; i < k; i++) {
        probe_ctx *pc = calloc(1, sizeof *pc);
        if (!pc) {
            s->probe_outstanding--;
            continue;
        }
        pc->s = s;
        pc->index = idx[i] <= MAX_MEMBERS ? idx[i] : 0;
        memcpy(pc->url, urls[i], sizeof pc->url);
        peer_send(d->peers, "GET", urls[i], "/v1/health", NULL, 0, 0, on_probe, pc);
    }
    if (!s->probe_outstanding) {
        atomic_store(&d->peers_up, 0);
        probe_round_done(s);
    }
}

/* ---- repair: no-share announcements ---- */

/* Records member idx's announcement that it holds no share of epoch (at: its schedule clock).
 * Called with mu held. */
static void note_noshare(struct sched *s, uint32_t idx, uint64_t epoch, uint64_t at) {
    if (s->repair_epoch != epoch || !s->repair_at) {
        if (s->repair_epoch != epoch) {
            memset(s->noshare, 0, sizeof s->noshare);
            s->repair_next_m = 0;
        }
        s->repair_epoch = epoch;
        s->repair_at = at;
        log_json(TLOG_WARN, "repair_requested", json_pack("{s:I, s:i, s:I}", "epoch", (json_int_t)epoch, "member", (int)idx,
                                                        "at_ms", (json_int_t)at));
    } else if (at < s->repair_at) {
        s->repair_at = at;
    }
    if (idx >= 1 && idx <= MAX_MEMBERS) {
        s->noshare[idx - 1] = 1;
        if (s->seen_epoch == epoch) s->peer_share[idx - 1] = 0;
    }
}

/* A member of the current epoch without a share of it announces so to every other member, signed
 * (the peer envelope), every sync interval until it holds one. */
static void announce_noshare(struct sched *s) {
    tkmsd *d = s->d;
    static char urls[MAX_MEMBERS][256];
    uint32_t k = 0, me = 0;
    uint64_t epoch = 0;
    pthread_rwlock_rdlock(&d->lock);
    if (d->group && d->my_index && !d->have_share) {
        epoch = d->group->g.epoch;
        me = d->my_index;
        for (uint32_t i = 0; i < d->group->g.n; i++)
            if (i + 1 != me) snprintf(urls[k++], 256, "%s", d->group->g.members[i].address);
    }
    pthread_rwlock_unlock(&d->lock);
    if (!me) return;
    uint64_t at = sched_now(s);
    char body[96];
    int bl = snprintf(body, sizeof body, "{\"at\":%llu,\"epoch\":%llu}", (unsigned long long)at, (unsigned long long)epoch);
    pthread_mutex_lock(&s->mu);
    note_noshare(s, me, epoch, at);
    pthread_mutex_unlock(&s->mu);
    for (uint32_t i = 0; i < k; i++) {
        peer_send(d->peers, "POST", urls[i], "/v1/peer/noshare", (const uint8_t *)body, (size_t)bl, 1, NULL, NULL);
        metrics_noshare(1);
    }
    log_json(TLOG_INFO, "noshare_announced", json_pack("{s:I, s:i, s:i}", "epoch", (json_int_t)epoch, "index", (int)me,
                                                      "peers", (int)k));
}

int sched_on_noshare(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why) {
    tkmsd *d = s->d;
    json_error_t je;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    json_t *e = j ? json_object_get(j, "epoch") : NULL, *at = j ? json_object_get(j, "at") : NULL;
    int shape = json_is_object(j) && json_object_size(j) == 2 && json_is_integer(e) && json_is_integer(at) &&
                json_integer_value(e) >= 0 && json_integer_value(at) > 0;
    uint64_t epoch = shape ? (uint64_t)json_integer_value(e) : 0, ts = shape ? (uint64_t)json_integer_value(at) : 0;
    json_decref(j);
    if (!shape) {
        *why = "body must be {\"epoch\": N, \"at\": MS}";
        return 400;
    }
    uint64_t now = sched_now(s), skew = (uint64_t)d->cfg.clock_skew_s * 1000u;
    if (ts + skew < now || ts > now + skew) {
        *why = "announcement time outside the accepted clock skew";
        return 400;
    }
    pthread_rwlock_rdlock(&d->lock);
    uint32_t idx = d->group ? node_group_index(d->group, from_ed) : 0;
    uint64_t mine = d->group ? d->group->g.epoch : 0;
    int have = d->group != NULL;
    pthread_rwlock_unlock(&d->lock);
    if (!have || epoch != mine) {
        *why = "announcement for another epoch";
        return 409;
    }
    if (!idx) {
        *why = "sender is not a member of the current epoch";
        return 403;
    }
    pthread_mutex_lock(&s->mu);
    note_noshare(s, idx, epoch, ts);
    pthread_mutex_unlock(&s->mu);
    metrics_noshare(0);
    return 200;
}

void sched_health(struct sched *s, json_t *j) {
    tkmsd *d = s->d;
    pthread_rwlock_rdlock(&d->lock);
    int has = d->have_share && d->group;
    unsigned n = d->group ? d->group->g.n : 0, t = d->group ? d->group->g.t : 0;
    uint64_t epoch = d->group ? d->group->g.epoch : 0;
    pthread_rwlock_unlock(&d->lock);
    pthread_mutex_lock(&s->mu);
    unsigned holders = s->holders;
    if (!s->holders_valid || s->holders_epoch != epoch) n = 0; /* no probe round at this epoch yet: unknown */
    int repair = s->repair_at && s->repair_epoch == epoch && n;
    json_t *missing = json_array();
    for (unsigned i = 0; repair && i < n && i < MAX_MEMBERS; i++)
        if (s->noshare[i]) json_array_append_new(missing, json_integer(i + 1));
    uint64_t rat = s->repair_at;
    pthread_mutex_unlock(&s->mu);
    json_object_set_new(j, "has_share", json_boolean(has));
    json_object_set_new(j, "share_holders", n ? json_integer(holders) : json_null());
    json_object_set_new(j, "share_health", !n               ? json_string("unknown")
                                           : holders < t    ? json_string("lost")
                                           : holders == t   ? json_string("critical")
                                           : holders < n    ? json_string("degraded")
                                                            : json_string("ok"));
    json_object_set_new(j, "repair", repair ? json_pack("{s:o, s:I}", "members", missing, "requested_ms", (json_int_t)rat)
                                            : (json_decref(missing), json_null()));
    json_object_set_new(j, "server_time_ms", json_integer((json_int_t)node_now_ms()));
    json_object_set_new(j, "clock_offset_ms", json_integer((json_int_t)atomic_load(&s->clock_offset_ms)));
}

static int g_resumed;

void sched_tick(struct sched *s) {
    tkmsd *d = s->d;
    uint64_t mono = node_mono_ms();
    if (!g_resumed) {
        g_resumed = 1;
        pthread_mutex_lock(&s->mu);
        resume(s);
        pthread_mutex_unlock(&s->mu);
    }
    if (s->kill_armed && !peer_pending(d->peers)) {
        log_json(TLOG_WARN, "test_hook_kill", json_pack("{s:I}", "epoch", (json_int_t)s->plan.epoch));
        raise(SIGKILL);
    }
    if (mono >= s->next_probe_ms) {
        s->next_probe_ms = mono + (uint64_t)d->cfg.sync_interval_ms;
        probe_peers(s);
        next_slot_gauge(s);
    }
    if (atomic_load(&d->stopping)) return;
    /* a member without a share of the current epoch asks for a repair */
    if (mono >= s->next_announce_mono && !s->behind && s->peers_at_epoch > 0) {
        pthread_mutex_lock(&s->mu);
        int busy = s->eng && !s->finished;
        pthread_mutex_unlock(&s->mu);
        pthread_rwlock_rdlock(&d->lock);
        int want = d->group && d->my_index && !d->have_share;
        pthread_rwlock_unlock(&d->lock);
        if (want && !busy) {
            s->next_announce_mono = mono + (uint64_t)(d->cfg.sync_interval_ms > 1000 ? d->cfg.sync_interval_ms : 1000);
            announce_noshare(s);
        }
    }
    pthread_mutex_lock(&s->mu);
    if (s->att_loaded && (s->nocert_mine || s->att_value > 0) && mono >= s->next_nocert_mono) {
        /* repeat the promise until the attempt moves on (members that were down learn it) */
        s->next_nocert_mono = mono + (uint64_t)d->cfg.sync_interval_ms;
        session_plan *np = malloc(sizeof *np);
        if (np && next_plan(s, np) && np->epoch == s->att_epoch) send_nocert(s, np);
        free(np);
    }
    uint64_t now = sched_now(s);
    if (s->eng && !s->finished && now + window_ms(d) < s->plan.start_ms) {
        /* a session of a slot that starts more than a window from now: it was started while this
         * node's clock was ahead; it cannot be the committee's session, give it up */
        log_json(TLOG_WARN, "clock_moved_back",
                 json_pack("{s:I, s:I}", "session_start_ms", (json_int_t)s->plan.start_ms, "now_ms", (json_int_t)now));
        fail_session(s, "the session's slot lies in the future (clock moved back)");
    }
    early_expire(s->early, node_now_ms());
    if (s->eng && !s->finished) {
        tkms_dkg_tick(s->eng, now);
        flush_outputs(s);
        if (s->eng) {
            tkms_dkg_state es = tkms_dkg_get_state(s->eng);
            if (es == TKMS_DKG_FINAL) commit_result(s);
            else if (es == TKMS_DKG_ABORTED) {
                tkms_dkg_result r;
                fail_session(s, tkms_dkg_get_result(s->eng, &r) ? "aborted: no certification before the deadline"
                                                                : "aborted: no agreed transcript (too few qualified dealers)");
            }
            else if (now > s->window_end_ms + interval_ms(d))
                fail_session(s, "deadline passed without certification");
            else if (now > s->window_end_ms && !s->lingering) {
                /* signed, not certified yet: peers may certify this transcript; keep collecting
                 * until the next slot (docs/dkg.md rule 7) */
                s->lingering = 1;
                log_json(TLOG_INFO, "session_lingering",
                         json_pack("{s:s, s:I}", "kind", s->plan.is_dkg ? "dkg" : "reshare", "epoch",
                                   (json_int_t)s->plan.epoch));
            }
        }
    }
    if (!s->eng || s->finished || s->lingering) {
        session_plan p;
        int repair = 0;
        if (due_session(s, &p, &repair)) {
            if (s->eng && !s->finished) fail_session(s, "deadline passed without certification");
            s->plan = p;
            s->is_repair = repair;
            if (repair)
                log_json(TLOG_INFO, "repair_started",
                         json_pack("{s:I, s:I}", "epoch", (json_int_t)p.epoch, "start_ms", (json_int_t)p.start_ms));
            if (!start_engine(s, NULL, 0)) set_last_slot(s, p.slot);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* Is the sender someone we could be running a session with? Called with s->mu held. */
static int known_sender(struct sched *s, const uint8_t from_ed[32]) {
    tkmsd *d = s->d;
    if (s->eng) {
        size_t np = tkms_dkg_peer_count(s->eng);
        for (size_t i = 0; i < np; i++)
            if (!memcmp(tkms_dkg_peer_key(s->eng, i), from_ed, 32)) return 1;
    }
    pthread_rwlock_rdlock(&d->lock);
    int known = d->group && node_group_index(d->group, from_ed) != 0;
    for (uint32_t i = 0; !known && !d->group && d->have_genesis && i < d->genesis.n; i++)
        known = !memcmp(d->genesis.members[i].sign_pk, from_ed, 32);
    if (!known && d->group) {
        /* a member joining through the pending committee proposal */
        next_committee *c = malloc(sizeof *c);
        if (c && daemon_next_committee(d, c) && c->from_proposal)
            for (uint32_t i = 0; i < c->n_new; i++) known |= !memcmp(c->members[i].sign_pk, from_ed, 32);
        free(c);
    }
    pthread_rwlock_unlock(&d->lock);
    return known;
}

static int feed(struct sched *s, const uint8_t *body, size_t len, const char **why, int *stale) {
    tkms_dkg_stats before = *tkms_dkg_get_stats(s->eng);
    int fresh = tkms_dkg_receive(s->eng, sched_now(s), body, len);
    const tkms_dkg_stats *after = tkms_dkg_get_stats(s->eng);
    *stale = 0;
    int status = 200;
    if (!fresh) {
        if (after->rx_dup > before.rx_dup) status = 200; /* echoes make duplicates normal */
        else if (after->rx_stale > before.rx_stale) {
            *stale = 1;
            status = 409;
            *why = "bundle of another (stale or replayed) session";
        } else if (after->rx_badsig > before.rx_badsig) {
            status = 400;
            *why = "bundle signature does not verify";
        } else {
            status = 400;
            *why = "malformed or invalid bundle";
        }
    }
    flush_outputs(s);
    return status;
}

int sched_on_bundle(struct sched *s, const uint8_t from_ed[32], const uint8_t *body, size_t len, const char **why) {
    /* engine framing: "TKDG" || version || type || session(32) || sender || length || body || sig */
    if (len < 46 + 64 || memcmp(body, "TKDG", 4) != 0) {
        *why = "not a protocol bundle";
        return 400;
    }
    pthread_mutex_lock(&s->mu);
    int status, stale = 0;
    if (!known_sender(s, from_ed)) {
        *why = "sender is not a committee member";
        status = 403;
    } else if (s->eng && !s->finished && s->kill_epoch >= 0 && (uint64_t)s->kill_epoch == s->plan.epoch &&
               body[5] == TKMS_DKG_MSG_CERT) {
        /* test hook: this node must not see the certificate of the hooked epoch before it dies */
        *why = "test hook: certificates of this epoch are not taken";
        status = 503;
    } else if (s->eng && !s->finished) {
        status = feed(s, body, len, why, &stale);
    } else {
        /* No session running. A finished one still answers catch-up requests for itself; anything
         * else is probably for the next session, which a peer started a few ms before us: keep it
         * (early.h: next session only, bounded per sender and in total); the engine checks it when
         * the session starts. */
        status = s->eng ? feed(s, body, len, why, &stale) : 409;
        if (!s->eng) stale = 1;
        else if (status == 200) {
            /* nothing new can happen in a certified session: a copy is a late echo or a replay */
            status = 409;
            *why = "bundle of the already certified session (late echo or replay)";
        }
        if (stale) {
            tkmsd *d = s->d;
            pthread_rwlock_rdlock(&d->lock);
            int replay = d->group && !memcmp(body + 6, d->group->g.session, 32);
            pthread_rwlock_unlock(&d->lock);
            if (replay) {
                *why = "bundle of the already certified session (replay)";
                status = 409;
            } else {
                uint64_t now = node_now_ms();
                uint8_t next[32];
                int known = early_next_session(s->early, s->d, now, next);
                /* the next session runs as attempt att_value (docs/dkg.md, "Attempts") */
                pthread_rwlock_rdlock(&s->d->lock);
                uint64_t nexte = s->d->group ? s->d->group->g.epoch + 1 : 0;
                pthread_rwlock_unlock(&s->d->lock);
                if (known && s->att_loaded && s->att_epoch == nexte && s->att_value) tkms_dkg_wire_tag(next, next, s->att_value);
                status = early_put(s->early, from_ed, body, len, known ? next : NULL, now, why);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return status;
}

int sched_on_proposal(struct sched *s, const char *json, size_t len, char *why, size_t why_len) {
    tkmsd *d = s->d;
    tkms_status st = {0};
    tkms_dkg_member ms[MAX_MEMBERS];
    uint32_t n = 0, t = 0;
    pthread_rwlock_rdlock(&d->lock);
    node_group *g = d->group;
    int ok = g && gfile_proposal_check(json, len, g, ms, &n, &t, &st);
    uint64_t epoch = g ? g->g.epoch : 0;
    char urls[2 * MAX_MEMBERS][256];
    uint32_t k = 0;
    if (ok) {
        for (uint32_t i = 0; i < g->g.n; i++)
            if (memcmp(g->g.members[i].sign_pk, d->sec->ed_pk, 32)) snprintf(urls[k++], 256, "%s", g->g.members[i].address);
        for (uint32_t i = 0; i < n; i++)
            if (memcmp(ms[i].sign_pk, d->sec->ed_pk, 32) && !node_group_index(g, ms[i].sign_pk))
                snprintf(urls[k++], 256, "%s", ms[i].address);
    }
    pthread_rwlock_unlock(&d->lock);
    if (!g) {
        snprintf(why, why_len, "no certified group yet");
        return 409;
    }
    if (!ok) {
        snprintf(why, why_len, "%s", st.msg);
        return 400;
    }
    uint8_t id[32];
    SHA256((const uint8_t *)json, len, id);
    char *have = NULL;
    if (!node_store_get_proposal(d->store, epoch, &have, &st)) {
        snprintf(why, why_len, "storage error");
        return 503;
    }
    int same = have && strlen(have) == len && !memcmp(have, json, len);
    free(have);
    if (same) return 200;
    char *copy = strndup(json, len);
    ok = copy && node_store_put_proposal(d->store, id, epoch, copy, &st);
    if (!ok) {
        free(copy);
        snprintf(why, why_len, "storage error");
        return 503;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!memcmp(ms[i].sign_pk, d->sec->ed_pk, 32)) atomic_store(&d->pending_join, 1);
    node_store_audit(d->store, "committee_proposal", NULL, "accepted", NULL);
    log_json(TLOG_INFO, "proposal_accepted", json_pack("{s:I, s:i, s:i}", "epoch", (json_int_t)epoch, "n", (int)n, "t", (int)t));
    /* gossip once to every old and new member (idempotent on their side) */
    for (uint32_t i = 0; i < k; i++)
        peer_send(d->peers, "POST", urls[i], "/v1/committee/proposal", (const uint8_t *)copy, len, 1, NULL, NULL);
    free(copy);
    daemon_refresh_state(d);
    return 200;
}

json_t *sched_status(struct sched *s) {
    pthread_mutex_lock(&s->mu);
    json_t *j = json_null();
    if (s->eng && !s->finished) {
        char sh[65];
        tkms_hex(sh, tkms_dkg_session(s->eng), 32);
        j = json_pack("{s:s, s:I, s:s, s:I}", "kind", s->plan.is_dkg ? "dkg" : "reshare", "epoch",
                      (json_int_t)s->plan.epoch, "id", sh, "slot", (json_int_t)s->plan.slot);
    }
    pthread_mutex_unlock(&s->mu);
    return j;
}
