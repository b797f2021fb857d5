/* Group arithmetic shared by G1 (over Fp) and G2 (over Fp2): included once by g1.c and once by
 * g2.c with the field operations bound to macros, so both groups run the same audited code. */
/* clang-format off */
/* Required before inclusion:
 *   PT, AFF, FE          point, affine point and field element types
 *   FN(name)             public name in this group (g1_##name)
 *   fe_add fe_sub fe_dbl fe_neg fe_mul fe_sqr fe_inv fe_cmov fe_is_zero fe_eq   field ops
 *   FE_ONE_V FE_ZERO_V   field constants
 *   fe_mul_b3(r, a)      r = 3b * a;  FE_B_V the curve constant b
 *   MSM_SPLIT, MSM_LIMBS, MSM_BITS and msm_split(): endomorphism split of MSM inputs
 */
/* clang-format on */

#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Projective (homogeneous) complete formulas: Renes-Costello-Batina, eprint 2015/1060, a = 0. */

void FN(identity)(PT *r) {
    r->x = FE_ZERO_V;
    r->y = FE_ONE_V;
    r->z = FE_ZERO_V;
}

uint64_t FN(is_identity)(const PT *p) { return fe_is_zero(&p->z); }

uint64_t FN(affine_is_identity)(const AFF *p) { return fe_is_zero(&p->x) & fe_is_zero(&p->y); }

void FN(from_affine)(PT *r, const AFF *a) {
    uint64_t inf = FN(affine_is_identity)(a);
    r->x = a->x;
    r->y = a->y;
    r->z = FE_ONE_V;
    /* (0, 0) maps to (0 : 1 : 0) */
    fe_cmov(&r->y, &FE_ONE_V, inf);
    fe_cmov(&r->z, &FE_ZERO_V, inf);
}

void FN(to_affine)(AFF *r, const PT *p) {
    FE zi;
    fe_inv(&zi, &p->z); /* the identity has z = 0 and inverts to 0, giving (0, 0) */
    fe_mul(&r->x, &p->x, &zi);
    fe_mul(&r->y, &p->y, &zi);
}

void FN(batch_to_affine)(AFF *out, const PT *in, size_t n, FE *scratch) {
    if (n == 0) return;
    /* Montgomery's trick; identities contribute a factor 1 and come out as (0, 0). */
    FE acc = FE_ONE_V, z, inv, t;
    for (size_t i = 0; i < n; i++) {
        z = in[i].z;
        fe_cmov(&z, &FE_ONE_V, fe_is_zero(&z));
        scratch[i] = acc;
        fe_mul(&acc, &acc, &z);
    }
    fe_inv(&inv, &acc);
    for (size_t i = n; i-- > 0;) {
        uint64_t inf = fe_is_zero(&in[i].z);
        z = in[i].z;
        fe_cmov(&z, &FE_ONE_V, inf);
        fe_mul(&t, &inv, &scratch[i]); /* 1 / z_i */
        fe_mul(&inv, &inv, &z);
        PT p = in[i]; /* out may alias in */
        fe_mul(&out[i].x, &p.x, &t);
        fe_mul(&out[i].y, &p.y, &t);
        fe_cmov(&out[i].x, &FE_ZERO_V, inf);
        fe_cmov(&out[i].y, &FE_ZERO_V, inf);
    }
}

uint64_t FN(eq)(const PT *a, const PT *b) {
    /* Cross-multiplied comparison; it also handles identities, whose x and z are both 0. */
    FE t0, t1, t2, t3;
    fe_mul(&t0, &a->x, &b->z);
    fe_mul(&t1, &b->x, &a->z);
    fe_mul(&t2, &a->y, &b->z);
    fe_mul(&t3, &b->y, &a->z);
    return fe_eq(&t0, &t1) & fe_eq(&t2, &t3);
}

