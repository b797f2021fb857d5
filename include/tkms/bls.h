/* libtkms: BLS signatures on BLS12-381 (draft-irtf-cfrg-bls-signature-05) in both variants, with any
 * DST: KeyGen, SkToPk, Sign, Verify, Aggregate, AggregateVerify, FastAggregateVerify, proofs of
 * possession and randomised batch verification. No allocation, no I/O, no randomness of its own. */
#ifndef TKMS_BLS_H
#define TKMS_BLS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error tier 1 (the core): fallible functions return 1 on success and 0 on invalid *input*
 * (a bad encoding, a failed verification). Programming errors (NULL where an object is required,
 * a wrong output length, an object of the wrong variant or one that no parser made) are reported
 * to the illegal-argument callback, and the function then returns 0.
 *
 * The default callback aborts the process. tkms_set_illegal_callback replaces it for the whole
 * process (fn = NULL restores the default); msg is a static, secret-free string. Not thread-safe:
 * set it once at start-up. */
typedef void (*tkms_illegal_fn)(const char *msg, void *data);
TKMS_API void tkms_set_illegal_callback(tkms_illegal_fn fn, void *data);

/* min-sig: signature in G1 (48 bytes), public key in G2 (96 bytes)  -- drand quicknet, tkms.
 * min-pk:  signature in G2 (96 bytes), public key in G1 (48 bytes)  -- Ethereum. */
typedef enum { TKMS_BLS_MIN_SIG = 0, TKMS_BLS_MIN_PK = 1 } tkms_bls_variant;

#define TKMS_BLS_SECRET_KEY_BYTES 32
#define TKMS_BLS_G1_BYTES 48 /* compressed */
#define TKMS_BLS_G2_BYTES 96 /* compressed */
#define TKMS_BLS_MAX_POINT_BYTES 96

/* Ciphersuite DSTs of the draft (§4.2). Any other DST may be used as well. */
#define TKMS_BLS_DST_MIN_SIG_NUL "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
#define TKMS_BLS_DST_MIN_SIG_POP "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
#define TKMS_BLS_DST_MIN_SIG_POP_PROOF "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"
#define TKMS_BLS_DST_MIN_PK_NUL "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"
#define TKMS_BLS_DST_MIN_PK_POP "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
#define TKMS_BLS_DST_MIN_PK_POP_PROOF "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"

/* Opaque, fixed-size objects. "Parsed means valid": only the functions below make them, and every
 * one they make holds a valid value -- a secret key in [1, r), a public key or signature that is on
 * the curve, in the prime-order subgroup and not the identity, tagged with its variant. Copying
 * them with memcpy/assignment is fine; the bytes are not a serialisation (use _serialize). */
typedef struct {
    uint64_t opaque[5];
} tkms_bls_secret_key;
typedef struct {
    uint64_t opaque[25];
} tkms_bls_public_key;
typedef struct {
    uint64_t opaque[25];
} tkms_bls_signature;

/* Size in bytes of a compressed public key / signature of the variant (48 or 96). */
TKMS_API size_t tkms_bls_public_key_size(tkms_bls_variant v);
TKMS_API size_t tkms_bls_signature_size(tkms_bls_variant v);

/* ---- secret keys (constant time) ---- */

/* KeyGen (draft-05 §2.3): HKDF-SHA256 with salt "BLS-SIG-KEYGEN-SALT-" (re-hashed with SHA-256
 * each round until SK != 0) over IKM || I2OSP(0, 1), info = key_info || I2OSP(48, 2), L = 48.
 * ikm: ikm_len >= 32 secret bytes. key_info may be NULL when key_info_len is 0.
 * Returns 1, or 0 if ikm_len < 32 (sk is then wiped and invalid). */
TKMS_API TKMS_WUR int tkms_bls_keygen(tkms_bls_secret_key *sk, const uint8_t *ikm, size_t ikm_len,
                                      const uint8_t *key_info, size_t key_info_len);
/* Parses 32 big-endian bytes. Returns 0 if the value is 0 or >= r (constant time in the bytes). */
TKMS_API TKMS_WUR int tkms_bls_secret_key_parse(tkms_bls_secret_key *sk, const uint8_t in[32]);
/* Writes the 32-byte big-endian encoding. Returns 0 (out wiped) on an invalid sk. */
TKMS_API TKMS_WUR int tkms_bls_secret_key_serialize(uint8_t out[32], const tkms_bls_secret_key *sk);
/* Wipes a secret key (or any object) so that it is no longer valid. */
TKMS_API void tkms_bls_secret_key_wipe(tkms_bls_secret_key *sk);

/* SkToPk: pk = sk * generator of the variant's public-key group. Returns 0 only on illegal args. */
TKMS_API TKMS_WUR int tkms_bls_sk_to_pk(tkms_bls_public_key *pk, tkms_bls_variant v, const tkms_bls_secret_key *sk);

/* ---- public keys and signatures ---- */

/* Parse a ZCash-encoded point of the variant's group: compressed (48 / 96 bytes) or uncompressed
 * (96 / 192 bytes). Checks flags, field range, curve and subgroup, and rejects the identity (the
 * draft's KeyValidate for public keys; a signature that is the identity never verifies against a
 * validated key, so it is rejected at the border as DESIGN.md §2 asks). Returns 1 or 0. */
