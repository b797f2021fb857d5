/* Group-law, scalar-multiplication, MSM, subgroup and encoding tests shared by test_g1.c and
 * test_g2.c; the includer binds PT/AFF/FE/FN and a few field helpers (see test_g1.c). */
#include <string.h>

#include "fr.h"
#include "testutil.h"

static void rand_scalar(uint64_t k[4]) {
    for (int i = 0; i < 4; i++) k[i] = tu_rand64();
    switch (tu_rand64() % 8) {
    case 0: k[3] = k[2] = 0; break;              /* short */
    case 1: memcpy(k, FR_R, 32); k[0] -= 1; break; /* r - 1 */
    case 2: {
        /* |x|^j + small: the digit boundaries of the GLV/GLS splits (base |x|) */
        static const uint64_t X = 0xd201000000010000ULL;
        uint64_t v[4] = {1, 0, 0, 0};
        int j = (int)(tu_rand64() % 4);
        for (int e = 0; e < j; e++) {
            unsigned __int128 c = 0;
            for (int i = 0; i < 4; i++) {
                c += (unsigned __int128)v[i] * X;
                v[i] = (uint64_t)c;
                c >>= 64;
            }
        }
        int64_t d = (int64_t)(tu_rand64() % 5) - 2;
        memcpy(k, v, 32);
        if (d < 0 && k[0] >= (uint64_t)(-d)) k[0] -= (uint64_t)(-d);
        else if (d > 0) k[0] += (uint64_t)d;
        break;
    }
    default: break;
    }
}

/* Reference: plain double-and-add over all 256 bits with the complete formulas. */
static void naive_mul(PT *r, const PT *p, const uint64_t k[4]) {
    PT acc;
    FN(identity)(&acc);
    for (int i = 255; i >= 0; i--) {
        FN(dbl)(&acc, &acc);
        if ((k[i / 64] >> (i % 64)) & 1) FN(add)(&acc, &acc, p);
    }
    *r = acc;
}

static void rand_point(PT *p) {
    uint64_t k[4];
    PT g;
    FN(from_affine)(&g, &GEN);
    do {
        rand_scalar(k);
        FN(mul_vartime)(p, &g, k);
    } while (FN(is_identity)(p)); /* callers want a non-trivial point */
}

/* A random point of the whole curve E(F), almost never in the prime-order subgroup. */
static void rand_curve_point(PT *p) {
    AFF a;
    FE y2;
    do {
        rand_fe(&a.x);
        fe_sqr(&y2, &a.x);
        fe_mul(&y2, &y2, &a.x);
        fe_add(&y2, &y2, &CURVE_B);
    } while (!fe_sqrt(&a.y, &y2));
    FN(from_affine)(p, &a);
}

