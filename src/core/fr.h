/* Scalar field Fr of BLS12-381 (r = 0x73eda753...00000001): 4x64-bit Montgomery (R = 2^256).
 * Constant time unless named _vartime. */
#ifndef TKMS_FR_H
#define TKMS_FR_H

#include <stddef.h>
#include <stdint.h>

#include "ct.h"

typedef struct {
    uint64_t l[4];
} fr_t; /* Montgomery form, fully reduced */

extern const fr_t FR_ZERO;
extern const fr_t FR_ONE;
extern const uint64_t FR_R[4]; /* the group order r, plain little-endian limbs */

void fr_add(fr_t *r, const fr_t *a, const fr_t *b);
void fr_sub(fr_t *r, const fr_t *a, const fr_t *b);
void fr_neg(fr_t *r, const fr_t *a);
void fr_mul(fr_t *r, const fr_t *a, const fr_t *b);
void fr_sqr(fr_t *r, const fr_t *a);
void fr_inv(fr_t *r, const fr_t *a); /* constant time; 0 -> 0 */
/* Montgomery batch inversion of n public or secret values (constant time per element; all
 * inputs must be non-zero). scratch holds n elements. out may alias in. */
void fr_batch_inv(fr_t *out, const fr_t *in, size_t n, fr_t *scratch);
uint64_t fr_is_zero(const fr_t *a);
uint64_t fr_eq(const fr_t *a, const fr_t *b);
void fr_cmov(fr_t *r, const fr_t *a, uint64_t bit);
void fr_from_u64(fr_t *r, uint64_t v);
/* 32 bytes big-endian; returns 0 if >= r. */
uint64_t fr_from_bytes(fr_t *r, const uint8_t in[32]);
void fr_to_bytes(uint8_t out[32], const fr_t *a);
/* Reduces n <= 64 big-endian bytes modulo r (uniform scalars from 64-byte hashes). */
void fr_from_bytes_wide(fr_t *r, const uint8_t *in, size_t n);
/* Canonical (non-Montgomery) little-endian limbs, the form scalar multiplication takes. */
void fr_to_scalar(uint64_t out[4], const fr_t *a);
void fr_from_scalar(fr_t *r, const uint64_t in[4]); /* in < r */

#endif
