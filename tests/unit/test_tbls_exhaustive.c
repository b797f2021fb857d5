/* Exhaustive test of the generic Shamir/Lagrange/Feldman code (src/core/shamir_impl.h) over a tiny
 * field F_11 with the order-11 subgroup of Z_23^* as the commitment group: every (t, n) with n <= 10,
 * every subset of size t, every secret, and perfect secrecy of t-1 shares by full enumeration. */
#include <stdint.h>
#include <string.h>

#include "testutil.h"

#define P 11u /* field order = group order */
#define Q 23u /* 23 = 2*11 + 1 */
#define GEN 2u /* 2 has order 11 mod 23 */

typedef uint64_t tf; /* element of F_11 */
typedef uint64_t tg; /* element of <2> in Z_23^*, written additively by the generic code */

static void f_add(tf *r, const tf *a, const tf *b) { *r = (*a + *b) % P; }
static void f_sub(tf *r, const tf *a, const tf *b) { *r = (*a + P - *b) % P; }
static void f_mul(tf *r, const tf *a, const tf *b) { *r = (*a * *b) % P; }
static uint64_t powm(uint64_t b, uint64_t e, uint64_t m) {
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1) r = r * b % m;
        b = b * b % m;
        e >>= 1;
    }
    return r;
}
static void f_batch_inv(tf *out, const tf *in, size_t n, tf *scratch) {
    (void)scratch;
    for (size_t i = 0; i < n; i++) {
        TU_CHECK(in[i] != 0);
        out[i] = powm(in[i], P - 2, P);
    }
}
static void g_add(tg *r, const tg *a, const tg *b) { *r = (*a * *b) % Q; }
static void g_smul(tg *r, const tg *a, uint64_t k) { *r = powm(*a, k, Q); }
static tg g_exp(tf a) { return powm(GEN, a, Q); }

#define SH_PREFIX(name) tiny_##name
#define SH_F tf
#define SH_F_ADD(r, a, b) f_add(r, a, b)
#define SH_F_SUB(r, a, b) f_sub(r, a, b)
#define SH_F_MUL(r, a, b) f_mul(r, a, b)
#define SH_F_FROM_U64(r, v) (*(r) = (v) % P)
#define SH_F_BATCH_INV(out, in, n, s) f_batch_inv(out, in, n, s)
#define SH_G tg
#define SH_GS tg
#define SH_G_LOAD(r, a) (*(r) = *(a))
#define SH_G_ADD_STORED(r, a, b) g_add(r, a, b)
#define SH_G_SMALL_MUL(r, a, k) g_smul(r, a, k)
#include "shamir_impl.h"

/* Indices of the tiny instance must be < P (they are field elements). */
#define MAXI P

static size_t popcount(unsigned v) {
    size_t c = 0;
    while (v) {
        c += v & 1;
        v >>= 1;
    }
    return c;
}

