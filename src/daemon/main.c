/* tkmsd: the operator node daemon -- start-up (config, storage key, store, identity, release
 * context, epoch state), the main loop (peer I/O, scheduling, app registry anti-entropy), SIGHUP
 * reload and SIGTERM drain. */
#define _GNU_SOURCE
#include "tkmsd.h"
#include "gfile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>

tkmsd *g_d;
static volatile sig_atomic_t g_term, g_hup;

static void on_signal(int sig) {
    if (sig == SIGHUP) g_hup = 1;
    else g_term = 1;
}

static int load_admin_token(tkmsd *d, tkms_status *st) {
    d->have_admin_token = 0;
    if (!d->cfg.admin_token_file) return 1;
    char *p = node_path_join(d->cfg.dir, d->cfg.admin_token_file);
    size_t n = 0;
    tkms_status tmp;
    char *txt = p ? node_read_file(p, &n, 4096, &tmp) : NULL;
    if (!txt) {
        /* no token file: token auth is off (logged) */
        logf_(TLOG_WARN, "admin_token", "no admin token file '%s'; token authentication disabled", p ? p : "?");
        free(p);
        return 1;
    }
    while (n && (txt[n - 1] == '\n' || txt[n - 1] == ' ' || txt[n - 1] == '\r')) txt[--n] = 0;
    int ok = node_unhex(d->admin_token, 32, txt);
    node_wipe(txt, n);
    free(txt);
    if (!ok) {
        free(p);
        return node_err(st, TKMS_CLASS_USAGE, "admin token file must hold 32 bytes of hex");
    }
    d->have_admin_token = 1;
    free(p);
    return 1;
}

static void on_audit_note(void *arg, const char *event, const char *msg) {
    (void)arg;
    log_json(strcmp(event, "audit_pruned") ? TLOG_ERROR : TLOG_INFO, event, json_pack("{s:s}", "msg", msg));
}

/* audit_max_rows, audit_archive_dir (relative to the node directory) */
static void apply_audit_retention(tkmsd *d) {
    char *dir = d->cfg.audit_archive_dir ? node_path_join(d->cfg.dir, d->cfg.audit_archive_dir) : NULL;
    node_store_audit_retention(d->store, d->cfg.audit_max_rows, dir, on_audit_note, d);
    free(dir);
}

static void reload(tkmsd *d) {
    node_config nc;
    tkms_status st = {0};
    if (!node_config_load(&nc, d->cfg.path, &st)) {
        log_json(TLOG_ERROR, "reload_failed", json_pack("{s:s}", "error", st.msg));
        return;
    }
    char *swap;
    if (strcmp(nc.listen, d->cfg.listen) || strcmp(nc.db, d->cfg.db))
        logf_(TLOG_WARN, "reload", "listen and db changes need a restart; keeping the old values");
    /* values read per use by other threads are plain longs; the swap is benign on x86-64/aarch64 */
    d->cfg.max_body_bytes = nc.max_body_bytes;
    d->cfg.request_timeout_s = nc.request_timeout_s;
    d->cfg.header_timeout_ms = nc.header_timeout_ms;
    d->cfg.peer_timeout_ms = nc.peer_timeout_ms;
    d->cfg.phase_timeout_ms = nc.phase_timeout_ms;
    d->cfg.sync_interval_ms = nc.sync_interval_ms;
    d->cfg.clock_skew_s = nc.clock_skew_s;
    d->cfg.repair_delay_s = nc.repair_delay_s;
    d->cfg.drain_timeout_s = nc.drain_timeout_s;
    d->cfg.app_sync_interval_ms = nc.app_sync_interval_ms;
    d->cfg.gcp_jwks_refresh_s = nc.gcp_jwks_refresh_s;
    d->cfg.audit_max_rows = nc.audit_max_rows;
    swap = d->cfg.audit_archive_dir;
    d->cfg.audit_archive_dir = nc.audit_archive_dir;
    nc.audit_archive_dir = swap;
    apply_audit_retention(d); /* the store copies what it needs under its own lock */
    /* read by the main thread only (relay_tick, relay_reload) */
    swap = d->cfg.gcp_jwks_file;
    d->cfg.gcp_jwks_file = nc.gcp_jwks_file;
    nc.gcp_jwks_file = swap;
    swap = d->cfg.gcp_jwks_url;
    d->cfg.gcp_jwks_url = nc.gcp_jwks_url;
    nc.gcp_jwks_url = swap;
    if (nc.max_connections != d->cfg.max_connections || nc.max_connections_per_source != d->cfg.max_connections_per_source ||
        nc.peer_reserved_connections != d->cfg.peer_reserved_connections || nc.max_header_bytes != d->cfg.max_header_bytes ||
        nc.threads != d->cfg.threads)
        logf_(TLOG_WARN, "reload", "connection limit, max_header_bytes and threads changes need a restart; keeping the old values");
    if (nc.release_source_rate != d->cfg.release_source_rate || nc.release_source_burst != d->cfg.release_source_burst ||
        nc.release_app_rate != d->cfg.release_app_rate || nc.release_app_burst != d->cfg.release_app_burst)
        logf_(TLOG_WARN, "reload", "release rate limit changes need a restart; keeping the old values");
    if (nc.registry_max_apps != d->cfg.registry_max_apps ||
        nc.registry_max_apps_per_owner != d->cfg.registry_max_apps_per_owner)
        logf_(TLOG_WARN, "reload", "registry limit changes need a restart; keeping the old values");
    relay_reload(d);
    log_set_level(nc.log_level);
    char *tmp = d->cfg.admin_token_file;
    d->cfg.admin_token_file = nc.admin_token_file;
    nc.admin_token_file = tmp;
    if (!load_admin_token(d, &st)) log_json(TLOG_ERROR, "reload_failed", json_pack("{s:s}", "error", st.msg));
    node_config_free(&nc);
    logf_(TLOG_INFO, "reloaded", "configuration reloaded from %s", d->cfg.path);
}

