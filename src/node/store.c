/* Operator node library: the SQLite store (WAL; key material in FULL-synchronous transactions;
 * secrets sealed with the storage key; secure_delete so erased shares leave no plaintext pages). */
#include "node.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <sqlite3.h>
#include "proto_tags.h"

struct node_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    /* audit retention (node_store_audit_retention); under mu */
    long audit_max_rows;
    char *audit_archive;
    node_audit_note_fn audit_note;
    void *audit_note_arg;
    uint64_t audit_retry_ms; /* no prune before (monotonic ms): after a failure */
};

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS node_keys(id INTEGER PRIMARY KEY CHECK (id = 1), ed25519_pk BLOB NOT NULL,"
    "  x25519_pk BLOB NOT NULL, address TEXT NOT NULL, sealed BLOB NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS groups(epoch INTEGER PRIMARY KEY, json TEXT NOT NULL, sha256 BLOB NOT NULL,"
    "  stored_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS shares(epoch INTEGER PRIMARY KEY, idx INTEGER NOT NULL, sealed BLOB NOT NULL,"
    "  stored_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pending_shares(epoch INTEGER NOT NULL, thash BLOB NOT NULL, idx INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL, stored_ms INTEGER NOT NULL, PRIMARY KEY (epoch, thash));"
    "CREATE TABLE IF NOT EXISTS sessions(sid BLOB PRIMARY KEY, epoch INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  sealed BLOB NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS proposals(id BLOB PRIMARY KEY, epoch INTEGER NOT NULL, json TEXT NOT NULL,"
    "  stored_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, subject TEXT, decision TEXT, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS replay(digest BLOB PRIMARY KEY, ts_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS replay_ts ON replay(ts_ms);"
    "CREATE TABLE IF NOT EXISTS sign_approvals(msg_hash BLOB PRIMARY KEY, approved_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL, by TEXT NOT NULL);";

static int db_err(node_store *s, tkms_status *st, const char *what) {
    int ec = sqlite3_extended_errcode(s->db), pc = ec & 0xff;
    const char *hint = "";
    if (pc == SQLITE_READONLY) hint = " (the database or its directory is read-only)";
    else if (pc == SQLITE_FULL) hint = " (the disk is full)";
    else if (pc == SQLITE_IOERR) hint = " (I/O error)";
    else if (pc == SQLITE_CANTOPEN) hint = " (cannot open the database file)";
    else if (pc == SQLITE_CORRUPT || pc == SQLITE_NOTADB) hint = " (the database is corrupt)";
    return node_err(st, TKMS_CLASS_STORAGE, "store %s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db), hint);
}

static int exec(node_store *s, const char *sql, tkms_status *st) {
    char *em = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &em) != SQLITE_OK) {
        sqlite3_free(em);
        return db_err(s, st, sql);
    }
    return 1;
}

/* Key-material transactions: FULL sync (fsync the WAL on every commit), IMMEDIATE to take the
 * write lock up front. Non-key writes run with NORMAL (no corruption, may lose the last commits
 * on power loss, which for audit and replay rows is acceptable). */
static int begin(node_store *s, int full, tkms_status *st) {
    if (!exec(s, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", st)) return 0;
    return exec(s, "BEGIN IMMEDIATE", st);
}

static int commit(node_store *s, tkms_status *st) {
    if (exec(s, "COMMIT", st)) return 1;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return 0;
}

static void rollback(node_store *s) { sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); }

static sqlite3_stmt *prep(node_store *s, const char *sql, tkms_status *st) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        db_err(s, st, "prepare");
        return NULL;
    }
    return q;
}

static int step_done(node_store *s, sqlite3_stmt *q, tkms_status *st) {
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_err(s, st, "write");
    return 1;
}

/* PRAGMA quick_check: "ok", or the first problem found. An empty new file passes. */
static int quick_check(node_store *s, tkms_status *st) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return db_err(s, st, "integrity check");
    }
    int rc = sqlite3_step(q), ok = 1;
    if (rc != SQLITE_ROW) {
        ok = db_err(s, st, "integrity check");
    } else {
        const char *r = (const char *)sqlite3_column_text(q, 0);
        if (!r || strcmp(r, "ok") != 0)
            ok = node_err(st, TKMS_CLASS_STORAGE,
                          "store %s fails its integrity check (%s): refusing to start; restore it from a backup "
                          "(docs/operator.md, \"Backups\")",
                          s->path, r ? r : "?");
    }
    sqlite3_finalize(q);
    return ok;
}

