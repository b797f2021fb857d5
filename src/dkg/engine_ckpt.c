/* DKG engine, checkpoints (docs/dkg.md): serialising the state needed to resume, restoring it
 * (the held messages are fed back through the receive path), and retrying a session in a new
 * attempt from a checkpoint. */
#include "engine_internal.h"

#include "proto_bytes.h"
#include "sha256.h"

/* Layout (docs/dkg.md): "TKCP" | ver | session | flags u16 | seed? | old_share? | outcome? |
 * be32 count | count x (be32 len | message) | be32 nev | nev x (be32 dealer | 2 x evidence). */
enum { F_SEED = 1, F_OLD = 2, F_FIN = 4, F_SHARE = 8, F_FINAL = 16, F_ABORT = 32, F_ABORTCALC = 64 };
/* the fixed part: magic, version, wire tag, flags */
enum { CK_VERSION = 4, CK_TAG = 5, CK_FLAGS = 37, CK_FIXED = 39 };

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
    unsigned f = (e->has_seed ? F_SEED : 0) | (e->has_old_share ? F_OLD : 0) | (dkg_finished(e) ? F_FIN : 0) |
                 (e->has_share ? F_SHARE : 0) | (e->phase == PH_FINAL ? F_FINAL : 0) |
                 (e->phase == PH_ABORTED ? F_ABORT : 0) | (e->outcome == OUT_FAILED ? F_ABORTCALC : 0);
    b[0] = (uint8_t)(f >> 8);
    b[1] = (uint8_t)f;
    wr(&w, b, 2);
    if (f & F_SEED) wr(&w, e->seed, 32);
    if (f & F_OLD) {
        fr_to_bytes(b, &e->old_share);
        wr(&w, b, 32);
    }
    if (e->outcome == OUT_QUAL) {
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

tkms_dkg *dkg_load(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len, uint64_t now,
                   int retry) {
    tkms_dkg *e = mem;
    uint8_t sum[32];
    if (!ck || len < 32 + CK_FIXED) return NULL;
    sha256(sum, ck, len - 32);
    if (!ct_memeq(sum, ck + len - 32, 32)) return NULL;
    len -= 32;
    if (!dkg_setup(e, mem, mem_len, cfg)) return NULL;
    size_t p = 0;
#define NEED(k)                                                                                                        \
    do {                                                                                                               \
        if (len - p < (size_t)(k)) goto fail;                                                                          \
    } while (0)
    NEED(CK_FIXED);
    if (memcmp(ck, "TKCP", 4) != 0 || ck[CK_VERSION] != 1 || memcmp(ck + CK_TAG, e->wire, 32) != 0) goto fail;
    unsigned f = ((unsigned)ck[CK_FLAGS] << 8) | ck[CK_FLAGS + 1];
    p = CK_FIXED;
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
        (void)dkg_handle_msg(e, now, ck + p, ml, 0);
        p += ml;
    }
    NEED(4);
    uint32_t nev = proto_rd_be32(ck + p);
    p += 4;
    for (uint32_t a = 0; a < nev; a++) {
        NEED(2 * EV_LEN);
        for (int k = 0; k < 2; k++) {
            const uint8_t *ev = ck + p + k * EV_LEN;
            if (dkg_verify_evidence(e, ev)) dkg_note_deal_digest(e, proto_rd_be32(ev + EV_DEALER), ev);
        }
        p += 2 * EV_LEN;
    }
    if (p != len) goto fail;
#undef NEED
    e->replaying = 0;
    /* a dealer that drew its seed deals no second polynomial; one that never dealt may still
     * deal before the deadline */
    e->steps = 0;
    if (e->my_old && (e->dealers[e->my_old - 1].deal.p != NULL || e->has_seed || now >= e->d_deal))
        e->steps |= STEP_DEALT;
    if (e->my_new && e->recvs[e->my_new - 1].resp.p) e->steps |= STEP_RESPONDED;
    if (e->my_old && e->dealers[e->my_old - 1].just.p) e->steps |= STEP_JUSTIFIED;
    e->outcome = !(f & F_FIN) ? OUT_NONE : (f & F_ABORTCALC) ? OUT_FAILED : OUT_QUAL;
    if ((f & F_ABORT) && !retry) e->phase = PH_ABORTED;
    if (f & F_FINAL) {
        e->phase = PH_FINAL;
        dkg_collect_sigs(e);
    }
    if (!e->has_seed && cfg->deal_seed && e->my_old && !e->dealers[e->my_old - 1].deal.p)
        dkg_seed_from_cfg(e, cfg->deal_seed);
    return e;
fail:
    tkms_dkg_wipe(e);
    return NULL;
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
    e->steps = 0;
    if (own[0] && own[0]->p) e->steps |= STEP_DEALT; /* else it deals (with its checkpointed seed, if any) */
    if (own[2] && own[2]->p) e->steps |= STEP_RESPONDED;
    if (own[1] && own[1]->p) e->steps |= STEP_JUSTIFIED;
    e->phase = PH_START;
    e->respond_at = e->justify_at = e->all_deals_at = 0;
    e->adopt_pending = e->adopt_mismatch = 0;
    if (!signed_cert || e->outcome != OUT_QUAL) {
        /* recompute at the new d_just from everything held */
        e->outcome = OUT_NONE;
        e->n_qual = 0;
        tkms_wipe(&e->share, sizeof e->share);
        e->has_share = 0;
    }
    for (int k = 0; k < 4; k++)
        if (own[k] && own[k]->p) dkg_queue(e, TKMS_DKG_BROADCAST, own[k]->p, own[k]->len);
    e->persist = 1;
    if (now >= e->start) dkg_send_fetch(e, now, TKMS_DKG_BROADCAST);
    e->next_fetch = now + dkg_fetch_period(e);
    dkg_advance(e, now);
    for (size_t j = 0; j < e->n_new && dkg_running(e); j++)
        if (e->recvs[j].cert.p) dkg_check_quorum(e, now, dkg_view_cert(body_of(&e->recvs[j].cert)).thash);
}

