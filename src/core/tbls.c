/* Threshold BLS over BLS12-381 (min-sig): dealing, public shares, Lagrange, partial sign/verify,
 * randomised batch verification with bisection, combine and robust combine. See tbls.h. */
#include "tbls.h"

#include <string.h>

#include "h2c.h"
#include "pairing.h"
#include "sha256.h"

/* ---- the generic Shamir/Lagrange/Feldman code, instantiated over Fr and G2 ---- */
static void fr_small(fr_t *r, uint64_t v) { fr_from_u64(r, v); }
static void g2_small_mul(g2_t *r, const g2_t *a, uint64_t k) {
    g2_t tmp;
    g2_mul_u64s_vartime(&tmp, a, &k, 1);
    *r = tmp;
}
#define SH_PREFIX(name) sh_##name
#define SH_F fr_t
#define SH_F_ADD(r, a, b) fr_add(r, a, b)
#define SH_F_SUB(r, a, b) fr_sub(r, a, b)
#define SH_F_MUL(r, a, b) fr_mul(r, a, b)
#define SH_F_FROM_U64(r, v) fr_small(r, v)
#define SH_F_BATCH_INV(out, in, n, s) fr_batch_inv(out, in, n, s)
#define SH_G g2_t
#define SH_GS g2_affine_t
#define SH_G_LOAD(r, a) g2_from_affine(r, a)
#define SH_G_ADD_STORED(r, a, b) g2_add_affine(r, a, b)
#define SH_G_SMALL_MUL(r, a, k) g2_small_mul(r, a, k)
#include "shamir_impl.h"
#include "proto_bytes.h"
#include "proto_tags.h"

/* Indices are uint32_t, far below r, so any non-zero distinct set is valid. */
#define IDX_LIMIT ((uint64_t)1 << 32)

static const uint8_t DEAL_SALT[] = TKMS_TAG_TBLS_DEAL;
static const uint8_t BATCH_TAG[] = TKMS_TAG_TBLS_BATCH;

/* ---- scratch layout ---- */
typedef struct {
    fr_t *fr;                 /* 3k */
    uint64_t (*sc)[4];        /* k */
    g1_affine_t *g1a;         /* k */
    g2_affine_t *g2a;         /* k */
    g2_t *g2p;                /* k */
    fp2_t *fp2s;              /* k */
    void *msm;                /* max msm scratch */
} layout;

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
static size_t al8(size_t x) { return (x + 7) & ~(size_t)7; }

size_t tbls_scratch_size(size_t k) {
    if (k == 0) k = 1;
    return al8(3 * k * sizeof(fr_t)) + al8(k * sizeof(uint64_t[4])) + al8(k * sizeof(g1_affine_t)) +
           al8(k * sizeof(g2_affine_t)) + al8(k * sizeof(g2_t)) + al8(k * sizeof(fp2_t)) +
           al8(max_sz(g1_msm_scratch_size(k), g2_msm_scratch_size(k)));
}

static layout carve(void *scratch, size_t k) {
    layout l;
    uint8_t *p = (uint8_t *)scratch;
    if (k == 0) k = 1;
    l.fr = (fr_t *)(void *)p;
    p += al8(3 * k * sizeof(fr_t));
    l.sc = (uint64_t(*)[4])(void *)p;
    p += al8(k * sizeof(uint64_t[4]));
    l.g1a = (g1_affine_t *)(void *)p;
    p += al8(k * sizeof(g1_affine_t));
    l.g2a = (g2_affine_t *)(void *)p;
    p += al8(k * sizeof(g2_affine_t));
    l.g2p = (g2_t *)(void *)p;
    p += al8(k * sizeof(g2_t));
    l.fp2s = (fp2_t *)(void *)p;
    p += al8(k * sizeof(fp2_t));
    l.msm = p;
    return l;
}


