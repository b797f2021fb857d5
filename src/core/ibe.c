/* Boneh-Franklin CCA IBE as drand tlock uses it (kyber encrypt/ibe): H2 over tlock's 576-byte GT
 * encoding, H3 by counter-mode rejection sampling, H4 as a pad for the message. See ibe.h. */
#include "ibe.h"

#include <string.h>

#include "fr.h"
#include "h2c.h"
#include "pairing.h"
#include "sha256.h"

size_t ibe_ciphertext_len(ibe_orientation o, size_t msg_len) { return (o == IBE_MPK_G2 ? 96u : 48u) + 2 * msg_len; }

size_t ibe_message_len(ibe_orientation o, size_t ct_len) {
    size_t ulen = o == IBE_MPK_G2 ? 96u : 48u;
    if (ct_len <= ulen || ((ct_len - ulen) & 1) || (ct_len - ulen) / 2 > IBE_MAX_MSG) return 0;
    return (ct_len - ulen) / 2;
}

void ibe_h2(uint8_t *out, size_t len, const uint8_t gt[576]) {
    sha256_ctx c;
    uint8_t h[32];
    sha256_init(&c);
    sha256_update(&c, "IBE-H2", 6);
    sha256_update(&c, gt, 576);
    sha256_final(&c, h);
    memcpy(out, h, len);
    tkms_wipe(h, sizeof h);
}

void ibe_h4(uint8_t *out, size_t len, const uint8_t *sigma) {
    sha256_ctx c;
    uint8_t h[32];
    sha256_init(&c);
    sha256_update(&c, "IBE-H4", 6);
    sha256_update(&c, sigma, len);
    sha256_final(&c, h);
    memcpy(out, h, len);
    tkms_wipe(h, sizeof h);
}

int ibe_h3(uint64_t r[4], const uint8_t *sigma, const uint8_t *msg, size_t len) {
    sha256_ctx c;
    uint8_t base[32], cand[32], ctr[2];
    fr_t f;
    int ok = 0;
    sha256_init(&c);
    sha256_update(&c, "IBE-H3", 6);
    sha256_update(&c, sigma, len);
    sha256_update(&c, msg, len);
    sha256_final(&c, base);
    for (uint32_t i = 1; i < 65535 && !ok; i++) {
        ctr[0] = (uint8_t)i;
        ctr[1] = (uint8_t)(i >> 8);
        sha256_init(&c);
        sha256_update(&c, ctr, 2);
        sha256_update(&c, base, 32);
        sha256_final(&c, cand);
        cand[0] >>= 1;
        /* Rejection is the scheme's definition; whether a candidate was >= r says nothing
         * useful about sigma or msg. */
        ok = (int)fr_from_bytes(&f, cand);
    }
    if (ok) fr_to_scalar(r, &f);
    tkms_wipe(base, sizeof base);
    tkms_wipe(cand, sizeof cand);
    tkms_wipe(&f, sizeof f);
    return ok;
}

/* V = sigma ^ H2(gt), W = msg ^ H4(sigma). */
static void finish_vw(uint8_t *v, uint8_t *w, const fp12_t *gt, const uint8_t *msg, const uint8_t *sigma, size_t len) {
    uint8_t gtb[576], h[IBE_MAX_MSG];
    gt_to_bytes(gtb, gt);
    ibe_h2(h, len, gtb);
    for (size_t i = 0; i < len; i++) v[i] = sigma[i] ^ h[i];
    ibe_h4(h, len, sigma);
    for (size_t i = 0; i < len; i++) w[i] = msg[i] ^ h[i];
    tkms_wipe(gtb, sizeof gtb);
    tkms_wipe(h, sizeof h);
}

int ibe_encrypt_mpk_g2(uint8_t *ct, const g2_affine_t *mpk, const uint8_t *dst, size_t dst_len, const uint8_t *id,
                       size_t id_len, const uint8_t *msg, size_t msg_len, const uint8_t *sigma) {
    if (msg_len == 0 || msg_len > IBE_MAX_MSG || g2_affine_is_identity(mpk)) return 0;
    uint64_t r[4];
    if (!ibe_h3(r, sigma, msg, msg_len)) return 0;
    g1_t q, rq;
    g2_t g, u;
    g1_affine_t rqa;
    g2_affine_t ua;
    fp12_t gt;
    /* U = r*G2 */
    g2_from_affine(&g, &G2_GENERATOR);
    g2_mul(&u, &g, r);
    g2_to_affine(&ua, &u);
    g2_serialize(ct, &ua);
    /* e(Q_id, MPK)^r computed as e(r*Q_id, MPK): no GT exponentiation needed. */
    h2c_hash_to_g1(&q, id, id_len, dst, dst_len);
    g1_mul(&rq, &q, r);
    g1_to_affine(&rqa, &rq);
    pairing(&gt, &rqa, mpk);
    finish_vw(ct + 96, ct + 96 + msg_len, &gt, msg, sigma, msg_len);
    tkms_wipe(r, sizeof r);
    tkms_wipe(&rq, sizeof rq);
    tkms_wipe(&rqa, sizeof rqa);
    tkms_wipe(&gt, sizeof gt);
    return 1;
}

