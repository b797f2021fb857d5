/* Operator node library: creating a node directory (identity keys sealed in the store, storage
 * key or Argon2id salt, admin token, config with defaults), loading its identity, and patching its
 * config. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "http://host:port/..." -> "host:port" (default port 80 / 443). */
static char *listen_from_url(const char *url) {
    const char *p = strstr(url, "://");
    int tls = strncmp(url, "https", 5) == 0;
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/");
    char *r = malloc(n + 8);
    if (!r) return NULL;
    memcpy(r, p, n);
    r[n] = 0;
    if (!strchr(r, ':')) strcat(r, tls ? ":443" : ":80");
    return r;
}

static int write_secret_hex(const char *dir, const char *name, const uint8_t *b, size_t n, tkms_status *st) {
    char hex[2 * 64 + 2];
    tkms_hex(hex, b, n);
    strcat(hex, "\n");
    char *p = node_path_join(dir, name);
    int ok = p && node_write_file_atomic(p, hex, strlen(hex), 0600, st);
    node_wipe(hex, sizeof hex);
    free(p);
    return ok;
}

static int write_json(const char *path, json_t *j, unsigned mode, tkms_status *st) {
    char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!txt) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    size_t n = strlen(txt);
    char *t2 = realloc(txt, n + 2);
    if (!t2) {
        free(txt);
        return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    }
    t2[n] = '\n';
    t2[n + 1] = 0;
    int ok = node_write_file_atomic(path, t2, n + 1, mode, st);
    free(t2);
    return ok;
}

int node_init_dir(const char *dir, const char *address, const char *listen, const char *genesis,
                  const char *passphrase_file, json_t **identity, tkms_status *st) {
    if (strncmp(address, "http://", 7) && strncmp(address, "https://", 8))
        return node_err(st, TKMS_CLASS_USAGE, "--address must be an http:// or https:// URL");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return node_err(st, TKMS_CLASS_USAGE, "cannot create '%s': %s", dir, strerror(errno));
    node_config cfg;
    node_config_defaults(&cfg);
    free(cfg.address);
    cfg.address = strdup(address);
    free(cfg.listen);
    cfg.listen = listen ? strdup(listen) : listen_from_url(address);
    if (genesis) {
        free(cfg.genesis);
        cfg.genesis = strdup(genesis);
    }
    char *cfgpath = node_path_join(dir, "config.json"), *dbpath = node_path_join(dir, cfg.db);
    struct stat sb;
    int ok = 1;
    if (stat(cfgpath, &sb) == 0 || stat(dbpath, &sb) == 0)
        ok = node_err(st, TKMS_CLASS_USAGE, "'%s' already holds a node (config.json or %s exists); refusing to overwrite", dir, cfg.db);
    node_secrets *sec = ok ? node_secure_alloc(sizeof *sec) : NULL;
    uint8_t token[32];
    if (ok) {
        ok = sec && node_ed25519_keygen(sec->ed_sk, sec->ed_pk) && node_x25519_keygen(sec->x_sk, sec->x_pk) &&
             node_random(token, sizeof token);
        if (!ok) node_err(st, TKMS_CLASS_INTERNAL, "key generation failed");
    }
    if (ok && passphrase_file) {
        cfg.kdf_passphrase = 1;
        free(cfg.storage_key_file);
        cfg.storage_key_file = NULL;
        cfg.passphrase_file = strdup(passphrase_file);
        cfg.dir = strdup(dir);
        ok = node_random(cfg.kdf_salt, sizeof cfg.kdf_salt) && node_storage_key(sec->storage_key, &cfg, st);
    } else if (ok) {
        ok = node_random(sec->storage_key, 32) && write_secret_hex(dir, cfg.storage_key_file, sec->storage_key, 32, st);
    }
    ok = ok && write_secret_hex(dir, cfg.admin_token_file, token, 32, st);
    node_wipe(token, sizeof token);
    node_store *s = NULL;
    ok = ok && node_store_open(&s, dbpath, st) && node_store_put_identity(s, sec, address, st);
    node_store_close(s);
    if (ok) {
        json_t *j = node_config_to_json(&cfg);
        ok = write_json(cfgpath, j, 0600, st);
        json_decref(j);
    }
    if (ok && identity) {
        char ed[65], x[65];
        tkms_hex(ed, sec->ed_pk, 32);
        tkms_hex(x, sec->x_pk, 32);
        *identity = json_pack("{s:s, s:s, s:s}", "address", address, "ed25519", ed, "x25519", x);
    }
    node_secure_free(sec, sizeof *sec);
    free(cfgpath);
    free(dbpath);
    node_config_free(&cfg);
    return ok;
}

int node_config_patch(const char *path, json_t *updates, tkms_status *st) {
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) return node_err(st, TKMS_CLASS_USAGE, "config '%s': %s", path, je.text);
    json_object_update(j, updates);
    int ok = write_json(path, j, 0600, st);
    json_decref(j);
    return ok;
}

int node_load_identity(node_secrets *sec, char **address, const char *config_path, tkms_status *st) {
    node_config cfg;
    if (!node_config_load(&cfg, config_path, st)) return 0;
    int ok = node_storage_key(sec->storage_key, &cfg, st);
    node_store *s = NULL;
    char *db = ok ? node_path_join(cfg.dir, cfg.db) : NULL;
    ok = ok && db && node_store_open(&s, db, st);
    ok = ok && node_store_get_identity(s, sec, address, st);
    node_store_close(s);
    free(db);
    node_config_free(&cfg);
    if (!ok) node_wipe(sec, sizeof *sec);
    return ok;
}
