/* Constant-time test (run under valgrind memcheck by ctest): secret scalars, keys and IKM are marked
 * undefined, so any branch or memory index that depends on them is reported as an error. Results
 * are marked defined again only at the end, to compare them with variable-time references. */
#include <string.h>

#include <valgrind/memcheck.h>

#include "bls_internal.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "testutil.h"
#include "tkms/bls.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static void declassify(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

static const uint8_t DST_SIG[] = TKMS_BLS_DST_MIN_SIG_NUL;
static const uint8_t DST_PK[] = TKMS_BLS_DST_MIN_PK_POP;

/* Scalar multiplication in both groups with an undefined scalar, compared afterwards with the
 * variable-time multiplication of the same (defined) scalar. */
static void ct_scalar_mul(void) {
    uint64_t k[4], kpub[4];
    fr_t s;
    uint8_t b[32];
    tu_randbytes(b, 32);
    b[0] &= 0x3f;
    TU_CHECK(fr_from_bytes(&s, b));
    fr_to_scalar(kpub, &s);
    memcpy(k, kpub, sizeof k);
    SECRET(k, sizeof k);

    g1_t g1, r1, e1;
    g2_t g2, r2, e2;
    g1_affine_t a1;
    g2_affine_t a2;
    uint8_t o1[48], o2[96];
    g1_from_affine(&g1, &G1_GENERATOR);
    g2_from_affine(&g2, &G2_GENERATOR);
    g1_mul(&r1, &g1, k);
    g1_to_affine(&a1, &r1);
    g1_serialize(o1, &a1);
    g2_mul(&r2, &g2, k);
    g2_to_affine(&a2, &r2);
    g2_serialize(o2, &a2);
    /* a secret point as the base too (the IBE/threshold code multiplies secret shares into points) */
    g1_t r1b;
    g1_mul(&r1b, &r1, k);

    PUBLIC(&r1, sizeof r1);
    PUBLIC(&r2, sizeof r2);
    PUBLIC(&r1b, sizeof r1b);
    PUBLIC(o1, sizeof o1);
    PUBLIC(o2, sizeof o2);
    g1_mul_vartime(&e1, &g1, kpub);
    g2_mul_vartime(&e2, &g2, kpub);
    TU_CHECK(g1_eq(&r1, &e1));
    TU_CHECK(g2_eq(&r2, &e2));
    g1_affine_t c1;
    TU_CHECK(g1_deserialize(&c1, o1, 48, 0) == G1_OK);
    g1_mul_vartime(&e1, &e1, kpub);
    TU_CHECK(g1_eq(&r1b, &e1));
}

/* Fr arithmetic on undefined operands. */
static void ct_fr(void) {
    uint8_t b1[32], b2[32], wide[64], out[32];
    fr_t x, y, z, w, inv, batch[4], scratch[4];
    uint64_t sc[4];
    tu_randbytes(b1, 32);
    tu_randbytes(b2, 32);
    tu_randbytes(wide, 64);
    b1[0] &= 0x3f;
    b2[0] &= 0x3f;
    SECRET(b1, 32);
    SECRET(b2, 32);
    SECRET(wide, 64);
    uint64_t ok = fr_from_bytes(&x, b1) & fr_from_bytes(&y, b2);
    fr_from_bytes_wide(&w, wide, 64);
    fr_add(&z, &x, &y);
    fr_sub(&z, &z, &w);
    fr_mul(&z, &z, &x);
    fr_sqr(&z, &z);
    fr_neg(&z, &z);
    fr_inv(&inv, &z);
    fr_mul(&w, &inv, &z); /* = 1 */
    uint64_t one = fr_eq(&w, &FR_ONE) & (1 ^ fr_is_zero(&z));
    fr_cmov(&z, &x, fr_is_zero(&y));
    fr_to_scalar(sc, &z);
    fr_from_scalar(&z, sc);
    fr_to_bytes(out, &z);
    batch[0] = x;
    batch[1] = y;
    batch[2] = z;
    batch[3] = inv;
    fr_batch_inv(batch, batch, 4, scratch);
    fr_mul(&w, &batch[0], &x);
    one &= fr_eq(&w, &FR_ONE);
    PUBLIC(&ok, sizeof ok);
    PUBLIC(&one, sizeof one);
    PUBLIC(out, sizeof out);
    TU_CHECK(ok == 1 && one == 1);
}

