/* Constant-time inversion in Fp by Bernstein-Yang safegcd (eprint 2019/266): 18 batches of 62
 * divsteps on the low 64 bits, each applied to (f, g) and (d, e) as a 2x2 transition matrix over
 * signed 62-bit limbs. 18*62 = 1116 divsteps >= floor((49*381 + 57)/17) = 1101, the paper's bound
 * for 381-bit inputs, so g reaches 0 for every input. No branch or index depends on the input. */
#include "fp.h"

typedef __int128 i128;

#define M62 ((uint64_t)0x3fffffffffffffffULL)
#define NL 7 /* 7 x 62 = 434 bits */

typedef struct {
    int64_t v[NL];
} s62_t;

static const s62_t P62 = {{0x39feffffffffaaabLL, 0x3aaffffac54ffffeLL, 0x330d2a0f6b0f6241LL, 0x1dd2e13ce144afd9LL,
                           0x1ba7b6434bacd764LL, 0x0447a8e5ff9a692cLL, 0x00000000000001a0LL}};
#define PINV62 0x360c000300030003ULL /* p^-1 mod 2^62 */

/* R^3 mod p: turns the inverse of a Montgomery representative back into Montgomery form. */
static const fp_t FP_R3 = {{0xed48ac6bd94ca1e0ULL, 0x315f831e03a7adf8ULL, 0x9a53352a615e29ddULL,
                            0x34c04e5e921e1761ULL, 0x2512d43565724728ULL, 0x0aa6346091755d4dULL}};

/* 62 divsteps on the low bits of f and g (f odd). Returns the new delta; t = (u, v, q, r) with
 * 2^62 f' = u f + v g and 2^62 g' = q f + r g. */
static int64_t divsteps_62(int64_t delta, uint64_t f, uint64_t g, int64_t t[4]) {
    uint64_t u = 1, v = 0, q = 0, r = 1, x;
    for (int i = 0; i < 62; i++) {
        uint64_t odd = 0 - (g & 1);
        uint64_t pos = (uint64_t)(-delta) >> 63; /* delta > 0 (delta stays far from the int64 bounds) */
        uint64_t swap = odd & (0 - ct_barrier_u64(pos));
        /* if swap: (delta, f, g, u, v, q, r) = (-delta, g, -f, q, r, -u, -v) */
        delta = (int64_t)(((uint64_t)delta ^ swap) - swap);
        x = (f ^ g) & swap;
        f ^= x;
        g ^= x;
        g = (g ^ swap) - swap;
        x = (u ^ q) & swap;
        u ^= x;
        q ^= x;
        q = (q ^ swap) - swap;
        x = (v ^ r) & swap;
        v ^= x;
        r ^= x;
        r = (r ^ swap) - swap;
        /* if g odd: g += f, (q, r) += (u, v); then halve g and double (u, v) */
        delta = delta + 1;
        g += f & odd;
        q += u & odd;
        r += v & odd;
        g >>= 1;
        u <<= 1;
        v <<= 1;
    }
    t[0] = (int64_t)u;
    t[1] = (int64_t)v;
    t[2] = (int64_t)q;
    t[3] = (int64_t)r;
    return delta;
}

/* (f, g) = (u f + v g, q f + r g) / 2^62 (exact). */
static void update_fg(s62_t *f, s62_t *g, const int64_t t[4]) {
    const int64_t u = t[0], v = t[1], q = t[2], r = t[3];
    i128 cf = (i128)u * f->v[0] + (i128)v * g->v[0];
    i128 cg = (i128)q * f->v[0] + (i128)r * g->v[0];
    cf >>= 62;
    cg >>= 62;
    for (int i = 1; i < NL; i++) {
        cf += (i128)u * f->v[i] + (i128)v * g->v[i];
        cg += (i128)q * f->v[i] + (i128)r * g->v[i];
        f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
        g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
        cf >>= 62;
        cg >>= 62;
    }
    f->v[NL - 1] = (int64_t)cf;
    g->v[NL - 1] = (int64_t)cg;
}

