/* Fp arithmetic against OpenSSL's BIGNUM (an independent implementation) on random inputs, and
 * the assembly backend against the portable C one. */
#include <string.h>

#include <openssl/bn.h>

#include "fp.h"
#include "testutil.h"

static BIGNUM *P;
static BN_CTX *ctx;

static void rand_fp(fp_t *a, BIGNUM *bn) {
    uint8_t b[48];
    do {
        tu_randbytes(b, sizeof b);
        b[0] &= 0x1f;
        if (tu_rand64() % 16 == 0) memset(b + 1, 0xff, 47); /* near the top */
        if (tu_rand64() % 32 == 0) memset(b, 0, 47);         /* tiny */
    } while (!fp_from_bytes(a, b));
    BN_bin2bn(b, 48, bn);
}

static void check_eq(const fp_t *a, const BIGNUM *bn) {
    uint8_t x[48], y[48];
    fp_to_bytes(x, a);
    TU_CHECK(BN_bn2binpad(bn, y, 48) == 48);
    TU_CHECK(memcmp(x, y, 48) == 0);
}

int main(void) {
    tu_seed();
    ctx = BN_CTX_new();
    P = BN_new();
    uint8_t pb[48];
    fp_t t;
    TU_CHECK(BN_hex2bn(&P, "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab"));
    BN_bn2binpad(P, pb, 48);
    TU_CHECK(!fp_from_bytes(&t, pb)); /* p itself is out of range */
    pb[47]--;
    TU_CHECK(fp_from_bytes(&t, pb)); /* p-1 is fine */
    fprintf(stderr, "fp backend: %s\n", fp_backend());

    BIGNUM *a = BN_new(), *b = BN_new(), *r = BN_new();
    for (int i = 0; i < 20000; i++) {
        fp_t x, y, z, w;
        rand_fp(&x, a);
        rand_fp(&y, b);
        fp_mul(&z, &x, &y);
        BN_mod_mul(r, a, b, P, ctx);
        check_eq(&z, r);
        fp_mul_portable(w.l, x.l, y.l);
        TU_CHECK(fp_eq(&z, &w));
        fp_sqr(&z, &x);
        BN_mod_sqr(r, a, P, ctx);
        check_eq(&z, r);
        fp_add(&z, &x, &y);
        BN_mod_add(r, a, b, P, ctx);
        check_eq(&z, r);
        fp_sub(&z, &x, &y);
        BN_mod_sub(r, a, b, P, ctx);
        check_eq(&z, r);
        fp_neg(&z, &x);
        BN_mod_sub(r, P, a, P, ctx);
        check_eq(&z, r);
        if (i % 20 == 0) {
            fp_inv(&z, &x);
            if (BN_is_zero(a)) {
                TU_CHECK(fp_is_zero(&z));
            } else {
                BN_mod_inverse(r, a, P, ctx);
                check_eq(&z, r);
            }
            uint64_t ok = fp_sqrt(&z, &x);
            BIGNUM *sq = BN_mod_sqrt(NULL, a, P, ctx);
            TU_CHECK((sq != NULL) == (ok == 1));
            TU_CHECK(fp_is_square(&x) == ok);
            if (ok) {
                fp_sqr(&w, &z);
                TU_CHECK(fp_eq(&w, &x));
            }
            BN_free(sq);
            /* 64-byte reduction */
            uint8_t wide[64];
            tu_randbytes(wide, 64);
            fp_from_bytes_wide(&z, wide);
            BN_bin2bn(wide, 64, r);
            BN_mod(r, r, P, ctx);
            check_eq(&z, r);
        }
    }
    /* safegcd inversion against Fermat on many values, including sparse and near-p ones */
    for (int i = 0; i < 20000; i++) {
        fp_t x, y, z;
        uint8_t b[48];
        tu_randbytes(b, sizeof b);
        b[0] &= 0x1f;
        if (i % 5 == 1) memset(b, 0, 40 + (size_t)(i % 8));
        if (i % 5 == 2) memset(b + 1, 0xff, 46);
        if (i % 5 == 3) memset(b + (i % 40), 0, 8);
        if (!fp_from_bytes(&x, b)) continue;
        fp_inv(&y, &x);
        fp_inv_fermat(&z, &x);
        TU_CHECK(fp_eq(&y, &z));
    }
    /* sgn0 / lexicographic sign at the boundary */
    BIGNUM *half = BN_dup(P);
    BN_rshift1(half, half);
    uint8_t hb[48];
    BN_bn2binpad(half, hb, 48);
    TU_CHECK(fp_from_bytes(&t, hb));
    TU_CHECK(fp_is_lexlarge(&t) == 0);
    hb[47]++;
    TU_CHECK(fp_from_bytes(&t, hb));
    TU_CHECK(fp_is_lexlarge(&t) == 1);
    TU_CHECK(fp_sgn0(&t) == (hb[47] & 1));
    printf("test_fp: ok\n");
    BN_free(a); BN_free(b); BN_free(r); BN_free(half); BN_free(P);
    BN_CTX_free(ctx);
    return 0;
}
