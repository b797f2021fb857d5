/* G2 of BLS12-381 (the M-type twist y^2 = x^3 + 4(1+u) over Fp2): the shared projective/Jacobian
 * code instantiated over Fp2, plus the psi endomorphism (GLS, subgroup test) and ZCash encoding. */
#include "g2.h"

#include <string.h>

#define PT g2_t
#define AFF g2_affine_t
#define FE fp2_t
#define FN(name) g2_##name
#define fe_add fp2_add
#define fe_sub fp2_sub
#define fe_dbl fp2_dbl
#define fe_neg fp2_neg
#define fe_mul fp2_mul
#define fe_sqr fp2_sqr
#define fe_inv fp2_inv
#define fe_cmov fp2_cmov
#define fe_is_zero fp2_is_zero
#define fe_eq fp2_eq
#define FE_ONE_V FP2_ONE
#define FE_ZERO_V FP2_ZERO

#define MONT4                                                                                     \
    {                                                                                              \
        {                                                                                          \
            0xaa270000000cfff3ULL, 0x53cc0032fc34000aULL, 0x478fe97a6b0a807fULL,                   \
                0xb1d37ebee6ba24d7ULL, 0x8ec9733bbf78ab2fULL, 0x09d645513d83de7eULL                \
        }                                                                                          \
    }
static const fp2_t G2_B = {MONT4, MONT4}; /* 4 + 4u */
#define FE_B_V G2_B

/* psi(x, y) = (conj(x) c_x, conj(y) c_y), c_x = 1/(1+u)^((p-1)/3) (purely imaginary, only its
 * u-coefficient is stored), c_y = 1/(1+u)^((p-1)/2). */
static const fp_t PSI_CX1 = {{0x890dc9e4867545c3ULL, 0x2af322533285a5d5ULL, 0x50880866309b7e2cULL,
                              0xa20d1b8c7e881024ULL, 0x14e4f04fe2db9068ULL, 0x14e56d3f1564853aULL}};
static const fp2_t PSI_CY = {
    {{0x3e2f585da55c9ad1ULL, 0x4294213d86c18183ULL, 0x382844c88b623732ULL, 0x92ad2afd19103e18ULL,
      0x1d794e4fac7cf0b9ULL, 0x0bd592fc7d825ec8ULL}},
    {{0x7bcfa7a25aa30fdaULL, 0xdc17dec12a927e7cULL, 0x2f088dd86b4ebef1ULL, 0xd1ca2087da74d4a7ULL,
      0x2da2596696cebc1dULL, 0x0e2b7eedbbfd87d2ULL}}};
/* psi^2(x, y) = (c2 x, -y) with c2 = c_x conj(c_x) in Fp (a primitive cube root of unity). */
static const fp_t PSI2_CX = {{0xcd03c9e48671f071ULL, 0x5dab22461fcda5d2ULL, 0x587042afd3851b95ULL,
                              0x8eb60ebe01bacb9eULL, 0x03f97d6e83d050d2ULL, 0x18f0206554638741ULL}};

const g2_affine_t G2_GENERATOR = {
    {{{0xf5f28fa202940a10ULL, 0xb3f5fb2687b4961aULL, 0xa1a893b53e2ae580ULL, 0x9894999d1a3caee9ULL,
       0x6f67b7631863366bULL, 0x058191924350bcd7ULL}},
     {{0xa5a9c0759e23f606ULL, 0xaaa0c59dbccd60c3ULL, 0x3bb17e18e2867806ULL, 0x1b1ab6cc8541b367ULL,
       0xc2b6ed0ef2158547ULL, 0x11922a097360edf3ULL}}},
    {{{0x4c730af860494c4aULL, 0x597cfa1f5e369c5aULL, 0xe7e6856caa0a635aULL, 0xbbefb5e96e0d495fULL,
       0x07d3a975f0ef25a2ULL, 0x0083fd8e7e80dae5ULL}},
     {{0xadc0fc92df64b05dULL, 0x18aa270a2b1461dcULL, 0x86adac6a3be4eba0ULL, 0x79495c4ec93da33aULL,
       0xe7175850a43ccaedULL, 0x0b2bc2a163de1bf2ULL}}}};

