/* Tower Fp6 = Fp2[v]/(v^3 - (1+u)), Fp12 = Fp6[w]/(w^2 - v) for BLS12-381, with the Frobenius
 * maps, cyclotomic squaring and the sparse multiplications the Miller loop needs. */
#ifndef TKMS_FP12_H
#define TKMS_FP12_H

#include "fp2.h"

typedef struct {
    fp2_t c0, c1, c2;
} fp6_t;

typedef struct {
    fp6_t c0, c1; /* c0 + c1 w */
} fp12_t;

extern const fp12_t FP12_ONE;

void fp6_add(fp6_t *r, const fp6_t *a, const fp6_t *b);
void fp6_sub(fp6_t *r, const fp6_t *a, const fp6_t *b);
void fp6_neg(fp6_t *r, const fp6_t *a);
void fp6_mul(fp6_t *r, const fp6_t *a, const fp6_t *b);
void fp6_sqr(fp6_t *r, const fp6_t *a);
void fp6_mul_by_v(fp6_t *r, const fp6_t *a);
void fp6_inv(fp6_t *r, const fp6_t *a);

void fp12_mul(fp12_t *r, const fp12_t *a, const fp12_t *b);
void fp12_sqr(fp12_t *r, const fp12_t *a);
void fp12_conj(fp12_t *r, const fp12_t *a); /* the p^6 Frobenius; the inverse in the cyclotomic subgroup */
void fp12_inv(fp12_t *r, const fp12_t *a);
void fp12_frobenius(fp12_t *r, const fp12_t *a, int power); /* power in 1..3: a^(p^power) */
void fp12_cyclotomic_sqr(fp12_t *r, const fp12_t *a);  /* Granger-Scott, for unitary elements */
/* r = a * ((l0 + l1 v) + (l2 v) w): the sparse line of the M-twist Miller loop (Fp2 slots
 * c0.c0, c0.c1 and c1.c1 of the multiplier; "mul_by_014"). */
void fp12_mul_by_line(fp12_t *r, const fp12_t *a, const fp2_t *l0, const fp2_t *l1, const fp2_t *l2);
uint64_t fp12_eq(const fp12_t *a, const fp12_t *b);
uint64_t fp12_is_one(const fp12_t *a);
void fp12_cmov(fp12_t *r, const fp12_t *a, uint64_t bit);

#endif
