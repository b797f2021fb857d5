/* tkms cluster: a local cluster of tkmsd daemons on 127.0.0.1 ports for development and tests
 * (up, status, down, kill NODE, restart NODE). Layout: D/genesis.json, D/cluster.json, D/group.json,
 * D/nodeI/{config.json, tkms.db, storage.key, admin.token, tkmsd.log, tkmsd.pid}. Every node has its
 * own admin token, as every operator would: one token never approves on two nodes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "nodecli.h"
#include "proto_tags.h"

static int usage_cluster(void) {
    fprintf(stderr,
            "usage: tkms cluster up --nodes N [--threshold T] [--interval S] --dir D [--base-port P]\n"
            "                       [--phase-ms M] [--timeout S] [--dev] [--node-config JSON]\n"
            "                       [--allow-low-threshold]\n"
            "       tkms cluster status --dir D [--json]\n"
            "       tkms cluster down --dir D\n"
            "       tkms cluster kill NODE --dir D [--term]\n"
            "       tkms cluster restart NODE --dir D\n"
            "       tkms cluster add --dir D            (init one more node, not started, not a member)\n"
            "       tkms cluster start NODE --dir D\n\n"
            "up creates N nodes (tkms node init), a genesis file (threshold default ceil(2N/3); a lower T,\n"
            "down to floor(N/2)+1, needs --allow-low-threshold and is marked threshold_override; genesis in\n"
            "2 s, reshare interval S seconds, default 3600), starts the daemons, waits until the DKG is\n"
            "certified and writes D/group.json. Each node gets its own admin token, D/nodeI/admin.token.\n"
            "NODE is a number 1..N. kill sends SIGKILL (--term: SIGTERM).\n"
            "--dev makes an INSECURE development cluster: the genesis file and every certified group file\n"
            "say dev_mode: true, so the nodes accept insecure-dev attestation evidence (logged per request).\n"
            "--node-config merges a JSON object into every node's config.json (e.g. gcp_jwks_file).\n");
    return CLI_USAGE;
}

typedef struct {
    int n, base_port, threshold, interval, phase_ms;
} cluster_info;

static char *node_dir(const char *dir, int i) {
    char b[32];
    snprintf(b, sizeof b, "node%d", i);
    return node_path_join(dir, b);
}

static char *node_file(const char *dir, int i, const char *name) {
    char *nd = node_dir(dir, i);
    char *p = node_path_join(nd, name);
    free(nd);
    return p;
}

static int load_info(cluster_info *ci, const char *dir) {
    char *p = node_path_join(dir, "cluster.json");
    json_t *j = json_load_file(p, 0, NULL);
    free(p);
    if (!j) return 0;
    ci->n = (int)json_integer_value(json_object_get(j, "nodes"));
    ci->base_port = (int)json_integer_value(json_object_get(j, "base_port"));
    ci->threshold = (int)json_integer_value(json_object_get(j, "threshold"));
    ci->interval = (int)json_integer_value(json_object_get(j, "interval"));
    ci->phase_ms = (int)json_integer_value(json_object_get(j, "phase_ms"));
    json_decref(j);
    return ci->n > 0;
}

static int save_info(const cluster_info *ci, const char *dir) {
    json_t *j = json_pack("{s:i, s:i, s:i, s:i, s:i}", "nodes", ci->n, "base_port", ci->base_port, "threshold",
                          ci->threshold, "interval", ci->interval, "phase_ms", ci->phase_ms);
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    char *p = node_path_join(dir, "cluster.json");
    tkms_status st;
    int ok = t && p && node_write_file_atomic(p, t, strlen(t), 0644, &st);
    free(t);
    free(p);
    return ok;
}

static pid_t read_pid(const char *dir, int i) {
    char *p = node_file(dir, i, "tkmsd.pid");
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    long v = 0;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = 0;
        fclose(f);
    }
    if (v > 0 && kill((pid_t)v, 0) == 0) {
        /* make sure the pid is still a tkmsd (pids get reused) */
        char cp[64], comm[64] = "";
        snprintf(cp, sizeof cp, "/proc/%ld/comm", v);
        FILE *c = fopen(cp, "r");
        if (c) {
            if (!fgets(comm, sizeof comm, c)) comm[0] = 0;
            fclose(c);
        }
        /* a zombie (killed, not yet reaped by its new parent) counts as gone */
        char sp[64], stat[256] = "";
        snprintf(sp, sizeof sp, "/proc/%ld/stat", v);
        FILE *sf = fopen(sp, "r");
        if (sf) {
            if (!fgets(stat, sizeof stat, sf)) stat[0] = 0;
            fclose(sf);
        }
        const char *rp = strrchr(stat, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'Z') return 0;
        if (!strncmp(comm, "tkmsd", 5)) return (pid_t)v;
    }
    return 0;
}

