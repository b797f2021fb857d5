/* tkms key / tkms exec: the TEE side of key release on the command line (libtkms-client). `key
 * fetch` obtains the app's mnemonic from the cluster, `key dev-keygen` makes a dev signer key, and
 * `exec` fetches the key, opens tkms1: secrets in the environment and execs the app. */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "tkms/client.h"

extern char **environ;

static const char KEY_USAGE[] =
    "usage: tkms key fetch --group FILE --app 0x... [--attestation auto|dev|gcp-cs|tdx|sev-snp]\n"
    "                      [--out FILE] [--show eth,sol,btc] [--json] [--verbose] [CONNECTION OPTIONS]\n"
    "       tkms key dev-keygen --out FILE\n\n"
    "fetch: proves with attestation that this is app 0x..., asks every node of the group in\n"
    "  parallel, verifies and combines t partial app keys, checks the key against the MPK and\n"
    "  derives the app's 24-word mnemonic. With --out the mnemonic is written to FILE (mode 0600);\n"
    "  otherwise (or with --show) the derived public addresses are printed. Nodes that answer\n"
    "  wrongly are named on stderr. Exit 1 when fewer than t nodes give a valid partial.\n"
    "dev-keygen: writes a fresh insecure-dev signer key (64 hex, mode 0600) and prints its public key.\n\n"
    "connection options (fetch and exec):\n"
    "  --dev-key-file F        dev signer key (dev attestation; default: a fresh key each time)\n"
    "  --timeout-ms N          per request attempt (default 5000)\n"
    "  --retries N             retries after a refused connection, 5xx or 429 (default 2)\n"
    "  --deadline-ms N         bound on the whole network phase (default 20000)\n"
    "  --configfs-root DIR     configfs-tsm report directory (default /sys/kernel/config/tsm/report)\n"
    "  --teeserver-socket P    Confidential Space launcher socket (default /run/container_launcher/teeserver.sock)\n"
    "  --audience AUD          gcp-cs token audience (default tkms)\n"
    "  --collateral FILE       attestation collateral sent to the nodes (TDX collateral, SEV-SNP VCEK)\n"
    "  --wait-all              wait for every node instead of stopping at t valid partials\n"
    "auto attestation: gcp-cs if the launcher socket exists, tdx or sev-snp if configfs-tsm and\n"
    "  /dev/tdx_guest or /dev/sev-guest exist, else dev when the group file is a dev cluster.\n";

static const char EXEC_USAGE[] =
    "usage: tkms exec --group FILE --app 0x... [--attestation auto|dev|gcp-cs|tdx|sev-snp]\n"
    "                 [--env-file F] [--secrets-fd N [--no-env-secrets]] [--verbose]\n"
    "                 [CONNECTION OPTIONS] -- CMD [ARGS...]\n\n"
    "Fetches the app key (as tkms key fetch), opens every environment value that starts with\n"
    "tkms1: (and every KEY=VALUE line of --env-file, whose values are added to the environment),\n"
    "sets MNEMONIC, TKMS_APP_ID, TKMS_ETH_ADDRESS, TKMS_SOL_ADDRESS, TKMS_BTC_ADDRESS and execs CMD.\n"
    "Nothing secret is written to disk. A value sealed to another app or cluster is an error (exit 1)\n"
    "and CMD is not started.\n"
    "The environment is inherited by every descendant of CMD and readable in /proc/PID/environ;\n"
    "  --secrets-fd N   CMD finds on file descriptor N (3..1023) the read end of a pipe holding one\n"
    "                   JSON object {\"MNEMONIC\": \"...\", \"NAME\": \"opened value\", ...} (every\n"
    "                   opened tkms1: value by its variable name), then end of file. Read it once and\n"
    "                   close it: once read, the secrets are gone from the pipe.\n"
    "  --no-env-secrets with --secrets-fd: MNEMONIC and the opened values are not put in the\n"
    "                   environment (their variables are removed); the TKMS_* public values stay.\n";

#define COMMON_OPTS                                                                                                     \
    "--group", "--app", "--attestation", "--dev-key-file", "--timeout-ms", "--retries", "--deadline-ms",               \
        "--configfs-root", "--teeserver-socket", "--audience", "--collateral", "--wait-all!", "--verbose!", "--help!", \
        "-h!"

