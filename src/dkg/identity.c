/* Node identity keys: both key pairs from one seed (the Ed25519 and X25519 operations are in
 * src/prim/ed25519.c; no key files here, the daemon stores the seeds). */
#include "identity.h"

#include <openssl/evp.h>
#include <string.h>

#include "ct.h"
#include "sha256.h"
#include "proto_tags.h"

int tkms_identity_from_seed(tkms_identity *id, const uint8_t seed[32]) {
    uint8_t prk[32];
    hkdf_sha256_extract(prk, (const uint8_t *)TKMS_TAG_ID, TKMS_TAG_LEN(TKMS_TAG_ID), seed, 32);
    int ok = hkdf_sha256_expand(id->sign_sk, 32, prk, (const uint8_t *)TKMS_INFO_ID_SIGN, TKMS_TAG_LEN(TKMS_INFO_ID_SIGN)) &&
             hkdf_sha256_expand(id->kem_sk, 32, prk, (const uint8_t *)TKMS_INFO_ID_KEM, TKMS_TAG_LEN(TKMS_INFO_ID_KEM)) &&
             tkms_ed25519_pubkey(id->sign_pk, id->sign_sk) && tkms_x25519_pubkey(id->kem_pk, id->kem_sk);
    tkms_wipe(prk, sizeof prk);
    if (!ok) tkms_identity_wipe(id);
    return ok;
}

void tkms_identity_wipe(tkms_identity *id) { tkms_wipe(id, sizeof *id); }
