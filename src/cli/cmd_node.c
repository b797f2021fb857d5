/* tkms node: operator node set-up (`init` creates identity keys, storage key, admin token, config
 * and store; `show` prints the public identity; `backup` / `restore` copy the store). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "node.h"
#include "nodecli.h"

static int usage_node(void) {
    fprintf(stderr,
            "usage: tkms node init --dir D --address URL [--listen HOST:PORT] [--genesis FILE]\n"
            "                      [--passphrase-file F]\n"
            "       tkms node show --config FILE\n"
            "       tkms node curl --config FILE --url BASE --path P [--method GET|POST] [--body-file F] [--repeat K]\n"
            "       tkms node backup --config FILE --out FILE\n"
            "       tkms node restore --config FILE --from FILE\n\n"
            "init creates D/config.json, D/tkms.db (Ed25519 + X25519 identity sealed with the storage key),\n"
            "D/storage.key (0600) -- or, with --passphrase-file, an Argon2id-derived storage key --\n"
            "and D/admin.token (0600). It prints the node's public identity as JSON.\n"
            "curl sends one request signed with the node's identity key (the peer/operator envelope,\n"
            "addressed to BASE: only the node at that address accepts it) and prints the status and body;\n"
            "--repeat sends the identical signed request K times (replay test).\n"
            "backup writes a consistent copy of the node's store (safe while tkmsd runs; the shares in it stay\n"
            "sealed under the storage key, which is NOT in the backup) to a new 0600 file.\n"
            "restore replaces the store with a backup of this same node (checked: integrity, identity under\n"
            "this node's storage key); tkmsd must be stopped. A restored node serves nothing until it has\n"
            "confirmed its epoch with its peers; if the backup is older than the cluster's epoch, it catches\n"
            "up and gets a new share by a repair reshare (docs/operator.md, \"Backups\").\n");
    return CLI_USAGE;
}

static int node_init(int argc, char **argv) {
    static const char *const allowed[] = {"--dir", "--address", "--listen", "--genesis", "--passphrase-file", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *dir = cli_opt(argc, argv, "--dir"), *address = cli_opt(argc, argv, "--address");
    if (!dir || !address) return usage_node();
    tkms_status st = {0};
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
    tkms_status st = {0};
    node_secrets *sec = node_secure_alloc(sizeof *sec);
    char *address = NULL;
    if (!sec || !node_load_identity(sec, &address, cfgpath, &st)) {
        node_secure_free(sec, sizeof *sec);
        return cli_fail(CLI_USAGE, "%s", st.msg);
    }
    char ed[65], x[65];
    tkms_hex(ed, sec->ed_pk, 32);
    tkms_hex(x, sec->x_pk, 32);
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

static int node_backup(int argc, char **argv) {
    static const char *const allowed[] = {"--config", "--out", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *cfgpath = cli_opt(argc, argv, "--config"), *out = cli_opt(argc, argv, "--out");
    if (!cfgpath || !out) return usage_node();
    node_config cfg;
    tkms_status st = {0};
    if (!node_config_load(&cfg, cfgpath, &st)) return cli_fail(CLI_USAGE, "%s", st.msg);
    char *db = node_path_join(cfg.dir, cfg.db);
    node_store *s = NULL;
    int ok = db && access(db, R_OK) == 0;
    if (!ok) st.msg[0] = 0;
    ok = ok && node_store_open(&s, db, &st) && node_store_backup(s, out, &st);
    char *json = NULL;
    uint64_t epoch = 0;
    int have_epoch = ok && node_store_get_group(s, UINT64_MAX, &json, &epoch, &st) && json;
    free(json);
    node_store_close(s);
    node_config_free(&cfg);
    if (!ok) {
        int rc = cli_fail(CLI_USAGE, "node backup: %s", st.msg[0] ? st.msg : "no store at the configured path");
        free(db);
        return rc;
    }
    free(db);
    json_t *o = json_pack("{s:s, s:o}", "backup", out, "epoch", have_epoch ? json_integer((json_int_t)epoch) : json_null());
    char *txt = json_dumps(o, JSON_COMPACT);
    puts(txt);
    free(txt);
    json_decref(o);
    return CLI_OK;
}

/* Copies src to a new file dst (0600), fsynced. */
static int copy_file(const char *src, const char *dst, tkms_status *st) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return node_err(st, TKMS_CLASS_USAGE, "cannot open %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return node_err(st, TKMS_CLASS_STORAGE, "cannot create %s: %s", dst, strerror(errno));
    }
    char buf[65536];
    ssize_t r;
    int ok = 1;
    while (ok && (r = read(in, buf, sizeof buf)) != 0) {
        if (r < 0) {
            if (errno == EINTR) continue;
            ok = node_err(st, TKMS_CLASS_STORAGE, "read %s: %s", src, strerror(errno));
            break;
        }
        for (ssize_t w = 0; ok && w < r;) {
            ssize_t x = write(out, buf + w, (size_t)(r - w));
            if (x < 0 && errno == EINTR) continue;
            if (x < 0) ok = node_err(st, TKMS_CLASS_STORAGE, "write %s: %s", dst, strerror(errno));
            else w += x;
        }
    }
    if (ok && fsync(out) != 0) ok = node_err(st, TKMS_CLASS_STORAGE, "fsync %s: %s", dst, strerror(errno));
    close(in);
    if (close(out) != 0 && ok) ok = node_err(st, TKMS_CLASS_STORAGE, "close %s: %s", dst, strerror(errno));
    if (!ok) unlink(dst);
    return ok;
}

