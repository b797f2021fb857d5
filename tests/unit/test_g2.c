/* G2: group laws (complete formulas and their edge cases), constant-time GLS vs wNAF vs naive
 * scalar multiplication, MSM, batch normalisation, the psi endomorphism, subgroup checks, and the
 * ZCash encoding including the ethereum/bls12-381-tests deserialisation vectors. */
#include <stdlib.h>
#include <string.h>

#include "fr.h"
#include "g2.h"
#include "testutil.h"

#define PT g2_t
#define AFF g2_affine_t
#define FE fp2_t
#define FN(name) g2_##name
#define GEN G2_GENERATOR
#define SER_C 96
#define SER_U 192
#define ERR(x) G2_ERR_##x
#define ST_OK G2_OK
#define fe_sqr fp2_sqr
#define fe_mul fp2_mul
#define fe_add fp2_add
#define fe_sqrt fp2_sqrt

static fp2_t CURVE_B;

static void rand_fe(fp2_t *a) {
    uint8_t b[64];
    tu_randbytes(b, sizeof b);
    fp_from_bytes_wide(&a->c0, b);
    tu_randbytes(b, sizeof b);
    fp_from_bytes_wide(&a->c1, b);
}

#include "curve_tests.h"

static void test_generator(void) {
    static const char *hex =
        "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";
    uint8_t want[96], got[96];
    TU_CHECK(tu_unhex(want, sizeof want, hex) == 96);
    g2_serialize(got, &G2_GENERATOR);
    TU_CHECK(memcmp(got, want, 96) == 0);
    TU_CHECK(g2_affine_is_on_curve(&G2_GENERATOR));
    g2_affine_t a;
    TU_CHECK(g2_deserialize(&a, want, 96, 0) == G2_OK);
    TU_CHECK(memcmp(&a, &G2_GENERATOR, sizeof a) == 0);
    g2_t g;
    g2_from_affine(&g, &G2_GENERATOR);
    TU_CHECK(g2_in_subgroup_vartime(&g));
}

static void test_psi(void) {
    /* psi acts as [x] = [r - |x|] on G2, and psi^2 - t psi + p = 0 on the whole twist, with trace
     * t = x + 1: psi^2(P) - [x+1] psi(P) + [p] P = O. */
    static const uint64_t absx = 0xd201000000010000ULL;
    static const uint64_t P6[6] = {0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
                                   0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
    uint64_t lam[4];
    unsigned __int128 b = absx;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 d = (unsigned __int128)FR_R[i] - b;
        lam[i] = (uint64_t)d;
        b = (d >> 64) & 1;
    }
    for (int it = 0; it < 10; it++) {
        g2_t p, a, c, t;
        rand_point(&p);
        g2_psi(&a, &p);
        g2_mul_vartime(&c, &p, lam);
        TU_CHECK(g2_eq(&a, &c));
        /* the characteristic equation on a full-twist point: psi^2 + [|x| - 1] psi + [p] = O */
        rand_curve_point(&p);
        g2_psi(&a, &p);
        g2_psi(&c, &a);
        uint64_t xm1 = absx - 1;
        g2_mul_u64s_vartime(&t, &a, &xm1, 1);
        g2_add(&c, &c, &t);
        g2_mul_u64s_vartime(&t, &p, P6, 6);
        g2_add(&c, &c, &t);
        TU_CHECK(g2_is_identity(&c));
    }
}

/* fp2_sqrt_vartime (used by decompression) against fp2_sqrt, including the a1 = 0 branch. */
static void test_sqrt_vartime(void) {
    for (int it = 0; it < 300; it++) {
        fp2_t a, s1, s2, t;
        rand_fe(&a);
        int kind = it % 6;
        if (kind == 1) a.c1 = FP_ZERO;               /* a0 + 0u, a0 random (square or not) */
        if (kind == 2) fp2_sqr(&a, &a);             /* a square */
        if (kind == 3) { fp2_sqr(&a, &a); a.c1 = FP_ZERO; }
        if (kind == 4) a.c0 = FP_ZERO;               /* pure imaginary */
        if (kind == 5 && it < 12) a = FP2_ZERO;
        uint64_t ok1 = fp2_sqrt(&s1, &a), ok2 = fp2_sqrt_vartime(&s2, &a);
        TU_CHECK(ok1 == ok2);
        TU_CHECK(ok1 == fp2_is_square(&a));
        if (ok2) {
            fp2_sqr(&t, &s2);
            TU_CHECK(fp2_eq(&t, &a));
            fp2_neg(&t, &s1);
            TU_CHECK(fp2_eq(&s1, &s2) || fp2_eq(&t, &s2));
        }
    }
}

int main(void) {
    tu_seed();
    fp_t four;
    fp_from_u64(&four, 4);
    CURVE_B.c0 = four;
    CURVE_B.c1 = four;
    test_generator();
    test_sqrt_vartime();
    test_group_laws();
    test_affine();
    test_psi();
    test_scalar_mul(100);
    test_subgroup();
    test_msm();
    test_msm_degenerate();
    test_serialisation();
    test_vectors("eth-bls/deserialization_G2.json", "signature");
    fprintf(stderr, "test_g2: ok\n");
    return 0;
}