/* 3b = 12(1+u), by additions. */
static inline void fe_mul_b3(fp2_t *r, const fp2_t *a) {
    fp2_t t;
    fp2_mul_by_xi(&t, a);
    fp2_add(r, &t, &t);
    fp2_add(r, r, &t);
    fp2_add(r, r, r);
    fp2_add(r, r, r);
}

/* conj(a) * c_x with c_x = c u: (a0 - a1 u) c u = a1 c + a0 c u. */
static inline void psi_x(fp2_t *r, const fp2_t *a) {
    fp_t t;
    fp_mul(&t, &a->c0, &PSI_CX1);
    fp_mul(&r->c0, &a->c1, &PSI_CX1);
    r->c1 = t;
}

static inline void psi_y(fp2_t *r, const fp2_t *a) {
    fp2_t t;
    fp2_conj(&t, a);
    fp2_mul(r, &t, &PSI_CY);
}

static void psi_affine(g2_affine_t *r, const g2_affine_t *a) {
    psi_x(&r->x, &a->x);
    psi_y(&r->y, &a->y);
}

/* MSM inputs split by GLS: k = d0 + d1|x| + d2|x|^2 + d3|x|^3 and [|x|]P = -psi(P). */
#define MSM_SPLIT 4
#define MSM_LIMBS 1
#define MSM_BITS 64
/* g2_mul: Jacobian doublings between the complete additions (2M + 5S against 6M + 2S over Fp2). */
#define CT_JAC_DBL 1
static void msm_split(g2_affine_t out[4], uint64_t k[4][1], const g2_affine_t *p, const uint64_t s[4]);

#include "curve_impl.h"

static void msm_split(g2_affine_t out[4], uint64_t k[4][1], const g2_affine_t *p, const uint64_t s[4]) {
    uint64_t d[4];
    sc_split_x_vartime(d, s);
    out[0] = *p;
    for (int i = 1; i < 4; i++) {
        psi_affine(&out[i], &out[i - 1]);
        fp2_neg(&out[i].y, &out[i].y);
    }
    for (int i = 0; i < 4; i++) k[i][0] = d[i];
}

void g2_psi(g2_t *r, const g2_t *p) {
    psi_x(&r->x, &p->x);
    psi_y(&r->y, &p->y);
    fp2_conj(&r->z, &p->z);
}

/* -psi(P) and psi^2(P) in projective form; both are homomorphisms, so tables map entrywise. */
static void neg_psi(g2_t *r, const g2_t *p) {
    g2_psi(r, p);
    fp2_neg(&r->y, &r->y);
}

static void psi2(g2_t *r, const g2_t *p) {
    fp2_mul_fp(&r->x, &p->x, &PSI2_CX);
    fp2_neg(&r->y, &p->y);
    r->z = p->z;
}

void g2_mul(g2_t *r, const g2_t *p, const uint64_t k[4]) {
    /* GLS: k mod r = sum d_i |x|^i with 64-bit digits, and [|x|^i]P = (-psi)^i(P) on G2. */
    uint64_t d[4];
    g2_t tbl[4][CT_TBL];
    sc_split_x(d, k);
    ct_build_table(tbl[0], p);
    for (int i = 0; i < CT_TBL; i++) {
        neg_psi(&tbl[1][i], &tbl[0][i]);
        psi2(&tbl[2][i], &tbl[0][i]);
        neg_psi(&tbl[3][i], &tbl[2][i]);
    }
    ct_multi_mul(r, tbl, d, 4, 1, 64);
    tkms_wipe(d, sizeof d);
    tkms_wipe(tbl, sizeof tbl);
}

void g2_mul_vartime(g2_t *r, const g2_t *p, const uint64_t k[4]) {
    /* GLS as in g2_mul, with interleaved wNAF over the four 64-bit digits. */
    if (g2_is_identity(p)) {
        g2_identity(r);
        return;
    }
    uint64_t d[4];
    g2_affine_t tbl[4][WNAF_TBL];
    sc_split_x_vartime(d, k);
    wnaf_table(tbl[0], p);
    for (int j = 1; j < 4; j++)
        for (int i = 0; i < WNAF_TBL; i++) {
            psi_affine(&tbl[j][i], &tbl[j - 1][i]);
            fp2_neg(&tbl[j][i].y, &tbl[j][i].y);
        }
    wnaf_multi(r, tbl, d, 4, 1);
}

