/* tkms node: operator node set-up (`init` creates identity keys, storage key, admin token, config
 * and store; `show` prints the public identity). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "node.h"
#include "nodecli.h"

int cmd_node(int argc, char **argv);

static int usage_node(void) {
    fprintf(stderr,
            "usage: tkms node init --dir D --address URL [--listen HOST:PORT] [--genesis FILE]\n"
            "                      [--passphrase-file F]\n"
            "       tkms node show --config FILE\n"
            "       tkms node curl --config FILE --url BASE --path P [--method GET|POST] [--body-file F] [--repeat K]\n\n"
            "init creates D/config.json, D/tkms.db (Ed25519 + X25519 identity sealed with the storage key),\n"
            "D/storage.key (0600) -- or, with --passphrase-file, an Argon2id-derived storage key --\n"
            "and D/admin.token (0600). It prints the node's public identity as JSON.\n"
            "curl sends one request signed with the node's identity key (the peer/operator envelope,\n"
            "addressed to BASE: only the node at that address accepts it) and prints the status and body;\n"
            "--repeat sends the identical signed request K times (replay test).\n");
    return CLI_USAGE;
}

static int node_init(int argc, char **argv) {
    static const char *const allowed[] = {"--dir", "--address", "--listen", "--genesis", "--passphrase-file", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *dir = cli_opt(argc, argv, "--dir"), *address = cli_opt(argc, argv, "--address");
    if (!dir || !address) return usage_node();
    node_status st = {0};
    json_t *id = NULL;
    if (!node_init_dir(dir, address, cli_opt(argc, argv, "--listen"), cli_opt(argc, argv, "--genesis"),
                       cli_opt(argc, argv, "--passphrase-file"), &id, &st))
        return cli_fail(CLI_USAGE, "node init: %s", st.msg);
    char *txt = json_dumps(id, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(txt);
    free(txt);
    json_decref(id);
    return CLI_OK;
}

static int node_show(int argc, char **argv) {
    static const char *const allowed[] = {"--config", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *cfgpath = cli_opt(argc, argv, "--config");
    if (!cfgpath) return usage_node();
    node_status st = {0};
    node_secrets *sec = node_secure_alloc(sizeof *sec);
    char *address = NULL;
    if (!sec || !node_load_identity(sec, &address, cfgpath, &st)) {
        node_secure_free(sec, sizeof *sec);
        return cli_fail(CLI_USAGE, "%s", st.msg);
    }
    char ed[65], x[65];
    node_hex(ed, sec->ed_pk, 32);
    node_hex(x, sec->x_pk, 32);
    node_secure_free(sec, sizeof *sec);
    json_t *id = json_pack("{s:s, s:s, s:s}", "address", address, "ed25519", ed, "x25519", x);
    char *txt = json_dumps(id, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(txt);
    free(txt);
    free(address);
    json_decref(id);
    return CLI_OK;
}

static int node_curl(int argc, char **argv) {
    static const char *const allowed[] = {"--config", "--url", "--path", "--method", "--body-file", "--repeat", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *cfg = cli_opt(argc, argv, "--config"), *url = cli_opt(argc, argv, "--url"), *path = cli_opt(argc, argv, "--path");
    const char *method = cli_opt(argc, argv, "--method") ? cli_opt(argc, argv, "--method") : "GET";
    const char *bf = cli_opt(argc, argv, "--body-file");
    int repeat = cli_opt(argc, argv, "--repeat") ? atoi(cli_opt(argc, argv, "--repeat")) : 1;
    if (!cfg || !url || !path || repeat < 1 || repeat > 100) return usage_node();
    size_t blen = 0;
    uint8_t *body = bf ? cli_read_file(bf, &blen, 64 << 20) : NULL;
    if (bf && !body) return CLI_USAGE;
    ncli_auth a;
    if (!ncli_auth_load(&a, cfg, NULL)) {
        free(body);
        return CLI_USAGE;
    }
    /* one signature, sent `repeat` times: identical headers and body */
    ncli_req *rq = calloc((size_t)repeat, sizeof *rq);
    int worst = 0;
    for (int i = 0; i < repeat; i++) {
        rq[i].url = strdup(url);
        rq[i].path = strdup(path);
        rq[i].method = method;
        rq[i].body = body;
        rq[i].body_len = blen;
    }
    ncli_run_fixed(rq, (size_t)repeat, &a, 5000);
    ncli_auth_wipe(&a);
    for (int i = 0; i < repeat; i++) {
        if (!rq[i].ok) worst = 2;
        printf("%ld %s\n", rq[i].status, rq[i].resp ? rq[i].resp : rq[i].err);
        ncli_req_free(&rq[i]);
    }
    free(rq);
    free(body);
    return worst ? CLI_USAGE : CLI_OK;
}

int cmd_node(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage_node();
    if (!strcmp(argv[1], "init")) return node_init(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return node_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "curl")) return node_curl(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown 'node' sub-command '%s'", argv[1]);
}
