/* tkms-sim dkg|reshare: the DKG/reshare simulator (src/dkg/sim.c), one JSON object out. A test
 * program built from the engine's fault-injection build (tkms_dkg_faults) so that it can play
 * Byzantine dealers; the product CLI tkms and the daemon tkmsd link the production engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "group.h"
#include "sim.h"

static int parse_size(const char *s, size_t max, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s == '-' || end == s || *end || v > max) return 0;
    *out = (size_t)v;
    return 1;
}

static void sim_usage(FILE *f) {
    fprintf(f, "usage: tkms-sim dkg --nodes N [--threshold T] [--seed S] [--crash K] [--byzantine KIND:K ...]\n"
               "                    [--loss P] [--delay-ms A-B]\n"
               "       tkms-sim reshare --nodes N [...] --to-nodes N2 [--to-threshold T2] [--keep K] [--lose L]\n"
               "options also: --dup P, --partition-ms A-B, --late-certs K, --group-out FILE, --prev-group-out FILE\n"
               "KIND: bad-share, equivocate, bad-justification, wrong-constant, replay, silent.\n"
               "--lose L: L honest kept members start the reshare without their old share (repair).\n"
               "Prints one JSON object; exit 0 when the run ended as the protocol promises.\n"
               "A test tool: it runs the engine's fault-injection build (Byzantine dealers), which\n"
               "tkmsd and tkms do not contain. See docs/dkg.md, \"Simulator\".\n");
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "tkms-sim: cannot write %s\n", path);
    return ok;
}

static void hex96(char out[193], const uint8_t *b) { cli_hex_encode(out, b, 96); }

static int run_sim(int argc, char **argv) {
    static const char *const allowed[] = {"--nodes", "--threshold", "--seed", "--crash", "--byzantine", "--loss",
                                          "--delay-ms", "--to-nodes", "--to-threshold", "--keep", "--help!",
                                          "--dup", "--partition-ms", "--late-certs", "--group-out", "--prev-group-out", "--lose", NULL};
    if (argc < 2 || cli_flag(argc, argv, "--help")) {
        sim_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    int reshare;
    if (strcmp(argv[1], "dkg") == 0)
        reshare = 0;
    else if (strcmp(argv[1], "reshare") == 0)
        reshare = 1;
    else
        return cli_fail(CLI_USAGE, "sim: unknown mode '%s' (dkg or reshare)", argv[1]);
    if (!cli_check_opts(argc - 1, argv + 1, allowed)) return CLI_USAGE;
    tkms_sim_params p;
    memset(&p, 0, sizeof p);
    p.reshare = reshare;
    p.delay_min = 1;
    p.delay_max = 20;
    const char *v;
    if (!(v = cli_opt(argc, argv, "--nodes")) || !parse_size(v, TKMS_DKG_MAX_N, &p.n) || p.n < 1)
        return cli_fail(CLI_USAGE, "sim: --nodes N (1..%d) is required", TKMS_DKG_MAX_N);
    if ((v = cli_opt(argc, argv, "--threshold")) && (!parse_size(v, p.n, &p.t) || p.t < 1))
        return cli_fail(CLI_USAGE, "sim: --threshold must be in 1..N");
    if ((v = cli_opt(argc, argv, "--seed"))) {
        char *end;
        errno = 0;
        p.seed = strtoull(v, &end, 0);
        if (errno || end == v || *end) return cli_fail(CLI_USAGE, "sim: bad --seed");
    }
    if ((v = cli_opt(argc, argv, "--crash")) && !parse_size(v, 2 * TKMS_DKG_MAX_N, &p.crash))
        return cli_fail(CLI_USAGE, "sim: bad --crash");
    if ((v = cli_opt(argc, argv, "--loss"))) {
        char *end;
        p.loss = strtod(v, &end);
        if (end == v || *end || !(p.loss >= 0 && p.loss < 1)) return cli_fail(CLI_USAGE, "sim: --loss must be in [0, 1)");
    }
    if ((v = cli_opt(argc, argv, "--dup"))) {
        char *end;
        p.dup = strtod(v, &end);
        if (end == v || *end || !(p.dup >= 0 && p.dup <= 1)) return cli_fail(CLI_USAGE, "sim: --dup must be in [0, 1]");
    }
    if ((v = cli_opt(argc, argv, "--delay-ms"))) {
        unsigned a, b;
        char extra;
        if (sscanf(v, "%u-%u%c", &a, &b, &extra) != 2 || a > b || b > 600000)
            return cli_fail(CLI_USAGE, "sim: --delay-ms A-B with A <= B");
        p.delay_min = a;
        p.delay_max = b;
    }
    if ((v = cli_opt(argc, argv, "--partition-ms"))) {
        unsigned a, b;
        char extra;
        if (sscanf(v, "%u-%u%c", &a, &b, &extra) != 2 || a > b) return cli_fail(CLI_USAGE, "sim: --partition-ms A-B");
        p.partition_start = a;
        p.partition_end = b;
    }
    if ((v = cli_opt(argc, argv, "--late-certs")) && !parse_size(v, TKMS_DKG_MAX_N, &p.cert_late))
        return cli_fail(CLI_USAGE, "sim: bad --late-certs");
    for (int i = 2; i < argc; i++) {
        const char *spec = NULL;
        if (strcmp(argv[i], "--byzantine") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strncmp(argv[i], "--byzantine=", 12) == 0)
            spec = argv[i] + 12;
        if (!spec) continue;
        char kind[32];
        const char *colon = strchr(spec, ':');
        size_t k;
        if (!colon || (size_t)(colon - spec) >= sizeof kind) return cli_fail(CLI_USAGE, "sim: --byzantine KIND:K");
        memcpy(kind, spec, (size_t)(colon - spec));
        kind[colon - spec] = 0;
        int kk = tkms_sim_kind_from_name(kind);
        if (kk < 0) return cli_fail(CLI_USAGE, "sim: unknown Byzantine kind '%s'", kind);
        if (!parse_size(colon + 1, TKMS_DKG_MAX_N, &k)) return cli_fail(CLI_USAGE, "sim: bad count in '%s'", spec);
        p.byz[kk] += k;
    }
    if (reshare) {
        if (!(v = cli_opt(argc, argv, "--to-nodes")) || !parse_size(v, TKMS_DKG_MAX_N, &p.n2) || p.n2 < 1)
            return cli_fail(CLI_USAGE, "sim reshare: --to-nodes N2 is required");
        if ((v = cli_opt(argc, argv, "--to-threshold")) && (!parse_size(v, p.n2, &p.t2) || p.t2 < 1))
            return cli_fail(CLI_USAGE, "sim reshare: --to-threshold must be in 1..N2");
        p.keep = p.n < p.n2 ? p.n : p.n2;
        if ((v = cli_opt(argc, argv, "--keep")) && (!parse_size(v, p.n, &p.keep) || p.keep > p.n2))
            return cli_fail(CLI_USAGE, "sim reshare: --keep must be <= both committee sizes");
        if ((v = cli_opt(argc, argv, "--lose")) && (!parse_size(v, p.keep, &p.lose)))
            return cli_fail(CLI_USAGE, "sim reshare: --lose must be <= --keep");
    } else if (cli_opt(argc, argv, "--to-nodes") || cli_opt(argc, argv, "--to-threshold") || cli_opt(argc, argv, "--keep") ||
               cli_opt(argc, argv, "--lose")) {
        return cli_fail(CLI_USAGE, "sim dkg: --to-nodes/--to-threshold/--keep/--lose are for reshare");
    }
    size_t nbyz = 0;
    for (int k = 1; k < TKMS_SIM_KINDS; k++) nbyz += p.byz[k];
    if (nbyz > p.n) return cli_fail(CLI_USAGE, "sim: more Byzantine dealers than nodes");
    tkms_sim_result *r = calloc(1, sizeof *r);
    if (!r) return cli_fail(CLI_USAGE, "out of memory");
    if (!tkms_sim_run(&p, r)) {
        int rc = cli_fail(CLI_USAGE, "sim: %s", r->why);
        free(r);
        return rc;
    }
    const char *gout = cli_opt(argc, argv, "--group-out"), *pout = cli_opt(argc, argv, "--prev-group-out");
    if (gout && r->group_json && !write_text(gout, r->group_json)) r->ok = 0;
    if (pout && r->prev_group_json && !write_text(pout, r->prev_group_json)) r->ok = 0;
    char hex[193];
    printf("{\"ok\": %s, \"agreed\": %s, \"qual\": [", r->ok ? "true" : "false", r->agreed ? "true" : "false");
    for (size_t i = 0; i < r->n_qual; i++) printf("%s%u", i ? ", " : "", r->qual[i]);
    printf("], \"mpk\": ");
    if (r->has_mpk) {
        hex96(hex, r->mpk);
        printf("\"%s\"", hex);
    } else {
        printf("null");
    }
    if (reshare) {
        hex96(hex, r->mpk_before);
        printf(", \"mpk_before\": \"%s\"", hex);
    }
    printf(", \"honest_shares_consistent\": %s, \"cpu_s\": %.3f, \"messages\": %llu, \"bytes\": %llu",
           r->consistent ? "true" : "false", r->cpu_s, (unsigned long long)r->messages, (unsigned long long)r->bytes);
    printf(", \"success\": %s, \"clean_abort\": %s, \"within_bounds\": %s, \"seed\": %llu, \"stale_rejected\": %llu",
           r->success ? "true" : "false", r->clean_abort ? "true" : "false", r->within_bounds ? "true" : "false",
           (unsigned long long)p.seed, (unsigned long long)r->stale_rejected);
    if (!r->ok) {
        printf(", \"reason\": \"");
        for (const char *c = r->why; *c; c++)
            if (*c != '"' && *c != '\\') putchar(*c);
        printf("\"");
    }
    printf("}\n");
    int rc = r->ok ? CLI_OK : CLI_REJECT;
    tkms_sim_result_free(r);
    free(r);
    return rc;
}

int main(int argc, char **argv) {
    /* the sub-command convention of src/cli: argv[0] is the command's name, argv[1] the mode */
    return run_sim(argc, argv);
}