static int parse_uint(const char *s, unsigned max, unsigned *out) {
    if (!s || !*s || !isdigit((unsigned char)s[0])) return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > max) return 0;
    *out = (unsigned)v;
    return 1;
}

static void log_stderr(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "tkms: %s\n", line);
}

static tkms_client_att detect_method(const tkms_client_group *g, const char *configfs, const char *sock) {
    struct stat st;
    if (stat(sock ? sock : "/run/container_launcher/teeserver.sock", &st) == 0) return TKMS_CLIENT_ATT_GCP_CS;
    if (stat(configfs ? configfs : "/sys/kernel/config/tsm/report", &st) == 0) {
        if (stat("/dev/tdx_guest", &st) == 0) return TKMS_CLIENT_ATT_TDX;
        if (stat("/dev/sev-guest", &st) == 0) return TKMS_CLIENT_ATT_SEV_SNP;
    }
    return tkms_client_group_dev_mode(g) ? TKMS_CLIENT_ATT_DEV : 0;
}

/* Parses the options shared by fetch and exec into o (group loaded into *g). Returns an exit code
 * (CLI_OK to continue). */
static int setup(tkms_client_fetch_opts *o, tkms_client_group **g, int argc, char **argv) {
    tkms_status err;
    tkms_client_fetch_opts_default(o);
    *g = NULL;
    const char *gp = cli_opt(argc, argv, "--group"), *app = cli_opt(argc, argv, "--app");
    const char *meth = cli_opt(argc, argv, "--attestation"), *v;
    if (!gp) return cli_fail(CLI_USAGE, "need --group FILE");
    if (!app || !tkms_client_parse_app_id(o->app_id, app)) return cli_fail(CLI_USAGE, "--app must be 0x + 40 hex digits");
    if ((v = cli_opt(argc, argv, "--timeout-ms")) && (!parse_uint(v, 600000, &o->timeout_ms) || !o->timeout_ms))
        return cli_fail(CLI_USAGE, "--timeout-ms must be 1..600000");
    if ((v = cli_opt(argc, argv, "--retries")) && !parse_uint(v, 10, &o->retries)) return cli_fail(CLI_USAGE, "--retries must be 0..10");
    if ((v = cli_opt(argc, argv, "--deadline-ms")) && (!parse_uint(v, 3600000, &o->deadline_ms) || !o->deadline_ms))
        return cli_fail(CLI_USAGE, "--deadline-ms must be 1..3600000");
    o->evidence.dev_key_file = cli_opt(argc, argv, "--dev-key-file");
    o->evidence.configfs_root = cli_opt(argc, argv, "--configfs-root");
    o->evidence.teeserver_socket = cli_opt(argc, argv, "--teeserver-socket");
    o->evidence.audience = cli_opt(argc, argv, "--audience");
    o->evidence.collateral_file = cli_opt(argc, argv, "--collateral");
    o->wait_all = cli_flag(argc, argv, "--wait-all");
    if (cli_flag(argc, argv, "--verbose")) o->log = log_stderr;
    tkms_client_status st = tkms_client_group_load(g, &err, gp);
    if (st != TKMS_CLIENT_OK) return cli_fail(tkms_client_exit_code(st), "%s", err.msg);
    if (!meth || !strcmp(meth, "auto")) {
        o->evidence.method = detect_method(*g, o->evidence.configfs_root, o->evidence.teeserver_socket);
        if (!o->evidence.method) {
            tkms_client_group_free(*g);
            *g = NULL;
            return cli_fail(CLI_USAGE, "no TEE attestation source found (no launcher socket, no configfs-tsm) and the "
                                       "cluster is not in dev mode; pass --attestation");
        }
    } else if (!(o->evidence.method = tkms_client_att_from_name(meth))) {
        tkms_client_group_free(*g);
        *g = NULL;
        return cli_fail(CLI_USAGE, "--attestation must be auto, dev, gcp-cs, tdx or sev-snp");
    }
    if (o->evidence.method == TKMS_CLIENT_ATT_DEV && !tkms_client_group_dev_mode(*g))
        fprintf(stderr, "tkms: warning: dev attestation against a production cluster will be refused by its nodes\n");
    if (o->evidence.method == TKMS_CLIENT_ATT_DEV)
        fprintf(stderr, "tkms: WARNING: insecure-dev attestation proves nothing about the hardware (dev clusters only)\n");
    o->group = *g;
    return CLI_OK;
}

