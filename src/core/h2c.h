/* RFC 9380 hashing to BLS12-381 G1 and G2: expand_message_xmd (SHA-256), hash_to_field, simplified
 * SWU with the 11-isogeny (G1) and 3-isogeny (G2), cofactor clearing. Any DST (DSTs longer than
 * 255 bytes are hashed per RFC 9380 §5.3.3). Constant time in the message. */
#ifndef TKMS_H2C_H
#define TKMS_H2C_H

#include <stddef.h>
#include <stdint.h>

#include "g1.h"
#include "g2.h"

/* RFC 9380 §5.3.1. Returns 0 if len_in_bytes is 0, > 65535 or needs more than 255 blocks. */
int h2c_expand_message_xmd(uint8_t *out, size_t len_in_bytes, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len);

/* RFC 9380 §5.2 with L = 64. count is at most 127 (Fp) or 63 (Fp2), the most expand_message_xmd can
 * produce; larger counts are a programming error and leave every output zero. */
void h2c_hash_to_field_fp(fp_t *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
void h2c_hash_to_field_fp2(fp2_t *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);

/* Simplified SWU alone, onto the isogenous curve E' (before the isogeny), as the point
 * (xn / xd, y) with xd != 0; exposed for tests. */
void h2c_sswu_g1(fp_t *xn, fp_t *xd, fp_t *y, const fp_t *u);
void h2c_sswu_g2(fp2_t *xn, fp2_t *xd, fp2_t *y, const fp2_t *u);

/* map_to_curve (SSWU + isogeny), without cofactor clearing. */
void h2c_map_to_g1(g1_t *r, const fp_t *u);
void h2c_map_to_g2(g2_t *r, const fp2_t *u);
/* Cofactor clearing: G1 [1 - x] (h_eff), G2 Budroni-Pintore. */
void h2c_clear_cofactor_g1(g1_t *r, const g1_t *p);
void h2c_clear_cofactor_g2(g2_t *r, const g2_t *p);

/* hash_to_curve (random oracle, _RO_) and encode_to_curve (_NU_). */
void h2c_hash_to_g1(g1_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
void h2c_encode_to_g1(g1_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
void h2c_hash_to_g2(g2_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
void h2c_encode_to_g2(g2_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);

#endif
