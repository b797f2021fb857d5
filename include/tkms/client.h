/* libtkms-client: the TEE side of key release (DESIGN.md §3, docs/release-protocol.md §1). Loads a
 * certified group file, produces attestation evidence bound to B, asks every node in parallel,
 * verifies, decrypts and combines t partial app keys, checks the result against the MPK and derives
 * the app's mnemonic. See docs/client.md. */
#ifndef TKMS_CLIENT_H
#define TKMS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif


/* Errors (include/tkms/common.h): every fallible call returns its code below and, when given a
 * tkms_status *es (may be NULL), fills it: es->cls = tkms_client_class(code), es->code = code and
 * es->msg a message for people (never secret; at most 255 bytes). On success *es is class ok,
 * code 0, empty message. The comment gives the class and the DESIGN.md §4 exit code. */
typedef enum {
    TKMS_CLIENT_OK = 0,
    TKMS_CLIENT_E_USAGE,    /* bad arguments or options (usage, exit 2) */
    TKMS_CLIENT_E_GROUP,    /* group file unreadable, malformed, not certified (input, exit 1) */
    TKMS_CLIENT_E_EVIDENCE, /* evidence could not be produced: device, socket, key file (usage: the
                               environment, exit 2) */
    TKMS_CLIENT_E_QUORUM,   /* fewer than t nodes returned a valid partial; no key (peer, exit 1) */
    TKMS_CLIENT_E_VERIFY,   /* combined key does not verify against the MPK (peer, exit 1) */
    TKMS_CLIENT_E_SEALED,   /* sealed value malformed, for another app or cluster (input, exit 1) */
    TKMS_CLIENT_E_INTERNAL  /* allocation, RNG, OpenSSL or libcurl failure (internal, exit 2) */
} tkms_client_status;

/* Short secret-free description of a status. Never NULL. */
TKMS_API const char *tkms_client_strerror(tkms_client_status st);
/* The class of a code (tkms_status.cls). */
TKMS_API tkms_class tkms_client_class(tkms_client_status st);
/* The DESIGN.md §4 exit code for a status: 0, 1 (rejected input / peer failure) or 2. */
TKMS_API int tkms_client_exit_code(tkms_client_status st);

/* ---- group files ---- */

typedef struct tkms_client_group tkms_client_group;

/* Reads and verifies a certified group file (strict parse, session and transcript hash, >= t
 * member signatures). *g receives a new group (free with tkms_client_group_free). */
TKMS_API TKMS_WUR tkms_client_status tkms_client_group_load(tkms_client_group **g, tkms_status *es,
                                                                          const char *path);
/* Same from JSON text in memory. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_group_parse(tkms_client_group **g, tkms_status *es,
                                                                           const char *json, size_t len);
TKMS_API void tkms_client_group_free(tkms_client_group *g);
TKMS_API uint64_t tkms_client_group_epoch(const tkms_client_group *g);
TKMS_API size_t tkms_client_group_n(const tkms_client_group *g);
TKMS_API size_t tkms_client_group_t(const tkms_client_group *g);
TKMS_API int tkms_client_group_dev_mode(const tkms_client_group *g);
/* The 96-byte compressed MPK. */
TKMS_API void tkms_client_group_mpk(uint8_t mpk[96], const tkms_client_group *g);
/* URL of member index (1..n), or NULL. */
TKMS_API const char *tkms_client_group_address(const tkms_client_group *g, size_t index);

/* ---- app IDs and the binding ---- */

/* Parses "0x" + 40 hex digits (any case). Returns 1, or 0 if malformed. */
TKMS_API TKMS_WUR int tkms_client_parse_app_id(uint8_t app_id[20], const char *text);
/* Writes "0x" + 40 lowercase hex and a NUL. */
TKMS_API void tkms_client_format_app_id(char out[43], const uint8_t app_id[20]);
/* B = SHA-512("TKMS-V1-ATTEST" || lp(app_id) || lp(recipient) || lp(nonce)) (DESIGN.md §2). */
TKMS_API void tkms_client_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t recipient[32],
                                         const uint8_t nonce[32]);

/* ---- evidence ---- */