/* Fetches the key; prints the per-node outcome of misbehaving nodes and a summary on stderr. */
static int fetch(tkms_client_key *k, tkms_client_report *rep, const tkms_client_fetch_opts *o) {
    tkms_status err;
    tkms_client_status st = tkms_client_fetch(k, rep, &err, o);
    for (size_t i = 0; i < rep->n_nodes; i++) {
        const tkms_client_node_report *r = &rep->nodes[i];
        if (r->state == TKMS_CLIENT_NODE_BAD_PARTIAL || r->state == TKMS_CLIENT_NODE_BAD_SIGNATURE ||
            r->state == TKMS_CLIENT_NODE_BAD_RESPONSE)
            fprintf(stderr, "tkms: warning: node %u (%s) misbehaved: %s: %s\n", r->index, r->address,
                    tkms_client_node_state_name(r->state), r->detail);
        else if (st != TKMS_CLIENT_OK && r->state != TKMS_CLIENT_NODE_VALID && r->state != TKMS_CLIENT_NODE_USED)
        {
            /* print the server's error code only when it adds to the state name */
            const char *state = tkms_client_node_state_name(r->state);
            int extra = r->code[0] && strcmp(r->code, state) != 0;
            fprintf(stderr, "tkms: node %u (%s): %s%s%s: %s\n", r->index, r->address, state, extra ? " " : "",
                    extra ? r->code : "", r->detail);
        }
    }
    if (st != TKMS_CLIENT_OK) return cli_fail(tkms_client_exit_code(st), "%s", err.msg);
    size_t used = 0;
    for (size_t i = 0; i < rep->n_nodes; i++) used += rep->nodes[i].state == TKMS_CLIENT_NODE_USED;
    fprintf(stderr, "tkms: app key from %zu of %zu nodes (epoch %llu, t = %zu), verified against the MPK in %.1f ms\n", used,
            rep->n, (unsigned long long)rep->epoch, rep->t, rep->ms_total);
    return CLI_OK;
}

static int write_secret_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return cli_fail(CLI_USAGE, "cannot create '%s': %s", path, strerror(errno));
    size_t len = strlen(text);
    int ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (close(fd) != 0) ok = 0;
    if (!ok) {
        unlink(path);
        return cli_fail(CLI_USAGE, "cannot write '%s'", path);
    }
    return CLI_OK;
}

static json_t *report_json(const tkms_client_report *rep) {
    json_t *nodes = json_array();
    for (size_t i = 0; i < rep->n_nodes; i++) {
        const tkms_client_node_report *r = &rep->nodes[i];
        json_array_append_new(nodes, json_pack("{s:i, s:I, s:s, s:s, s:i, s:s, s:s, s:i, s:f}", "index", (int)r->index, "epoch",
                                               (json_int_t)r->epoch, "address", r->address, "state",
                                               tkms_client_node_state_name(r->state), "http_status", (int)r->http_status,
                                               "code", r->code, "detail", r->detail, "attempts", (int)r->attempts, "ms", r->ms));
    }
    return json_pack("{s:I, s:i, s:i, s:o, s:{s:f, s:f, s:f, s:f, s:f, s:f}}", "epoch", (json_int_t)rep->epoch, "n", (int)rep->n,
                     "t", (int)rep->t, "nodes", nodes, "ms", "evidence", rep->ms_evidence, "network", rep->ms_network, "verify",
                     rep->ms_verify, "combine", rep->ms_combine, "derive", rep->ms_derive, "total", rep->ms_total);
}

