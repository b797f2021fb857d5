/* RFC 9380 hash-to-curve: every vector in tests/vectors/h2c (expand_message_xmd; G1/G2 RO and NU:
 * u, Q0/Q1 or Q, P) and eth-bls/hash_to_G2.json, plus numeric checks of the constants (SSWU
 * output on E', isogeny output on E, cofactor-cleared points in the subgroup) and metamorphic
 * checks (streaming expander equals one-shot, oversize DST equals its hash, RO = sum of maps). */
#include <string.h>

#include "h2c.h"
#include "sha256.h"
#include "testutil.h"

static size_t n_checked;

static void unhex_fixed(uint8_t *out, size_t n, const char *hex) {
    /* Left-pads to n bytes: RFC vectors write field elements with their natural length. */
    char buf[1024];
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t l = strlen(hex);
    TU_CHECK(l <= 2 * n && l < sizeof buf);
    memset(buf, '0', 2 * n - l);
    memcpy(buf + 2 * n - l, hex, l);
    buf[2 * n] = 0;
    TU_CHECK(tu_unhex(out, n, buf) == (long)n);
}

static void parse_fp(fp_t *r, const char *hex) {
    uint8_t b[48];
    unhex_fixed(b, 48, hex);
    TU_CHECK(fp_from_bytes(r, b));
}

/* "c0,c1" as in the RFC JSON vectors. */
static void parse_fp2(fp2_t *r, const char *s) {
    const char *comma = strchr(s, ',');
    TU_CHECK(comma != NULL);
    char a[200];
    size_t l = (size_t)(comma - s);
    TU_CHECK(l < sizeof a);
    memcpy(a, s, l);
    a[l] = 0;
    parse_fp(&r->c0, a);
    parse_fp(&r->c1, comma + 1);
}

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    TU_CHECK(v != NULL && json_is_string(v));
    return json_string_value(v);
}

/* ---- projective -> affine without the group module, so the map is checked on its own ---- */
static void g1_affine_of(fp_t *x, fp_t *y, const g1_t *p) {
    fp_t zi;
    TU_CHECK(!fp_is_zero(&p->z));
    fp_inv(&zi, &p->z);
    fp_mul(x, &p->x, &zi);
    fp_mul(y, &p->y, &zi);
}

static void g2_affine_of(fp2_t *x, fp2_t *y, const g2_t *p) {
    fp2_t zi;
    TU_CHECK(!fp2_is_zero(&p->z));
    fp2_inv(&zi, &p->z);
    fp2_mul(x, &p->x, &zi);
    fp2_mul(y, &p->y, &zi);
}

static void check_g1_xy(const g1_t *p, json_t *pt) {
    fp_t x, y, ex, ey;
    g1_affine_of(&x, &y, p);
    parse_fp(&ex, jstr(pt, "x"));
    parse_fp(&ey, jstr(pt, "y"));
    TU_CHECK(fp_eq(&x, &ex) && fp_eq(&y, &ey));
    n_checked++;
}

static void check_g2_xy(const g2_t *p, json_t *pt) {
    fp2_t x, y, ex, ey;
    g2_affine_of(&x, &y, p);
    parse_fp2(&ex, jstr(pt, "x"));
    parse_fp2(&ey, jstr(pt, "y"));
    TU_CHECK(fp2_eq(&x, &ex) && fp2_eq(&y, &ey));
    n_checked++;
}

/* ---- curve equations ---- */
static uint64_t on_e1(const fp_t *x, const fp_t *y) { /* y^2 = x^3 + 4 */
    fp_t l, r, four;
    fp_from_u64(&four, 4);
    fp_sqr(&l, y);
    fp_sqr(&r, x);
    fp_mul(&r, &r, x);
    fp_add(&r, &r, &four);
    return fp_eq(&l, &r);
}