/* ---- dealing ---- */
int tbls_deal(fr_t *shares, g2_affine_t *commitments, const fr_t *secret, const uint8_t seed[32], size_t t,
              size_t n, void *scratch) {
    if (t < 1 || t > n || n > TBLS_MAX_N) return 0;
    layout l = carve(scratch, n);
    fr_t *a = l.fr; /* t coefficients, secret */
    uint8_t prk[32], wide[64], info[4];
    hkdf_sha256_extract(prk, DEAL_SALT, sizeof DEAL_SALT - 1, seed, 32);
    a[0] = *secret;
    for (size_t k = 1; k < t; k++) {
        proto_be32(info, (uint32_t)k);
        (void)hkdf_sha256_expand(wide, sizeof wide, prk, info, sizeof info);
        fr_from_bytes_wide(&a[k], wide, sizeof wide);
    }
    for (size_t i = 0; i < n; i++) sh_poly_eval(&shares[i], a, t, (uint64_t)i + 1);
    g2_t gen;
    g2_from_affine(&gen, &G2_GENERATOR);
    for (size_t k = 0; k < t; k++) {
        uint64_t s[4];
        fr_to_scalar(s, &a[k]);
        g2_mul(&l.g2p[k], &gen, s);
        tkms_wipe(s, sizeof s);
    }
    g2_batch_to_affine(commitments, l.g2p, t, l.fp2s);
    tkms_wipe(a, t * sizeof(fr_t));
    tkms_wipe(prk, sizeof prk);
    tkms_wipe(wide, sizeof wide);
    return 1;
}

/* ---- public shares ---- */
void tbls_public_share(g2_t *pk, const g2_affine_t *commitments, size_t t, uint32_t index) {
    sh_public_share(pk, commitments, t, index);
}

void tbls_public_shares(g2_affine_t *pks, const g2_affine_t *commitments, size_t t, size_t n, void *scratch) {
    layout l = carve(scratch, n);
    for (size_t i = 0; i < n; i++) sh_public_share(&l.g2p[i], commitments, t, (uint64_t)i + 1);
    g2_batch_to_affine(pks, l.g2p, n, l.fp2s);
}

int tbls_verify_share(const fr_t *share, uint32_t index, const g2_affine_t *commitments, size_t t) {
    if (index == 0 || t == 0) return 0;
    g2_t gen, lhs, rhs;
    uint64_t s[4];
    g2_from_affine(&gen, &G2_GENERATOR);
    fr_to_scalar(s, share);
    g2_mul(&lhs, &gen, s);
    tkms_wipe(s, sizeof s);
    sh_public_share(&rhs, commitments, t, index);
    return (int)g2_eq(&lhs, &rhs);
}

int tbls_lagrange_at_zero(fr_t *lambda, const uint32_t *idx, size_t k, void *scratch) {
    layout l = carve(scratch, k);
    return sh_lagrange_at_zero(lambda, idx, k, IDX_LIMIT, l.fr);
}

/* ---- partial signatures ---- */
void tbls_partial_sign_hashed(g1_t *sig, const fr_t *share, const g1_t *hm) {
    uint64_t s[4];
    fr_to_scalar(s, share);
    g1_mul(sig, hm, s);
    tkms_wipe(s, sizeof s);
}

void tbls_partial_sign(g1_t *sig, const fr_t *share, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                       size_t dst_len) {
    g1_t hm;
    h2c_hash_to_g1(&hm, msg, msg_len, dst, dst_len);
    tbls_partial_sign_hashed(sig, share, &hm);
}

static int pairing_check(const g1_affine_t *s, const g1_affine_t *hm, const g2_affine_t *pk) {
    /* e(s, G2) * e(-hm, pk) == 1 */
    g1_affine_t P[2];
    g2_affine_t Q[2];
    P[0] = *s;
    g1_affine_neg(&P[1], hm);
    Q[0] = G2_GENERATOR;
    Q[1] = *pk;
    return (int)pairing_product_is_one(P, Q, 2);
}

int tbls_verify_partial(const g1_affine_t *sig, const g1_affine_t *hm, const g2_affine_t *pk) {
    if (g1_affine_is_identity(sig) | g1_affine_is_identity(hm) | g2_affine_is_identity(pk)) return 0;
    return pairing_check(sig, hm, pk);
}

