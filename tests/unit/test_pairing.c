/* Pairing: tlock's GT encoding vector (H2 over e(G1, G2)), bilinearity on random scalars,
 * multi-pairing == product of single pairings across the batch boundary, identity inputs, order r. */
#include <string.h>

#include <openssl/sha.h>

#include "fr.h"
#include "pairing.h"
#include "testutil.h"

static void rand_scalar(uint64_t k[4]) {
    fr_t f;
    uint8_t b[64];
    tu_randbytes(b, sizeof b);
    fr_from_bytes_wide(&f, b, sizeof b);
    fr_to_scalar(k, &f);
}

static void g1_rand(g1_affine_t *r, uint64_t k[4]) {
    g1_t p, g;
    rand_scalar(k);
    g1_from_affine(&g, &G1_GENERATOR);
    g1_mul(&p, &g, k);
    g1_to_affine(r, &p);
}

static void g2_rand(g2_affine_t *r, uint64_t k[4]) {
    g2_t p, g;
    rand_scalar(k);
    g2_from_affine(&g, &G2_GENERATOR);
    g2_mul(&p, &g, k);
    g2_to_affine(r, &p);
}

int main(void) {
    tu_seed();
    /* tlock: SHA-256("IBE-H2" || GT bytes of e(G1, G2))[:16] */
    json_t *v = tu_load_json("tlock.json");
    const char *want = json_string_value(json_object_get(json_object_get(v, "gt_serialisation"), "expected_h2_16"));
    TU_CHECK(want != NULL);
    fp12_t e;
    pairing(&e, &G1_GENERATOR, &G2_GENERATOR);
    uint8_t buf[6 + 576], h[32];
    char hex[65];
    memcpy(buf, "IBE-H2", 6);
    gt_to_bytes(buf + 6, &e);
    SHA256(buf, sizeof buf, h);
    tu_hex(hex, h, 16);
    TU_CHECK(strcmp(hex, want) == 0);
    TU_CHECK(!fp12_is_one(&e));
    json_decref(v);

    /* e(P, Q)^r = 1 via e([r-1]P, Q) * e(P, Q) = 1 */
    {
        static const uint64_t RM1[4] = {0xffffffff00000000ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                                        0x73eda753299d7d48ULL};
        g1_t g, p;
        g1_affine_t P[2];
        g2_affine_t Q[2] = {G2_GENERATOR, G2_GENERATOR};
        g1_from_affine(&g, &G1_GENERATOR);
        g1_mul_vartime(&p, &g, RM1);
        g1_to_affine(&P[0], &p);
        P[1] = G1_GENERATOR;
        TU_CHECK(pairing_product_is_one(P, Q, 2));
    }

    for (int it = 0; it < 12; it++) {
        /* bilinearity: e(aP, bQ) == e(abP, Q) == e(P, abQ) with P, Q random */
        uint64_t a[4], b[4], ka[4], kb[4], ab[4];
        fr_t fa, fb, fab;
        g1_affine_t P, aP, abP;
        g2_affine_t Q, bQ, abQ;
        g1_t t1;
        g2_t t2;
        g1_rand(&P, ka);
        g2_rand(&Q, kb);
        rand_scalar(a);
        rand_scalar(b);
        fr_from_scalar(&fa, a);
        fr_from_scalar(&fb, b);
        fr_mul(&fab, &fa, &fb);
        fr_to_scalar(ab, &fab);
        g1_from_affine(&t1, &P);
        g1_mul(&t1, &t1, a);
        g1_to_affine(&aP, &t1);
        g1_from_affine(&t1, &P);
        g1_mul(&t1, &t1, ab);
        g1_to_affine(&abP, &t1);
        g2_from_affine(&t2, &Q);
        g2_mul(&t2, &t2, b);
        g2_to_affine(&bQ, &t2);
        g2_from_affine(&t2, &Q);
        g2_mul(&t2, &t2, ab);
        g2_to_affine(&abQ, &t2);
        fp12_t e1, e2, e3;
        pairing(&e1, &aP, &bQ);
        pairing(&e2, &abP, &Q);
        pairing(&e3, &P, &abQ);
        TU_CHECK(fp12_eq(&e1, &e2));
        TU_CHECK(fp12_eq(&e1, &e3));
        /* and a wrong scalar breaks it */
        pairing(&e3, &aP, &Q);
        TU_CHECK(!fp12_eq(&e1, &e3));
        /* product check e(aP, bQ) * e(-abP, Q) == 1 */
        g1_affine_t Ps[2] = {aP, abP};
        g2_affine_t Qs[2] = {bQ, Q};
        g1_affine_neg(&Ps[1], &Ps[1]);
        TU_CHECK(pairing_product_is_one(Ps, Qs, 2));
        Qs[1] = bQ;
        TU_CHECK(!pairing_product_is_one(Ps, Qs, 2));
    }

    /* multi-pairing over n pairs (across the 16-pair batch boundary) equals the product of single
     * pairings; identities contribute 1 */
    {
        enum { N = 21 };
        g1_affine_t P[N];
        g2_affine_t Q[N];
        uint64_t k[4];
        fp12_t prod = FP12_ONE, e1, f, acc = FP12_ONE;
        for (int i = 0; i < N; i++) {
            g1_rand(&P[i], k);
            g2_rand(&Q[i], k);
        }
        memset(&P[3], 0, sizeof P[3]);  /* identity in G1 */
        memset(&Q[17], 0, sizeof Q[17]); /* identity in G2 */
        for (int i = 0; i < N; i++) {
            pairing(&e1, &P[i], &Q[i]);
            if (i == 3 || i == 17) TU_CHECK(fp12_is_one(&e1));
            fp12_mul(&prod, &prod, &e1);
        }
        for (int i = 0; i < N; i += PAIRING_MAX_BATCH) {
            size_t m = N - i < PAIRING_MAX_BATCH ? (size_t)(N - i) : PAIRING_MAX_BATCH;
            pairing_miller_loop(&f, P + i, Q + i, m);
            fp12_mul(&acc, &acc, &f);
        }
        pairing_final_exp(&acc, &acc);
        TU_CHECK(fp12_eq(&acc, &prod));
    }
    printf("test_pairing: ok\n");
    return 0;
}