static uint64_t on_e2(const fp2_t *x, const fp2_t *y) { /* y^2 = x^3 + 4(1 + u) */
    fp2_t l, r, b;
    fp_from_u64(&b.c0, 4);
    b.c1 = b.c0;
    fp2_sqr(&l, y);
    fp2_sqr(&r, x);
    fp2_mul(&r, &r, x);
    fp2_add(&r, &r, &b);
    return fp2_eq(&l, &r);
}

/* SSWU output (xn/xd, y) on E'1: y^2 xd^3 = xn^3 + A' xn xd^2 + B' xd^3. A', B' are the
 * RFC 8.8.1 values, parsed here independently of the generated header. */
static uint64_t on_iso1(const fp_t *xn, const fp_t *xd, const fp_t *y) {
    fp_t A, B, xd2, xd3, l, r, t;
    parse_fp(&A, "0x144698a3b8e9433d693a02c96d4982b0ea985383ee66a8d8e8981aefd881ac98936f8da0e0f97f5cf428082d584c1d");
    parse_fp(&B, "0x12e2908d11688030018b12e8753eee3b2016c1f0f24f4070a0b9c14fcef35ef55a23215a316ceaa5d1cc48e98e172be0");
    fp_sqr(&xd2, xd);
    fp_mul(&xd3, &xd2, xd);
    fp_sqr(&l, y);
    fp_mul(&l, &l, &xd3);
    fp_sqr(&r, xn);
    fp_mul(&r, &r, xn);
    fp_mul(&t, &A, xn);
    fp_mul(&t, &t, &xd2);
    fp_add(&r, &r, &t);
    fp_mul(&t, &B, &xd3);
    fp_add(&r, &r, &t);
    return fp_eq(&l, &r) & (1 ^ fp_is_zero(xd));
}

static uint64_t on_iso2(const fp2_t *xn, const fp2_t *xd, const fp2_t *y) { /* A' = 240u, B' = 1012(1+u) */
    fp2_t A, B, xd2, xd3, l, r, t;
    A.c0 = FP_ZERO;
    fp_from_u64(&A.c1, 240);
    fp_from_u64(&B.c0, 1012);
    B.c1 = B.c0;
    fp2_sqr(&xd2, xd);
    fp2_mul(&xd3, &xd2, xd);
    fp2_sqr(&l, y);
    fp2_mul(&l, &l, &xd3);
    fp2_sqr(&r, xn);
    fp2_mul(&r, &r, xn);
    fp2_mul(&t, &A, xn);
    fp2_mul(&t, &t, &xd2);
    fp2_add(&r, &r, &t);
    fp2_mul(&t, &B, &xd3);
    fp2_add(&r, &r, &t);
    return fp2_eq(&l, &r) & (1 ^ fp2_is_zero(xd));
}

/* ---------------------------------------------------------------------------------------------- */

static void test_expand(const char *file) {
    json_t *j = tu_load_json(file);
    const char *dst = jstr(j, "DST");
    json_t *tests = json_object_get(j, "tests");
    size_t i;
    json_t *t;
    json_array_foreach(tests, i, t) {
        size_t len = strtoul(jstr(t, "len_in_bytes"), NULL, 16);
        const char *msg = jstr(t, "msg");
        uint8_t got[512], want[512];
        TU_CHECK(len <= sizeof got);
        TU_CHECK(h2c_expand_message_xmd(got, len, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst, strlen(dst)));
        TU_CHECK(tu_unhex(want, sizeof want, jstr(t, "uniform_bytes")) == (long)len);
        TU_CHECK(memcmp(got, want, len) == 0);
        n_checked++;
    }
    json_decref(j);
}

