/* tkms key release (docs/release-protocol.md, docs/registry.md): the app registry (app IDs, EIP-191
 * signed release statements in SQLite, anti-entropy) and the HTTP-independent request handlers. */
#ifndef TKMS_RELEASE_H
#define TKMS_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "tkms/attest.h"
#include "tkms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of every call below. The names (tkms_release_code_name) are the stable error codes of
 * docs/release-protocol.md §3; append only. */
typedef enum {
    TKMS_REL_OK = 0,
    TKMS_REL_BAD_REQUEST,             /* 400 malformed JSON, unknown member, bad hex/base64 */
    TKMS_REL_TOO_LARGE,               /* 413 body above the bound */
    TKMS_REL_UNKNOWN_APP,             /* 404 no statement registered for the app */
    TKMS_REL_METHOD_NOT_ALLOWED,      /* 403 method not in the statement's methods */
    TKMS_REL_ATTESTATION_REFUSED,     /* 403 verifier refused; reason carries its name */
    TKMS_REL_BINDING_MISMATCH,        /* 403 evidence binds another B */
    TKMS_REL_APP_NOT_BOUND,           /* 403 evidence does not name the app */
    TKMS_REL_DIGEST_NOT_ALLOWED,      /* 403 image digest not listed */
    TKMS_REL_MEASUREMENT_NOT_ALLOWED, /* 403 MRTD/RTMR/MEASUREMENT not listed */
    TKMS_REL_DEPLOYMENT_NOT_ALLOWED,  /* 403 project/service account/MRCONFIGID/HOST_DATA not listed */
    TKMS_REL_DEV_MODE_ONLY,           /* 403 insecure-dev evidence on a production cluster */
    TKMS_REL_RATE_LIMITED,            /* 429 */
    TKMS_REL_NOT_READY,               /* 503 no certified share loaded */
    TKMS_REL_BAD_STATEMENT,           /* 400 statement malformed or not canonical-able */
    TKMS_REL_BAD_SIGNATURE,           /* 403 owner signature invalid or app ID != H(owner, salt) */
    TKMS_REL_STALE_STATEMENT,         /* 409 seq not higher than the stored one */
    TKMS_REL_OWNER_MISMATCH,          /* 403 stored app has another owner/salt (cannot happen
                                         unless keccak collides; kept as a defensive check) */
    TKMS_REL_STORAGE,                 /* 500 SQLite error */
    TKMS_REL_INTERNAL,                /* 500 OpenSSL/allocation failure */
    TKMS_REL_AUDIT_FAILED,            /* 503 the audit record of a release or signature could not be
                                         written: nothing is released (fail closed) */
    TKMS_REL_REGISTRY_FULL,           /* 507 a new app, and the registry holds registry_max_apps */
    TKMS_REL_OWNER_QUOTA              /* 403 a new app of an owner with registry_max_apps_per_owner */
} tkms_release_code;

/* Errors travel as a tkms_status (include/tkms/common.h): the calls below that can explain a
 * failure take a tkms_status *es (may be NULL) and fill it with the code's class
 * (tkms_release_class), the code in .code and a message (never secret); on success *es is class
 * ok, code 0, empty message. They also return the code. */
tkms_class tkms_release_class(tkms_release_code c);
/* "bad_request", "unknown_app", ...; never NULL. */
const char *tkms_release_code_name(tkms_release_code c);
/* The HTTP status the code maps to (200 for TKMS_REL_OK). */
int tkms_release_code_http(tkms_release_code c);

/* ---- app IDs and owner signatures (EIP-191 personal_sign) ---- */

#define TKMS_APP_ID_LEN 20
#define TKMS_APP_ID_TEXT 43 /* "0x" + 40 hex + NUL */

/* app_id = last20(keccak256("TKMS-V1-APP" || owner(20) || salt(32))). */
void tkms_app_id_derive(uint8_t app_id[TKMS_APP_ID_LEN], const uint8_t owner[20], const uint8_t salt[32]);
/* Parses "0x" + 40 hex (any case). Returns 1 or 0. */
TKMS_WUR int tkms_app_id_parse(uint8_t app_id[TKMS_APP_ID_LEN], const char *s);
/* "0x" + 40 lowercase hex. */
void tkms_app_id_format(char out[TKMS_APP_ID_TEXT], const uint8_t app_id[TKMS_APP_ID_LEN]);

