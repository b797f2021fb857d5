/* Operator node library shared by tkmsd and the tkms CLI: node configuration, identity keys,
 * storage-key encryption at rest, the SQLite store and the signed peer/operator envelope. */
#ifndef TKMS_NODE_H
#define TKMS_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "g2.h"
#include "tkms/common.h"
#include "group.h"
#include "prim.h"

#define NODE_WUR __attribute__((warn_unused_result))

/* ---- status: the service tier's tkms_status (include/tkms/common.h) ---- */
/* Sets st (if non-NULL: class, code 0, message) and returns 0, so callers can write
 * `return node_err(st, ...)`. */
int node_err(tkms_status *st, tkms_class cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- small utilities ---- */
/* Exactly len bytes of hex (no 0x; tkms_unhex, prim.h). Returns 1 or 0. */
int node_unhex(uint8_t *out, size_t len, const char *hex);
/* Variable-length hex into a malloc'd buffer; NULL on bad hex. */
uint8_t *node_unhex_alloc(const char *hex, size_t *len);
/* Strict decimal u64: one or more ASCII digits, no sign, no spaces, no leading zero (except "0"),
 * at most UINT64_MAX. Returns 1 and sets *out, or 0 (out untouched). Used for every number that
 * arrives over the wire (query parameters, X-Tkms-Time) so that "-1", "+1", " 1", "01" or
 * "18446744073709551616" cannot alias another value. */
int node_parse_u64(const char *s, uint64_t *out);
void node_wipe(void *p, size_t n);
int node_random(uint8_t *out, size_t n); /* 1 or 0 */
uint64_t node_now_ms(void);             /* wall clock */
uint64_t node_mono_ms(void);            /* monotonic */
/* Reads a whole file (max bytes); NULL with st set on error. */
char *node_read_file(const char *path, size_t *len, size_t max, tkms_status *st);
/* Writes data to path atomically (temp file in the same directory, fsync, rename, fsync dir),
 * with the given mode. Returns 1, or 0 with st set. */
int node_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, tkms_status *st);
/* path joined to dir unless absolute; malloc'd. */
char *node_path_join(const char *dir, const char *path);
/* Locked, non-dumpable memory for long-lived secrets (falls back to plain pages if mlock fails). */
void *node_secure_alloc(size_t n);
void node_secure_free(void *p, size_t n);