static int node_restore(int argc, char **argv) {
    static const char *const allowed[] = {"--config", "--from", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *cfgpath = cli_opt(argc, argv, "--config"), *from = cli_opt(argc, argv, "--from");
    if (!cfgpath || !from) return usage_node();
    node_config cfg;
    tkms_status st = {0};
    if (!node_config_load(&cfg, cfgpath, &st)) return cli_fail(CLI_USAGE, "%s", st.msg);
    /* the daemon must be stopped: it holds the store open and would keep writing to the old file */
    char url[300];
    snprintf(url, sizeof url, "http://%s", cfg.listen);
    ncli_req probe = {.url = strdup(url), .path = strdup("/v1/health"), .method = "GET"};
    ncli_run(&probe, 1, NULL, 1000);
    int running = probe.ok;
    ncli_req_free(&probe);
    if (running) {
        int rc = cli_fail(CLI_USAGE, "node restore: tkmsd is running on %s; stop it first", cfg.listen);
        node_config_free(&cfg);
        return rc;
    }
    char *db = node_path_join(cfg.dir, cfg.db);
    size_t dl = strlen(db) + 32;
    char *tmp = malloc(dl), *wal = malloc(dl), *shm = malloc(dl);
    snprintf(tmp, dl, "%s.restore-tmp", db);
    snprintf(wal, dl, "%s-wal", db);
    snprintf(shm, dl, "%s-shm", db);
    unlink(tmp);
    node_secrets *sec = node_secure_alloc(sizeof *sec), *cur = node_secure_alloc(sizeof *cur);
    node_store *s = NULL;
    int ok = sec && cur && copy_file(from, tmp, &st) && node_storage_key(sec->storage_key, &cfg, &st);
    /* the backup must pass its integrity check (in node_store_open) and hold this node's identity,
     * sealed under this node's storage key */
    if (ok && !node_store_open(&s, tmp, &st)) ok = 0;
    if (ok && !node_store_get_identity(s, sec, NULL, &st)) {
        size_t l = strlen(st.msg);
        snprintf(st.msg + l, sizeof st.msg - l, " (is %s a backup of this node?)", from);
        ok = 0;
    }
    char *json = NULL;
    uint64_t epoch = 0;
    int have_epoch = ok && node_store_get_group(s, UINT64_MAX, &json, &epoch, &st) && json;
    free(json);
    node_store_close(s);
    if (ok && access(db, F_OK) == 0) {
        tkms_status cs = {0};
        memcpy(cur->storage_key, sec->storage_key, 32);
        node_store *c = NULL;
        int cur_ok = node_store_open(&c, db, &cs) && node_store_get_identity(c, cur, NULL, &cs);
        node_store_close(c);
        if (cur_ok && memcmp(cur->ed_pk, sec->ed_pk, 32) != 0)
            ok = node_err(&st, TKMS_CLASS_USAGE, "%s is the backup of another node (identity differs)", from);
    }
    if (ok && rename(tmp, db) != 0) ok = node_err(&st, TKMS_CLASS_STORAGE, "cannot replace %s: %s", db, strerror(errno));
    if (ok) {
        /* the old store's WAL must not be replayed into the restored file */
        unlink(wal);
        unlink(shm);
        char *dc = strdup(db);
        int dfd = dc ? open(dirname(dc), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dc);
    } else {
        unlink(tmp);
        snprintf(wal, dl, "%s.restore-tmp-wal", db);
        unlink(wal);
        snprintf(shm, dl, "%s.restore-tmp-shm", db);
        unlink(shm);
    }
    node_secure_free(sec, sizeof *sec);
    node_secure_free(cur, sizeof *cur);
    node_config_free(&cfg);
    free(tmp);
    free(wal);
    free(shm);
    if (!ok) {
        free(db);
        return cli_fail(st.cls == TKMS_CLASS_USAGE ? CLI_REJECT : CLI_USAGE, "node restore: %s", st.msg);
    }
    json_t *o = json_pack("{s:s, s:o}", "restored", db, "epoch", have_epoch ? json_integer((json_int_t)epoch) : json_null());
    free(db);
    char *txt = json_dumps(o, JSON_COMPACT);
    puts(txt);
    free(txt);
    json_decref(o);
    return CLI_OK;
}

int cmd_node(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage_node();
    if (!strcmp(argv[1], "init")) return node_init(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return node_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "curl")) return node_curl(argc - 1, argv + 1);
    if (!strcmp(argv[1], "backup")) return node_backup(argc - 1, argv + 1);
    if (!strcmp(argv[1], "restore")) return node_restore(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown 'node' sub-command '%s'", argv[1]);
}