/* Ethereum address (last 20 bytes of keccak256 of the uncompressed public key) of a secp256k1
 * private key. Returns 1, or 0 if sk is not a valid scalar. */
TKMS_WUR int tkms_eth_address_of_key(uint8_t addr[20], const uint8_t sk[32]);
/* keccak256("\x19Ethereum Signed Message:\n" || decimal(len) || msg). */
void tkms_eip191_hash(uint8_t out[32], const uint8_t *msg, size_t len);
/* r || s || v (v = 27 + recovery id), low-s (RFC 6979 nonce). Returns 1 or 0. */
TKMS_WUR int tkms_eip191_sign(uint8_t sig[65], const uint8_t sk[32], const uint8_t *msg, size_t len);
/* Recovers the signer's address. Refuses v outside {27, 28}, r or s out of range and high s
 * (canonical signatures only). Returns 1 or 0. */
TKMS_WUR int tkms_eip191_recover(uint8_t addr[20], const uint8_t sig[65], const uint8_t *msg, size_t len);

/* ---- release statements ---- */

enum {
    TKMS_APP_M_GCP_CS = 1u << 0,
    TKMS_APP_M_TDX = 1u << 1,
    TKMS_APP_M_SEV_SNP = 1u << 2,
    TKMS_APP_M_INSECURE_DEV = 1u << 3
};

/* A parsed, validated statement (docs/release-protocol.md §4). Lists hold at most
 * TKMS_ATTEST_MAX_ALLOW entries; n == 0 means "no constraint of that kind". */
typedef struct {
    uint8_t app_id[TKMS_APP_ID_LEN];
    uint64_t seq;
    uint32_t methods;                           /* TKMS_APP_M_* */
    tkms_attest_strlist image_digests;          /* "sha256:<64 hex>" */
    tkms_attest_allow tdx_mrtd, tdx_rtmr[3];    /* 48 bytes */
    tkms_attest_allow snp_measurement;          /* 48 bytes */
    tkms_attest_strlist gcp_projects, service_accounts;
    tkms_attest_allow tdx_mrconfigid;           /* 48 bytes */
    tkms_attest_allow snp_host_data;            /* 32 bytes */
} tkms_app_statement;

/* A statement with its owner's signature: {"salt", "signature", "statement"}. */
typedef struct {
    tkms_app_statement st;
    char *canonical;        /* canonical JSON of the statement (the signed bytes); malloc'd */
    uint8_t signature[65];
    uint8_t salt[32];
    uint8_t owner[20];      /* recovered from the signature */
} tkms_app_signed;

void tkms_app_signed_free(tkms_app_signed *s);

/* Parses and validates a statement object (JSON text), and returns its canonical form (keys
 * sorted, no whitespace; malloc'd) in *canonical (may be NULL). Unknown members, duplicate keys,
 * duplicate list entries, uppercase hex, seq outside 1..2^53-1 and policies that bind nothing
 * (gcp-cs without image digests or deployments, tdx without MRTD, sev-snp without MEASUREMENT)
 * are refused: TKMS_REL_BAD_STATEMENT with a message in *es. */
TKMS_WUR tkms_release_code tkms_app_statement_parse(tkms_app_statement *st, char **canonical, tkms_status *es, const char *json, size_t len);

/* Parses a signed statement, recovers the owner from the EIP-191 signature over the canonical
 * statement and checks app_id == H(owner, salt). On TKMS_REL_OK the caller frees out with
 * tkms_app_signed_free; on failure nothing needs freeing. Codes: BAD_REQUEST/BAD_STATEMENT/
 * BAD_SIGNATURE. */
TKMS_WUR tkms_release_code tkms_app_signed_parse(tkms_app_signed *out, tkms_status *es, const char *json,
                                                     size_t len);
/* Builds a signed statement from a statement's JSON and the owner key. *out_json (malloc'd)
 * receives the canonical signed form. */
