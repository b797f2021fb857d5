/* HPKE (RFC 9180) base mode DHKEM(X25519)/HKDF-SHA256/ChaCha20-Poly1305 against every mode-0
 * aead-3 vector in tests/vectors/hpke/vectors.json (keys, shared secret, key schedule, all
 * encryptions in sequence, exports), plus single-shot round trips and tamper rejection. */
#include <string.h>

#include "hpke.h"
#include "testutil.h"

static size_t hex_field(uint8_t *out, size_t cap, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    TU_CHECK(json_is_string(v));
    long n = tu_unhex(out, cap, json_string_value(v));
    TU_CHECK(n >= 0);
    return (size_t)n;
}

static int run_vector(json_t *v) {
    uint8_t ikmE[64], ikmR[64], skR[32], pkR[32], sk[32], pk[32], enc[32], ss[32], info[256], want[512];
    size_t ikmE_n = hex_field(ikmE, sizeof ikmE, v, "ikmE"), ikmR_n = hex_field(ikmR, sizeof ikmR, v, "ikmR");
    size_t info_n = hex_field(info, sizeof info, v, "info");
    hex_field(skR, 32, v, "skRm");
    hex_field(pkR, 32, v, "pkRm");
    TU_CHECK(tkms_hpke_derive_keypair(sk, pk, ikmR, ikmR_n));
    TU_CHECK(memcmp(sk, skR, 32) == 0 && memcmp(pk, pkR, 32) == 0);
    hex_field(want, 32, v, "skEm");
    TU_CHECK(tkms_hpke_derive_keypair(sk, pk, ikmE, ikmE_n));
    TU_CHECK(memcmp(sk, want, 32) == 0);
    tkms_hpke_ctx s, r;
    TU_CHECK(tkms_hpke_setup_s(&s, enc, ss, pkR, info, info_n, ikmE, ikmE_n));
    hex_field(want, 32, v, "enc");
    TU_CHECK(memcmp(enc, want, 32) == 0);
    hex_field(want, 32, v, "shared_secret");
    TU_CHECK(memcmp(ss, want, 32) == 0);
    hex_field(want, 32, v, "key");
    TU_CHECK(memcmp(s.key, want, 32) == 0);
    hex_field(want, 12, v, "base_nonce");
    TU_CHECK(memcmp(s.base_nonce, want, 12) == 0);
    hex_field(want, 32, v, "exporter_secret");
    TU_CHECK(memcmp(s.exporter_secret, want, 32) == 0);
    TU_CHECK(tkms_hpke_setup_r(&r, ss, enc, skR, info, info_n));
    TU_CHECK(memcmp(r.key, s.key, 32) == 0);
    json_t *encs = json_object_get(v, "encryptions");
    size_t i, count = 0;
    json_t *e;
    json_array_foreach(encs, i, e) {
        uint8_t aad[256], pt[256], ct[512], got[512];
        size_t aad_n = hex_field(aad, sizeof aad, e, "aad"), pt_n = hex_field(pt, sizeof pt, e, "pt");
        size_t ct_n = hex_field(ct, sizeof ct, e, "ct");
        TU_CHECK(ct_n == pt_n + 16);
        TU_CHECK(tkms_hpke_ctx_seal(&s, got, aad, aad_n, pt, pt_n));
        TU_CHECK(memcmp(got, ct, ct_n) == 0);
        TU_CHECK(tkms_hpke_ctx_open(&r, got, aad, aad_n, ct, ct_n));
        TU_CHECK(memcmp(got, pt, pt_n) == 0);
        count++;
    }
    json_t *exps = json_object_get(v, "exports");
    json_array_foreach(exps, i, e) {
        uint8_t ctx[256], got[256];
        size_t ctx_n = hex_field(ctx, sizeof ctx, e, "exporter_context");
        size_t L = (size_t)json_integer_value(json_object_get(e, "L"));
        size_t wn = hex_field(want, sizeof want, e, "exported_value");
        TU_CHECK(wn == L);
        TU_CHECK(tkms_hpke_export(&s, got, L, ctx, ctx_n));
        TU_CHECK(memcmp(got, want, L) == 0);
        TU_CHECK(tkms_hpke_export(&r, got, L, ctx, ctx_n));
        TU_CHECK(memcmp(got, want, L) == 0);
        count++;
    }
    return (int)count;
}

static void single_shot(void) {
    uint8_t seed[32], sk[32], pk[32], ikm[32], pt[100], ct[100 + 48], back[100];
    for (int it = 0; it < 50; it++) {
        tu_randbytes(seed, 32);
        tu_randbytes(ikm, 32);
        size_t n = (size_t)(tu_rand64() % 100);
        tu_randbytes(pt, n);
        TU_CHECK(tkms_hpke_derive_keypair(sk, pk, seed, 32));
        TU_CHECK(tkms_hpke_seal(ct, pk, (const uint8_t *)"info", 4, (const uint8_t *)"aad", 3, pt, n, ikm));
        TU_CHECK(tkms_hpke_open(back, sk, (const uint8_t *)"info", 4, (const uint8_t *)"aad", 3, ct, n + 48));
        TU_CHECK(memcmp(back, pt, n) == 0);
        /* wrong aad, wrong info, flipped bit anywhere, truncation: all rejected */
        TU_CHECK(!tkms_hpke_open(back, sk, (const uint8_t *)"info", 4, (const uint8_t *)"aaD", 3, ct, n + 48));
        TU_CHECK(!tkms_hpke_open(back, sk, (const uint8_t *)"inf0", 4, (const uint8_t *)"aad", 3, ct, n + 48));
        size_t pos = (size_t)(tu_rand64() % (n + 48));
        ct[pos] ^= (uint8_t)(1u << (tu_rand64() % 8));
        TU_CHECK(!tkms_hpke_open(back, sk, (const uint8_t *)"info", 4, (const uint8_t *)"aad", 3, ct, n + 48));
        TU_CHECK(!tkms_hpke_open(back, sk, (const uint8_t *)"info", 4, (const uint8_t *)"aad", 3, ct, 47));
    }
    /* a low-order recipient key (all zero) is refused */
    uint8_t zero[32] = {0};
    TU_CHECK(!tkms_hpke_seal(ct, zero, NULL, 0, NULL, 0, pt, 1, ikm));
}

int main(void) {
    tu_seed();
    json_t *all = tu_load_json("hpke/vectors.json");
    size_t i, used = 0, checks = 0;
    json_t *v;
    json_array_foreach(all, i, v) {
        if (json_integer_value(json_object_get(v, "mode")) != 0 || json_integer_value(json_object_get(v, "kem_id")) != 32 ||
            json_integer_value(json_object_get(v, "kdf_id")) != 1 || json_integer_value(json_object_get(v, "aead_id")) != 3)
            continue;
        checks += (size_t)run_vector(v);
        used++;
    }
    TU_CHECK(used >= 1);
    single_shot();
    printf("hpke: %zu vector sets, %zu encryptions+exports checked\n", used, checks);
    json_decref(all);
    return 0;
}