static void test_group_laws(void) {
    PT o, p, q, s, t, u, v, np;
    AFF qa, oa;
    FN(identity)(&o);
    TU_CHECK(FN(is_identity)(&o) && FN(is_on_curve)(&o));
    for (int it = 0; it < 50; it++) {
        rand_point(&p);
        rand_point(&q);
        rand_point(&s);
        TU_CHECK(FN(is_on_curve)(&p));
        /* associativity and commutativity */
        FN(add)(&t, &p, &q);
        FN(add)(&t, &t, &s);
        FN(add)(&u, &q, &s);
        FN(add)(&u, &p, &u);
        TU_CHECK(FN(eq)(&t, &u));
        FN(add)(&t, &p, &q);
        FN(add)(&u, &q, &p);
        TU_CHECK(FN(eq)(&t, &u));
        /* identity, inverse, doubling */
        FN(add)(&t, &p, &o);
        TU_CHECK(FN(eq)(&t, &p));
        FN(add)(&t, &o, &p);
        TU_CHECK(FN(eq)(&t, &p));
        FN(neg)(&np, &p);
        FN(add)(&t, &p, &np);
        TU_CHECK(FN(is_identity)(&t));
        FN(add)(&t, &p, &p);
        FN(dbl)(&u, &p);
        TU_CHECK(FN(eq)(&t, &u));
        TU_CHECK(!FN(eq)(&p, &u)); /* u = 2p != p */
        TU_CHECK(!FN(eq)(&p, &o) && !FN(eq)(&o, &p));
        /* mixed addition, including the edge cases */
        FN(to_affine)(&qa, &q);
        FN(add_affine)(&t, &p, &qa);
        FN(add)(&u, &p, &q);
        TU_CHECK(FN(eq)(&t, &u));
        FN(to_affine)(&qa, &p);
        FN(add_affine)(&t, &p, &qa);
        FN(dbl)(&u, &p);
        TU_CHECK(FN(eq)(&t, &u));
        FN(affine_neg)(&qa, &qa);
        FN(add_affine)(&t, &p, &qa);
        TU_CHECK(FN(is_identity)(&t));
        FN(to_affine)(&oa, &o);
        TU_CHECK(FN(affine_is_identity)(&oa) && FN(affine_is_on_curve)(&oa));
        FN(add_affine)(&t, &p, &oa);
        TU_CHECK(FN(eq)(&t, &p));
        FN(to_affine)(&qa, &p);
        FN(add_affine)(&t, &o, &qa);
        TU_CHECK(FN(eq)(&t, &p));
        /* scaled representatives compare equal */
        FE z;
        rand_fe(&z);
        v = p;
        fe_mul(&v.x, &v.x, &z);
        fe_mul(&v.y, &v.y, &z);
        fe_mul(&v.z, &v.z, &z);
        TU_CHECK(FN(eq)(&v, &p) && FN(is_on_curve)(&v));
        /* full-curve points: the complete formulas do not care about the subgroup */
        rand_curve_point(&t);
        FN(add)(&u, &t, &t);
        FN(dbl)(&v, &t);
        TU_CHECK(FN(eq)(&u, &v) && FN(is_on_curve)(&u));
    }
    FN(dbl)(&t, &o);
    TU_CHECK(FN(is_identity)(&t));
    FN(add)(&t, &o, &o);
    TU_CHECK(FN(is_identity)(&t));
    FN(from_affine)(&t, &oa);
    TU_CHECK(FN(is_identity)(&t));
}

static void test_affine(void) {
    enum { N = 17 };
    PT in[N];
    AFF out[N], one;
    FE scratch[N];
    for (int i = 0; i < N; i++) {
        if (i % 5 == 2)
            FN(identity)(&in[i]);
        else
            rand_point(&in[i]);
    }
    FN(batch_to_affine)(out, in, N, scratch);
    for (int i = 0; i < N; i++) {
        FN(to_affine)(&one, &in[i]);
        TU_CHECK(memcmp(&one, &out[i], sizeof one) == 0);
        TU_CHECK(FN(affine_is_on_curve)(&one));
        TU_CHECK(FN(affine_is_identity)(&one) == FN(is_identity)(&in[i]));
    }
}

