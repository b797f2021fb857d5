/* Optimal ate pairing on BLS12-381: Miller loop with homogeneous-projective twist arithmetic and
 * fused line evaluation (Costello-Lange-Naehrig), many pairs sharing one accumulator, and the final
 * exponentiation (easy part, then the hard part as an addition chain in x with cyclotomic squarings). */
#include "pairing.h"

#include <string.h>

/* |x| = 0xd201000000010000; x is negative. */
#define BLS_X_ABS 0xd201000000010000ULL

typedef struct {
    fp2_t x, y, z;
} twist_pt;

/* Doubles R in place and returns the tangent line coefficients (l0, l1, l2) before evaluation:
 * line(P) = l0 + l1*Px v + l2*Py v w (M-twist). With a = XY/2, b = Y^2, c = Z^2, e = 3 b' c
 * (b' = 4(1+u)), f = 3e, g = (b + f)/2, h = 2YZ, the double is (a (b - f) : g^2 - 3 e^2 : b h);
 * it is returned scaled by 4, (2XY (b - f) : (b + f)^2 - 12 e^2 : 4 b h), which is the same
 * projective point without the two multiplications by 1/2. */
static void dbl_step(twist_pt *R, fp2_t *l0, fp2_t *l1, fp2_t *l2) {
    fp2_t a, b, c, e, f, g, h, j, t;
    fp2_mul(&a, &R->x, &R->y);
    fp2_dbl(&a, &a); /* 2XY */
    fp2_sqr(&b, &R->y);
    fp2_sqr(&c, &R->z);
    fp2_mul_by_xi(&e, &c);
    fp2_dbl(&t, &e);
    fp2_add(&e, &e, &t);
    fp2_dbl(&e, &e);
    fp2_dbl(&e, &e); /* 12 (1+u) c = 3 b' c */
    fp2_dbl(&f, &e);
    fp2_add(&f, &f, &e);
    fp2_add(&g, &b, &f);
    fp2_add(&h, &R->y, &R->z);
    fp2_sqr(&h, &h);
    fp2_add(&t, &b, &c);
    fp2_sub(&h, &h, &t);
    fp2_sub(l0, &e, &b);
    fp2_sqr(&j, &R->x);
    fp2_sub(&t, &b, &f);
    fp2_mul(&R->x, &a, &t);
    fp2_sqr(&t, &e);
    fp2_t t3;
    fp2_dbl(&t3, &t);
    fp2_add(&t3, &t3, &t);
    fp2_dbl(&t3, &t3);
    fp2_dbl(&t3, &t3); /* 12 e^2 */
    fp2_sqr(&R->y, &g);
    fp2_sub(&R->y, &R->y, &t3);
    fp2_mul(&R->z, &b, &h);
    fp2_dbl(&R->z, &R->z);
    fp2_dbl(&R->z, &R->z);
    fp2_dbl(l1, &j);
    fp2_add(l1, l1, &j);
    fp2_neg(l2, &h);
}

/* R += Q (Q affine) and the chord line coefficients. */
static void add_step(twist_pt *R, const g2_affine_t *Q, fp2_t *l0, fp2_t *l1, fp2_t *l2) {
    fp2_t theta, lambda, c, d, e, f, g, h, j, t;
    fp2_mul(&t, &Q->y, &R->z);
    fp2_sub(&theta, &R->y, &t);
    fp2_mul(&t, &Q->x, &R->z);
    fp2_sub(&lambda, &R->x, &t);
    fp2_sqr(&c, &theta);
    fp2_sqr(&d, &lambda);
    fp2_mul(&e, &lambda, &d);
    fp2_mul(&f, &R->z, &c);
    fp2_mul(&g, &R->x, &d);
    fp2_dbl(&t, &g);
    fp2_add(&h, &e, &f);
    fp2_sub(&h, &h, &t);
    fp2_mul(&R->x, &lambda, &h);
    fp2_sub(&t, &g, &h);
    fp2_mul(&t, &theta, &t);
    fp2_t ey;
    fp2_mul(&ey, &e, &R->y);
    fp2_sub(&R->y, &t, &ey);
    fp2_mul(&R->z, &R->z, &e);
    fp2_mul(&j, &theta, &Q->x);
    fp2_mul(&t, &lambda, &Q->y);
    fp2_sub(&j, &j, &t);
    *l0 = j;
    fp2_neg(l1, &theta);
    *l2 = lambda;
}