static int usage(void) {
    fprintf(stderr, "usage: tkmsd --config FILE\n       tkmsd --version\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *cfgpath = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) cfgpath = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9)) cfgpath = argv[i] + 9;
        else if (!strcmp(argv[i], "--version")) {
            printf("tkmsd %s\n", TKMS_VERSION);
            return 0;
        } else return usage();
    }
    if (!cfgpath) return usage();
    prctl(PR_SET_DUMPABLE, 0); /* no core dumps or ptrace of a process holding shares */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    static tkmsd D;
    tkmsd *d = &D;
    g_d = d;
    pthread_rwlock_init(&d->lock, NULL);
    tkms_status st = {0};
    int rc = 2;
    if (!node_config_load(&d->cfg, cfgpath, &st)) goto fail;
    log_set_level(d->cfg.log_level);
    d->sec = node_secure_alloc(sizeof *d->sec);
    d->share = node_secure_alloc(sizeof *d->share);
    if (!d->sec || !d->share) {
        node_err(&st, TKMS_CLASS_INTERNAL, "cannot allocate secure memory");
        goto fail;
    }
    if (!node_storage_key(d->sec->storage_key, &d->cfg, &st)) goto fail;
    char *dbpath = node_path_join(d->cfg.dir, d->cfg.db);
    int ok = dbpath && node_store_open(&d->store, dbpath, &st);
    free(dbpath);
    if (!ok) goto fail;
    apply_audit_retention(d);
    char *addr = NULL;
    if (!node_store_get_identity(d->store, d->sec, &addr, &st)) goto fail;
    free(addr);
    tkms_hex(d->node_id, d->sec->ed_pk, 32);
    log_set_node(d->node_id);
    if (!load_admin_token(d, &st)) goto fail;
    if (!relay_start(d, &st)) goto fail;
    if (d->cfg.genesis) {
        char *gp = node_path_join(d->cfg.dir, d->cfg.genesis);
        if (access(gp, R_OK) == 0) {
            if (!genesis_load(&d->genesis, gp, &st)) {
                free(gp);
                goto fail;
            }
            d->have_genesis = 1;
        } else {
            logf_(TLOG_INFO, "genesis", "no genesis file at %s", gp);
        }
        free(gp);
    }
    if (!daemon_load_epoch(d, &st)) goto fail;
    d->peers = peer_new(d);
    d->sched = sched_new(d);
    if (!d->peers || !d->sched) {
        node_err(&st, TKMS_CLASS_INTERNAL, "out of memory");
        goto fail;
    }
    daemon_refresh_state(d);
    static const http_app app = {api_route, api_handle};
    if (!http_start(d, &app, &st)) goto fail;
    log_json(TLOG_INFO, "started",
             json_pack("{s:s, s:s, s:s, s:i}", "listen", d->cfg.listen, "address", d->cfg.address, "version",
                       TKMS_VERSION, "pid", (int)getpid()));

    while (!g_term) {
        if (g_hup) {
            g_hup = 0;
            reload(d);
        }
        sched_tick(d->sched);
        relay_tick(d);
        peer_poll(d->peers, 50);
    }
    /* Drain: stop accepting, let running requests and queued peer messages finish. */
    logf_(TLOG_INFO, "stopping", "SIGTERM: draining (up to %ld s)", d->cfg.drain_timeout_s);
    atomic_store(&d->stopping, 1);
    http_quiesce(d);
    uint64_t until = node_mono_ms() + (uint64_t)d->cfg.drain_timeout_s * 1000u;
    while (node_mono_ms() < until && (atomic_load(&d->active_requests) > 0 || peer_pending(d->peers)))
        peer_poll(d->peers, 20);
    http_stop(d);
    rc = 0;
    logf_(TLOG_INFO, "stopped", "clean shutdown");
    goto out;
fail:
    log_json(TLOG_ERROR, "fatal", json_pack("{s:s, s:s}", "class", tkms_class_name(st.cls), "error", st.msg));
    fprintf(stderr, "tkmsd: %s\n", st.msg);
    rc = st.cls == TKMS_CLASS_STORAGE ? 3 : 2;
out:
    sched_free(d->sched);
    peer_free(d->peers);
    relay_stop(d);
    node_store_close(d->store);
    if (d->group) {
        node_group_free(d->group);
        free(d->group);
    }
    node_secure_free(d->sec, sizeof *d->sec);
    node_secure_free(d->share, sizeof *d->share);
    node_wipe(d->admin_token, sizeof d->admin_token);
    node_config_free(&d->cfg);
    curl_global_cleanup();
    return rc;
}
