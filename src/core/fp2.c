/* Quadratic extension Fp2 = Fp[u]/(u^2+1): Karatsuba multiplication, complex squaring, inversion
 * through the norm, and the constant-time square root for p = 3 mod 4 (RFC 9380 App. I.3 style). */
#include "fp2.h"

const fp2_t FP2_ZERO = {{{0, 0, 0, 0, 0, 0}}, {{0, 0, 0, 0, 0, 0}}};
const fp2_t FP2_ONE = {{{0x760900000002fffdULL, 0xebf4000bc40c0002ULL, 0x5f48985753c758baULL,
                         0x77ce585370525745ULL, 0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}},
                       {{0, 0, 0, 0, 0, 0}}};

#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
#include "fp_x86.h"
/* The assembly add/sub need no ADX: call them directly, without fp_add's extra call level. */
#define FP_ADD(r, a, b) tkms_fp_add_x86((r)->l, (a)->l, (b)->l)
#define FP_SUB(r, a, b) tkms_fp_sub_x86((r)->l, (a)->l, (b)->l)
#else
#define FP_ADD(r, a, b) fp_add((r), (a), (b))
#define FP_SUB(r, a, b) fp_sub((r), (a), (b))
#endif

void fp2_add(fp2_t *r, const fp2_t *a, const fp2_t *b) {
    FP_ADD(&r->c0, &a->c0, &b->c0);
    FP_ADD(&r->c1, &a->c1, &b->c1);
}

void fp2_sub(fp2_t *r, const fp2_t *a, const fp2_t *b) {
    FP_SUB(&r->c0, &a->c0, &b->c0);
    FP_SUB(&r->c1, &a->c1, &b->c1);
}

void fp2_dbl(fp2_t *r, const fp2_t *a) {
    FP_ADD(&r->c0, &a->c0, &a->c0);
    FP_ADD(&r->c1, &a->c1, &a->c1);
}

void fp2_neg(fp2_t *r, const fp2_t *a) {
    fp_neg(&r->c0, &a->c0);
    fp_neg(&r->c1, &a->c1);
}

void fp2_conj(fp2_t *r, const fp2_t *a) {
    r->c0 = a->c0;
    fp_neg(&r->c1, &a->c1);
}

#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
/* Lazy reduction (in the assembly): three 768-bit products, two Montgomery reductions,
 * c0 = redc(a0 b0 - a1 b1 (+ p 2^384 if negative)), c1 = redc((a0+a1)(b0+b1) - a0 b0 - a1 b1). */
_Static_assert(sizeof(fp2_t) == 12 * sizeof(uint64_t), "fp2_t is c0 || c1 without padding");
#endif

void fp2_mul(fp2_t *r, const fp2_t *a, const fp2_t *b) {
#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
    if (tkms_fp_have_adx > 0) {
        tkms_fp2_mul_adx((uint64_t *)(void *)r, (const uint64_t *)(const void *)a, (const uint64_t *)(const void *)b);
        return;
    }
#endif
    fp_t t0, t1, s0, s1;
    fp_mul(&t0, &a->c0, &b->c0);
    fp_mul(&t1, &a->c1, &b->c1);
    FP_ADD(&s0, &a->c0, &a->c1);
    FP_ADD(&s1, &b->c0, &b->c1);
    fp_mul(&s0, &s0, &s1);
    FP_SUB(&s0, &s0, &t0);
    FP_SUB(&r->c1, &s0, &t1);
    FP_SUB(&r->c0, &t0, &t1);
}

void fp2_sqr(fp2_t *r, const fp2_t *a) {
#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
    if (tkms_fp_have_adx > 0) {
        tkms_fp2_sqr_adx((uint64_t *)(void *)r, (const uint64_t *)(const void *)a);
        return;
    }
#endif
    /* (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u */
    fp_t s, d, m;
    FP_ADD(&s, &a->c0, &a->c1);
    FP_SUB(&d, &a->c0, &a->c1);
    fp_mul(&m, &a->c0, &a->c1);
    fp_mul(&r->c0, &s, &d);
    FP_ADD(&r->c1, &m, &m);
}

