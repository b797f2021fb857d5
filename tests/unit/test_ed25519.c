/* Ed25519 (RFC 8032 §7.1) through the node identity module: public keys, deterministic signatures,
 * verification, and rejection of altered messages, signatures and keys. */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <string.h>

#include "identity.h"
#include "testutil.h"

/* Plain OpenSSL Ed25519 verification (cofactorless, no small-order filter): shows that the
 * degenerate signatures below are ones the library alone would accept. */
static int raw_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t *msg, size_t len) {
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 && EVP_DigestVerify(md, sig, 64, msg, len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok;
}

/* x mod L as 32 little-endian bytes, x given as n little-endian bytes */
static void mod_l(uint8_t out[32], const uint8_t *x, size_t n, BN_CTX *bc) {
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    BIGNUM *a = BN_lebin2bn(x, (int)n, NULL), *l = BN_lebin2bn(L, 32, NULL), *r = BN_new();
    TU_CHECK(a && l && r && BN_nnmod(r, a, l, bc) == 1 && BN_bn2lebinpad(r, out, 32) == 32);
    BN_free(a), BN_free(l), BN_free(r);
}

/* The secret scalar a of an RFC 8032 seed (clamped SHA-512 prefix), reduced mod L. */
static void secret_scalar(uint8_t a[32], const uint8_t seed[32], BN_CTX *bc) {
    uint8_t h[64];
    unsigned int hl = 0;
    TU_CHECK(EVP_Digest(seed, 32, h, &hl, EVP_sha512(), NULL) == 1 && hl == 64);
    h[0] &= 248, h[31] &= 127, h[31] |= 64;
    mod_l(a, h, 32, bc);
}

/* k = SHA-512(R || A || M) mod L */
static void challenge(uint8_t k[32], const uint8_t r[32], const uint8_t pk[32], const uint8_t *m, size_t n, BN_CTX *bc) {
    uint8_t buf[32 + 32 + 64], h[64];
    unsigned int hl = 0;
    TU_CHECK(n <= 64);
    memcpy(buf, r, 32), memcpy(buf + 32, pk, 32), memcpy(buf + 64, m, n);
    TU_CHECK(EVP_Digest(buf, 64 + n, h, &hl, EVP_sha512(), NULL) == 1 && hl == 64);
    mod_l(k, h, 64, bc);
}

/* s = k * a mod L */
static void mul_l(uint8_t s[32], const uint8_t k[32], const uint8_t a[32], BN_CTX *bc) {
    uint8_t wide[64] = {0};
    BIGNUM *x = BN_lebin2bn(k, 32, NULL), *y = BN_lebin2bn(a, 32, NULL), *z = BN_new();
    TU_CHECK(x && y && z && BN_mul(z, x, y, bc) == 1 && BN_bn2lebinpad(z, wide, 64) == 64);
    mod_l(s, wide, 64, bc);
    BN_free(x), BN_free(y), BN_free(z);
}

/* Degenerate signatures that OpenSSL's cofactorless verification accepts and tkms_ed25519_verify
 * must refuse: (1) a small-order public key (the all-zero encoding, order 4) with an honest R:
 * R = [r]B, S = r verifies whenever [k]A = O, i.e. for one message in four, without any secret;
 * (2) an honest key with R = the identity and S = k * a, which verifies for every message. */
static void small_order_forgeries(void) {
    BN_CTX *bc = BN_CTX_new();
    TU_CHECK(bc);
    uint8_t zk[32] = {0}, seed[32], sig[64], m[32], k[32];
    int raw = 0, ours = 0;
    for (int i = 0; i < 128; i++) {
        tu_randbytes(seed, 32);
        TU_CHECK(tkms_ed25519_pubkey(sig, seed)); /* R = [r]B, not of small order */
        TU_CHECK(!tkms_ed25519_small_order(sig));
        secret_scalar(sig + 32, seed, bc); /* S = r mod L */
        tu_randbytes(m, sizeof m);
        raw += raw_verify(sig, zk, m, sizeof m);
        ours += tkms_ed25519_verify(sig, zk, m, sizeof m);
    }
    printf("ed25519: small-order key with honest R: OpenSSL alone accepts %d of 128, tkms %d\n", raw, ours);
    TU_CHECK(raw > 0); /* about 32: the input is one the library accepts */
    TU_CHECK(ours == 0);
    tkms_identity id;
    tu_randbytes(seed, 32);
    TU_CHECK(tkms_identity_from_seed(&id, seed));
    uint8_t a[32];
    secret_scalar(a, id.sign_sk, bc);
    memset(sig, 0, 32);
    sig[0] = 1; /* R = the identity (0, 1) */
    TU_CHECK(tkms_ed25519_small_order(sig));
    for (int i = 0; i < 8; i++) {
        tu_randbytes(m, sizeof m);
        challenge(k, sig, id.sign_pk, m, sizeof m, bc);
        mul_l(sig + 32, k, a, bc); /* [S]B = [k]A = R + [k]A */
        TU_CHECK(raw_verify(sig, id.sign_pk, m, sizeof m));
        TU_CHECK(!tkms_ed25519_verify(sig, id.sign_pk, m, sizeof m));
    }
    /* the same key signs and verifies normally */
    TU_CHECK(tkms_ed25519_sign(sig, id.sign_sk, m, sizeof m) && tkms_ed25519_verify(sig, id.sign_pk, m, sizeof m));
    tkms_identity_wipe(&id);
    BN_CTX_free(bc);
}

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
    small_order_forgeries();
    printf("ed25519: %d RFC 8032 vectors ok\n", count);
    json_decref(doc);
    return 0;
}
