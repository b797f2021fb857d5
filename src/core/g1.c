/* G1 of BLS12-381 (y^2 = x^3 + 4 over Fp): the shared projective/Jacobian code instantiated over Fp,
 * plus the GLV endomorphism, Scott's subgroup test and the ZCash encoding. */
#include "g1.h"

#include <string.h>

#define PT g1_t
#define AFF g1_affine_t
#define FE fp_t
#define FN(name) g1_##name
#define fe_add fp_add
#define fe_sub fp_sub
#define fe_dbl fp_dbl
#define fe_neg fp_neg
#define fe_mul fp_mul
#define fe_sqr fp_sqr
#define fe_inv fp_inv
#define fe_cmov fp_cmov
#define fe_is_zero fp_is_zero
#define fe_eq fp_eq
#define FE_ONE_V FP_ONE
#define FE_ZERO_V FP_ZERO

static const fp_t G1_B = {{0xaa270000000cfff3ULL, 0x53cc0032fc34000aULL, 0x478fe97a6b0a807fULL,
                           0xb1d37ebee6ba24d7ULL, 0x8ec9733bbf78ab2fULL, 0x09d645513d83de7eULL}};
#define FE_B_V G1_B

/* beta: the cube root of unity for which phi(x, y) = (beta x, y) acts as [-x^2] on G1 (checked on
 * the generator when the constant was derived, and again by the tests). */
static const fp_t G1_BETA = {{0x30f1361b798a64e8ULL, 0xf3b8ddab7ece5a2aULL, 0x16a8ca3ac61577f7ULL,
                              0xc26a2ff874fd029bULL, 0x3636b76660701c6eULL, 0x051ba4ab241b6160ULL}};

const g1_affine_t G1_GENERATOR = {
    {{0x5cb38790fd530c16ULL, 0x7817fc679976fff5ULL, 0x154f95c7143ba1c1ULL, 0xf0ae6acdf3d0e747ULL,
      0xedce6ecc21dbf440ULL, 0x120177419e0bfb75ULL}},
    {{0xbaac93d50ce72271ULL, 0x8c22631a7918fd8eULL, 0xdd595f13570725ceULL, 0x51ac582950405194ULL,
      0x0e1c8c3fad0059c0ULL, 0x0bbc3efc5008a26aULL}}};

/* 3b = 12, by additions. */
static inline void fe_mul_b3(fp_t *r, const fp_t *a) {
    fp_t t;
    fp_add(&t, a, a);
    fp_add(&t, &t, a);
    fp_add(&t, &t, &t);
    fp_add(r, &t, &t);
}

/* MSM inputs split by GLV: k = k1 + k2 x^2 with [x^2]P = -phi(P). */
#define MSM_SPLIT 2
#define MSM_LIMBS 2
#define MSM_BITS 128
static void msm_split(g1_affine_t out[2], uint64_t k[2][2], const g1_affine_t *p, const uint64_t s[4]);

#include "curve_impl.h"

static void msm_split(g1_affine_t out[2], uint64_t k[2][2], const g1_affine_t *p, const uint64_t s[4]) {
    uint64_t d[4];
    sc_split_x_vartime(d, s);
    sc_combine_x(k[0], d[0], d[1]);
    sc_combine_x(k[1], d[2], d[3]);
    out[0] = *p;
    fp_mul(&out[1].x, &p->x, &G1_BETA);
    fp_neg(&out[1].y, &p->y);
}

void g1_phi(g1_t *r, const g1_t *p) {
    fp_mul(&r->x, &p->x, &G1_BETA);
    r->y = p->y;
    r->z = p->z;
}

void g1_mul(g1_t *r, const g1_t *p, const uint64_t k[4]) {
    /* GLV: k mod r = k1 + k2 x^2 with k1, k2 < 2^128, and [x^2]P = -phi(P). */
    uint64_t d[4], kk[2][2];
    g1_t tbl[2][CT_TBL];
    sc_split_x(d, k);
    sc_combine_x(kk[0], d[0], d[1]);
    sc_combine_x(kk[1], d[2], d[3]);
    ct_build_table(tbl[0], p);
    for (int i = 0; i < CT_TBL; i++) {
        fp_mul(&tbl[1][i].x, &tbl[0][i].x, &G1_BETA);
        fp_neg(&tbl[1][i].y, &tbl[0][i].y);
        tbl[1][i].z = tbl[0][i].z;
    }
    ct_multi_mul(r, tbl, &kk[0][0], 2, 2, 128);
    tkms_wipe(d, sizeof d);
    tkms_wipe(kk, sizeof kk);
    tkms_wipe(tbl, sizeof tbl);
}

void g1_mul_vartime(g1_t *r, const g1_t *p, const uint64_t k[4]) {
    /* GLV as in g1_mul, with interleaved wNAF over the two 128-bit halves. */
    if (g1_is_identity(p)) {
        g1_identity(r);
        return;
    }
    uint64_t d[4], kk[2][2];
    g1_affine_t tbl[2][WNAF_TBL];
    sc_split_x_vartime(d, k);
    sc_combine_x(kk[0], d[0], d[1]);
    sc_combine_x(kk[1], d[2], d[3]);
    wnaf_table(tbl[0], p);
    for (int i = 0; i < WNAF_TBL; i++) {
        fp_mul(&tbl[1][i].x, &tbl[0][i].x, &G1_BETA);
        fp_neg(&tbl[1][i].y, &tbl[0][i].y);
    }
    wnaf_multi(r, tbl, &kk[0][0], 2, 2);
}