static void test_scalar_mul(int iters) {
    PT g, p, a, b, c;
    FN(from_affine)(&g, &GEN);
    for (int it = 0; it < iters; it++) {
        uint64_t k[4];
        rand_scalar(&k[0]);
        if (it % 2) rand_point(&p);
        else p = g;
        FN(mul)(&a, &p, k);
        FN(mul_vartime)(&b, &p, k);
        naive_mul(&c, &p, k);
        TU_CHECK(FN(eq)(&a, &b));
        TU_CHECK(FN(eq)(&a, &c));
        /* k + r and 2^256 - 1 style inputs are reduced mod r by the constant-time path */
        uint64_t kr[4];
        unsigned __int128 cy = 0;
        for (int i = 0; i < 4; i++) {
            cy += (unsigned __int128)k[i] + FR_R[i];
            kr[i] = (uint64_t)cy;
            cy >>= 64;
        }
        if (!cy) {
            FN(mul)(&b, &p, kr);
            TU_CHECK(FN(eq)(&a, &b));
        }
    }
    /* the generic public-scalar path also serves points outside the subgroup */
    for (int it = 0; it < 10; it++) {
        uint64_t k[4];
        rand_scalar(k);
        rand_curve_point(&p);
        FN(mul_u64s_vartime)(&a, &p, k, 4);
        naive_mul(&c, &p, k);
        TU_CHECK(FN(eq)(&a, &c));
    }
    uint64_t z[4] = {0, 0, 0, 0}, one[4] = {1, 0, 0, 0}, m[4] = {~0ULL, ~0ULL, ~0ULL, ~0ULL};
    rand_point(&p);
    FN(mul)(&a, &p, z);
    TU_CHECK(FN(is_identity)(&a));
    FN(mul_vartime)(&a, &p, z);
    TU_CHECK(FN(is_identity)(&a));
    FN(mul)(&a, &p, one);
    TU_CHECK(FN(eq)(&a, &p));
    FN(mul)(&a, &p, FR_R);
    TU_CHECK(FN(is_identity)(&a));
    FN(mul_u64s_vartime)(&a, &p, FR_R, 4);
    TU_CHECK(FN(is_identity)(&a));
    FN(mul)(&a, &p, m);
    FN(mul_vartime)(&b, &p, m);
    naive_mul(&c, &p, m);
    TU_CHECK(FN(eq)(&a, &b) && FN(eq)(&a, &c));
    FN(identity)(&c);
    FN(mul)(&a, &c, m);
    TU_CHECK(FN(is_identity)(&a));
    /* long public multipliers: [r * 2^256 + 5]P = [5]P */
    uint64_t big[8] = {5, 0, 0, 0, FR_R[0], FR_R[1], FR_R[2], FR_R[3]}, five[4] = {5, 0, 0, 0};
    FN(mul_u64s_vartime)(&a, &p, big, 8);
    FN(mul_vartime)(&b, &p, five);
    TU_CHECK(FN(eq)(&a, &b));
    /* beyond 512 bits (the double-and-add fallback): [r * 2^640 + 5]P = [5]P */
    uint64_t huge[14] = {5};
    memcpy(huge + 10, FR_R, 32);
    FN(mul_u64s_vartime)(&a, &p, huge, 14);
    TU_CHECK(FN(eq)(&a, &b));
    FN(identity)(&c);
    FN(mul_u64s_vartime)(&a, &c, five, 4);
    TU_CHECK(FN(is_identity)(&a));
}

static void test_msm(void) {
    static const size_t sizes[] = {0, 1, 2, 3, 5, 16, 64, 130, 700};
    enum { MAXN = 700 };
    static AFF pts[MAXN];
    static uint64_t ks[MAXN][4];
    static PT tmp[MAXN];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (size_t i = 0; i < n; i++) {
            rand_point(&tmp[i]);
            rand_scalar(ks[i]);
            switch (tu_rand64() % 10) {
            case 0: FN(identity)(&tmp[i]); break;                   /* identity point */
            case 1: memset(ks[i], 0, sizeof ks[i]); break;          /* zero scalar */
            case 2: if (i) tmp[i] = tmp[i - 1]; break;               /* repeated point */
            case 3: if (i) FN(neg)(&tmp[i], &tmp[i - 1]); break;     /* opposite point */
            case 4: if (i) memcpy(ks[i], ks[i - 1], 32); break;      /* repeated scalar */
            default: break;
            }
            FN(to_affine)(&pts[i], &tmp[i]);
        }
        PT ref, t, got;
        FN(identity)(&ref);
        for (size_t i = 0; i < n; i++) {
            FN(mul_vartime)(&t, &tmp[i], ks[i]);
            FN(add)(&ref, &ref, &t);
        }
        size_t sz = FN(msm_scratch_size)(n);
        void *scratch = malloc(sz ? sz : 1);
        TU_CHECK(scratch != NULL);
        FN(msm_vartime)(&got, pts, (const uint64_t(*)[4])ks, n, scratch);
        TU_CHECK(FN(eq)(&got, &ref));
        free(scratch);
    }
    /* every point the same and scalars equal: exercises doublings inside the buckets, for the
     * Jacobian (small n) and the batch-affine (large n) bucket strategies */
    for (size_t n = 40; n <= 400; n += 360) {
        PT g, ref;
        FN(from_affine)(&g, &GEN);
        uint64_t k[4] = {0x1234567, 0, 0, 0}, kn[4] = {0x1234567 * (uint64_t)n, 0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            pts[i] = GEN;
            memcpy(ks[i], k, 32);
        }
        void *scratch = malloc(FN(msm_scratch_size)(n));
        PT got;
        FN(msm_vartime)(&got, pts, (const uint64_t(*)[4])ks, n, scratch);
        FN(mul_vartime)(&ref, &g, kn);
        TU_CHECK(FN(eq)(&got, &ref));
        free(scratch);
    }
}