void fp2_mul_fp(fp2_t *r, const fp2_t *a, const fp_t *b) {
    fp_mul(&r->c0, &a->c0, b);
    fp_mul(&r->c1, &a->c1, b);
}

void fp2_mul_by_xi(fp2_t *r, const fp2_t *a) {
    fp_t t;
    FP_SUB(&t, &a->c0, &a->c1);
    FP_ADD(&r->c1, &a->c0, &a->c1);
    r->c0 = t;
}

void fp2_mul_small(fp2_t *r, const fp2_t *a, unsigned k) {
    fp_mul_small(&r->c0, &a->c0, k);
    fp_mul_small(&r->c1, &a->c1, k);
}

void fp2_inv(fp2_t *r, const fp2_t *a) {
    fp_t n, t;
    fp_sqr(&n, &a->c0);
    fp_sqr(&t, &a->c1);
    FP_ADD(&n, &n, &t);
    fp_inv(&n, &n);
    fp_mul(&r->c0, &a->c0, &n);
    fp_mul(&t, &a->c1, &n);
    fp_neg(&r->c1, &t);
}

uint64_t fp2_is_zero(const fp2_t *a) { return fp_is_zero(&a->c0) & fp_is_zero(&a->c1); }

uint64_t fp2_eq(const fp2_t *a, const fp2_t *b) { return fp_eq(&a->c0, &b->c0) & fp_eq(&a->c1, &b->c1); }

void fp2_cmov(fp2_t *r, const fp2_t *a, uint64_t bit) {
    fp_cmov(&r->c0, &a->c0, bit);
    fp_cmov(&r->c1, &a->c1, bit);
}

uint64_t fp2_sgn0(const fp2_t *a) {
    uint64_t s0 = fp_sgn0(&a->c0), z0 = fp_is_zero(&a->c0), s1 = fp_sgn0(&a->c1);
    return s0 | (z0 & s1);
}

uint64_t fp2_is_lexlarge(const fp2_t *a) {
    uint64_t z1 = fp_is_zero(&a->c1);
    return (z1 & fp_is_lexlarge(&a->c0)) | ((1 ^ z1) & fp_is_lexlarge(&a->c1));
}

uint64_t fp2_from_bytes(fp2_t *r, const uint8_t in[96]) {
    uint64_t ok1 = fp_from_bytes(&r->c1, in);
    uint64_t ok0 = fp_from_bytes(&r->c0, in + 48);
    return ok0 & ok1;
}

void fp2_to_bytes(uint8_t out[96], const fp2_t *a) {
    fp_to_bytes(out, &a->c1);
    fp_to_bytes(out + 48, &a->c0);
}

/* a^e for a public exponent given as 6 little-endian limbs; 4-bit fixed window. Indexing by the
 * public exponent's digits leaks nothing about a. */
static void fp2_pow(fp2_t *r, const fp2_t *a, const uint64_t e[6]) {
    fp2_t tbl[16], acc;
    tbl[0] = FP2_ONE;
    tbl[1] = *a;
    for (int i = 2; i < 16; i++) fp2_mul(&tbl[i], &tbl[i - 1], a);
    int w = 95;
    while (w > 0 && ((e[w / 16] >> ((w % 16) * 4)) & 15) == 0) w--;
    acc = tbl[(e[w / 16] >> ((w % 16) * 4)) & 15];
    for (w--; w >= 0; w--) {
        for (int k = 0; k < 4; k++) fp2_sqr(&acc, &acc);
        uint64_t d = (e[w / 16] >> ((w % 16) * 4)) & 15;
        if (d) fp2_mul(&acc, &acc, &tbl[d]);
    }
    *r = acc;
    tkms_wipe(tbl, sizeof tbl);
}

