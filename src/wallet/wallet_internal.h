/* Internal helpers shared by the wallet modules: the embedded wordlist, the libsecp256k1 context,
 * OpenSSL hash/MAC/KDF wrappers and small constant-time utilities. Not installed. */
#ifndef TKMS_WALLET_INTERNAL_H
#define TKMS_WALLET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

#include "tkms/wallet.h"
#include "proto_bytes.h"

/* BIP-39 English list, NUL-padded rows (generated: src/wallet/bip39_english.c). */
extern const char tkms_bip39_english[2048][9];

/* A process-wide, randomised signing context (created once, thread-safe). NULL if creation failed. */
const secp256k1_context *tkms_secp_ctx(void);

/* One-shot HMAC-SHA512; returns 1 on success. */
int tkms_hmac_sha512(uint8_t out[64], const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len);
/* One-shot SHA-256. */
void tkms_sha256(uint8_t out[32], const uint8_t *in, size_t len);
/* HKDF-SHA256 (extract + expand); returns 1 on success. */
int tkms_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const uint8_t *info, size_t info_len);

/* Base58Check (payload || first 4 bytes of SHA-256d). */
/* The count of leading zero digits among size base-58 digits, without a branch on them (the
 * encoded string's length, which is public; tests/ctime declassifies the result). */
size_t tkms_base58_leading_zero_digits(const uint8_t *digits, size_t size);
tkms_wallet_status tkms_base58check_encode(char *out, size_t cap, const uint8_t *payload, size_t len);
/* Decodes and checks; *len gets the payload length. */
tkms_wallet_status tkms_base58check_decode(uint8_t *payload, size_t *len, size_t cap, const char *in);

/* Wipes n bytes (OPENSSL_cleanse). */
void tkms_wallet_wipe(void *p, size_t n);


/* 1 if a < b as 32-byte big-endian integers, in time independent of the values. */
static inline int tkms_ct_lt_be32bytes(const uint8_t a[32], const uint8_t b[32]) {
    /* Borrow of a - b, computed from the least significant byte upwards. */
    uint32_t borrow = 0;
    for (int i = 31; i >= 0; i--) {
        uint32_t d = (uint32_t)a[i] - (uint32_t)b[i] - borrow;
        borrow = (d >> 31) & 1;
    }
    return (int)borrow;
}
/* 1 if the 32 bytes are all zero, constant time. */
static inline int tkms_ct_is_zero32(const uint8_t a[32]) {
    uint32_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= a[i];
    return (int)(((acc | (0u - acc)) >> 31) ^ 1u);
}

#endif
