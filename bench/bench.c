/* tkms-bench: ns/op of the BLS12-381 core (field, curve, MSM, hash-to-curve, pairing, BLS).
 * Median of several timed batches with calibrated sizes; a table, or JSON lines with --json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fp.h"
#include "fp12.h"
#include "fp2.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "pairing.h"
#include "tkms/bls.h"

/* ---- state shared by the operations (set up once, outside the timings) ---- */

static fp_t fa, fb;
static fp2_t f2a, f2b;
static fp12_t f12a, f12b, gt_unitary, miller_f;
static fr_t ra, rb;
static g1_t p1, q1;
static g2_t p2, q2;
static g1_affine_t a1, a1b[2];
static g2_affine_t a2, a2b[2];
static uint64_t scalar[4];
static uint8_t g1_enc[48], g2_enc[96];
static uint8_t msg[32];
static uint64_t counter;
static volatile uint64_t sink;

#define MSM_MAX 1024
static g1_affine_t *msm_p1;
static g2_affine_t *msm_p2;
static uint64_t (*msm_k)[4];
static void *msm_scratch;

static tkms_bls_secret_key sk;
static tkms_bls_public_key pk_sig, pk_pk, agg_pks[16];
static tkms_bls_signature sig_sig, sig_pk, agg_sig;
static uint8_t agg_msgs[16][32];
static const uint8_t *agg_msg_ptrs[16];
static size_t agg_msg_lens[16];
static const uint8_t DST_SIG[] = TKMS_BLS_DST_MIN_SIG_NUL;
static const uint8_t DST_PK[] = TKMS_BLS_DST_MIN_PK_POP;

static uint64_t rng_state = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static void rand_scalar(uint64_t k[4]) {
    for (int i = 0; i < 4; i++) k[i] = rnd();
    k[3] &= 0x3fffffffffffffffULL; /* < 2^254 < r */
}
static void bump_msg(void) {
    counter++;
    memcpy(msg, &counter, sizeof counter);
}

/* ---- operations ---- */