/* ---- batch verification ---- */
typedef struct {
    const g1_affine_t *hm;
    const tbls_partial *parts;
    const g2_affine_t *pks;
    const uint8_t *seed;
    uint8_t *bad;
    size_t nbad;
    layout l;
} batch_ctx;

/* r_j: 128-bit scalars with the top bit set (never 0), bound to this sub-batch (its first
 * position and size) so that the bisection's checks use independent coefficients. */
static void batch_scalar(uint64_t out[4], const uint8_t seed[32], uint32_t first, uint32_t cnt, uint32_t pos) {
    sha256_ctx c;
    uint8_t h[32], b[12];
    proto_be32(b, first);
    proto_be32(b + 4, cnt);
    proto_be32(b + 8, pos);
    sha256_init(&c);
    sha256_update(&c, BATCH_TAG, sizeof BATCH_TAG - 1);
    sha256_update(&c, seed, 32);
    sha256_update(&c, b, sizeof b);
    sha256_final(&c, h);
    out[0] = 0;
    out[1] = 0;
    for (int i = 0; i < 8; i++) {
        out[0] = (out[0] << 8) | h[i];
        out[1] = (out[1] << 8) | h[8 + i];
    }
    out[1] |= (uint64_t)1 << 63;
    out[2] = out[3] = 0;
}

/* Checks the sub-batch given by the positions pos[0..cnt). */
static int batch_check(batch_ctx *c, const uint32_t *pos, size_t cnt) {
    for (size_t j = 0; j < cnt; j++) {
        const tbls_partial *p = &c->parts[pos[j]];
        if (g1_affine_is_identity(&p->sig) || g2_affine_is_identity(&c->pks[pos[j]])) return 0;
        c->l.g1a[j] = p->sig;
        c->l.g2a[j] = c->pks[pos[j]];
        batch_scalar(c->l.sc[j], c->seed, pos[0], (uint32_t)cnt, pos[j]);
    }
    if (cnt == 1) return pairing_check(&c->l.g1a[0], c->hm, &c->l.g2a[0]);
    g1_t S;
    g2_t P;
    g1_msm_vartime(&S, c->l.g1a, (const uint64_t(*)[4])c->l.sc, cnt, c->l.msm);
    g2_msm_vartime(&P, c->l.g2a, (const uint64_t(*)[4])c->l.sc, cnt, c->l.msm);
    g1_affine_t Sa;
    g2_affine_t Pa;
    g1_to_affine(&Sa, &S);
    g2_to_affine(&Pa, &P);
    return pairing_check(&Sa, c->hm, &Pa);
}

/* Finds the bad partials among pos[0..cnt). known_bad: the caller already knows this range fails. */
static void bisect(batch_ctx *c, const uint32_t *pos, size_t cnt, int known_bad) {
    if (cnt == 0) return;
    if (!known_bad && batch_check(c, pos, cnt)) return;
    if (cnt == 1) {
        c->bad[pos[0]] = 1;
        c->nbad++;
        return;
    }
    size_t half = cnt / 2;
    if (batch_check(c, pos, half)) {
        bisect(c, pos + half, cnt - half, 1); /* the failure is on the right */
    } else {
        bisect(c, pos, half, 1);
        bisect(c, pos + half, cnt - half, 0);
    }
}

static int batch_args_ok(const g1_affine_t *hm, size_t k) {
    return k >= 1 && k <= TBLS_MAX_N && !g1_affine_is_identity(hm);
}

int tbls_batch_verify(const g1_affine_t *hm, const tbls_partial *parts, const g2_affine_t *pks, size_t k,
                      const uint8_t seed[32], void *scratch) {
    if (!batch_args_ok(hm, k)) return 0;
    uint32_t pos[TBLS_MAX_N];
    for (size_t i = 0; i < k; i++) pos[i] = (uint32_t)i;
    batch_ctx c = {hm, parts, pks, seed, NULL, 0, carve(scratch, k)};
    return batch_check(&c, pos, k);
}