int node_store_open(node_store **out, const char *path, tkms_status *st) {
    *out = NULL;
    node_store *s = calloc(1, sizeof *s);
    if (!s) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    s->path = strdup(path);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    int ok = 1;
    if (rc != SQLITE_OK) {
        ok = s->db ? db_err(s, st, "open") : node_err(st, TKMS_CLASS_STORAGE, "cannot open store %s", path);
    }
    if (ok) sqlite3_busy_timeout(s->db, 5000);
    /* a damaged store must not start a node: it could serve or sign from half-written state */
    if (ok) ok = quick_check(s, st);
    if (ok) (void)chmod(path, 0600); /* the WAL and shm files inherit this mode */
    /* journal_mode=WAL needs a writable directory; a read-only disk fails right here. */
    ok = ok && exec(s, "PRAGMA journal_mode=WAL", st) && exec(s, "PRAGMA secure_delete=ON", st) &&
         exec(s, "PRAGMA foreign_keys=ON", st) && exec(s, "PRAGMA synchronous=FULL", st);
    ok = ok && begin(s, 1, st);
    if (ok) {
        if (!exec(s, SCHEMA, st) || !exec(s, "PRAGMA user_version=1", st)) {
            rollback(s);
            ok = 0;
        } else {
            ok = commit(s, st) || db_err(s, st, "schema");
        }
    }
    if (ok && sqlite3_db_readonly(s->db, "main") == 1) ok = node_err(st, TKMS_CLASS_STORAGE, "store %s is read-only", path);
    if (!ok) {
        /* name the environmental cause when there is one */
        char *dc = strdup(path);
        struct statvfs vf;
        if (dc && statvfs(dirname(dc), &vf) == 0 && st) {
            const char *why = (vf.f_flag & ST_RDONLY) ? "the file system is read-only"
                              : vf.f_bavail == 0      ? "the disk is full"
                                                      : NULL;
            if (why) {
                size_t l = strlen(st->msg);
                snprintf(st->msg + l, sizeof st->msg - l, " -- %s", why);
            }
        }
        free(dc);
        node_store_close(s);
        return 0;
    }
    *out = s;
    return 1;
}

void node_store_close(node_store *s) {
    if (!s) return;
    if (s->db) sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s->audit_archive);
    free(s);
}