typedef enum {
    TKMS_CLIENT_ATT_DEV = 1, /* insecure-dev statement signed by a dev key (dev clusters only) */
    TKMS_CLIENT_ATT_GCP_CS,  /* Confidential Space token from the launcher socket */
    TKMS_CLIENT_ATT_TDX,     /* TDX quote from configfs-tsm */
    TKMS_CLIENT_ATT_SEV_SNP  /* SEV-SNP report from configfs-tsm */
} tkms_client_att;

/* "dev" or "insecure-dev", "gcp-cs", "tdx", "sev-snp"; 0 if unknown. */
TKMS_API tkms_client_att tkms_client_att_from_name(const char *name);
/* The wire name of docs/release-protocol.md §1 ("insecure-dev", "gcp-cs", "tdx", "sev-snp"). */
TKMS_API const char *tkms_client_att_name(tkms_client_att m);

typedef struct {
    tkms_client_att method;
    const char *dev_key_file;     /* dev: key file written by tkms_client_dev_keygen; NULL = fresh key */
    const char *configfs_root;    /* tdx/sev-snp: NULL = "/sys/kernel/config/tsm/report" */
    const char *teeserver_socket; /* gcp-cs: NULL = "/run/container_launcher/teeserver.sock" */
    const char *audience;         /* gcp-cs: token audience; NULL = "tkms" */
    const char *collateral_file;  /* optional: sent as attestation.collateral (TDX collateral, VCEK) */
    unsigned timeout_ms;          /* gcp-cs launcher request and configfs wait; 0 = 10000 */
} tkms_client_evidence_opts;

typedef struct {
    uint8_t *evidence; /* malloc'd */
    size_t evidence_len;
    uint8_t *collateral; /* malloc'd or NULL: collateral_file, or the SNP VCEK from configfs auxblob */
    size_t collateral_len;
    char provider[64];   /* configfs "provider" (tdx_guest, sev_guest), else the method name */
} tkms_client_evidence;

/* Produces evidence for method o->method that carries binding (B) and, for the dev method, app_id.
 * configfs-tsm: creates <root>/<unique>, writes B to inblob, reads provider and outblob (and
 * auxblob for SNP), removes the entry. gcp-cs: POST /v1/token over the launcher's unix socket
 * with {"audience", "nonces": [hex(B[0:32])], "token_type": "OIDC"}. Free ev with
 * tkms_client_evidence_free. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_evidence_get(tkms_client_evidence *ev, tkms_status *es,
                                                                            const tkms_client_evidence_opts *o,
                                                                            const uint8_t app_id[20],
                                                                            const uint8_t binding[64]);
TKMS_API void tkms_client_evidence_free(tkms_client_evidence *ev);

/* Creates a dev signer key file at path (mode 0600, refuses to overwrite): 64 lowercase hex of a
 * fresh Ed25519 seed and a newline. pub receives the public key. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_dev_keygen(uint8_t pub[32], tkms_status *es,
                                                                          const char *path);

/* ---- fetch ---- */

/* What happened with one node. */
typedef enum {
    TKMS_CLIENT_NODE_NOT_ASKED = 0,  /* not contacted (e.g. quorum reached before a retry) */
    TKMS_CLIENT_NODE_USED,           /* valid partial, combined */
    TKMS_CLIENT_NODE_VALID,          /* valid partial, not needed */
    TKMS_CLIENT_NODE_PENDING,        /* still running when quorum was reached (cancelled) */
    TKMS_CLIENT_NODE_BAD_PARTIAL,    /* signed response whose partial fails the check against PK_i */
    TKMS_CLIENT_NODE_BAD_SIGNATURE,  /* response signature does not verify under the node key */
    TKMS_CLIENT_NODE_BAD_RESPONSE,   /* malformed JSON, echo mismatch, undecryptable, bad point */
    TKMS_CLIENT_NODE_REFUSED,        /* 4xx with an error code (attestation_refused, unknown_app, ...) */
    TKMS_CLIENT_NODE_SERVER_ERROR,   /* 5xx after all retries */
    TKMS_CLIENT_NODE_TIMEOUT,        /* no answer within the timeout */
    TKMS_CLIENT_NODE_UNREACHABLE,    /* connection failed after all retries */
    TKMS_CLIENT_NODE_STALE_EPOCH     /* answered for an epoch older than the group file, or unverifiable */
} tkms_client_node_state;

/* Stable snake_case name of a node state ("used", "bad_partial", ...). */
TKMS_API const char *tkms_client_node_state_name(tkms_client_node_state s);

