/* HPKE (RFC 9180) base mode for the single suite tkms uses: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * ChaCha20-Poly1305. Single-shot seal/open plus the pieces (key schedule, export) the vectors test. */
#ifndef TKMS_DKG_HPKE_H
#define TKMS_DKG_HPKE_H

#include <stddef.h>
#include <stdint.h>

#define TKMS_HPKE_NENC 32 /* encapsulated key (X25519 public key) */
#define TKMS_HPKE_NTAG 16 /* ChaCha20-Poly1305 tag */

/* Key schedule output for one HPKE context (base mode). Secret: wipe with tkms_hpke_ctx_wipe. */
typedef struct {
    uint8_t key[32];
    uint8_t base_nonce[12];
    uint8_t exporter_secret[32];
    uint64_t seq;
} tkms_hpke_ctx;

/* DeriveKeyPair(ikm) for DHKEM(X25519): sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk").
 * Returns 1, or 0 on an OpenSSL failure. */
int tkms_hpke_derive_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t *ikm, size_t ikm_len);

/* Deterministic SetupBaseS with the ephemeral key derived from ikm_e (tests, and callers that
 * draw ikm_e from their RNG). Writes enc and the context; shared_secret (may be NULL) receives
 * the KEM shared secret. Returns 1, or 0 if pk_r is a low-order point or OpenSSL fails. */
int tkms_hpke_setup_s(tkms_hpke_ctx *ctx, uint8_t enc[32], uint8_t *shared_secret, const uint8_t pk_r[32],
                      const uint8_t *info, size_t info_len, const uint8_t *ikm_e, size_t ikm_e_len);
/* SetupBaseR. Returns 1, or 0 on a bad enc. */
int tkms_hpke_setup_r(tkms_hpke_ctx *ctx, uint8_t *shared_secret, const uint8_t enc[32], const uint8_t sk_r[32],
                      const uint8_t *info, size_t info_len);

/* ContextS.Seal: ct receives pt_len + 16 bytes; increments seq. Returns 1/0. */
int tkms_hpke_ctx_seal(tkms_hpke_ctx *ctx, uint8_t *ct, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                       size_t pt_len);
/* ContextR.Open: pt receives ct_len - 16 bytes. Returns 1, or 0 if authentication fails. */
int tkms_hpke_ctx_open(tkms_hpke_ctx *ctx, uint8_t *pt, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                       size_t ct_len);
/* Context.Export(exporter_context, L). Returns 0 if L > 255*32. */
int tkms_hpke_export(const tkms_hpke_ctx *ctx, uint8_t *out, size_t len, const uint8_t *exp_ctx, size_t exp_ctx_len);
void tkms_hpke_ctx_wipe(tkms_hpke_ctx *ctx);

/* Single-shot base-mode seal: out = enc(32) || ciphertext(pt_len + 16). ikm_e must be 32 fresh
 * random bytes (the ephemeral key seed). Returns 1/0. */
int tkms_hpke_seal(uint8_t *out, const uint8_t pk_r[32], const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t pt_len, const uint8_t ikm_e[32]);
/* Single-shot base-mode open of enc || ciphertext (in_len >= 48); pt receives in_len - 48 bytes.
 * Returns 1, or 0 if anything fails to authenticate. */
int tkms_hpke_open(uint8_t *pt, const uint8_t sk_r[32], const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t in_len);

#endif