/* Only the generator and its negation, with random scalars: buckets keep meeting equal and
 * opposite points (doublings and cancellations inside the batch-affine additions). */
static void test_msm_degenerate(void) {
    enum { N = 500 };
    static AFF pts[N];
    static uint64_t ks[N][4];
    PT g, ng, ref, t, got;
    FN(from_affine)(&g, &GEN);
    FN(neg)(&ng, &g);
    FN(identity)(&ref);
    for (size_t i = 0; i < N; i++) {
        rand_scalar(ks[i]);
        if (i % 3 == 0) ks[i][1] = ks[i][2] = ks[i][3] = 0; /* small: shared low buckets */
        FN(to_affine)(&pts[i], i % 2 ? &ng : &g);
        FN(mul_vartime)(&t, i % 2 ? &ng : &g, ks[i]);
        FN(add)(&ref, &ref, &t);
    }
    void *scratch = malloc(FN(msm_scratch_size)(N));
    TU_CHECK(scratch != NULL);
    FN(msm_vartime)(&got, pts, (const uint64_t(*)[4])ks, N, scratch);
    TU_CHECK(FN(eq)(&got, &ref));
    free(scratch);
}

static void test_subgroup(void) {
    PT p, q;
    FN(identity)(&p);
    TU_CHECK(FN(in_subgroup_vartime)(&p));
    for (int it = 0; it < 30; it++) {
        rand_point(&p);
        TU_CHECK(FN(in_subgroup_vartime)(&p));
        rand_curve_point(&q);
        TU_CHECK(FN(is_on_curve)(&q));
        TU_CHECK(!FN(in_subgroup_vartime)(&q));
        /* [r]Q lies in the cofactor part only; it must be rejected unless it is the identity */
        PT c;
        FN(mul_u64s_vartime)(&c, &q, FR_R, 4);
        TU_CHECK(!FN(is_identity)(&c));
        TU_CHECK(!FN(in_subgroup_vartime)(&c));
        /* G1 member plus a cofactor-part point is rejected too */
        FN(add)(&c, &c, &p);
        TU_CHECK(!FN(in_subgroup_vartime)(&c));
    }
}

