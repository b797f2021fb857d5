/* DKG engine, wire formats (docs/dkg.md): the message header, size bounds, signatures, the body
 * checks each message passes before it is stored, and views that name a checked body's fields. */
#include "engine_internal.h"

#include "identity.h"
#include "proto_bytes.h"
#include "sha256.h"

/* ------------------------------------------------------------------ sizes */

size_t dkg_deal_max(size_t t, size_t n) { return HDR + 4 + t * PT_LEN + 4 + n * CT_LEN + SIG; }
size_t dkg_resp_max(size_t nd) { return HDR + 4 + nd + 32 + 4 + 2 * nd * EV_LEN + SIG; }
size_t dkg_just_max(size_t n) { return HDR + 4 + n * JUST_ENT + SIG; }
size_t dkg_cert_max(size_t nd) { return HDR + 32 + 4 + nd * 4 + 64 + SIG; }
size_t dkg_fetch_len(size_t nd, size_t n) { return HDR + 16 + 2 * bm_len(nd) + 2 * bm_len(n) + SIG; }

size_t dkg_type_max(const tkms_dkg *e, uint8_t type) {
    switch (type) {
    case TKMS_DKG_MSG_DEAL: return dkg_deal_max(e->t_new, e->n_new);
    case TKMS_DKG_MSG_RESPONSE: return dkg_resp_max(e->n_dealers);
    case TKMS_DKG_MSG_JUSTIFICATION: return dkg_just_max(e->n_new);
    case TKMS_DKG_MSG_CERT: return dkg_cert_max(e->n_dealers);
    default: return dkg_fetch_len(e->n_dealers, e->n_new);
    }
}

size_t dkg_deal_body_len(const tkms_dkg *e) { return 4 + e->t_new * PT_LEN + 4 + e->n_new * CT_LEN; }

/* ------------------------------------------------------------------ header and signatures */

int dkg_parse_hdr(dkg_hdr *h, const uint8_t *msg, size_t len) {
    if (len < HDR + SIG || memcmp(msg, "TKDG", 4) != 0 || msg[HDR_VERSION] != VERSION) return 0;
    h->type = msg[HDR_TYPE];
    h->tag = msg + HDR_TAG;
    h->sender = proto_rd_be32(msg + HDR_SENDER);
    h->body_len = proto_rd_be32(msg + HDR_BODY_LEN);
    h->body = msg + HDR;
    return 1;
}

void dkg_write_hdr(uint8_t *o, const uint8_t tag[32], uint8_t type, uint32_t sender, uint32_t blen) {
    memcpy(o, "TKDG", 4);
    o[HDR_VERSION] = VERSION;
    o[HDR_TYPE] = type;
    memcpy(o + HDR_TAG, tag, 32);
    proto_be32(o + HDR_SENDER, sender);
    proto_be32(o + HDR_BODY_LEN, blen);
}

int dkg_sender_ok(const tkms_dkg *e, uint8_t type, uint32_t s, const uint8_t **pk) {
    switch (type) {
    case TKMS_DKG_MSG_DEAL:
    case TKMS_DKG_MSG_JUSTIFICATION:
    case TKMS_DKG_MSG_FETCH_OLD:
        if (s < 1 || s > e->n_dealers) return 0;
        *pk = e->oldm[s - 1].sign_pk;
        return 1;
    case TKMS_DKG_MSG_RESPONSE:
    case TKMS_DKG_MSG_CERT:
    case TKMS_DKG_MSG_FETCH_NEW:
        if (s < 1 || s > e->n_new) return 0;
        *pk = e->newm[s - 1].sign_pk;
        return 1;
    default:
        return 0;
    }
}

void dkg_sign_input(uint8_t out[SIG_DST_LEN + HDR + 32], const uint8_t *hdr, const uint8_t digest[32]) {
    memcpy(out, TKMS_TAG_DKG_SIG, SIG_DST_LEN);
    memcpy(out + SIG_DST_LEN, hdr, HDR);
    memcpy(out + SIG_DST_LEN + HDR, digest, 32);
}

int dkg_sign_msg(tkms_dkg *e, uint8_t *buf, size_t body_n, uint8_t digest[32]) {
    uint8_t si[SIG_DST_LEN + HDR + 32];
    sha256(digest, buf + HDR, body_n);
    dkg_sign_input(si, buf, digest);
    return tkms_ed25519_sign(buf + HDR + body_n, e->self.sign_sk, si, sizeof si);
}

void dkg_share_aad(uint8_t aad[SHARE_AAD_LEN], const uint8_t tag[32], uint32_t dealer, uint32_t recv) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_DKG_SHARE) };
    memcpy(aad, TKMS_TAG_DKG_SHARE, TL);
    memcpy(aad + TL, tag, 32);
    proto_be32(aad + TL + 32, dealer);
    proto_be32(aad + TL + 36, recv);
}

/* ------------------------------------------------------------------ points */