/* Multiplies f by the line evaluated at P; when skip is 1 the line is replaced by 1 (identity
 * inputs), without branching. */
static void eval_line(fp2_t *l0, fp2_t *l1, fp2_t *l2, const g1_affine_t *P, uint64_t skip) {
    fp2_mul_fp(l1, l1, &P->x);
    fp2_mul_fp(l2, l2, &P->y);
    fp2_cmov(l0, &FP2_ONE, skip);
    fp2_cmov(l1, &FP2_ZERO, skip);
    fp2_cmov(l2, &FP2_ZERO, skip);
}

static void apply_line(fp12_t *f, fp2_t *l0, fp2_t *l1, fp2_t *l2, const g1_affine_t *P, uint64_t skip) {
    eval_line(l0, l1, l2, P, skip);
    fp12_mul_by_line(f, f, l0, l1, l2);
}

/* f = the evaluated line itself (l0 + l1 v + l2 v w), for the first step where f is 1. */
static void set_line(fp12_t *f, fp2_t *l0, fp2_t *l1, fp2_t *l2, const g1_affine_t *P, uint64_t skip) {
    eval_line(l0, l1, l2, P, skip);
    memset(f, 0, sizeof *f);
    f->c0.c0 = *l0;
    f->c0.c1 = *l1;
    f->c1.c1 = *l2;
}

void pairing_miller_loop(fp12_t *f, const g1_affine_t *P, const g2_affine_t *Q, size_t n) {
    twist_pt R[PAIRING_MAX_BATCH];
    g2_affine_t Qs[PAIRING_MAX_BATCH];
    uint64_t skip[PAIRING_MAX_BATCH];
    fp2_t l0, l1, l2;
    if (n > PAIRING_MAX_BATCH) n = PAIRING_MAX_BATCH; /* callers chunk; see pairing_product_is_one */
    for (size_t k = 0; k < n; k++) {
        /* An identity Q is replaced by the generator so the arithmetic stays well defined; its
         * lines are then masked to 1, as are those of an identity P. */
        skip[k] = g1_affine_is_identity(&P[k]) | g2_affine_is_identity(&Q[k]);
        Qs[k] = Q[k];
        fp2_cmov(&Qs[k].x, &G2_GENERATOR.x, g2_affine_is_identity(&Q[k]));
        fp2_cmov(&Qs[k].y, &G2_GENERATOR.y, g2_affine_is_identity(&Q[k]));
        R[k].x = Qs[k].x;
        R[k].y = Qs[k].y;
        R[k].z = FP2_ONE;
    }
    *f = FP12_ONE;
    for (int bit = 62; bit >= 0; bit--) {
        if (bit != 62) fp12_sqr(f, f);
        for (size_t k = 0; k < n; k++) {
            dbl_step(&R[k], &l0, &l1, &l2);
            if (bit == 62 && k == 0)
                set_line(f, &l0, &l1, &l2, &P[k], skip[k]); /* f = 1 so far */
            else
                apply_line(f, &l0, &l1, &l2, &P[k], skip[k]);
        }
        if ((BLS_X_ABS >> bit) & 1) {
            for (size_t k = 0; k < n; k++) {
                add_step(&R[k], &Qs[k], &l0, &l1, &l2);
                apply_line(f, &l0, &l1, &l2, &P[k], skip[k]);
            }
        }
    }
    fp12_conj(f, f); /* x < 0 */
    tkms_wipe(R, sizeof R);
}