static void op_fp_mul(void) { fp_mul(&fa, &fa, &fb); }
static void op_fp_inv(void) { fp_inv(&fa, &fa); }
static void op_fp2_mul(void) { fp2_mul(&f2a, &f2a, &f2b); }
static void op_fp12_mul(void) { fp12_mul(&f12a, &f12a, &f12b); }
static void op_cyclotomic_sqr(void) { fp12_cyclotomic_sqr(&gt_unitary, &gt_unitary); }
static void op_fr_mul(void) { fr_mul(&ra, &ra, &rb); }
static void op_g1_add(void) {
    g1_t t;
    g1_add(&t, &p1, &q1);
    p1 = t;
}
static void op_g1_dbl(void) {
    g1_t t;
    g1_dbl(&t, &p1);
    p1 = t;
}
static void op_g2_add(void) {
    g2_t t;
    g2_add(&t, &p2, &q2);
    p2 = t;
}
static void op_g2_dbl(void) {
    g2_t t;
    g2_dbl(&t, &p2);
    p2 = t;
}
static void op_g1_mul(void) {
    g1_t t;
    g1_mul(&t, &q1, scalar);
    sink ^= t.x.l[0];
}
static void op_g2_mul(void) {
    g2_t t;
    g2_mul(&t, &q2, scalar);
    sink ^= t.x.c0.l[0];
}
static void g1_msm(size_t n) {
    g1_t r;
    g1_msm_vartime(&r, msm_p1, (const uint64_t(*)[4])msm_k, n, msm_scratch);
    sink ^= r.x.l[0];
}
static void g2_msm(size_t n) {
    g2_t r;
    g2_msm_vartime(&r, msm_p2, (const uint64_t(*)[4])msm_k, n, msm_scratch);
    sink ^= r.x.c0.l[0];
}
static void op_g1_msm_64(void) { g1_msm(64); }
static void op_g1_msm_1024(void) { g1_msm(1024); }
static void op_g2_msm_64(void) { g2_msm(64); }
static void op_g2_msm_1024(void) { g2_msm(1024); }
static void op_hash_to_g1(void) {
    g1_t t;
    bump_msg();
    h2c_hash_to_g1(&t, msg, sizeof msg, DST_SIG, sizeof DST_SIG - 1);
    sink ^= t.x.l[0];
}
static void op_hash_to_g2(void) {
    g2_t t;
    bump_msg();
    h2c_hash_to_g2(&t, msg, sizeof msg, DST_PK, sizeof DST_PK - 1);
    sink ^= t.x.c0.l[0];
}
static void op_g1_decompress_check(void) {
    g1_affine_t t;
    sink ^= (uint64_t)g1_deserialize(&t, g1_enc, 48, 0);
}
static void op_g2_decompress_check(void) {
    g2_affine_t t;
    sink ^= (uint64_t)g2_deserialize(&t, g2_enc, 96, 0);
}
static void op_g1_subgroup_check(void) { sink ^= g1_in_subgroup_vartime(&q1); }
static void op_g2_subgroup_check(void) { sink ^= g2_in_subgroup_vartime(&q2); }
static void op_miller_loop(void) {
    fp12_t f;
    pairing_miller_loop(&f, &a1, &a2, 1);
    sink ^= f.c0.c0.c0.l[0];
}
static void op_final_exp(void) {
    fp12_t f;
    pairing_final_exp(&f, &miller_f);
    sink ^= f.c0.c0.c0.l[0];
}
static void op_pairing(void) {
    fp12_t f;
    pairing(&f, &a1, &a2);
    sink ^= f.c0.c0.c0.l[0];
}
static void op_pairing2_check(void) { sink ^= pairing_product_is_one(a1b, a2b, 2); }
static void op_sign_min_sig(void) {
    tkms_bls_signature s;
    bump_msg();
    sink ^= (uint64_t)tkms_bls_sign(&s, TKMS_BLS_MIN_SIG, &sk, msg, sizeof msg, DST_SIG, sizeof DST_SIG - 1);
}
static void op_verify_min_sig(void) {
    sink ^= (uint64_t)tkms_bls_verify(&pk_sig, msg, sizeof msg, &sig_sig, DST_SIG, sizeof DST_SIG - 1);
}
static void op_sign_min_pk(void) {
    tkms_bls_signature s;
    bump_msg();
    sink ^= (uint64_t)tkms_bls_sign(&s, TKMS_BLS_MIN_PK, &sk, msg, sizeof msg, DST_PK, sizeof DST_PK - 1);
}
static void op_verify_min_pk(void) {
    sink ^= (uint64_t)tkms_bls_verify(&pk_pk, msg, sizeof msg, &sig_pk, DST_PK, sizeof DST_PK - 1);
}
static void op_aggregate_verify_16(void) {
    sink ^= (uint64_t)tkms_bls_aggregate_verify(agg_pks, agg_msg_ptrs, agg_msg_lens, 16, &agg_sig, DST_SIG,
                                                sizeof DST_SIG - 1);
}

static const struct {
    const char *name;
    void (*fn)(void);
} OPS[] = {
    {"fp_mul", op_fp_mul},
    {"fp_inv", op_fp_inv},
    {"fp2_mul", op_fp2_mul},
    {"fp12_mul", op_fp12_mul},
    {"cyclotomic_sqr", op_cyclotomic_sqr},
    {"fr_mul", op_fr_mul},
    {"g1_add", op_g1_add},
    {"g1_dbl", op_g1_dbl},
    {"g2_add", op_g2_add},
    {"g2_dbl", op_g2_dbl},
    {"g1_mul", op_g1_mul},
    {"g2_mul", op_g2_mul},
    {"g1_msm_64", op_g1_msm_64},
    {"g1_msm_1024", op_g1_msm_1024},
    {"g2_msm_64", op_g2_msm_64},
    {"g2_msm_1024", op_g2_msm_1024},
    {"hash_to_g1", op_hash_to_g1},
    {"hash_to_g2", op_hash_to_g2},
    {"g1_decompress_check", op_g1_decompress_check},
    {"g2_decompress_check", op_g2_decompress_check},
    {"g1_subgroup_check", op_g1_subgroup_check},
    {"g2_subgroup_check", op_g2_subgroup_check},
    {"miller_loop", op_miller_loop},
    {"final_exp", op_final_exp},
    {"pairing", op_pairing},
    {"pairing2_check", op_pairing2_check},
    {"sign_min_sig", op_sign_min_sig},
    {"verify_min_sig", op_verify_min_sig},
    {"sign_min_pk", op_sign_min_pk},
    {"verify_min_pk", op_verify_min_pk},
    {"aggregate_verify_16", op_aggregate_verify_16},
};