/* A restarted node announces its own messages again and asks its peers for what it missed. */
static void resume_after_restart(tkms_dkg *e, uint64_t now) {
    e->phase = dkg_finished(e) ? PH_CERTIFY : PH_COLLECT;
    dkg_late_start(e, now);
    const dealer_t *me_d = e->my_old ? &e->dealers[e->my_old - 1] : NULL;
    const recv_t *me_r = e->my_new ? &e->recvs[e->my_new - 1] : NULL;
    if (me_d && me_d->deal.p) dkg_queue(e, TKMS_DKG_BROADCAST, me_d->deal.p, me_d->deal.len);
    if (me_d && me_d->just.p) dkg_queue(e, TKMS_DKG_BROADCAST, me_d->just.p, me_d->just.len);
    if (me_r && me_r->resp.p) dkg_queue(e, TKMS_DKG_BROADCAST, me_r->resp.p, me_r->resp.len);
    if (me_r && me_r->cert.p) dkg_queue(e, TKMS_DKG_BROADCAST, me_r->cert.p, me_r->cert.len);
    e->want_fetch = 1;
    e->next_fetch = now;
    dkg_advance(e, now);
    for (size_t j = 0; j < e->n_new && dkg_running(e); j++)
        if (e->recvs[j].cert.p) dkg_check_quorum(e, now, dkg_view_cert(body_of(&e->recvs[j].cert)).thash);
}

void dkg_resume(tkms_dkg *e, uint64_t now, int retry) {
    if (!dkg_running(e)) return;
    if (retry)
        start_retry(e, now);
    else
        resume_after_restart(e, now);
}

tkms_dkg *tkms_dkg_restore(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len,
                           uint64_t now) {
    tkms_dkg *e = dkg_load(mem, mem_len, cfg, ck, len, now, 0);
    if (e) dkg_resume(e, now, 0);
    return e;
}

tkms_dkg *tkms_dkg_retry(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ck, size_t len,
                         uint64_t now) {
    tkms_dkg *e = dkg_load(mem, mem_len, cfg, ck, len, now, 1);
    if (e) dkg_resume(e, now, 1);
    return e;
}