size_t tbls_batch_find_bad(uint8_t *bad, const g1_affine_t *hm, const tbls_partial *parts, const g2_affine_t *pks,
                           size_t k, const uint8_t seed[32], void *scratch) {
    memset(bad, 1, k);
    if (!batch_args_ok(hm, k)) return k;
    memset(bad, 0, k);
    uint32_t pos[TBLS_MAX_N];
    for (size_t i = 0; i < k; i++) pos[i] = (uint32_t)i;
    batch_ctx c = {hm, parts, pks, seed, bad, 0, carve(scratch, k)};
    bisect(&c, pos, k, 0);
    return c.nbad;
}

/* ---- combine ---- */
static int combine_sel(g1_t *sig, const tbls_partial *parts, const uint32_t *sel, size_t k, int vartime,
                       void *scratch) {
    if (k == 0 || k > TBLS_MAX_N) return 0;
    layout l = carve(scratch, k);
    uint32_t idx[TBLS_MAX_N];
    fr_t *lambda = l.fr + 2 * k;
    for (size_t i = 0; i < k; i++) idx[i] = parts[sel[i]].index;
    if (!sh_lagrange_at_zero(lambda, idx, k, IDX_LIMIT, l.fr)) return 0;
    if (vartime) {
        for (size_t i = 0; i < k; i++) {
            fr_to_scalar(l.sc[i], &lambda[i]);
            l.g1a[i] = parts[sel[i]].sig;
        }
        g1_msm_vartime(sig, l.g1a, (const uint64_t(*)[4])l.sc, k, l.msm);
        return 1;
    }
    g1_t acc, p, term;
    g1_identity(&acc);
    for (size_t i = 0; i < k; i++) {
        uint64_t s[4];
        fr_to_scalar(s, &lambda[i]);
        g1_from_affine(&p, &parts[sel[i]].sig);
        g1_mul(&term, &p, s);
        g1_add(&acc, &acc, &term);
    }
    *sig = acc;
    tkms_wipe(&p, sizeof p);
    tkms_wipe(&term, sizeof term);
    tkms_wipe(&acc, sizeof acc);
    return 1;
}

static int combine_all(g1_t *sig, const tbls_partial *parts, size_t k, int vartime, void *scratch) {
    if (k == 0 || k > TBLS_MAX_N) return 0;
    uint32_t sel[TBLS_MAX_N];
    for (size_t i = 0; i < k; i++) sel[i] = (uint32_t)i;
    return combine_sel(sig, parts, sel, k, vartime, scratch);
}

int tbls_combine(g1_t *sig, const tbls_partial *parts, size_t k, void *scratch) {
    return combine_all(sig, parts, k, 0, scratch);
}

int tbls_combine_vartime(g1_t *sig, const tbls_partial *parts, size_t k, void *scratch) {
    return combine_all(sig, parts, k, 1, scratch);
}

int tbls_robust_combine(g1_t *sig, uint8_t *bad, size_t *n_bad, const g1_affine_t *hm, const tbls_partial *parts,
                        const g2_affine_t *pks, size_t k, size_t t, const uint8_t seed[32], void *scratch) {
    *n_bad = k;
    if (k > 0) memset(bad, 1, k);
    if (t == 0 || k == 0 || k > TBLS_MAX_N || g1_affine_is_identity(hm)) return 0;
    /* Index 0 is never a valid share (it would be the secret itself); leave those out. */
    uint32_t pos[TBLS_MAX_N];
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (parts[i].index != 0) pos[m++] = (uint32_t)i;
    }
    for (size_t i = 0; i < m; i++) bad[pos[i]] = 0;
    batch_ctx c = {hm, parts, pks, seed, bad, k - m, carve(scratch, k)};
    bisect(&c, pos, m, 0);
    *n_bad = c.nbad;
    /* The first t valid partials with distinct indices (two valid partials with the same index
     * are the same point, so dropping the later one loses nothing). */
    uint32_t sel[TBLS_MAX_N];
    size_t s = 0;
    for (size_t i = 0; i < k && s < t; i++) {
        if (bad[i]) continue;
        int dup = 0;
        for (size_t j = 0; j < s; j++) dup |= parts[sel[j]].index == parts[i].index;
        if (!dup) sel[s++] = (uint32_t)i;
    }
    if (s < t) return 0;
    return combine_sel(sig, parts, sel, t, 0, scratch);
}
