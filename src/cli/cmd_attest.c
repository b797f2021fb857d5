/* tkms attest: runs one attestation verifier from the command line (stable contract: claims JSON on
 * stdout and exit 0 when accepted, the reason on stderr and exit 1 when refused, 2 on usage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tkms/attest.h"

#define MAX_FILE (1u << 20)

static void usage(FILE *f) {
    fprintf(f,
            "usage: tkms attest verify --method tdx|sev-snp|gcp-cs --evidence FILE\n"
            "                          [--collateral FILE] [--jwks FILE] [--at RFC3339]\n"
            "                          [--binding HEX] [--policy FILE]\n"
            "       tkms attest verify --method insecure-dev --dev-mode --evidence FILE [...]\n\n"
            "Verifies TEE evidence offline and prints the normalised claims as JSON.\n"
            "  --method      tdx: DCAP quote v4/v5; sev-snp: attestation report; gcp-cs: Confidential\n"
            "                Space token (OIDC with --jwks, or PKI with an x5c header)\n"
            "  --evidence    the quote, report or token ('-' for stdin)\n"
            "  --collateral  tdx: collateral bundle JSON; sev-snp: VCEK certificate (DER or PEM)\n"
            "  --jwks        gcp-cs: the issuer's JWKS (OIDC tokens)\n"
            "  --at          verification time (default: now); collateral must be valid then\n"
            "  --binding     expected B (64 bytes hex): REPORTDATA, REPORT_DATA or eat_nonce\n"
            "  --policy      policy JSON (docs/attestation.md); default: genuine, platform up to\n"
            "                date, debug off, no workload measurements\n"
            "exit: 0 accepted, 1 refused (reason on stderr), 2 usage or environment error\n");
}

static int verify(int argc, char **argv) {
    static const char *const allowed[] = {"--method", "--evidence", "--collateral", "--jwks", "--at", "--binding",
                                          "--policy", "--dev-mode!", "--help!", NULL};
    if (cli_flag(argc, argv, "--help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *mname = cli_opt(argc, argv, "--method"), *evf = cli_opt(argc, argv, "--evidence");
    const char *colf = cli_opt(argc, argv, "--collateral"), *jwksf = cli_opt(argc, argv, "--jwks");
    const char *at = cli_opt(argc, argv, "--at"), *bhex = cli_opt(argc, argv, "--binding");
    const char *polf = cli_opt(argc, argv, "--policy");
    int dev = cli_flag(argc, argv, "--dev-mode");
    for (int i = 1; i < argc; i++) { /* every non-option word must be an option's value */
        if (strncmp(argv[i], "--", 2) == 0) {
            if (!strchr(argv[i], '=') && strcmp(argv[i], "--dev-mode") != 0 && strcmp(argv[i], "--help") != 0) i++;
            continue;
        }
        return cli_fail(CLI_USAGE, "unexpected argument '%s' (see tkms attest verify --help)", argv[i]);
    }
    if (!mname || !evf) return cli_fail(CLI_USAGE, "--method and --evidence are required (see --help)");
    tkms_attest_method m = tkms_attest_method_from_name(mname);
    if (!m) return cli_fail(CLI_USAGE, "unknown method '%s' (tdx, sev-snp, gcp-cs, insecure-dev)", mname);
    if (m == TKMS_ATTEST_INSECURE_DEV && !dev) return cli_fail(CLI_USAGE, "insecure-dev needs --dev-mode");
    if (m != TKMS_ATTEST_INSECURE_DEV && dev) return cli_fail(CLI_USAGE, "--dev-mode applies to insecure-dev only");
    if ((m == TKMS_ATTEST_TDX || m == TKMS_ATTEST_SEV_SNP) && !colf)
        return cli_fail(CLI_USAGE, "%s needs --collateral (%s)", mname, m == TKMS_ATTEST_TDX ? "the DCAP collateral bundle" : "the VCEK certificate");
    if (jwksf && m != TKMS_ATTEST_GCP_CS) return cli_fail(CLI_USAGE, "--jwks applies to gcp-cs only");
    if (m == TKMS_ATTEST_GCP_CS && colf && jwksf) return cli_fail(CLI_USAGE, "give the JWKS once (--jwks)");
    if (m == TKMS_ATTEST_GCP_CS && jwksf) colf = jwksf;

    int64_t now = (int64_t)time(NULL);
    if (at && !tkms_attest_parse_time(&now, at)) return cli_fail(CLI_USAGE, "--at '%s' is not RFC 3339 (e.g. 2025-07-01T00:00:00Z)", at);
    uint8_t binding[64];
    if (bhex && !cli_hex_exact(binding, 64, bhex)) return cli_fail(CLI_USAGE, "--binding must be 64 bytes of hex");

    int rc = CLI_USAGE;
    uint8_t *ev = NULL, *col = NULL, *pj = NULL;
    size_t evl = 0, coll = 0, pjl = 0;
    tkms_attest_policy *pol = NULL;
    tkms_attest_result *res = NULL;
    tkms_attest_replay *replay = NULL;
    char perr[256];
    if (!(ev = cli_read_file(evf, &evl, MAX_FILE))) goto out;
    if (colf && !(col = cli_read_file(colf, &coll, MAX_FILE))) goto out;
    pol = malloc(sizeof *pol);
    res = malloc(sizeof *res);
    replay = tkms_attest_replay_new(4);
    if (!pol || !res || !replay) {
        cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    tkms_attest_policy_default(pol);
    if (polf) {
        if (!(pj = cli_read_file(polf, &pjl, MAX_FILE))) goto out;
        if (tkms_attest_policy_parse(pol, perr, sizeof perr, (const char *)pj, pjl) != TKMS_ATTEST_OK) {
            cli_fail(CLI_USAGE, "policy %s: %s", polf, perr);
            goto out;
        }
    }
    tkms_attest_request req = {
        .method = m,
        .evidence = ev,
        .evidence_len = evl,
        .collateral = col,
        .collateral_len = coll,
        .binding = bhex ? binding : NULL,
        .now = now,
        .policy = pol,
        .replay = replay,
        .flags = (bhex ? 0u : TKMS_ATTEST_F_NO_BINDING) | (dev ? TKMS_ATTEST_F_DEV_MODE : 0u),
    };
    tkms_attest_reason r = tkms_attest_verify(res, &req);
    if (res->claims.insecure)
        fprintf(stderr, "tkms: WARNING: insecure-dev evidence proves nothing about hardware; dev clusters only\n");
    if (r != TKMS_ATTEST_OK) {
        rc = cli_fail(r == TKMS_ATTEST_E_ARGUMENT ? CLI_USAGE : CLI_REJECT, "attestation refused: %s: %s",
                      tkms_attest_reason_name(r), res->message);
        goto out;
    }
    char *json = tkms_attest_claims_json(&res->claims);
    if (!json) {
        cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    puts(json);
    free(json);
    if (!bhex) fprintf(stderr, "tkms: note: no --binding given, REPORTDATA/eat_nonce not checked\n");
    rc = CLI_OK;
out:
    tkms_attest_replay_free(replay);
    free(ev);
    free(col);
    free(pj);
    free(pol);
    free(res);
    return rc;
}

int cmd_attest(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "verify") == 0) return verify(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown attest sub-command '%s' (see tkms attest --help)", argv[1]);
}