/* ---- configuration ---- */
typedef struct {
    char *path;            /* the config file itself */
    char *dir;             /* node directory (default: the config file's directory) */
    char *listen;          /* host:port to bind; default 127.0.0.1:7000 */
    char *address;         /* public URL peers and clients use */
    char *db;              /* SQLite file (relative to dir); default tkms.db */
    char *storage_key_file; /* hex key file, 0600; default storage.key (NULL in passphrase mode) */
    char *passphrase_file; /* passphrase mode: file with the passphrase (or env TKMS_PASSPHRASE) */
    char *genesis;         /* genesis file (relative to dir) or NULL */
    char *join_group;      /* certified group file to join from (new operators) or NULL */
    char *admin_token_file; /* file holding the admin token (hex); NULL disables token auth */
    long max_body_bytes;   /* default 1 MiB */
    long request_timeout_s; /* total deadline to receive a request (head + body) and to send its answer; default 10 */
    long header_timeout_ms; /* total deadline to receive a request head (from accept or the previous answer); 5000 */
    long max_header_bytes; /* request line + header fields; default 8192 */
    long max_connections;  /* open HTTP connections; default 1024 */
    long max_connections_per_source; /* per client IPv4 address (committee members exempt); default 32 */
    long peer_reserved_connections; /* of max_connections, kept for committee members; default 64 */
    long peer_timeout_ms;  /* per peer request; default 5000 */
    long threads;          /* HTTP worker threads; default 4 */
    long phase_timeout_ms; /* protocol phase deadline; default 5000 */
    long sync_interval_ms; /* anti-entropy with peers; default 2000 */
    long clock_skew_s;     /* accepted envelope timestamp skew; default 120 */
    long repair_delay_s;   /* repair slot grid for members without a share; default 60 */
    long drain_timeout_s;  /* SIGTERM drain; default 10 */
    char *log_level;       /* debug | info | warn | error; default info */
    /* key release (docs/operator.md, "Key release") */
    long app_sync_interval_ms; /* app registry anti-entropy with peers; default 5000 */
    char *gcp_jwks_file;   /* gcp-cs JWKS file (relative to dir), read at start and on SIGHUP; or NULL */
    char *gcp_jwks_url;    /* gcp-cs JWKS URL refreshed with libcurl; or NULL */
    long gcp_jwks_refresh_s; /* refresh period of gcp_jwks_url; default 3600 */
    long release_source_rate, release_source_burst; /* per-source bucket (req/s, burst); default 20, 40 */
    long release_app_rate, release_app_burst;       /* per-app bucket; default 50, 100 */
    long registry_max_apps;           /* apps in the registry; default 100000 */
    long registry_max_apps_per_owner; /* apps of one owner accepted by POST /v1/apps; default 1000 */
    /* audit log retention (docs/security.md, "Audit log") */
    long audit_max_rows;     /* rows kept in the audit table; default 1000000 */
    char *audit_archive_dir; /* rows leave the table only into JSON-lines files here; NULL: deleted */
    /* passphrase mode parameters (Argon2id) */
    uint8_t kdf_salt[16];
    int kdf_passphrase;
    long kdf_t_cost, kdf_m_cost_kib, kdf_parallelism;
} node_config;

/* Loads and validates a config file; unknown keys are an error (typos must not silently fall
 * back to defaults). Returns 1 or 0 with st set. */
NODE_WUR int node_config_load(node_config *cfg, const char *path, tkms_status *st);
void node_config_free(node_config *cfg);
/* The config as JSON with every default filled in (for `node init` and docs). */
json_t *node_config_to_json(const node_config *cfg);
void node_config_defaults(node_config *cfg);

/* ---- identity and the storage key ---- */
typedef struct {
    uint8_t ed_sk[32], ed_pk[32]; /* Ed25519 */
    uint8_t x_sk[32], x_pk[32];   /* X25519 */
    uint8_t storage_key[32];      /* AEAD key for everything secret in the store */
} node_secrets;

int node_ed25519_keygen(uint8_t sk[32], uint8_t pk[32]);
int node_x25519_keygen(uint8_t sk[32], uint8_t pk[32]);

/* ChaCha20-Poly1305 with a random nonce: out = nonce(12) || ct || tag(16); out_len = len + 28.
 * aad names what the blob is (binds it to its row). Returns 1 or 0. */
#define NODE_SEAL_OVERHEAD 28
NODE_WUR int node_seal(uint8_t *out, const uint8_t key[32], const uint8_t *pt, size_t len, const char *aad);
NODE_WUR int node_open(uint8_t *out, const uint8_t key[32], const uint8_t *ct, size_t len, const char *aad);

/* Obtains the storage key as the config says: reads the 0600 key file (refusing group/world-
 * readable files), or derives it from the passphrase with Argon2id. */
NODE_WUR int node_storage_key(uint8_t key[32], const node_config *cfg, tkms_status *st);

/* ---- store (SQLite) ---- */
typedef struct node_store node_store;

/* Opens (creating if needed) the store: WAL, foreign keys, secure_delete, busy timeout, schema
 * migration. Read-only or full disks are reported as TKMS_CLASS_STORAGE with a clear message. */
NODE_WUR int node_store_open(node_store **out, const char *path, tkms_status *st);
void node_store_close(node_store *s);
/* Online backup (SQLite backup API, consistent while the daemon writes) of the store to path,
 * created 0600 (an existing file is refused). Secrets stay sealed under the storage key. */
