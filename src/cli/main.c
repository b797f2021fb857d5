/* tkms command line: dispatches to sub-commands (declared in cli.h, each defined in its cmd_*.c
 * file; every command is always built in). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"selftest", cmd_selftest, "run the built-in known-answer tests"},
    {"bls", cmd_bls, "BLS signatures: keygen, sign, verify (min-sig | min-pk)"},
    {"h2c", cmd_h2c, "hash or encode a message to G1/G2 (RFC 9380)"},
    {"tbls", cmd_tbls, "threshold BLS: deal, partial, verify-partial, combine"},
    {"app-key", cmd_app_key, "partial app keys and app-key verification"},
    {"ibe", cmd_ibe, "Boneh-Franklin identity-based encryption"},
    {"tlock", cmd_tlock, "drand tlock (age) encryption and decryption"},
    {"seal", cmd_seal, "seal a secret to an app ID (tkms1: format)"},
    {"unseal", cmd_unseal, "open a tkms1: sealed secret with the app key"},
    {"mnemonic", cmd_mnemonic, "BIP-39 mnemonics: from-entropy, from-app-key, check"},
    {"derive", cmd_derive, "derive seeds, wallets, TLS keys and data keys from a mnemonic"},
    {"data", cmd_data, "encrypt/decrypt files at rest with a data key"},
    {"group", cmd_group, "verify and show certified group files"},
    {"node", cmd_node, "operator node set-up"},
    {"cluster", cmd_cluster, "local cluster of tkmsd daemons"},
    {"committee", cmd_committee, "committee change proposals"},
    {"sign", cmd_sign, "cluster signatures: approve on your own node, collect t partials"},
    {"attest", cmd_attest, "verify TEE attestation evidence"},
    {"app", cmd_app, "app registry: create, release"},
    {"key", cmd_key, "fetch an app's key from the cluster (TEE side)"},
    {"exec", cmd_exec, "fetch the app key, unseal secrets and exec a command"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tkms COMMAND [ARGS...]\n\n"
               "Threshold key management for TEE applications. Hex in, hex out; exit 0 success,\n"
               "1 verification failure or rejected input, 2 usage or environment error.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'tkms COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tkms %s\n", TKMS_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        return commands[i].fn(argc - 1, argv + 1);
    }
    return cli_fail(CLI_USAGE, "unknown command '%s' (see tkms --help)", argv[1]);
}
