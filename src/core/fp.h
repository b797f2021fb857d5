/* Base field Fp of BLS12-381: 6x64-bit limbs in Montgomery form (R = 2^384), always fully reduced.
 * All functions are constant time unless their name ends in _vartime. */
#ifndef TKMS_FP_H
#define TKMS_FP_H

#include <stdint.h>

#include "ct.h"

typedef struct {
    uint64_t l[6];
} fp_t;

extern const fp_t FP_ZERO;
extern const fp_t FP_ONE;   /* 1 in Montgomery form (R mod p) */
extern const uint64_t FP_P[6]; /* the modulus, plain */

void fp_add(fp_t *r, const fp_t *a, const fp_t *b);
void fp_sub(fp_t *r, const fp_t *a, const fp_t *b);
void fp_dbl(fp_t *r, const fp_t *a);
void fp_neg(fp_t *r, const fp_t *a); /* -0 = 0 */
void fp_mul(fp_t *r, const fp_t *a, const fp_t *b);
void fp_sqr(fp_t *r, const fp_t *a);
/* r = a * k for a small public constant k (k < 2^16), by additions. */
void fp_mul_small(fp_t *r, const fp_t *a, unsigned k);
/* r = a^-1, and 0 for a = 0 (safegcd, constant time). */
void fp_inv(fp_t *r, const fp_t *a);
/* The same by Fermat (a^(p-2)); slower, kept as an independent check in tests. */
void fp_inv_fermat(fp_t *r, const fp_t *a);
/* r = sqrt(a) and returns 1 if a is a square; otherwise returns 0 (r is then a^((p+1)/4)). */
uint64_t fp_sqrt(fp_t *r, const fp_t *a);
/* 1 if a is a square (including 0). */
uint64_t fp_is_square(const fp_t *a);
/* r = a^e for a public little-endian exponent of n limbs (n >= 1): the time depends on e only,
 * never on a, so a may be secret (fp_sqrt, fp_inv_fermat and hash-to-curve use it on secret-derived
 * values). */
void fp_pow_pubexp(fp_t *r, const fp_t *a, const uint64_t *e, int n);

uint64_t fp_is_zero(const fp_t *a);
uint64_t fp_eq(const fp_t *a, const fp_t *b);
uint64_t fp_is_one(const fp_t *a);
/* r = bit ? a : r */
void fp_cmov(fp_t *r, const fp_t *a, uint64_t bit);
/* RFC 9380 sgn0: parity of the canonical value. */
uint64_t fp_sgn0(const fp_t *a);
/* ZCash sign: 1 if canonical a > (p-1)/2. */
uint64_t fp_is_lexlarge(const fp_t *a);

void fp_from_u64(fp_t *r, uint64_t v);
/* 48 bytes big-endian; returns 0 (r undefined) if the value is >= p. */
uint64_t fp_from_bytes(fp_t *r, const uint8_t in[48]);
void fp_to_bytes(uint8_t out[48], const fp_t *a);
/* Reduces a 64-byte big-endian integer modulo p (hash_to_field). */
void fp_from_bytes_wide(fp_t *r, const uint8_t in[64]);
/* Plain (non-Montgomery) limbs <-> Montgomery. */
void fp_to_mont(fp_t *r, const uint64_t plain[6]);
void fp_from_mont(uint64_t plain[6], const fp_t *a);

/* The portable C multiplication, exposed so tests can compare it with the assembly backend. */
void fp_mul_portable(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);

/* Which multiplication backend is active ("adx" or "c"). */
const char *fp_backend(void);

#endif
