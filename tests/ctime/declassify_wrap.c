/* Declassification for the ctime tests (tests/CMakeLists.txt links them with -Wl,--wrap=SYMBOL): each
 * wrapper calls the real function and marks defined what is public by design -- a verdict (the
 * return value) or a public key -- exactly where libsecp256k1's own ctime test declassifies. Without
 * this, memcheck would flag every branch on the verdict and everything the compiler derives from it
 * (a loop counter reusing the register of a 0 result, say), not only real leaks. */
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <valgrind/memcheck.h>

#include "g2.h"

#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* the verdict of a point comparison (a Feldman share check: complained about in public) */
uint64_t __real_g2_eq(const g2_t *a, const g2_t *b);
uint64_t __wrap_g2_eq(const g2_t *a, const g2_t *b);
uint64_t __wrap_g2_eq(const g2_t *a, const g2_t *b) {
    uint64_t r = __real_g2_eq(a, b);
    PUBLIC(&r, sizeof r);
    return r;
}

/* X25519: fails only for a low-order peer point (public); the AEAD: the tag verdict */
int __real_EVP_PKEY_derive(EVP_PKEY_CTX *c, unsigned char *k, size_t *l);
int __wrap_EVP_PKEY_derive(EVP_PKEY_CTX *c, unsigned char *k, size_t *l);
int __wrap_EVP_PKEY_derive(EVP_PKEY_CTX *c, unsigned char *k, size_t *l) {
    int r = __real_EVP_PKEY_derive(c, k, l);
    PUBLIC(&r, sizeof r);
    if (l) PUBLIC(l, sizeof *l);
    return r;
}
int __real_EVP_CipherFinal_ex(EVP_CIPHER_CTX *c, unsigned char *o, int *l);
int __wrap_EVP_CipherFinal_ex(EVP_CIPHER_CTX *c, unsigned char *o, int *l);
int __wrap_EVP_CipherFinal_ex(EVP_CIPHER_CTX *c, unsigned char *o, int *l) {
    int r = __real_EVP_CipherFinal_ex(c, o, l);
    PUBLIC(&r, sizeof r);
    return r;
}

/* libsecp256k1: key validity verdicts (a derived key is invalid with probability ~2^-127) and the
 * public key of a private key */
int __real_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *k);
int __wrap_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *k);
int __wrap_secp256k1_ec_seckey_verify(const secp256k1_context *ctx, const unsigned char *k) {
    int r = __real_secp256k1_ec_seckey_verify(ctx, k);
    PUBLIC(&r, sizeof r);
    return r;
}
int __real_secp256k1_ec_seckey_tweak_add(const secp256k1_context *ctx, unsigned char *k, const unsigned char *t);
int __wrap_secp256k1_ec_seckey_tweak_add(const secp256k1_context *ctx, unsigned char *k, const unsigned char *t);
int __wrap_secp256k1_ec_seckey_tweak_add(const secp256k1_context *ctx, unsigned char *k, const unsigned char *t) {
    int r = __real_secp256k1_ec_seckey_tweak_add(ctx, k, t);
    PUBLIC(&r, sizeof r);
    return r;
}
int __real_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pk, const unsigned char *k);
int __wrap_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pk, const unsigned char *k);
int __wrap_secp256k1_ec_pubkey_create(const secp256k1_context *ctx, secp256k1_pubkey *pk, const unsigned char *k) {
    int r = __real_secp256k1_ec_pubkey_create(ctx, pk, k);
    PUBLIC(&r, sizeof r);
    PUBLIC(pk, sizeof *pk);
    return r;
}