static int key_fetch(int argc, char **argv) {
    static const char *const allowed[] = {COMMON_OPTS, "--out", "--show", "--json!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *out = cli_opt(argc, argv, "--out"), *show = cli_opt(argc, argv, "--show");
    int want_eth = 0, want_sol = 0, want_btc = 0, as_json = cli_flag(argc, argv, "--json");
    if (show) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", show);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!strcmp(t, "eth")) want_eth = 1;
            else if (!strcmp(t, "sol")) want_sol = 1;
            else if (!strcmp(t, "btc")) want_btc = 1;
            else return cli_fail(CLI_USAGE, "--show takes a comma list of eth, sol, btc");
        }
    } else if (!out) {
        want_eth = want_sol = want_btc = 1;
    }
    tkms_client_fetch_opts o;
    tkms_client_group *g;
    int rc = setup(&o, &g, argc, argv);
    if (rc != CLI_OK) return rc;
    tkms_client_key k;
    tkms_client_report rep;
    rc = fetch(&k, &rep, &o);
    tkms_client_addresses a = {0};
    if (rc == CLI_OK && (want_eth || want_sol || want_btc || as_json) && tkms_client_addresses_derive(&a, &k) != TKMS_CLIENT_OK)
        rc = cli_fail(CLI_USAGE, "address derivation failed");
    if (rc == CLI_OK && out) rc = write_secret_file(out, k.mnemonic);
    if (rc == CLI_OK && as_json) {
        char app[43];
        tkms_client_format_app_id(app, k.app_id);
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "app_id", app, "eth", a.eth, "sol", a.sol, "btc", a.btc, "report",
                              report_json(&rep));
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (s) puts(s);
        free(s);
        json_decref(j);
    } else if (rc == CLI_OK) {
        if (want_eth) printf("eth %s\n", a.eth);
        if (want_sol) printf("sol %s\n", a.sol);
        if (want_btc) printf("btc %s\n", a.btc);
    }
    tkms_client_key_wipe(&k);
    tkms_client_report_free(&rep);
    tkms_client_group_free(g);
    return rc;
}