typedef struct {
    /* The node as the client addressed it: its index in the group file of `epoch` and its URL there
     * (never what the node claims; an answer for another epoch or index says so in `detail`). */
    uint32_t index;         /* member index in `epoch` */
    uint64_t epoch;         /* epoch of the group the node was asked from */
    char address[128];
    tkms_client_node_state state;
    long http_status;       /* 0 when no HTTP response */
    char code[48];          /* the node's error code, or a client-side reason */
    char detail[192];       /* human detail; never secret */
    unsigned attempts;
    double ms;              /* latency of the last attempt */
} tkms_client_node_report;

typedef struct {
    uint64_t epoch;         /* epoch whose partials were combined (may be newer than the file's) */
    size_t n, t;
    size_t n_nodes;
    tkms_client_node_report *nodes; /* malloc'd; free with tkms_client_report_free */
    size_t n_valid, n_bad;  /* valid partials seen; nodes that misbehaved (bad partial/signature/response) */
    double ms_evidence, ms_network, ms_verify, ms_combine, ms_derive, ms_total;
} tkms_client_report;

TKMS_API void tkms_client_report_free(tkms_client_report *r);

/* Progress callback: one line of text without a newline; never contains secrets. */
typedef void (*tkms_client_log_fn)(void *ctx, const char *line);

typedef struct {
    const tkms_client_group *group; /* required */
    uint8_t app_id[20];
    tkms_client_evidence_opts evidence;
    unsigned timeout_ms;  /* per request attempt (connect + answer) */
    unsigned retries;     /* further attempts after a transient failure (refused connection, 5xx, 429) */
    unsigned backoff_ms;  /* first retry delay; doubled each time */
    unsigned deadline_ms; /* bound on the whole network phase */
    int wait_all;         /* 1: wait for every node's answer (full report) instead of stopping at t */
    tkms_client_log_fn log;
    void *log_ctx;
} tkms_client_fetch_opts;

/* Defaults: timeout 5000 ms, 2 retries, backoff 100 ms, deadline 20000 ms, dev evidence. */
TKMS_API void tkms_client_fetch_opts_default(tkms_client_fetch_opts *o);

/* The app's secrets. Wipe with tkms_client_key_wipe. */
typedef struct {
    uint8_t app_id[20];
    uint8_t app_key[48]; /* K_A, compressed G1 */
    uint8_t mpk[96];
    char mnemonic[216];  /* 24 BIP-39 words, single spaces */
} tkms_client_key;

TKMS_API void tkms_client_key_wipe(tkms_client_key *k);

/* The whole release: fresh X25519 key and nonce, evidence bound to B, parallel requests to every
 * member, response signature and echo checks, HPKE open, batch verification of the partials against
 * the public shares (bad nodes named in rep), combine as soon as t are valid, check against the
 * MPK, mnemonic. A node answering for a newer epoch makes the client fetch and verify the chain of
 * group files from the loaded one (GET /v1/group?epoch=e). rep (may be NULL) is filled on success
 * and failure; free it with tkms_client_report_free. On failure *key is wiped. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_fetch(tkms_client_key *key, tkms_client_report *rep,
                                                                     tkms_status *es,
                                                                     const tkms_client_fetch_opts *o);

/* ---- using the key ---- */

typedef struct {
    char eth[43];  /* m/44'/60'/0'/0/0, EIP-55 */
    char sol[64];  /* m/44'/501'/0'/0', base58 */
    char btc[96];  /* m/84'/0'/0'/0/0, bech32 P2WPKH */
} tkms_client_addresses;

/* The public addresses of index 0 of the DESIGN.md §2 wallets. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_addresses_derive(tkms_client_addresses *a,
                                                                                 const tkms_client_key *k);

/* Opens a "tkms1:" sealed secret with the app key; the sealed app must be k->app_id and the
 * cluster k->mpk. *out receives a malloc'd NUL-terminated plaintext (free with
 * tkms_client_secret_free), *out_len its length. */
TKMS_API TKMS_WUR tkms_client_status tkms_client_unseal(uint8_t **out, size_t *out_len, tkms_status *es, const tkms_client_key *k,
                                                                      const char *text, size_t text_len);
/* Wipes and frees len bytes at p (p may be NULL). */
TKMS_API void tkms_client_secret_free(void *p, size_t len);

#ifdef __cplusplus
}
#endif

#endif
