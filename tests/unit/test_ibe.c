/* Boneh-Franklin IBE (tlock-compatible): the three real tlock ciphertexts decrypt to their file keys
 * after their beacons verify, the GT/H2 vector holds, round trips in both orientations, and every
 * modified, truncated or mis-keyed ciphertext is rejected. */
#include <stdlib.h>
#include <string.h>

#include "h2c.h"
#include "fr.h"
#include "ibe.h"
#include "pairing.h"
#include "sha256.h"
#include "testutil.h"

static void round_id(uint8_t id[32], uint64_t round) {
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(round >> (56 - 8 * i));
    sha256(id, be, 8);
}

static void test_gt_vector(void) {
    json_t *j = tu_load_json("tlock.json");
    const char *want = json_string_value(json_object_get(json_object_get(j, "gt_serialisation"), "expected_h2_16"));
    fp12_t gt;
    uint8_t b[576], h[16], w[16];
    pairing(&gt, &G1_GENERATOR, &G2_GENERATOR);
    gt_to_bytes(b, &gt);
    ibe_h2(h, 16, b);
    TU_CHECK(tu_unhex(w, 16, want) == 16);
    TU_CHECK(memcmp(h, w, 16) == 0);
    json_decref(j);
}

static void test_tlock_vectors(void) {
    json_t *j = tu_load_json("tlock.json");
    json_t *vs = json_object_get(j, "vectors");
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v) {
        const char *sg = json_string_value(json_object_get(v, "signature_group"));
        const char *dst = json_string_value(json_object_get(v, "hash_to_curve_dst"));
        uint64_t round = (uint64_t)json_integer_value(json_object_get(v, "round"));
        uint8_t pk[96], sig[96], ct[256], fk[16], out[32], id[32];
        long pkl = tu_unhex(pk, sizeof pk, json_string_value(json_object_get(v, "public_key")));
        long sl = tu_unhex(sig, sizeof sig, json_string_value(json_object_get(v, "signature")));
        long cl = tu_unhex(ct, sizeof ct, json_string_value(json_object_get(v, "stanza_body_hex")));
        TU_CHECK(tu_unhex(fk, 16, json_string_value(json_object_get(v, "file_key_hex"))) == 16);
        round_id(id, round);
        if (strcmp(sg, "g1") == 0) {
            g1_affine_t s;
            g2_affine_t p;
            TU_CHECK(sl == 48 && pkl == 96 && cl == 128);
            TU_CHECK(g1_deserialize(&s, sig, 48, 0) == G1_OK);
            TU_CHECK(g2_deserialize(&p, pk, 96, 0) == G2_OK);
            /* the beacon first: e(sig, G2) == e(H(id), pk) */
            g1_t h;
            g1_affine_t P[2];
            g2_affine_t Q[2] = {G2_GENERATOR, p};
            h2c_hash_to_g1(&h, id, 32, (const uint8_t *)dst, strlen(dst));
            g1_to_affine(&P[1], &h);
            g1_affine_neg(&P[1], &P[1]);
            P[0] = s;
            TU_CHECK(pairing_product_is_one(P, Q, 2));
            TU_CHECK(ibe_decrypt_mpk_g2(out, &s, ct, 128));
            TU_CHECK(memcmp(out, fk, 16) == 0);
            /* any other round's key fails */
            round_id(id, round + 1);
            g1_t k2;
            g1_affine_t k2a;
            h2c_hash_to_g1(&k2, id, 32, (const uint8_t *)dst, strlen(dst));
            g1_to_affine(&k2a, &k2);
            TU_CHECK(!ibe_decrypt_mpk_g2(out, &k2a, ct, 128));
        } else {
            g2_affine_t s;
            g1_affine_t p;
            TU_CHECK(sl == 96 && pkl == 48 && cl == 80);
            TU_CHECK(g2_deserialize(&s, sig, 96, 0) == G2_OK);
            TU_CHECK(g1_deserialize(&p, pk, 48, 0) == G1_OK);
            g2_t h;
            g1_affine_t P[2] = {G1_GENERATOR, p};
            g2_affine_t Q[2];
            h2c_hash_to_g2(&h, id, 32, (const uint8_t *)dst, strlen(dst));
            g2_to_affine(&Q[1], &h);
            g1_affine_neg(&P[1], &P[1]);
            Q[0] = s;
            TU_CHECK(pairing_product_is_one(P, Q, 2));
            TU_CHECK(ibe_decrypt_mpk_g1(out, &s, ct, 80));
            TU_CHECK(memcmp(out, fk, 16) == 0);
        }
        fprintf(stderr, "ibe: tlock %s round %llu decrypts\n", json_string_value(json_object_get(v, "chain")),
                (unsigned long long)round);
    }
    json_decref(j);
}

