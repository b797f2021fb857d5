/* Primitives every layer above the core shares, each written once: the hex codec (constant time,
 * so the same code serves secrets and public data), base64, ChaCha20-Poly1305 (RFC 8439, OpenSSL)
 * and Ed25519 / X25519 (the one Ed25519 verifier, with the small-order rejection). Elsewhere, one
 * home each: HKDF-SHA256 and SHA-256 in core/sha256.h, wiping in core/ct.h (tkms_wipe), HPKE in
 * dkg/hpke.h. */
#ifndef TKMS_PRIM_H
#define TKMS_PRIM_H

#include <stddef.h>
#include <stdint.h>

/* out (2n + 1 bytes) = lowercase hex of in, NUL-terminated. Time depends on n only. */
void tkms_hex(char *out, const uint8_t *in, size_t n);

#define TKMS_HEX_ANY_CASE 0
#define TKMS_HEX_LOWER_ONLY 1
/* Decodes exactly slen = 2n hex digits into out (n bytes). Returns 1, or 0 (out zeroed) if slen !=
 * 2n or a digit is invalid (upper case too, with TKMS_HEX_LOWER_ONLY). Time depends on the lengths
 * only, not on the digits: secrets (keys, shares, tokens) pass through here. */
int tkms_unhex(uint8_t *out, size_t n, const char *s, size_t slen, int flags);

/* One ChaCha20-Poly1305 operation, 12-byte nonce, optional AAD, detached 16-byte tag. enc = 1:
 * out = ciphertext of in, tag written. enc = 0: tag checked; on failure out is wiped. in and out
 * may be the same buffer. len and aad_len below 2^30. Returns 1 on success. */
int tkms_aead(int enc, uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t len, uint8_t tag[16]);

/* ---- base64 (RFC 4648; b64.c) ---- */
/* Encodes n bytes; url selects the URL-safe alphabet; pad adds '='. Returns a malloc'd string. */
char *tkms_b64_encode(const uint8_t *in, size_t n, int url, int pad);
/* Strict decoding: canonical (unused bits zero), padding exactly as requested (pad = 1: required,
 * 0: refused). Returns 1 with *out malloc'd (NUL appended, *out_len bytes), or 0. Empty input
 * decodes to nothing. */
int tkms_b64_decode_alloc(uint8_t **out, size_t *out_len, const char *in, size_t n, int url, int pad);

/* ---- Ed25519 and X25519 (ed25519.c) ---- */
/* Ed25519 public key from a 32-byte seed. Returns 1/0. */
int tkms_ed25519_pubkey(uint8_t pk[32], const uint8_t sk[32]);
/* Pure Ed25519 (RFC 8032) signature over msg. Returns 1/0. */
int tkms_ed25519_sign(uint8_t sig[64], const uint8_t sk[32], const uint8_t *msg, size_t msg_len);
/* Returns 1 iff sig is a valid Ed25519 signature of msg under pk (RFC 8032), and neither pk nor R
 * (sig[0..31]) encodes a point of small order (see tkms_ed25519_small_order). */
int tkms_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32], const uint8_t *msg, size_t msg_len);
/* 1 if p encodes a point of order dividing 8 (or y = p, p + 1): never a valid key or R. */
int tkms_ed25519_small_order(const uint8_t p[32]);

/* X25519 public key from a private key; and the raw shared secret (returns 0 on an all-zero
 * result, i.e. a low-order peer key). */
int tkms_x25519_pubkey(uint8_t pk[32], const uint8_t sk[32]);
int tkms_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t peer_pk[32]);

#endif
