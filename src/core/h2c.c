/* RFC 9380 hash-to-curve for BLS12-381: expand_message_xmd, hash_to_field, simplified SWU on the
 * isogenous curves with one exponentiation per map, projective isogeny evaluation, cofactor clearing. */
#include "h2c.h"

#include <string.h>

#include "h2c_consts.h"
#include "sha256.h"

/* ---------------------------------------------------------------------------------------------
 * expand_message_xmd (RFC 9380 §5.3.1) as a generator of 32-byte blocks, so hash_to_field can
 * consume the output incrementally without a len_in_bytes-sized buffer.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    uint8_t dst[256]; /* DST_prime = DST || I2OSP(len(DST), 1) */
    size_t dst_len;   /* length of DST_prime */
    uint8_t b0[32], bi[32];
    unsigned i, ell;
} xmd_t;

static int xmd_init(xmd_t *s, size_t len_in_bytes, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                    size_t dst_len) {
    static const uint8_t zpad[64] = {0};
    static const char OVERSIZE[] = "H2C-OVERSIZE-DST-";
    size_t ell = (len_in_bytes + 31) / 32;
    if (len_in_bytes == 0 || len_in_bytes > 65535 || ell > 255) return 0;
    sha256_ctx h;
    if (dst_len > 255) {
        /* §5.3.3: a DST longer than 255 bytes is replaced by its hash. */
        sha256_init(&h);
        sha256_update(&h, OVERSIZE, sizeof OVERSIZE - 1);
        sha256_update(&h, dst, dst_len);
        sha256_final(&h, s->dst);
        dst_len = 32;
    } else if (dst_len) {
        memcpy(s->dst, dst, dst_len);
    }
    s->dst[dst_len] = (uint8_t)dst_len;
    s->dst_len = dst_len + 1;
    s->ell = (unsigned)ell;
    s->i = 0;

    uint8_t tail[3] = {(uint8_t)(len_in_bytes >> 8), (uint8_t)len_in_bytes, 0};
    sha256_init(&h);
    sha256_update(&h, zpad, sizeof zpad);
    if (msg_len) sha256_update(&h, msg, msg_len);
    sha256_update(&h, tail, sizeof tail);
    sha256_update(&h, s->dst, s->dst_len);
    sha256_final(&h, s->b0);
    memset(s->bi, 0, sizeof s->bi); /* b_0 XOR 0 = b_0: b_1 follows the same rule as the rest */
    return 1;
}

/* Writes the next block b_i (i = 1..ell). */
static void xmd_next(xmd_t *s, uint8_t out[32]) {
    sha256_ctx h;
    uint8_t x[33];
    for (int j = 0; j < 32; j++) x[j] = (uint8_t)(s->b0[j] ^ s->bi[j]);
    x[32] = (uint8_t)++s->i;
    sha256_init(&h);
    sha256_update(&h, x, sizeof x);
    sha256_update(&h, s->dst, s->dst_len);
    sha256_final(&h, s->bi);
    memcpy(out, s->bi, 32);
    tkms_wipe(x, sizeof x);
}

