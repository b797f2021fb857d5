/* tkms-bench-dkg: cost of the DKG building blocks (HPKE, Ed25519) and of whole simulated DKG and
 * reshare runs at n = 16, 64, 128 (total and per-node CPU, messages, bytes). Table, or --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hpke.h"
#include "identity.h"
#include "sim.h"

static int json_out;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *op, double ns, unsigned long iters) {
    if (json_out)
        printf("{\"op\":\"%s\",\"ns\":%.0f,\"iters\":%lu}\n", op, ns, iters);
    else
        printf("%-24s %14.2f us %10lu\n", op, ns / 1e3, iters);
}

static uint8_t sk[32], pk[32], ikm[32], ct[32 + 48], pt[32], sig[64], msg[110];
static tkms_identity id;

static void op_seal(void) { (void)tkms_hpke_seal(ct, pk, (const uint8_t *)"i", 1, (const uint8_t *)"a", 1, pt, 32, ikm); }
static void op_open(void) { (void)tkms_hpke_open(pt, sk, (const uint8_t *)"i", 1, (const uint8_t *)"a", 1, ct, sizeof ct); }
static void op_sign(void) { (void)tkms_ed25519_sign(sig, id.sign_sk, msg, sizeof msg); }
static void op_verify(void) { (void)tkms_ed25519_verify(sig, id.sign_pk, msg, sizeof msg); }

static void micro(const char *name, void (*fn)(void)) {
    unsigned long iters = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 64; i++) fn();
        iters += 64;
        t = now_s() - t0;
    } while (t < 0.3);
    report(name, t * 1e9 / (double)iters, iters);
}

static void sim(int reshare, size_t n) {
    tkms_sim_params p;
    memset(&p, 0, sizeof p);
    p.reshare = reshare;
    p.n = n;
    p.n2 = n;
    p.keep = n;
    p.seed = 1;
    p.delay_min = 1;
    p.delay_max = 20;
    p.measure_node_cpu = 1;
    tkms_sim_result *r = calloc(1, sizeof *r);
    if (!r || !tkms_sim_run(&p, r)) {
        fprintf(stderr, "sim failed\n");
        exit(1);
    }
    char op[32];
    snprintf(op, sizeof op, "%s_n%zu", reshare ? "reshare" : "dkg", n);
    if (json_out)
        printf("{\"op\":\"%s\",\"ns\":%.0f,\"iters\":1,\"ok\":%s,\"node_cpu_avg_s\":%.4f,\"node_cpu_max_s\":%.4f,"
               "\"messages\":%llu,\"bytes\":%llu,\"messages_per_node\":%llu,\"bytes_per_node\":%llu}\n",
               op, r->cpu_s * 1e9, r->ok ? "true" : "false", r->node_cpu_avg_s, r->node_cpu_max_s,
               (unsigned long long)r->messages, (unsigned long long)r->bytes, (unsigned long long)(r->messages / n),
               (unsigned long long)(r->bytes / n));
    else
        printf("%-12s %-4s total %8.2f s  per node avg %7.3f s max %7.3f s  messages %10llu (%llu/node)  bytes %13llu "
               "(%llu/node)\n",
               op, r->ok ? "ok" : "FAIL", r->cpu_s, r->node_cpu_avg_s, r->node_cpu_max_s, (unsigned long long)r->messages,
               (unsigned long long)(r->messages / n), (unsigned long long)r->bytes, (unsigned long long)(r->bytes / n));
    fflush(stdout);
    tkms_sim_result_free(r);
    free(r);
}

int main(int argc, char **argv) {
    size_t max_n = 128;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json_out = 1;
        else if (strcmp(argv[i], "--quick") == 0)
            max_n = 64;
        else {
            fprintf(stderr, "usage: tkms-bench-dkg [--json] [--quick]\n");
            return 2;
        }
    }
    memset(ikm, 7, sizeof ikm);
    memset(msg, 9, sizeof msg);
    (void)tkms_hpke_derive_keypair(sk, pk, ikm, 32);
    (void)tkms_identity_from_seed(&id, ikm);
    op_seal();
    op_sign();
    if (!json_out) printf("%-24s %17s %10s\n", "op", "time", "iters");
    micro("hpke_seal_share", op_seal);
    micro("hpke_open_share", op_open);
    micro("ed25519_sign", op_sign);
    micro("ed25519_verify", op_verify);
    static const size_t sizes[] = {16, 64, 128};
    for (size_t a = 0; a < 3; a++) {
        if (sizes[a] > max_n) continue;
        sim(0, sizes[a]);
        sim(1, sizes[a]);
    }
    tkms_identity_wipe(&id);
    return 0;
}
