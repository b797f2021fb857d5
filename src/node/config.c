/* Operator node library: the JSON config file (strict keys, documented defaults; see
 * docs/operator.md). */
#include "node.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

void node_config_defaults(node_config *c) {
    memset(c, 0, sizeof *c);
    c->listen = strdup("127.0.0.1:7000");
    c->address = strdup("http://127.0.0.1:7000");
    c->db = strdup("tkms.db");
    c->storage_key_file = strdup("storage.key");
    c->admin_token_file = strdup("admin.token");
    c->genesis = strdup("genesis.json");
    c->log_level = strdup("info");
    c->max_body_bytes = 1 << 20;
    c->request_timeout_s = 10;
    c->header_timeout_ms = 5000;
    c->max_header_bytes = 8192;
    c->max_connections = 1024;
    c->max_connections_per_source = 32;
    c->peer_reserved_connections = 64;
    c->peer_timeout_ms = 5000;
    c->threads = 4;
    c->phase_timeout_ms = 5000;
    c->sync_interval_ms = 2000;
    c->clock_skew_s = 120;
    c->repair_delay_s = 60;
    c->drain_timeout_s = 10;
    c->app_sync_interval_ms = 5000;
    c->gcp_jwks_refresh_s = 3600;
    c->release_source_rate = 20;
    c->release_source_burst = 40;
    c->release_app_rate = 50;
    c->release_app_burst = 100;
    c->audit_max_rows = 1000000;
    c->registry_max_apps = 100000;
    c->registry_max_apps_per_owner = 1000;
    c->kdf_t_cost = 3;
    c->kdf_m_cost_kib = 65536;
    c->kdf_parallelism = 1;
}

