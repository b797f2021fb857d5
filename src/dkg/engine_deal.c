/* DKG engine, dealing and QUAL (DESIGN.md §3 steps 1-4): the deal (HPKE-encrypted shares and
 * commitments), batched share checks, responses with complaints and equivocation evidence,
 * justifications, and the computation of QUAL, the public polynomial, the share and the
 * transcript hash. */
#include "engine_internal.h"

#include "hpke.h"
#include "proto_bytes.h"
#include "sha256.h"
#include "tbls.h"

/* ------------------------------------------------------------------ points */

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
void dkg_eval_commit(g2_t *out, const g2_affine_t *C, size_t t, uint32_t x) {
    g2_t acc;
    g2_from_affine(&acc, &C[t - 1]);
    for (size_t k = t - 1; k-- > 0;) {
        mul_small(&acc, &acc, x);
        g2_add_affine(&acc, &acc, &C[k]);
    }
    *out = acc;
}

void dkg_gen_mul(g2_t *r, const fr_t *s) {
    g2_t g;
    uint64_t k[4];
    g2_from_affine(&g, &G2_GENERATOR);
    fr_to_scalar(k, s);
    g2_mul(r, &g, k);
    tkms_wipe(k, sizeof k);
}

/* ------------------------------------------------------------------ dealing */

/* The polynomial's constant term: a fresh secret (DKG) or the old share (reshare). */
static void deal_secret(tkms_dkg *e, fr_t *secret, const uint8_t seed[32]) {
    if (e->reshare) {
        *secret = e->old_share;
#if TKMS_DKG_FAULTS
        dkg_fault_secret(e, secret);
#endif
    } else {
        uint8_t prk[32], wide[64];
        hkdf_sha256_extract(prk, (const uint8_t *)TKMS_TAG_DKG_SECRET, TKMS_TAG_LEN(TKMS_TAG_DKG_SECRET), seed, 32);
        (void)hkdf_sha256_expand(wide, 64, prk, (const uint8_t *)"", 0);
        fr_from_bytes_wide(secret, wide, 64);
        tkms_wipe(prk, 32);
        tkms_wipe(wide, 64);
    }
}

/* shares[j-1] = f(j) for every receiver (as sent), commitments. */
static int eval_poly(tkms_dkg *e, fr_t *shares, g2_affine_t *commits, const uint8_t seed[32]) {
    fr_t secret;
    deal_secret(e, &secret, seed);
    int ok = tbls_deal(shares, commits, &secret, seed, e->t_new, e->n_new, e->s_tbls);
    tkms_wipe(&secret, sizeof secret);
#if TKMS_DKG_FAULTS
    if (ok) dkg_fault_shares(e, shares);
#endif
    return ok;
}

/* The HPKE ephemeral key material for receiver j is derived from the dealing seed, not drawn from
 * the RNG: a deal is then a function of (seed, session, config), and a dealer that deals the same
 * session again from the same seed (a restart, a retry) re-sends byte-identical bytes, which
 * receivers take for a duplicate instead of an equivocation (docs/dkg.md, "Retries"). */
static void hpke_ikm(uint8_t ikm[32], const uint8_t tag[32], const uint8_t seed[32], uint32_t j) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_DKG_HPKE_IKM) };
    uint8_t prk[32], info[TL + 32 + 4];
    hkdf_sha256_extract(prk, (const uint8_t *)TKMS_TAG_DKG_HPKE_IKM, TL, seed, 32);
    memcpy(info, TKMS_TAG_DKG_HPKE_IKM, TL);
    memcpy(info + TL, tag, 32);
    proto_be32(info + TL + 32, j);
    (void)hkdf_sha256_expand(ikm, 32, prk, info, sizeof info);
    tkms_wipe(prk, 32);
}