/* [|x|]P in Jacobian coordinates: 63 doublings and 5 additions (|x| has weight 6). */
static void jac_mul_abs_x(jac_t *r, const jac_t *p) {
    jac_t acc = *p;
    for (int i = 62; i >= 0; i--) {
        jac_dbl(&acc, &acc);
        if ((SC_ABS_X >> i) & 1) jac_add(&acc, &acc, p);
    }
    *r = acc;
}

uint64_t g1_in_subgroup_vartime(const g1_t *p) {
    if (g1_is_identity(p)) return 1;
    /* Scott (eprint 2021/1130): P is in G1 iff phi(P) = [-x^2]P. */
    jac_t j, q;
    jac_from_proj(&j, p);
    jac_mul_abs_x(&q, &j);
    jac_mul_abs_x(&q, &q);
    if (fp_is_zero(&q.z)) return 0;
    /* phi(P) = (beta X : Y : Z) against -Q = (Xq / Zq^2, -Yq / Zq^3) */
    fp_t zz, zzz, l, rr;
    fp_sqr(&zz, &q.z);
    fp_mul(&zzz, &zz, &q.z);
    fp_mul(&l, &p->x, &G1_BETA);
    fp_mul(&l, &l, &zz);
    fp_mul(&rr, &q.x, &p->z);
    if (!fp_eq(&l, &rr)) return 0;
    fp_mul(&l, &p->y, &zzz);
    fp_mul(&rr, &q.y, &p->z);
    fp_neg(&rr, &rr);
    return fp_eq(&l, &rr);
}

/* ------------------------------------------------------------------------------------------ */
/* ZCash encoding: big-endian x with flags C (0x80, compressed), I (0x40, infinity) and
 * S (0x20, y is the larger root) in the top bits of the first byte. */

void g1_serialize(uint8_t out[48], const g1_affine_t *a) {
    uint64_t inf = g1_affine_is_identity(a);
    fp_to_bytes(out, &a->x);
    uint8_t sign = (uint8_t)(fp_is_lexlarge(&a->y) << 5);
    out[0] |= (uint8_t)(0x80 | sign);
    uint8_t m = (uint8_t)ct_mask(inf);
    for (int i = 0; i < 48; i++) out[i] &= (uint8_t)~m; /* clear for the identity... */
    out[0] |= (uint8_t)(0xc0 & m);                     /* ...and write 0xc0 || 0 */
}

void g1_serialize_uncompressed(uint8_t out[96], const g1_affine_t *a) {
    uint64_t inf = g1_affine_is_identity(a);
    fp_to_bytes(out, &a->x);
    fp_to_bytes(out + 48, &a->y);
    uint8_t m = (uint8_t)ct_mask(inf);
    out[0] |= (uint8_t)(0x40 & m); /* identity: x = y = 0, so this gives 0x40 || 0 */
}

g1_status g1_deserialize(g1_affine_t *r, const uint8_t *in, size_t len, int allow_identity) {
    if (len == 0) return G1_ERR_LENGTH;
    unsigned c = in[0] >> 7, inf = (in[0] >> 6) & 1, s = (in[0] >> 5) & 1;
    if (len != (c ? 48u : 96u)) return G1_ERR_LENGTH;
    if (inf) {
        uint8_t acc = (uint8_t)(in[0] & 0x3f);
        for (size_t i = 1; i < len; i++) acc |= in[i];
        if (acc) return G1_ERR_FLAGS;
        if (!allow_identity) return G1_ERR_IDENTITY;
        r->x = FP_ZERO;
        r->y = FP_ZERO;
        return G1_OK;
    }
    if (!c && s) return G1_ERR_FLAGS;
    uint8_t buf[48];
    memcpy(buf, in, 48);
    buf[0] &= 0x1f;
    g1_affine_t a;
    if (!fp_from_bytes(&a.x, buf)) return G1_ERR_RANGE;
    if (c) {
        fp_t y2, ny;
        fp_sqr(&y2, &a.x);
        fp_mul(&y2, &y2, &a.x);
        fp_add(&y2, &y2, &G1_B);
        if (!fp_sqrt(&a.y, &y2)) return G1_ERR_NOT_ON_CURVE;
        fp_neg(&ny, &a.y);
        fp_cmov(&a.y, &ny, fp_is_lexlarge(&a.y) ^ s);
    } else {
        if (!fp_from_bytes(&a.y, in + 48)) return G1_ERR_RANGE;
        /* (0, 0) without the infinity flag is not a point: the identity must say so */
        if (g1_affine_is_identity(&a) || !g1_affine_is_on_curve(&a)) return G1_ERR_NOT_ON_CURVE;
    }
    g1_t p;
    g1_from_affine(&p, &a);
    if (!g1_in_subgroup_vartime(&p)) return G1_ERR_SUBGROUP;
    *r = a;
    return G1_OK;
}
