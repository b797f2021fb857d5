/* Boneh-Franklin CCA IBE (FullIdent via Fujisaki-Okamoto) byte-compatible with drand tlock / kyber
 * encrypt/ibe, in both orientations, parameterised by hash-to-curve DST and identity bytes.
 * Ciphertext = U (compressed point) || V || W, |V| = |W| = |msg| in 1..32. No malloc, no RNG: the
 * caller passes sigma (|msg| fresh random bytes). Internal to libtkms. */
#ifndef TKMS_IBE_H
#define TKMS_IBE_H

#include <stddef.h>
#include <stdint.h>

#include "tkms/common.h"
#include "g1.h"
#include "g2.h"

#define IBE_MAX_MSG 32

typedef enum {
    IBE_MPK_G2 = 0, /* MPK in G2, identities and keys in G1, U in G2 (tkms, drand quicknet) */
    IBE_MPK_G1 = 1  /* MPK in G1, identities and keys in G2, U in G1 (drand's older chains) */
} ibe_orientation;

/* |U| (96 for IBE_MPK_G2, 48 for IBE_MPK_G1) + 2*msg_len. */
size_t ibe_ciphertext_len(ibe_orientation o, size_t msg_len);
/* The message length a ciphertext of ct_len bytes carries, or 0 if ct_len is not possible. */
size_t ibe_message_len(ibe_orientation o, size_t ct_len);

/* Encrypts msg (1..32 bytes) to identity id under dst. sigma: msg_len secret random bytes.
 * ct receives ibe_ciphertext_len(o, msg_len) bytes. mpk must be a parsed, non-identity point.
 * Returns 0 on a bad length. Constant time in msg and sigma (apart from H3's rejection loop,
 * which repeats with probability ~0.1 and reveals nothing usable). */
TKMS_WUR int ibe_encrypt_mpk_g2(uint8_t *ct, const g2_affine_t *mpk, const uint8_t *dst, size_t dst_len, const uint8_t *id,
                       size_t id_len, const uint8_t *msg, size_t msg_len, const uint8_t *sigma);
TKMS_WUR int ibe_encrypt_mpk_g1(uint8_t *ct, const g1_affine_t *mpk, const uint8_t *dst, size_t dst_len, const uint8_t *id,
                       size_t id_len, const uint8_t *msg, size_t msg_len, const uint8_t *sigma);

/* Decrypts with the identity's private key (a signature on id: key = s*H(id)). Parses U strictly
 * (on curve, in subgroup, not identity), recovers sigma and msg, and accepts only if
 * U == H3(sigma, msg)*generator (the FO re-encryption check). msg receives
 * ibe_message_len(o, ct_len) bytes; on failure it is wiped. Returns 1 or 0. */
TKMS_WUR int ibe_decrypt_mpk_g2(uint8_t *msg, const g1_affine_t *key, const uint8_t *ct, size_t ct_len);
TKMS_WUR int ibe_decrypt_mpk_g1(uint8_t *msg, const g2_affine_t *key, const uint8_t *ct, size_t ct_len);

/* The three tlock hashes, exposed for tests: H2 = SHA-256("IBE-H2" || gt576)[:len];
 * H3 = first SHA-256(le16(i) || SHA-256("IBE-H3" || sigma || msg)), i = 1, 2, ..., with the top bit
 * of byte 0 cleared, read big-endian, that is < r (as canonical scalar limbs);
 * H4 = SHA-256("IBE-H4" || sigma)[:len]. */
void ibe_h2(uint8_t *out, size_t len, const uint8_t gt[576]);
TKMS_WUR int ibe_h3(uint64_t r[4], const uint8_t *sigma, const uint8_t *msg, size_t len);
void ibe_h4(uint8_t *out, size_t len, const uint8_t *sigma);

#endif
