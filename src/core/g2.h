/* G2 of BLS12-381: the M-type sextic twist y^2 = x^3 + 4(1+u) over Fp2. Projective (homogeneous) coordinates with the
 * Renes-Costello-Batina complete formulas; identity = (0 : 1 : 0). Affine identity is x = y = 0
 * (not on the curve). Constant time unless named _vartime. Scalars are canonical little-endian
 * 4x64-bit limbs (see fr_to_scalar), assumed < r unless stated. No malloc: callers pass scratch. */
#ifndef TKMS_G2_H
#define TKMS_G2_H

#include <stddef.h>
#include <stdint.h>

#include "fp2.h"

typedef struct {
    fp2_t x, y, z;
} g2_t;

typedef struct {
    fp2_t x, y; /* (0, 0) is the identity */
} g2_affine_t;

extern const g2_affine_t G2_GENERATOR;

void g2_identity(g2_t *r);
uint64_t g2_is_identity(const g2_t *p);
uint64_t g2_affine_is_identity(const g2_affine_t *p);
void g2_from_affine(g2_t *r, const g2_affine_t *a);
void g2_to_affine(g2_affine_t *r, const g2_t *p); /* constant time (one inversion) */
/* Batch normalisation with one inversion; scratch holds n fp2_t. */
void g2_batch_to_affine(g2_affine_t *out, const g2_t *in, size_t n, fp2_t *scratch);
uint64_t g2_eq(const g2_t *a, const g2_t *b);
void g2_add(g2_t *r, const g2_t *a, const g2_t *b);              /* complete */
void g2_add_affine(g2_t *r, const g2_t *a, const g2_affine_t *b); /* complete; b may be identity */
void g2_dbl(g2_t *r, const g2_t *a);
void g2_neg(g2_t *r, const g2_t *a);
void g2_affine_neg(g2_affine_t *r, const g2_affine_t *a);
void g2_cmov(g2_t *r, const g2_t *a, uint64_t bit);
uint64_t g2_affine_is_on_curve(const g2_affine_t *a); /* identity counts as on the curve */
uint64_t g2_is_on_curve(const g2_t *p);
/* Subgroup membership (psi(P) == [x]P, EIP-2537 / Scott). Public inputs. */
uint64_t g2_in_subgroup_vartime(const g2_t *p);
/* psi = untwist-Frobenius-twist endomorphism; acts as [x] (x = -0xd201000000010000) on G2. */
void g2_psi(g2_t *r, const g2_t *p);

/* Constant-time scalar multiplication (GLS, four 64-bit digits in base |x|); k is any 256-bit value reduced mod r inside. */
void g2_mul(g2_t *r, const g2_t *p, const uint64_t k[4]);
/* Variable-time (GLS + interleaved wNAF) scalar multiplication for public scalars.
 * g2_mul, g2_mul_vartime and g2_msm_vartime use the endomorphism, so their points must be in G2
 * (every parsed point is); for other curve points use g2_mul_u64s_vartime. */
void g2_mul_vartime(g2_t *r, const g2_t *p, const uint64_t k[4]);
/* Multiplication by an arbitrary-length public scalar (little-endian limbs), e.g. cofactors. */
void g2_mul_u64s_vartime(g2_t *r, const g2_t *p, const uint64_t *k, size_t nlimbs);
/* r = [|x|] p, x = -0xd201000000010000 the BLS parameter; constant time, any curve point. */
void g2_mul_x_abs(g2_t *r, const g2_t *p);
/* Pippenger multi-scalar multiplication of public data: r = sum k_i P_i. scratch must hold
 * g2_msm_scratch_size(n) bytes (8-byte aligned). */
size_t g2_msm_scratch_size(size_t n);
void g2_msm_vartime(g2_t *r, const g2_affine_t *points, const uint64_t (*scalars)[4], size_t n, void *scratch);

/* ZCash serialisation. Compressed 96 bytes (x.c1 || x.c0), uncompressed 192 bytes. */
void g2_serialize(uint8_t out[96], const g2_affine_t *a);
void g2_serialize_uncompressed(uint8_t out[192], const g2_affine_t *a);
typedef enum {
    G2_OK = 0,
    G2_ERR_LENGTH,    /* flag bit C does not match the length */
    G2_ERR_FLAGS,     /* infinity flag with other bits set, or sign with infinity */
    G2_ERR_RANGE,     /* coordinate >= p */
    G2_ERR_NOT_ON_CURVE,
    G2_ERR_SUBGROUP,
    G2_ERR_IDENTITY   /* identity where not allowed */
} g2_status;
/* Parses compressed (96) or uncompressed (192) bytes, checks range, curve and subgroup. The
 * identity is accepted only when allow_identity is set. */
g2_status g2_deserialize(g2_affine_t *r, const uint8_t *in, size_t len, int allow_identity);

#endif
