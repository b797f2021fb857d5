/* Shamir / Lagrange / Feldman logic written once over an abstract prime field and group, so that
 * tbls.c instantiates it over Fr and G2 and the exhaustive test over a tiny field (STYLE.md). */
/* Include this file after defining:
 *   SH_PREFIX(name)          expands to the prefixed function name (e.g. tbls_##name)
 *   SH_F                     field element type
 *   SH_F_ADD(r,a,b) SH_F_SUB(r,a,b) SH_F_MUL(r,a,b)   r may alias a or b
 *   SH_F_FROM_U64(r,v)       v < field order
 *   SH_F_BATCH_INV(out,in,n,scratch)   inputs non-zero; out may alias in
 *   SH_G, SH_GS              group working type and stored (e.g. affine) type, written additively
 *   SH_G_LOAD(r,a)           working <- stored
 *   SH_G_ADD_STORED(r,a,b)   r = a + stored b (r may alias a)
 *   SH_G_SMALL_MUL(r,a,k)    k a public uint64_t, r may alias a
 *   (define SH_NO_GROUP to leave the group part out)
 * Every function here is static; indices are public (1..2^32-1), so index checks may branch. */
#ifndef SH_MAYBE_UNUSED
#if defined(__GNUC__)
#define SH_MAYBE_UNUSED __attribute__((unused))
#else
#define SH_MAYBE_UNUSED
#endif
#endif

/* f(x) by Horner over coefficients a_0..a_{t-1} (a_0 = the secret). Constant time in the
 * coefficients; x is public. */
static SH_MAYBE_UNUSED void SH_PREFIX(poly_eval)(SH_F *out, const SH_F *coeffs, size_t t, uint64_t x) {
    SH_F xf, acc;
    SH_F_FROM_U64(&xf, x);
    acc = coeffs[t - 1];
    for (size_t k = t - 1; k-- > 0;) {
        SH_F_MUL(&acc, &acc, &xf);
        SH_F_ADD(&acc, &acc, &coeffs[k]);
    }
    *out = acc;
}

/* 1 if the k indices are non-zero, pairwise distinct and < max_index (exclusive); else 0. O(k^2)
 * for small k, which is the regime we care about (k <= a few hundred). */
static SH_MAYBE_UNUSED int SH_PREFIX(indices_ok)(const uint32_t *idx, size_t k, uint64_t max_index) {
    for (size_t i = 0; i < k; i++) {
        if (idx[i] == 0 || (uint64_t)idx[i] >= max_index) return 0;
        for (size_t j = 0; j < i; j++)
            if (idx[j] == idx[i]) return 0;
    }
    return 1;
}

/* Lagrange coefficients at 0 for the points x_0..x_{k-1}:
 *   lambda_i = prod_{j != i} x_j / (x_j - x_i)
 *            = (prod_j x_j) / (x_i * prod_{j != i} (x_j - x_i)).
 * One batch inversion for all k denominators. scratch holds 2k field elements. Returns 0 if the
 * indices are not valid (zero or repeated); lambda is then untouched. */
static SH_MAYBE_UNUSED int SH_PREFIX(lagrange_at_zero)(SH_F *lambda, const uint32_t *idx, size_t k, uint64_t max_index,
                                       SH_F *scratch) {
    if (k == 0 || !SH_PREFIX(indices_ok)(idx, k, max_index)) return 0;
    SH_F *den = scratch, *inv_scratch = scratch + k;
    SH_F num, xi, xj, d;
    SH_F_FROM_U64(&num, 1);
    for (size_t i = 0; i < k; i++) {
        SH_F_FROM_U64(&xi, idx[i]);
        SH_F_MUL(&num, &num, &xi);
        den[i] = xi;
        for (size_t j = 0; j < k; j++) {
            if (j == i) continue;
            SH_F_FROM_U64(&xj, idx[j]);
            SH_F_SUB(&d, &xj, &xi);
            SH_F_MUL(&den[i], &den[i], &d);
        }
    }
    SH_F_BATCH_INV(den, den, k, inv_scratch);
    for (size_t i = 0; i < k; i++) SH_F_MUL(&lambda[i], &den[i], &num);
    return 1;
}

/* secret = sum lambda_i * y_i (used by the exhaustive test and by resharing). */
static SH_MAYBE_UNUSED int SH_PREFIX(interpolate_at_zero)(SH_F *out, const uint32_t *idx, const SH_F *y, size_t k,
                                          uint64_t max_index, SH_F *scratch /* 3k */) {
    SH_F *lambda = scratch + 2 * k;
    if (!SH_PREFIX(lagrange_at_zero)(lambda, idx, k, max_index, scratch)) return 0;
    SH_F acc, term;
    SH_F_FROM_U64(&acc, 0);
    for (size_t i = 0; i < k; i++) {
        SH_F_MUL(&term, &lambda[i], &y[i]);
        SH_F_ADD(&acc, &acc, &term);
    }
    *out = acc;
    return 1;
}

#ifndef SH_NO_GROUP
/* Public share PK_x = sum_k C_k x^k, by Horner in the exponent: t-1 small-scalar multiplications
 * by the public index x (about log2(x) doublings each), cheaper than an MSM for t <= a few dozen. */
static SH_MAYBE_UNUSED void SH_PREFIX(public_share)(SH_G *out, const SH_GS *commitments, size_t t, uint64_t x) {
    SH_G acc;
    SH_G_LOAD(&acc, &commitments[t - 1]);
    for (size_t k = t - 1; k-- > 0;) {
        SH_G_SMALL_MUL(&acc, &acc, x);
        SH_G_ADD_STORED(&acc, &acc, &commitments[k]);
    }
    *out = acc;
}
#endif