static void test_serialisation(void) {
    uint8_t c[SER_C], u[SER_U];
    AFF a, b;
    PT p;
    for (int it = 0; it < 60; it++) {
        if (it == 0) FN(identity)(&p);
        else rand_point(&p);
        FN(to_affine)(&a, &p);
        FN(serialize)(c, &a);
        FN(serialize_uncompressed)(u, &a);
        if (it == 0) {
            TU_CHECK(c[0] == 0xc0 && u[0] == 0x40);
            for (size_t i = 1; i < SER_C; i++) TU_CHECK(c[i] == 0);
            for (size_t i = 1; i < SER_U; i++) TU_CHECK(u[i] == 0);
            TU_CHECK(FN(deserialize)(&b, c, SER_C, 0) == ERR(IDENTITY));
            TU_CHECK(FN(deserialize)(&b, u, SER_U, 0) == ERR(IDENTITY));
            TU_CHECK(FN(deserialize)(&b, c, SER_C, 1) == ST_OK && FN(affine_is_identity)(&b));
            TU_CHECK(FN(deserialize)(&b, u, SER_U, 1) == ST_OK && FN(affine_is_identity)(&b));
            u[0] = 0;
            TU_CHECK(FN(deserialize)(&b, u, SER_U, 1) == ERR(NOT_ON_CURVE)); /* (0,0) unflagged */
            continue;
        }
        TU_CHECK((c[0] & 0xc0) == 0x80 && (u[0] & 0xe0) == 0);
        TU_CHECK(FN(deserialize)(&b, c, SER_C, 0) == ST_OK);
        TU_CHECK(memcmp(&a, &b, sizeof a) == 0);
        TU_CHECK(FN(deserialize)(&b, u, SER_U, 0) == ST_OK);
        TU_CHECK(memcmp(&a, &b, sizeof a) == 0);
        /* wrong lengths for the C flag */
        TU_CHECK(FN(deserialize)(&b, c, SER_C - 1, 1) == ERR(LENGTH));
        TU_CHECK(FN(deserialize)(&b, u, SER_C, 1) == ERR(LENGTH));
        TU_CHECK(FN(deserialize)(&b, c, SER_U, 1) == ERR(LENGTH));
        TU_CHECK(FN(deserialize)(&b, c, 0, 1) == ERR(LENGTH));
        /* sign flag on an uncompressed encoding */
        u[0] |= 0x20;
        TU_CHECK(FN(deserialize)(&b, u, SER_U, 1) == ERR(FLAGS));
        u[0] &= 0x1f;
        /* flipping the sign gives the negated point */
        c[0] ^= 0x20;
        TU_CHECK(FN(deserialize)(&b, c, SER_C, 0) == ST_OK);
        FN(affine_neg)(&b, &b);
        TU_CHECK(memcmp(&a, &b, sizeof a) == 0);
        c[0] ^= 0x20;
        /* a tampered y is off the curve */
        u[SER_U - 1] ^= 1;
        TU_CHECK(FN(deserialize)(&b, u, SER_U, 0) == ERR(NOT_ON_CURVE));
        u[SER_U - 1] ^= 1;
        /* infinity flag with anything else set */
        c[0] |= 0x40;
        TU_CHECK(FN(deserialize)(&b, c, SER_C, 1) == ERR(FLAGS));
    }
    /* full-curve points outside the subgroup, both encodings */
    for (int it = 0; it < 10; it++) {
        rand_curve_point(&p);
        FN(to_affine)(&a, &p);
        FN(serialize)(c, &a);
        FN(serialize_uncompressed)(u, &a);
        TU_CHECK(FN(deserialize)(&b, c, SER_C, 1) == ERR(SUBGROUP));
        TU_CHECK(FN(deserialize)(&b, u, SER_U, 1) == ERR(SUBGROUP));
    }
}

/* The eth-bls deserialisation vectors: output true iff the parser accepts (identity allowed). */
static void test_vectors(const char *file, const char *field) {
    json_t *root = tu_load_json(file);
    size_t i;
    json_t *cs;
    int n = 0;
    json_array_foreach(root, i, cs) {
        const char *hex = json_string_value(json_object_get(json_object_get(cs, "input"), field));
        TU_CHECK(hex != NULL);
        uint8_t buf[400];
        long len = tu_unhex(buf, sizeof buf, hex);
        TU_CHECK(len >= 0);
        AFF a;
        int ok = FN(deserialize)(&a, buf, (size_t)len, 1) == ST_OK;
        int want = json_is_true(json_object_get(cs, "output"));
        if (ok != want) fprintf(stderr, "vector %s: got %d want %d\n", json_string_value(json_object_get(cs, "name")), ok, want);
        TU_CHECK(ok == want);
        if (ok) {
            uint8_t again[SER_C];
            TU_CHECK(len == SER_C);
            FN(serialize)(again, &a);
            TU_CHECK(memcmp(again, buf, SER_C) == 0);
        }
        n++;
    }
    TU_CHECK(n > 10);
    json_decref(root);
}