static int key_dev_keygen(int argc, char **argv) {
    static const char *const allowed[] = {"--out", "--help!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *out = cli_opt(argc, argv, "--out");
    if (!out) return cli_fail(CLI_USAGE, "need --out FILE");
    uint8_t pub[32];
    tkms_status err;
    tkms_client_status st = tkms_client_dev_keygen(pub, &err, out);
    if (st != TKMS_CLIENT_OK) return cli_fail(tkms_client_exit_code(st), "%s", err.msg);
    cli_print_hex(pub, 32);
    return CLI_OK;
}

int cmd_key(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(KEY_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (cli_flag(argc, argv, "--help")) {
        fputs(KEY_USAGE, stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "fetch")) return key_fetch(argc - 1, argv + 1);
    if (!strcmp(argv[1], "dev-keygen")) return key_dev_keygen(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown sub-command '%s' (see tkms key --help)", argv[1]);
}

/* ---- exec ---- */

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static int vec_push(strvec *s, char *e) {
    if (s->n + 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return 0;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = e;
    s->v[s->n] = NULL;
    return 1;
}

static void vec_wipe(strvec *s) {
    for (size_t i = 0; i < s->n; i++) {
        OPENSSL_cleanse(s->v[i], strlen(s->v[i]));
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Removes NAME from the vector (wiping it), if present. */
static void vec_del(strvec *s, const char *name, size_t nlen) {
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->v[i], name, nlen) && s->v[i][nlen] == '=') {
            OPENSSL_cleanse(s->v[i], strlen(s->v[i]));
            free(s->v[i]);
            memmove(&s->v[i], &s->v[i + 1], (s->n - i) * sizeof *s->v); /* with the NULL */
            s->n--;
            return;
        }
}

/* Sets NAME=VALUE in the vector, replacing an earlier NAME. Takes a copy. */
static int vec_set(strvec *s, const char *name, size_t nlen, const char *val, size_t vlen) {
    char *e = malloc(nlen + vlen + 2);
    if (!e) return 0;
    memcpy(e, name, nlen);
    e[nlen] = '=';
    if (vlen) memcpy(e + nlen + 1, val, vlen);
    e[nlen + 1 + vlen] = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->v[i], name, nlen) && s->v[i][nlen] == '=') {
            OPENSSL_cleanse(s->v[i], strlen(s->v[i]));
            free(s->v[i]);
            s->v[i] = e;
            return 1;
        }
    if (vec_push(s, e)) return 1;
    free(e);
    return 0;
}

/* Opens a value if it is sealed; *out is the value to use (malloc'd). Returns an exit code. */
static int open_value(char **out, size_t *out_len, const tkms_client_key *k, const char *name, size_t nlen, const char *val,
                      size_t vlen) {
    *out = NULL;
    if (vlen < 6 || strncmp(val, "tkms1:", 6) != 0) {
        *out = malloc(vlen + 1);
        if (!*out) return cli_fail(CLI_USAGE, "out of memory");
        memcpy(*out, val, vlen);
        (*out)[vlen] = 0;
        *out_len = vlen;
        return CLI_OK;
    }
    uint8_t *pt;
    size_t pl;
    tkms_status err;
    tkms_client_status st = tkms_client_unseal(&pt, &pl, &err, k, val, vlen);
    if (st != TKMS_CLIENT_OK)
        return cli_fail(tkms_client_exit_code(st), "cannot open sealed %.*s: %s", (int)nlen, name, err.msg);
    if (memchr(pt, 0, pl)) {
        tkms_client_secret_free(pt, pl);
        return cli_fail(CLI_REJECT, "sealed %.*s contains a NUL byte and cannot go into the environment", (int)nlen, name);
    }
    *out = (char *)pt;
    *out_len = pl;
    return CLI_OK;
}

/* Where opened values go (tkms exec --secrets-fd / --no-env-secrets). */
typedef struct {
    strvec *env, *secrets; /* secrets: NULL without --secrets-fd */
    int no_env;            /* sealed values stay out of env */
} sink;

/* A value for NAME: a sealed one (opened) goes to the secrets fd if any and to the environment
 * unless no_env; a plain one goes to the environment and replaces an earlier sealed one. */
static int sink_put(const sink *k, const char *name, size_t nlen, const char *val, size_t vlen, int sealed) {
    if (!sealed) {
        if (k->secrets) vec_del(k->secrets, name, nlen);
        return vec_set(k->env, name, nlen, val, vlen);
    }
    if (k->secrets && !vec_set(k->secrets, name, nlen, val, vlen)) return 0;
    if (k->no_env) {
        vec_del(k->env, name, nlen);
        return 1;
    }
    return vec_set(k->env, name, nlen, val, vlen);
}

static int valid_name(const char *s, size_t n) {
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
    return 1;
}

/* KEY=VALUE lines; blank lines and # comments skipped; optional "export "; one pair of matching
 * surrounding quotes removed (no escapes, no interpolation). */
static int load_env_file(const sink *out, const tkms_client_key *k, const char *path, size_t *n_opened) {
    size_t len;
    uint8_t *buf = cli_read_file(path, &len, 4u << 20);
    if (!buf) return CLI_USAGE;
    int rc = CLI_OK;
    size_t lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line && rc == CLI_OK; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) line[--l] = 0;
        while (*line == ' ' || *line == '\t') line++, l--;
        if (!l || line[0] == '#') continue;
        if (!strncmp(line, "export ", 7)) line += 7, l -= 7;
        char *eq = strchr(line, '=');
        if (!eq || !valid_name(line, (size_t)(eq - line))) {
            rc = cli_fail(CLI_REJECT, "%s:%zu: expected NAME=VALUE", path, lineno);
            break;
        }
        size_t nlen = (size_t)(eq - line);
        const char *val = eq + 1;
        size_t vlen = l - nlen - 1;
        if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) val++, vlen -= 2;
        char *v = NULL;
        size_t vl = 0;
        rc = open_value(&v, &vl, k, line, nlen, val, vlen);
        if (rc != CLI_OK) break;
        int sealed = vlen >= 6 && !strncmp(val, "tkms1:", 6);
        *n_opened += sealed;
        if (!sink_put(out, line, nlen, v, vl, sealed)) rc = cli_fail(CLI_USAGE, "out of memory");
        OPENSSL_cleanse(v, vl);
        free(v);
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

/* Appends s as a JSON string (UTF-8 checked; ", \\ and control characters escaped). Returns 0 on
 * invalid UTF-8 or out of memory. */
static int json_str(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + 6 * n + 3 > *cap) {
        size_t nc = (*len + 6 * n + 3) * 2;
        char *nb = malloc(nc);
        if (!nb) return 0;
        if (*buf) {
            memcpy(nb, *buf, *len);
            OPENSSL_cleanse(*buf, *cap);
            free(*buf);
        }
        *buf = nb;
        *cap = nc;
    }
    char *o = *buf + *len;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!l || i + l > n || (l == 2 && c < 0xc2) || (l == 4 && c > 0xf4)) return 0;
        for (size_t j = 1; j < l; j++)
            if (((unsigned char)s[i + j] & 0xc0) != 0x80) return 0;
        if (l == 3) { /* no overlong forms, no surrogates */
            unsigned char d = (unsigned char)s[i + 1];
            if ((c == 0xe0 && d < 0xa0) || (c == 0xed && d >= 0xa0)) return 0;
        }
        if (l == 4) {
            unsigned char d = (unsigned char)s[i + 1];
            if ((c == 0xf0 && d < 0x90) || (c == 0xf4 && d >= 0x90)) return 0;
        }
        if (c == '"' || c == '\\') *o++ = '\\', *o++ = (char)c;
        else if (c < 0x20) o += sprintf(o, "\\u%04x", c);
        else memcpy(o, s + i, l), o += l;
        i += l;
    }
    *o++ = '"';
    *len = (size_t)(o - *buf);
    return 1;
}