int main(void) {
    tu_seed();
    uint64_t subsets = 0, polys = 0;
    tf coeffs[10], shares[11], scratch[40], lambda[10], y[10];
    uint32_t idx[10];
    /* Every (t, n), every secret, several random polynomials each, every subset of size t. */
    for (unsigned n = 1; n <= 10; n++)
        for (unsigned t = 1; t <= n; t++)
            for (tf secret = 0; secret < P; secret++)
                for (int rep = 0; rep < 3; rep++) {
                    coeffs[0] = secret;
                    for (unsigned k = 1; k < t; k++) coeffs[k] = tu_rand64() % P;
                    polys++;
                    tg comm[10];
                    for (unsigned k = 0; k < t; k++) comm[k] = g_exp(coeffs[k]);
                    for (unsigned i = 1; i <= n; i++) {
                        tiny_poly_eval(&shares[i], coeffs, t, i);
                        /* Feldman: the public share from the commitments matches g^share, and a
                         * tampered share never does. */
                        tg pk;
                        tiny_public_share(&pk, comm, t, i);
                        TU_CHECK(pk == g_exp(shares[i]));
                        for (tf d = 1; d < P; d++) TU_CHECK(pk != g_exp((shares[i] + d) % P));
                    }
                    for (unsigned mask = 1; mask < (1u << n); mask++) {
                        size_t k = popcount(mask);
                        if (k != t && !(k == t - 1 && t > 1)) continue;
                        size_t m = 0;
                        for (unsigned i = 0; i < n; i++)
                            if (mask & (1u << i)) {
                                idx[m] = i + 1;
                                y[m] = shares[i + 1];
                                m++;
                            }
                        tf got;
                        TU_CHECK(tiny_interpolate_at_zero(&got, idx, y, m, MAXI, scratch));
                        if (k == t) {
                            subsets++;
                            TU_CHECK(got == secret);
                            /* Lagrange in the exponent: prod PK_i^lambda_i == g^secret. */
                            TU_CHECK(tiny_lagrange_at_zero(lambda, idx, m, MAXI, scratch));
                            tg acc = 1;
                            for (size_t i = 0; i < m; i++) {
                                tg pk, term;
                                tiny_public_share(&pk, comm, t, idx[i]);
                                g_smul(&term, &pk, lambda[i]);
                                g_add(&acc, &acc, &term);
                            }
                            TU_CHECK(acc == g_exp(secret));
                            /* Any one wrong share moves the result. */
                            size_t j = (size_t)(tu_rand64() % m);
                            y[j] = (y[j] + 1 + tu_rand64() % (P - 1)) % P;
                            TU_CHECK(tiny_interpolate_at_zero(&got, idx, y, m, MAXI, scratch));
                            TU_CHECK(got != secret);
                        }
                    }
                }
    /* Perfect secrecy of t-1 shares: over all polynomials of degree t-1, for every subset of t-1
     * indices and every value of those shares, each secret occurs equally often. */
    for (unsigned n = 2; n <= 5; n++)
        for (unsigned t = 2; t <= 3 && t <= n; t++)
            for (unsigned mask = 1; mask < (1u << n); mask++) {
                if (popcount(mask) != t - 1) continue;
                static unsigned hist[P * P][P]; /* share tuple (<= 2 shares) x secret */
                memset(hist, 0, sizeof hist);
                size_t npoly = 1;
                for (unsigned k = 0; k < t; k++) npoly *= P;
                for (size_t code = 0; code < npoly; code++) {
                    size_t c = code;
                    for (unsigned k = 0; k < t; k++) {
                        coeffs[k] = c % P;
                        c /= P;
                    }
                    size_t key = 0;
                    for (unsigned i = 0; i < n; i++)
                        if (mask & (1u << i)) {
                            tf s;
                            tiny_poly_eval(&s, coeffs, t, i + 1);
                            key = key * P + s;
                        }
                    hist[key][coeffs[0]]++;
                    polys++;
                }
                size_t nkeys = npoly / P;
                for (size_t key = 0; key < nkeys; key++)
                    for (tf s = 0; s < P; s++) TU_CHECK(hist[key][s] == hist[key][0]);
            }
    /* Index validation: zero, repeated and out-of-range indices are refused. */
    uint32_t bad1[3] = {1, 0, 2}, bad2[3] = {3, 1, 3}, bad3[2] = {1, P}, good[3] = {1, 2, 10};
    TU_CHECK(!tiny_lagrange_at_zero(lambda, bad1, 3, MAXI, scratch));
    TU_CHECK(!tiny_lagrange_at_zero(lambda, bad2, 3, MAXI, scratch));
    TU_CHECK(!tiny_lagrange_at_zero(lambda, bad3, 2, MAXI, scratch));
    TU_CHECK(!tiny_lagrange_at_zero(lambda, good, 0, MAXI, scratch));
    TU_CHECK(tiny_lagrange_at_zero(lambda, good, 3, MAXI, scratch));
    fprintf(stderr, "exhaustive tbls: %llu polynomials, %llu t-subsets checked\n", (unsigned long long)polys,
            (unsigned long long)subsets);
    return 0;
}