/* Uncompressed ZCash G2 encoding; checks range, flags and the curve equation and rejects the
 * identity. Subgroup membership is checked on the aggregate (docs/dkg.md, "subgroup checks"). */
int dkg_parse_pt(g2_affine_t *r, const uint8_t in[PT_LEN]) {
    if (in[0] & 0xe0) return 0;
    if (!fp2_from_bytes(&r->x, in) || !fp2_from_bytes(&r->y, in + 96)) return 0;
    if (g2_affine_is_identity(r) || !g2_affine_is_on_curve(r)) return 0;
    return 1;
}

int dkg_deal_commits(const tkms_dkg *e, uint32_t i, g2_affine_t *C) {
    const uint8_t *b = dkg_view_deal(e, body_of(&e->dealers[i - 1].deal)).commits;
    for (size_t k = 0; k < e->t_new; k++)
        if (!dkg_parse_pt(&C[k], b + k * PT_LEN)) return 0;
    return 1;
}

/* ------------------------------------------------------------------ bodies */

int dkg_check_deal(const tkms_dkg *e, const uint8_t *b, size_t blen) {
    if (blen != dkg_deal_body_len(e) || proto_rd_be32(b) != e->t_new ||
        proto_rd_be32(b + 4 + e->t_new * PT_LEN) != e->n_new)
        return 0;
    g2_affine_t p;
    for (size_t k = 0; k < e->t_new; k++)
        if (!dkg_parse_pt(&p, b + 4 + k * PT_LEN)) return 0;
    return 1;
}

dkg_deal_view dkg_view_deal(const tkms_dkg *e, const uint8_t *b) {
    dkg_deal_view v = {b + 4, b + 4 + e->t_new * PT_LEN + 4};
    return v;
}

int dkg_check_resp(const tkms_dkg *e, const uint8_t *b, size_t blen) {
    size_t nd = e->n_dealers;
    if (blen < 4 + nd + 36 || proto_rd_be32(b) != nd) return 0;
    uint32_t nev = proto_rd_be32(b + 4 + nd + 32);
    if (nev > 2 * nd || blen != 4 + nd + 36 + nev * EV_LEN) return 0;
    for (size_t a = 0; a < nd; a++)
        if (b[4 + a] > 2) return 0;
    return 1;
}

dkg_resp_view dkg_view_resp(const tkms_dkg *e, const uint8_t *b) {
    size_t nd = e->n_dealers;
    dkg_resp_view v = {b + 4, b + 4 + nd, proto_rd_be32(b + 4 + nd + 32), b + 4 + nd + 36};
    return v;
}

int dkg_check_just(const tkms_dkg *e, const uint8_t *b, size_t blen) {
    return !(blen < 4 || proto_rd_be32(b) > e->n_new || blen != 4 + proto_rd_be32(b) * JUST_ENT);
}

dkg_just_view dkg_view_just(const uint8_t *b) {
    dkg_just_view v = {proto_rd_be32(b), b + 4};
    return v;
}

/* Structure only: QUAL ascending and in range. The member signature is checked by the caller. */
int dkg_check_cert(const tkms_dkg *e, const uint8_t *b, size_t blen) {
    if (blen < 36 + 64) return 0;
    uint32_t nq = proto_rd_be32(b + 32);
    if (nq > e->n_dealers || blen != 36 + 4 * nq + 64) return 0;
    uint32_t prev = 0;
    for (uint32_t a = 0; a < nq; a++) {
        uint32_t q = proto_rd_be32(b + 36 + 4 * a);
        if (q <= prev || q > e->n_dealers) return 0;
        prev = q;
    }
    return 1;
}

dkg_cert_view dkg_view_cert(const uint8_t *b) {
    uint32_t nq = proto_rd_be32(b + 32);
    dkg_cert_view v = {b, nq, b + 36, b + 36 + 4 * nq};
    return v;
}

/* ------------------------------------------------------------------ equivocation evidence */

void dkg_make_evidence(uint8_t ev[EV_LEN], uint32_t dealer, uint32_t blen, const uint8_t digest[32],
                       const uint8_t sig[SIG]) {
    proto_be32(ev + EV_DEALER, dealer);
    proto_be32(ev + EV_BODY_LEN, blen);
    memcpy(ev + EV_DIGEST, digest, 32);
    memcpy(ev + EV_SIG, sig, SIG);
}

int dkg_verify_evidence(const tkms_dkg *e, const uint8_t ev[EV_LEN]) {
    uint32_t i = proto_rd_be32(ev + EV_DEALER);
    if (i < 1 || i > e->n_dealers) return 0;
    uint8_t hdr[HDR], si[SIG_DST_LEN + HDR + 32];
    dkg_write_hdr(hdr, e->wire, TKMS_DKG_MSG_DEAL, i, proto_rd_be32(ev + EV_BODY_LEN));
    dkg_sign_input(si, hdr, ev + EV_DIGEST);
    return tkms_ed25519_verify(ev + EV_SIG, dealer_member(e, i)->sign_pk, si, sizeof si);
}
