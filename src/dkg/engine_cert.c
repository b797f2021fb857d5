/* DKG engine, certification (DESIGN.md §3 step 5): this node's CERT on its transcript, the
 * quorum of matching CERTs that makes the outcome FINAL, adoption of a certified transcript
 * computed from the bundles held, and the erasure of old secrets once certified. */
#include "engine_internal.h"

#include "proto_bytes.h"

void dkg_send_cert(tkms_dkg *e, uint64_t now) {
    if (e->recvs[e->my_new - 1].cert.p) return;
    size_t blen = 32 + 4 + e->n_qual * 4 + 64, len = HDR + blen + SIG;
    uint8_t *buf = dkg_take(e, len), digest[32], cm[TKMS_DKG_CERT_MSG_LEN];
    if (!buf) return;
    dkg_write_hdr(buf, e->wire, TKMS_DKG_MSG_CERT, e->my_new, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    memcpy(b, e->thash, 32);
    proto_be32(b + 32, (uint32_t)e->n_qual);
    for (size_t a = 0; a < e->n_qual; a++) proto_be32(b + 36 + 4 * a, e->qual[a]);
    tkms_dkg_cert_message(cm, e->session, e->thash);
    if (!tkms_ed25519_sign(b + 36 + 4 * e->n_qual, e->self.sign_sk, cm, sizeof cm)) return;
    if (!dkg_sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)dkg_handle_msg(e, now, buf, len, 1);
    dkg_queue(e, TKMS_DKG_BROADCAST, buf, len);
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

/* A CERT held from receiver j that counts for hash (not from an equivocating signer). */
static const smsg *counting_cert(const tkms_dkg *e, size_t j, const uint8_t hash[32]) {
    const recv_t *r = &e->recvs[j];
    if (!r->cert.p || r->cert_equiv || memcmp(dkg_view_cert(body_of(&r->cert)).thash, hash, 32) != 0) return NULL;
    return &r->cert;
}

void dkg_collect_sigs(tkms_dkg *e) {
    e->n_sigs = 0;
    for (size_t j = 0; j < e->n_new; j++) {
        const smsg *c = counting_cert(e, j, e->thash);
        if (!c) continue;
        e->sig_idx[e->n_sigs] = (uint32_t)(j + 1);
        memcpy(e->sigs[e->n_sigs], dkg_view_cert(body_of(c)).member_sig, 64);
        e->n_sigs++;
    }
}

static void go_final(tkms_dkg *e) {
    e->phase = PH_FINAL;
    e->want_fetch = 0;
    e->persist = 1;
    dkg_collect_sigs(e);
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

/* Adopts the certified QUAL of cert: recomputes the outcome from the bundles held. */
static void try_adopt(tkms_dkg *e, const smsg *cert, const uint8_t hash[32]) {
    dkg_cert_view v = dkg_view_cert(body_of(cert));
    uint32_t nq = v.n_qual;
    if (nq > e->n_dealers) return;
    uint32_t *qbuf = e->s_idx2; /* dkg_compute_with never touches s_idx2 or s_aff3 */
    for (uint32_t a = 0; a < nq; a++) qbuf[a] = proto_rd_be32(v.qual + 4 * a);
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
    fr_t s = FR_ZERO;
    int hs = 0, bad = 0;
    for (uint32_t a = 0; a < nq; a++) bad |= e->dealers[qbuf[a] - 1].deal_bad;
    if (bad || dkg_compute_with(e, qbuf, nq, pbuf, th, &s, &hs) != 1 || memcmp(th, hash, 32) != 0) {
        /* q members certified a transcript the deals held do not give: a dealer in its QUAL
         * equivocated and a partition (or loss) kept its other bundle from us. Fetch the deals
         * of the transcript's signers (fetch_dest, dkg_send_fetch) and try each one that differs
         * in place of ours (dkg_try_swap_deal). docs/dkg.md rule 9, "Adoption mismatch". */
        tkms_wipe(&s, sizeof s);
        e->adopt_mismatch = 1;
        e->want_fetch = 1;
        memcpy(e->adopt_hash, hash, 32);
        return;
    }
    memcpy(e->qual, qbuf, nq * 4);
    e->n_qual = nq;
    memcpy(e->poly, pbuf, e->t_new * sizeof(g2_affine_t));
    memcpy(e->thash, th, 32);
    e->has_share = hs;
    if (hs) e->share = s;
    tkms_wipe(&s, sizeof s);
    dkg_set_outcome(e, OUT_QUAL);
    e->st.adopted++;
    go_final(e);
}

void dkg_check_quorum(tkms_dkg *e, uint64_t now, const uint8_t hash[32]) {
    (void)now;
    if (e->phase == PH_ABORTED || e->replaying) return;
    if (e->phase == PH_FINAL) {
        if (memcmp(hash, e->thash, 32) == 0) dkg_collect_sigs(e);
        return;
    }
    size_t c = 0;
    const smsg *any = NULL;
    for (size_t j = 0; j < e->n_new; j++) {
        const smsg *m = counting_cert(e, j, hash);
        if (!m) continue;
        c++;
        any = m;
    }
    if (!any || c < tkms_dkg_cert_quorum(e->t_new, e->n_new)) return;
    if (e->outcome == OUT_QUAL && memcmp(hash, e->thash, 32) == 0) {
        go_final(e);
        return;
    }
    try_adopt(e, any, hash);
}

/* After an adoption mismatch (try_adopt): a validly signed, well-formed deal of dealer i that
 * differs from the one held (an equivocator's other bundle) is tried in its place, and the node
 * adopts the certified transcript if it then verifies (FINAL; never an unverified one). The new
 * deal stays if so, and also when this node has computed its own outcome already (the deals held
 * then serve adoption only; with several equivocators, the bundles of one signer of the
 * certified transcript replace the held ones one after the other). Otherwise the held deal and
 * its share are restored. */
void dkg_try_swap_deal(tkms_dkg *e, uint64_t now, uint32_t i, const uint8_t *msg, size_t len,
                       const uint8_t digest[32]) {
    dealer_t *d = &e->dealers[i - 1];
    if (!dkg_running(e) || e->replaying || !e->adopt_mismatch || !d->deal.p || al8(d->deal.len) < al8(len) ||
        !dkg_check_deal(e, msg + HDR, len - HDR - SIG))
        return;
    dealer_t saved = *d;
    d->deal.p = (uint8_t *)(uintptr_t)msg; /* read only, and only during this call */
    d->deal.len = (uint32_t)len;
    memcpy(d->deal.digest, digest, 32);
    d->deal_bad = 0;
    d->const_st = CONST_UNCHECKED;
    d->share_st = SHARE_NONE;
    dkg_on_deal(e, i, &d->deal);
    dkg_check_quorum(e, now, e->adopt_hash);
    if (e->phase == PH_FINAL || dkg_finished(e)) {
        memcpy(saved.deal.p, msg, len); /* the held buffer (same arena slot) takes the new deal */
        d->deal.p = saved.deal.p;
    } else {
        *d = saved;
    }
    tkms_wipe(&saved, sizeof saved);
}
