/* DKG engine, the driver side of the sans-I/O contract (engine.h): memory layout and init,
 * accessors, the output queue, receiving (header checks, duplicates, signatures, storage, echo),
 * catch-up fetches, and the timers that move the attempt through its phases. */
#include "engine_internal.h"

#include "proto_bytes.h"
#include "sha256.h"
#include "tbls.h"

static int bm_get(const uint8_t *b, size_t i) { return (b[i / 8] >> (i % 8)) & 1; }
static void bm_set(uint8_t *b, size_t i) { b[i / 8] |= (uint8_t)(1u << (i % 8)); }

/* ------------------------------------------------------------------ memory */

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
    s += al8(oc * sizeof(outmsg)) + al8(dkg_fetch_len(nd, n));
#if TKMS_DKG_FAULTS
    s += al8(dkg_deal_max(t, n)); /* equiv_buf */
#endif
    s += 3 * al8(m * sizeof(g2_affine_t)) + al8(m * sizeof(g2_t)) + al8(m * sizeof(fp2_t)) + al8(m * 32) +
         2 * al8(m * sizeof(fr_t)) + 2 * al8(m * 4) + al8(g2_msm_scratch_size(m)) + al8(tbls_scratch_size(m));
    /* every held message, plus the sender's own copy of its four */
    s += (nd + 1) * (al8(dkg_deal_max(t, n)) + al8(dkg_just_max(n))) +
         (n + 1) * (al8(dkg_resp_max(nd)) + al8(dkg_cert_max(nd)));
    return s + 64;
}

void *dkg_take(tkms_dkg *e, size_t n) {
    n = al8(n);
    if (e->arena_used + n > e->arena_cap) return NULL;
    void *p = e->arena + e->arena_used;
    e->arena_used += n;
    return p;
}

/* ------------------------------------------------------------------ output */

void dkg_queue(tkms_dkg *e, int32_t dest, const uint8_t *p, size_t len) {
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
    uint8_t *p = dkg_take(e, len);
    if (!p) return 0;
    memcpy(p, msg, len);
    slot->p = p;
    slot->len = (uint32_t)len;
    memcpy(slot->digest, digest, 32);
    return 1;
}

/* ------------------------------------------------------------------ init */