/* r = a^|x| for unitary a (cyclotomic squarings). */
static void cyc_exp_abs_x(fp12_t *r, const fp12_t *a) {
    fp12_t acc = *a;
    for (int bit = 62; bit >= 0; bit--) {
        fp12_cyclotomic_sqr(&acc, &acc);
        if ((BLS_X_ABS >> bit) & 1) fp12_mul(&acc, &acc, a);
    }
    *r = acc;
}

/* r = a^x = conj(a^|x|) for unitary a. */
static void cyc_exp_x(fp12_t *r, const fp12_t *a) {
    cyc_exp_abs_x(r, a);
    fp12_conj(r, r);
}

void pairing_final_exp(fp12_t *r, const fp12_t *f) {
    fp12_t t0, t1, t2, t3, t4, t5, t6, t7, s, u;
    /* easy part: f^((p^6 - 1)(p^2 + 1)) */
    fp12_inv(&t0, f);
    fp12_conj(&t1, f);
    fp12_mul(&t0, &t1, &t0);
    fp12_frobenius(&t1, &t0, 2);
    fp12_mul(&t1, &t1, &t0);
    /* hard part: (p^4 - p^2 + 1)/r as a chain in x */
    cyc_exp_x(&t2, &t1);
    fp12_cyclotomic_sqr(&t3, &t1);
    fp12_conj(&t3, &t3);
    fp12_mul(&t3, &t3, &t2);
    cyc_exp_x(&t4, &t3);
    cyc_exp_x(&t5, &t4);
    cyc_exp_x(&t6, &t5);
    fp12_cyclotomic_sqr(&s, &t2);
    fp12_mul(&t6, &t6, &s);
    cyc_exp_x(&t7, &t6);
    /* (t2 t5)^(p^2) (t4 t1)^(p^3) (t6 conj(t1))^p t7 conj(t3) t1 */
    fp12_mul(&s, &t2, &t5);
    fp12_frobenius(&s, &s, 2);
    fp12_mul(&u, &t4, &t1);
    fp12_frobenius(&u, &u, 3);
    fp12_mul(&s, &s, &u);
    fp12_conj(&u, &t1);
    fp12_mul(&u, &t6, &u);
    fp12_frobenius(&u, &u, 1);
    fp12_mul(&s, &s, &u);
    fp12_conj(&u, &t3);
    fp12_mul(&u, &t7, &u);
    fp12_mul(&u, &u, &t1);
    fp12_mul(r, &s, &u);
}

void pairing(fp12_t *r, const g1_affine_t *P, const g2_affine_t *Q) {
    fp12_t f;
    pairing_miller_loop(&f, P, Q, 1);
    pairing_final_exp(r, &f);
}

uint64_t pairing_product_is_one(const g1_affine_t *P, const g2_affine_t *Q, size_t n) {
    fp12_t acc = FP12_ONE, f;
    for (size_t i = 0; i < n; i += PAIRING_MAX_BATCH) {
        size_t m = n - i < PAIRING_MAX_BATCH ? n - i : PAIRING_MAX_BATCH;
        pairing_miller_loop(&f, P + i, Q + i, m);
        fp12_mul(&acc, &acc, &f);
    }
    pairing_final_exp(&f, &acc);
    return fp12_is_one(&f);
}

void gt_to_bytes(uint8_t out[576], const fp12_t *a) {
    const fp6_t *c6[2] = {&a->c1, &a->c0};
    for (int i = 0; i < 2; i++) {
        const fp2_t *c2[3] = {&c6[i]->c2, &c6[i]->c1, &c6[i]->c0};
        for (int k = 0; k < 3; k++) {
            fp_to_bytes(out + (i * 3 + k) * 96, &c2[k]->c1);
            fp_to_bytes(out + (i * 3 + k) * 96 + 48, &c2[k]->c0);
        }
    }
}