/* ---- set-up ---- */

static void die(const char *what) {
    fprintf(stderr, "tkms-bench: set-up failed: %s\n", what);
    exit(1);
}

static void setup(void) {
    uint64_t k[4];
    fp_from_u64(&fa, 0x1234567);
    fp_from_u64(&fb, 0x89abcdef);
    fp_mul(&fb, &fb, &fb);
    f2a.c0 = fa;
    f2a.c1 = fb;
    f2b.c0 = fb;
    f2b.c1 = fa;
    fr_from_u64(&ra, 0x1234567);
    fr_from_u64(&rb, 0x89abcdef);
    fr_mul(&rb, &rb, &rb);

    g1_t g1, t1;
    g2_t g2, t2;
    g1_from_affine(&g1, &G1_GENERATOR);
    g2_from_affine(&g2, &G2_GENERATOR);
    rand_scalar(scalar);
    rand_scalar(k);
    g1_mul_vartime(&q1, &g1, k);
    g2_mul_vartime(&q2, &g2, k);
    p1 = q1;
    p2 = q2;
    g1_to_affine(&a1, &q1);
    g2_to_affine(&a2, &q2);
    g1_serialize(g1_enc, &a1);
    g2_serialize(g2_enc, &a2);
    a1b[0] = a1;
    a2b[0] = a2;
    g1_affine_neg(&a1b[1], &a1);
    a2b[1] = a2;

    pairing_miller_loop(&miller_f, &a1, &a2, 1);
    pairing(&gt_unitary, &a1, &a2);
    f12a = miller_f;
    f12b = gt_unitary;

    msm_p1 = malloc(MSM_MAX * sizeof *msm_p1);
    msm_p2 = malloc(MSM_MAX * sizeof *msm_p2);
    msm_k = malloc(MSM_MAX * sizeof *msm_k);
    size_t s1 = g1_msm_scratch_size(MSM_MAX), s2 = g2_msm_scratch_size(MSM_MAX);
    msm_scratch = malloc(s1 > s2 ? s1 : s2);
    g1_t *j1 = malloc(MSM_MAX * sizeof *j1);
    g2_t *j2 = malloc(MSM_MAX * sizeof *j2);
    fp2_t *scratch = malloc(MSM_MAX * sizeof *scratch);
    if (!msm_p1 || !msm_p2 || !msm_k || !msm_scratch || !j1 || !j2 || !scratch) die("out of memory");
    t1 = q1;
    t2 = q2;
    for (size_t i = 0; i < MSM_MAX; i++) {
        g1_t u1;
        g2_t u2;
        g1_add(&u1, &t1, &g1);
        g1_dbl(&t1, &u1);
        g2_add(&u2, &t2, &g2);
        g2_dbl(&t2, &u2);
        j1[i] = t1;
        j2[i] = t2;
        rand_scalar(msm_k[i]);
    }
    g1_batch_to_affine(msm_p1, j1, MSM_MAX, (fp_t *)scratch);
    g2_batch_to_affine(msm_p2, j2, MSM_MAX, scratch);
    free(j1);
    free(j2);
    free(scratch);

    uint8_t ikm[32];
    for (int i = 0; i < 32; i++) ikm[i] = (uint8_t)rnd();
    if (!tkms_bls_keygen(&sk, ikm, sizeof ikm, NULL, 0)) die("keygen");
    if (!tkms_bls_sk_to_pk(&pk_sig, TKMS_BLS_MIN_SIG, &sk) || !tkms_bls_sk_to_pk(&pk_pk, TKMS_BLS_MIN_PK, &sk))
        die("sk_to_pk");
    if (!tkms_bls_sign(&sig_sig, TKMS_BLS_MIN_SIG, &sk, msg, sizeof msg, DST_SIG, sizeof DST_SIG - 1) ||
        !tkms_bls_sign(&sig_pk, TKMS_BLS_MIN_PK, &sk, msg, sizeof msg, DST_PK, sizeof DST_PK - 1))
        die("sign");
    if (!tkms_bls_verify(&pk_sig, msg, sizeof msg, &sig_sig, DST_SIG, sizeof DST_SIG - 1) ||
        !tkms_bls_verify(&pk_pk, msg, sizeof msg, &sig_pk, DST_PK, sizeof DST_PK - 1))
        die("verify");

    tkms_bls_signature sigs[16];
    for (int i = 0; i < 16; i++) {
        tkms_bls_secret_key ski;
        ikm[0] = (uint8_t)i;
        memset(agg_msgs[i], i, 32);
        agg_msg_ptrs[i] = agg_msgs[i];
        agg_msg_lens[i] = 32;
        if (!tkms_bls_keygen(&ski, ikm, sizeof ikm, NULL, 0) || !tkms_bls_sk_to_pk(&agg_pks[i], TKMS_BLS_MIN_SIG, &ski) ||
            !tkms_bls_sign(&sigs[i], TKMS_BLS_MIN_SIG, &ski, agg_msgs[i], 32, DST_SIG, sizeof DST_SIG - 1))
            die("aggregate keys");
    }
    if (!tkms_bls_aggregate(&agg_sig, sigs, 16) ||
        !tkms_bls_aggregate_verify(agg_pks, agg_msg_ptrs, agg_msg_lens, 16, &agg_sig, DST_SIG, sizeof DST_SIG - 1))
        die("aggregate_verify");
}