int ibe_encrypt_mpk_g1(uint8_t *ct, const g1_affine_t *mpk, const uint8_t *dst, size_t dst_len, const uint8_t *id,
                       size_t id_len, const uint8_t *msg, size_t msg_len, const uint8_t *sigma) {
    if (msg_len == 0 || msg_len > IBE_MAX_MSG || g1_affine_is_identity(mpk)) return 0;
    uint64_t r[4];
    if (!ibe_h3(r, sigma, msg, msg_len)) return 0;
    g1_t g, u, m, rm;
    g2_t q;
    g1_affine_t ua, rma;
    g2_affine_t qa;
    fp12_t gt;
    g1_from_affine(&g, &G1_GENERATOR);
    g1_mul(&u, &g, r);
    g1_to_affine(&ua, &u);
    g1_serialize(ct, &ua);
    /* e(MPK, Q_id)^r = e(r*MPK, Q_id) */
    h2c_hash_to_g2(&q, id, id_len, dst, dst_len);
    g2_to_affine(&qa, &q);
    g1_from_affine(&m, mpk);
    g1_mul(&rm, &m, r);
    g1_to_affine(&rma, &rm);
    pairing(&gt, &rma, &qa);
    finish_vw(ct + 48, ct + 48 + msg_len, &gt, msg, sigma, msg_len);
    tkms_wipe(r, sizeof r);
    tkms_wipe(&rm, sizeof rm);
    tkms_wipe(&rma, sizeof rma);
    tkms_wipe(&gt, sizeof gt);
    return 1;
}

/* Shared tail of decryption: sigma = V ^ H2(gt), msg = W ^ H4(sigma), then the FO check that
 * H3(sigma, msg) * generator serialises to the received U bytes. */
static int finish_decrypt(uint8_t *msg, const fp12_t *gt, const uint8_t *ct, size_t ulen, size_t len,
                          ibe_orientation o) {
    uint8_t gtb[576], h[IBE_MAX_MSG], sigma[IBE_MAX_MSG], ub[96];
    uint64_t r[4];
    const uint8_t *v = ct + ulen, *w = ct + ulen + len;
    int ok;
    gt_to_bytes(gtb, gt);
    ibe_h2(h, len, gtb);
    for (size_t i = 0; i < len; i++) sigma[i] = v[i] ^ h[i];
    ibe_h4(h, len, sigma);
    for (size_t i = 0; i < len; i++) msg[i] = w[i] ^ h[i];
    ok = ibe_h3(r, sigma, msg, len);
    if (o == IBE_MPK_G2) {
        g2_t g, u;
        g2_affine_t ua;
        g2_from_affine(&g, &G2_GENERATOR);
        g2_mul(&u, &g, r);
        g2_to_affine(&ua, &u);
        g2_serialize(ub, &ua);
    } else {
        g1_t g, u;
        g1_affine_t ua;
        g1_from_affine(&g, &G1_GENERATOR);
        g1_mul(&u, &g, r);
        g1_to_affine(&ua, &u);
        g1_serialize(ub, &ua);
    }
    ok &= (int)ct_memeq(ub, ct, ulen);
    if (!ok) tkms_wipe(msg, len);
    tkms_wipe(gtb, sizeof gtb);
    tkms_wipe(h, sizeof h);
    tkms_wipe(sigma, sizeof sigma);
    tkms_wipe(r, sizeof r);
    return ok;
}

int ibe_decrypt_mpk_g2(uint8_t *msg, const g1_affine_t *key, const uint8_t *ct, size_t ct_len) {
    size_t len = ibe_message_len(IBE_MPK_G2, ct_len);
    g2_affine_t ua;
    fp12_t gt;
    /* the identity is never a valid key; its check is folded into the result (no branch on the key) */
    uint64_t key_ok = 1 ^ (g1_affine_is_identity(key) & 1);
    if (len == 0) return 0;
    if (g2_deserialize(&ua, ct, 96, 0) != G2_OK) {
        tkms_wipe(msg, len);
        return 0;
    }
    pairing(&gt, key, &ua);
    int ok = finish_decrypt(msg, &gt, ct, 96, len, IBE_MPK_G2);
    /* a refused key leaves nothing in msg: every byte masked (constant time) */
    uint8_t keep = (uint8_t)(0u - (unsigned)key_ok);
    for (size_t i = 0; i < len; i++) msg[i] &= keep;
    ok &= (int)key_ok;
    tkms_wipe(&gt, sizeof gt);
    return ok;
}

int ibe_decrypt_mpk_g1(uint8_t *msg, const g2_affine_t *key, const uint8_t *ct, size_t ct_len) {
    size_t len = ibe_message_len(IBE_MPK_G1, ct_len);
    g1_affine_t ua;
    fp12_t gt;
    /* the identity is never a valid key; its check is folded into the result (no branch on the key) */
    uint64_t key_ok = 1 ^ (g2_affine_is_identity(key) & 1);
    if (len == 0) return 0;
    if (g1_deserialize(&ua, ct, 48, 0) != G1_OK) {
        tkms_wipe(msg, len);
        return 0;
    }
    pairing(&gt, &ua, key);
    int ok = finish_decrypt(msg, &gt, ct, 48, len, IBE_MPK_G1);
    /* a refused key leaves nothing in msg: every byte masked (constant time) */
    uint8_t keep = (uint8_t)(0u - (unsigned)key_ok);
    for (size_t i = 0; i < len; i++) msg[i] &= keep;
    ok &= (int)key_ok;
    tkms_wipe(&gt, sizeof gt);
    return ok;
}