int node_store_put_identity(node_store *s, const node_secrets *sec, const char *address, tkms_status *st) {
    uint8_t pt[64], ct[64 + NODE_SEAL_OVERHEAD];
    char aad[128], pkh[65];
    tkms_hex(pkh, sec->ed_pk, 32);
    snprintf(aad, sizeof aad, TKMS_AAD_IDENTITY_FMT, pkh);
    memcpy(pt, sec->ed_sk, 32);
    memcpy(pt + 32, sec->x_sk, 32);
    int ok = node_seal(ct, sec->storage_key, pt, 64, aad);
    node_wipe(pt, sizeof pt);
    if (!ok) return node_err(st, TKMS_CLASS_INTERNAL, "seal failed");
    pthread_mutex_lock(&s->mu);
    ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT INTO node_keys(id, ed25519_pk, x25519_pk, address, sealed, created_ms) "
                                  "VALUES (1, ?, ?, ?, ?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, sec->ed_pk, 32, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 2, sec->x_pk, 32, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 3, address, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 4, ct, sizeof ct, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, (sqlite3_int64)node_now_ms());
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_identity(node_store *s, node_secrets *sec, char **address, tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT ed25519_pk, x25519_pk, address, sealed FROM node_keys WHERE id = 1", st);
    int ok = q != NULL;
    if (ok) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) ok = node_err(st, TKMS_CLASS_USAGE, "store %s holds no node identity (run tkms node init)", s->path);
        else if (rc != SQLITE_ROW) ok = db_err(s, st, "read identity");
        if (ok) {
            const void *sealed = sqlite3_column_blob(q, 3);
            int sl = sqlite3_column_bytes(q, 3);
            if (sqlite3_column_bytes(q, 0) != 32 || sqlite3_column_bytes(q, 1) != 32 || sl != 64 + NODE_SEAL_OVERHEAD) {
                ok = node_err(st, TKMS_CLASS_STORAGE, "store %s: malformed identity row", s->path);
            } else {
                memcpy(sec->ed_pk, sqlite3_column_blob(q, 0), 32);
                memcpy(sec->x_pk, sqlite3_column_blob(q, 1), 32);
                if (address) *address = strdup((const char *)sqlite3_column_text(q, 2));
                uint8_t pt[64];
                char aad[128], pkh[65];
                tkms_hex(pkh, sec->ed_pk, 32);
                snprintf(aad, sizeof aad, TKMS_AAD_IDENTITY_FMT, pkh);
                if (!node_open(pt, sec->storage_key, sealed, (size_t)sl, aad)) {
                    ok = node_err(st, TKMS_CLASS_USAGE, "cannot decrypt the node identity: wrong storage key or passphrase");
                } else {
                    memcpy(sec->ed_sk, pt, 32);
                    memcpy(sec->x_sk, pt + 32, 32);
                }
                node_wipe(pt, sizeof pt);
            }
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static int put_group_locked(node_store *s, uint64_t epoch, const char *json, tkms_status *st) {
    uint8_t h[32];
    SHA256((const uint8_t *)json, strlen(json), h);
    sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO groups(epoch, json, sha256, stored_ms) VALUES (?, ?, ?, ?)", st);
    if (!q) return 0;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
    sqlite3_bind_text(q, 2, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 3, h, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)node_now_ms());
    return step_done(s, q, st);
}

int node_store_put_group(node_store *s, uint64_t epoch, const char *json, tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        ok = put_group_locked(s, epoch, json, st);
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_group(node_store *s, uint64_t epoch, char **json, uint64_t *got_epoch, tkms_status *st) {
    *json = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s,
                           epoch == UINT64_MAX ? "SELECT epoch, json FROM groups ORDER BY epoch DESC LIMIT 1"
                                               : "SELECT epoch, json FROM groups WHERE epoch = ?",
                           st);
    int ok = q != NULL;
    if (ok) {
        if (epoch != UINT64_MAX) sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            if (got_epoch) *got_epoch = (uint64_t)sqlite3_column_int64(q, 0);
            *json = strdup((const char *)sqlite3_column_text(q, 1));
        } else if (rc != SQLITE_DONE) {
            ok = db_err(s, st, "read group");
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_commit_epoch(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                            uint32_t index, const uint8_t *share, size_t share_len, tkms_status *st) {
    return node_store_commit_epoch_meta(s, key, epoch, group_json, index, share, share_len, NULL, NULL, st);
}

int node_store_commit_epoch_meta(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                                 uint32_t index, const uint8_t *share, size_t share_len, const char *mk,
                                 const char *mv, tkms_status *st) {
    return node_store_commit_epoch_keep(s, key, epoch, group_json, index, share, share_len, 0, mk, mv, st);
}

int node_store_commit_epoch_keep(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                                 uint32_t index, const uint8_t *share, size_t share_len, int keep_old_share,
                                 const char *mk, const char *mv, tkms_status *st) {
    uint8_t ct[64 + NODE_SEAL_OVERHEAD];
    char aad[96];
    if (share && share_len > 64) return node_err(st, TKMS_CLASS_INTERNAL, "share too long");
    snprintf(aad, sizeof aad, TKMS_AAD_SHARE_FMT, (unsigned long long)epoch, index);
    if (share && !node_seal(ct, key, share, share_len, aad)) return node_err(st, TKMS_CLASS_INTERNAL, "seal failed");
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        ok = put_group_locked(s, epoch, group_json, st);
        if (ok && share) {
            sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO shares(epoch, idx, sealed, stored_ms) VALUES (?, ?, ?, ?)", st);
            ok = q != NULL;
            if (ok) {
                sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
                sqlite3_bind_int64(q, 2, index);
                sqlite3_bind_blob(q, 3, ct, (int)(share_len + NODE_SEAL_OVERHEAD), SQLITE_TRANSIENT);
                sqlite3_bind_int64(q, 4, (sqlite3_int64)node_now_ms());
                ok = step_done(s, q, st);
            }
        }
        /* The new epoch is certified: every older share goes (and, when this node is not in the new
         * committee, its last share too), as do finished sessions. */
        sqlite3_stmt *d = NULL;
        if (ok && !(keep_old_share && !share)) {
            d = prep(s, share ? "DELETE FROM shares WHERE epoch < ?" : "DELETE FROM shares WHERE epoch <= ?", st);
            ok = d != NULL;
            if (ok) {
                sqlite3_bind_int64(d, 1, (sqlite3_int64)epoch);
                ok = step_done(s, d, st);
            }
        }
        d = ok ? prep(s, "DELETE FROM pending_shares WHERE epoch <= ?", st) : NULL;
        ok = d != NULL;
        if (ok) {
            sqlite3_bind_int64(d, 1, (sqlite3_int64)epoch);
            ok = step_done(s, d, st);
        }
        d = ok ? prep(s, "DELETE FROM sessions WHERE epoch <= ?", st) : NULL;
        ok = d != NULL;
        if (ok) {
            sqlite3_bind_int64(d, 1, (sqlite3_int64)epoch);
            ok = step_done(s, d, st);
        }
        if (ok && mk) {
            sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", st);
            ok = q != NULL;
            if (ok) {
                sqlite3_bind_text(q, 1, mk, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, mv, -1, SQLITE_TRANSIENT);
                ok = step_done(s, q, st);
            }
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    /* Push the erasure out of the WAL too (best effort; the pages are sealed anyway). */
    if (ok) sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    node_wipe(ct, sizeof ct);
    return ok;
}

int node_store_get_share(node_store *s, const uint8_t key[32], uint64_t *epoch, uint32_t *index, uint8_t *share,
                         size_t *share_len, int *found, tkms_status *st) {
    *found = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT epoch, idx, sealed FROM shares ORDER BY epoch DESC LIMIT 1", st);
    int ok = q != NULL;
    if (ok) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            uint64_t e = (uint64_t)sqlite3_column_int64(q, 0);
            uint32_t i = (uint32_t)sqlite3_column_int64(q, 1);
            int n = sqlite3_column_bytes(q, 2);
            char aad[96];
            snprintf(aad, sizeof aad, TKMS_AAD_SHARE_FMT, (unsigned long long)e, i);
            if (n < NODE_SEAL_OVERHEAD || n > 64 + NODE_SEAL_OVERHEAD ||
                !node_open(share, key, sqlite3_column_blob(q, 2), (size_t)n, aad)) {
                ok = node_err(st, TKMS_CLASS_STORAGE, "the stored share of epoch %llu does not decrypt", (unsigned long long)e);
            } else {
                *epoch = e;
                *index = i;
                *share_len = (size_t)n - NODE_SEAL_OVERHEAD;
                *found = 1;
            }
        } else if (rc != SQLITE_DONE) {
            ok = db_err(s, st, "read share");
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void pending_aad(char *aad, size_t n, uint64_t epoch, const uint8_t thash[32], uint32_t index) {
    char th[65];
    tkms_hex(th, thash, 32);
    snprintf(aad, n, TKMS_AAD_PENDING_FMT, (unsigned long long)epoch, th, index);
}

int node_store_put_pending_share(node_store *s, const uint8_t key[32], uint64_t epoch, const uint8_t thash[32],
                                 uint32_t index, const uint8_t share[32], tkms_status *st) {
    uint8_t ct[32 + NODE_SEAL_OVERHEAD];
    char aad[160];
    pending_aad(aad, sizeof aad, epoch, thash, index);
    if (!node_seal(ct, key, share, 32, aad)) return node_err(st, TKMS_CLASS_INTERNAL, "seal failed");
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO pending_shares(epoch, thash, idx, sealed, stored_ms) VALUES (?, ?, ?, ?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
            sqlite3_bind_blob(q, 2, thash, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 3, index);
            sqlite3_bind_blob(q, 4, ct, sizeof ct, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, (sqlite3_int64)node_now_ms());
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    node_wipe(ct, sizeof ct);
    return ok;
}

int node_store_get_pending_share(node_store *s, const uint8_t key[32], uint64_t epoch, const uint8_t thash[32],
                                 uint32_t *index, uint8_t share[32], int *found, tkms_status *st) {
    *found = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT idx, sealed FROM pending_shares WHERE epoch = ? AND thash = ?", st);
    int ok = q != NULL;
    if (ok) {
        sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
        sqlite3_bind_blob(q, 2, thash, 32, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            uint32_t i = (uint32_t)sqlite3_column_int64(q, 0);
            char aad[160];
            pending_aad(aad, sizeof aad, epoch, thash, i);
            if (sqlite3_column_bytes(q, 1) != 32 + NODE_SEAL_OVERHEAD ||
                !node_open(share, key, sqlite3_column_blob(q, 1), 32 + NODE_SEAL_OVERHEAD, aad)) {
                ok = node_err(st, TKMS_CLASS_STORAGE, "a pending share does not decrypt");
            } else {
                *index = i;
                *found = 1;
            }
        } else if (rc != SQLITE_DONE) {
            ok = db_err(s, st, "read pending share");
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_put_session(node_store *s, const uint8_t key[32], const uint8_t sid[32], uint64_t epoch, const char *kind,
                           const uint8_t *state, size_t len, const node_pending_share *pending, tkms_status *st) {
    uint8_t *ct = malloc(len + NODE_SEAL_OVERHEAD);
    if (!ct) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    char aad[128], sh[65];
    tkms_hex(sh, sid, 32);
    snprintf(aad, sizeof aad, TKMS_AAD_SESSION_FMT, sh);
    if (!node_seal(ct, key, state, len, aad)) {
        free(ct);
        return node_err(st, TKMS_CLASS_INTERNAL, "seal failed");
    }
    uint8_t pct[32 + NODE_SEAL_OVERHEAD];
    if (pending) {
        char paad[160];
        pending_aad(paad, sizeof paad, pending->epoch, pending->thash, pending->index);
        if (!node_seal(pct, key, pending->share, 32, paad)) {
            free(ct);
            return node_err(st, TKMS_CLASS_INTERNAL, "seal failed");
        }
    }
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok && pending) {
        sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO pending_shares(epoch, thash, idx, sealed, stored_ms) VALUES (?, ?, ?, ?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_int64(q, 1, (sqlite3_int64)pending->epoch);
            sqlite3_bind_blob(q, 2, pending->thash, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 3, pending->index);
            sqlite3_bind_blob(q, 4, pct, sizeof pct, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, (sqlite3_int64)node_now_ms());
            ok = step_done(s, q, st);
        }
        if (!ok) rollback(s);
    }
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO sessions(sid, epoch, kind, sealed, updated_ms) VALUES (?, ?, ?, ?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, sid, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, (sqlite3_int64)epoch);
            sqlite3_bind_text(q, 3, kind, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 4, ct, (int)(len + NODE_SEAL_OVERHEAD), SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, (sqlite3_int64)node_now_ms());
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    node_wipe(ct, len + NODE_SEAL_OVERHEAD);
    node_wipe(pct, sizeof pct);
    free(ct);
    return ok;
}

int node_store_get_session(node_store *s, const uint8_t key[32], uint8_t sid[32], uint64_t *epoch, char kind[16],
                           uint8_t **state, size_t *len, tkms_status *st) {
    *state = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT sid, epoch, kind, sealed FROM sessions ORDER BY updated_ms DESC LIMIT 1", st);
    int ok = q != NULL;
    if (ok) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
            memcpy(sid, sqlite3_column_blob(q, 0), 32);
            *epoch = (uint64_t)sqlite3_column_int64(q, 1);
            snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(q, 2));
            int n = sqlite3_column_bytes(q, 3);
            char aad[128], sh[65];
            tkms_hex(sh, sid, 32);
            snprintf(aad, sizeof aad, TKMS_AAD_SESSION_FMT, sh);
            uint8_t *pt = n >= NODE_SEAL_OVERHEAD ? malloc((size_t)n) : NULL;
            if (!pt || !node_open(pt, key, sqlite3_column_blob(q, 3), (size_t)n, aad)) {
                free(pt);
                ok = node_err(st, TKMS_CLASS_STORAGE, "a session checkpoint does not decrypt");
            } else {
                *state = pt;
                *len = (size_t)n - NODE_SEAL_OVERHEAD;
            }
        } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
            ok = db_err(s, st, "read session");
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_session_by_sid(node_store *s, const uint8_t key[32], const uint8_t sid[32], uint8_t **state,
                                  size_t *len, tkms_status *st) {
    *state = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT sealed FROM sessions WHERE sid = ?", st);
    int ok = q != NULL;
    if (ok) {
        sqlite3_bind_blob(q, 1, sid, 32, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            int n = sqlite3_column_bytes(q, 0);
            char aad[128], sh[65];
            tkms_hex(sh, sid, 32);
            snprintf(aad, sizeof aad, TKMS_AAD_SESSION_FMT, sh);
            uint8_t *pt = n >= NODE_SEAL_OVERHEAD ? malloc((size_t)n) : NULL;
            if (!pt || !node_open(pt, key, sqlite3_column_blob(q, 0), (size_t)n, aad)) {
                free(pt);
                ok = node_err(st, TKMS_CLASS_STORAGE, "a session checkpoint does not decrypt");
            } else {
                *state = pt;
                *len = (size_t)n - NODE_SEAL_OVERHEAD;
            }
        } else if (rc != SQLITE_DONE) {
            ok = db_err(s, st, "read session");
        }
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_drop_session(node_store *s, const uint8_t sid[32], tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "DELETE FROM sessions WHERE sid = ?", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, sid, 32, SQLITE_TRANSIENT);
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_set_meta(node_store *s, const char *k, const char *v, tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_text(q, 1, k, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 2, v, -1, SQLITE_TRANSIENT);
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_meta(node_store *s, const char *k, char **v, tkms_status *st) {
    *v = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT v FROM meta WHERE k = ?", st);
    int ok = q != NULL;
    if (ok) {
        sqlite3_bind_text(q, 1, k, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) *v = strdup((const char *)sqlite3_column_text(q, 0));
        else if (rc != SQLITE_DONE) ok = db_err(s, st, "read meta");
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_put_proposal(node_store *s, const uint8_t id[32], uint64_t epoch, const char *json, tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT OR REPLACE INTO proposals(id, epoch, json, stored_ms) VALUES (?, ?, ?, ?)", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, id, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, (sqlite3_int64)epoch);
            sqlite3_bind_text(q, 3, json, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 4, (sqlite3_int64)node_now_ms());
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_proposal(node_store *s, uint64_t epoch, char **json, tkms_status *st) {
    *json = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT json FROM proposals WHERE epoch = ? ORDER BY stored_ms DESC LIMIT 1", st);
    int ok = q != NULL;
    if (ok) {
        sqlite3_bind_int64(q, 1, (sqlite3_int64)epoch);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) *json = strdup((const char *)sqlite3_column_text(q, 0));
        else if (rc != SQLITE_DONE) ok = db_err(s, st, "read proposal");
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

#define AUDIT_PRUNE_CHUNK 10000    /* rows per prune (and archive file) at most */
#define AUDIT_RETRY_MS 60000       /* after a failed prune or archive */

static void audit_note(node_store *s, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void audit_note(node_store *s, const char *event, const char *fmt, ...) {
    if (!s->audit_note) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->audit_note(s->audit_note_arg, event, msg);
}

/* Appends rows first..last (ids) to a new archive file; 1 when it is durable. */
static int audit_archive(node_store *s, int64_t first, int64_t last) {
    sqlite3_stmt *q = prep(s, "SELECT id, ts_ms, kind, subject, decision, detail FROM audit WHERE id >= ? AND id <= ? ORDER BY id",
                           NULL);
    if (!q) return 0;
    sqlite3_bind_int64(q, 1, first);
    sqlite3_bind_int64(q, 2, last);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int rc = SQLITE_DONE, ok = buf != NULL;
    int64_t lo = 0, hi = 0;
    while (ok && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *o = json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:s?}", "id", (json_int_t)sqlite3_column_int64(q, 0), "ts_ms",
                              (json_int_t)sqlite3_column_int64(q, 1), "kind", (const char *)sqlite3_column_text(q, 2),
                              "subject", (const char *)sqlite3_column_text(q, 3), "decision",
                              (const char *)sqlite3_column_text(q, 4), "detail", (const char *)sqlite3_column_text(q, 5));
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        size_t l = line ? strlen(line) : 0;
        if (line && n + l + 1 > cap) {
            size_t nc = 2 * (n + l + 1);
            char *nb = realloc(buf, nc);
            if (nb) buf = nb, cap = nc;
            else ok = 0;
        }
        if (!line || !ok) {
            free(line);
            ok = 0;
            break;
        }
        memcpy(buf + n, line, l);
        buf[n + l] = '\n';
        n += l + 1;
        free(line);
        if (!lo) lo = sqlite3_column_int64(q, 0);
        hi = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    /* a read error part-way must not archive (and then delete) a partial range */
    int read_err = ok && rc != SQLITE_DONE;
    if (read_err) ok = 0;
    if (!ok || !lo) {
        free(buf);
        if (!ok)
            audit_note(s, "audit_archive_failed",
                       read_err ? "cannot read the audit rows to archive" : "out of memory while archiving audit rows");
        return ok; /* nothing to archive is not an error */
    }
    char name[96];
    snprintf(name, sizeof name, "audit-%020lld-%020lld.jsonl", (long long)lo, (long long)hi);
    char *path = node_path_join(s->audit_archive, name);
    tkms_status st = {0};
    (void)mkdir(s->audit_archive, 0700); /* EEXIST is fine; any other problem shows in the write */
    ok = path && node_write_file_atomic(path, buf, n, 0600, &st);
    if (!ok) audit_note(s, "audit_archive_failed", "%s (audit rows %lld..%lld stay in the table)", st.msg, (long long)lo, (long long)hi);
    free(path);
    free(buf);
    return ok;
}

/* Keeps at most audit_max_rows rows: once the table is over, the oldest go until 1% (at most
 * AUDIT_PRUNE_CHUNK) is free again, so prunes (and archive files) come in batches. Ids are
 * AUTOINCREMENT and only the oldest are ever removed: the ids in (hi - k, hi] are the newest k rows.
 * Two indexed lookups per insert. Called with mu held, outside any transaction. */
static void audit_prune(node_store *s) {
    uint64_t now = node_mono_ms();
    if (now < s->audit_retry_ms) return;
    sqlite3_stmt *q = prep(s, "SELECT min(id), max(id) FROM audit", NULL);
    if (!q) return;
    int64_t lo = 0, hi = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        lo = sqlite3_column_int64(q, 0);
        hi = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    if (!lo || hi - lo + 1 <= s->audit_max_rows) return;
    int64_t slack = s->audit_max_rows / 100;
    if (slack < 1) slack = 1;
    if (slack > AUDIT_PRUNE_CHUNK) slack = AUDIT_PRUNE_CHUNK;
    int64_t cut = hi - (s->audit_max_rows - slack);
    if (cut - lo + 1 > AUDIT_PRUNE_CHUNK) cut = lo + AUDIT_PRUNE_CHUNK - 1;
    if (s->audit_archive && !audit_archive(s, lo, cut)) {
        s->audit_retry_ms = now + AUDIT_RETRY_MS;
        return;
    }
    int ok = begin(s, 0, NULL);
    if (ok) {
        q = prep(s, "DELETE FROM audit WHERE id <= ?", NULL);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_int64(q, 1, cut);
            ok = step_done(s, q, NULL);
        }
        ok = ok ? commit(s, NULL) : (rollback(s), 0);
    }
    if (ok)
        audit_note(s, "audit_pruned", "audit rows %lld..%lld %s (audit_max_rows %ld)", (long long)lo, (long long)cut,
                   s->audit_archive ? "archived and removed from the table" : "deleted", s->audit_max_rows);
    else {
        audit_note(s, "audit_prune_failed", "cannot delete audit rows %lld..%lld: %s", (long long)lo, (long long)cut,
                   sqlite3_errmsg(s->db));
        s->audit_retry_ms = now + AUDIT_RETRY_MS;
    }
}

void node_store_audit_retention(node_store *s, long max_rows, const char *archive_dir, node_audit_note_fn note, void *arg) {
    pthread_mutex_lock(&s->mu);
    s->audit_max_rows = max_rows;
    free(s->audit_archive);
    s->audit_archive = archive_dir ? strdup(archive_dir) : NULL;
    s->audit_note = note;
    s->audit_note_arg = arg;
    s->audit_retry_ms = 0;
    pthread_mutex_unlock(&s->mu);
}

int node_store_audit(node_store *s, const char *kind, const char *subject, const char *decision, const char *detail) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 0, NULL);
    if (ok) {
        sqlite3_stmt *q = prep(s, "INSERT INTO audit(ts_ms, kind, subject, decision, detail) VALUES (?, ?, ?, ?, ?)", NULL);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_int64(q, 1, (sqlite3_int64)node_now_ms());
            sqlite3_bind_text(q, 2, kind, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 3, subject, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 4, decision, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 5, detail, -1, SQLITE_TRANSIENT);
            ok = step_done(s, q, NULL);
        }
        ok = ok ? commit(s, NULL) : (rollback(s), 0);
    }
    /* retention: after the record is committed, never in its way */
    if (ok && s->audit_max_rows > 0) audit_prune(s);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_replay_check(node_store *s, const uint8_t digest[32], uint64_t ts_ms) {
    pthread_mutex_lock(&s->mu);
    int res = -1;
    if (begin(s, 0, NULL)) {
        sqlite3_stmt *q = prep(s, "INSERT OR IGNORE INTO replay(digest, ts_ms) VALUES (?, ?)", NULL);
        if (q) {
            sqlite3_bind_blob(q, 1, digest, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, (sqlite3_int64)ts_ms);
            if (sqlite3_step(q) == SQLITE_DONE) res = sqlite3_changes(s->db) == 1;
            sqlite3_finalize(q);
        }
        /* prune entries that the timestamp window already rejects (older than one hour) */
        if (res == 1 && (digest[0] & 63) == 0) {
            q = prep(s, "DELETE FROM replay WHERE ts_ms < ?", NULL);
            if (q) {
                sqlite3_bind_int64(q, 1, (sqlite3_int64)(node_now_ms() - 3600000));
                sqlite3_step(q);
                sqlite3_finalize(q);
            }
        }
        if (res < 0 || !commit(s, NULL)) {
            rollback(s);
            res = -1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return res;
}

int node_store_backup(node_store *s, const char *path, tkms_status *st) {
    /* 0600 from the start: the copy holds sealed shares and the sealed identity */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return node_err(st, errno == EEXIST ? TKMS_CLASS_USAGE : TKMS_CLASS_STORAGE, "cannot create %s: %s", path, strerror(errno));
    close(fd);
    sqlite3 *out = NULL;
    int ok = sqlite3_open_v2(path, &out, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK;
    if (!ok) {
        node_err(st, TKMS_CLASS_STORAGE, "cannot open %s: %s", path, out ? sqlite3_errmsg(out) : "out of memory");
    } else {
        pthread_mutex_lock(&s->mu);
        sqlite3_backup *b = sqlite3_backup_init(out, "main", s->db, "main");
        int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
        if (b) sqlite3_backup_finish(b);
        pthread_mutex_unlock(&s->mu);
        if (rc != SQLITE_DONE) {
            int pc = sqlite3_errcode(out) & 0xff;
            ok = node_err(st, TKMS_CLASS_STORAGE, "backup to %s failed: %s%s", path, sqlite3_errmsg(out),
                          pc == SQLITE_FULL ? " (the disk is full)" : "");
        }
    }
    /* a self-contained file: no WAL left beside it */
    if (ok && sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        ok = node_err(st, TKMS_CLASS_STORAGE, "backup %s: %s", path, sqlite3_errmsg(out));
    if (out) sqlite3_close_v2(out);
    if (!ok) unlink(path);
    return ok;
}

/* Approvals are authorisations, not key material: NORMAL sync (a power loss may forget the last
 * approval, which only means the operator approves again; it can never create one). */
int node_store_put_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, uint64_t expires_ms,
                            const char *by, tkms_status *st) {
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 0, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "DELETE FROM sign_approvals WHERE expires_ms <= ?", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_int64(q, 1, (sqlite3_int64)now_ms);
            ok = step_done(s, q, st);
        }
        q = ok ? prep(s, "INSERT OR REPLACE INTO sign_approvals(msg_hash, approved_ms, expires_ms, by) VALUES (?, ?, ?, ?)", st)
               : NULL;
        ok = ok && q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, msg_hash, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, (sqlite3_int64)now_ms);
            sqlite3_bind_int64(q, 3, (sqlite3_int64)expires_ms);
            sqlite3_bind_text(q, 4, by, -1, SQLITE_TRANSIENT);
            ok = step_done(s, q, st);
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_get_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, uint64_t *expires_ms,
                            tkms_status *st) {
    *expires_ms = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = prep(s, "SELECT expires_ms FROM sign_approvals WHERE msg_hash = ? AND expires_ms > ?", st);
    int ok = q != NULL;
    if (ok) {
        sqlite3_bind_blob(q, 1, msg_hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)now_ms);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) *expires_ms = (uint64_t)sqlite3_column_int64(q, 0);
        else if (rc != SQLITE_DONE) ok = db_err(s, st, "read approval");
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int node_store_revoke_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, int *found, tkms_status *st) {
    *found = 0;
    pthread_mutex_lock(&s->mu);
    int ok = begin(s, 1, st);
    if (ok) {
        sqlite3_stmt *q = prep(s, "DELETE FROM sign_approvals WHERE msg_hash = ? AND expires_ms > ?", st);
        ok = q != NULL;
        if (ok) {
            sqlite3_bind_blob(q, 1, msg_hash, 32, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, (sqlite3_int64)now_ms);
            int rc = sqlite3_step(q);
            *found = rc == SQLITE_DONE && sqlite3_changes(s->db) > 0;
            sqlite3_finalize(q);
            if (rc != SQLITE_DONE) ok = db_err(s, st, "revoke approval");
        }
        if (ok) { /* an expired row goes too */
            q = prep(s, "DELETE FROM sign_approvals WHERE msg_hash = ?", st);
            ok = q != NULL;
            if (ok) {
                sqlite3_bind_blob(q, 1, msg_hash, 32, SQLITE_TRANSIENT);
                ok = step_done(s, q, st);
            }
        }
        ok = ok ? commit(s, st) : (rollback(s), 0);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}