int h2c_expand_message_xmd(uint8_t *out, size_t len_in_bytes, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len) {
    xmd_t s;
    uint8_t b[32];
    if (!xmd_init(&s, len_in_bytes, msg, msg_len, dst, dst_len)) return 0;
    for (size_t off = 0; off < len_in_bytes; off += 32) {
        size_t n = len_in_bytes - off < 32 ? len_in_bytes - off : 32;
        xmd_next(&s, b);
        memcpy(out + off, b, n);
    }
    tkms_wipe(&s, sizeof s);
    tkms_wipe(b, sizeof b);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * hash_to_field (§5.2), L = 64: each element is a 64-byte big-endian integer reduced mod p.
 * ------------------------------------------------------------------------------------------- */

static void next_fp(xmd_t *s, fp_t *r) {
    uint8_t t[64];
    xmd_next(s, t);
    xmd_next(s, t + 32);
    fp_from_bytes_wide(r, t);
    tkms_wipe(t, sizeof t);
}

void h2c_hash_to_field_fp(fp_t *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                          size_t dst_len) {
    xmd_t s;
    if (count == 0) return;
    if (count > 127 || !xmd_init(&s, count * 64, msg, msg_len, dst, dst_len)) {
        for (size_t i = 0; i < count; i++) u[i] = FP_ZERO;
        return;
    }
    for (size_t i = 0; i < count; i++) next_fp(&s, &u[i]);
    tkms_wipe(&s, sizeof s);
}

void h2c_hash_to_field_fp2(fp2_t *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                           size_t dst_len) {
    xmd_t s;
    if (count == 0) return;
    if (count > 63 || !xmd_init(&s, count * 128, msg, msg_len, dst, dst_len)) {
        for (size_t i = 0; i < count; i++) u[i] = FP2_ZERO;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        next_fp(&s, &u[i].c0);
        next_fp(&s, &u[i].c1);
    }
    tkms_wipe(&s, sizeof s);
}

/* ---------------------------------------------------------------------------------------------
 * G1: simplified SWU for q = 3 (mod 4) (RFC 9380 F.2.1.2 / G.2.1 straight line). The square root
 * ratio sqrt(gx1 / gxd) comes out of one exponentiation (gx1 gxd^3)^((p-3)/4), and x stays a
 * fraction xn / xd so no inversion is needed before the isogeny.
 * ------------------------------------------------------------------------------------------- */

void h2c_sswu_g1(fp_t *xn_out, fp_t *xd_out, fp_t *y_out, const fp_t *u) {
    fp_t tv1, tv2, tv3, tv4, xd, x1n, gxd, gx1, y1, x2n, y2, ny;
    fp_sqr(&tv1, u);
    fp_mul(&tv3, &H2C_G1_Z, &tv1);
    fp_sqr(&tv2, &tv3);
    fp_add(&xd, &tv2, &tv3);
    fp_add(&x1n, &xd, &FP_ONE);
    fp_mul(&x1n, &x1n, &H2C_G1_B);
    fp_mul(&xd, &xd, &H2C_G1_MINUS_A);
    fp_cmov(&xd, &H2C_G1_ZA, fp_is_zero(&xd)); /* Z u^2 = 0 or -1: the map's exceptional case */
    fp_sqr(&tv2, &xd);
    fp_mul(&gxd, &tv2, &xd);
    fp_mul(&tv2, &tv2, &H2C_G1_A);
    fp_sqr(&gx1, &x1n);
    fp_add(&gx1, &gx1, &tv2);
    fp_mul(&gx1, &gx1, &x1n);
    fp_mul(&tv2, &gxd, &H2C_G1_B);
    fp_add(&gx1, &gx1, &tv2);
    fp_sqr(&tv4, &gxd);
    fp_mul(&tv2, &gx1, &gxd);
    fp_mul(&tv4, &tv4, &tv2);
    fp_pow_pubexp(&y1, &tv4, H2C_P_MINUS_3_DIV_4, 6);
    fp_mul(&y1, &y1, &tv2);
    fp_mul(&x2n, &tv3, &x1n);
    fp_mul(&y2, &y1, &H2C_G1_SQRT_MINUS_Z3);
    fp_mul(&y2, &y2, &tv1);
    fp_mul(&y2, &y2, u);
    fp_sqr(&tv2, &y1);
    fp_mul(&tv2, &tv2, &gxd);
    uint64_t e2 = fp_eq(&tv2, &gx1); /* gx1 square: x = x1, else x = x2 = Z u^2 x1 */
    *xn_out = x2n;
    fp_cmov(xn_out, &x1n, e2);
    fp_cmov(&y2, &y1, e2);
    fp_neg(&ny, &y2);
    fp_cmov(&y2, &ny, fp_sgn0(u) ^ fp_sgn0(&y2));
    *xd_out = xd;
    *y_out = y2;
    tkms_wipe(&tv1, sizeof tv1);
    tkms_wipe(&tv3, sizeof tv3);
    tkms_wipe(&y1, sizeof y1);
    tkms_wipe(&x2n, sizeof x2n);
    tkms_wipe(&ny, sizeof ny);
}

/* Homogeneous evaluation of sum_i k_i xn^i xd^(deg - i) (plus xn^n xd^(deg - n) when monic),
 * i.e. xd^deg * k(xn / xd). xdp[j] = xd^j. Horner in xn; the xd powers absorb the denominators. */
static void poly_h_fp(fp_t *r, const fp_t *k, size_t n, int monic, const fp_t *xn, const fp_t *xdp, size_t deg) {
    size_t top = monic ? n : n - 1;
    fp_t acc, t;
    if (monic)
        acc = xdp[deg - top];
    else
        fp_mul(&acc, &k[top], &xdp[deg - top]);
    for (size_t i = top; i-- > 0;) {
        fp_mul(&acc, &acc, xn);
        fp_mul(&t, &k[i], &xdp[deg - i]);
        fp_add(&acc, &acc, &t);
    }
    *r = acc;
}

/* 11-isogeny E' -> E straight into homogeneous projective coordinates:
 * x = Nx / Dx, y = y' Ny / Dy  =>  (X : Y : Z) = (Nx Dy : y' Ny Dx : Dx Dy). */
static void iso_g1(g1_t *r, const fp_t *xn, const fp_t *xd, const fp_t *y) {
    fp_t xdp[16], nx, dx, ny, dy;
    xdp[0] = FP_ONE;
    xdp[1] = *xd;
    for (int j = 2; j < 16; j++) fp_mul(&xdp[j], &xdp[j - 1], xd);
    poly_h_fp(&nx, H2C_G1_ISO_XNUM, 12, 0, xn, xdp, 11);
    poly_h_fp(&dx, H2C_G1_ISO_XDEN, 10, 1, xn, xdp, 11);
    poly_h_fp(&ny, H2C_G1_ISO_YNUM, 16, 0, xn, xdp, 15);
    poly_h_fp(&dy, H2C_G1_ISO_YDEN, 15, 1, xn, xdp, 15);
    fp_mul(&r->x, &nx, &dy);
    fp_mul(&r->y, &ny, &dx);
    fp_mul(&r->y, &r->y, y);
    fp_mul(&r->z, &dx, &dy);
    /* A point of the isogeny's kernel maps to the identity (0 : 1 : 0). */
    uint64_t inf = fp_is_zero(&r->z);
    fp_cmov(&r->x, &FP_ZERO, inf);
    fp_cmov(&r->y, &FP_ONE, inf);
    tkms_wipe(xdp, sizeof xdp);
}

void h2c_map_to_g1(g1_t *r, const fp_t *u) {
    fp_t xn, xd, y;
    h2c_sswu_g1(&xn, &xd, &y, u);
    iso_g1(r, &xn, &xd, &y);
    tkms_wipe(&xn, sizeof xn);
    tkms_wipe(&y, sizeof y);
}

/* [1 - x] P = [|x|] P + P (x < 0). */
void h2c_clear_cofactor_g1(g1_t *r, const g1_t *p) {
    g1_t t;
    g1_mul_x_abs(&t, p);
    g1_add(r, &t, p);
}

/* ---------------------------------------------------------------------------------------------
 * G2: simplified SWU over Fp2 (RFC 9380 §6.6.2, straight line as in G.2.3) with the square-root
 * ratio computed through the norm in Fp: two 381-bit Fp exponentiations instead of one 758-bit
 * Fp2 exponentiation (about half the multiplications), still with no inversion.
 *
 * With b = gx1 gxd^3 (so gx1 / gxd = b / gxd^4) and D = N(gxd) = gxd conj(gxd) in Fp:
 *   sqrt(gx1 / gxd) = sqrt(b) conj(gxd)^2 / D^2.
 * b is a square in Fp2 iff N(b) is a square in Fp; r = N(b)^((p+1)/4) decides it. If b is not a
 * square, Z^3 b is, sqrt(N(Z^3 b)) = sqrt(-125) r, and y = u^3 sqrt(Z^3 b) conj(gxd)^2 / D^2 is
 * the root for x2 = Z u^2 x1. For b' = b0 + b1 i with m = sqrt(N(b')), t = (b0 + m) / 2 is the
 * square of the real part of sqrt(b') (or, if t is not a square, -b1^2 / (4t) is, and the roles
 * swap); one exponentiation c = (t D^4)^((p-3)/4) = t^((p-3)/4) / D^2 yields both sqrt(t) / D^2
 * = c t and the 1 / sqrt(t) the imaginary part needs, with the 1 / D^2 folded in.
 * ------------------------------------------------------------------------------------------- */

void h2c_sswu_g2(fp2_t *xn_out, fp2_t *xd_out, fp2_t *y_out, const fp2_t *u) {
    fp2_t tv1, tv2, tv3, xd, x1n, gxd, gx1, b, bz, root, y, t2;
    fp_t nb, r, m, t, d, s, c, p1, p2, np2;
    fp2_sqr(&tv1, u);
    fp2_mul(&tv3, &H2C_G2_Z, &tv1);
    fp2_sqr(&tv2, &tv3);
    fp2_add(&xd, &tv2, &tv3);
    fp2_add(&x1n, &xd, &FP2_ONE);
    fp2_mul(&x1n, &x1n, &H2C_G2_B);
    fp2_mul(&xd, &xd, &H2C_G2_MINUS_A);
    fp2_cmov(&xd, &H2C_G2_ZA, fp2_is_zero(&xd)); /* Z u^2 = 0 or -1: the map's exceptional case */
    fp2_sqr(&tv2, &xd);
    fp2_mul(&gxd, &tv2, &xd);
    fp2_mul(&tv2, &tv2, &H2C_G2_A);
    fp2_sqr(&gx1, &x1n);
    fp2_add(&gx1, &gx1, &tv2);
    fp2_mul(&gx1, &gx1, &x1n);
    fp2_mul(&tv2, &gxd, &H2C_G2_B);
    fp2_add(&gx1, &gx1, &tv2); /* g(x1) = gx1 / gxd */

    fp2_sqr(&tv2, &gxd);
    fp2_mul(&tv2, &tv2, &gxd);
    fp2_mul(&b, &gx1, &tv2); /* b = gx1 gxd^3 */
    fp_sqr(&nb, &b.c0);
    fp_sqr(&s, &b.c1);
    fp_add(&nb, &nb, &s);
    fp_pow_pubexp(&r, &nb, H2C_P_PLUS_1_DIV_4, 6);
    fp_sqr(&s, &r);
    uint64_t sq = fp_eq(&s, &nb); /* gx1 / gxd is a square: x = x1 */
    fp2_mul(&bz, &b, &H2C_G2_Z3);
    fp2_cmov(&bz, &b, sq);
    fp_mul(&m, &r, &H2C_SQRT_MINUS_125);
    fp_cmov(&m, &r, sq);

    fp_add(&t, &bz.c0, &m);
    fp_mul(&t, &t, &H2C_FP_HALF);
    /* t = 0 only if b0 = -m: then (b0 - m) / 2 = b0 is the other candidate. */
    fp_cmov(&t, &bz.c0, fp_is_zero(&t));
    fp_sqr(&d, &gxd.c0);
    fp_sqr(&s, &gxd.c1);
    fp_add(&d, &d, &s); /* D = N(gxd) */
    fp_sqr(&d, &d);
    fp_sqr(&d, &d);
    fp_mul(&s, &t, &d); /* t D^4 */
    fp_pow_pubexp(&c, &s, H2C_P_MINUS_3_DIV_4, 6);
    fp_mul(&p1, &c, &t);
    fp_mul(&p2, &c, &bz.c1);
    fp_mul(&p2, &p2, &H2C_FP_HALF);
    fp_sqr(&m, &c);
    fp_mul(&m, &m, &s);
    uint64_t tsq = fp_is_one(&m); /* c^2 t D^4 = t^((p-1)/2) */
    /* t square: sqrt(b') / D^2 = c t + (c b1 / 2) i; otherwise -(c b1 / 2) + c t i. */
    fp_neg(&np2, &p2);
    root.c0 = np2;
    root.c1 = p1;
    fp_cmov(&root.c0, &p1, tsq);
    fp_cmov(&root.c1, &p2, tsq);
    fp2_conj(&t2, &gxd);
    fp2_sqr(&t2, &t2);
    fp2_mul(&y, &root, &t2);
    fp2_mul(&t2, &tv1, u);
    fp2_mul(&t2, &t2, &y); /* u^3 y: the root for x2 */
    fp2_cmov(&t2, &y, sq);
    fp2_mul(&tv2, &tv3, &x1n);
    fp2_cmov(&tv2, &x1n, sq);
    fp2_neg(&y, &t2);
    fp2_cmov(&t2, &y, fp2_sgn0(u) ^ fp2_sgn0(&t2));
    *xn_out = tv2;
    *xd_out = xd;
    *y_out = t2;
    tkms_wipe(&tv1, sizeof tv1);
    tkms_wipe(&tv3, sizeof tv3);
    tkms_wipe(&b, sizeof b);
    tkms_wipe(&bz, sizeof bz);
    tkms_wipe(&root, sizeof root);
    tkms_wipe(&y, sizeof y);
    tkms_wipe(&r, sizeof r);
    tkms_wipe(&c, sizeof c);
}

static void poly_h_fp2(fp2_t *r, const fp2_t *k, size_t n, int monic, const fp2_t *xn, const fp2_t *xdp,
                       size_t deg) {
    size_t top = monic ? n : n - 1;
    fp2_t acc, t;
    if (monic)
        acc = xdp[deg - top];
    else
        fp2_mul(&acc, &k[top], &xdp[deg - top]);
    for (size_t i = top; i-- > 0;) {
        fp2_mul(&acc, &acc, xn);
        fp2_mul(&t, &k[i], &xdp[deg - i]);
        fp2_add(&acc, &acc, &t);
    }
    *r = acc;
}

/* 3-isogeny E' -> E, same projective form as iso_g1. */
static void iso_g2(g2_t *r, const fp2_t *xn, const fp2_t *xd, const fp2_t *y) {
    fp2_t xdp[4], nx, dx, ny, dy;
    xdp[0] = FP2_ONE;
    xdp[1] = *xd;
    fp2_sqr(&xdp[2], xd);
    fp2_mul(&xdp[3], &xdp[2], xd);
    poly_h_fp2(&nx, H2C_G2_ISO_XNUM, 4, 0, xn, xdp, 3);
    poly_h_fp2(&dx, H2C_G2_ISO_XDEN, 2, 1, xn, xdp, 3);
    poly_h_fp2(&ny, H2C_G2_ISO_YNUM, 4, 0, xn, xdp, 3);
    poly_h_fp2(&dy, H2C_G2_ISO_YDEN, 3, 1, xn, xdp, 3);
    fp2_mul(&r->x, &nx, &dy);
    fp2_mul(&r->y, &ny, &dx);
    fp2_mul(&r->y, &r->y, y);
    fp2_mul(&r->z, &dx, &dy);
    uint64_t inf = fp2_is_zero(&r->z);
    fp2_cmov(&r->x, &FP2_ZERO, inf);
    fp2_cmov(&r->y, &FP2_ONE, inf);
    tkms_wipe(xdp, sizeof xdp);
}

void h2c_map_to_g2(g2_t *r, const fp2_t *u) {
    fp2_t xn, xd, y;
    h2c_sswu_g2(&xn, &xd, &y, u);
    iso_g2(r, &xn, &xd, &y);
    tkms_wipe(&xn, sizeof xn);
    tkms_wipe(&y, sizeof y);
}

/* Budroni-Pintore (RFC 9380 G.3): h_eff P = [x^2 - x - 1] P + [x - 1] psi(P) + psi^2(2P),
 * evaluated as in the RFC with two multiplications by x. */
void h2c_clear_cofactor_g2(g2_t *r, const g2_t *p) {
    g2_t t1, t2, t3, n;
    g2_mul_x_abs(&t1, p);
    g2_neg(&t1, &t1); /* t1 = [x] P */
    g2_psi(&t2, p);   /* t2 = psi(P) */
    g2_dbl(&t3, p);
    g2_psi(&t3, &t3);
    g2_psi(&t3, &t3); /* t3 = psi^2(2P) */
    g2_neg(&n, &t2);
    g2_add(&t3, &t3, &n); /* psi^2(2P) - psi(P) */
    g2_add(&t2, &t1, &t2);
    g2_mul_x_abs(&t2, &t2);
    g2_neg(&t2, &t2); /* [x]([x] P + psi(P)) */
    g2_add(&t3, &t3, &t2);
    g2_neg(&n, &t1);
    g2_add(&t3, &t3, &n);
    g2_neg(&n, p);
    g2_add(r, &t3, &n);
}

/* ---------------------------------------------------------------------------------------------
 * Encodings (§3).
 * ------------------------------------------------------------------------------------------- */

void h2c_hash_to_g1(g1_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len) {
    fp_t u[2];
    g1_t q0, q1;
    h2c_hash_to_field_fp(u, 2, msg, msg_len, dst, dst_len);
    h2c_map_to_g1(&q0, &u[0]);
    h2c_map_to_g1(&q1, &u[1]);
    g1_add(&q0, &q0, &q1);
    h2c_clear_cofactor_g1(r, &q0);
    tkms_wipe(u, sizeof u);
    tkms_wipe(&q0, sizeof q0);
    tkms_wipe(&q1, sizeof q1);
}

void h2c_encode_to_g1(g1_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len) {
    fp_t u;
    g1_t q;
    h2c_hash_to_field_fp(&u, 1, msg, msg_len, dst, dst_len);
    h2c_map_to_g1(&q, &u);
    h2c_clear_cofactor_g1(r, &q);
    tkms_wipe(&u, sizeof u);
    tkms_wipe(&q, sizeof q);
}

void h2c_hash_to_g2(g2_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len) {
    fp2_t u[2];
    g2_t q0, q1;
    h2c_hash_to_field_fp2(u, 2, msg, msg_len, dst, dst_len);
    h2c_map_to_g2(&q0, &u[0]);
    h2c_map_to_g2(&q1, &u[1]);
    g2_add(&q0, &q0, &q1);
    h2c_clear_cofactor_g2(r, &q0);
    tkms_wipe(u, sizeof u);
    tkms_wipe(&q0, sizeof q0);
    tkms_wipe(&q1, sizeof q1);
}

void h2c_encode_to_g2(g2_t *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len) {
    fp2_t u;
    g2_t q;
    h2c_hash_to_field_fp2(&u, 1, msg, msg_len, dst, dst_len);
    h2c_map_to_g2(&q, &u);
    h2c_clear_cofactor_g2(r, &q);
    tkms_wipe(&u, sizeof u);
    tkms_wipe(&q, sizeof q);
}