/* KeyGen, SkToPk, Sign (both variants), PopProve and the key parser with undefined IKM / keys. */
static void ct_bls(void) {
    uint8_t ikm[32], skb[32], skb_pub[32];
    tkms_bls_secret_key sk, sk2;
    tkms_bls_public_key pk[2];
    tkms_bls_signature sig[2], proof;
    uint8_t pkb[2][96], sigb[2][96];
    tu_randbytes(ikm, 32);
    SECRET(ikm, 32);
    TU_CHECK(tkms_bls_keygen(&sk, ikm, 32, (const uint8_t *)"info", 4));
    TU_CHECK(tkms_bls_secret_key_serialize(skb, &sk));
    TU_CHECK(tkms_bls_secret_key_parse(&sk2, skb)); /* skb is undefined: parse must be constant time */
    for (int vi = 0; vi < 2; vi++) {
        tkms_bls_variant v = vi ? TKMS_BLS_MIN_PK : TKMS_BLS_MIN_SIG;
        const uint8_t *dst = vi ? DST_PK : DST_SIG;
        size_t dl = vi ? sizeof DST_PK - 1 : sizeof DST_SIG - 1;
        TU_CHECK(tkms_bls_sk_to_pk(&pk[vi], v, &sk2));
        TU_CHECK(tkms_bls_sign(&sig[vi], v, &sk2, (const uint8_t *)"message", 7, dst, dl));
        TU_CHECK(tkms_bls_public_key_serialize(pkb[vi], tkms_bls_public_key_size(v), &pk[vi]));
        TU_CHECK(tkms_bls_signature_serialize(sigb[vi], tkms_bls_signature_size(v), &sig[vi]));
    }
    /* The public key is public: PopProve hashes its encoding, so declassify it first. */
    PUBLIC(pkb, sizeof pkb);
    PUBLIC(pk, sizeof pk);
    TU_CHECK(tkms_bls_pop_prove(&proof, TKMS_BLS_MIN_PK, &sk2, (const uint8_t *)TKMS_BLS_DST_MIN_PK_POP_PROOF,
                                sizeof TKMS_BLS_DST_MIN_PK_POP_PROOF - 1));

    /* Only now: results become public and are checked. */
    PUBLIC(sig, sizeof sig);
    PUBLIC(sigb, sizeof sigb);
    PUBLIC(&proof, sizeof proof);
    memcpy(skb_pub, skb, 32);
    PUBLIC(skb_pub, 32);
    for (int vi = 0; vi < 2; vi++) {
        tkms_bls_variant v = vi ? TKMS_BLS_MIN_PK : TKMS_BLS_MIN_SIG;
        const uint8_t *dst = vi ? DST_PK : DST_SIG;
        size_t dl = vi ? sizeof DST_PK - 1 : sizeof DST_SIG - 1;
        tkms_bls_signature s;
        TU_CHECK(tkms_bls_signature_parse(&s, v, sigb[vi], tkms_bls_signature_size(v)));
        TU_CHECK(tkms_bls_verify(&pk[vi], (const uint8_t *)"message", 7, &s, dst, dl));
    }
    TU_CHECK(tkms_bls_pop_verify(&pk[1], &proof, (const uint8_t *)TKMS_BLS_DST_MIN_PK_POP_PROOF,
                                 sizeof TKMS_BLS_DST_MIN_PK_POP_PROOF - 1));
    tkms_bls_secret_key_wipe(&sk);
    tkms_bls_secret_key_wipe(&sk2);
}

int main(void) {
    tu_seed();
    tkms_ct_declassify_hook = declassify;
    if (!RUNNING_ON_VALGRIND)
        fprintf(stderr, "test_ctime_bls: not under valgrind; only the functional checks run "
                        "(ctest runs it as valgrind --error-exitcode=1 test_ctime_bls)\n");
    for (int i = 0; i < 2; i++) {
        ct_scalar_mul();
        ct_fr();
        ct_bls();
    }
    printf("test_ctime_bls: ok\n");
    return 0;
}