void node_config_free(node_config *c) {
    char **strs[] = {&c->path, &c->dir, &c->listen, &c->address, &c->db, &c->storage_key_file, &c->passphrase_file,
                     &c->genesis, &c->join_group, &c->admin_token_file, &c->log_level,
                     &c->gcp_jwks_file, &c->gcp_jwks_url, &c->audit_archive_dir};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

static int set_str(char **dst, json_t *v, const char *key, tkms_status *st) {
    if (json_is_null(v)) {
        free(*dst);
        *dst = NULL;
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return node_err(st, TKMS_CLASS_USAGE, "config: \"%s\" must be a non-empty string or null", key);
    free(*dst);
    *dst = strdup(json_string_value(v));
    return *dst != NULL;
}

static int set_int(long *dst, json_t *v, const char *key, long lo, long hi, tkms_status *st) {
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return node_err(st, TKMS_CLASS_USAGE, "config: \"%s\" must be an integer in [%ld, %ld]", key, lo, hi);
    *dst = (long)json_integer_value(v);
    return 1;
}

int node_config_load(node_config *c, const char *path, tkms_status *st) {
    node_config_defaults(c);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        node_config_free(c);
        return node_err(st, TKMS_CLASS_USAGE, "config '%s': %s (line %d)", path, je.text, je.line);
    }
    int ok = json_is_object(root) ? 1 : node_err(st, TKMS_CLASS_USAGE, "config '%s': not a JSON object", path);
    c->path = strdup(path);
    char *pc = strdup(path);
    c->dir = pc ? strdup(dirname(pc)) : NULL;
    free(pc);
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (!ok) break;
        if (!strcmp(k, "dir")) ok = set_str(&c->dir, v, k, st);
        else if (!strcmp(k, "listen")) ok = set_str(&c->listen, v, k, st);
        else if (!strcmp(k, "address")) ok = set_str(&c->address, v, k, st);
        else if (!strcmp(k, "db")) ok = set_str(&c->db, v, k, st);
        else if (!strcmp(k, "storage_key_file")) ok = set_str(&c->storage_key_file, v, k, st);
        else if (!strcmp(k, "passphrase_file")) ok = set_str(&c->passphrase_file, v, k, st);
        else if (!strcmp(k, "genesis")) ok = set_str(&c->genesis, v, k, st);
        else if (!strcmp(k, "join_group")) ok = set_str(&c->join_group, v, k, st);
        else if (!strcmp(k, "admin_token_file")) ok = set_str(&c->admin_token_file, v, k, st);
        else if (!strcmp(k, "log_level")) ok = set_str(&c->log_level, v, k, st);
        else if (!strcmp(k, "max_body_bytes")) ok = set_int(&c->max_body_bytes, v, k, 1024, 64L << 20, st);
        else if (!strcmp(k, "request_timeout_s")) ok = set_int(&c->request_timeout_s, v, k, 1, 3600, st);
        else if (!strcmp(k, "header_timeout_ms")) ok = set_int(&c->header_timeout_ms, v, k, 100, 600000, st);
        else if (!strcmp(k, "max_header_bytes")) ok = set_int(&c->max_header_bytes, v, k, 1024, 65536, st);
        else if (!strcmp(k, "max_connections")) ok = set_int(&c->max_connections, v, k, 16, 1000000, st);
        else if (!strcmp(k, "max_connections_per_source"))
            ok = set_int(&c->max_connections_per_source, v, k, 1, 1000000, st);
        else if (!strcmp(k, "peer_reserved_connections"))
            ok = set_int(&c->peer_reserved_connections, v, k, 0, 1000000, st);
        else if (!strcmp(k, "peer_timeout_ms")) ok = set_int(&c->peer_timeout_ms, v, k, 50, 600000, st);
        else if (!strcmp(k, "threads")) ok = set_int(&c->threads, v, k, 1, 256, st);
        else if (!strcmp(k, "phase_timeout_ms")) ok = set_int(&c->phase_timeout_ms, v, k, 100, 3600000, st);
        else if (!strcmp(k, "sync_interval_ms")) ok = set_int(&c->sync_interval_ms, v, k, 100, 3600000, st);
        else if (!strcmp(k, "clock_skew_s")) ok = set_int(&c->clock_skew_s, v, k, 1, 86400, st);
        else if (!strcmp(k, "repair_delay_s")) ok = set_int(&c->repair_delay_s, v, k, 1, 86400, st);
        else if (!strcmp(k, "drain_timeout_s")) ok = set_int(&c->drain_timeout_s, v, k, 0, 3600, st);
        else if (!strcmp(k, "app_sync_interval_ms")) ok = set_int(&c->app_sync_interval_ms, v, k, 100, 3600000, st);
        else if (!strcmp(k, "gcp_jwks_file")) ok = set_str(&c->gcp_jwks_file, v, k, st);
        else if (!strcmp(k, "gcp_jwks_url")) ok = set_str(&c->gcp_jwks_url, v, k, st);
        else if (!strcmp(k, "gcp_jwks_refresh_s")) ok = set_int(&c->gcp_jwks_refresh_s, v, k, 10, 86400 * 7, st);
        else if (!strcmp(k, "release_source_rate")) ok = set_int(&c->release_source_rate, v, k, 1, 1000000, st);
        else if (!strcmp(k, "release_source_burst")) ok = set_int(&c->release_source_burst, v, k, 1, 1000000, st);
        else if (!strcmp(k, "release_app_rate")) ok = set_int(&c->release_app_rate, v, k, 1, 1000000, st);
        else if (!strcmp(k, "release_app_burst")) ok = set_int(&c->release_app_burst, v, k, 1, 1000000, st);
        else if (!strcmp(k, "registry_max_apps")) ok = set_int(&c->registry_max_apps, v, k, 1, 100000000, st);
        else if (!strcmp(k, "registry_max_apps_per_owner"))
            ok = set_int(&c->registry_max_apps_per_owner, v, k, 1, 100000000, st);
        else if (!strcmp(k, "audit_max_rows")) ok = set_int(&c->audit_max_rows, v, k, 100, 1000000000, st);
        else if (!strcmp(k, "audit_archive_dir")) ok = set_str(&c->audit_archive_dir, v, k, st);
        else if (!strcmp(k, "storage_kdf")) {
            /* {"salt": hex16, "t_cost": 3, "m_cost_kib": 65536, "parallelism": 1}: passphrase mode */
            json_t *s = json_object_get(v, "salt");
            ok = json_is_object(v) && json_is_string(s) && node_unhex(c->kdf_salt, 16, json_string_value(s));
            if (!ok) {
                node_err(st, TKMS_CLASS_USAGE, "config: \"storage_kdf\" needs \"salt\" (16 bytes hex)");
                break;
            }
            c->kdf_passphrase = 1;
            free(c->storage_key_file);
            c->storage_key_file = NULL;
            json_t *x;
            if ((x = json_object_get(v, "t_cost"))) ok = set_int(&c->kdf_t_cost, x, "storage_kdf.t_cost", 1, 100, st);
            if (ok && (x = json_object_get(v, "m_cost_kib")))
                ok = set_int(&c->kdf_m_cost_kib, x, "storage_kdf.m_cost_kib", 8192, 4L << 20, st);
            if (ok && (x = json_object_get(v, "parallelism")))
                ok = set_int(&c->kdf_parallelism, x, "storage_kdf.parallelism", 1, 64, st);
        } else
            ok = node_err(st, TKMS_CLASS_USAGE, "config: unknown key \"%s\"", k);
    }
    json_decref(root);
    if (ok && (!c->listen || !strchr(c->listen, ':')))
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"listen\" must be host:port");
    if (ok && (!c->address || strncmp(c->address, "http", 4) != 0))
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"address\" must be an http(s) URL");
    if (ok && !c->db) ok = node_err(st, TKMS_CLASS_USAGE, "config: \"db\" is required");
    if (ok && c->peer_reserved_connections >= c->max_connections)
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"peer_reserved_connections\" must be below \"max_connections\"");
    if (ok && c->max_connections_per_source > c->max_connections)
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"max_connections_per_source\" must not exceed \"max_connections\"");
    if (ok && c->gcp_jwks_url && strncmp(c->gcp_jwks_url, "https://", 8) && strncmp(c->gcp_jwks_url, "http://", 7))
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"gcp_jwks_url\" must be an http(s) URL");
    if (ok && c->log_level && strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") &&
        strcmp(c->log_level, "warn") && strcmp(c->log_level, "error"))
        ok = node_err(st, TKMS_CLASS_USAGE, "config: \"log_level\" must be debug, info, warn or error");
    if (!ok) node_config_free(c);
    return ok;
}