/* Puts {"NAME": "value", ...} into a pipe and moves its read end to fd (not close-on-exec), so
 * that the command reads it once. Returns an exit code. */
static int secrets_to_fd(const strvec *sec, int fd) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int ok = 1;
    for (size_t i = 0; ok && i <= sec->n; i++) {
        if (len + 2 > cap) {
            size_t nc = cap * 2 + 64;
            char *nb = malloc(nc);
            ok = nb != NULL;
            if (!ok) break;
            if (buf) {
                memcpy(nb, buf, len);
                OPENSSL_cleanse(buf, cap);
                free(buf);
            }
            buf = nb;
            cap = nc;
        }
        if (i == sec->n) break;
        buf[len++] = i ? ',' : '{';
        const char *e = sec->v[i], *eq = strchr(e, '=');
        ok = json_str(&buf, &len, &cap, e, (size_t)(eq - e));
        if (ok) buf[len++] = ':';
        ok = ok && json_str(&buf, &len, &cap, eq + 1, strlen(eq + 1));
        if (!ok) {
            if (buf) OPENSSL_cleanse(buf, cap);
            free(buf);
            return cli_fail(CLI_REJECT, "the value of %.*s is not UTF-8 text and cannot go into the --secrets-fd JSON",
                            (int)(eq - e), e);
        }
    }
    if (!ok) {
        if (buf) OPENSSL_cleanse(buf, cap);
        free(buf);
        return cli_fail(CLI_USAGE, "out of memory");
    }
    if (!sec->n) buf[len++] = '{';
    buf[len++] = '}';
    int p[2];
    int rc = CLI_OK;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = cli_fail(CLI_USAGE, "pipe: %s", strerror(errno));
    } else {
        /* the whole JSON must fit in the pipe before exec: grow it (Linux allows 1 MiB unprivileged) */
        if ((size_t)fcntl(p[1], F_GETPIPE_SZ) < len) (void)fcntl(p[1], F_SETPIPE_SZ, (int)len);
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(p[1], buf + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
        close(p[1]);
        if (off < len) {
            rc = cli_fail(CLI_USAGE, "the secrets (%zu bytes of JSON) do not fit in a pipe", len);
        } else if (p[0] == fd) {
            if (fcntl(fd, F_SETFL, 0) != 0 || fcntl(fd, F_SETFD, 0) != 0) rc = cli_fail(CLI_USAGE, "fcntl: %s", strerror(errno));
        } else if (dup2(p[0], fd) < 0 || fcntl(fd, F_SETFL, 0) != 0) { /* dup2 clears close-on-exec */
            rc = cli_fail(CLI_USAGE, "cannot place the secrets on fd %d: %s", fd, strerror(errno));
        }
        if (p[0] != fd) close(p[0]);
    }
    OPENSSL_cleanse(buf, cap);
    free(buf);
    return rc;
}

