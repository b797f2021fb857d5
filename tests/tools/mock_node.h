/* Mock tkms nodes for client tests and benchmarks: n HTTP servers on 127.0.0.1 serving
 * docs/release-protocol.md §1 (POST /v1/keys/app) through the real release handler
 * (src/release/release.h, tkms_release_handle_key) and GET /v1/group, with a really dealt secret,
 * one registered app (mock_app_id, insecure-dev allowed) and injectable misbehaviour. */
#ifndef TKMS_MOCK_NODE_H
#define TKMS_MOCK_NODE_H

#include <stddef.h>
#include <stdint.h>

#define MOCK_MAX_N 64

typedef enum {
    MOCK_OK = 0,
    MOCK_WRONG_PARTIAL, /* a valid G1 point that is not s_i*Q_A, correctly encrypted and signed */
    MOCK_BAD_SIGNATURE, /* correct partial, response signature corrupted */
    MOCK_TIMEOUT,       /* answers only after sleep_ms */
    MOCK_5XX,           /* always HTTP 500 */
    MOCK_DOWN,          /* nothing listens on its port */
    MOCK_REFUSE,        /* HTTP 403 attestation_refused */
    MOCK_FLAKY,         /* first request HTTP 503 not_ready, then correct */
    MOCK_WRONG_APP,     /* echoes another app id */
    MOCK_CLAIM_INDEX,   /* answers correctly for itself, but labelled as the next member (index % n + 1) */
    MOCK_BAD_EPOCH,     /* answers for epoch 99, which does not exist */
    MOCK_FORGED_EPOCH,  /* answers for epoch reshares + 1 with a group file of that epoch that the chain
                           does not certify (see mock_forgery) and a partial valid for that file */
    MOCK_COLLUDE,       /* s_i*Q_A + e_i*Q_A with e_i chosen so that the errors of the colluders cancel
                           in the client's batch check for batch_seed (the client's RNG is fixed by the
                           test); the k-th colluder (by index) answers after k * sleep_ms */
    MOCK_OLD_EPOCH      /* answers, correctly signed and encrypted, for epoch reshares - 1 with its share
                           of that epoch (a node that kept serving its old share) */
} mock_fault;

/* What a MOCK_FORGED_EPOCH node's next-epoch group file gets wrong. */
typedef enum {
    MOCK_FORGE_UNSIGNED = 0, /* same secret, well-formed, but the member signatures do not verify */
    MOCK_FORGE_NEW_MPK       /* another secret, signed by its members: the MPK changes */
} mock_forgery;

typedef struct {
    size_t n, t;
    uint8_t seed[32];                 /* determines secret, shares and node identities */
    mock_fault fault[MOCK_MAX_N + 1]; /* by member index 1..n */
    unsigned reshares;                /* nodes serve epoch `reshares`; groups 0..reshares available */
    unsigned sleep_ms;                /* MOCK_TIMEOUT delay (default 3000) */
    int production;                   /* 1: group dev_mode false, so insecure-dev evidence is refused */
    mock_forgery forge;               /* MOCK_FORGED_EPOCH */
    uint8_t batch_seed[32];           /* MOCK_COLLUDE: the seed of the client's tbls_batch_find_bad */
} mock_config;

typedef struct mock_cluster mock_cluster;

/* The one app every mock node has registered (statement seq 1, methods insecure-dev): owner key
 * 0x11 * 32, salt 0, so app_id = MOCK_APP_TEXT. Other apps are refused (unknown_app). */
#define MOCK_APP_TEXT "0x90120827bf163d7a0b368e0936a396a8c0527a3b"
void mock_app_id(uint8_t out[20]);

/* Starts the servers (ports chosen by the kernel). Returns NULL on failure. */
mock_cluster *mock_start(const mock_config *cfg);
/* Stops every server and frees everything (waits for in-flight handlers). */
void mock_stop(mock_cluster *m);
/* Canonical signed group file of an epoch (0..reshares); owned by m. */
const char *mock_group_json(const mock_cluster *m, unsigned epoch);
/* Share of member index (1..n) in epoch (secret; for the CLI-tools comparison). */
void mock_share(const mock_cluster *m, unsigned epoch, uint32_t index, uint8_t out[32]);
/* The compressed MPK. */
void mock_mpk(const mock_cluster *m, uint8_t out[96]);
/* POST /v1/keys/app requests node index has received. */
unsigned mock_requests(const mock_cluster *m, uint32_t index);

#endif