TKMS_API TKMS_WUR int tkms_bls_public_key_parse(tkms_bls_public_key *pk, tkms_bls_variant v, const uint8_t *in, size_t len);
TKMS_API TKMS_WUR int tkms_bls_signature_parse(tkms_bls_signature *sig, tkms_bls_variant v, const uint8_t *in, size_t len);
/* Compressed encoding; out_len must be exactly the variant's size. Returns 0 on illegal args. */
TKMS_API TKMS_WUR int tkms_bls_public_key_serialize(uint8_t *out, size_t out_len, const tkms_bls_public_key *pk);
TKMS_API TKMS_WUR int tkms_bls_signature_serialize(uint8_t *out, size_t out_len, const tkms_bls_signature *sig);
/* The variant an object was made for (undefined for objects no parser made). */
TKMS_API tkms_bls_variant tkms_bls_public_key_variant(const tkms_bls_public_key *pk);
TKMS_API tkms_bls_variant tkms_bls_signature_variant(const tkms_bls_signature *sig);

/* ---- signing and verification ---- */

/* Sign: sig = sk * hash_to_curve(msg, dst) in the variant's signature group (constant time in sk).
 * msg may be NULL when msg_len is 0; dst must be 1..65535 bytes (longer than 255 is hashed per
 * RFC 9380). Returns 0 only on illegal arguments. */
TKMS_API TKMS_WUR int tkms_bls_sign(tkms_bls_signature *sig, tkms_bls_variant v, const tkms_bls_secret_key *sk,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
/* Verify (CoreVerify): 1 if e(sig, g) == e(H(msg), pk) with the pairing in the variant's order;
 * pk and sig must be of the same variant. 0 otherwise. Variable time (public data only). */
TKMS_API TKMS_WUR int tkms_bls_verify(const tkms_bls_public_key *pk, const uint8_t *msg, size_t msg_len,
                                      const tkms_bls_signature *sig, const uint8_t *dst, size_t dst_len);

/* Aggregate: out = sum of n >= 1 signatures of one variant. Returns 0 if n == 0 or the sum is the
 * identity (which no parser would accept either). */
TKMS_API TKMS_WUR int tkms_bls_aggregate(tkms_bls_signature *out, const tkms_bls_signature *sigs, size_t n);
/* Sum of n >= 1 public keys of one variant (for FastAggregateVerify by hand, Altair's
 * eth_aggregate_pubkeys). Returns 0 if n == 0 or the sum is the identity. */
TKMS_API TKMS_WUR int tkms_bls_aggregate_public_keys(tkms_bls_public_key *out, const tkms_bls_public_key *pks, size_t n);

/* AggregateVerify: 1 if sig is the aggregate of signatures by pks[i] on msgs[i] (i < n, n >= 1).
 * msgs[i] has msg_lens[i] bytes. The scheme decides whether messages must be distinct: the basic
 * (_NUL_) scheme requires it, and the caller must check it before calling (see
 * tkms_bls_messages_distinct); the _POP_ scheme does not. Uses n+1 Miller loops, one final
 * exponentiation, and no allocation (fixed chunks on the stack). */
TKMS_API TKMS_WUR int tkms_bls_aggregate_verify(const tkms_bls_public_key *pks, const uint8_t *const *msgs,
                                                const size_t *msg_lens, size_t n, const tkms_bls_signature *sig,
                                                const uint8_t *dst, size_t dst_len);
/* FastAggregateVerify: n >= 1 signers of the same message; pks must carry proofs of possession. */
TKMS_API TKMS_WUR int tkms_bls_fast_aggregate_verify(const tkms_bls_public_key *pks, size_t n, const uint8_t *msg,
                                                     size_t msg_len, const tkms_bls_signature *sig,
                                                     const uint8_t *dst, size_t dst_len);
/* 1 if the n messages are pairwise distinct (O(n^2) byte comparisons; public data). */
TKMS_API int tkms_bls_messages_distinct(const uint8_t *const *msgs, const size_t *msg_lens, size_t n);

/* Proof of possession (draft-05 §3.3): a signature on the compressed public key under the POP DST
 * (TKMS_BLS_DST_*_POP_PROOF for the standard suites). */
TKMS_API TKMS_WUR int tkms_bls_pop_prove(tkms_bls_signature *proof, tkms_bls_variant v, const tkms_bls_secret_key *sk,
                                         const uint8_t *pop_dst, size_t pop_dst_len);
TKMS_API TKMS_WUR int tkms_bls_pop_verify(const tkms_bls_public_key *pk, const tkms_bls_signature *proof,
                                          const uint8_t *pop_dst, size_t pop_dst_len);

/* Random source for batch verification: fills out[0..len) with unpredictable bytes; returns 1, or
 * 0 on failure (the batch then fails). */
typedef int (*tkms_rng_fn)(void *ctx, uint8_t *out, size_t len);

/* Batch verification of n >= 1 independent (pks[i], msgs[i], sigs[i]) triples, all of one variant,
 * one DST: checks e(sum r_i sig_i, g) == prod e(r_i pk_i, H(msg_i)) for fresh random non-zero 64-bit
 * r_i from rng. Returns 1 only if (with probability >= 1 - 2^-64 over r) every triple verifies on its
 * own; a set of signatures that only verifies when summed (e.g. two signatures whose errors cancel)
 * is rejected. n+1 Miller loops and one final exponentiation. On 0, check one by one to find the bad
 * triple. */
TKMS_API TKMS_WUR int tkms_bls_batch_verify(const tkms_bls_public_key *pks, const uint8_t *const *msgs,
                                            const size_t *msg_lens, const tkms_bls_signature *sigs, size_t n,
                                            const uint8_t *dst, size_t dst_len, tkms_rng_fn rng, void *rng_ctx);

#ifdef __cplusplus
}
#endif

#endif
