/* Benchmarks of threshold BLS, app keys, IBE and sealing: a table, or JSON lines {"op","ns","iters"}
 * with --json. Shows that a partial app key costs hash_to_G1 + one G1 multiplication and that
 * verifying t partials costs two Miller loops + MSMs rather than t pairings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "appkey.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "ibe.h"
#include "pairing.h"
#include "seal.h"
#include "tbls.h"

static int json;
static double budget = 0.4; /* seconds per op */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef void (*op_fn)(void *);
static void run(const char *name, op_fn f, void *ctx) {
    f(ctx); /* warm-up */
    long iters = 0;
    double t0 = now(), t;
    do {
        f(ctx);
        iters++;
        t = now() - t0;
    } while (t < budget || iters < 3);
    double ns = t * 1e9 / (double)iters;
    if (json)
        printf("{\"op\":\"%s\",\"ns\":%.0f,\"iters\":%ld}\n", name, ns, iters);
    else
        printf("%-40s %14.1f us %8ld\n", name, ns / 1e3, iters);
    fflush(stdout);
}

static void rand_fr(fr_t *r) {
    uint8_t b[64];
    RAND_bytes(b, sizeof b);
    fr_from_bytes_wide(r, b, sizeof b);
}

/* ---- state ---- */
#define N 16
#define T 11
static fr_t secret, shares[N];
static g2_affine_t comm[T], pks[N], mpk;
static uint8_t app[20], seed[32];
static tbls_partial parts[N], parts_bad[N];
static g1_affine_t qa;
static void *scratch;
static g1_affine_t app_key;
static uint8_t ibe_ct[160], mpk_bytes[96], key_bytes[48];
static uint8_t *big_in;
static tkms_buf sealed_small, sealed_big;

static void op_h2c(void *c) {
    (void)c;
    g1_t q;
    appkey_identity_point(&q, app);
}
static void op_g1mul(void *c) {
    (void)c;
    g1_t p, r;
    uint64_t s[4];
    g1_from_affine(&p, &qa);
    fr_to_scalar(s, &shares[0]);
    g1_mul(&r, &p, s);
}
static void op_partial(void *c) {
    (void)c;
    g1_t k;
    appkey_partial(&k, &shares[0], app);
}
static void op_verify_one(void *c) {
    (void)c;
    if (!tbls_verify_partial(&parts[0].sig, &qa, &pks[0])) abort();
}
static void op_verify_11_each(void *c) {
    (void)c;
    for (int i = 0; i < T; i++)
        if (!tbls_verify_partial(&parts[i].sig, &qa, &pks[i])) abort();
}
static void op_batch11(void *c) {
    (void)c;
    if (!tbls_batch_verify(&qa, parts, pks, T, seed, scratch)) abort();
}
static void op_combine11(void *c) {
    (void)c;
    g1_t k;
    if (!tbls_combine(&k, parts, T, scratch)) abort();
}
static void op_robust16(void *c) {
    (void)c;
    g1_t k;
    uint8_t bad[N];
    size_t nb;
    if (!tbls_robust_combine(&k, bad, &nb, &qa, parts_bad, pks, N, T, seed, scratch) || nb != 2) abort();
}
static void op_pairing(void *c) {
    (void)c;
    fp12_t g;
    pairing(&g, &qa, &mpk);
}
static void op_ibe_enc(void *c) {
    (void)c;
    uint8_t msg[32], sigma[32];
    RAND_bytes(msg, 32);
    RAND_bytes(sigma, 32);
    if (!ibe_encrypt_mpk_g2(ibe_ct, &mpk, (const uint8_t *)TKMS_DST_APP_KEY, TKMS_TAG_LEN(TKMS_DST_APP_KEY), app, 20, msg, 32, sigma))
        abort();
}
static void op_ibe_dec(void *c) {
    (void)c;
    uint8_t msg[32];
    if (!ibe_decrypt_mpk_g2(msg, &app_key, ibe_ct, 160)) abort();
}
static void op_seal(void *c) {
    size_t n = *(size_t *)c;
    tkms_buf out = {0};
    if (tkms_seal(&out, mpk_bytes, app, "bench", big_in, n).code != TKMS_SEAL_OK) abort();
    tkms_buf_free(&out);
}
static void op_unseal(void *c) {
    size_t n = *(size_t *)c;
    tkms_buf *s = n < 4096 ? &sealed_small : &sealed_big, out = {0};
    if (tkms_unseal(&out, NULL, (const char *)s->p, s->len, key_bytes, NULL, NULL).code != TKMS_SEAL_OK || out.len != n)
        abort();
    tkms_buf_free(&out);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--quick") == 0) budget = 0.05;
        else {
            fprintf(stderr, "usage: tkms-bench-tbls [--json] [--quick]\n");
            return 2;
        }
    }
    scratch = malloc(tbls_scratch_size(N));
    big_in = malloc(10u << 20);
    RAND_bytes(big_in, 10u << 20);
    rand_fr(&secret);
    RAND_bytes(seed, 32);
    RAND_bytes(app, 20);
    if (!tbls_deal(shares, comm, &secret, seed, T, N, scratch)) return 1;
    tbls_public_shares(pks, comm, T, N, scratch);
    mpk = comm[0];
    g2_serialize(mpk_bytes, &mpk);
    g1_t q;
    appkey_identity_point(&q, app);
    g1_to_affine(&qa, &q);
    for (int i = 0; i < N; i++) {
        g1_t k;
        appkey_partial(&k, &shares[i], app);
        parts[i].index = (uint32_t)(i + 1);
        g1_to_affine(&parts[i].sig, &k);
    }
    memcpy(parts_bad, parts, sizeof parts);
    parts_bad[2].sig = parts[3].sig;
    parts_bad[7].sig = parts[8].sig;
    g1_t k;
    if (!tbls_combine(&k, parts, T, scratch)) return 1;
    g1_to_affine(&app_key, &k);
    g1_serialize(key_bytes, &app_key);
    size_t small = 1024, bigsz = 10u << 20;
    if (tkms_seal(&sealed_small, mpk_bytes, app, "bench", big_in, small).code != TKMS_SEAL_OK ||
        tkms_seal(&sealed_big, mpk_bytes, app, "bench", big_in, bigsz).code != TKMS_SEAL_OK)
        return 1;
    op_ibe_enc(NULL);

    if (!json) printf("%-40s %17s %8s\n", "operation", "time/op", "iters");
    run("hash_to_g1 (app id)", op_h2c, NULL);
    run("g1_mul (constant time)", op_g1mul, NULL);
    run("partial app key (h2c + g1_mul)", op_partial, NULL);
    run("pairing (reference)", op_pairing, NULL);
    run("verify one partial (2-pairing product)", op_verify_one, NULL);
    run("verify t=11 partials one by one", op_verify_11_each, NULL);
    run("batch verify t=11", op_batch11, NULL);
    run("combine t=11 (constant time)", op_combine11, NULL);
    run("robust combine n=16, 2 bad", op_robust16, NULL);
    run("ibe encrypt (32 B, MPK in G2)", op_ibe_enc, NULL);
    run("ibe decrypt (32 B)", op_ibe_dec, NULL);
    run("seal 1 KiB", op_seal, &small);
    run("unseal 1 KiB", op_unseal, &small);
    run("seal 10 MiB", op_seal, &bigsz);
    run("unseal 10 MiB", op_unseal, &bigsz);
    tkms_buf_free(&sealed_small);
    tkms_buf_free(&sealed_big);
    free(big_in);
    free(scratch);
    return 0;
}
