/* Node identity keys: Ed25519 (signs every protocol message) and X25519 (receives encrypted
 * shares), both through OpenSSL's one-shot raw-key EVP interfaces. */
#ifndef TKMS_DKG_IDENTITY_H
#define TKMS_DKG_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

/* A node's long-term keys. sign_sk is the 32-byte Ed25519 seed (RFC 8032 "secret key"). */
typedef struct {
    uint8_t sign_sk[32], sign_pk[32];
    uint8_t kem_sk[32], kem_pk[32];
} tkms_identity;

/* Ed25519 public key from a 32-byte seed. Returns 1/0. */
int tkms_ed25519_pubkey(uint8_t pk[32], const uint8_t sk[32]);
/* Pure Ed25519 (RFC 8032) signature over msg. Returns 1/0. */
int tkms_ed25519_sign(uint8_t sig[64], const uint8_t sk[32], const uint8_t *msg, size_t msg_len);
/* Returns 1 if sig is a valid signature of msg under pk, else 0 (OpenSSL rejects non-canonical S). */
/* Returns 1 iff sig is a valid Ed25519 signature of msg under pk (RFC 8032), and neither pk nor R
 * (sig[0..31]) encodes a point of small order (see tkms_ed25519_small_order). */
int tkms_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t *msg, size_t msg_len);
/* 1 if p encodes a point of order dividing 8 (or y = p, p + 1): never a valid key or R. */
int tkms_ed25519_small_order(const uint8_t p[32]);

/* X25519 public key from a private key; and the raw shared secret (returns 0 on an all-zero
 * result, i.e. a low-order peer key). */
int tkms_x25519_pubkey(uint8_t pk[32], const uint8_t sk[32]);
int tkms_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t peer_pk[32]);

/* Derives both key pairs from one 32-byte secret seed: sign_sk = HKDF(seed, "TKMS-V1-ID", "ed25519"),
 * kem_sk = HKDF(seed, "TKMS-V1-ID", "x25519"). Deterministic; for tests, simulators and key files.
 * Returns 1/0. */
int tkms_identity_from_seed(tkms_identity *id, const uint8_t seed[32]);
void tkms_identity_wipe(tkms_identity *id);

#endif
