/* Fr arithmetic against OpenSSL's BIGNUM (an independent implementation) on random inputs,
 * including encodings, wide reduction, inversion and batch inversion. */
#include <string.h>

#include <openssl/bn.h>

#include "fr.h"
#include "testutil.h"

static BIGNUM *R;
static BN_CTX *ctx;

static void rand_fr(fr_t *a, BIGNUM *bn) {
    uint8_t b[32];
    do {
        tu_randbytes(b, sizeof b);
        b[0] &= 0x7f;
        if (tu_rand64() % 16 == 0) memset(b + 1, 0xff, 31); /* near the top */
        if (tu_rand64() % 32 == 0) memset(b, 0, 31);         /* tiny */
    } while (!fr_from_bytes(a, b));
    BN_bin2bn(b, 32, bn);
}

static void check_eq(const fr_t *a, const BIGNUM *bn) {
    uint8_t x[32], y[32];
    fr_to_bytes(x, a);
    TU_CHECK(BN_bn2binpad(bn, y, 32) == 32);
    TU_CHECK(memcmp(x, y, 32) == 0);
}

int main(void) {
    tu_seed();
    ctx = BN_CTX_new();
    R = BN_new();
    TU_CHECK(BN_hex2bn(&R, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001"));
    uint8_t rb[32];
    fr_t t, u;
    BN_bn2binpad(R, rb, 32);
    TU_CHECK(!fr_from_bytes(&t, rb)); /* r itself is out of range */
    rb[31]--;
    TU_CHECK(fr_from_bytes(&t, rb)); /* r - 1 is fine */
    fr_add(&t, &t, &FR_ONE);
    TU_CHECK(fr_is_zero(&t));
    /* FR_R matches */
    uint64_t lim[4];
    for (int i = 0; i < 4; i++) {
        lim[i] = 0;
        for (int j = 0; j < 8; j++) lim[i] = (lim[i] << 8) | (i == 0 && j == 7 ? (uint8_t)(rb[31] + 1) : rb[(3 - i) * 8 + j]);
    }
    TU_CHECK(memcmp(lim, FR_R, 32) == 0);
    fr_from_u64(&t, 1);
    TU_CHECK(fr_eq(&t, &FR_ONE));
    fr_inv(&t, &FR_ZERO);
    TU_CHECK(fr_is_zero(&t));

    BIGNUM *a = BN_new(), *b = BN_new(), *r = BN_new(), *w = BN_new();
    for (int i = 0; i < 20000; i++) {
        fr_t x, y, z;
        rand_fr(&x, a);
        rand_fr(&y, b);
        fr_mul(&z, &x, &y);
        BN_mod_mul(r, a, b, R, ctx);
        check_eq(&z, r);
        fr_sqr(&z, &x);
        BN_mod_sqr(r, a, R, ctx);
        check_eq(&z, r);
        fr_add(&z, &x, &y);
        BN_mod_add(r, a, b, R, ctx);
        check_eq(&z, r);
        fr_sub(&z, &x, &y);
        BN_mod_sub(r, a, b, R, ctx);
        check_eq(&z, r);
        fr_neg(&z, &x);
        BN_mod_sub(r, R, a, R, ctx);
        BN_nnmod(r, r, R, ctx);
        check_eq(&z, r);
        TU_CHECK((int)fr_eq(&x, &y) == (BN_cmp(a, b) == 0));
        TU_CHECK((int)fr_is_zero(&x) == BN_is_zero(a));
        if (i % 20 == 0 && !BN_is_zero(a)) {
            fr_inv(&z, &x);
            TU_CHECK(BN_mod_inverse(r, a, R, ctx) != NULL);
            check_eq(&z, r);
        }
        /* scalar form round trip */
        uint64_t s[4];
        fr_to_scalar(s, &x);
        uint8_t be[32];
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 8; j++) be[(3 - k) * 8 + j] = (uint8_t)(s[k] >> (56 - 8 * j));
        BN_bin2bn(be, 32, w);
        TU_CHECK(BN_cmp(w, a) == 0);
        fr_from_scalar(&z, s);
        TU_CHECK(fr_eq(&z, &x));
        /* cmov */
        z = x;
        fr_cmov(&z, &y, 0);
        TU_CHECK(fr_eq(&z, &x));
        fr_cmov(&z, &y, 1);
        TU_CHECK(fr_eq(&z, &y));
        /* u64 */
        uint64_t v = tu_rand64();
        fr_from_u64(&z, v);
        BN_set_word(r, v);
        BN_nnmod(r, r, R, ctx);
        check_eq(&z, r);
        /* wide reduction of every length up to 64 */
        uint8_t wide[64];
        size_t n = (size_t)(tu_rand64() % 65);
        tu_randbytes(wide, n);
        if (i % 7 == 0) memset(wide, 0xff, n);
        fr_from_bytes_wide(&z, wide, n);
        BN_bin2bn(wide, (int)n, w);
        BN_nnmod(r, w, R, ctx);
        check_eq(&z, r);
        /* fr_from_bytes rejects >= r and reduces anyway */
        uint8_t big[32];
        tu_randbytes(big, 32);
        big[0] |= 0x80;
        TU_CHECK(!fr_from_bytes(&z, big));
    }
    /* batch inversion, also in place */
    enum { N = 37 };
    fr_t in[N], out[N], scratch[N], one;
    for (int i = 0; i < N; i++) {
        do rand_fr(&in[i], a);
        while (fr_is_zero(&in[i]));
    }
    fr_batch_inv(out, in, N, scratch);
    for (int i = 0; i < N; i++) {
        fr_mul(&one, &out[i], &in[i]);
        TU_CHECK(fr_eq(&one, &FR_ONE));
        fr_inv(&u, &in[i]);
        TU_CHECK(fr_eq(&u, &out[i]));
    }
    memcpy(out, in, sizeof in);
    fr_batch_inv(out, out, N, scratch);
    for (int i = 0; i < N; i++) {
        fr_mul(&one, &out[i], &in[i]);
        TU_CHECK(fr_eq(&one, &FR_ONE));
    }
    fr_batch_inv(out, in, 0, scratch);
    BN_free(a);
    BN_free(b);
    BN_free(r);
    BN_free(w);
    BN_free(R);
    BN_CTX_free(ctx);
    fprintf(stderr, "test_fr: ok\n");
    return 0;
}
