/* Threshold BLS (min-sig: signatures and partials in G1, commitments and public shares in G2):
 * Shamir dealing with Feldman commitments, public shares, Lagrange at 0, partial signing under any
 * DST, single and batch partial verification with bisection, combine and robust combine.
 * No malloc, no I/O, no RNG: callers pass seeds and scratch. Internal to libtkms (hidden symbols). */
#ifndef TKMS_TBLS_H
#define TKMS_TBLS_H

#include <stddef.h>
#include <stdint.h>

#include "fr.h"
#include "tkms/common.h"
#include "g1.h"
#include "g2.h"

/* Upper bound on the number of partials any call here takes (the committee size). */
#define TBLS_MAX_N 1024

/* One node's contribution: its 1-based index in the epoch and its partial (a G1 point that the
 * caller has parsed, i.e. on the curve, in the subgroup and not the identity). */
typedef struct {
    uint32_t index;
    g1_affine_t sig;
} tbls_partial;

/* Bytes of scratch (8-byte aligned) that any function below needs for k partials / shares. */
size_t tbls_scratch_size(size_t k);

/* ---- dealing (secret data: constant time) ---- */

/* Deals `secret` to n parties with threshold t (1 <= t <= n <= TBLS_MAX_N): the polynomial
 * f(x) = secret + a_1 x + ... + a_{t-1} x^{t-1}, a_k = HKDF-SHA256(salt "TKMS-V1-TBLS-DEAL",
 * ikm = seed, info = be32(k)) 64 bytes reduced mod r. Writes shares[i] = f(i+1) for i < n and the
 * Feldman commitments commitments[k] = a_k * G2 for k < t. seed must be 32 fresh secret random
 * bytes. Returns 0 on bad t/n (nothing written). */
TKMS_WUR int tbls_deal(fr_t *shares, g2_affine_t *commitments, const fr_t *secret, const uint8_t seed[32], size_t t,
              size_t n, void *scratch);

/* ---- public shares (public data: variable time) ---- */

/* PK_index = sum_k commitments[k] * index^k (Horner in the exponent). index >= 1. */
void tbls_public_share(g2_t *pk, const g2_affine_t *commitments, size_t t, uint32_t index);
/* All public shares PK_1..PK_n at once, normalised to affine (scratch: tbls_scratch_size(n)). */
void tbls_public_shares(g2_affine_t *pks, const g2_affine_t *commitments, size_t t, size_t n, void *scratch);
/* Feldman check of a received share: share * G2 == PK_index. Returns 1 or 0. share is secret;
 * the multiplication is constant time, the comparison is of a value about to be public. */
TKMS_WUR int tbls_verify_share(const fr_t *share, uint32_t index, const g2_affine_t *commitments, size_t t);

/* ---- Lagrange ---- */

/* lambda[i] = prod_{j != i} idx[j] / (idx[j] - idx[i]) for k indices. Returns 0 if any index is 0
 * or repeated. scratch: tbls_scratch_size(k). */
TKMS_WUR int tbls_lagrange_at_zero(fr_t *lambda, const uint32_t *idx, size_t k, void *scratch);

/* ---- partials ---- */

/* sig = share * H(msg) with H = hash_to_G1 under dst (constant-time scalar multiplication). */
void tbls_partial_sign(g1_t *sig, const fr_t *share, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                       size_t dst_len);
/* Same with the message already hashed to hm. */
void tbls_partial_sign_hashed(g1_t *sig, const fr_t *share, const g1_t *hm);

/* e(sig, G2) == e(hm, pk), as one product of two pairings. sig, hm, pk must be parsed points;
 * returns 0 if any is the identity. */
TKMS_WUR int tbls_verify_partial(const g1_affine_t *sig, const g1_affine_t *hm, const g2_affine_t *pk);

/* Batch verification of k partials on the same hm: with r_i 128-bit scalars derived from seed,
 * e(sum r_i sig_i, G2) == e(hm, sum r_i pk_i) -- two Miller loops and two MSMs. seed must be
 * unpredictable to whoever made the partials (fresh random bytes). Returns 1 if the batch holds
 * (all valid except with probability 2^-128), 0 otherwise or if any point is the identity. */
TKMS_WUR int tbls_batch_verify(const g1_affine_t *hm, const tbls_partial *parts, const g2_affine_t *pks, size_t k,
                      const uint8_t seed[32], void *scratch);

/* Like tbls_batch_verify, and when the batch fails, bisects to find the bad partials: bad[i] is set
 * to 1 for every invalid partial and 0 for every valid one. Returns the number of bad partials.
 * Cost: one batch when all are good; about 2*b*log2(k/b) batches for b bad ones. */
TKMS_WUR size_t tbls_batch_find_bad(uint8_t *bad, const g1_affine_t *hm, const tbls_partial *parts, const g2_affine_t *pks,
                           size_t k, const uint8_t seed[32], void *scratch);

/* ---- combine ---- */

/* sig = sum lambda_i * parts[i].sig over exactly k partials with distinct non-zero indices (the
 * caller passes t of them). Constant time in the partial points (they may be secret, e.g. partial
 * app keys): one constant-time G1 multiplication per partial. Returns 0 on bad indices. */
TKMS_WUR int tbls_combine(g1_t *sig, const tbls_partial *parts, size_t k, void *scratch);
/* Same with a variable-time MSM, for public partial signatures only. */
TKMS_WUR int tbls_combine_vartime(g1_t *sig, const tbls_partial *parts, size_t k, void *scratch);

/* Robust combine: given up to n partials (missing ones simply absent, bad ones allowed), each with
 * its public share in pks[i], verifies them in one batch (bisecting on failure), marks bad[i],
 * combines the first t valid ones (constant time in the points) and writes the result to sig.
 * Returns 1 if at least t partials were valid, 0 otherwise (or on bad/duplicate indices, in which
 * case bad[] is all 1 for the duplicates). *n_bad receives the number of bad partials. */
TKMS_WUR int tbls_robust_combine(g1_t *sig, uint8_t *bad, size_t *n_bad, const g1_affine_t *hm, const tbls_partial *parts,
                        const g2_affine_t *pks, size_t k, size_t t, const uint8_t seed[32], void *scratch);

#endif