/* Algorithm 7: 12M + 2 mul by 3b. */
void FN(add)(PT *r, const PT *a, const PT *b) {
    FE t0, t1, t2, t3, t4, x3, y3, z3;
    fe_mul(&t0, &a->x, &b->x);
    fe_mul(&t1, &a->y, &b->y);
    fe_mul(&t2, &a->z, &b->z);
    fe_add(&t3, &a->x, &a->y);
    fe_add(&t4, &b->x, &b->y);
    fe_mul(&t3, &t3, &t4);
    fe_add(&t4, &t0, &t1);
    fe_sub(&t3, &t3, &t4);
    fe_add(&t4, &a->y, &a->z);
    fe_add(&x3, &b->y, &b->z);
    fe_mul(&t4, &t4, &x3);
    fe_add(&x3, &t1, &t2);
    fe_sub(&t4, &t4, &x3);
    fe_add(&x3, &a->x, &a->z);
    fe_add(&y3, &b->x, &b->z);
    fe_mul(&x3, &x3, &y3);
    fe_add(&y3, &t0, &t2);
    fe_sub(&y3, &x3, &y3);
    fe_add(&x3, &t0, &t0);
    fe_add(&t0, &x3, &t0);
    fe_mul_b3(&t2, &t2);
    fe_add(&z3, &t1, &t2);
    fe_sub(&t1, &t1, &t2);
    fe_mul_b3(&y3, &y3);
    fe_mul(&x3, &t4, &y3);
    fe_mul(&t2, &t3, &t1);
    fe_sub(&x3, &t2, &x3);
    fe_mul(&y3, &y3, &t0);
    fe_mul(&t1, &t1, &z3);
    fe_add(&y3, &t1, &y3);
    fe_mul(&t0, &t0, &t3);
    fe_mul(&z3, &z3, &t4);
    fe_add(&z3, &z3, &t0);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* Algorithm 8 (b has z = 1): 11M + 2 mul by 3b. The formula cannot represent an affine identity,
 * so that case is patched in with a conditional move. */
void FN(add_affine)(PT *r, const PT *a, const AFF *b) {
    FE t0, t1, t2, t3, t4, x3, y3, z3;
    uint64_t binf = FN(affine_is_identity)(b);
    fe_mul(&t0, &a->x, &b->x);
    fe_mul(&t1, &a->y, &b->y);
    fe_add(&t3, &b->x, &b->y);
    fe_add(&t4, &a->x, &a->y);
    fe_mul(&t3, &t3, &t4);
    fe_add(&t4, &t0, &t1);
    fe_sub(&t3, &t3, &t4);
    fe_mul(&t4, &b->y, &a->z);
    fe_add(&t4, &t4, &a->y);
    fe_mul(&y3, &b->x, &a->z);
    fe_add(&y3, &y3, &a->x);
    fe_add(&x3, &t0, &t0);
    fe_add(&t0, &x3, &t0);
    fe_mul_b3(&t2, &a->z);
    fe_add(&z3, &t1, &t2);
    fe_sub(&t1, &t1, &t2);
    fe_mul_b3(&y3, &y3);
    fe_mul(&x3, &t4, &y3);
    fe_mul(&t2, &t3, &t1);
    fe_sub(&x3, &t2, &x3);
    fe_mul(&y3, &y3, &t0);
    fe_mul(&t1, &t1, &z3);
    fe_add(&y3, &t1, &y3);
    fe_mul(&t0, &t0, &t3);
    fe_mul(&z3, &z3, &t4);
    fe_add(&z3, &z3, &t0);
    fe_cmov(&x3, &a->x, binf);
    fe_cmov(&y3, &a->y, binf);
    fe_cmov(&z3, &a->z, binf);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* Algorithm 9: 6M + 2S + 1 mul by 3b. */
void FN(dbl)(PT *r, const PT *a) {
    FE t0, t1, t2, x3, y3, z3;
    fe_sqr(&t0, &a->y);
    fe_add(&z3, &t0, &t0);
    fe_add(&z3, &z3, &z3);
    fe_add(&z3, &z3, &z3);
    fe_mul(&t1, &a->y, &a->z);
    fe_sqr(&t2, &a->z);
    fe_mul_b3(&t2, &t2);
    fe_mul(&x3, &t2, &z3);
    fe_add(&y3, &t0, &t2);
    fe_mul(&z3, &t1, &z3);
    fe_add(&t1, &t2, &t2);
    fe_add(&t2, &t1, &t2);
    fe_sub(&t0, &t0, &t2);
    fe_mul(&y3, &t0, &y3);
    fe_add(&y3, &x3, &y3);
    fe_mul(&t1, &a->x, &a->y);
    fe_mul(&x3, &t0, &t1);
    fe_add(&x3, &x3, &x3);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

void FN(neg)(PT *r, const PT *a) {
    r->x = a->x;
    fe_neg(&r->y, &a->y);
    r->z = a->z;
}

void FN(affine_neg)(AFF *r, const AFF *a) {
    r->x = a->x;
    fe_neg(&r->y, &a->y); /* -0 = 0 keeps the identity */
}

void FN(cmov)(PT *r, const PT *a, uint64_t bit) {
    fe_cmov(&r->x, &a->x, bit);
    fe_cmov(&r->y, &a->y, bit);
    fe_cmov(&r->z, &a->z, bit);
}

uint64_t FN(affine_is_on_curve)(const AFF *a) {
    FE l, rr;
    fe_sqr(&l, &a->y);
    fe_sqr(&rr, &a->x);
    fe_mul(&rr, &rr, &a->x);
    fe_add(&rr, &rr, &FE_B_V);
    return fe_eq(&l, &rr) | FN(affine_is_identity)(a);
}

uint64_t FN(is_on_curve)(const PT *p) {
    /* Y^2 Z = X^3 + b Z^3, and not the all-zero triple (which satisfies it trivially). */
    FE l, rr, z3;
    fe_sqr(&l, &p->y);
    fe_mul(&l, &l, &p->z);
    fe_sqr(&rr, &p->x);
    fe_mul(&rr, &rr, &p->x);
    fe_sqr(&z3, &p->z);
    fe_mul(&z3, &z3, &p->z);
    fe_mul(&z3, &z3, &FE_B_V);
    fe_add(&rr, &rr, &z3);
    uint64_t zero = fe_is_zero(&p->x) & fe_is_zero(&p->y) & fe_is_zero(&p->z);
    return fe_eq(&l, &rr) & (zero ^ 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Jacobian coordinates (x = X/Z^2, y = Y/Z^3) for public data only: cheaper doublings and mixed
 * additions, with the exceptional cases handled by branches, which is fine on public inputs. */

typedef struct {
    FE x, y, z; /* z = 0 is the identity */
} jac_t;

static void jac_set_identity(jac_t *r) {
    r->x = FE_ONE_V;
    r->y = FE_ONE_V;
    r->z = FE_ZERO_V;
}

static void jac_from_proj(jac_t *r, const PT *p) {
    /* (X : Y : Z) -> (X Z, Y Z^2, Z) */
    FE zz;
    fe_sqr(&zz, &p->z);
    fe_mul(&r->x, &p->x, &p->z);
    fe_mul(&r->y, &p->y, &zz);
    r->z = p->z;
}

static void jac_to_proj(PT *r, const jac_t *p) {
    if (fe_is_zero(&p->z)) {
        FN(identity)(r);
        return;
    }
    /* (X, Y, Z) -> (X Z : Y : Z^3) */
    FE zz;
    fe_sqr(&zz, &p->z);
    fe_mul(&r->x, &p->x, &p->z);
    r->y = p->y;
    fe_mul(&r->z, &zz, &p->z);
}

/* dbl-2009-l: 1M + 5S. */
static void jac_dbl(jac_t *r, const jac_t *p) {
    FE a, b, c, d, e, f, t;
    fe_sqr(&a, &p->x);
    fe_sqr(&b, &p->y);
    fe_sqr(&c, &b);
    fe_add(&d, &p->x, &b);
    fe_sqr(&d, &d);
    fe_sub(&d, &d, &a);
    fe_sub(&d, &d, &c);
    fe_dbl(&d, &d);
    fe_dbl(&e, &a);
    fe_add(&e, &e, &a);
    fe_sqr(&f, &e);
    fe_mul(&t, &p->y, &p->z);
    fe_dbl(&r->z, &t);
    fe_dbl(&t, &d);
    fe_sub(&r->x, &f, &t);
    fe_sub(&t, &d, &r->x);
    fe_mul(&t, &e, &t);
    fe_dbl(&c, &c);
    fe_dbl(&c, &c);
    fe_dbl(&c, &c);
    fe_sub(&r->y, &t, &c);
}

/* madd-2007-bl: 7M + 4S; q is affine and not the identity. */
static void jac_add_affine(jac_t *r, const jac_t *p, const AFF *q) {
    if (fe_is_zero(&p->z)) {
        r->x = q->x;
        r->y = q->y;
        r->z = FE_ONE_V;
        return;
    }
    FE z1z1, u2, s2, h, hh, i, j, rr, v, t;
    fe_sqr(&z1z1, &p->z);
    fe_mul(&u2, &q->x, &z1z1);
    fe_mul(&s2, &q->y, &p->z);
    fe_mul(&s2, &s2, &z1z1);
    fe_sub(&h, &u2, &p->x);
    fe_sub(&rr, &s2, &p->y);
    if (fe_is_zero(&h)) {
        if (fe_is_zero(&rr)) {
            jac_dbl(r, p);
        } else {
            jac_set_identity(r);
        }
        return;
    }
    fe_dbl(&rr, &rr);
    fe_sqr(&hh, &h);
    fe_dbl(&i, &hh);
    fe_dbl(&i, &i);
    fe_mul(&j, &h, &i);
    fe_mul(&v, &p->x, &i);
    FE y1 = p->y, z1 = p->z;
    fe_sqr(&r->x, &rr);
    fe_sub(&r->x, &r->x, &j);
    fe_sub(&r->x, &r->x, &v);
    fe_sub(&r->x, &r->x, &v);
    fe_sub(&t, &v, &r->x);
    fe_mul(&t, &rr, &t);
    fe_mul(&j, &y1, &j);
    fe_dbl(&j, &j);
    fe_sub(&r->y, &t, &j);
    fe_add(&t, &z1, &h);
    fe_sqr(&t, &t);
    fe_sub(&t, &t, &z1z1);
    fe_sub(&r->z, &t, &hh);
}

/* add-2007-bl: 11M + 5S. */
static void jac_add(jac_t *r, const jac_t *p, const jac_t *q) {
    if (fe_is_zero(&p->z)) {
        *r = *q;
        return;
    }
    if (fe_is_zero(&q->z)) {
        *r = *p;
        return;
    }
    FE z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
    fe_sqr(&z1z1, &p->z);
    fe_sqr(&z2z2, &q->z);
    fe_mul(&u1, &p->x, &z2z2);
    fe_mul(&u2, &q->x, &z1z1);
    fe_mul(&s1, &p->y, &q->z);
    fe_mul(&s1, &s1, &z2z2);
    fe_mul(&s2, &q->y, &p->z);
    fe_mul(&s2, &s2, &z1z1);
    fe_sub(&h, &u2, &u1);
    fe_sub(&rr, &s2, &s1);
    if (fe_is_zero(&h)) {
        if (fe_is_zero(&rr)) {
            jac_dbl(r, p);
        } else {
            jac_set_identity(r);
        }
        return;
    }
    fe_dbl(&rr, &rr);
    fe_dbl(&i, &h);
    fe_sqr(&i, &i);
    fe_mul(&j, &h, &i);
    fe_mul(&v, &u1, &i);
    fe_add(&t, &p->z, &q->z);
    fe_sqr(&t, &t);
    fe_sub(&t, &t, &z1z1);
    fe_sub(&t, &t, &z2z2);
    fe_mul(&r->z, &t, &h);
    fe_sqr(&r->x, &rr);
    fe_sub(&r->x, &r->x, &j);
    fe_sub(&r->x, &r->x, &v);
    fe_sub(&r->x, &r->x, &v);
    fe_sub(&t, &v, &r->x);
    fe_mul(&t, &rr, &t);
    fe_mul(&s1, &s1, &j);
    fe_dbl(&s1, &s1);
    fe_sub(&r->y, &t, &s1);
}

/* ------------------------------------------------------------------------------------------ */
/* Scalar helpers. */

/* count (<= 32) bits of k starting at bit start; bits past the end read as 0. Indices are public. */
static uint64_t sc_bits(const uint64_t *k, size_t nlimbs, size_t start, unsigned count) {
    size_t li = start / 64;
    unsigned sh = (unsigned)(start % 64);
    uint64_t lo = li < nlimbs ? k[li] >> sh : 0;
    uint64_t hi = (sh != 0 && li + 1 < nlimbs) ? k[li + 1] << (64 - sh) : 0;
    return (lo | hi) & ((1ULL << count) - 1);
}

/* Booth digit of the window of width w at bit pos: bits [pos-1, pos+w) give a signed digit in
 * [-2^(w-1), 2^(w-1)]; returned as magnitude and sign (1 = negative), without branches. */
static void sc_booth(uint64_t *mag, uint64_t *neg, const uint64_t *k, size_t nlimbs, size_t pos, unsigned w) {
    uint64_t v = pos == 0 ? sc_bits(k, nlimbs, 0, w) << 1 : sc_bits(k, nlimbs, pos - 1, w + 1);
    uint64_t s = v >> w;
    uint64_t t = (v + 1) >> 1;
    uint64_t n = (1ULL << w) - t;
    *mag = t ^ ((t ^ n) & ct_mask(s));
    *neg = s;
}

static size_t sc_bitlen_vartime(const uint64_t *k, size_t nlimbs) {
    for (size_t i = nlimbs; i-- > 0;)
        if (k[i]) return i * 64 + 64 - (size_t)__builtin_clzll(k[i]);
    return 0;
}

/* |x| for the BLS parameter x = -0xd201000000010000. */
#define SC_ABS_X 0xd201000000010000ULL

/* Projective -> Jacobian and back without branches, for the constant-time paths below. The
 * identity (Z = 0) may come out of jac_from_proj as (0, 0, 0); jac_dbl keeps Z = 0 whatever X and
 * Y are, and jac_to_proj_ct maps every Z = 0 back to (0 : 1 : 0). */
static void jac_to_proj_ct(PT *r, const jac_t *p) {
    FE zz;
    uint64_t inf = fe_is_zero(&p->z);
    fe_sqr(&zz, &p->z);
    fe_mul(&r->x, &p->x, &p->z);
    r->y = p->y;
    fe_mul(&r->z, &zz, &p->z);
    fe_cmov(&r->y, &FE_ONE_V, inf);
}

/* r = [|x|] p for the BLS parameter, constant time in p (the scalar is a public constant): the
 * 63 doublings in Jacobian coordinates (dbl-2009-l has no exceptional case for a = 0), the five
 * additions with the complete projective formula. */
void FN(mul_x_abs)(PT *r, const PT *p) {
    jac_t acc;
    PT t;
    jac_from_proj(&acc, p);
    for (int i = 62; i >= 0; i--) {
        jac_dbl(&acc, &acc);
        if ((SC_ABS_X >> i) & 1) { /* public constant bits */
            jac_to_proj_ct(&t, &acc);
            FN(add)(&t, &t, p);
            jac_from_proj(&acc, &t);
        }
    }
    jac_to_proj_ct(r, &acc);
}

/* k mod r for any 256-bit k (k < 2^256 < 3r: two masked subtractions). */
static void sc_reduce_r(uint64_t out[4], const uint64_t k[4]) {
    static const uint64_t R[4] = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                                  0x73eda753299d7d48ULL};
    uint64_t t[4], a[4];
    memcpy(a, k, sizeof a);
    for (int round = 0; round < 2; round++) {
        uint64_t borrow = 0;
        for (int i = 0; i < 4; i++) {
            unsigned __int128 d = (unsigned __int128)a[i] - R[i] - borrow;
            t[i] = (uint64_t)d;
            borrow = (uint64_t)(d >> 64) & 1;
        }
        ct_cmov_words(a, t, 4, borrow ^ 1);
    }
    memcpy(out, a, sizeof a);
    tkms_wipe(a, sizeof a);
    tkms_wipe(t, sizeof t);
}

/* q = a / |x|, returns a mod |x|, for a below 2^nbits; restoring division one bit at a time
 * with masks, since the hardware divider's timing depends on its operands. */
static uint64_t sc_divrem_x(uint64_t q[4], const uint64_t a[4], size_t nbits) {
    uint64_t rm = 0, qq[4] = {0, 0, 0, 0};
    for (size_t i = nbits; i-- > 0;) {
        uint64_t bit = (a[i / 64] >> (i % 64)) & 1;
        uint64_t hi = rm >> 63;
        rm = (rm << 1) | bit;
        unsigned __int128 d = (unsigned __int128)rm - SC_ABS_X;
        uint64_t ge = hi | (((uint64_t)(d >> 64) & 1) ^ 1);
        rm ^= (rm ^ (uint64_t)d) & ct_mask(ge);
        qq[i / 64] |= ge << (i % 64);
    }
    memcpy(q, qq, sizeof qq);
    tkms_wipe(qq, sizeof qq);
    return rm;
}

/* k mod r = d0 + d1 |x| + d2 |x|^2 + d3 |x|^3 with every digit below |x| (r < |x|^4). */
static void sc_split_x(uint64_t d[4], const uint64_t k[4]) {
    uint64_t a[4], q[4];
    sc_reduce_r(a, k);
    d[0] = sc_divrem_x(q, a, 255);
    d[1] = sc_divrem_x(a, q, 192); /* q < r / |x| < 2^192 */
    d[2] = sc_divrem_x(q, a, 128);
    d[3] = q[0];
    tkms_wipe(a, sizeof a);
    tkms_wipe(q, sizeof q);
}

/* The same split for public scalars, with the hardware divider. */
static void sc_split_x_vartime(uint64_t d[4], const uint64_t k[4]) {
    uint64_t a[4];
    sc_reduce_r(a, k);
    for (int j = 0; j < 3; j++) {
        unsigned __int128 rem = 0;
        for (int i = 3; i >= 0; i--) {
            unsigned __int128 cur = (rem << 64) | a[i];
            a[i] = (uint64_t)(cur / SC_ABS_X);
            rem = cur % SC_ABS_X;
        }
        d[j] = (uint64_t)rem;
    }
    d[3] = a[0];
}

/* lo + hi * |x| as two limbs. */
static inline void sc_combine_x(uint64_t out[2], uint64_t lo, uint64_t hi) {
    unsigned __int128 v = (unsigned __int128)hi * SC_ABS_X + lo;
    out[0] = (uint64_t)v;
    out[1] = (uint64_t)(v >> 64);
}

/* ------------------------------------------------------------------------------------------ */
/* Constant-time fixed-window multi-scalar core for the GLV/GLS splits: r = sum_j [k_j] T_j[0],
 * where T_j holds the multiples 1..CT_TBL of one base point and k_j has nbits bits. Digits are
 * Booth-encoded (width CT_W) and each table is read in full under masks. */
#define CT_W 5
#define CT_TBL (1 << (CT_W - 1))

static void ct_build_table(PT tbl[CT_TBL], const PT *p) {
    tbl[0] = *p;
    FN(dbl)(&tbl[1], p);
    for (int i = 2; i < CT_TBL; i++) FN(add)(&tbl[i], &tbl[i - 1], p);
}

static void ct_select(PT *r, const PT tbl[CT_TBL], uint64_t mag, uint64_t neg) {
    PT t;
    FN(identity)(r);
    /* points are plain arrays of 64-bit limbs: one flat masked copy per entry is much cheaper
     * than the per-coordinate cmov calls */
    for (uint64_t i = 1; i <= CT_TBL; i++)
        ct_cmov_words((uint64_t *)(void *)r, (const uint64_t *)(const void *)&tbl[i - 1], sizeof(PT) / 8, ct_eq_u64(i, mag));
    FN(neg)(&t, r);
    FN(cmov)(r, &t, neg);
}

static void ct_multi_mul(PT *r, PT (*tbls)[CT_TBL], const uint64_t *k, size_t ntbl, size_t nlimbs, size_t nbits) {
    size_t nwin = (nbits + 1 + CT_W - 1) / CT_W;
    PT acc, t;
    uint64_t mag, neg;
    FN(identity)(&acc);
    for (size_t w = nwin; w-- > 0;) {
        if (w != nwin - 1) {
#ifdef CT_JAC_DBL
            /* the run of doublings in Jacobian coordinates (cheaper over Fp2), back for the adds */
            jac_t j;
            jac_from_proj(&j, &acc);
            for (int d = 0; d < CT_W; d++) jac_dbl(&j, &j);
            jac_to_proj_ct(&acc, &j);
            tkms_wipe(&j, sizeof j);
#else
            for (int d = 0; d < CT_W; d++) FN(dbl)(&acc, &acc);
#endif
        }
        for (size_t j = 0; j < ntbl; j++) {
            sc_booth(&mag, &neg, k + j * nlimbs, nlimbs, w * CT_W, CT_W);
            ct_select(&t, tbls[j], mag, neg);
            FN(add)(&acc, &acc, &t);
        }
    }
    *r = acc;
    tkms_wipe(&t, sizeof t);
    tkms_wipe(&mag, sizeof mag);
    tkms_wipe(&neg, sizeof neg);
}

/* ------------------------------------------------------------------------------------------ */
/* Variable-time wNAF multiplication for public scalars. */
#define WNAF_W 5
#define WNAF_TBL (1 << (WNAF_W - 2)) /* odd multiples 1, 3, ..., 2^(w-1) - 1 */
#define WNAF_MAX (64 * 8 + 2)

/* Width-w NAF digits of k (public), least significant first; returns their number (<= bits + 1). */
static size_t wnaf_digits(int8_t *digits, const uint64_t *k, size_t nlimbs) {
    uint64_t c[9];
    size_t n = (sc_bitlen_vartime(k, nlimbs) + 63) / 64, len = 0;
    memcpy(c, k, n * sizeof(uint64_t));
    c[n] = 0; /* a spare limb for the carries of negative digits */
    while (sc_bitlen_vartime(c, n + 1) != 0) {
        int d = 0;
        if (c[0] & 1) {
            d = (int)(c[0] & ((1u << WNAF_W) - 1));
            if (d >= (1 << (WNAF_W - 1))) d -= 1 << WNAF_W;
            if (d > 0) { /* c -= d */
                uint64_t b = (uint64_t)d;
                for (size_t i = 0; i <= n && b; i++) {
                    uint64_t o = c[i];
                    c[i] = o - b;
                    b = o < b;
                }
            } else { /* c += -d */
                uint64_t a = (uint64_t)(-d);
                for (size_t i = 0; i <= n && a; i++) {
                    c[i] += a;
                    a = c[i] < a;
                }
            }
        }
        digits[len++] = (int8_t)d;
        for (size_t i = 0; i < n; i++) c[i] = (c[i] >> 1) | (c[i + 1] << 63);
        c[n] >>= 1;
    }
    return len;
}

/* Odd multiples of p, normalised to affine (one inversion) so the main loop uses mixed additions.
 * p must not be the identity; the multiples of a point of small order may hit the identity, which
 * comes out as (0, 0) and is skipped by the caller. */
static void wnaf_table(AFF tbl[WNAF_TBL], const PT *p) {
    PT t[WNAF_TBL], p2;
    FE scratch[WNAF_TBL];
    t[0] = *p;
    FN(dbl)(&p2, p);
    for (int i = 1; i < WNAF_TBL; i++) FN(add)(&t[i], &t[i - 1], &p2);
    FN(batch_to_affine)(tbl, t, WNAF_TBL, scratch);
}

/* sum_j [k_j] B_j with interleaved wNAF (shared doublings); tbls[j] holds B_j's odd multiples. */
static void wnaf_multi(PT *r, AFF (*tbls)[WNAF_TBL], const uint64_t *k, size_t nb, size_t nlimbs) {
    int8_t digits[4][WNAF_MAX];
    size_t len[4], maxlen = 0;
    for (size_t j = 0; j < nb; j++) {
        len[j] = wnaf_digits(digits[j], k + j * nlimbs, nlimbs);
        if (len[j] > maxlen) maxlen = len[j];
    }
    jac_t acc;
    jac_set_identity(&acc);
    for (size_t i = maxlen; i-- > 0;) {
        jac_dbl(&acc, &acc);
        for (size_t j = 0; j < nb; j++) {
            if (i >= len[j] || digits[j][i] == 0) continue;
            int d = digits[j][i];
            AFF t = tbls[j][(d < 0 ? -d : d) >> 1];
            if (FN(affine_is_identity)(&t)) continue;
            if (d < 0) FN(affine_neg)(&t, &t);
            jac_add_affine(&acc, &acc, &t);
        }
    }
    jac_to_proj(r, &acc);
}

void FN(mul_u64s_vartime)(PT *r, const PT *p, const uint64_t *k, size_t nlimbs) {
    size_t nb = sc_bitlen_vartime(k, nlimbs);
    if (nb == 0 || FN(is_identity)(p)) {
        FN(identity)(r);
        return;
    }
    if (nb + 1 > WNAF_MAX) {
        /* very long public multipliers fall back to double-and-add */
        jac_t acc, base;
        jac_from_proj(&base, p);
        jac_set_identity(&acc);
        for (size_t i = nb; i-- > 0;) {
            jac_dbl(&acc, &acc);
            if ((k[i / 64] >> (i % 64)) & 1) jac_add(&acc, &acc, &base);
        }
        jac_to_proj(r, &acc);
        return;
    }
    AFF tbl[1][WNAF_TBL];
    wnaf_table(tbl[0], p);
    wnaf_multi(r, tbl, k, 1, (nb + 63) / 64);
}

/* ------------------------------------------------------------------------------------------ */
/* Pippenger MSM on public data. Every input is first split with the group's endomorphism into
 * MSM_SPLIT affine points with MSM_BITS-bit scalars (cheap in affine form), which shortens the
 * window loop. Two bucket strategies, picked by a cost model:
 *  - small inputs: Jacobian buckets filled with mixed additions (7M + 4S each);
 *  - large inputs: affine buckets filled in batches of affine additions that share one inversion
 *    (Montgomery's trick: about 6M each), the approach of blst and gnark for big MSMs. A point whose
 *    bucket is already in the current batch waits for the next batch. */

#define MSM_MAXC 16
#define MSM_BATCH 512

typedef struct {
    size_t c;   /* window width */
    int affine; /* batch-affine buckets */
} msm_plan_t;

static size_t msm_ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* A batch holds at most one job per bucket; it is flushed once half the buckets are busy, since
 * from there on most points would have to wait for the next batch. */
static size_t msm_batch_limit(size_t nb) {
    size_t lim = nb / 2 < MSM_BATCH ? nb / 2 : MSM_BATCH;
    return lim ? lim : 1;
}

/* Cost in field multiplications x 2, per window: point additions, then the bucket reduction
 * (a mixed and a full Jacobian addition per bucket, or two full ones). */
static msm_plan_t msm_plan(size_t npts) {
    msm_plan_t best = {2, 0};
    size_t bestcost = SIZE_MAX;
    for (size_t c = 2; c <= MSM_MAXC; c++) {
        size_t nb = (size_t)1 << (c - 1), nwin = msm_ceil_div(MSM_BITS + 1, c);
        if (nb > 4 * npts + 64) break; /* more buckets than points only costs */
        size_t jac = nwin * (npts * 22 + nb * 64);
        size_t batch = msm_batch_limit(nb);
        size_t aff = nwin * (npts * 13 + (msm_ceil_div(npts, batch) + 1) * 260 + nb * 54);
        if (jac < bestcost) {
            bestcost = jac;
            best.c = c;
            best.affine = 0;
        }
        if (aff < bestcost) {
            bestcost = aff;
            best.c = c;
            best.affine = 1;
        }
    }
    return best;
}

static size_t msm_align8(size_t x) { return (x + 7) & ~(size_t)7; }

typedef struct {
    uint32_t pt;     /* index into the split points */
    uint32_t bucket; /* bucket index */
    uint32_t neg;    /* add -P instead of P */
    uint32_t dbl;    /* the bucket holds P already: a doubling */
} msm_job_t;

/* Scratch layout (all pieces 8-byte aligned): split points and scalars, then per plan either
 * Jacobian buckets, or affine buckets + flags + digit/queue arrays + the batch. */
static size_t msm_layout(size_t npts, msm_plan_t pl) {
    size_t nb = (size_t)1 << (pl.c - 1);
    size_t sz = npts * sizeof(AFF) + npts * MSM_LIMBS * sizeof(uint64_t);
    if (!pl.affine) return sz + nb * sizeof(jac_t);
    sz += nb * sizeof(AFF) + msm_align8(2 * nb);             /* buckets, empty + busy flags */
    sz += msm_align8(npts * sizeof(int32_t)) + 2 * msm_align8(npts * sizeof(uint32_t)); /* digits, queues */
    sz += MSM_BATCH * (sizeof(msm_job_t) + 2 * sizeof(FE));  /* jobs, denominators, prefixes */
    return sz;
}

size_t FN(msm_scratch_size)(size_t n) {
    size_t npts = n * MSM_SPLIT;
    return msm_layout(npts, msm_plan(npts));
}

/* Completes the batched affine additions B[bucket] += (+-)P: one inversion for all of them. */
static void msm_flush(AFF *bk, uint8_t *busy, const AFF *pts, const msm_job_t *jobs, size_t cnt, FE *den, FE *pre) {
    if (cnt == 0) return;
    FE acc = FE_ONE_V, inv, t, lam, x3, num;
    for (size_t j = 0; j < cnt; j++) {
        const AFF *b = &bk[jobs[j].bucket];
        if (jobs[j].dbl) {
            fe_dbl(&den[j], &b->y);
        } else {
            fe_sub(&den[j], &pts[jobs[j].pt].x, &b->x);
        }
        pre[j] = acc;
        fe_mul(&acc, &acc, &den[j]);
    }
    fe_inv(&inv, &acc);
    for (size_t j = cnt; j-- > 0;) {
        AFF *b = &bk[jobs[j].bucket];
        AFF p = pts[jobs[j].pt];
        if (jobs[j].neg) fe_neg(&p.y, &p.y);
        fe_mul(&t, &inv, &pre[j]); /* 1 / den_j */
        fe_mul(&inv, &inv, &den[j]);
        if (jobs[j].dbl) {
            fe_sqr(&num, &b->x); /* 3 x^2 / 2y */
            fe_add(&lam, &num, &num);
            fe_add(&num, &lam, &num);
        } else {
            fe_sub(&num, &p.y, &b->y);
        }
        fe_mul(&lam, &num, &t);
        fe_sqr(&x3, &lam);
        fe_sub(&x3, &x3, &b->x);
        fe_sub(&x3, &x3, &p.x);
        fe_sub(&t, &b->x, &x3);
        fe_mul(&t, &t, &lam);
        fe_sub(&b->y, &t, &b->y);
        b->x = x3;
        busy[jobs[j].bucket] = 0;
    }
}

/* sum_b (b+1) B_b by running sums from the top bucket down, added into acc. */
static void msm_reduce_affine(jac_t *acc, const AFF *bk, const uint8_t *empty, size_t nb) {
    jac_t run, sum;
    jac_set_identity(&run);
    jac_set_identity(&sum);
    for (size_t b = nb; b-- > 0;) {
        if (!empty[b]) jac_add_affine(&run, &run, &bk[b]);
        jac_add(&sum, &sum, &run);
    }
    jac_add(acc, acc, &sum);
}

void FN(msm_vartime)(PT *r, const AFF *points, const uint64_t (*scalars)[4], size_t n, void *scratch) {
    size_t npts = n * MSM_SPLIT;
    msm_plan_t pl = msm_plan(npts);
    size_t c = pl.c, nb = (size_t)1 << (c - 1);
    uint8_t *sp8 = (uint8_t *)scratch;
    AFF *pts = (AFF *)sp8;
    uint64_t *ks = (uint64_t *)(sp8 + npts * sizeof(AFF));
    uint8_t *rest = sp8 + npts * sizeof(AFF) + npts * MSM_LIMBS * sizeof(uint64_t);

    /* split, dropping identities and zero scalars */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (FN(affine_is_identity)(&points[i])) continue;
        AFF sp[MSM_SPLIT];
        uint64_t sk[MSM_SPLIT][MSM_LIMBS];
        msm_split(sp, sk, &points[i], scalars[i]);
        for (size_t j = 0; j < MSM_SPLIT; j++) {
            if (sc_bitlen_vartime(sk[j], MSM_LIMBS) == 0) continue;
            pts[m] = sp[j];
            memcpy(ks + m * MSM_LIMBS, sk[j], sizeof sk[j]);
            m++;
        }
    }
    jac_t acc, run, sum;
    jac_set_identity(&acc);
    size_t nwin = msm_ceil_div(MSM_BITS + 1, c);
    if (!pl.affine) {
        jac_t *buckets = (jac_t *)rest;
        for (size_t w = nwin; w-- > 0;) {
            if (w != nwin - 1)
                for (size_t d = 0; d < c; d++) jac_dbl(&acc, &acc);
            for (size_t b = 0; b < nb; b++) jac_set_identity(&buckets[b]);
            for (size_t i = 0; i < m; i++) {
                uint64_t mag, neg;
                sc_booth(&mag, &neg, ks + i * MSM_LIMBS, MSM_LIMBS, w * c, (unsigned)c);
                if (mag == 0) continue;
                if (neg) {
                    AFF t;
                    FN(affine_neg)(&t, &pts[i]);
                    jac_add_affine(&buckets[mag - 1], &buckets[mag - 1], &t);
                } else {
                    jac_add_affine(&buckets[mag - 1], &buckets[mag - 1], &pts[i]);
                }
            }
            jac_set_identity(&run);
            jac_set_identity(&sum);
            for (size_t b = nb; b-- > 0;) {
                jac_add(&run, &run, &buckets[b]);
                jac_add(&sum, &sum, &run);
            }
            jac_add(&acc, &acc, &sum);
        }
        jac_to_proj(r, &acc);
        return;
    }

    AFF *bk = (AFF *)rest;
    uint8_t *empty = (uint8_t *)(bk + nb), *busy = empty + nb;
    int32_t *dg = (int32_t *)(rest + nb * sizeof(AFF) + msm_align8(2 * nb));
    uint32_t *q0 = (uint32_t *)((uint8_t *)dg + msm_align8(m * sizeof(int32_t)));
    uint32_t *q1 = (uint32_t *)((uint8_t *)q0 + msm_align8(m * sizeof(uint32_t)));
    msm_job_t *jobs = (msm_job_t *)((uint8_t *)q1 + msm_align8(m * sizeof(uint32_t)));
    FE *den = (FE *)(jobs + MSM_BATCH), *pre = den + MSM_BATCH;
    size_t lim = msm_batch_limit(nb);
    for (size_t w = nwin; w-- > 0;) {
        if (w != nwin - 1)
            for (size_t d = 0; d < c; d++) jac_dbl(&acc, &acc);
        memset(empty, 1, nb);
        memset(busy, 0, nb);
        size_t qn = 0, maxmag = 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t mag, neg;
            sc_booth(&mag, &neg, ks + i * MSM_LIMBS, MSM_LIMBS, w * c, (unsigned)c);
            dg[i] = neg ? -(int32_t)mag : (int32_t)mag;
            if (mag) q0[qn++] = (uint32_t)i;
            if (mag > maxmag) maxmag = mag;
        }
        if (maxmag <= nb / 2 && qn > 32 * maxmag) {
            /* The top window uses only a few buckets, each hit by many points: batches would
             * conflict constantly, so this window accumulates in Jacobian buckets instead (they
             * fit in the affine bucket space: maxmag * sizeof(jac_t) <= nb * sizeof(AFF)). */
            jac_t *jb = (jac_t *)(void *)bk;
            for (size_t b = 0; b < maxmag; b++) jac_set_identity(&jb[b]);
            for (size_t qi = 0; qi < qn; qi++) {
                uint32_t i = q0[qi];
                int32_t d = dg[i];
                AFF t = pts[i];
                if (d < 0) fe_neg(&t.y, &t.y);
                size_t b = (size_t)(d < 0 ? -d : d) - 1;
                jac_add_affine(&jb[b], &jb[b], &t);
            }
            jac_set_identity(&run);
            jac_set_identity(&sum);
            for (size_t b = maxmag; b-- > 0;) {
                jac_add(&run, &run, &jb[b]);
                jac_add(&sum, &sum, &run);
            }
            jac_add(&acc, &acc, &sum);
            continue;
        }
        uint32_t *cur = q0, *nxt = q1;
        while (qn) {
            size_t nn = 0, cnt = 0;
            for (size_t qi = 0; qi < qn; qi++) {
                uint32_t i = cur[qi];
                int32_t d = dg[i];
                uint32_t b = (uint32_t)(d < 0 ? -d : d) - 1, ng = d < 0;
                if (busy[b]) {
                    nxt[nn++] = i; /* this bucket is already in the batch */
                    continue;
                }
                if (empty[b]) {
                    bk[b] = pts[i];
                    if (ng) fe_neg(&bk[b].y, &bk[b].y);
                    empty[b] = 0;
                    continue;
                }
                uint32_t dbl = 0;
                if (fe_eq(&bk[b].x, &pts[i].x)) {
                    FE y = pts[i].y;
                    if (ng) fe_neg(&y, &y);
                    if (!fe_eq(&bk[b].y, &y)) {
                        empty[b] = 1; /* B + (-B) */
                        continue;
                    }
                    dbl = 1;
                }
                busy[b] = 1;
                jobs[cnt].pt = i;
                jobs[cnt].bucket = b;
                jobs[cnt].neg = ng;
                jobs[cnt].dbl = dbl;
                if (++cnt == lim) {
                    msm_flush(bk, busy, pts, jobs, cnt, den, pre);
                    cnt = 0;
                }
            }
            msm_flush(bk, busy, pts, jobs, cnt, den, pre);
            uint32_t *t = cur;
            cur = nxt;
            nxt = t;
            qn = nn;
        }
        msm_reduce_affine(&acc, bk, empty, nb);
    }
    jac_to_proj(r, &acc);
}
