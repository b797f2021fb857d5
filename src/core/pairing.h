/* Optimal ate pairing on BLS12-381: Miller loop over many pairs with shared squarings, final
 * exponentiation, and the 576-byte GT encoding drand's tlock uses. Constant time in the points
 * (IBE decryption pairs a secret G1 point). */
#ifndef TKMS_PAIRING_H
#define TKMS_PAIRING_H

#include <stddef.h>

#include "fp12.h"
#include "g1.h"
#include "g2.h"

/* f = prod_i MillerLoop(P_i, Q_i) (no final exponentiation). Pairs where P_i or Q_i is the
 * identity contribute 1. n may be 0 (f = 1). At most PAIRING_MAX_BATCH pairs per call. */
#define PAIRING_MAX_BATCH 16
void pairing_miller_loop(fp12_t *f, const g1_affine_t *P, const g2_affine_t *Q, size_t n);
void pairing_final_exp(fp12_t *r, const fp12_t *f);
/* r = e(P, Q). */
void pairing(fp12_t *r, const g1_affine_t *P, const g2_affine_t *Q);
/* 1 if prod_i e(P_i, Q_i) == 1 (any n; processes PAIRING_MAX_BATCH pairs per Miller loop). */
uint64_t pairing_product_is_one(const g1_affine_t *P, const g2_affine_t *Q, size_t n);
/* GT encoding of tlock / kilic bls12-381: Fp12 = c1 || c0, Fp6 = c2 || c1 || c0, Fp2 = c1 || c0,
 * each Fp 48 bytes big-endian. */
void gt_to_bytes(uint8_t out[576], const fp12_t *a);

#endif