/* ---- timing ---- */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_batch(void (*fn)(void), uint64_t iters) {
    double t0 = now_ns();
    for (uint64_t i = 0; i < iters; i++) fn();
    return now_ns() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Grows the batch until it takes target_ns, then times `batches` batches; returns the median ns/op. */
static double measure(void (*fn)(void), double target_ns, int batches, uint64_t *total_iters) {
    uint64_t iters = 1;
    fn(); /* warm-up */
    for (;;) {
        double t = time_batch(fn, iters);
        if (t >= target_ns || iters >= (1ULL << 30)) break;
        double scale = t > 0 ? target_ns / t : 16;
        uint64_t next = (uint64_t)((double)iters * (scale > 16 ? 16 : scale * 1.1));
        iters = next > iters ? next : iters + 1;
    }
    double per[16];
    for (int b = 0; b < batches; b++) per[b] = time_batch(fn, iters) / (double)iters;
    qsort(per, (size_t)batches, sizeof per[0], cmp_double);
    *total_iters = iters * (uint64_t)batches;
    return per[batches / 2];
}

static void human(char *out, size_t n, double ns) {
    if (ns < 1e3) snprintf(out, n, "%8.1f ns", ns);
    else if (ns < 1e6) snprintf(out, n, "%8.2f us", ns / 1e3);
    else snprintf(out, n, "%8.2f ms", ns / 1e6);
}

int main(int argc, char **argv) {
    int json = 0, quick = 0;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) filter = argv[++i];
        else if (strncmp(argv[i], "--filter=", 9) == 0) filter = argv[i] + 9;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: tkms-bench [--json] [--quick] [--filter SUBSTR]\n\n"
                   "Median ns/op over several timed batches of each BLS12-381 core operation.\n"
                   "--json prints one object per line: {\"op\": NAME, \"ns\": MEDIAN, \"iters\": N}\n"
                   "(N = iterations timed). --quick uses shorter batches (< 15 s in all).\n");
            return 0;
        } else {
            fprintf(stderr, "tkms-bench: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    setup();
    double target = quick ? 8e6 : 40e6;
    int batches = quick ? 3 : 7;
    if (!json) printf("%-22s %12s %10s   (fp backend: %s)\n", "op", "median", "iters", fp_backend());
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        if (filter && !strstr(OPS[i].name, filter)) continue;
        uint64_t iters;
        double ns = measure(OPS[i].fn, target, batches, &iters);
        if (json) {
            printf("{\"op\": \"%s\", \"ns\": %.1f, \"iters\": %llu}\n", OPS[i].name, ns, (unsigned long long)iters);
        } else {
            char h[32];
            human(h, sizeof h, ns);
            printf("%-22s %12s %10llu\n", OPS[i].name, h, (unsigned long long)iters);
        }
        fflush(stdout);
    }
    return (int)(sink & 0);
}
