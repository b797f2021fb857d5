/* Node identity keys: Ed25519 (signs every protocol message) and X25519 (receives encrypted
 * shares); the key operations themselves are in prim.h. */
#ifndef TKMS_DKG_IDENTITY_H
#define TKMS_DKG_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "prim.h"

/* A node's long-term keys. sign_sk is the 32-byte Ed25519 seed (RFC 8032 "secret key"). */
typedef struct {
    uint8_t sign_sk[32], sign_pk[32];
    uint8_t kem_sk[32], kem_pk[32];
} tkms_identity;

/* Derives both key pairs from one 32-byte secret seed: sign_sk = HKDF(seed, "TKMS-V1-ID", "ed25519"),
 * kem_sk = HKDF(seed, "TKMS-V1-ID", "x25519"). Deterministic; for tests, simulators and key files.
 * Returns 1/0. */
int tkms_identity_from_seed(tkms_identity *id, const uint8_t seed[32]);
void tkms_identity_wipe(tkms_identity *id);

#endif
