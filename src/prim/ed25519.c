/* Ed25519 (RFC 8032) and X25519 (RFC 7748) through OpenSSL raw-key EVP calls (prim.h): the one
 * wrapper of each in the tree; the Ed25519 verifier is the only one and refuses small-order keys
 * and R. */
#include "prim.h"

#include <openssl/evp.h>
#include <string.h>

#include "ct.h"

int tkms_ed25519_pubkey(uint8_t pk[32], const uint8_t sk[32]) {
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
    size_t len = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    return ok;
}

int tkms_ed25519_sign(uint8_t sig[64], const uint8_t sk[32], const uint8_t *msg, size_t msg_len) {
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t len = 64;
    int ok = k && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(md, sig, &len, msg, msg_len) == 1 && len == 64;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok;
}

/* Encodings (sign bit cleared) of the points of small order and of y = p, p + 1, which OpenSSL's
 * cofactorless verification accepts as keys or R: with such a key a forged signature verifies for
 * about one message in four (found with an all-zero key and signature). Public data: no need for
 * constant time. */
static const uint8_t SMALL_ORDER[7][32] = {
    {0},
    {1},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

int tkms_ed25519_small_order(const uint8_t p[32]) {
    uint8_t y[32];
    memcpy(y, p, 32);
    y[31] &= 0x7f;
    for (size_t i = 0; i < 7; i++)
        if (!memcmp(y, SMALL_ORDER[i], 32)) return 1;
    return 0;
}

int tkms_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t *msg, size_t msg_len) {
    if (tkms_ed25519_small_order(pk) || tkms_ed25519_small_order(sig)) return 0;
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestVerify(md, sig, 64, msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok;
}

int tkms_x25519_pubkey(uint8_t pk[32], const uint8_t sk[32]) {
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    size_t len = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    return ok;
}

int tkms_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t peer_pk[32]) {
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pk, 32);
    EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    size_t len = 32;
    /* OpenSSL fails the derivation itself on an all-zero output (low-order peer point). */
    int ok = k && p && c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, p) == 1 &&
             EVP_PKEY_derive(c, out, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    if (ok) {
        static const uint8_t zero[32];
        ok = !ct_memeq(out, zero, 32);
    }
    if (!ok) tkms_wipe(out, 32);
    return ok;
}