NODE_WUR int node_store_backup(node_store *s, const char *path, tkms_status *st);

/* Key material (all in FULL-synchronous transactions). */
NODE_WUR int node_store_put_identity(node_store *s, const node_secrets *sec, const char *address, tkms_status *st);
/* Decrypts the identity with sec->storage_key (which the caller filled). */
NODE_WUR int node_store_get_identity(node_store *s, node_secrets *sec, char **address, tkms_status *st);

/* Certified group files (public). */
NODE_WUR int node_store_put_group(node_store *s, uint64_t epoch, const char *json, tkms_status *st);
/* Latest (epoch = UINT64_MAX) or a given epoch; *json malloc'd, NULL if none. */
NODE_WUR int node_store_get_group(node_store *s, uint64_t epoch, char **json, uint64_t *got_epoch, tkms_status *st);

/* Atomically: stores group(epoch), the sealed share for it (if share != NULL), marks it current,
 * and erases every older share and every session checkpoint of epoch <= epoch. */
NODE_WUR int node_store_commit_epoch(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                                     uint32_t index, const uint8_t *share, size_t share_len, tkms_status *st);
/* Same, also setting meta[mk] = mv in the same transaction (mk may be NULL). */
NODE_WUR int node_store_commit_epoch_meta(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                                          uint32_t index, const uint8_t *share, size_t share_len, const char *mk,
                                          const char *mv, tkms_status *st);
/* Same; with keep_old_share and share == NULL the older shares stay (a member of the new group
 * that holds no share of it keeps its old share: docs/dkg.md rule 8). */
NODE_WUR int node_store_commit_epoch_keep(node_store *s, const uint8_t key[32], uint64_t epoch, const char *group_json,
                                          uint32_t index, const uint8_t *share, size_t share_len, int keep_old_share,
                                          const char *mk, const char *mv, tkms_status *st);
/* The current share: *found = 0 if none. share must hold 64 bytes. */
NODE_WUR int node_store_get_share(node_store *s, const uint8_t key[32], uint64_t *epoch, uint32_t *index,
                                  uint8_t *share, size_t *share_len, int *found, tkms_status *st);

/* A new share computed by a session that did not see its certification in time (the engine
 * signed the transcript, then its certification deadline passed). Kept sealed, keyed by epoch and
 * transcript hash, so that adopting that epoch's certified group later (catch-up) keeps the share
 * instead of erasing it. commit_epoch deletes pending shares of epochs <= the committed one. */
NODE_WUR int node_store_put_pending_share(node_store *s, const uint8_t key[32], uint64_t epoch, const uint8_t thash[32],
                                          uint32_t index, const uint8_t share[32], tkms_status *st);
/* *found = 0 if none for (epoch, thash). */
NODE_WUR int node_store_get_pending_share(node_store *s, const uint8_t key[32], uint64_t epoch, const uint8_t thash[32],
                                          uint32_t *index, uint8_t share[32], int *found, tkms_status *st);

/* The new share a session computed, written with its checkpoint (below). */
typedef struct {
    uint64_t epoch;
    uint8_t thash[32];
    uint32_t index;
    uint8_t share[32]; /* secret */
} node_pending_share;

/* Session checkpoints (sealed; the engine's serialised state). With pending != NULL the session's
 * new share is stored as a pending share in the same FULL-synchronous transaction: a node signs
 * its certification only after this returned 1, so a share counted in a certificate is on disk
 * (DESIGN.md §3) and catch-up to that certified group finds it. */
NODE_WUR int node_store_put_session(node_store *s, const uint8_t key[32], const uint8_t sid[32], uint64_t epoch,
                                    const char *kind, const uint8_t *state, size_t len,
                                    const node_pending_share *pending, tkms_status *st);
/* Most recent unfinished session: *state malloc'd (NULL if none). */
NODE_WUR int node_store_get_session(node_store *s, const uint8_t key[32], uint8_t sid[32], uint64_t *epoch,
                                    char kind[16], uint8_t **state, size_t *len, tkms_status *st);
