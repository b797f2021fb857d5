/* Tower Fp6 = Fp2[v]/(v^3 - xi), Fp12 = Fp6[w]/(w^2 - v), xi = 1 + u: Karatsuba products,
 * Chung-Hasan squaring, Frobenius maps, Granger-Scott cyclotomic squaring, sparse line products. */
#include "fp12.h"

#include "fp12_consts.h"

const fp12_t FP12_ONE = {
    {{{{0x760900000002fffdULL, 0xebf4000bc40c0002ULL, 0x5f48985753c758baULL, 0x77ce585370525745ULL,
        0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}},
      {{0, 0, 0, 0, 0, 0}}},
     {{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}},
     {{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}}},
    {{{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}},
     {{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}},
     {{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}}}};

void fp6_add(fp6_t *r, const fp6_t *a, const fp6_t *b) {
    fp2_add(&r->c0, &a->c0, &b->c0);
    fp2_add(&r->c1, &a->c1, &b->c1);
    fp2_add(&r->c2, &a->c2, &b->c2);
}

void fp6_sub(fp6_t *r, const fp6_t *a, const fp6_t *b) {
    fp2_sub(&r->c0, &a->c0, &b->c0);
    fp2_sub(&r->c1, &a->c1, &b->c1);
    fp2_sub(&r->c2, &a->c2, &b->c2);
}

void fp6_neg(fp6_t *r, const fp6_t *a) {
    fp2_neg(&r->c0, &a->c0);
    fp2_neg(&r->c1, &a->c1);
    fp2_neg(&r->c2, &a->c2);
}

void fp6_mul(fp6_t *r, const fp6_t *a, const fp6_t *b) {
    fp2_t t0, t1, t2, s, u, c0, c1, c2;
    fp2_mul(&t0, &a->c0, &b->c0);
    fp2_mul(&t1, &a->c1, &b->c1);
    fp2_mul(&t2, &a->c2, &b->c2);
    /* c0 = t0 + xi((a1 + a2)(b1 + b2) - t1 - t2) */
    fp2_add(&s, &a->c1, &a->c2);
    fp2_add(&u, &b->c1, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t1);
    fp2_sub(&s, &s, &t2);
    fp2_mul_by_xi(&s, &s);
    fp2_add(&c0, &s, &t0);
    /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
    fp2_add(&s, &a->c0, &a->c1);
    fp2_add(&u, &b->c0, &b->c1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t1);
    fp2_mul_by_xi(&u, &t2);
    fp2_add(&c1, &s, &u);
    /* c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
    fp2_add(&s, &a->c0, &a->c2);
    fp2_add(&u, &b->c0, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t2);
    fp2_add(&c2, &s, &t1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

void fp6_sqr(fp6_t *r, const fp6_t *a) {
    /* Chung-Hasan SQR2 */
    fp2_t s0, s1, s2, s3, s4, t;
    fp2_sqr(&s0, &a->c0);
    fp2_mul(&s1, &a->c0, &a->c1);
    fp2_dbl(&s1, &s1);
    fp2_sub(&t, &a->c0, &a->c1);
    fp2_add(&t, &t, &a->c2);
    fp2_sqr(&s2, &t);
    fp2_mul(&s3, &a->c1, &a->c2);
    fp2_dbl(&s3, &s3);
    fp2_sqr(&s4, &a->c2);
    /* c2 = s1 + s2 + s3 - s0 - s4 */
    fp2_add(&t, &s1, &s2);
    fp2_add(&t, &t, &s3);
    fp2_sub(&t, &t, &s0);
    fp2_sub(&r->c2, &t, &s4);
    /* c0 = s0 + xi s3, c1 = s1 + xi s4 */
    fp2_mul_by_xi(&s3, &s3);
    fp2_add(&r->c0, &s0, &s3);
    fp2_mul_by_xi(&s4, &s4);
    fp2_add(&r->c1, &s1, &s4);
}

