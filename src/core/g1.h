/* G1 of BLS12-381: y^2 = x^3 + 4 over Fp. Projective (homogeneous) coordinates with the
 * Renes-Costello-Batina complete formulas; identity = (0 : 1 : 0). Affine identity is x = y = 0
 * (not on the curve). Constant time unless named _vartime. Scalars are canonical little-endian
 * 4x64-bit limbs (see fr_to_scalar), assumed < r unless stated. No malloc: callers pass scratch. */
#ifndef TKMS_G1_H
#define TKMS_G1_H

#include <stddef.h>
#include <stdint.h>

#include "fp.h"

typedef struct {
    fp_t x, y, z;
} g1_t;

typedef struct {
    fp_t x, y; /* (0, 0) is the identity */
} g1_affine_t;

extern const g1_affine_t G1_GENERATOR;

void g1_identity(g1_t *r);
uint64_t g1_is_identity(const g1_t *p);
uint64_t g1_affine_is_identity(const g1_affine_t *p);
void g1_from_affine(g1_t *r, const g1_affine_t *a);
void g1_to_affine(g1_affine_t *r, const g1_t *p); /* constant time (one inversion) */
/* Batch normalisation with one inversion; scratch holds n fp_t. */
void g1_batch_to_affine(g1_affine_t *out, const g1_t *in, size_t n, fp_t *scratch);
uint64_t g1_eq(const g1_t *a, const g1_t *b);
void g1_add(g1_t *r, const g1_t *a, const g1_t *b);              /* complete */
void g1_add_affine(g1_t *r, const g1_t *a, const g1_affine_t *b); /* complete; b may be identity */
void g1_dbl(g1_t *r, const g1_t *a);
void g1_neg(g1_t *r, const g1_t *a);
void g1_affine_neg(g1_affine_t *r, const g1_affine_t *a);
void g1_cmov(g1_t *r, const g1_t *a, uint64_t bit);
uint64_t g1_affine_is_on_curve(const g1_affine_t *a); /* identity counts as on the curve */
uint64_t g1_is_on_curve(const g1_t *p);
/* Subgroup membership (Scott's endomorphism test phi(P) == [-x^2]P). Public inputs. */
uint64_t g1_in_subgroup_vartime(const g1_t *p);
/* phi(x, y) = (beta x, y), the GLV endomorphism. */
void g1_phi(g1_t *r, const g1_t *p);

/* Constant-time scalar multiplication (GLV); k is any 256-bit value reduced mod r inside. */
void g1_mul(g1_t *r, const g1_t *p, const uint64_t k[4]);
/* Variable-time (GLV + interleaved wNAF) scalar multiplication for public scalars.
 * g1_mul, g1_mul_vartime and g1_msm_vartime use the endomorphism, so their points must be in G1
 * (every parsed point is); for other curve points use g1_mul_u64s_vartime. */
void g1_mul_vartime(g1_t *r, const g1_t *p, const uint64_t k[4]);
/* Multiplication by an arbitrary-length public scalar (little-endian limbs), e.g. cofactors. */
void g1_mul_u64s_vartime(g1_t *r, const g1_t *p, const uint64_t *k, size_t nlimbs);
/* r = [|x|] p, x = -0xd201000000010000 the BLS parameter; constant time, any curve point. */
void g1_mul_x_abs(g1_t *r, const g1_t *p);
/* Pippenger multi-scalar multiplication of public data: r = sum k_i P_i. scratch must hold
 * g1_msm_scratch_size(n) bytes (8-byte aligned). */
size_t g1_msm_scratch_size(size_t n);
void g1_msm_vartime(g1_t *r, const g1_affine_t *points, const uint64_t (*scalars)[4], size_t n, void *scratch);

/* ZCash serialisation. Compressed 48 bytes, uncompressed 96 bytes. */
void g1_serialize(uint8_t out[48], const g1_affine_t *a);
void g1_serialize_uncompressed(uint8_t out[96], const g1_affine_t *a);
typedef enum {
    G1_OK = 0,
    G1_ERR_LENGTH,    /* flag bit C does not match the length */
    G1_ERR_FLAGS,     /* infinity flag with other bits set, or sign with infinity */
    G1_ERR_RANGE,     /* coordinate >= p */
    G1_ERR_NOT_ON_CURVE,
    G1_ERR_SUBGROUP,
    G1_ERR_IDENTITY   /* identity where not allowed */
} g1_status;
/* Parses compressed (48) or uncompressed (96) bytes, checks range, curve and subgroup. The
 * identity is accepted only when allow_identity is set. */
g1_status g1_deserialize(g1_affine_t *r, const uint8_t *in, size_t len, int allow_identity);

#endif