static void test_expand_edges(void) {
    uint8_t out[8200], ref[8200];
    const uint8_t dst[] = "DST";
    TU_CHECK(!h2c_expand_message_xmd(out, 0, NULL, 0, dst, 3));
    TU_CHECK(!h2c_expand_message_xmd(out, 255 * 32 + 1, NULL, 0, dst, 3));
    TU_CHECK(!h2c_expand_message_xmd(out, 65536, NULL, 0, dst, 3));
    TU_CHECK(h2c_expand_message_xmd(out, 255 * 32, (const uint8_t *)"m", 1, dst, 3));
    /* Deterministic, and the length is bound into b_0: a longer output does not extend a shorter
     * one (so callers cannot truncate instead of asking for the right length). */
    TU_CHECK(h2c_expand_message_xmd(ref, 97, (const uint8_t *)"m", 1, dst, 3));
    TU_CHECK(h2c_expand_message_xmd(out, 97, (const uint8_t *)"m", 1, dst, 3));
    TU_CHECK(memcmp(out, ref, 97) == 0);
    TU_CHECK(h2c_expand_message_xmd(out, 98, (const uint8_t *)"m", 1, dst, 3));
    TU_CHECK(memcmp(out, ref, 97) != 0);
    /* An empty DST is accepted (the API takes any DST; RFC 9380 only recommends non-empty). */
    TU_CHECK(h2c_expand_message_xmd(out, 32, NULL, 0, NULL, 0));
    /* Oversize DST (> 255 bytes) behaves as its hash H("H2C-OVERSIZE-DST-" || DST). */
    uint8_t big[300], h[32];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7 + 1);
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, "H2C-OVERSIZE-DST-", 17);
    sha256_update(&c, big, sizeof big);
    sha256_final(&c, h);
    TU_CHECK(h2c_expand_message_xmd(out, 128, (const uint8_t *)"abc", 3, big, sizeof big));
    TU_CHECK(h2c_expand_message_xmd(ref, 128, (const uint8_t *)"abc", 3, h, 32));
    TU_CHECK(memcmp(out, ref, 128) == 0);
    /* 255 bytes is still used directly */
    TU_CHECK(h2c_expand_message_xmd(out, 128, (const uint8_t *)"abc", 3, big, 255));
    TU_CHECK(memcmp(out, ref, 128) != 0);
    /* hash_to_field is expand_message_xmd cut into 64-byte big-endian integers mod p */
    static fp_t u[128];
    fp_t v;
    h2c_hash_to_field_fp(u, 127, (const uint8_t *)"abc", 3, dst, 3); /* the most one expansion gives */
    TU_CHECK(h2c_expand_message_xmd(out, 127 * 64, (const uint8_t *)"abc", 3, dst, 3));
    for (int i = 0; i < 127; i++) {
        fp_from_bytes_wide(&v, out + 64 * i);
        TU_CHECK(fp_eq(&u[i], &v));
    }
    h2c_hash_to_field_fp(u, 128, (const uint8_t *)"abc", 3, dst, 3); /* one too many: all zero */
    for (int i = 0; i < 128; i++) TU_CHECK(fp_is_zero(&u[i]));
    fp2_t w[2];
    h2c_hash_to_field_fp2(w, 2, (const uint8_t *)"abc", 3, dst, 3);
    TU_CHECK(h2c_expand_message_xmd(out, 256, (const uint8_t *)"abc", 3, dst, 3));
    for (int i = 0; i < 2; i++) {
        fp_from_bytes_wide(&v, out + 128 * i);
        TU_CHECK(fp_eq(&w[i].c0, &v));
        fp_from_bytes_wide(&v, out + 128 * i + 64);
        TU_CHECK(fp_eq(&w[i].c1, &v));
    }
}