void fp6_mul_by_v(fp6_t *r, const fp6_t *a) {
    fp2_t t;
    fp2_mul_by_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

void fp6_inv(fp6_t *r, const fp6_t *a) {
    fp2_t c0, c1, c2, t, u;
    /* c0 = a0^2 - xi a1 a2, c1 = xi a2^2 - a0 a1, c2 = a1^2 - a0 a2 */
    fp2_sqr(&c0, &a->c0);
    fp2_mul(&t, &a->c1, &a->c2);
    fp2_mul_by_xi(&t, &t);
    fp2_sub(&c0, &c0, &t);
    fp2_sqr(&c1, &a->c2);
    fp2_mul_by_xi(&c1, &c1);
    fp2_mul(&t, &a->c0, &a->c1);
    fp2_sub(&c1, &c1, &t);
    fp2_sqr(&c2, &a->c1);
    fp2_mul(&t, &a->c0, &a->c2);
    fp2_sub(&c2, &c2, &t);
    /* norm = a0 c0 + xi (a2 c1 + a1 c2) */
    fp2_mul(&t, &a->c2, &c1);
    fp2_mul(&u, &a->c1, &c2);
    fp2_add(&t, &t, &u);
    fp2_mul_by_xi(&t, &t);
    fp2_mul(&u, &a->c0, &c0);
    fp2_add(&t, &t, &u);
    fp2_inv(&t, &t);
    fp2_mul(&r->c0, &c0, &t);
    fp2_mul(&r->c1, &c1, &t);
    fp2_mul(&r->c2, &c2, &t);
}

void fp12_mul(fp12_t *r, const fp12_t *a, const fp12_t *b) {
    fp6_t t0, t1, s, u;
    fp6_mul(&t0, &a->c0, &b->c0);
    fp6_mul(&t1, &a->c1, &b->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_add(&u, &b->c0, &b->c1);
    fp6_mul(&s, &s, &u);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&r->c1, &s, &t1);
    fp6_mul_by_v(&t1, &t1);
    fp6_add(&r->c0, &t0, &t1);
}

void fp12_sqr(fp12_t *r, const fp12_t *a) {
    /* (a0 + a1 w)^2 = (a0 + a1)(a0 + v a1) - t - v t + 2t w, t = a0 a1 */
    fp6_t t, s, u;
    fp6_mul(&t, &a->c0, &a->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_mul_by_v(&u, &a->c1);
    fp6_add(&u, &u, &a->c0);
    fp6_mul(&s, &s, &u);
    fp6_sub(&s, &s, &t);
    fp6_mul_by_v(&u, &t);
    fp6_sub(&r->c0, &s, &u);
    fp6_add(&r->c1, &t, &t);
}

void fp12_conj(fp12_t *r, const fp12_t *a) {
    r->c0 = a->c0;
    fp6_neg(&r->c1, &a->c1);
}

void fp12_inv(fp12_t *r, const fp12_t *a) {
    /* 1/(a0 + a1 w) = (a0 - a1 w) / (a0^2 - v a1^2) */
    fp6_t t0, t1;
    fp6_sqr(&t0, &a->c0);
    fp6_sqr(&t1, &a->c1);
    fp6_mul_by_v(&t1, &t1);
    fp6_sub(&t0, &t0, &t1);
    fp6_inv(&t0, &t0);
    fp6_mul(&r->c0, &a->c0, &t0);
    fp6_mul(&r->c1, &a->c1, &t0);
    fp6_neg(&r->c1, &r->c1);
}

void fp12_frobenius(fp12_t *r, const fp12_t *a, int power) {
    /* Coefficient g at w^j maps to frob(g) * gamma[power][j] at w^j; slots: c0 = (w^0, w^2, w^4),
     * c1 = (w^1, w^3, w^5). Conjugation is the p-power map on Fp2, so odd powers conjugate. */
    const fp2_t *g = FROB_GAMMA[power - 1];
    const fp2_t *in[6] = {&a->c0.c0, &a->c1.c0, &a->c0.c1, &a->c1.c1, &a->c0.c2, &a->c1.c2};
    fp2_t *out[6] = {&r->c0.c0, &r->c1.c0, &r->c0.c1, &r->c1.c1, &r->c0.c2, &r->c1.c2};
    for (int j = 0; j < 6; j++) {
        fp2_t t = *in[j];
        if (power & 1) fp2_conj(&t, &t);
        if (j == 0)
            *out[j] = t;
        else
            fp2_mul(out[j], &t, &g[j]);
    }
}

/* (a + b y)^2 over Fp4 = Fp2[y]/(y^2 - xi): returns t0 + t1 y. */
static void fp4_sqr(fp2_t *t0, fp2_t *t1, const fp2_t *a, const fp2_t *b) {
    fp2_t m, s, u;
    fp2_mul(&m, a, b);
    fp2_add(&s, a, b);
    fp2_mul_by_xi(&u, b);
    fp2_add(&u, &u, a);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &m);
    fp2_mul_by_xi(&u, &m);
    fp2_sub(t0, &s, &u);
    fp2_dbl(t1, &m);
}

void fp12_cyclotomic_sqr(fp12_t *r, const fp12_t *a) {
    /* Granger-Scott (eprint 2009/565): for unitary a, squaring needs three Fp4 squarings. */
    fp2_t t0, t1, t2, t3, t4, t5, x;
    fp4_sqr(&t0, &t1, &a->c0.c0, &a->c1.c1);
    fp4_sqr(&t2, &t3, &a->c1.c0, &a->c0.c2);
    fp4_sqr(&t4, &t5, &a->c0.c1, &a->c1.c2);
    fp2_t z0 = a->c0.c0, z4 = a->c0.c1, z3 = a->c0.c2, z2 = a->c1.c0, z1 = a->c1.c1, z5 = a->c1.c2;
    /* z0 = 3 t0 - 2 z0 */
    fp2_sub(&x, &t0, &z0);
    fp2_dbl(&x, &x);
    fp2_add(&r->c0.c0, &x, &t0);
    /* z1 = 3 t1 + 2 z1 */
    fp2_add(&x, &t1, &z1);
    fp2_dbl(&x, &x);
    fp2_add(&r->c1.c1, &x, &t1);
    /* z2 = 3 xi t5 + 2 z2 */
    fp2_t nt5;
    fp2_mul_by_xi(&nt5, &t5);
    fp2_add(&x, &z2, &nt5);
    fp2_dbl(&x, &x);
    fp2_add(&r->c1.c0, &x, &nt5);
    /* z3 = 3 t4 - 2 z3 */
    fp2_sub(&x, &t4, &z3);
    fp2_dbl(&x, &x);
    fp2_add(&r->c0.c2, &x, &t4);
    /* z4 = 3 t2 - 2 z4 */
    fp2_sub(&x, &t2, &z4);
    fp2_dbl(&x, &x);
    fp2_add(&r->c0.c1, &x, &t2);
    /* z5 = 3 t3 + 2 z5 */
    fp2_add(&x, &z5, &t3);
    fp2_dbl(&x, &x);
    fp2_add(&r->c1.c2, &x, &t3);
}

/* a * (c0 + c1 v) in Fp6 */
static void fp6_mul_by_01(fp6_t *r, const fp6_t *a, const fp2_t *c0, const fp2_t *c1) {
    fp2_t aa, bb, t1, t2, t3, s, u;
    fp2_mul(&aa, &a->c0, c0);
    fp2_mul(&bb, &a->c1, c1);
    /* t1 = ((a1 + a2) c1 - bb) xi + aa */
    fp2_add(&s, &a->c1, &a->c2);
    fp2_mul(&s, &s, c1);
    fp2_sub(&s, &s, &bb);
    fp2_mul_by_xi(&s, &s);
    fp2_add(&t1, &s, &aa);
    /* t3 = (a0 + a2) c0 - aa + bb */
    fp2_add(&s, &a->c0, &a->c2);
    fp2_mul(&s, &s, c0);
    fp2_sub(&s, &s, &aa);
    fp2_add(&t3, &s, &bb);
    /* t2 = (c0 + c1)(a0 + a1) - aa - bb */
    fp2_add(&s, c0, c1);
    fp2_add(&u, &a->c0, &a->c1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &aa);
    fp2_sub(&t2, &s, &bb);
    r->c0 = t1;
    r->c1 = t2;
    r->c2 = t3;
}

/* a * (c1 v) in Fp6 */
static void fp6_mul_by_1(fp6_t *r, const fp6_t *a, const fp2_t *c1) {
    fp2_t t0, t1, t2;
    fp2_mul(&t0, &a->c2, c1);
    fp2_mul_by_xi(&t0, &t0);
    fp2_mul(&t1, &a->c0, c1);
    fp2_mul(&t2, &a->c1, c1);
    r->c0 = t0;
    r->c1 = t1;
    r->c2 = t2;
}

void fp12_mul_by_line(fp12_t *r, const fp12_t *a, const fp2_t *l0, const fp2_t *l1, const fp2_t *l2) {
    fp6_t aa, bb, c1;
    fp2_t o;
    fp6_mul_by_01(&aa, &a->c0, l0, l1);
    fp6_mul_by_1(&bb, &a->c1, l2);
    fp2_add(&o, l1, l2);
    fp6_add(&c1, &a->c1, &a->c0);
    fp6_mul_by_01(&c1, &c1, l0, &o);
    fp6_sub(&c1, &c1, &aa);
    fp6_sub(&r->c1, &c1, &bb);
    fp6_mul_by_v(&bb, &bb);
    fp6_add(&r->c0, &bb, &aa);
}

uint64_t fp12_eq(const fp12_t *a, const fp12_t *b) {
    return fp2_eq(&a->c0.c0, &b->c0.c0) & fp2_eq(&a->c0.c1, &b->c0.c1) & fp2_eq(&a->c0.c2, &b->c0.c2) &
           fp2_eq(&a->c1.c0, &b->c1.c0) & fp2_eq(&a->c1.c1, &b->c1.c1) & fp2_eq(&a->c1.c2, &b->c1.c2);
}

uint64_t fp12_is_one(const fp12_t *a) { return fp12_eq(a, &FP12_ONE); }

void fp12_cmov(fp12_t *r, const fp12_t *a, uint64_t bit) {
    ct_cmov_words((uint64_t *)r, (const uint64_t *)a, sizeof(fp12_t) / 8, bit);
}