static int start_node(const char *dir, int i) {
    if (read_pid(dir, i)) return 1;
    char *cfg = node_file(dir, i, "config.json"), *log = node_file(dir, i, "tkmsd.log"),
         *pidf = node_file(dir, i, "tkmsd.pid");
    char *bin = ncli_tkmsd_path();
    pid_t pid = fork();
    if (pid < 0) return cli_fail(CLI_USAGE, "fork: %s", strerror(errno)), 0;
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0) dup2(nul, 0);
        execl(bin, "tkmsd", "--config", cfg, (char *)NULL);
        execlp("tkmsd", "tkmsd", "--config", cfg, (char *)NULL);
        _exit(127);
    }
    char b[32];
    snprintf(b, sizeof b, "%ld\n", (long)pid);
    tkms_status st;
    int ok = node_write_file_atomic(pidf, b, strlen(b), 0644, &st);
    free(cfg);
    free(log);
    free(pidf);
    free(bin);
    /* reap it if it dies at once (bad config, port in use) */
    usleep(100000);
    int wst;
    if (waitpid(pid, &wst, WNOHANG) == pid) {
        char *l = node_file(dir, i, "tkmsd.log");
        cli_fail(CLI_USAGE, "node%d: tkmsd exited at start (see %s)", i, l);
        free(l);
        return 0;
    }
    return ok;
}

static int stop_node(const char *dir, int i, int sig, int wait_s) {
    pid_t pid = read_pid(dir, i);
    if (!pid) return 0;
    kill(pid, sig);
    for (int k = 0; k < wait_s * 20; k++) {
        waitpid(pid, NULL, WNOHANG);
        if (!read_pid(dir, i)) break;
        usleep(20000);
    }
    if (read_pid(dir, i)) {
        kill(pid, SIGKILL);
        usleep(100000);
        waitpid(pid, NULL, WNOHANG);
    }
    char *pidf = node_file(dir, i, "tkmsd.pid");
    unlink(pidf);
    free(pidf);
    return 1;
}

static char *node_url(const cluster_info *ci, int i) {
    char b[64];
    snprintf(b, sizeof b, "http://127.0.0.1:%d", ci->base_port + i);
    return strdup(b);
}

/* Polls /v1/health of every node. states[i]: 0 down, 1 not ready, 2 syncing, 3 serving. */
static void poll_health_json(const cluster_info *ci, int *states, long long *epochs, json_t **health);
static void poll_health(const cluster_info *ci, int *states, long long *epochs) { poll_health_json(ci, states, epochs, NULL); }

/* Same, keeping each node's health object in health[i] (NULL if down; caller decrefs). */
static void poll_health_json(const cluster_info *ci, int *states, long long *epochs, json_t **health) {
    ncli_req *rq = calloc((size_t)ci->n, sizeof *rq);
    for (int i = 0; i < ci->n; i++) {
        rq[i].url = node_url(ci, i + 1);
        rq[i].path = strdup("/v1/health");
        rq[i].method = "GET";
    }
    ncli_run(rq, (size_t)ci->n, NULL, 1000);
    for (int i = 0; i < ci->n; i++) {
        states[i] = 0;
        epochs[i] = -1;
        if (rq[i].ok) {
            states[i] = rq[i].status == 200 ? 3 : rq[i].status == 429 ? 2 : 1;
            json_t *j = rq[i].resp ? json_loads(rq[i].resp, 0, NULL) : NULL;
            json_t *e = j ? json_object_get(j, "epoch") : NULL;
            if (json_is_integer(e)) epochs[i] = json_integer_value(e);
            if (health) health[i] = j;
            else json_decref(j);
        }
        ncli_req_free(&rq[i]);
    }
    free(rq);
}

static int fetch_group(const cluster_info *ci, const char *dir, int from) {
    ncli_req r = {.url = node_url(ci, from), .path = strdup("/v1/group"), .method = "GET"};
    ncli_run(&r, 1, NULL, 3000);
    int ok = r.ok && r.status == 200 && r.resp;
    if (ok) {
        char *p = node_path_join(dir, "group.json");
        tkms_status st;
        ok = node_write_file_atomic(p, r.resp, r.resp_len, 0644, &st);
        free(p);
    }
    ncli_req_free(&r);
    return ok;
}