uint64_t g2_in_subgroup_vartime(const g2_t *p) {
    if (g2_is_identity(p)) return 1;
    /* psi(P) = [x]P = -[|x|]P (Scott; EIP-2537). */
    jac_t j, q;
    jac_from_proj(&j, p);
    q = j;
    for (int i = 62; i >= 0; i--) {
        jac_dbl(&q, &q);
        if ((SC_ABS_X >> i) & 1) jac_add(&q, &q, &j);
    }
    if (fp2_is_zero(&q.z)) return 0;
    g2_t s;
    g2_psi(&s, p);
    fp2_t zz, zzz, l, rr;
    fp2_sqr(&zz, &q.z);
    fp2_mul(&zzz, &zz, &q.z);
    fp2_mul(&l, &s.x, &zz);
    fp2_mul(&rr, &q.x, &s.z);
    if (!fp2_eq(&l, &rr)) return 0;
    fp2_mul(&l, &s.y, &zzz);
    fp2_mul(&rr, &q.y, &s.z);
    fp2_neg(&rr, &rr);
    return fp2_eq(&l, &rr);
}

/* ------------------------------------------------------------------------------------------ */
/* ZCash encoding: x as c1 || c0, flags in the top three bits of the first byte as for G1; the
 * sign compares c1 first. */

void g2_serialize(uint8_t out[96], const g2_affine_t *a) {
    uint64_t inf = g2_affine_is_identity(a);
    fp2_to_bytes(out, &a->x);
    uint8_t sign = (uint8_t)(fp2_is_lexlarge(&a->y) << 5);
    out[0] |= (uint8_t)(0x80 | sign);
    uint8_t m = (uint8_t)ct_mask(inf);
    for (int i = 0; i < 96; i++) out[i] &= (uint8_t)~m;
    out[0] |= (uint8_t)(0xc0 & m);
}

void g2_serialize_uncompressed(uint8_t out[192], const g2_affine_t *a) {
    uint64_t inf = g2_affine_is_identity(a);
    fp2_to_bytes(out, &a->x);
    fp2_to_bytes(out + 96, &a->y);
    uint8_t m = (uint8_t)ct_mask(inf);
    out[0] |= (uint8_t)(0x40 & m);
}

g2_status g2_deserialize(g2_affine_t *r, const uint8_t *in, size_t len, int allow_identity) {
    if (len == 0) return G2_ERR_LENGTH;
    unsigned c = in[0] >> 7, inf = (in[0] >> 6) & 1, s = (in[0] >> 5) & 1;
    if (len != (c ? 96u : 192u)) return G2_ERR_LENGTH;
    if (inf) {
        uint8_t acc = (uint8_t)(in[0] & 0x3f);
        for (size_t i = 1; i < len; i++) acc |= in[i];
        if (acc) return G2_ERR_FLAGS;
        if (!allow_identity) return G2_ERR_IDENTITY;
        r->x = FP2_ZERO;
        r->y = FP2_ZERO;
        return G2_OK;
    }
    if (!c && s) return G2_ERR_FLAGS;
    uint8_t buf[96];
    memcpy(buf, in, 96);
    buf[0] &= 0x1f;
    g2_affine_t a;
    if (!fp2_from_bytes(&a.x, buf)) return G2_ERR_RANGE;
    if (c) {
        fp2_t y2, ny;
        fp2_sqr(&y2, &a.x);
        fp2_mul(&y2, &y2, &a.x);
        fp2_add(&y2, &y2, &G2_B);
        if (!fp2_sqrt_vartime(&a.y, &y2)) return G2_ERR_NOT_ON_CURVE;
        fp2_neg(&ny, &a.y);
        fp2_cmov(&a.y, &ny, fp2_is_lexlarge(&a.y) ^ s);
    } else {
        if (!fp2_from_bytes(&a.y, in + 96)) return G2_ERR_RANGE;
        /* (0, 0) without the infinity flag is not a point: the identity must say so */
        if (g2_affine_is_identity(&a) || !g2_affine_is_on_curve(&a)) return G2_ERR_NOT_ON_CURVE;
    }
    g2_t p;
    g2_from_affine(&p, &a);
    if (!g2_in_subgroup_vartime(&p)) return G2_ERR_SUBGROUP;
    *r = a;
    return G2_OK;
}
