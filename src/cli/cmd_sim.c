/* tkms sim dkg|reshare (the DKG/reshare simulator, one JSON object out) and tkms group
 * verify|show (certified group files). */
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
    fprintf(f, "usage: tkms sim dkg --nodes N [--threshold T] [--seed S] [--crash K] [--byzantine KIND:K ...]\n"
               "                    [--loss P] [--delay-ms A-B]\n"
               "       tkms sim reshare --nodes N [...] --to-nodes N2 [--to-threshold T2] [--keep K] [--lose L]\n"
               "options also: --dup P, --partition-ms A-B, --late-certs K, --group-out FILE, --prev-group-out FILE\n"
               "KIND: bad-share, equivocate, bad-justification, wrong-constant, replay, silent.\n"
               "--lose L: L honest kept members start the reshare without their old share (repair).\n"
               "Prints one JSON object; exit 0 when the run ended as the protocol promises.\n");
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "tkms: cannot write %s\n", path);
    return ok;
}

static void hex96(char out[193], const uint8_t *b) { cli_hex_encode(out, b, 96); }

int cmd_sim(int argc, char **argv) {
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

static tkms_group *load_group(const char *path, char *err, size_t errlen) {
    size_t len;
    uint8_t *buf = cli_read_file(path, &len, 16u << 20);
    if (!buf) {
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    tkms_group *g = malloc(sizeof *g);
    if (!g || !tkms_group_parse(g, (const char *)buf, len, err, errlen)) {
        free(g);
        g = NULL;
    }
    free(buf);
    return g;
}

static void print_summary(const tkms_group *g, size_t valid_sigs, int verified) {
    char hex[193];
    printf("epoch: %llu\n", (unsigned long long)g->epoch);
    printf("members: %zu\nthreshold: %zu\n", g->n, g->t);
    if (g->epoch) printf("previous_threshold: %zu\n", g->t_old);
    {
        uint8_t m[96];
        g2_serialize(m, &g->poly[0]);
        cli_hex_encode(hex, m, 96);
    }
    printf("mpk: %s\n", hex);
    cli_hex_encode(hex, g->transcript_hash, 32);
    printf("transcript_hash: %s\n", hex);
    printf("qual:");
    for (size_t i = 0; i < g->n_qual; i++) printf(" %u", g->qual[i]);
    printf("\ndev_mode: %s\n", g->dev_mode ? "true" : "false");
    printf("signatures: %zu%s\n", verified ? valid_sigs : g->n_sigs, verified ? " valid" : " (not verified)");
    for (size_t i = 0; i < g->n; i++) {
        char ed[65], x[65];
        cli_hex_encode(ed, g->members[i].sign_pk, 32);
        cli_hex_encode(x, g->members[i].kem_pk, 32);
        printf("member %zu: %s ed25519=%s x25519=%s\n", i + 1, g->members[i].address, ed, x);
    }
}

int cmd_group(int argc, char **argv) {
    static const char *const allowed[] = {"--previous", "--help!", NULL};
    if (argc < 2 || cli_flag(argc, argv, "--help")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: tkms group verify FILE [--previous FILE]\n       tkms group show FILE\n");
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!cli_check_opts(argc - 1, argv + 1, allowed)) return CLI_USAGE;
    int verify = strcmp(argv[1], "verify") == 0;
    if (!verify && strcmp(argv[1], "show") != 0) return cli_fail(CLI_USAGE, "group: unknown action '%s'", argv[1]);
    const char *file = NULL, *prevf = cli_opt(argc, argv, "--previous");
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--previous", 10) == 0) {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        if (file) return cli_fail(CLI_USAGE, "group: one FILE expected");
        file = argv[i];
    }
    if (!file) return cli_fail(CLI_USAGE, "group: FILE is required");
    if (!verify && prevf) return cli_fail(CLI_USAGE, "group show: --previous is for verify");
    char err[256] = "";
    tkms_group *g = load_group(file, err, sizeof err), *prev = NULL;
    if (!g) return cli_fail(CLI_REJECT, "group: %s: %s", file, err);
    int rc = CLI_OK;
    if (verify) {
        if (prevf) {
            prev = load_group(prevf, err, sizeof err);
            if (!prev) {
                rc = cli_fail(CLI_REJECT, "group: %s: %s", prevf, err);
                goto out;
            }
            size_t pv = tkms_group_verify(prev, NULL, err, sizeof err);
            if (!pv) {
                rc = cli_fail(CLI_REJECT, "group: previous group %s does not verify: %s", prevf, err);
                goto out;
            }
        }
        size_t valid = tkms_group_verify(g, prev, err, sizeof err);
        if (!valid) {
            rc = cli_fail(CLI_REJECT, "group: %s does not verify: %s", file, err);
            goto out;
        }
        printf("ok: group file verifies%s\n", prev ? " and continues the previous group (same MPK)" : "");
        print_summary(g, valid, 1);
    } else {
        print_summary(g, 0, 0);
    }
out:
    free(g);
    free(prev);
    return rc;
}