static int build_deal(tkms_dkg *e, uint8_t *buf, const uint8_t seed[32], uint8_t digest[32]) {
    fr_t *shares = e->s_fr;
    g2_affine_t *C = e->s_aff;
    if (!eval_poly(e, shares, C, seed)) return 0;
    size_t blen = dkg_deal_body_len(e);
    dkg_write_hdr(buf, e->wire, TKMS_DKG_MSG_DEAL, e->my_old, (uint32_t)blen);
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
        dkg_share_aad(aad, e->wire, e->my_old, (uint32_t)j);
        hpke_ikm(ikm, e->wire, seed, (uint32_t)j);
        ok = tkms_hpke_seal(b, e->newm[j - 1].kem_pk, (const uint8_t *)TKMS_INFO_DKG_SHARE,
                            TKMS_TAG_LEN(TKMS_INFO_DKG_SHARE), aad, SHARE_AAD_LEN, pt, 32, ikm);
        tkms_wipe(pt, 32);
        tkms_wipe(ikm, 32);
    }
    tkms_wipe(shares, e->n_new * sizeof(fr_t));
    return ok && dkg_sign_msg(e, buf, blen, digest);
}

void dkg_do_deal(tkms_dkg *e, uint64_t now) {
    e->steps |= STEP_DEALT;
    /* a seed restored from a checkpoint or given by the driver (a retry) is reused: same deal */
    if (!e->has_seed) e->rng(e->rng_ctx, e->seed, 32);
    e->has_seed = 1;
    size_t len = HDR + dkg_deal_body_len(e) + SIG;
    uint8_t digest[32];
    uint8_t *buf = dkg_take(e, len);
    if (!buf || !build_deal(e, buf, e->seed, digest)) return;
    e->persist = 1;
#if TKMS_DKG_FAULTS
    if (dkg_fault_send_deal(e, now, buf, len)) return;
#endif
    (void)dkg_handle_msg(e, now, buf, len, 1);
    dkg_queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* ------------------------------------------------------------------ share verification */

/* A deal just stored: marks it bad if malformed, else decrypts this node's share. */
void dkg_on_deal(tkms_dkg *e, uint32_t i, const smsg *m) {
    dealer_t *d = &e->dealers[i - 1];
    const uint8_t *b = body_of(m);
    if (!dkg_check_deal(e, b, body_len(m))) {
        d->deal_bad = 1;
        return;
    }
    if (e->my_new) {
        const uint8_t *ct = dkg_view_deal(e, b).cts + (e->my_new - 1) * CT_LEN;
        uint8_t aad[SHARE_AAD_LEN], pt[32];
        dkg_share_aad(aad, e->wire, i, e->my_new);
        d->share_st = SHARE_BAD;
        if (tkms_hpke_open(pt, e->self.kem_sk, (const uint8_t *)TKMS_INFO_DKG_SHARE, TKMS_TAG_LEN(TKMS_INFO_DKG_SHARE),
                           aad, SHARE_AAD_LEN, ct, CT_LEN) &&
            fr_from_bytes(&d->share, pt))
            d->share_st = SHARE_DECRYPTED;
        tkms_wipe(pt, 32);
    }
}

/* Verifies the decrypted shares of the listed dealers with one random linear combination:
 * (sum rho_i s_i) G2 == sum rho_i PK_ij, PK_ij by Horner, the right side one MSM. Falls back to
 * one check per dealer only when the batch fails. */
void dkg_verify_shares(tkms_dkg *e) {
    size_t k = 0;
    uint32_t *idx = e->s_idx;
    g2_affine_t *C = e->s_aff2;
    for (uint32_t i = 1; i <= e->n_dealers; i++) {
        dealer_t *d = &e->dealers[i - 1];
        if (d->share_st != SHARE_DECRYPTED) continue;
        if (!dkg_deal_commits(e, i, C)) {
            d->share_st = SHARE_BAD;
            continue;
        }
        dkg_eval_commit(&e->s_proj[k], C, e->t_new, e->my_new);
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
    dkg_gen_mul(&lhs, &acc);
    tkms_wipe(&acc, sizeof acc);
    tkms_wipe(&tmp, sizeof tmp);
    g2_msm_vartime(&rhs, e->s_aff, (const uint64_t(*)[4])e->s_sc, k, e->s_msm);
    if (g2_eq(&lhs, &rhs)) {
        for (size_t a = 0; a < k; a++) e->dealers[idx[a] - 1].share_st = SHARE_VERIFIED;
        return;
    }
    e->st.batch_fallbacks++;
    for (size_t a = 0; a < k; a++) {
        dealer_t *d = &e->dealers[idx[a] - 1];
        g2_t l, pk;
        dkg_gen_mul(&l, &d->share);
        g2_from_affine(&pk, &e->s_aff[a]);
        d->share_st = g2_eq(&l, &pk) ? SHARE_VERIFIED : SHARE_BAD;
    }
}

/* ------------------------------------------------------------------ responses */

void dkg_dealset_digest(const tkms_dkg *e, uint8_t out[32]) {
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

void dkg_do_respond(tkms_dkg *e, uint64_t now) {
    e->steps |= STEP_RESPONDED;
    dkg_verify_shares(e);
    size_t nd = e->n_dealers, nev = 0;
    for (size_t i = 0; i < nd; i++) nev += e->dealers[i].equiv ? 2 : 0;
    size_t blen = 4 + nd + 32 + 4 + nev * EV_LEN, len = HDR + blen + SIG;
    uint8_t *buf = dkg_take(e, len), digest[32];
    if (!buf) return;
    dkg_write_hdr(buf, e->wire, TKMS_DKG_MSG_RESPONSE, e->my_new, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    proto_be32(b, (uint32_t)nd);
    b += 4;
    for (size_t i = 0; i < nd; i++) {
        const dealer_t *d = &e->dealers[i];
        b[i] = d->equiv ? 2 : (d->deal.p && !d->deal_bad && d->share_st == SHARE_VERIFIED) ? 0 : 1;
    }
    b += nd;
    dkg_dealset_digest(e, b);
    b += 32;
    proto_be32(b, (uint32_t)nev);
    b += 4;
    for (size_t i = 0; i < nd; i++)
        if (e->dealers[i].equiv) {
            memcpy(b, e->dealers[i].ev[0], EV_LEN);
            memcpy(b + EV_LEN, e->dealers[i].ev[1], EV_LEN);
            b += 2 * EV_LEN;
        }
    if (!dkg_sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)dkg_handle_msg(e, now, buf, len, 1);
    dkg_queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* Records a validly signed deal digest for dealer i; two different ones prove equivocation. */
void dkg_note_deal_digest(tkms_dkg *e, uint32_t i, const uint8_t ev[EV_LEN]) {
    dealer_t *d = &e->dealers[i - 1];
    if (!d->have_known) {
        memcpy(d->known, ev + EV_DIGEST, 32);
        memcpy(d->ev[0], ev, EV_LEN);
        d->have_known = 1;
    } else if (!d->equiv && memcmp(d->known, ev + EV_DIGEST, 32) != 0) {
        memcpy(d->ev[1], ev, EV_LEN);
        d->equiv = 1;
    }
}

/* A response just stored: a pair of valid evidences with different digests proves the dealer
 * equivocated; it disqualifies the dealer when carried by a response that counts (on time). */
void dkg_on_response(tkms_dkg *e, uint32_t sender, const smsg *m) {
    dkg_resp_view v = dkg_view_resp(e, body_of(m));
    const uint8_t *valid[2 * TKMS_DKG_MAX_N];
    uint32_t nv = 0;
    for (uint32_t a = 0; a < v.n_ev; a++)
        if (dkg_verify_evidence(e, v.ev + a * EV_LEN)) valid[nv++] = v.ev + a * EV_LEN;
    for (uint32_t a = 0; a < nv; a++) {
        uint32_t dealer = proto_rd_be32(valid[a] + EV_DEALER);
        dkg_note_deal_digest(e, dealer, valid[a]);
        for (uint32_t c = a + 1; c < nv; c++)
            if (dealer == proto_rd_be32(valid[c] + EV_DEALER) &&
                memcmp(valid[a] + EV_DIGEST, valid[c] + EV_DIGEST, 32) != 0 && !e->recvs[sender - 1].resp_late)
                e->dealers[dealer - 1].equiv_rep = 1;
    }
}

/* Complaint bitmap for dealer i from the responses held (equivocating responders ignored). */
size_t dkg_complaints(const tkms_dkg *e, uint32_t i, uint8_t *who) {
    size_t c = 0;
    for (size_t j = 0; j < e->n_new; j++) {
        const recv_t *r = &e->recvs[j];
        if (!r->resp.p || r->resp_equiv || r->resp_late) continue;
        if (dkg_view_resp(e, body_of(&r->resp)).verdict[i - 1] != 0) {
            if (who) who[j] = 1;
            c++;
        }
    }
    return c;
}

/* ------------------------------------------------------------------ justifications */

void dkg_do_justify(tkms_dkg *e, uint64_t now) {
    e->steps |= STEP_JUSTIFIED;
    if (!e->has_seed || !e->dealers[e->my_old - 1].deal.p) return;
    uint8_t *who = (uint8_t *)e->s_idx; /* n_new <= m bytes */
    memset(who, 0, e->n_new);
    size_t c = dkg_complaints(e, e->my_old, who);
    /* t_new or more revealed shares would reveal the polynomial: such a dealer is out anyway */
    if (c == 0 || c >= e->t_new) return;
    fr_t *shares = e->s_fr;
    if (!eval_poly(e, shares, e->s_aff, e->seed)) return;
    size_t blen = 4 + c * JUST_ENT, len = HDR + blen + SIG;
    uint8_t *buf = dkg_take(e, len), digest[32];
    if (!buf) return;
    dkg_write_hdr(buf, e->wire, TKMS_DKG_MSG_JUSTIFICATION, e->my_old, (uint32_t)blen);
    uint8_t *b = buf + HDR;
    proto_be32(b, (uint32_t)c);
    b += 4;
    for (size_t j = 0; j < e->n_new; j++) {
        if (!who[j]) continue;
        fr_t s = shares[j];
#if TKMS_DKG_FAULTS
        dkg_fault_revealed(e, (uint32_t)(j + 1), &s);
#endif
        proto_be32(b, (uint32_t)(j + 1));
        fr_to_bytes(b + 4, &s);
        tkms_wipe(&s, sizeof s);
        b += JUST_ENT;
    }
    tkms_wipe(shares, e->n_new * sizeof(fr_t));
    if (!dkg_sign_msg(e, buf, blen, digest)) return;
    e->persist = 1;
    (void)dkg_handle_msg(e, now, buf, len, 1);
    dkg_queue(e, TKMS_DKG_BROADCAST, buf, len);
}

/* The share dealer i revealed for receiver j, verified against i's commitments. */
static int justified_share(tkms_dkg *e, uint32_t i, uint32_t j, fr_t *out) {
    const dealer_t *d = &e->dealers[i - 1];
    if (!d->just.p || !d->deal.p) return 0;
    dkg_just_view v = dkg_view_just(body_of(&d->just));
    for (uint32_t a = 0; a < v.count; a++) {
        const uint8_t *ent = v.ent + a * JUST_ENT;
        if (proto_rd_be32(ent) != j) continue;
        fr_t s;
        if (!fr_from_bytes(&s, ent + 4)) return 0;
        g2_affine_t *C = e->s_aff2;
        if (!dkg_deal_commits(e, i, C)) return 0;
        g2_t pk, l;
        dkg_eval_commit(&pk, C, e->t_new, j);
        dkg_gen_mul(&l, &s);
        if (!g2_eq(&l, &pk)) return 0;
        *out = s;
        tkms_wipe(&s, sizeof s);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ QUAL and the outcome */

/* Reshare: C'_i0 == PK_i for the listed dealers; batched (sum rho_i C'_i0 == sum_k (sum_i rho_i
 * i^k) A_k), per dealer only when the batch fails. Results cached in const_st. */
static void check_constants(tkms_dkg *e, const uint32_t *cand, size_t nc) {
    size_t k = 0;
    uint32_t *idx = e->s_idx;
    for (size_t a = 0; a < nc; a++)
        if (e->dealers[cand[a] - 1].const_st == CONST_UNCHECKED) idx[k++] = cand[a];
    if (!k) return;
    fr_t *coef = e->s_fr2; /* t_old coefficients */
    for (size_t c = 0; c < e->t_old; c++) coef[c] = FR_ZERO;
    for (size_t a = 0; a < k; a++) {
        uint8_t r16[16];
        fr_t rho, x, pw;
        e->rng(e->rng_ctx, r16, 16);
        fr_from_bytes_wide(&rho, r16, 16);
        if (!dkg_parse_pt(&e->s_aff[a], dkg_view_deal(e, body_of(&e->dealers[idx[a] - 1].deal)).commits))
            e->s_aff[a] = e->old_poly[0];
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
        for (size_t a = 0; a < k; a++) e->dealers[idx[a] - 1].const_st = CONST_OK;
        return;
    }
    for (size_t a = 0; a < k; a++) {
        g2_t pk, c0;
        dkg_eval_commit(&pk, e->old_poly, e->t_old, idx[a]);
        g2_from_affine(&c0, &e->s_aff[a]);
        e->dealers[idx[a] - 1].const_st = g2_eq(&pk, &c0) ? CONST_OK : CONST_MISMATCH;
    }
}

/* Full subgroup check of one dealer's commitments (only when an aggregate fails). */
static int dealer_points_in_g2(tkms_dkg *e, uint32_t i) {
    g2_affine_t *C = e->s_aff2;
    if (!dkg_deal_commits(e, i, C)) return 0;
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
int dkg_compute_with(tkms_dkg *e, const uint32_t *qual, size_t nq, g2_affine_t *poly, uint8_t thash[32], fr_t *share,
                     int *has_share) {
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
                if (!dkg_parse_pt(&e->s_aff[a], dkg_view_deal(e, body_of(&e->dealers[qual[a] - 1].deal)).commits + k * PT_LEN))
                    return -1;
            g2_msm_vartime(&acc, e->s_aff, (const uint64_t(*)[4])e->s_sc, nq, e->s_msm);
        } else {
            g2_identity(&acc);
            for (size_t a = 0; a < nq; a++) {
                g2_affine_t p;
                if (!dkg_parse_pt(&p, dkg_view_deal(e, body_of(&e->dealers[qual[a] - 1].deal)).commits + k * PT_LEN))
                    return -1;
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
            if (d->share_st == SHARE_DECRYPTED) dkg_verify_shares(e);
            if (d->share_st == SHARE_VERIFIED)
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
            dkg_gen_mul(&l, &s);
            dkg_eval_commit(&pk, poly, e->t_new, e->my_new);
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

/* Step 4 of DESIGN.md §3: QUAL from the transcript held, then poly, share, hash, certification. */
void dkg_do_finish(tkms_dkg *e, uint64_t now) {
    e->persist = 1;
    size_t nd = e->n_dealers;
    uint32_t *cand = e->qual;
    if (e->my_new && !dkg_done(e, STEP_RESPONDED)) dkg_verify_shares(e);
    for (int round = 0; round < 3; round++) {
        size_t nc = 0;
        for (uint32_t i = 1; i <= nd; i++) {
            dealer_t *d = &e->dealers[i - 1];
            if (!d->deal.p || d->deal_bad || d->equiv_rep) continue;
            uint8_t *who = (uint8_t *)e->s_idx; /* justified_share does not touch s_idx */
            memset(who, 0, e->n_new);
            size_t c = dkg_complaints(e, i, who);
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
                if (e->dealers[cand[a] - 1].const_st == CONST_OK) cand[k++] = cand[a];
            nc = k;
        }
        size_t need = e->reshare ? e->t_old : e->t_new;
        if (nc < need) {
            dkg_set_outcome(e, OUT_FAILED);
            e->n_qual = 0;
            return;
        }
        fr_t s;
        int hs = 0;
        int r = dkg_compute_with(e, cand, nc, e->poly, e->thash, &s, &hs);
        if (r == 0) continue; /* culprits marked; select again */
        if (r < 0) {
            dkg_set_outcome(e, OUT_FAILED);
            e->n_qual = 0;
            return;
        }
        e->n_qual = nc;
        e->has_share = hs;
        if (hs) e->share = s;
        tkms_wipe(&s, sizeof s);
        dkg_set_outcome(e, OUT_QUAL);
        if (e->my_new) dkg_send_cert(e, now);
        dkg_check_quorum(e, now, e->thash);
        return;
    }
    dkg_set_outcome(e, OUT_FAILED);
}