json_t *node_config_to_json(const node_config *c) {
    json_t *o = json_object();
#define S(k) json_object_set_new(o, #k, c->k ? json_string(c->k) : json_null())
#define I(k) json_object_set_new(o, #k, json_integer(c->k))
    S(listen);
    S(address);
    S(db);
    if (!c->kdf_passphrase) S(storage_key_file);
    S(genesis);
    S(join_group);
    S(admin_token_file);
    S(log_level);
    I(max_body_bytes);
    I(request_timeout_s);
    I(header_timeout_ms);
    I(max_header_bytes);
    I(max_connections);
    I(max_connections_per_source);
    I(peer_reserved_connections);
    I(peer_timeout_ms);
    I(threads);
    I(phase_timeout_ms);
    I(sync_interval_ms);
    I(clock_skew_s);
    I(repair_delay_s);
    I(drain_timeout_s);
    I(app_sync_interval_ms);
    S(gcp_jwks_file);
    S(gcp_jwks_url);
    I(gcp_jwks_refresh_s);
    I(release_source_rate);
    I(release_source_burst);
    I(release_app_rate);
    I(release_app_burst);
    I(registry_max_apps);
    I(registry_max_apps_per_owner);
    I(audit_max_rows);
    S(audit_archive_dir);
#undef S
#undef I
    if (c->kdf_passphrase) {
        char salt[33];
        tkms_hex(salt, c->kdf_salt, 16);
        if (c->passphrase_file) json_object_set_new(o, "passphrase_file", json_string(c->passphrase_file));
        json_object_set_new(o, "storage_kdf",
                            json_pack("{s:s, s:I, s:I, s:I}", "salt", salt, "t_cost", (json_int_t)c->kdf_t_cost,
                                      "m_cost_kib", (json_int_t)c->kdf_m_cost_kib, "parallelism",
                                      (json_int_t)c->kdf_parallelism));
    }
    return o;
}