static void test_suite_g1(const char *file, int ro) {
    json_t *j = tu_load_json(file);
    const char *dst = jstr(j, "dst");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "vectors"), i, v) {
        const char *msg = jstr(v, "msg");
        size_t ml = strlen(msg), dl = strlen(dst);
        json_t *ju = json_object_get(v, "u");
        size_t cnt = (size_t)(ro ? 2 : 1);
        TU_CHECK(json_array_size(ju) == cnt);
        fp_t u[2], e;
        h2c_hash_to_field_fp(u, cnt, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
        g1_t q[2];
        for (size_t k = 0; k < cnt; k++) {
            parse_fp(&e, json_string_value(json_array_get(ju, k)));
            TU_CHECK(fp_eq(&u[k], &e));
            n_checked++;
            fp_t xn, xd, y;
            h2c_sswu_g1(&xn, &xd, &y, &u[k]);
            TU_CHECK(on_iso1(&xn, &xd, &y));
            h2c_map_to_g1(&q[k], &u[k]);
            check_g1_xy(&q[k], json_object_get(v, ro ? (k ? "Q1" : "Q0") : "Q"));
        }
        g1_t p, r;
        if (ro) {
            h2c_hash_to_g1(&p, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
            g1_add(&r, &q[0], &q[1]);
        } else {
            h2c_encode_to_g1(&p, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
            r = q[0];
        }
        check_g1_xy(&p, json_object_get(v, "P"));
        h2c_clear_cofactor_g1(&r, &r);
        TU_CHECK(g1_eq(&r, &p));
        TU_CHECK(g1_in_subgroup_vartime(&p));
    }
    json_decref(j);
}

static void test_suite_g2(const char *file, int ro) {
    json_t *j = tu_load_json(file);
    const char *dst = jstr(j, "dst");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "vectors"), i, v) {
        const char *msg = jstr(v, "msg");
        size_t ml = strlen(msg), dl = strlen(dst);
        json_t *ju = json_object_get(v, "u");
        size_t cnt = (size_t)(ro ? 2 : 1);
        TU_CHECK(json_array_size(ju) == cnt);
        fp2_t u[2], e;
        h2c_hash_to_field_fp2(u, cnt, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
        g2_t q[2];
        for (size_t k = 0; k < cnt; k++) {
            parse_fp2(&e, json_string_value(json_array_get(ju, k)));
            TU_CHECK(fp2_eq(&u[k], &e));
            n_checked++;
            fp2_t xn, xd, y;
            h2c_sswu_g2(&xn, &xd, &y, &u[k]);
            TU_CHECK(on_iso2(&xn, &xd, &y));
            h2c_map_to_g2(&q[k], &u[k]);
            check_g2_xy(&q[k], json_object_get(v, ro ? (k ? "Q1" : "Q0") : "Q"));
        }
        g2_t p, r;
        if (ro) {
            h2c_hash_to_g2(&p, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
            g2_add(&r, &q[0], &q[1]);
        } else {
            h2c_encode_to_g2(&p, (const uint8_t *)msg, ml, (const uint8_t *)dst, dl);
            r = q[0];
        }
        check_g2_xy(&p, json_object_get(v, "P"));
        h2c_clear_cofactor_g2(&r, &r);
        TU_CHECK(g2_eq(&r, &p));
        TU_CHECK(g2_in_subgroup_vartime(&p));
    }
    json_decref(j);
}

static void test_eth_hash_to_g2(void) {
    static const char DST[] = "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
    json_t *j = tu_load_json("eth-bls/hash_to_G2.json");
    size_t i;
    json_t *c;
    TU_CHECK(json_array_size(j) == 4);
    json_array_foreach(j, i, c) {
        const char *msg = jstr(json_object_get(c, "input"), "msg");
        g2_t p;
        h2c_hash_to_g2(&p, (const uint8_t *)msg, strlen(msg), (const uint8_t *)DST, sizeof DST - 1);
        check_g2_xy(&p, json_object_get(c, "output"));
    }
    json_decref(j);
}

static void rand_fp(fp_t *r) {
    uint8_t b[64];
    tu_randbytes(b, sizeof b);
    fp_from_bytes_wide(r, b);
}

/* Random and edge-case field elements: SSWU lands on E', the isogeny on E, clearing in G1/G2. */
static void test_random_maps(void) {
    for (int it = 0; it < 300; it++) {
        fp_t u, xn, xd, y, x1, y1;
        fp2_t u2, xn2, xd2, y2, x2, yy2;
        if (it == 0) {
            u = FP_ZERO; /* exceptional case: Z u^2 + Z^2 u^4 = 0 */
            u2 = FP2_ZERO;
        } else if (it == 1) {
            u = FP_ONE;
            u2 = FP2_ONE;
        } else {
            rand_fp(&u);
            rand_fp(&u2.c0);
            rand_fp(&u2.c1);
            if (it % 7 == 0) u2.c1 = FP_ZERO;
        }
        h2c_sswu_g1(&xn, &xd, &y, &u);
        TU_CHECK(on_iso1(&xn, &xd, &y));
        TU_CHECK(fp_sgn0(&y) == fp_sgn0(&u));
        g1_t q, c;
        h2c_map_to_g1(&q, &u);
        g1_affine_of(&x1, &y1, &q);
        TU_CHECK(on_e1(&x1, &y1));
        h2c_sswu_g2(&xn2, &xd2, &y2, &u2);
        TU_CHECK(on_iso2(&xn2, &xd2, &y2));
        TU_CHECK(fp2_sgn0(&y2) == fp2_sgn0(&u2));
        g2_t q2, c2;
        h2c_map_to_g2(&q2, &u2);
        g2_affine_of(&x2, &yy2, &q2);
        TU_CHECK(on_e2(&x2, &yy2));
        if (it < 40) {
            h2c_clear_cofactor_g1(&c, &q);
            TU_CHECK(g1_is_on_curve(&c) && g1_in_subgroup_vartime(&c));
            /* [h_eff] through the group module's generic multiplication agrees */
            g1_t m;
            const uint64_t heff = 0xd201000000010001ULL;
            g1_mul_u64s_vartime(&m, &q, &heff, 1);
            TU_CHECK(g1_eq(&m, &c));
            h2c_clear_cofactor_g2(&c2, &q2);
            TU_CHECK(g2_is_on_curve(&c2) && g2_in_subgroup_vartime(&c2));
            /* Budroni-Pintore (psi, two multiplications by x) equals [h_eff] by the generic
             * double-and-add on these points outside G2 (RFC 9380 8.8.2's h_eff). */
            static const uint64_t HEFF2[10] = {
                0xe8020005aaa95551ULL, 0x59894c0adebbf6b4ULL, 0xe954cbc06689f6a3ULL, 0x2ec0ec69d7477c1aULL,
                0x6d82bf015d1212b0ULL, 0x329c2f178731db95ULL, 0x9986ff031508ffe1ULL, 0x88e2a8e9145ad768ULL,
                0x584c6a0ea91b3528ULL, 0x0bc69f08f2ee75b3ULL};
            g2_t m2;
            g2_mul_u64s_vartime(&m2, &q2, HEFF2, 10);
            TU_CHECK(g2_eq(&m2, &c2));
            /* the constant-time [|x|] (Jacobian doublings, complete additions) on both curves */
            const uint64_t xabs = 0xd201000000010000ULL;
            g1_t mx1, vx1;
            g1_mul_x_abs(&mx1, &q);
            g1_mul_u64s_vartime(&vx1, &q, &xabs, 1);
            TU_CHECK(g1_eq(&mx1, &vx1) && g1_is_on_curve(&mx1));
            g2_t mx2, vx2;
            g2_mul_x_abs(&mx2, &q2);
            g2_mul_u64s_vartime(&vx2, &q2, &xabs, 1);
            TU_CHECK(g2_eq(&mx2, &vx2) && g2_is_on_curve(&mx2));
        }
    }
    /* Oversize DSTs go through the whole pipeline the same way as their hash. */
    uint8_t big[1000], h[32];
    tu_randbytes(big, sizeof big);
    sha256_ctx s;
    sha256_init(&s);
    sha256_update(&s, "H2C-OVERSIZE-DST-", 17);
    sha256_update(&s, big, sizeof big);
    sha256_final(&s, h);
    g1_t a, b;
    h2c_hash_to_g1(&a, (const uint8_t *)"msg", 3, big, sizeof big);
    h2c_hash_to_g1(&b, (const uint8_t *)"msg", 3, h, 32);
    TU_CHECK(g1_eq(&a, &b));
    g2_t a2, b2;
    h2c_encode_to_g2(&a2, (const uint8_t *)"msg", 3, big, sizeof big);
    h2c_encode_to_g2(&b2, (const uint8_t *)"msg", 3, h, 32);
    TU_CHECK(g2_eq(&a2, &b2));
}

/* [|x|] and the cofactor clearings on the identity and on points of order 3 (x = 0), where the
 * accumulator of the double-and-add passes through O and +-P: the additions must be complete. */
/* A projective triple that is a point: (0 : 0 : 0) is not one (and compares equal to everything). */
static int g1_proper(const g1_t *p) { return !(fp_is_zero(&p->x) & fp_is_zero(&p->y) & fp_is_zero(&p->z)); }
static int g2_proper(const g2_t *p) { return !(fp2_is_zero(&p->x) & fp2_is_zero(&p->y) & fp2_is_zero(&p->z)); }

static void test_mul_x_abs_exceptional(void) {
    const uint64_t xabs = 0xd201000000010000ULL, heff1 = 0xd201000000010001ULL;
    g1_t o1, r1, v1, p1;
    g1_identity(&o1);
    g1_mul_x_abs(&r1, &o1);
    TU_CHECK(g1_is_identity(&r1) && g1_proper(&r1));
    h2c_clear_cofactor_g1(&r1, &o1);
    TU_CHECK(g1_is_identity(&r1) && g1_proper(&r1));
    g2_t o2, r2;
    g2_identity(&o2);
    g2_mul_x_abs(&r2, &o2);
    TU_CHECK(g2_is_identity(&r2) && g2_proper(&r2));
    h2c_clear_cofactor_g2(&r2, &o2);
    TU_CHECK(g2_is_identity(&r2) && g2_proper(&r2));
    /* (0, 2) on y^2 = x^3 + 4 has order 3 */
    p1.x = FP_ZERO;
    fp_from_u64(&p1.y, 2);
    p1.z = FP_ONE;
    TU_CHECK(g1_is_on_curve(&p1));
    g1_mul_x_abs(&r1, &p1);
    g1_mul_u64s_vartime(&v1, &p1, &xabs, 1);
    TU_CHECK(g1_eq(&r1, &v1) && g1_is_on_curve(&r1) && g1_proper(&r1));
    h2c_clear_cofactor_g1(&r1, &p1);
    g1_mul_u64s_vartime(&v1, &p1, &heff1, 1);
    TU_CHECK(g1_eq(&r1, &v1) && g1_proper(&r1));
    /* and a sum with a point of large order, so the result is not just O */
    g1_t g;
    g1_from_affine(&g, &G1_GENERATOR);
    g1_add(&p1, &p1, &g);
    g1_mul_x_abs(&r1, &p1);
    g1_mul_u64s_vartime(&v1, &p1, &xabs, 1);
    TU_CHECK(g1_eq(&r1, &v1) && g1_proper(&r1));
    /* (the twist has no point with x = 0: 4(1+u) is not a square in Fp2, its norm 32 is not one in Fp) */
}

int main(void) {
    tu_seed();
    test_expand("h2c/expand_message_xmd_SHA256_38.json");
    test_expand("h2c/expand_message_xmd_SHA256_256.json");
    test_expand_edges();
    test_suite_g1("h2c/BLS12381G1_XMD_SHA-256_SSWU_RO_.json", 1);
    test_suite_g1("h2c/BLS12381G1_XMD_SHA-256_SSWU_NU_.json", 0);
    test_suite_g2("h2c/BLS12381G2_XMD_SHA-256_SSWU_RO_.json", 1);
    test_suite_g2("h2c/BLS12381G2_XMD_SHA-256_SSWU_NU_.json", 0);
    test_eth_hash_to_g2();
    test_random_maps();
    test_mul_x_abs_exceptional();
    printf("h2c: ok (%zu vector values checked)\n", n_checked);
    return 0;
}