int cmd_exec(int argc, char **argv) {
    static const char *const allowed[] = {COMMON_OPTS, "--env-file", "--secrets-fd", "--no-env-secrets!", NULL};
    int dash = -1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            dash = i;
            break;
        }
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h")) {
        fputs(EXEC_USAGE, stdout);
        return CLI_OK;
    }
    if (dash < 0 || dash + 1 >= argc) {
        fputs(EXEC_USAGE, stderr);
        return cli_fail(CLI_USAGE, "need -- CMD [ARGS...]");
    }
    if (!cli_check_opts(dash, argv, allowed)) return CLI_USAGE;
    for (int i = 1; i < dash; i++) {
        if (strncmp(argv[i], "--", 2) != 0) return cli_fail(CLI_USAGE, "unexpected argument '%s' before --", argv[i]);
        if (!strchr(argv[i], '=') && strcmp(argv[i], "--wait-all") != 0 && strcmp(argv[i], "--verbose") != 0 &&
            strcmp(argv[i], "--no-env-secrets") != 0)
            i++;
    }
    const char *env_file = cli_opt(dash, argv, "--env-file"), *fds = cli_opt(dash, argv, "--secrets-fd");
    int no_env = cli_flag(dash, argv, "--no-env-secrets"), sfd = -1;
    if (fds) {
        char *end = NULL;
        long v = strtol(fds, &end, 10);
        if (!isdigit((unsigned char)fds[0]) || *end || v < 3 || v > 1023)
            return cli_fail(CLI_USAGE, "--secrets-fd must be a file descriptor number 3..1023 (0-2 are stdio)");
        sfd = (int)v;
    }
    if (no_env && sfd < 0) return cli_fail(CLI_USAGE, "--no-env-secrets needs --secrets-fd N (else CMD gets no secrets)");
    tkms_client_fetch_opts o;
    tkms_client_group *g;
    int rc = setup(&o, &g, dash, argv);
    if (rc != CLI_OK) return rc;
    tkms_client_key k;
    tkms_client_report rep;
    rc = fetch(&k, &rep, &o);
    tkms_client_report_free(&rep);
    tkms_client_group_free(g);
    if (rc != CLI_OK) return rc;

    strvec env = {0}, secrets = {0};
    sink out = {.env = &env, .secrets = sfd >= 0 ? &secrets : NULL, .no_env = no_env};
    size_t opened = 0;
    for (char **e = environ; *e && rc == CLI_OK; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        size_t nlen = (size_t)(eq - *e);
        char *v = NULL;
        size_t vl = 0;
        rc = open_value(&v, &vl, &k, *e, nlen, eq + 1, strlen(eq + 1));
        if (rc != CLI_OK) break;
        int sealed = !strncmp(eq + 1, "tkms1:", 6);
        opened += sealed;
        if (!sink_put(&out, *e, nlen, v, vl, sealed)) rc = cli_fail(CLI_USAGE, "out of memory");
        OPENSSL_cleanse(v, vl);
        free(v);
    }
    if (rc == CLI_OK && env_file) rc = load_env_file(&out, &k, env_file, &opened);
    tkms_client_addresses a;
    if (rc == CLI_OK && tkms_client_addresses_derive(&a, &k) != TKMS_CLIENT_OK) rc = cli_fail(CLI_USAGE, "address derivation failed");
    if (rc == CLI_OK) {
        char app[43];
        tkms_client_format_app_id(app, k.app_id);
        int ok = sink_put(&out, "MNEMONIC", 8, k.mnemonic, strlen(k.mnemonic), 1) &&
                 vec_set(&env, "TKMS_APP_ID", 11, app, strlen(app)) &&
                 vec_set(&env, "TKMS_ETH_ADDRESS", 16, a.eth, strlen(a.eth)) &&
                 vec_set(&env, "TKMS_SOL_ADDRESS", 16, a.sol, strlen(a.sol)) &&
                 vec_set(&env, "TKMS_BTC_ADDRESS", 16, a.btc, strlen(a.btc));
        if (!ok) rc = cli_fail(CLI_USAGE, "out of memory");
    }
    tkms_client_key_wipe(&k);
    if (rc == CLI_OK && sfd >= 0) rc = secrets_to_fd(&secrets, sfd);
    vec_wipe(&secrets);
    if (rc != CLI_OK) {
        vec_wipe(&env);
        return rc;
    }
    fprintf(stderr, "tkms: opened %zu sealed value%s%s; exec %s\n", opened, opened == 1 ? "" : "s",
            sfd < 0 ? "" : no_env ? " (secrets on the fd only)" : " (secrets on the fd and in the environment)", argv[dash + 1]);
    fflush(NULL);
    char **saved = environ;
    environ = env.v; /* execvp takes PATH from it: a copy of ours unless the env file set one */
    execvp(argv[dash + 1], argv + dash + 1);
    int e = errno;
    environ = saved;
    vec_wipe(&env);
    return cli_fail(CLI_USAGE, "cannot exec '%s': %s", argv[dash + 1], strerror(e));
}
