/* Ed25519 (RFC 8032 §7.1) through the node identity module: public keys, deterministic signatures,
 * verification, and rejection of altered messages, signatures and keys. */
#include <string.h>

#include "identity.h"
#include "testutil.h"

int main(void) {
    tu_seed();
    json_t *doc = tu_load_json("ed25519/rfc8032.json");
    json_t *vs = json_object_get(doc, "vectors");
    size_t i;
    json_t *v;
    int count = 0;
    json_array_foreach(vs, i, v) {
        uint8_t sk[32], pk[32], sig[64], got[64], gpk[32];
        static uint8_t msg[2048];
        TU_CHECK(tu_unhex(sk, 32, json_string_value(json_object_get(v, "secret_key"))) == 32);
        TU_CHECK(tu_unhex(pk, 32, json_string_value(json_object_get(v, "public_key"))) == 32);
        TU_CHECK(tu_unhex(sig, 64, json_string_value(json_object_get(v, "signature"))) == 64);
        long ml = tu_unhex(msg, sizeof msg, json_string_value(json_object_get(v, "message")));
        TU_CHECK(ml >= 0);
        TU_CHECK(tkms_ed25519_pubkey(gpk, sk));
        TU_CHECK(memcmp(gpk, pk, 32) == 0);
        TU_CHECK(tkms_ed25519_sign(got, sk, msg, (size_t)ml));
        TU_CHECK(memcmp(got, sig, 64) == 0);
        TU_CHECK(tkms_ed25519_verify(sig, pk, msg, (size_t)ml));
        got[(size_t)(tu_rand64() % 64)] ^= 1;
        TU_CHECK(!tkms_ed25519_verify(got, pk, msg, (size_t)ml));
        if (ml > 0) {
            msg[0] ^= 0x80;
            TU_CHECK(!tkms_ed25519_verify(sig, pk, msg, (size_t)ml));
            msg[0] ^= 0x80;
        }
        TU_CHECK(!tkms_ed25519_verify(sig, pk, msg, (size_t)ml + 1));
        gpk[5] ^= 4;
        TU_CHECK(!tkms_ed25519_verify(sig, gpk, msg, (size_t)ml));
        /* S >= L (S + L) must be rejected: non-canonical signatures are malleable */
        static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                      0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                      0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
        memcpy(got, sig, 64);
        unsigned c = 0;
        for (int k = 0; k < 32; k++) {
            c += (unsigned)got[32 + k] + L[k];
            got[32 + k] = (uint8_t)c;
            c >>= 8;
        }
        TU_CHECK(!tkms_ed25519_verify(got, pk, msg, (size_t)ml));
        count++;
    }
    TU_CHECK(count == 5);
    /* small-order keys: with the all-zero key and signature (both of order 4) OpenSSL's
     * cofactorless check accepts about one message in four; none may verify */
    uint8_t zk[32] = {0}, zs[64] = {0}, m[16];
    int forged = 0;
    for (int i = 0; i < 256; i++) {
        tu_randbytes(m, sizeof m);
        forged += tkms_ed25519_verify(zs, zk, m, sizeof m);
    }
    TU_CHECK(forged == 0);
    static const char *const weak[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        uint8_t p[32];
        TU_CHECK(tu_unhex(p, 32, weak[i]) == 32);
        TU_CHECK(tkms_ed25519_small_order(p));
    }
    tkms_identity real;
    uint8_t rs[32];
    tu_randbytes(rs, 32);
    TU_CHECK(tkms_identity_from_seed(&real, rs) && !tkms_ed25519_small_order(real.sign_pk));
    /* identities from seeds: deterministic, and the two key pairs differ */
    tkms_identity a, b;
    uint8_t seed[32];
    tu_randbytes(seed, 32);
    TU_CHECK(tkms_identity_from_seed(&a, seed));
    TU_CHECK(tkms_identity_from_seed(&b, seed));
    TU_CHECK(memcmp(&a, &b, sizeof a) == 0);
    TU_CHECK(memcmp(a.sign_pk, a.kem_pk, 32) != 0);
    uint8_t s1[32], s2[32];
    tkms_identity c2;
    seed[0] ^= 1;
    TU_CHECK(tkms_identity_from_seed(&c2, seed));
    TU_CHECK(tkms_x25519(s1, a.kem_sk, c2.kem_pk) && tkms_x25519(s2, c2.kem_sk, a.kem_pk));
    TU_CHECK(memcmp(s1, s2, 32) == 0);
    printf("ed25519: %d RFC 8032 vectors ok\n", count);
    json_decref(doc);
    return 0;
}