/* The checkpoint of session sid (kept after a failed attempt for its retry): *state malloc'd,
 * NULL if none. */
NODE_WUR int node_store_get_session_by_sid(node_store *s, const uint8_t key[32], const uint8_t sid[32],
                                           uint8_t **state, size_t *len, tkms_status *st);
NODE_WUR int node_store_drop_session(node_store *s, const uint8_t sid[32], tkms_status *st);

/* Key/value metadata (public values). */
NODE_WUR int node_store_set_meta(node_store *s, const char *k, const char *v, tkms_status *st);
/* *v malloc'd or NULL. */
NODE_WUR int node_store_get_meta(node_store *s, const char *k, char **v, tkms_status *st);

/* Committee proposals (public, signed). */
NODE_WUR int node_store_put_proposal(node_store *s, const uint8_t id[32], uint64_t epoch, const char *json,
                                     tkms_status *st);
NODE_WUR int node_store_get_proposal(node_store *s, uint64_t epoch, char **json, tkms_status *st);

/* Audit log: never key material. Returns 1 once the row is committed, 0 if it could not be
 * written (full or read-only disk): callers that must not act unrecorded refuse then. */
int node_store_audit(node_store *s, const char *kind, const char *subject, const char *decision, const char *detail);
/* Audit retention: the table never keeps more than max_rows rows; an insert that takes it over
 * removes the oldest 1% (at most 10000) after its own commit. With archive_dir (absolute, or NULL), pruned rows are first appended to a new
 * file there, audit-<first id>-<last id>.jsonl (one JSON object per row, fsynced, renamed into
 * place), and deleted only once that file is durable; tkmsd never deletes archive files. note
 * (may be NULL) is told of each prune ("audit_pruned") and archive failure
 * ("audit_archive_failed"; the rows then stay). Thread-safe. */
typedef void (*node_audit_note_fn)(void *arg, const char *event, const char *msg);
void node_store_audit_retention(node_store *s, long max_rows, const char *archive_dir, node_audit_note_fn note, void *arg);

/* Replay cache for signed envelopes: returns 1 if new (and records it), 0 if seen, -1 on error. */
int node_store_replay_check(node_store *s, const uint8_t digest[32], uint64_t ts_ms);

/* Cluster-signing approvals (docs/security.md, "Cluster signatures"): this node's operator approved
 * the message with SHA-256 msg_hash until expires_ms. put replaces an earlier approval of the same
 * hash (and prunes expired rows); by names the credential (public). get sets *expires_ms to the
 * expiry of an approval still valid at now_ms, or 0 if there is none. revoke deletes it (*found = 1
 * if there was a valid one). */
NODE_WUR int node_store_put_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, uint64_t expires_ms,
                                     const char *by, tkms_status *st);
NODE_WUR int node_store_get_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, uint64_t *expires_ms,
                                     tkms_status *st);
NODE_WUR int node_store_revoke_approval(node_store *s, const uint8_t msg_hash[32], uint64_t now_ms, int *found,
                                        tkms_status *st);

/* ---- signed envelope (peer messages, operator requests, signed responses) ----
 * sig = Ed25519(sk, SHA-512("TKMS-V1-ENVELOPE2" || lp(dest) || lp(method) || lp(path) || be64(ts_ms) ||
 * lp(body))), lp = 4-byte big-endian length. dest names the destination: the receiving node's
 * address exactly as the group file lists it, without trailing '/' (the functions strip them), so a
 * request signed for one node is refused by every other; signed responses use dest = "". Carried in
 * HTTP headers X-Tkms-Key (hex Ed25519 public key), X-Tkms-Time (ms, strict decimal), X-Tkms-Sig. */
int node_envelope_sign(uint8_t sig[64], const uint8_t sk[32], const char *dest, const char *method, const char *path,
                       uint64_t ts_ms, const uint8_t *body, size_t len);
