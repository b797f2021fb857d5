/* tkms group verify|show: certified group files. (The DKG/reshare simulator is the separate
 * program tkms-sim, src/dkg/sim_main.c: it needs the engine's fault-injection build.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "group.h"


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
