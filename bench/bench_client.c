/* tkms-bench-client: client end-to-end latency (evidence to mnemonic) against n = 4, 7, 10 mock nodes
 * on loopback (tests/tools/mock_node.c: real shares, HPKE, Ed25519, dev-evidence verification), with
 * the breakdown network / verify / combine / derive. Prints a table, or JSON with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_node.h"
#include "tkms/client.h"

typedef struct {
    double total, evidence, network, verify, combine, derive;
} sample;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
    qsort(v, n, sizeof *v, cmp_d);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

#define FIELD(name) \
    static double med_##name(sample *s, size_t n) { \
        double *v = malloc(n * sizeof *v); \
        for (size_t i = 0; i < n; i++) v[i] = s[i].name; \
        double r = pct(v, n, 0.5); \
        free(v); \
        return r; \
    }
FIELD(total)
FIELD(evidence)
FIELD(network)
FIELD(verify)
FIELD(combine)
FIELD(derive)

int main(int argc, char **argv) {
    int json = 0;
    size_t iters = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: tkms-bench-client [--json] [--iters N]\n");
            return 2;
        }
    }
    if (iters < 1) iters = 1;
    static const size_t ns[] = {4, 7, 10};
    uint8_t app[20];
    mock_app_id(app); /* the app the mock nodes have registered */
    if (json) printf("{\"benchmark\":\"client_fetch\",\"iters\":%zu,\"results\":[", iters);
    else {
        printf("client end-to-end key fetch (evidence -> mnemonic), %zu runs each, mock nodes on loopback\n", iters);
        printf("%4s %3s | %9s %9s | %9s %9s %9s %9s %9s  (median ms)\n", "n", "t", "total", "p95", "evidence", "network",
               "verify", "combine", "derive");
    }
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        size_t n = ns[k], t = (2 * n + 2) / 3;
        mock_config cfg = {.n = n, .t = t};
        memset(cfg.seed, (int)n, 32);
        mock_cluster *m = mock_start(&cfg);
        if (!m) return fprintf(stderr, "cannot start mock nodes\n"), 1;
        tkms_client_group *g;
        tkms_status err;
        const char *gj = mock_group_json(m, 0);
        if (tkms_client_group_parse(&g, &err, gj, strlen(gj)) != TKMS_CLIENT_OK) return fprintf(stderr, "%s\n", err.msg), 1;
        tkms_client_fetch_opts o;
        tkms_client_fetch_opts_default(&o);
        o.group = g;
        memcpy(o.app_id, app, 20);
        sample *s = calloc(iters, sizeof *s);
        for (size_t i = 0; i < iters + 3; i++) {
            tkms_client_key key;
            tkms_client_report r;
            if (tkms_client_fetch(&key, &r, &err, &o) != TKMS_CLIENT_OK) {
                fprintf(stderr, "fetch: %s\n", err.msg);
                exit(1);
            }
            if (i >= 3) s[i - 3] = (sample){r.ms_total, r.ms_evidence, r.ms_network, r.ms_verify, r.ms_combine, r.ms_derive};
            tkms_client_key_wipe(&key);
            tkms_client_report_free(&r);
        }
        double *tot = malloc(iters * sizeof *tot);
        for (size_t i = 0; i < iters; i++) tot[i] = s[i].total;
        double p95 = pct(tot, iters, 0.95);
        free(tot);
        if (json)
            printf("%s{\"n\":%zu,\"t\":%zu,\"median_ms\":{\"total\":%.3f,\"evidence\":%.3f,\"network\":%.3f,\"verify\":%.3f,"
                   "\"combine\":%.3f,\"derive\":%.3f},\"p95_total_ms\":%.3f}",
                   k ? "," : "", n, t, med_total(s, iters), med_evidence(s, iters), med_network(s, iters), med_verify(s, iters),
                   med_combine(s, iters), med_derive(s, iters), p95);
        else
            printf("%4zu %3zu | %9.2f %9.2f | %9.3f %9.2f %9.2f %9.2f %9.3f\n", n, t, med_total(s, iters), p95, med_evidence(s, iters),
                   med_network(s, iters), med_verify(s, iters), med_combine(s, iters), med_derive(s, iters));
        free(s);
        tkms_client_group_free(g);
        mock_stop(m);
    }
    if (json) printf("]}\n");
    else
        printf("network = waiting for t answers (includes the mock nodes' own evidence check, HPKE and signing on the same host);\n"
               "verify = response signatures + HPKE open + point checks + batch partial verification; combine = Lagrange + MPK check.\n");
    return 0;
}