/* Waits until every listed node serves one epoch; prints progress on stderr. */
static int wait_serving(const cluster_info *ci, const char *dir, int timeout_s, const char *what) {
    int *states = calloc((size_t)ci->n, sizeof *states);
    long long *epochs = calloc((size_t)ci->n, sizeof *epochs);
    time_t end = time(NULL) + timeout_s;
    int last = -1, ok = 0;
    while (time(NULL) <= end) {
        poll_health(ci, states, epochs);
        int serving = 0, up = 0;
        for (int i = 0; i < ci->n; i++) {
            serving += states[i] == 3;
            up += states[i] > 0;
        }
        if (serving != last) {
            fprintf(stderr, "%s: %d/%d nodes up, %d/%d serving\n", what, up, ci->n, serving, ci->n);
            last = serving;
        }
        if (serving == ci->n) {
            int from = 1;
            ok = fetch_group(ci, dir, from);
            break;
        }
        usleep(250000);
    }
    free(states);
    free(epochs);
    return ok;
}

static int cluster_up(int argc, char **argv, const char *dir) {
    static const char *const allowed[] = {"--nodes", "--threshold", "--interval", "--dir", "--base-port", "--phase-ms",
                                          "--timeout", "--dev!", "--node-config", "--allow-low-threshold!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    int dev = cli_flag(argc, argv, "--dev"), low_t = cli_flag(argc, argv, "--allow-low-threshold");
    const char *extra_txt = cli_opt(argc, argv, "--node-config");
    json_t *extra = NULL;
    cluster_info ci = {0};
    int timeout = cli_opt(argc, argv, "--timeout") ? atoi(cli_opt(argc, argv, "--timeout")) : 120;
    if (load_info(&ci, dir)) {
        if (dev || extra_txt || low_t)
            return cli_fail(CLI_USAGE, "--dev, --node-config and --allow-low-threshold apply when the cluster is created");
        fprintf(stderr, "cluster in %s exists: starting its %d nodes\n", dir, ci.n);
    } else {
        const char *ns = cli_opt(argc, argv, "--nodes");
        if (!ns) return usage_cluster();
        ci.n = atoi(ns);
        if (ci.n < 1 || ci.n > 64) return cli_fail(CLI_USAGE, "--nodes must be 1..64");
        ci.threshold = cli_opt(argc, argv, "--threshold") ? atoi(cli_opt(argc, argv, "--threshold")) : (2 * ci.n + 2) / 3;
        tkms_status tst = {0};
        if (ci.threshold < 1 || !node_threshold_check((uint32_t)ci.threshold, (uint32_t)ci.n, low_t, &tst))
            return cli_fail(CLI_USAGE, "--threshold: %s", tst.msg[0] ? tst.msg : "must be 1..N");
        ci.interval = cli_opt(argc, argv, "--interval") ? atoi(cli_opt(argc, argv, "--interval")) : 3600;
        if (ci.interval < 1) return cli_fail(CLI_USAGE, "--interval must be positive");
        ci.base_port = cli_opt(argc, argv, "--base-port") ? atoi(cli_opt(argc, argv, "--base-port")) : 17100;
        if (ci.base_port < 1024 || ci.base_port + ci.n > 65535) return cli_fail(CLI_USAGE, "bad --base-port");
        ci.phase_ms = cli_opt(argc, argv, "--phase-ms") ? atoi(cli_opt(argc, argv, "--phase-ms")) : 1000;
        if (ci.phase_ms < 100) return cli_fail(CLI_USAGE, "--phase-ms must be >= 100");
        if (extra_txt) {
            extra = json_loads(extra_txt, JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_object(extra)) {
                json_decref(extra);
                return cli_fail(CLI_USAGE, "--node-config must be a JSON object");
            }
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            json_decref(extra);
            return cli_fail(CLI_USAGE, "cannot create %s: %s", dir, strerror(errno));
        }
        tkms_status st = {0};
        int ok = 1;
        json_t *members = json_array();
        for (int i = 1; ok && i <= ci.n; i++) {
            char *nd = node_dir(dir, i), *url = node_url(&ci, i);
            json_t *id = NULL;
            ok = node_init_dir(nd, url, NULL, NULL, NULL, &id, &st);
            if (ok) {
                json_array_append_new(members, id);
                char *cfg = node_path_join(nd, "config.json");
                json_t *up = json_pack("{s:s, s:i, s:i, s:i}", "genesis", "../genesis.json", "phase_timeout_ms",
                                       ci.phase_ms, "sync_interval_ms", 1000, "peer_timeout_ms", 2000);
                if (extra) json_object_update(up, extra);
                ok = node_config_patch(cfg, up, &st);
                json_decref(up);
                free(cfg);
            }
            free(nd);
            free(url);
        }
        if (ok) {
            json_t *gen = json_pack("{s:s, s:i, s:I, s:i, s:b, s:O}", "version", TKMS_TAG_GENESIS_FILE, "threshold",
                                    ci.threshold, "genesis_time", (json_int_t)(time(NULL) + 2), "reshare_interval_s",
                                    ci.interval, "dev_mode", dev, "members", members);
            if (gen && ci.threshold < (int)NODE_T_DEFAULT((uint32_t)ci.n))
                json_object_set_new(gen, "threshold_override", json_true());
            char *t = json_dumps(gen, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            char *gp = node_path_join(dir, "genesis.json");
            ok = t && node_write_file_atomic(gp, t, strlen(t), 0644, &st);
            free(t);
            free(gp);
            json_decref(gen);
        }
        json_decref(members);
        ok = ok && save_info(&ci, dir);
        json_decref(extra);
        extra = NULL;
        if (!ok) return cli_fail(CLI_USAGE, "cluster up: %s", st.msg);
        fprintf(stderr, "created %d nodes in %s (t = %d, reshare every %d s, ports %d..%d)%s\n", ci.n, dir, ci.threshold,
                ci.interval, ci.base_port + 1, ci.base_port + ci.n,
                dev ? "; DEV MODE: insecure-dev evidence accepted" : "");
    }
    for (int i = 1; i <= ci.n; i++)
        if (!start_node(dir, i)) return CLI_USAGE;
    if (!wait_serving(&ci, dir, timeout, "dkg")) {
        return cli_fail(CLI_USAGE, "the DKG did not certify within %d s (see %s/node*/tkmsd.log)", timeout, dir);
    }
    char *gp = node_path_join(dir, "group.json");
    size_t gl = 0;
    tkms_status st;
    char *gj = node_read_file(gp, &gl, 16 << 20, &st);
    node_group *g = calloc(1, sizeof *g);
    if (g && gj && node_group_parse(g, gj, &st)) {
        char mh[193];
        uint8_t mpk[96];
        g2_serialize(mpk, &g->g.poly[0]);
        tkms_hex(mh, mpk, 96);
        printf("{\"group\":\"%s\",\"epoch\":%llu,\"n\":%zu,\"t\":%zu,\"mpk\":\"%s\"}\n", gp,
               (unsigned long long)g->g.epoch, g->g.n, g->g.t, mh);
        node_group_free(g);
    }
    free(g);
    free(gj);
    free(gp);
    return CLI_OK;
}

static int cluster_status(int argc, char **argv, const char *dir, const cluster_info *ci) {
    int *states = calloc((size_t)ci->n, sizeof *states);
    long long *epochs = calloc((size_t)ci->n, sizeof *epochs);
    json_t **health = calloc((size_t)ci->n, sizeof *health);
    poll_health_json(ci, states, epochs, health);
    static const char *names[] = {"down", "not_ready", "syncing", "serving"};
    int json = cli_flag(argc, argv, "--json");
    json_t *arr = json_array();
    if (!json)
        printf("%-6s %-8s %-10s %-6s %-6s %-8s %-9s %s\n", "node", "pid", "state", "epoch", "share", "holders", "shares",
               "address");
    for (int i = 0; i < ci->n; i++) {
        pid_t pid = read_pid(dir, i + 1);
        char *url = node_url(ci, i + 1);
        json_t *h = health[i];
        json_t *hs = h ? json_object_get(h, "has_share") : NULL, *ho = h ? json_object_get(h, "share_holders") : NULL;
        json_t *sh = h ? json_object_get(h, "share_health") : NULL;
        if (json)
            json_array_append_new(arr, json_pack("{s:i, s:i, s:s, s:I, s:O?, s:O?, s:O?, s:s}", "node", i + 1, "pid",
                                                 (int)pid, "state", names[states[i]], "epoch", (json_int_t)epochs[i],
                                                 "has_share", hs, "share_holders", ho, "share_health", sh, "address", url));
        else {
            char hb[24] = "-";
            if (json_is_integer(ho)) snprintf(hb, sizeof hb, "%lld", (long long)json_integer_value(ho));
            printf("%-6d %-8d %-10s %-6lld %-6s %-8s %-9s %s\n", i + 1, (int)pid, names[states[i]], epochs[i],
                   !hs ? "-" : json_is_true(hs) ? "yes" : "NO", hb, json_is_string(sh) ? json_string_value(sh) : "-",
                   url);
        }
        json_decref(h);
        free(url);
    }
    free(health);
    if (json) {
        char *t = json_dumps(arr, JSON_COMPACT);
        puts(t);
        free(t);
    }
    json_decref(arr);
    free(states);
    free(epochs);
    return CLI_OK;
}

int cmd_cluster(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage_cluster();
    const char *sub = argv[1];
    const char *dir = cli_opt(argc, argv, "--dir");
    if (!dir) return usage_cluster();
    if (!strcmp(sub, "up")) return cluster_up(argc - 1, argv + 1, dir);
    cluster_info ci;
    if (!load_info(&ci, dir)) return cli_fail(CLI_USAGE, "no cluster in %s (run tkms cluster up)", dir);
    if (!strcmp(sub, "status")) return cluster_status(argc - 1, argv + 1, dir, &ci);
    if (!strcmp(sub, "down")) {
        for (int i = 1; i <= ci.n + 16; i++) stop_node(dir, i, SIGTERM, 10);
        fprintf(stderr, "cluster in %s stopped\n", dir);
        return CLI_OK;
    }
    if (!strcmp(sub, "add")) {
        /* a new operator's node (next port), initialised but not started and not yet a member */
        int i = ci.n + 1;
        char *nd = node_dir(dir, i), *url = node_url(&ci, i);
        json_t *id = NULL;
        tkms_status st = {0};
        int ok = node_init_dir(nd, url, NULL, NULL, NULL, &id, &st);
        if (ok) {
            char *cfg = node_path_join(nd, "config.json");
            json_t *up = json_pack("{s:s, s:s, s:i, s:i, s:i}", "genesis", "../genesis.json", "join_group",
                                   "../group.json", "phase_timeout_ms", ci.phase_ms, "sync_interval_ms", 1000,
                                   "peer_timeout_ms", 2000);
            ok = node_config_patch(cfg, up, &st);
            json_decref(up);
            free(cfg);
        }
        if (ok) {
            ci.n = i;
            ok = save_info(&ci, dir);
            char *t = json_dumps(id, JSON_COMPACT);
            puts(t);
            free(t);
        }
        json_decref(id);
        free(nd);
        free(url);
        return ok ? CLI_OK : cli_fail(CLI_USAGE, "cluster add: %s", st.msg);
    }
    if (argc < 3) return usage_cluster();
    int node = atoi(argv[2]);
    if (!strncmp(argv[2], "node", 4)) node = atoi(argv[2] + 4);
    if (node < 1 || node > ci.n) return cli_fail(CLI_USAGE, "NODE must be 1..%d", ci.n);
    if (!strcmp(sub, "kill")) {
        if (!stop_node(dir, node, cli_flag(argc, argv, "--term") ? SIGTERM : SIGKILL, 10))
            return cli_fail(CLI_USAGE, "node%d is not running", node);
        fprintf(stderr, "node%d killed\n", node);
        return CLI_OK;
    }
    if (!strcmp(sub, "start") || !strcmp(sub, "restart")) {
        if (!strcmp(sub, "restart")) stop_node(dir, node, SIGTERM, 10);
        if (!start_node(dir, node)) return CLI_USAGE;
        /* wait until it answers */
        char *url = node_url(&ci, node);
        for (int k = 0; k < 100; k++) {
            ncli_req r = {.url = strdup(url), .path = strdup("/v1/health"), .method = "GET"};
            ncli_run(&r, 1, NULL, 500);
            int up = r.ok;
            ncli_req_free(&r);
            if (up) break;
            usleep(100000);
        }
        free(url);
        fprintf(stderr, "node%d started\n", node);
        return CLI_OK;
    }
    return cli_fail(CLI_USAGE, "unknown 'cluster' sub-command '%s'", sub);
}