/* (d, e) = (u d + v e, q d + r e) / 2^62 mod p, keeping -2p < d, e < p. */
static void update_de(s62_t *d, s62_t *e, const int64_t t[4]) {
    const int64_t u = t[0], v = t[1], q = t[2], r = t[3];
    int64_t sd = d->v[NL - 1] >> 63, se = e->v[NL - 1] >> 63;
    /* Start from the multiple of p that brings negative inputs back up, then fix the low bits. */
    int64_t md = (u & sd) + (v & se), me = (q & sd) + (r & se);
    i128 cd = (i128)u * d->v[0] + (i128)v * e->v[0];
    i128 ce = (i128)q * d->v[0] + (i128)r * e->v[0];
    md -= (int64_t)((PINV62 * (uint64_t)cd + (uint64_t)md) & M62);
    me -= (int64_t)((PINV62 * (uint64_t)ce + (uint64_t)me) & M62);
    cd += (i128)P62.v[0] * md;
    ce += (i128)P62.v[0] * me;
    cd >>= 62;
    ce >>= 62;
    for (int i = 1; i < NL; i++) {
        cd += (i128)u * d->v[i] + (i128)v * e->v[i] + (i128)P62.v[i] * md;
        ce += (i128)q * d->v[i] + (i128)r * e->v[i] + (i128)P62.v[i] * me;
        d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
        e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
        cd >>= 62;
        ce >>= 62;
    }
    d->v[NL - 1] = (int64_t)cd;
    e->v[NL - 1] = (int64_t)ce;
}

/* a += p if mask (all ones) */
static void s62_cadd_p(s62_t *a, int64_t mask) {
    for (int i = 0; i < NL; i++) a->v[i] += P62.v[i] & mask;
}

static void s62_cneg(s62_t *a, int64_t mask) {
    for (int i = 0; i < NL; i++) a->v[i] = (a->v[i] ^ mask) - mask;
}

/* Propagates carries so limbs 0..5 are in [0, 2^62) and the sign sits in the top limb. */
static void s62_carry(s62_t *a) {
    for (int i = 0; i < NL - 1; i++) {
        a->v[i + 1] += a->v[i] >> 62;
        a->v[i] &= (int64_t)M62;
    }
}

void fp_inv(fp_t *r, const fp_t *a) {
    s62_t f = P62, g, d = {{0}}, e = {{1, 0, 0, 0, 0, 0, 0}};
    /* g = the Montgomery representative a*R mod p, as signed 62-bit limbs */
    const uint64_t *x = a->l;
    g.v[0] = (int64_t)(x[0] & M62);
    g.v[1] = (int64_t)(((x[0] >> 62) | (x[1] << 2)) & M62);
    g.v[2] = (int64_t)(((x[1] >> 60) | (x[2] << 4)) & M62);
    g.v[3] = (int64_t)(((x[2] >> 58) | (x[3] << 6)) & M62);
    g.v[4] = (int64_t)(((x[3] >> 56) | (x[4] << 8)) & M62);
    g.v[5] = (int64_t)(((x[4] >> 54) | (x[5] << 10)) & M62);
    g.v[6] = (int64_t)(x[5] >> 52);
    int64_t delta = 1, t[4];
    for (int i = 0; i < 18; i++) {
        delta = divsteps_62(delta, (uint64_t)f.v[0] | ((uint64_t)f.v[1] << 62),
                            (uint64_t)g.v[0] | ((uint64_t)g.v[1] << 62), t);
        update_de(&d, &e, t);
        update_fg(&f, &g, t);
    }
    /* Now g = 0 and f = +-1 (or f = +-p when a = 0, where d = 0 anyway); d = +-a^-1 in (-2p, p). */
    s62_cadd_p(&d, d.v[NL - 1] >> 63);
    s62_cneg(&d, f.v[NL - 1] >> 63);
    s62_carry(&d);
    s62_cadd_p(&d, d.v[NL - 1] >> 63);
    s62_carry(&d);
    fp_t y;
    y.l[0] = (uint64_t)d.v[0] | ((uint64_t)d.v[1] << 62);
    y.l[1] = ((uint64_t)d.v[1] >> 2) | ((uint64_t)d.v[2] << 60);
    y.l[2] = ((uint64_t)d.v[2] >> 4) | ((uint64_t)d.v[3] << 58);
    y.l[3] = ((uint64_t)d.v[3] >> 6) | ((uint64_t)d.v[4] << 56);
    y.l[4] = ((uint64_t)d.v[4] >> 8) | ((uint64_t)d.v[5] << 54);
    y.l[5] = ((uint64_t)d.v[5] >> 10) | ((uint64_t)d.v[6] << 52);
    /* y = (aR)^-1 = a^-1 R^-1; Montgomery-multiplying by R^3 gives a^-1 R. */
    fp_mul(r, &y, &FP_R3);
}