int dkg_setup(tkms_dkg *e, void *mem, size_t mem_len, const tkms_dkg_config *c) {
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
    e->rng = c->rng;
    e->rng_ctx = c->rng_ctx;
    e->self = *c->self;
    size_t nd = e->n_dealers, n = e->n_new, t = e->t_new;
    e->newm = dkg_take(e, n * sizeof(tkms_dkg_member));
    memcpy(e->newm, c->new_members, n * sizeof(tkms_dkg_member));
    for (size_t i = 0; i < n; i++) e->newm[i].address[TKMS_DKG_ADDR_MAX - 1] = 0;
    if (e->reshare) {
        e->oldm = dkg_take(e, c->n_old * sizeof(tkms_dkg_member));
        memcpy(e->oldm, c->old_members, c->n_old * sizeof(tkms_dkg_member));
        e->old_poly = dkg_take(e, (c->t_old + 1) * sizeof(g2_affine_t));
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
    e->peer_key = dkg_take(e, np * sizeof(uint8_t *));
    e->old_slot = dkg_take(e, (nd + 1) * sizeof(int32_t));
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
    e->dealers = dkg_take(e, nd * sizeof(dealer_t));
    e->recvs = dkg_take(e, n * sizeof(recv_t));
    memset(e->dealers, 0, nd * sizeof(dealer_t));
    memset(e->recvs, 0, n * sizeof(recv_t));
    e->qual = dkg_take(e, nd * 4);
    e->poly = dkg_take(e, t * sizeof(g2_affine_t));
    e->sig_idx = dkg_take(e, n * 4);
    e->sigs = dkg_take(e, n * 64);
    e->out_cap = 2 * (nd + n) + np + 32;
    e->out = dkg_take(e, e->out_cap * sizeof(outmsg));
    e->fetch_buf = dkg_take(e, dkg_fetch_len(nd, n));
#if TKMS_DKG_FAULTS
    e->equiv_buf = dkg_take(e, dkg_deal_max(t, n));
#endif
    size_t m = nd;
    if (n > m) m = n;
    if (t > m) m = t;
    if (e->t_old > m) m = e->t_old;
    m += 1;
    e->m = m;
    e->s_aff = dkg_take(e, m * sizeof(g2_affine_t));
    e->s_aff2 = dkg_take(e, m * sizeof(g2_affine_t));
    e->s_aff3 = dkg_take(e, m * sizeof(g2_affine_t));
    e->s_proj = dkg_take(e, m * sizeof(g2_t));
    e->s_fp2 = dkg_take(e, m * sizeof(fp2_t));
    e->s_sc = dkg_take(e, m * 32);
    e->s_fr = dkg_take(e, m * sizeof(fr_t));
    e->s_fr2 = dkg_take(e, m * sizeof(fr_t));
    e->s_idx = dkg_take(e, m * 4);
    e->s_idx2 = dkg_take(e, m * 4);
    e->s_msm = dkg_take(e, g2_msm_scratch_size(m));
    e->s_tbls = dkg_take(e, tbls_scratch_size(m));
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
    e->phase = PH_START;
    e->outcome = OUT_NONE;
    return 1;
}

/* The dealing seed from a driver-given one, bound to the session: a seed reused by mistake for
 * another session does not give the same polynomial there. */
void dkg_seed_from_cfg(tkms_dkg *e, const uint8_t deal_seed[32]) {
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
    if (!dkg_setup(e, mem, mem_len, cfg)) {
        if (mem && mem_len >= sizeof(struct tkms_dkg)) tkms_wipe(mem, sizeof(struct tkms_dkg));
        return NULL;
    }
    if (e->reshare && e->my_old && cfg->old_share) {
        e->old_share = *cfg->old_share;
        e->has_old_share = 1;
    }
    if (cfg->deal_seed && e->my_old && (!e->reshare || e->has_old_share)) dkg_seed_from_cfg(e, cfg->deal_seed);
    return e;
}

void tkms_dkg_abandon(tkms_dkg *e) {
    if (!dkg_running(e)) return;
    e->phase = PH_ABORTED;
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
tkms_dkg_state tkms_dkg_get_state(const tkms_dkg *e) {
    return e->phase == PH_FINAL ? TKMS_DKG_FINAL : e->phase == PH_ABORTED ? TKMS_DKG_ABORTED : TKMS_DKG_RUNNING;
}
const tkms_dkg_stats *tkms_dkg_get_stats(const tkms_dkg *e) { return &e->st; }
const uint8_t *tkms_dkg_session(const tkms_dkg *e) { return e->wire; }
int tkms_dkg_cert_signed(const tkms_dkg *e) { return e->my_new && e->recvs[e->my_new - 1].cert.p != NULL; }
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
    if (e->phase != PH_FINAL && e->outcome != OUT_QUAL) return 0;
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

/* ------------------------------------------------------------------ catch-up */

/* FETCH body: be32 nd | be32 n | be64 time | bitmaps (deals nd, responses n, justifications nd,
 * CERTs n) of the bundles the requester holds. */
static size_t fetch_body_len(size_t nd, size_t n) { return 16 + 2 * bm_len(nd) + 2 * bm_len(n); }

/* Period of the catch-up requests: half a fetch period while the phases run (a bundle lost to a
 * partition must come back before the next deadline), one period after finishing, and a period
 * doubling up to 8 fetch periods while waiting for certificates past d_cert. */
uint64_t dkg_fetch_period(const tkms_dkg *e) {
    if (e->phase == PH_CERT_WAIT) return e->wait_period;
    if (dkg_finished(e)) return e->fetch_ticks;
    return e->fetch_ticks / 2 ? e->fetch_ticks / 2 : 1;
}

static void serve_fetch(tkms_dkg *e, uint64_t now, int32_t slot, const uint8_t *b, size_t blen) {
    size_t nd = e->n_dealers, n = e->n_new;
    if (blen != fetch_body_len(nd, n)) return;
    const uint8_t *hd = b + 16, *hr = hd + bm_len(nd), *hj = hr + bm_len(n), *hc = hj + bm_len(nd);
    e->st.fetches_served++;
    int behind = 0; /* the requester holds a bundle we lack */
    for (size_t i = 0; i < nd; i++) {
        const dealer_t *d = &e->dealers[i];
        if (d->deal.p && !bm_get(hd, i)) dkg_queue(e, slot, d->deal.p, d->deal.len);
        if (d->just.p && !bm_get(hj, i)) dkg_queue(e, slot, d->just.p, d->just.len);
        behind |= (!d->deal.p && bm_get(hd, i)) || (!d->just.p && bm_get(hj, i));
    }
    for (size_t j = 0; j < n; j++) {
        const recv_t *r = &e->recvs[j];
        if (r->resp.p && !bm_get(hr, j)) dkg_queue(e, slot, r->resp.p, r->resp.len);
        if (r->cert.p && !bm_get(hc, j)) dkg_queue(e, slot, r->cert.p, r->cert.len);
        behind |= (!r->resp.p && bm_get(hr, j)) || (!r->cert.p && bm_get(hc, j));
    }
    /* pull in the other direction too (rate-limited): after a partition heals, whichever side
     * asks first brings both up to date */
    if (behind && dkg_running(e) && now >= e->next_pull) {
        dkg_send_fetch(e, now, slot);
        e->next_pull = now + dkg_fetch_period(e);
    }
}

/* Where a catch-up request goes: to everyone, or after an adoption mismatch to the next signer
 * (round robin) of the certified transcript, whose deals it then asks for (dkg_send_fetch). */
static int32_t fetch_dest(tkms_dkg *e) {
    if (!e->adopt_mismatch) return TKMS_DKG_BROADCAST;
    for (size_t k = 1; k <= e->n_new; k++) {
        size_t j = (e->adopt_from + k) % e->n_new;
        const recv_t *r = &e->recvs[j];
        if (j == e->self_slot || !r->cert.p || r->cert_equiv ||
            memcmp(dkg_view_cert(body_of(&r->cert)).thash, e->adopt_hash, 32) != 0)
            continue;
        e->adopt_from = j;
        return (int32_t)j;
    }
    return TKMS_DKG_BROADCAST;
}

void dkg_send_fetch(tkms_dkg *e, uint64_t now, int32_t dest) {
    size_t nd = e->n_dealers, n = e->n_new, blen = fetch_body_len(nd, n);
    uint8_t *buf = e->fetch_buf, digest[32];
    uint8_t type = e->my_new ? TKMS_DKG_MSG_FETCH_NEW : TKMS_DKG_MSG_FETCH_OLD;
    dkg_write_hdr(buf, e->wire, type, e->my_new ? e->my_new : e->my_old, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    memset(b, 0, blen);
    proto_be32(b, (uint32_t)nd);
    proto_be32(b + 4, (uint32_t)n);
    proto_be64(b + 8, now);
    uint8_t *hd = b + 16, *hr = hd + bm_len(nd), *hj = hr + bm_len(n), *hc = hj + bm_len(nd);
    for (size_t i = 0; i < nd; i++) {
        /* after an adoption mismatch the peers' deals are asked for even when one is held */
        if (e->dealers[i].deal.p && !e->adopt_mismatch) bm_set(hd, i);
        if (e->dealers[i].just.p) bm_set(hj, i);
    }
    for (size_t j = 0; j < n; j++) {
        if (e->recvs[j].resp.p) bm_set(hr, j);
        if (e->recvs[j].cert.p) bm_set(hc, j);
    }
    if (!dkg_sign_msg(e, buf, blen, digest)) return;
    e->st.fetches_sent++;
    dkg_queue(e, dest, buf, HDR + blen + SIG);
}

/* ------------------------------------------------------------------ receive */

int dkg_handle_msg(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len, int from_self) {
    e->st.rx++;
    dkg_hdr h;
    if (!dkg_parse_hdr(&h, msg, len)) {
        e->st.rx_bad++;
        return 0;
    }
    if (memcmp(h.tag, e->wire, 32) != 0) {
        e->st.rx_stale++; /* another session: an old epoch, another committee, a replay */
        return 0;
    }
    const uint8_t *pk;
    if (!dkg_sender_ok(e, h.type, h.sender, &pk) || (size_t)h.body_len + HDR + SIG != len ||
        len > dkg_type_max(e, h.type)) {
        e->st.rx_bad++;
        return 0;
    }
    const uint8_t *sig = sig_of(msg, len);
    uint32_t sender = h.sender;
    smsg *slot = NULL;
    uint8_t *equivf = NULL;
    switch (h.type) {
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
        (memcmp(sig_of(slot->p, slot->len), sig, SIG) == 0 ||
         (h.type == TKMS_DKG_MSG_DEAL && e->dealers[sender - 1].equiv && !e->adopt_mismatch &&
          memcmp(e->dealers[sender - 1].ev[1] + EV_SIG, sig, SIG) == 0))) {
        e->st.rx_dup++;
        return 0;
    }
    uint8_t digest[32], si[SIG_DST_LEN + HDR + 32];
    sha256(digest, h.body, h.body_len);
    if (!from_self) {
        dkg_sign_input(si, msg, digest);
        if (!tkms_ed25519_verify(sig, pk, si, sizeof si)) {
            e->st.rx_badsig++;
            return 0;
        }
    }
    if (h.type == TKMS_DKG_MSG_FETCH_NEW || h.type == TKMS_DKG_MSG_FETCH_OLD) {
        int32_t s = h.type == TKMS_DKG_MSG_FETCH_NEW ? (int32_t)(sender - 1) : e->old_slot[sender - 1];
        if ((size_t)s != e->self_slot) serve_fetch(e, now, s, h.body, h.body_len);
        return 1;
    }
    if (!slot) goto bad; /* unreachable: dkg_sender_ok admits six types, and the two without a slot returned above */
    int newly_equiv = 0;
    if (h.type == TKMS_DKG_MSG_DEAL) {
        uint8_t ev[EV_LEN];
        int was = e->dealers[sender - 1].equiv;
        dkg_make_evidence(ev, sender, h.body_len, digest, sig);
        dkg_note_deal_digest(e, sender, ev);
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
            if (h.type == TKMS_DKG_MSG_CERT) dkg_check_quorum(e, now, dkg_view_cert(body_of(slot)).thash);
        }
        /* the proof is echoed once, from the caller's buffer (see tkms_dkg_pop_output) */
        if (!from_self && newly_equiv) {
            dkg_queue(e, TKMS_DKG_BROADCAST, msg, len);
            e->st.echoes++;
        }
        if (h.type == TKMS_DKG_MSG_DEAL && !from_self) dkg_try_swap_deal(e, now, sender, msg, len, digest);
        return 1;
    }
    /* per-type body checks before storing (a deal is checked once stored: dkg_on_deal) */
    if (h.type == TKMS_DKG_MSG_RESPONSE) {
        if (!dkg_check_resp(e, h.body, h.body_len)) goto bad;
    } else if (h.type == TKMS_DKG_MSG_JUSTIFICATION) {
        if (!dkg_check_just(e, h.body, h.body_len)) goto bad;
    } else if (h.type == TKMS_DKG_MSG_CERT) {
        if (!dkg_check_cert(e, h.body, h.body_len)) goto bad;
        dkg_cert_view v = dkg_view_cert(h.body);
        uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
        tkms_dkg_cert_message(cm, e->session, v.thash);
        if (!from_self && !tkms_ed25519_verify(v.member_sig, pk, cm, sizeof cm)) goto bad;
    }
    if (!store(e, slot, msg, len, digest)) {
        e->st.rx_bad++;
        return 0;
    }
    if (h.type == TKMS_DKG_MSG_DEAL) e->n_deals++;
    if (h.type == TKMS_DKG_MSG_RESPONSE) {
        e->n_resps++;
        e->recvs[sender - 1].resp_late = !e->replaying && now > e->d_resp;
    }
    if (!from_self) {
        dkg_queue(e, TKMS_DKG_BROADCAST, slot->p, slot->len);
        e->st.echoes++;
    }
    switch (h.type) {
    case TKMS_DKG_MSG_DEAL: dkg_on_deal(e, sender, slot); break;
    case TKMS_DKG_MSG_RESPONSE: dkg_on_response(e, sender, slot); break;
    case TKMS_DKG_MSG_CERT: dkg_check_quorum(e, now, dkg_view_cert(body_of(slot)).thash); break;
    default: break;
    }
    return 1;
bad:
    e->st.rx_bad++;
    return 0;
}

/* ------------------------------------------------------------------ timers */

static int all_responses_ok(const tkms_dkg *e) {
    uint8_t mine[32];
    if (!dkg_have_all_deals(e) || e->n_resps != e->n_new) return 0;
    dkg_dealset_digest(e, mine);
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->resp.p || r->resp_equiv) return 0;
        dkg_resp_view v = dkg_view_resp(e, body_of(&r->resp));
        for (size_t i = 0; i < e->n_dealers; i++)
            if (v.verdict[i]) return 0;
        if (memcmp(v.dealset, mine, 32) != 0) return 0;
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
        size_t c = dkg_complaints(e, i, NULL);
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
    if (!dkg_running(e)) return UINT64_MAX;
    if (e->want_fetch) return e->next_fetch;
    if (dkg_finished(e)) return UINT64_MAX;
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
void dkg_late_start(tkms_dkg *e, uint64_t now) {
    if (e->my_new && !dkg_done(e, STEP_RESPONDED)) {
        if (now + e->fetch_ticks < e->d_deal + (e->d_resp - e->d_deal) / 2)
            e->respond_at = now + e->fetch_ticks;
        else
            e->steps |= STEP_RESPONDED;
    }
    if (e->my_old && !dkg_done(e, STEP_JUSTIFIED)) e->justify_at = now + e->fetch_ticks;
    uint64_t grace = (e->d_resp - e->d_deal) + e->fetch_ticks, cert = e->d_cert - e->d_just;
    if (!dkg_finished(e) && e->d_just < now + grace) e->d_just = now + grace;
    if (e->d_cert < e->d_just + cert) e->d_cert = e->d_just + cert;
    if (dkg_finished(e) && e->d_cert < now + grace) e->d_cert = now + grace;
    e->want_fetch = 1;
    e->next_fetch = now;
}

/* The attempt begins: the phase follows the outcome held (a retry may keep a signed one). */
static void begin(tkms_dkg *e) { e->phase = dkg_finished(e) ? PH_CERTIFY : PH_COLLECT; }

void dkg_advance(tkms_dkg *e, uint64_t now) {
    if (!dkg_running(e) || e->replaying) return;
    if (e->phase == PH_START) {
        begin(e);
        if (now > e->start + e->fetch_ticks) dkg_late_start(e, now);
    }
    if (e->adopt_pending) dkg_check_quorum(e, now, e->adopt_hash);
    if (e->my_old && !dkg_done(e, STEP_DEALT) && now >= e->start) {
        if ((!e->reshare || e->has_old_share) && now < e->d_deal)
            dkg_do_deal(e, now);
        else
            e->steps |= STEP_DEALT; /* the deal phase is over (or there is nothing to deal): not a dealer now */
    }
    if (e->my_new && !e->all_deals_at && dkg_have_all_deals(e)) e->all_deals_at = now + 1;
    if (e->my_new && !dkg_done(e, STEP_RESPONDED) && now >= e->respond_at &&
        (now >= e->d_deal || (e->all_deals_at && now + 1 >= e->all_deals_at + e->echo_ticks))) {
        /* a response sent in the second half of the window could reach the dealers after their
         * deadline: a node that is that late (it started or restarted late) stays silent */
        if (now >= e->d_deal + (e->d_resp - e->d_deal) / 2)
            e->steps |= STEP_RESPONDED;
        else
            dkg_do_respond(e, now);
    }
    if (e->my_old && !dkg_done(e, STEP_JUSTIFIED) && now >= e->justify_at && (now >= e->d_resp || all_responses_in(e)))
        dkg_do_justify(e, now);
    if (!dkg_finished(e) && (now >= e->d_just || all_responses_ok(e))) dkg_do_finish(e, now);
    if (dkg_running(e) && dkg_finished(e) && now >= e->d_cert && e->phase != PH_CERT_WAIT) {
        /* A node that signed its CERT does not abort at d_cert: peers that collected t_new
         * signatures in time may have certified that very transcript, and aborting would drop
         * this node's share of it (with its old share erased on adoption, the secret could be
         * lost). It keeps its share and keeps fetching until it sees a quorum (FINAL) or its
         * driver gives up (tkms_dkg_abandon). Nodes that signed nothing abort as before. */
        if (e->my_new && e->recvs[e->my_new - 1].cert.p) {
            e->phase = PH_CERT_WAIT;
            e->wait_period = e->fetch_ticks;
            e->want_fetch = 1;
        } else {
            e->phase = PH_ABORTED;
            e->persist = 1;
            return;
        }
    }
    if (dkg_running(e) && !dkg_finished(e) && now >= e->d_resp) e->just_missing = missing_justification(e);
    /* finished but not certified yet: certificates or bundles may have been lost (loss, a healed
     * partition); ask the peers for what is missing, first after one fetch period */
    if (dkg_running(e) && dkg_finished(e) && !e->want_fetch) {
        e->want_fetch = 1;
        if (e->next_fetch < now + e->fetch_ticks) e->next_fetch = now + e->fetch_ticks;
    }
    if (now >= catchup_at(e)) {
        dkg_send_fetch(e, now, fetch_dest(e));
        e->next_fetch = now + dkg_fetch_period(e);
        if (e->phase == PH_CERT_WAIT && e->wait_period < 8 * e->fetch_ticks) e->wait_period *= 2;
    }
}

int tkms_dkg_receive(tkms_dkg *e, uint64_t now, const uint8_t *msg, size_t len) {
    int r = dkg_handle_msg(e, now, msg, len, 0);
    dkg_advance(e, now);
    return r;
}

void tkms_dkg_tick(tkms_dkg *e, uint64_t now) { dkg_advance(e, now); }

uint64_t tkms_dkg_next_deadline(const tkms_dkg *e) {
    if (!dkg_running(e)) return UINT64_MAX;
    uint64_t d = UINT64_MAX;
    if (e->my_old && !dkg_done(e, STEP_DEALT)) d = e->start;
    else if (e->my_new && !dkg_done(e, STEP_RESPONDED)) {
        d = e->d_deal;
        if (e->all_deals_at && e->all_deals_at - 1 + e->echo_ticks < d) d = e->all_deals_at - 1 + e->echo_ticks;
        if (d < e->respond_at) d = e->respond_at;
    }
    else if (e->my_old && !dkg_done(e, STEP_JUSTIFIED)) d = e->d_resp > e->justify_at ? e->d_resp : e->justify_at;
    else if (!dkg_finished(e)) d = e->d_just;
    else if (e->phase != PH_CERT_WAIT) d = e->d_cert;
    return min64(d, catchup_at(e));
}