TKMS_WUR tkms_release_code tkms_app_sign_statement(char **out_json, tkms_status *es, const char *stmt_json,
                                                       size_t len, const uint8_t owner_sk[32], const uint8_t salt[32]);
/* Canonical JSON of a signed statement (malloc'd) or NULL on OOM. */
char *tkms_app_signed_json(const tkms_app_signed *s);

/* ---- registry (SQLite; the caller owns the handle and serialises its use across threads) ---- */

/* Creates the apps table if missing: apps(app_id BLOB PRIMARY KEY, owner BLOB, salt BLOB, seq
 * INTEGER, statement TEXT, signature BLOB, updated INTEGER). A legacy empty `apps` table of another
 * shape is replaced. Returns 1, or 0 with *es (class storage) set. */
TKMS_WUR int tkms_registry_init(sqlite3 *db, tkms_status *es);
/* Bounds on the registry's growth (docs/security.md, "App registry limits"); 0 = no bound. They
 * apply to new apps only: an update of a registered app is always possible. */
typedef struct {
    uint64_t max_apps;      /* apps in the registry */
    uint64_t max_per_owner; /* apps of one owner address */
} tkms_registry_limits;

/* Stores s if its seq is higher than the stored one (one IMMEDIATE transaction, or the caller's).
 * The statement must come from tkms_app_signed_parse (so it is authenticated). Codes: OK,
 * STALE_STATEMENT, OWNER_MISMATCH, STORAGE; with limits also REGISTRY_FULL, OWNER_QUOTA. */
TKMS_WUR tkms_release_code tkms_registry_put(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms, tkms_status *es);
TKMS_WUR tkms_release_code tkms_registry_put_limited(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms,
                                                         const tkms_registry_limits *lim, tkms_status *es);
/* Number of registered apps, or -1 on a storage error. */
int64_t tkms_registry_count(sqlite3 *db);
/* Loads and re-authenticates the stored statement of app_id. Codes: OK (free with
 * tkms_app_signed_free), UNKNOWN_APP, STORAGE, BAD_SIGNATURE (corrupted row). */
TKMS_WUR tkms_release_code tkms_registry_get(sqlite3 *db, tkms_app_signed *out, const uint8_t app_id[TKMS_APP_ID_LEN]);
/* Stored seq of app_id: 1 with *seq set, 0 if unknown, -1 on a storage error. */
int tkms_registry_seq(sqlite3 *db, uint64_t *seq, const uint8_t app_id[TKMS_APP_ID_LEN]);

/* Anti-entropy bounds (docs/release-protocol.md §5). */
#define TKMS_SYNC_BUCKETS 256               /* digest buckets: first byte of the app ID */
#define TKMS_SYNC_PAGE 1000                 /* apps in one pull request's summary */
#define TKMS_SYNC_MAX_SUMMARY 4096          /* apps a pull request may list */
#define TKMS_SYNC_BATCH 256                 /* statements in one answer ... */
#define TKMS_SYNC_ANSWER_BYTES (1u << 20)   /* ... and bytes (past the first statement) */
#define TKMS_SYNC_MAX_BATCH 1024            /* statements an imported answer may hold */

/* Whole-registry summary {"apps":{"0x…":seq,…}} (malloc'd): tests and small registries only; the
 * daemon's anti-entropy is paged (tkms_release_sync_*). */
char *tkms_registry_summary(sqlite3 *db);
/* Legacy pull over the whole key space: the statements this node has that a peer with the given
 * summary lacks or holds with a lower seq (those first), at most max of them and 1 MiB:
 * {"more":b,"statements":[signed…]} (malloc'd). NULL on a bad summary or storage error. */
char *tkms_registry_export(sqlite3 *db, const char *peer_summary, size_t len, size_t max);
/* Imports {"statements":[signed…][,"more":b]} (at most 1024): each is authenticated and stored if
 * newer (a statement not newer than the stored one is stale without a signature check). Counts
 * what was stored, stale and refused. Returns OK, BAD_REQUEST (not that shape) or STORAGE. */
