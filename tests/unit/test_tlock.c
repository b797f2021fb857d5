/* tlock / age v1: the three real tlock files (armored) open with their beacon signatures, our
 * quicknet files open with a beacon key for the round (a simulated chain) and are rejected when
 * truncated or modified; STREAM chunk boundaries, armor, wrong signatures. */
#include <stdlib.h>
#include <string.h>

#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "seal.h"
#include "sha256.h"
#include "testutil.h"

static void test_vectors(void) {
    json_t *j = tu_load_json("tlock.json");
    json_t *vs = json_object_get(j, "vectors"), *v;
    size_t i;
    json_array_foreach(vs, i, v) {
        const char *armored = json_string_value(json_object_get(v, "age_armored"));
        const char *plain = json_string_value(json_object_get(v, "plaintext"));
        const char *dst = json_string_value(json_object_get(v, "hash_to_curve_dst"));
        uint8_t sig[96], pk[96];
        long sl = tu_unhex(sig, sizeof sig, json_string_value(json_object_get(v, "signature")));
        long pl = tu_unhex(pk, sizeof pk, json_string_value(json_object_get(v, "public_key")));
        tkms_buf out = {0};
        tkms_status s =
            tkms_tlock_decrypt(&out, (const uint8_t *)armored, strlen(armored), sig, (size_t)sl, pk, (size_t)pl, dst);
        TU_CHECK(s.code == TKMS_SEAL_OK);
        TU_CHECK(out.len == strlen(plain) && memcmp(out.p, plain, out.len) == 0);
        tkms_buf_free(&out);
        /* a wrong beacon (flip a bit of the signature) is refused */
        sig[sl - 1] ^= 1;
        s = tkms_tlock_decrypt(&out, (const uint8_t *)armored, strlen(armored), sig, (size_t)sl, pk, (size_t)pl, dst);
        TU_CHECK(s.code != TKMS_SEAL_OK);
        sig[sl - 1] ^= 1;
        /* the quicknet one also opens without naming the key (it is embedded) */
        if (i == 0) {
            s = tkms_tlock_decrypt(&out, (const uint8_t *)armored, strlen(armored), sig, (size_t)sl, NULL, 0, NULL);
            TU_CHECK(s.code == TKMS_SEAL_OK && out.len == strlen(plain));
            tkms_buf_free(&out);
        }
        fprintf(stderr, "tlock: %s vector opens\n", json_string_value(json_object_get(v, "chain")));
    }
    json_decref(j);
}

/* A simulated quicknet-like chain with a known secret, so that files we write can be opened. */
static void test_roundtrip(void) {
    uint8_t sb[64];
    fr_t s;
    uint64_t sc[4];
    tu_randbytes(sb, sizeof sb);
    fr_from_bytes_wide(&s, sb, sizeof sb);
    fr_to_scalar(sc, &s);
    tkms_tlock_chain chain = TKMS_TLOCK_QUICKNET;
    chain.name = "sim";
    g2_t g, m;
    g2_affine_t ma;
    g2_from_affine(&g, &G2_GENERATOR);
    g2_mul(&m, &g, sc);
    g2_to_affine(&ma, &m);
    g2_serialize(chain.public_key, &ma);
    memset(chain.chain_hash, 0xab, 32);
    size_t sizes[] = {0, 1, 100, 65535, 65536, 65537, 2 * 65536, 200000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *pt = malloc(n + 1);
        tu_randbytes(pt, n);
        uint64_t round = 1 + tu_rand64() % 100000000;
        uint8_t be[8], id[32], sig[48];
        for (int b = 0; b < 8; b++) be[b] = (uint8_t)(round >> (56 - 8 * b));
        sha256(id, be, 8);
        g1_t h, kk;
        g1_affine_t ka;
        h2c_hash_to_g1(&h, id, 32, (const uint8_t *)chain.dst, strlen(chain.dst));
        g1_mul(&kk, &h, sc);
        g1_to_affine(&ka, &kk);
        g1_serialize(sig, &ka);
        int armor = (int)(k & 1);
        tkms_buf f = {0}, out = {0};
        TU_CHECK(tkms_tlock_encrypt(&f, &chain, round, pt, n, armor).code == TKMS_SEAL_OK);
        TU_CHECK(tkms_tlock_decrypt(&out, f.p, f.len, sig, 48, chain.public_key, 96, NULL).code == TKMS_SEAL_OK);
        TU_CHECK(out.len == n && (n == 0 || memcmp(out.p, pt, n) == 0));
        tkms_buf_free(&out);
        if (!armor) {
            /* truncation anywhere, and a flipped bit anywhere (sampled), are rejected */
            for (int r = 0; r < 12; r++) {
                size_t cut = (size_t)(tu_rand64() % f.len);
                if (r == 0) cut = f.len - 1;
                if (r == 1 && f.len > 16) cut = f.len - 16;
                TU_CHECK(tkms_tlock_decrypt(&out, f.p, cut, sig, 48, chain.public_key, 96, NULL).code != TKMS_SEAL_OK);
                size_t pos = (size_t)(tu_rand64() % f.len);
                uint8_t saved = f.p[pos];
                f.p[pos] ^= (uint8_t)(1u << (tu_rand64() % 8));
                TU_CHECK(tkms_tlock_decrypt(&out, f.p, f.len, sig, 48, chain.public_key, 96, NULL).code != TKMS_SEAL_OK);
                f.p[pos] = saved;
                tkms_buf_free(&out);
            }
        }
        /* the beacon of another round (here: a different signature) is refused */
        sig[10] ^= 1;
        TU_CHECK(tkms_tlock_decrypt(&out, f.p, f.len, sig, 48, chain.public_key, 96, NULL).code != TKMS_SEAL_OK);
        tkms_buf_free(&f);
        free(pt);
    }
}

int main(void) {
    tu_seed();
    test_vectors();
    test_roundtrip();
    fprintf(stderr, "tlock: round trips and negatives ok\n");
    return 0;
}