int node_envelope_verify(const uint8_t sig[64], const uint8_t pk[32], const char *dest, const char *method,
                         const char *path, uint64_t ts_ms, const uint8_t *body, size_t len);
/* Digest for the replay cache: SHA-256 over the signature. */
void node_envelope_digest(uint8_t out[32], const uint8_t sig[64]);

/* ---- committee thresholds (docs/security.md, "Committee thresholds") ----
 * t must satisfy t <= n and t >= ceil(2n/3) (DESIGN.md §1); with override set, t >= floor(n/2) + 1
 * suffices (never lower: two sets of t members must always share a member). Returns 1, or 0 with st
 * naming the bound. Used for committee proposals, genesis files and the CLI that writes them. */
#define NODE_T_DEFAULT(n) ((2u * (n) + 2u) / 3u)
#define NODE_T_FLOOR(n) ((n) / 2u + 1u)
int node_threshold_check(uint32_t t, uint32_t n, int override_, tkms_status *st);

/* ---- committee proposals ----
 * {"type": "tkms-committee-proposal-v1", "epoch": E (current epoch; the change takes effect in the
 *  reshare to E+1), "prev_group_id": hex32, "threshold": t_new, ["threshold_override": true,]
 *  "members": [{address, ed25519, x25519}...], "signatures": [{"ed25519": hex, "sig": hex}...]}
 * No other keys. threshold_override (signed like the rest) allows t_new below ceil(2n/3), down to
 * floor(n/2) + 1.
 * Each signature is Ed25519 over "TKMS-V1-COMMITTEE-PROPOSAL" || SHA-256(canonical JSON of the
 * proposal without "signatures") (canonical = compact, keys sorted). */
int node_proposal_message(uint8_t out[58], json_t *proposal);

/* ---- certified group files and the genesis file, as the daemon and CLI need them ---- */
#define MAX_MEMBERS TKMS_DKG_MAX_N

/* A certified group as a node holds it: the DKG's group type (dkg/group.h, parsed strictly: points
 * on the curve and in G2, every field present), the file it came from (stored and served as is)
 * and its group id, computed once. Signatures are checked by gfile_verify / gfile_verify_next. */
typedef struct {
    tkms_group g;
    char *json;     /* the certified file (malloc'd) */
    uint8_t id[32]; /* tkms_group_id: what the next session ID and committee proposals name */
} node_group;

/* Parses a certified group file. Returns 1 or 0 with st set. */
int node_group_parse(node_group *g, const char *json, tkms_status *st);
void node_group_free(node_group *g);
/* The member index (1..n) of the Ed25519 key ed, or 0. */
uint32_t node_group_index(const node_group *g, const uint8_t ed[32]);

/* ---- genesis ---- */
typedef struct {
    uint32_t t, n;
    tkms_dkg_member members[MAX_MEMBERS]; /* member i + 1 */
    uint64_t genesis_time_s;
    uint64_t interval_s;
    int dev_mode; /* "dev_mode": true: an insecure development cluster (copied into its group files) */
    uint8_t hash[32];
} genesis_t;
int genesis_load(genesis_t *g, const char *path, tkms_status *st);

/* Creates a node directory: identity keys sealed in the store, storage key file (or Argon2id salt
 * when passphrase_file is set), admin token file, config.json with defaults. *identity (may be
 * NULL) receives {address, ed25519, x25519}. Refuses to overwrite an existing node. */
NODE_WUR int node_init_dir(const char *dir, const char *address, const char *listen, const char *genesis,
                           const char *passphrase_file, json_t **identity, tkms_status *st);
/* Merges updates into a config file (atomic rewrite, 0600). */
NODE_WUR int node_config_patch(const char *path, json_t *updates, tkms_status *st);

/* Loads a node directory's identity for the CLI (config at dir/config.json). */
NODE_WUR int node_load_identity(node_secrets *sec, char **address, const char *config_path, tkms_status *st);

#endif