/* Master key s, MPK = s*G, key = s*H(id); round trip, then every kind of tampering. */
static void test_roundtrips(ibe_orientation o, int reps) {
    const uint8_t dst[] = "TKMS-V1-APP-KEY_BLS12381G1_XMD:SHA-256_SSWU_RO_";
    for (int rep = 0; rep < reps; rep++) {
        uint8_t sb[64], id[20], msg[32], sigma[32], ct[96 + 64], out[32];
        fr_t s;
        uint64_t sc[4];
        tu_randbytes(sb, sizeof sb);
        fr_from_bytes_wide(&s, sb, sizeof sb);
        fr_to_scalar(sc, &s);
        tu_randbytes(id, sizeof id);
        size_t len = 1 + (size_t)(tu_rand64() % 32);
        if (rep == 0) len = 32;
        tu_randbytes(msg, len);
        tu_randbytes(sigma, len);
        size_t cl = ibe_ciphertext_len(o, len), ul = o == IBE_MPK_G2 ? 96 : 48;
        TU_CHECK(ibe_message_len(o, cl) == len);
        g1_affine_t k1, m1;
        g2_affine_t k2, m2;
        if (o == IBE_MPK_G2) {
            g2_t g, m;
            g1_t h, k;
            g2_from_affine(&g, &G2_GENERATOR);
            g2_mul(&m, &g, sc);
            g2_to_affine(&m2, &m);
            h2c_hash_to_g1(&h, id, 20, dst, sizeof dst - 1);
            g1_mul(&k, &h, sc);
            g1_to_affine(&k1, &k);
            TU_CHECK(ibe_encrypt_mpk_g2(ct, &m2, dst, sizeof dst - 1, id, 20, msg, len, sigma));
            TU_CHECK(ibe_decrypt_mpk_g2(out, &k1, ct, cl));
        } else {
            g1_t g, m;
            g2_t h, k;
            g1_from_affine(&g, &G1_GENERATOR);
            g1_mul(&m, &g, sc);
            g1_to_affine(&m1, &m);
            h2c_hash_to_g2(&h, id, 20, dst, sizeof dst - 1);
            g2_mul(&k, &h, sc);
            g2_to_affine(&k2, &k);
            TU_CHECK(ibe_encrypt_mpk_g1(ct, &m1, dst, sizeof dst - 1, id, 20, msg, len, sigma));
            TU_CHECK(ibe_decrypt_mpk_g1(out, &k2, ct, cl));
        }
        TU_CHECK(memcmp(out, msg, len) == 0);
#define DEC(c, l) (o == IBE_MPK_G2 ? ibe_decrypt_mpk_g2(out, &k1, c, l) : ibe_decrypt_mpk_g1(out, &k2, c, l))
        if (rep < 2) {
            /* every single-bit flip of every byte position class is rejected */
            for (size_t pos = 0; pos < cl; pos++) {
                uint8_t bad[160];
                memcpy(bad, ct, cl);
                bad[pos] ^= (uint8_t)(1u << (tu_rand64() % 8));
                TU_CHECK(!DEC(bad, cl));
            }
        }
        /* truncated / extended */
        TU_CHECK(!DEC(ct, cl - 1));
        TU_CHECK(!DEC(ct, cl - 2) || len == 1);
        TU_CHECK(!DEC(ct, ul));
        /* U replaced by the identity, or by a point outside the subgroup */
        uint8_t bad[160];
        memcpy(bad, ct, cl);
        memset(bad, 0, ul);
        bad[0] = 0xc0;
        TU_CHECK(!DEC(bad, cl));
        int found = 0;
        for (int tries = 0; tries < 100 && !found; tries++) {
            tu_randbytes(bad, ul);
            bad[0] = (uint8_t)(0x80 | (bad[0] & 0x0f));
            if (ul == 96) bad[48] &= 0x0f;
            int st = ul == 96 ? (int)g2_deserialize(&k2, bad, 96, 0) : (int)g1_deserialize(&m1, bad, 48, 0);
            if (st == (ul == 96 ? (int)G2_ERR_SUBGROUP : (int)G1_ERR_SUBGROUP)) found = 1;
        }
        TU_CHECK(found);
        if (o == IBE_MPK_G1) {
            /* restore k2 (reused as scratch above) */
            g2_t h, k;
            h2c_hash_to_g2(&h, id, 20, dst, sizeof dst - 1);
            g2_mul(&k, &h, sc);
            g2_to_affine(&k2, &k);
        }
        TU_CHECK(!DEC(bad, cl));
        /* the re-encryption check also catches a valid U that is not H3(sigma, msg)*G */
        memcpy(bad, ct, cl);
        if (o == IBE_MPK_G2) {
            g2_affine_t g = G2_GENERATOR;
            g2_serialize(bad, &g);
        } else {
            g1_affine_t g = G1_GENERATOR;
            g1_serialize(bad, &g);
        }
        TU_CHECK(!DEC(bad, cl));
        /* wrong identity's key */
        if (o == IBE_MPK_G2) {
            g1_affine_t tmp = k1;
            g1_t h, k;
            id[0] ^= 1;
            h2c_hash_to_g1(&h, id, 20, dst, sizeof dst - 1);
            g1_mul(&k, &h, sc);
            g1_to_affine(&k1, &k);
            TU_CHECK(!DEC(ct, cl));
            k1 = tmp;
            TU_CHECK(DEC(ct, cl));
        }
        /* the identity as the key: refused, and nothing of a decryption left in out */
        {
            g1_affine_t s1 = k1;
            g2_affine_t s2 = k2;
            memset(&k1, 0, sizeof k1), memset(&k2, 0, sizeof k2); /* affine (0, 0): the identity */
            memset(out, 0x5a, sizeof out);
            TU_CHECK(!DEC(ct, cl));
            for (size_t i = 0; i < ibe_message_len(o, cl); i++) TU_CHECK(out[i] == 0);
            k1 = s1, k2 = s2;
            TU_CHECK(DEC(ct, cl));
        }
#undef DEC
    }
    /* bad lengths */
    uint8_t ct[200], m[40] = {0}, sg[40] = {0};
    g2_affine_t g2 = G2_GENERATOR;
    g1_affine_t g1 = G1_GENERATOR;
    TU_CHECK(!ibe_encrypt_mpk_g2(ct, &g2, (const uint8_t *)"d", 1, m, 1, m, 0, sg));
    TU_CHECK(!ibe_encrypt_mpk_g2(ct, &g2, (const uint8_t *)"d", 1, m, 1, m, 33, sg));
    TU_CHECK(!ibe_encrypt_mpk_g1(ct, &g1, (const uint8_t *)"d", 1, m, 1, m, 33, sg));
    TU_CHECK(ibe_message_len(IBE_MPK_G2, 96 + 66) == 0 && ibe_message_len(IBE_MPK_G2, 97) == 0);
}

int main(void) {
    tu_seed();
    test_gt_vector();
    test_tlock_vectors();
    test_roundtrips(IBE_MPK_G2, 20);
    test_roundtrips(IBE_MPK_G1, 20);
    fprintf(stderr, "ibe: round trips and tampering ok\n");
    return 0;
}
