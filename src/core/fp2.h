/* Quadratic extension Fp2 = Fp[u]/(u^2 + 1) for BLS12-381. Constant time unless named _vartime. */
#ifndef TKMS_FP2_H
#define TKMS_FP2_H

#include "fp.h"

typedef struct {
    fp_t c0, c1; /* c0 + c1*u */
} fp2_t;

extern const fp2_t FP2_ZERO;
extern const fp2_t FP2_ONE;

void fp2_add(fp2_t *r, const fp2_t *a, const fp2_t *b);
void fp2_sub(fp2_t *r, const fp2_t *a, const fp2_t *b);
void fp2_dbl(fp2_t *r, const fp2_t *a);
void fp2_neg(fp2_t *r, const fp2_t *a);
void fp2_conj(fp2_t *r, const fp2_t *a); /* also the p-power Frobenius */
void fp2_mul(fp2_t *r, const fp2_t *a, const fp2_t *b);
void fp2_sqr(fp2_t *r, const fp2_t *a);
void fp2_mul_fp(fp2_t *r, const fp2_t *a, const fp_t *b);
/* r = a * (1 + u), the sextic non-residue xi used by the tower and the twist. */
void fp2_mul_by_xi(fp2_t *r, const fp2_t *a);
/* r = a * k for a small public constant k. */
void fp2_mul_small(fp2_t *r, const fp2_t *a, unsigned k);
void fp2_inv(fp2_t *r, const fp2_t *a); /* 0 -> 0 */
/* r = sqrt(a), returns 1 if a is a square; otherwise returns 0 and r is unspecified. */
uint64_t fp2_sqrt(fp2_t *r, const fp2_t *a);
uint64_t fp2_is_square(const fp2_t *a);
/* The same as fp2_sqrt for public inputs only (branches on a): two Fp exponentiations instead of
 * two Fp2 ones, about twice as fast. Used by G2 decompression. */
uint64_t fp2_sqrt_vartime(fp2_t *r, const fp2_t *a);

uint64_t fp2_is_zero(const fp2_t *a);
uint64_t fp2_eq(const fp2_t *a, const fp2_t *b);
void fp2_cmov(fp2_t *r, const fp2_t *a, uint64_t bit);
/* RFC 9380 sgn0 for Fp2. */
uint64_t fp2_sgn0(const fp2_t *a);
/* ZCash sign bit: compare c1 first, c0 if c1 = 0. */
uint64_t fp2_is_lexlarge(const fp2_t *a);
/* 96 bytes: c1 || c0 big-endian (ZCash order). Returns 0 if either coordinate >= p. */
uint64_t fp2_from_bytes(fp2_t *r, const uint8_t in[96]);
void fp2_to_bytes(uint8_t out[96], const fp2_t *a);

#endif
