/* tkms command line: helpers shared by the node, cluster, committee and sign commands (parallel
 * HTTP requests to nodes with libcurl, request authentication, locating tkmsd). */
#ifndef TKMS_NODECLI_H
#define TKMS_NODECLI_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* How the CLI authenticates to nodes: a node's identity (signed envelope) or the admin token. */
typedef struct {
    int have_key, have_token;
    uint8_t ed_sk[32], ed_pk[32];
    uint8_t token[32];
} ncli_auth;

/* Loads auth: --node-config CFG (the node's identity key, which is its operator key) or
 * --token-file F (that node's admin token); else $TKMS_ADMIN_TOKEN_FILE. Returns 1, or 0 after
 * printing. Each node has its own token: the credentials are good for one node only. */
int ncli_auth_load(ncli_auth *a, const char *config_path, const char *token_file);
void ncli_auth_wipe(ncli_auth *a);

typedef struct {
    char *url;           /* base URL */
    char *path;          /* path (and query) */
    const char *method;  /* GET or POST */
    const uint8_t *body; /* POST body (not owned) */
    size_t body_len;
    /* results */
    int ok;              /* transport succeeded */
    long status;
    char *resp;          /* NUL-terminated */
    size_t resp_len;
    char err[256];       /* transport error */
    char *resp_key, *resp_time, *resp_sig; /* X-Tkms-* response headers */
    double seconds;
} ncli_req;

/* Runs all requests in parallel with a per-request timeout. auth may be NULL. */
void ncli_run(ncli_req *reqs, size_t n, const ncli_auth *auth, long timeout_ms);
/* Same, but one envelope signature (one timestamp) for all requests, sequentially (replay tests). */
void ncli_run_fixed(ncli_req *reqs, size_t n, const ncli_auth *auth, long timeout_ms);
void ncli_req_free(ncli_req *r);

/* Path of the tkmsd binary: env TKMSD, else next to this executable, else "tkmsd". malloc'd. */
char *ncli_tkmsd_path(void);

#endif
