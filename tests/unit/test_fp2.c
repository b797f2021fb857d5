/* Fp2 and the Fp12 tower: the lazy-reduction/assembly products against schoolbook formulas built
 * from Fp operations (themselves checked against OpenSSL in test_fp), field axioms, square roots,
 * and Frobenius maps against exponentiation by p. */
#include <string.h>

#include "fp12.h"
#include "testutil.h"

static void rand_fp(fp_t *a) {
    uint8_t b[48];
    do {
        tu_randbytes(b, sizeof b);
        b[0] &= 0x1f;
        if (tu_rand64() % 8 == 0) memset(b + 1, 0xff, 47);
    } while (!fp_from_bytes(a, b));
}
static void rand_fp2(fp2_t *a) {
    rand_fp(&a->c0);
    rand_fp(&a->c1);
}
static void rand_fp12(fp12_t *a) {
    fp2_t *c = (fp2_t *)a;
    for (int i = 0; i < 6; i++) rand_fp2(&c[i]);
}

/* a^e for a big exponent given as bytes (big-endian), by plain square-and-multiply. */
static void fp12_pow_bytes(fp12_t *r, const fp12_t *a, const uint8_t *e, size_t n) {
    fp12_t acc = FP12_ONE;
    for (size_t i = 0; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            fp12_sqr(&acc, &acc);
            if ((e[i] >> b) & 1) fp12_mul(&acc, &acc, a);
        }
    *r = acc;
}

int main(void) {
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        fp2_t a, b, c, d;
        fp_t t0, t1;
        rand_fp2(&a);
        rand_fp2(&b);
        if (i == 0) { /* all-(p-1) corner */
            uint8_t pm1[48];
            fp_to_bytes(pm1, &FP_ZERO);
            fp_neg(&a.c0, &FP_ONE);
            a.c1 = a.c0;
            b = a;
        }
        fp2_mul(&c, &a, &b);
        fp_mul(&t0, &a.c0, &b.c0);
        fp_mul(&t1, &a.c1, &b.c1);
        fp_sub(&d.c0, &t0, &t1);
        fp_mul(&t0, &a.c0, &b.c1);
        fp_mul(&t1, &a.c1, &b.c0);
        fp_add(&d.c1, &t0, &t1);
        TU_CHECK(fp2_eq(&c, &d));
        fp2_sqr(&c, &a);
        fp2_mul(&d, &a, &a);
        TU_CHECK(fp2_eq(&c, &d));
        if (i % 50 == 0) {
            fp2_inv(&c, &a);
            fp2_mul(&c, &c, &a);
            TU_CHECK(fp2_eq(&c, &FP2_ONE));
            fp2_sqr(&c, &a);
            TU_CHECK(fp2_sqrt(&d, &c));
            fp2_sqr(&d, &d);
            TU_CHECK(fp2_eq(&d, &c));
            TU_CHECK(fp2_is_square(&c));
            /* a non-residue times a square is not a square: u+1 is a non-square in Fp2 */
            fp2_t xi = {FP_ONE, FP_ONE};
            fp2_mul(&c, &c, &xi);
            TU_CHECK(!fp2_sqrt(&d, &c));
            TU_CHECK(!fp2_is_square(&c));
        }
    }
    /* Fp12: mul/sqr/inv consistency and Frobenius == a^p */
    static const uint8_t P_BYTES[48] = {
        0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
        0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
        0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab};
    for (int i = 0; i < 20; i++) {
        fp12_t a, b, c, d, e;
        rand_fp12(&a);
        rand_fp12(&b);
        fp12_mul(&c, &a, &b);
        fp12_mul(&d, &b, &a);
        TU_CHECK(fp12_eq(&c, &d));
        fp12_sqr(&c, &a);
        fp12_mul(&d, &a, &a);
        TU_CHECK(fp12_eq(&c, &d));
        fp12_inv(&c, &a);
        fp12_mul(&c, &c, &a);
        TU_CHECK(fp12_is_one(&c));
        /* sparse line product equals the dense one */
        fp2_t l0, l1, l2;
        rand_fp2(&l0);
        rand_fp2(&l1);
        rand_fp2(&l2);
        memset(&e, 0, sizeof e);
        e.c0.c0 = l0;
        e.c0.c1 = l1;
        e.c1.c1 = l2;
        fp12_mul(&c, &a, &e);
        fp12_mul_by_line(&d, &a, &l0, &l1, &l2);
        TU_CHECK(fp12_eq(&c, &d));
        if (i < 3) {
            fp12_pow_bytes(&c, &a, P_BYTES, 48);
            fp12_frobenius(&d, &a, 1);
            TU_CHECK(fp12_eq(&c, &d));
            fp12_pow_bytes(&e, &c, P_BYTES, 48);
            fp12_frobenius(&d, &a, 2);
            TU_CHECK(fp12_eq(&e, &d));
            fp12_pow_bytes(&c, &e, P_BYTES, 48);
            fp12_frobenius(&d, &a, 3);
            TU_CHECK(fp12_eq(&c, &d));
        }
        /* cyclotomic squaring on a unitary element f^((p^6-1)(p^2+1)) */
        fp12_inv(&c, &a);
        fp12_conj(&d, &a);
        fp12_mul(&c, &d, &c);
        fp12_frobenius(&d, &c, 2);
        fp12_mul(&c, &d, &c);
        fp12_cyclotomic_sqr(&d, &c);
        fp12_sqr(&e, &c);
        TU_CHECK(fp12_eq(&d, &e));
    }
    printf("test_fp2: ok\n");
    return 0;
}