TKMS_WUR tkms_release_code tkms_registry_import(sqlite3 *db, size_t *stored, size_t *stale, size_t *refused,
                                                    const char *batch, size_t len, int64_t now_ms);

/* ---- request handlers ---- */

/* One audit record per request (never key material). Strings are never NULL ("" when unknown). */
typedef struct {
    const char *endpoint;  /* "keys/app", "sign/app", "apps" */
    const char *app_id;    /* "0x…" as requested */
    const char *method;    /* attestation method */
    const char *digest;    /* gcp-cs image digest, tdx MRTD, snp MEASUREMENT (hex), dev key */
    const char *source;    /* as passed by the caller */
    const char *decision;  /* "release", "sign", "stored", "refuse" */
    const char *code;      /* tkms_release_code_name */
    const char *reason;    /* verifier reason name, or "" */
    uint64_t seq;          /* statement seq applied (0 if none) */
    int insecure;          /* insecure-dev evidence: log loudly */
    int genuine;           /* the evidence passed the verifier's genuineness checks (signatures,
                              chains, collateral): a refusal after that refused valid evidence */
} tkms_release_audit;

/* Returns 1 if the record was written (or deliberately not kept: the daemon keeps rows only for
 * accepted requests and refusals of genuine evidence, docs/security.md), 0 if it could not be
 * written. A release or app signature whose record fails is not answered: the handler returns
 * TKMS_REL_AUDIT_FAILED (503 audit_unavailable) instead, so no key leaves the node unrecorded. */
typedef int (*tkms_release_audit_fn)(void *arg, const tkms_release_audit *rec);

typedef struct {
    sqlite3 *db;                              /* registry; the handlers lock it with their own mutex */
    uint8_t ed25519_sk[32];                   /* node identity signing key (copied) */
    const tkms_attest_policy *platform_policy; /* NULL: tkms_attest_policy_default (copied) */
    tkms_attest_replay *replay;               /* gcp-cs jti cache; NULL: the context makes one */
    tkms_release_audit_fn audit;              /* may be NULL */
    void *audit_arg;
    /* Token buckets (requests/s and burst); 0 keeps the defaults (docs/registry.md). */
    double app_rate, app_burst, source_rate, source_burst;
    size_t qa_cache;                          /* Q_A LRU entries; 0: 256 */
    /* Registry growth (docs/security.md, "App registry limits"); 0 keeps the defaults. The total
     * applies to POST /v1/apps and to anti-entropy, the per-owner quota to POST /v1/apps. */
    uint64_t max_apps;                        /* default 100000 */
    uint64_t max_apps_per_owner;              /* default 1000 */
} tkms_release_config;

typedef struct tkms_release_ctx tkms_release_ctx;

/* Creates a context (NULL on OOM or bad config). It keeps cfg->db, replay and audit pointers. */
tkms_release_ctx *tkms_release_new(const tkms_release_config *cfg);
/* Wipes the share and the identity key and frees everything the context owns. */
void tkms_release_free(tkms_release_ctx *ctx);
/* Installs the certified epoch: the node's 1-based index, its share (32 bytes big-endian scalar,
 * copied into locked memory; the caller wipes its copy) and the group's dev_mode flag. Until
 * called, the handlers answer not_ready. Returns 1, or 0 if share is not a valid non-zero scalar. */
TKMS_WUR int tkms_release_set_epoch(tkms_release_ctx *ctx, uint64_t epoch, uint32_t index, const uint8_t share[32],
                                        int dev_mode);
/* Apps in the registry (cached; counted after another connection's writes), -1 on a storage
 * error. For the tkms_registry_apps gauge. */
int64_t tkms_release_app_count(tkms_release_ctx *ctx);
/* Drops the share (handlers answer not_ready again). */
void tkms_release_clear_epoch(tkms_release_ctx *ctx);
/* Replaces the gcp-cs JWKS (the daemon refreshes it). Returns 1, or 0 on OOM. */
TKMS_WUR int tkms_release_set_jwks(tkms_release_ctx *ctx, const char *jwks, size_t len);

