/* G1: group laws (complete formulas and their edge cases), constant-time GLV vs wNAF vs naive
 * scalar multiplication, MSM, batch normalisation, the phi endomorphism, subgroup checks, and the
 * ZCash encoding including the ethereum/bls12-381-tests deserialisation vectors. */
#include <stdlib.h>
#include <string.h>

#include "fr.h"
#include "g1.h"
#include "testutil.h"

#define PT g1_t
#define AFF g1_affine_t
#define FE fp_t
#define FN(name) g1_##name
#define GEN G1_GENERATOR
#define SER_C 48
#define SER_U 96
#define ERR(x) G1_ERR_##x
#define ST_OK G1_OK
#define fe_sqr fp_sqr
#define fe_mul fp_mul
#define fe_add fp_add
#define fe_sqrt fp_sqrt

static fp_t CURVE_B;

static void rand_fe(fp_t *a) {
    uint8_t b[64];
    tu_randbytes(b, sizeof b);
    fp_from_bytes_wide(a, b);
}

#include "curve_tests.h"

static void test_generator(void) {
    static const char *hex = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
    uint8_t want[48], got[48];
    TU_CHECK(tu_unhex(want, sizeof want, hex) == 48);
    g1_serialize(got, &G1_GENERATOR);
    TU_CHECK(memcmp(got, want, 48) == 0);
    TU_CHECK(g1_affine_is_on_curve(&G1_GENERATOR));
    g1_affine_t a;
    TU_CHECK(g1_deserialize(&a, want, 48, 0) == G1_OK);
    TU_CHECK(memcmp(&a, &G1_GENERATOR, sizeof a) == 0);
    g1_t g;
    g1_from_affine(&g, &G1_GENERATOR);
    TU_CHECK(g1_in_subgroup_vartime(&g));
}

static void test_phi(void) {
    /* phi acts as [-x^2] = [r - x^2] on G1; x^2 = 0xac45a4010001a40200000000 00000000 */
    static const uint64_t x2[4] = {0x0000000100000000ULL, 0xac45a4010001a402ULL, 0, 0};
    uint64_t lam[4];
    unsigned __int128 b = 0;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 d = (unsigned __int128)FR_R[i] - x2[i] - b;
        lam[i] = (uint64_t)d;
        b = (d >> 64) & 1;
    }
    for (int it = 0; it < 10; it++) {
        g1_t p, a, c;
        rand_point(&p);
        g1_phi(&a, &p);
        g1_mul_vartime(&c, &p, lam);
        TU_CHECK(g1_eq(&a, &c));
        /* phi^3 = 1 */
        g1_phi(&c, &a);
        g1_phi(&c, &c);
        TU_CHECK(g1_eq(&c, &p));
    }
}

int main(void) {
    tu_seed();
    fp_from_u64(&CURVE_B, 4);
    test_generator();
    test_group_laws();
    test_affine();
    test_phi();
    test_scalar_mul(200);
    test_subgroup();
    test_msm();
    test_msm_degenerate();
    test_serialisation();
    test_vectors("eth-bls/deserialization_G1.json", "pubkey");
    fprintf(stderr, "test_g1: ok\n");
    return 0;
}