uint64_t fp2_sqrt(fp2_t *r, const fp2_t *a) {
    /* Adj & Rodriguez-Henriquez, Algorithm 9 (q = p^2, p = 3 mod 4), made branch-free:
     * a1 = a^((p-3)/4), alpha = a1^2 a, x0 = a1 a; if alpha = -1 then x = u x0
     * else x = (1 + alpha)^((p-1)/2) x0. */
    static const uint64_t PM3_4[6] = {0xee7fbfffffffeaaaULL, 0x07aaffffac54ffffULL, 0xd9cc34a83dac3d89ULL,
                                      0xd91dd2e13ce144afULL, 0x92c6e9ed90d2eb35ULL, 0x0680447a8e5ff9a6ULL};
    static const uint64_t PM1_2[6] = {0xdcff7fffffffd555ULL, 0x0f55ffff58a9ffffULL, 0xb39869507b587b12ULL,
                                      0xb23ba5c279c2895fULL, 0x258dd3db21a5d66bULL, 0x0d0088f51cbff34dULL};
    fp2_t a1, alpha, x0, x, b, t, minus_one;
    fp2_pow(&a1, a, PM3_4);
    fp2_sqr(&alpha, &a1);
    fp2_mul(&alpha, &alpha, a);
    fp2_mul(&x0, &a1, a);
    /* branch 1: u * x0 = -x0.c1 + x0.c0 u */
    fp_neg(&x.c0, &x0.c1);
    x.c1 = x0.c0;
    /* branch 2 */
    fp2_add(&b, &FP2_ONE, &alpha);
    fp2_pow(&b, &b, PM1_2);
    fp2_mul(&t, &b, &x0);
    fp2_neg(&minus_one, &FP2_ONE);
    fp2_cmov(&t, &x, fp2_eq(&alpha, &minus_one));
    *r = t;
    fp2_sqr(&t, &t);
    return fp2_eq(&t, a);
}

uint64_t fp2_is_square(const fp2_t *a) {
    /* a is a square in Fp2 iff its norm a0^2 + a1^2 is a square in Fp. */
    fp_t n, t;
    fp_sqr(&n, &a->c0);
    fp_sqr(&t, &a->c1);
    FP_ADD(&n, &n, &t);
    return fp_is_square(&n);
}

/* Square root in Fp2 of public data with two Fp exponentiations instead of two Fp2 ones (about
 * twice as fast as fp2_sqrt; used by decompression). For a = a0 + a1 u with a1 != 0:
 * gamma = sqrt(a0^2 + a1^2), delta = (a0 + gamma) / 2, t = delta^((p+1)/4). Then t^2 = delta and
 * sqrt(a) = t + a1/(2t) u, or t^2 = -delta and, since the other root (a0 - gamma)/2 equals
 * -a1^2 / (4 delta) = (a1/(2t))^2, sqrt(a) = a1/(2t) + t u. Branches only on public values. */
static const fp_t FP2_HALF = {{0x1804000000015554ULL, 0x855000053ab00001ULL, 0x633cb57c253c276fULL,
                              0x6e22d1ec31ebb502ULL, 0xd3916126f2d14ca2ULL, 0x17fbb8571a006596ULL}};

uint64_t fp2_sqrt_vartime(fp2_t *r, const fp2_t *a) {
    fp2_t x, chk;
    if (fp_is_zero(&a->c1)) {
        /* -1 is not a square mod p, so exactly one of a0, -a0 has a root (both when a0 = 0) */
        fp_t n;
        x.c1 = FP_ZERO;
        if (!fp_sqrt(&x.c0, &a->c0)) {
            fp_neg(&n, &a->c0);
            x.c0 = FP_ZERO;
            if (!fp_sqrt(&x.c1, &n)) return 0;
        }
    } else {
        fp_t alpha, gamma, delta, t, inv;
        fp_sqr(&alpha, &a->c0);
        fp_sqr(&t, &a->c1);
        FP_ADD(&alpha, &alpha, &t);
        if (!fp_sqrt(&gamma, &alpha)) return 0; /* the norm is not a square: neither is a */
        FP_ADD(&delta, &a->c0, &gamma);
        fp_mul(&delta, &delta, &FP2_HALF); /* non-zero, as a1 != 0 */
        uint64_t direct = fp_sqrt(&t, &delta);
        fp_dbl(&inv, &t);
        fp_inv(&inv, &inv);
        fp_mul(&inv, &inv, &a->c1);
        if (direct) {
            x.c0 = t;
            x.c1 = inv;
        } else {
            x.c0 = inv;
            x.c1 = t;
        }
    }
    fp2_sqr(&chk, &x);
    *r = x;
    return fp2_eq(&chk, a);
}