/* The handlers: req/len is the HTTP body, source identifies the client for rate limiting (e.g.
 * its IP address), now_ms is the wall clock in milliseconds. Always set *resp_json (malloc'd JSON:
 * the 200 body or {"error":{…}}) and *http_status, except on OOM where *resp_json is NULL and
 * the status 500. Returns the code. Thread-safe. */
tkms_release_code tkms_release_handle_key(tkms_release_ctx *ctx, char **resp_json, int *http_status, const char *req,
                                          size_t len, const char *source, int64_t now_ms);
tkms_release_code tkms_release_handle_sign(tkms_release_ctx *ctx, char **resp_json, int *http_status, const char *req,
                                           size_t len, const char *source, int64_t now_ms);
/* POST /v1/apps: body = a signed statement. 200 {"app_id","seq","status":"stored"}. */
tkms_release_code tkms_release_handle_app_update(tkms_release_ctx *ctx, char **resp_json, int *http_status,
                                                 const char *req, size_t len, const char *source, int64_t now_ms);
/* GET /v1/apps/<id> helper: the stored signed statement (200) or unknown_app (404). */
tkms_release_code tkms_release_handle_app_get(tkms_release_ctx *ctx, char **resp_json, int *http_status,
                                              const char *app_id_text);

/* Anti-entropy under the context's DB lock (same as the tkms_registry_* functions). The summary,
 * export and import are the whole-registry forms (tests, small registries); tkmsd uses the paged
 * protocol below. */
char *tkms_release_sync_summary(tkms_release_ctx *ctx);
char *tkms_release_sync_export(tkms_release_ctx *ctx, const char *peer_summary, size_t len, size_t max);
TKMS_WUR tkms_release_code tkms_release_sync_import(tkms_release_ctx *ctx, size_t *stored, size_t *stale,
                                                        size_t *refused, const char *batch, size_t len, int64_t now_ms);

/* Paged anti-entropy (docs/release-protocol.md §5), sans I/O: the caller moves the bytes.
 *
 * Serving side (POST /v1/peer/apps from an authenticated member): the answer (malloc'd JSON) to
 * {"op":"digests"} -> {"digests":[256 × 64 hex]}, or to {"op":"pull","lo","hi","known_only",
 * "apps":{"0x…":seq}} (at most TKMS_SYNC_MAX_SUMMARY apps, all in [lo, hi]) -> {"more":b,
 * "statements":[…]}; a bare {"apps":{…}} is a pull over every app ID. NULL on a malformed request
 * (answer 400) or a storage error. */
char *tkms_release_sync_serve(tkms_release_ctx *ctx, const char *req, size_t len);

/* Asking side: one round with one peer. begin, then loop { body = next(); if (!body) break; POST
 * it; answer(reply) } and end. The round asks for the peer's bucket digests, then pulls, page by
 * page (at most TKMS_SYNC_PAGE of this node's apps each), only the buckets that differ, repeating
 * a page while the peer has more and this node stores some. Imports are authenticated and obey
 * max_apps (a full registry pulls only updates of its own apps). */
typedef struct tkms_release_sync tkms_release_sync;
tkms_release_sync *tkms_release_sync_begin(tkms_release_ctx *ctx); /* NULL on OOM */
/* The next request body (malloc'd), or NULL when the round is over. */
char *tkms_release_sync_next(tkms_release_sync *s);
/* The peer's reply to the last request; body NULL (transport or HTTP failure) ends the round.
 * Returns OK, BAD_REQUEST (a reply of the wrong shape: the round ends) or STORAGE. */
tkms_release_code tkms_release_sync_answer(tkms_release_sync *s, const char *body, size_t len, int64_t now_ms);
/* What the round did so far: statements stored, stale, refused; requests made. */
void tkms_release_sync_counts(const tkms_release_sync *s, size_t *stored, size_t *stale, size_t *refused,
                              size_t *requests);
void tkms_release_sync_end(tkms_release_sync *s);

/* Bounds (docs/release-protocol.md). */
#define TKMS_RELEASE_MAX_BODY (64u * 1024u)
#define TKMS_RELEASE_MAX_BODY_TDX (256u * 1024u)
#define TKMS_RELEASE_MAX_MSG 4096u

#ifdef __cplusplus
}
#endif

#endif
