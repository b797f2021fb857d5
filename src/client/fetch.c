/* libtkms-client: the key-release round (docs/release-protocol.md §1). Asks every member in
 * parallel with libcurl multi, verifies each signed response, opens the HPKE partial, batch-checks
 * partials against the public shares (naming bad nodes), combines as soon as t are valid, checks the
 * key against the MPK and derives the mnemonic. Follows newer epochs through verified group files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "appkey.h"
#include "client_internal.h"
#include "g1.h"
#include "hpke.h"
#include "identity.h"
#include "net.h"
#include "seal.h"
#include "tbls.h"
#include "tkms/wallet.h"
#include "proto.h"

#define RESP_MAX (64u << 10)
#define GROUP_MAX (16u << 20)
#define MAX_BUCKETS 8
#define MAX_EPOCH_WALK 100000u
#define HPKE_INFO TKMS_INFO_PARTIAL_KEY

/* One request target: a member address of some epoch. */
typedef struct {
    char url[TKMS_DKG_ADDR_MAX + 16];
    CURL *h;
    tkms_net_body body;
    int active;       /* in the multi handle */
    int waiting;      /* retry scheduled at next_try */
    int finished;
    double next_try, started;
    size_t rep;       /* index into the report array */
} node_req;

/* Partials of one epoch. */
typedef struct {
    tkms_group *g;
    g2_affine_t *pks;               /* PK_1..PK_n */
    tbls_partial *ok, *pend;        /* verified / not yet batch-checked */
    size_t *ok_rep, *pend_rep;      /* their report rows */
    size_t n_ok, n_pend;
    uint8_t *seen;                  /* index already answered (n + 1 entries) */
} bucket;

typedef struct {
    const tkms_client_fetch_opts *o;
    char *err;
    size_t errlen;
    CURLM *m;
    struct curl_slist *hdrs;
    char *req_body;
    uint8_t recipient[32], nonce[32], sk[32];
    char app_text[43];
    g1_affine_t hm;                 /* Q_A */
    node_req **nodes;
    size_t n_nodes, cap_nodes;
    tkms_client_node_report *rep;
    size_t n_rep, cap_rep;
    bucket b[MAX_BUCKETS];
    size_t n_b;
    tkms_group *tip;                /* newest verified group (chain walk) */
    bucket *done;
    double ms_verify;
    void *scratch;
    size_t scratch_len;
} fetch_ctx;

static void logf_(fetch_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(fetch_ctx *c, const char *fmt, ...) {
    if (!c->o->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->o->log(c->o->log_ctx, line);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return 0;
    memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
    *p = np;
    *cap = nc;
    return 1;
}

static int scratch_for(fetch_ctx *c, size_t k) {
    size_t need = tbls_scratch_size(k);
    if (need <= c->scratch_len) return 1;
    free(c->scratch);
    c->scratch = aligned_alloc(64, (need + 63) / 64 * 64);
    c->scratch_len = c->scratch ? need : 0;
    return c->scratch != NULL;
}

/* ---- buckets (one per epoch that answered) ---- */

static void bucket_free(bucket *b) {
    if (b->ok) OPENSSL_cleanse(b->ok, b->g->n * sizeof *b->ok);
    if (b->pend) OPENSSL_cleanse(b->pend, b->g->n * sizeof *b->pend);
    free(b->ok), free(b->pend), free(b->ok_rep), free(b->pend_rep), free(b->pks), free(b->seen), free(b->g);
    memset(b, 0, sizeof *b);
}

/* Takes ownership of g. */
static bucket *bucket_new(fetch_ctx *c, tkms_group *g) {
    if (c->n_b == MAX_BUCKETS) {
        free(g);
        return NULL;
    }
    bucket *b = &c->b[c->n_b];
    size_t n = g->n;
    b->g = g;
    b->pks = malloc(n * sizeof *b->pks);
    b->ok = calloc(n, sizeof *b->ok);
    b->pend = calloc(n, sizeof *b->pend);
    b->ok_rep = calloc(n, sizeof *b->ok_rep);
    b->pend_rep = calloc(n, sizeof *b->pend_rep);
    b->seen = calloc(n + 1, 1);
    if (!b->pks || !b->ok || !b->pend || !b->ok_rep || !b->pend_rep || !b->seen || !scratch_for(c, n)) {
        bucket_free(b);
        return NULL;
    }
    tbls_public_shares(b->pks, g->poly, g->t, n, c->scratch);
    c->n_b++;
    return b;
}

static bucket *bucket_find(fetch_ctx *c, uint64_t epoch) {
    for (size_t i = 0; i < c->n_b; i++)
        if (c->b[i].g->epoch == epoch) return &c->b[i];
    return NULL;
}

/* ---- requests ---- */

static size_t add_report(fetch_ctx *c, const char *url, uint32_t index, uint64_t epoch) {
    if (!grow((void **)&c->rep, &c->cap_rep, c->n_rep + 1, sizeof *c->rep)) return SIZE_MAX;
    tkms_client_node_report *r = &c->rep[c->n_rep];
    memset(r, 0, sizeof *r);
    snprintf(r->address, sizeof r->address, "%s", url);
    r->index = index;
    r->epoch = epoch;
    return c->n_rep++;
}

static int start(fetch_ctx *c, node_req *nr) {
    tkms_net_body_reset(&nr->body);
    nr->started = cl_now_ms();
    nr->waiting = 0;
    if (curl_multi_add_handle(c->m, nr->h) != CURLM_OK) return 0;
    nr->active = 1;
    c->rep[nr->rep].attempts++;
    return 1;
}

static node_req *add_node(fetch_ctx *c, const char *address, uint32_t index, uint64_t epoch) {
    for (size_t i = 0; i < c->n_nodes; i++)
        if (!strncmp(c->nodes[i]->url, address, strlen(address)) && !strcmp(c->nodes[i]->url + strlen(address), "/v1/keys/app"))
            return NULL; /* already asked */
    if (!grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + 1, sizeof *c->nodes)) return NULL;
    node_req *nr = calloc(1, sizeof *nr);
    if (!nr) return NULL;
    snprintf(nr->url, sizeof nr->url, "%s/v1/keys/app", address);
    nr->rep = add_report(c, address, index, epoch);
    tkms_net_body_init(&nr->body, RESP_MAX);
    tkms_net_opts no = {.timeout_ms = (long)c->o->timeout_ms, .body = &nr->body, .headers = c->hdrs, .priv = nr};
    nr->h = tkms_net_easy(nr->url, &no);
    if (nr->rep == SIZE_MAX || !nr->h) {
        if (nr->h) curl_easy_cleanup(nr->h);
        free(nr);
        return NULL;
    }
    c->nodes[c->n_nodes++] = nr;
    tkms_net_post(nr->h, c->req_body, strlen(c->req_body));
    if (!start(c, nr)) return NULL;
    return nr;
}

/* ---- group chain ---- */

static tkms_group *get_group(fetch_ctx *c, const char *base, uint64_t epoch, char *why, size_t whylen) {
    char url[TKMS_DKG_ADDR_MAX + 64];
    snprintf(url, sizeof url, "%s/v1/group?epoch=%llu", base, (unsigned long long)epoch);
    tkms_net_body b;
    tkms_net_body_init(&b, GROUP_MAX);
    tkms_net_opts no = {.timeout_ms = (long)c->o->timeout_ms, .body = &b};
    CURL *h = tkms_net_easy(url, &no);
    tkms_group *g = NULL;
    long code = 0;
    if (!h) return NULL;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || code != 200 || !b.p) {
        snprintf(why, whylen, "GET /v1/group?epoch=%llu: %s", (unsigned long long)epoch,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error");
        tkms_net_body_free(&b);
        return NULL;
    }
    g = malloc(sizeof *g);
    if (g && !tkms_group_parse(g, (const char *)b.p, b.len, why, whylen)) {
        free(g);
        g = NULL;
    }
    tkms_net_body_free(&b);
    return g;
}

/* Makes sure a verified group of `epoch` exists (walking the chain from the tip through `base`).
 * Returns its bucket, or NULL with why set. */
static bucket *ensure_epoch(fetch_ctx *c, uint64_t epoch, const char *base, char *why, size_t whylen) {
    bucket *b = bucket_find(c, epoch);
    if (b) return b;
    if (epoch < c->tip->epoch) {
        snprintf(why, whylen, "epoch %llu is older than the newest known group", (unsigned long long)epoch);
        return NULL;
    }
    if (epoch - c->tip->epoch > MAX_EPOCH_WALK) {
        snprintf(why, whylen, "epoch %llu is too far ahead of the group file", (unsigned long long)epoch);
        return NULL;
    }
    if (c->n_b == MAX_BUCKETS) {
        snprintf(why, whylen, "too many epochs in one fetch");
        return NULL;
    }
    while (c->tip->epoch < epoch) {
        char e2[200];
        tkms_group *g = get_group(c, base, c->tip->epoch + 1, e2, sizeof e2);
        if (!g) {
            snprintf(why, whylen, "cannot fetch the group of epoch %llu: %s", (unsigned long long)c->tip->epoch + 1, e2);
            return NULL;
        }
        if (!tkms_group_verify(g, c->tip, e2, sizeof e2)) {
            snprintf(why, whylen, "group of epoch %llu does not follow from the group file: %s", (unsigned long long)g->epoch, e2);
            free(g);
            return NULL;
        }
        logf_(c, "verified group file of epoch %llu (n=%zu, t=%zu) from %s", (unsigned long long)g->epoch, g->n, g->t, base);
        free(c->tip); /* buckets hold their own copies */
        c->tip = g;
    }
    tkms_group *copy = malloc(sizeof *copy);
    if (!copy) return NULL;
    memcpy(copy, c->tip, sizeof *copy);
    b = bucket_new(c, copy);
    if (!b) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    /* ask the members of the new epoch that the group file did not list */
    for (size_t i = 0; i < b->g->n; i++)
        if (add_node(c, b->g->members[i].address, (uint32_t)(i + 1), epoch))
            logf_(c, "asking node %zu of epoch %llu (%s)", i + 1, (unsigned long long)epoch, b->g->members[i].address);
    return b;
}

/* ---- responses ---- */

static void set_state(fetch_ctx *c, size_t rep, tkms_client_node_state s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void set_state(fetch_ctx *c, size_t rep, tkms_client_node_state s, const char *code, const char *fmt, ...) {
    tkms_client_node_report *r = &c->rep[rep];
    r->state = s;
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && tkms_unhex(out, n, json_string_value(v), json_string_length(v), TKMS_HEX_ANY_CASE);
}

/* Checks one 200 response; on success adds the partial to its epoch's pending set. */
static void on_response(fetch_ctx *c, node_req *nr) {
    size_t rep = nr->rep;
    const char *base = c->rep[rep].address;
    json_error_t je;
    json_t *o = json_loadb((const char *)nr->body.p, nr->body.len, JSON_REJECT_DUPLICATES, &je);
    uint8_t app[20], enc[32], ct[64], sig[64];
    json_t *ep = o ? json_object_get(o, "epoch") : NULL, *ix = o ? json_object_get(o, "index") : NULL;
    json_t *ap = o ? json_object_get(o, "app_id") : NULL;
    if (!json_is_object(o) || json_object_size(o) != 6 || !json_is_integer(ep) || json_integer_value(ep) < 0 ||
        !json_is_integer(ix) || json_integer_value(ix) < 1 || json_integer_value(ix) > TKMS_DKG_MAX_N ||
        !json_is_string(ap) || !tkms_client_parse_app_id(app, json_string_value(ap)) || !hexfield(enc, 32, o, "enc") ||
        !hexfield(ct, 64, o, "ciphertext") || !hexfield(sig, 64, o, "signature")) {
        json_decref(o);
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "malformed", "response is not the release-protocol JSON");
        return;
    }
    /* what the node claims; the report keeps naming it by what we addressed (its index and URL in
     * the group file we took the address from), so a lying node cannot put the blame elsewhere */
    uint64_t epoch = (uint64_t)json_integer_value(ep);
    uint32_t index = (uint32_t)json_integer_value(ix);
    json_decref(o);
    if (memcmp(app, c->o->app_id, 20) != 0) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "echo_mismatch", "response is for another app");
        return;
    }
    char why[256] = "";
    double t0 = cl_now_ms();
    bucket *b = ensure_epoch(c, epoch, base, why, sizeof why);
    double t1 = cl_now_ms();
    if (!b) {
        set_state(c, rep, TKMS_CLIENT_NODE_STALE_EPOCH, "stale_epoch", "answered for epoch %llu: %s", (unsigned long long)epoch,
                  why);
        return;
    }
    if (index > b->g->n) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "bad_index", "answered as member %u of epoch %llu, which has %zu members",
                  index, (unsigned long long)epoch, b->g->n);
        return;
    }
    /* the answer must come from the member we addressed: the same index in the same epoch, or in a
     * later epoch the member listed at our URL */
    if (epoch == c->rep[rep].epoch ? index != c->rep[rep].index : strcmp(b->g->members[index - 1].address, base) != 0) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "index_mismatch",
                  "answered as member %u of epoch %llu, but that member's address is %.60s", index, (unsigned long long)epoch,
                  b->g->members[index - 1].address);
        return;
    }
    /* signature over the echoed request fields and the ciphertext */
    uint8_t msg[TKMS_PROTO_KEY_RESPONSE_LEN];
    tkms_proto_key_response(msg, app, epoch, index, c->recipient, c->nonce, enc, ct);
    if (!tkms_ed25519_verify(sig, b->g->members[index - 1].sign_pk, msg, sizeof msg)) {
        c->ms_verify += cl_now_ms() - t1;
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_SIGNATURE, "bad_signature",
                  "response signature does not verify under member %u's key (epoch %llu)", index, (unsigned long long)epoch);
        return;
    }
    if (b->seen[index]) {
        c->ms_verify += cl_now_ms() - t1;
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "duplicate", "index %u already answered", index);
        return;
    }
    uint8_t aad[TKMS_PROTO_KEY_AAD_LEN], in[96], pt[48];
    tkms_proto_key_aad(aad, app, epoch, index);
    memcpy(in, enc, 32), memcpy(in + 32, ct, 64);
    int opened = tkms_hpke_open(pt, c->sk, (const uint8_t *)HPKE_INFO, sizeof HPKE_INFO - 1, aad, sizeof aad, in, sizeof in);
    g1_affine_t part;
    int parsed = opened && g1_deserialize(&part, pt, 48, 0) == G1_OK;
    OPENSSL_cleanse(pt, sizeof pt);
    c->ms_verify += cl_now_ms() - t1;
    (void)t0;
    if (!parsed) {
        OPENSSL_cleanse(&part, sizeof part);
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, opened ? "bad_point" : "undecryptable",
                  opened ? "partial is not a valid G1 point" : "HPKE ciphertext does not open for our key");
        return;
    }
    b->seen[index] = 1;
    b->pend[b->n_pend].index = index;
    b->pend[b->n_pend].sig = part;
    b->pend_rep[b->n_pend++] = rep;
    OPENSSL_cleanse(&part, sizeof part);
    set_state(c, rep, TKMS_CLIENT_NODE_VALID, "", "signed response for epoch %llu, partial decrypted", (unsigned long long)epoch);
}

static void on_error_body(fetch_ctx *c, node_req *nr, tkms_client_node_state s, long code) {
    json_t *o = nr->body.p ? json_loadb((const char *)nr->body.p, nr->body.len, 0, NULL) : NULL;
    json_t *e = json_object_get(o, "error");
    const char *ec = json_string_value(json_object_get(e, "code")), *em = json_string_value(json_object_get(e, "message"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    if (!ec) ec = json_string_value(json_object_get(o, "code")); /* older daemon error shape */
    char cbuf[48];
    if (!ec) snprintf(cbuf, sizeof cbuf, "http_%ld", code), ec = cbuf;
    set_state(c, nr->rep, s, ec, "HTTP %ld%s%.100s%s%.40s", code, em ? ": " : "", em ? em : "", reason ? " reason=" : "",
              reason ? reason : "");
    json_decref(o);
}

/* Batch-verifies pending partials when the epoch could reach t; returns 1 when it has t valid. */
static int try_quorum(fetch_ctx *c, bucket *b, int force) {
    size_t t = b->g->t;
    if (b->n_pend && (force || b->n_ok + b->n_pend >= t)) {
        uint8_t seed[32], bad[TKMS_DKG_MAX_N];
        double t0 = cl_now_ms();
        if (RAND_bytes(seed, 32) != 1 || !scratch_for(c, b->n_pend)) return 0;
        /* the batch takes each partial's public share at the same position */
        g2_affine_t *pk = malloc(b->n_pend * sizeof *pk);
        if (!pk) return 0;
        for (size_t i = 0; i < b->n_pend; i++) pk[i] = b->pks[b->pend[i].index - 1];
        size_t nb = tbls_batch_find_bad(bad, &c->hm, b->pend, pk, b->n_pend, seed, c->scratch);
        free(pk);
        c->ms_verify += cl_now_ms() - t0;
        for (size_t i = 0; i < b->n_pend; i++) {
            if (nb && bad[i]) {
                set_state(c, b->pend_rep[i], TKMS_CLIENT_NODE_BAD_PARTIAL, "bad_partial",
                          "partial fails e(K_i, G2) == e(Q_A, PK_%u) of epoch %llu: excluded", b->pend[i].index,
                          (unsigned long long)b->g->epoch);
                logf_(c, "node %u (%s): BAD PARTIAL, excluded", c->rep[b->pend_rep[i]].index, c->rep[b->pend_rep[i]].address);
            } else {
                b->ok[b->n_ok] = b->pend[i];
                b->ok_rep[b->n_ok++] = b->pend_rep[i];
            }
        }
        OPENSSL_cleanse(b->pend, b->n_pend * sizeof *b->pend);
        b->n_pend = 0;
    }
    return b->n_ok >= t;
}

static int transient(CURLcode rc, long code) {
    if (rc == CURLE_OK) return code == 429 || (code >= 500 && code != 501);
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

static void on_done(fetch_ctx *c, node_req *nr, CURLcode rc) {
    long code = 0;
    tkms_client_node_report *r = &c->rep[nr->rep];
    curl_multi_remove_handle(c->m, nr->h);
    nr->active = 0;
    r->ms = cl_now_ms() - nr->started;
    if (rc == CURLE_OK) curl_easy_getinfo(nr->h, CURLINFO_RESPONSE_CODE, &code);
    r->http_status = code;
    if (transient(rc, code) && r->attempts <= c->o->retries) {
        double delay = (double)c->o->backoff_ms * (double)(1u << (r->attempts - 1 > 10 ? 10 : r->attempts - 1));
        nr->waiting = 1;
        nr->next_try = cl_now_ms() + delay;
        logf_(c, "node %u (%s): %s, retry %u/%u in %.0f ms", r->index, r->address,
              rc != CURLE_OK ? curl_easy_strerror(rc) : (code == 429 ? "rate limited" : "server error"), r->attempts,
              c->o->retries, delay);
        return;
    }
    nr->finished = 1;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        set_state(c, nr->rep, TKMS_CLIENT_NODE_TIMEOUT, "timeout", "no answer within %u ms", c->o->timeout_ms);
    } else if (tkms_net_too_large(rc, &nr->body)) {
        set_state(c, nr->rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "too_large", "response larger than %u bytes", RESP_MAX);
    } else if (rc != CURLE_OK) {
        set_state(c, nr->rep, TKMS_CLIENT_NODE_UNREACHABLE, "unreachable", "%s", curl_easy_strerror(rc));
    } else if (code == 200) {
        on_response(c, nr);
    } else if (code >= 500 || code == 429) {
        on_error_body(c, nr, code == 429 ? TKMS_CLIENT_NODE_REFUSED : TKMS_CLIENT_NODE_SERVER_ERROR, code);
    } else {
        on_error_body(c, nr, TKMS_CLIENT_NODE_REFUSED, code);
    }
    if (r->state == TKMS_CLIENT_NODE_VALID)
        logf_(c, "node %u (%s): signed partial, %s (%.1f ms)", r->index, r->address, r->detail, r->ms);
    else
        logf_(c, "node %u (%s): %s: %s", r->index, r->address, tkms_client_node_state_name(r->state), r->detail);
}

const char *tkms_client_node_state_name(tkms_client_node_state s) {
    switch (s) {
    case TKMS_CLIENT_NODE_NOT_ASKED: return "not_asked";
    case TKMS_CLIENT_NODE_USED: return "used";
    case TKMS_CLIENT_NODE_VALID: return "valid";
    case TKMS_CLIENT_NODE_PENDING: return "pending";
    case TKMS_CLIENT_NODE_BAD_PARTIAL: return "bad_partial";
    case TKMS_CLIENT_NODE_BAD_SIGNATURE: return "bad_signature";
    case TKMS_CLIENT_NODE_BAD_RESPONSE: return "bad_response";
    case TKMS_CLIENT_NODE_REFUSED: return "refused";
    case TKMS_CLIENT_NODE_SERVER_ERROR: return "server_error";
    case TKMS_CLIENT_NODE_TIMEOUT: return "timeout";
    case TKMS_CLIENT_NODE_UNREACHABLE: return "unreachable";
    case TKMS_CLIENT_NODE_STALE_EPOCH: return "stale_epoch";
    }
    return "unknown";
}

void tkms_client_fetch_opts_default(tkms_client_fetch_opts *o) {
    memset(o, 0, sizeof *o);
    o->evidence.method = TKMS_CLIENT_ATT_DEV;
    o->timeout_ms = 5000;
    o->retries = 2;
    o->backoff_ms = 100;
    o->deadline_ms = 20000;
}

void tkms_client_report_free(tkms_client_report *r) {
    if (!r) return;
    free(r->nodes);
    memset(r, 0, sizeof *r);
}

void tkms_client_key_wipe(tkms_client_key *k) {
    if (k) OPENSSL_cleanse(k, sizeof *k);
}

static char *request_body(fetch_ctx *c, const tkms_client_evidence *ev) {
    char rh[65], nh[65];
    tkms_hex(rh, c->recipient, 32);
    tkms_hex(nh, c->nonce, 32);
    char *e64 = tkms_b64_encode(ev->evidence, ev->evidence_len, 0, 1);
    char *c64 = ev->collateral ? tkms_b64_encode(ev->collateral, ev->collateral_len, 0, 1) : NULL;
    json_t *att = json_pack("{s:s, s:s}", "method", tkms_client_att_name(c->o->evidence.method), "evidence", e64 ? e64 : "");
    if (att && c64) json_object_set_new(att, "collateral", json_string(c64));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "app_id", c->app_text, "recipient", rh, "nonce", nh, "attestation", att);
    char *s = (o && e64 && (!ev->collateral || c64)) ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    free(e64);
    free(c64);
    return s;
}

static void summarize(fetch_ctx *c, char *out, size_t cap) {
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < c->n_rep && off + 1 < cap; i++) {
        const tkms_client_node_report *r = &c->rep[i];
        if (r->state == TKMS_CLIENT_NODE_VALID || r->state == TKMS_CLIENT_NODE_USED) continue;
        int w = snprintf(out + off, cap - off, "%snode %u (%s): %s%s%s", off ? "; " : "", r->index, r->address,
                         tkms_client_node_state_name(r->state),
                         r->code[0] && strcmp(r->code, tkms_client_node_state_name(r->state)) ? " " : "",
                         r->code[0] && strcmp(r->code, tkms_client_node_state_name(r->state)) ? r->code : "");
        if (w < 0) break;
        off += (size_t)w;
    }
}

tkms_client_status tkms_client_fetch(tkms_client_key *key, tkms_client_report *rep, char *err, size_t errlen,
                                     const tkms_client_fetch_opts *o) {
    double t_start = cl_now_ms();
    if (rep) memset(rep, 0, sizeof *rep);
    if (key) memset(key, 0, sizeof *key);
    if (!key || !o || !o->group || !o->evidence.method || o->timeout_ms == 0)
        return cl_fail(err, errlen, TKMS_CLIENT_E_USAGE, "tkms_client_fetch: missing key, group, method or timeout");
    fetch_ctx cx, *c = &cx;
    memset(c, 0, sizeof cx);
    c->o = o;
    c->err = err;
    c->errlen = errlen;
    tkms_client_status st = TKMS_CLIENT_OK;
    tkms_client_evidence ev = {0};
    double ms_evidence = 0, ms_network = 0, ms_combine = 0, ms_derive = 0;
    char why[768];

    tkms_client_format_app_id(c->app_text, o->app_id);
    {
        g1_t q;
        appkey_identity_point(&q, o->app_id);
        g1_to_affine(&c->hm, &q);
    }
    /* the ephemeral recipient key and the nonce, then evidence bound to B */
    uint8_t B[64];
    if (RAND_bytes(c->sk, 32) != 1 || RAND_bytes(c->nonce, 32) != 1 || !tkms_x25519_pubkey(c->recipient, c->sk)) {
        st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "RNG or X25519 failure");
        goto out;
    }
    tkms_client_binding(B, o->app_id, c->recipient, c->nonce);
    {
        double t0 = cl_now_ms();
        st = tkms_client_evidence_get(&ev, err, errlen, &o->evidence, o->app_id, B);
        ms_evidence = cl_now_ms() - t0;
        if (st != TKMS_CLIENT_OK) goto out;
    }
    logf_(c, "evidence: %s, %zu bytes (%.1f ms)", ev.provider, ev.evidence_len, ms_evidence);

    c->tip = malloc(sizeof *c->tip);
    if (!c->tip) {
        st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "out of memory");
        goto out;
    }
    memcpy(c->tip, &o->group->g, sizeof *c->tip);
    {
        tkms_group *g0 = malloc(sizeof *g0);
        if (g0) memcpy(g0, c->tip, sizeof *g0);
        if (!g0 || !bucket_new(c, g0)) {
            st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "out of memory");
            goto out;
        }
    }
    tkms_net_global_init();
    c->m = curl_multi_init();
    c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    c->hdrs = c->hdrs ? curl_slist_append(c->hdrs, "Expect:") : NULL;
    c->req_body = request_body(c, &ev);
    if (!c->m || !c->hdrs || !c->req_body) {
        st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "out of memory");
        goto out;
    }
    double t_net = cl_now_ms(), deadline = t_net + (o->deadline_ms ? o->deadline_ms : 20000);
    for (size_t i = 0; i < o->group->g.n; i++)
        if (!add_node(c, o->group->g.members[i].address, (uint32_t)(i + 1), o->group->g.epoch))
            logf_(c, "node %zu (%s): not asked (duplicate address or out of memory)", i + 1, o->group->g.members[i].address);
    logf_(c, "asked %zu nodes of epoch %llu for app %s (t = %zu)", c->n_nodes, (unsigned long long)o->group->g.epoch,
          c->app_text, o->group->g.t);

    for (;;) {
        int running = 0;
        curl_multi_perform(c->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(c->m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            node_req *nr = NULL;
            CURLcode rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&nr);
            if (nr) on_done(c, nr, rc);
        }
        size_t outstanding = 0;
        double now = cl_now_ms(), next = deadline;
        for (size_t i = 0; i < c->n_nodes; i++) {
            node_req *nr = c->nodes[i];
            if (nr->waiting && nr->next_try <= now && !start(c, nr)) nr->waiting = 0, nr->finished = 1;
            if (nr->waiting && nr->next_try < next) next = nr->next_try;
            outstanding += nr->active || nr->waiting;
        }
        if (!o->wait_all || outstanding == 0)
            for (size_t i = c->n_b; i-- > 0;)
                if (try_quorum(c, &c->b[i], outstanding == 0)) {
                    c->done = &c->b[i];
                    break;
                }
        if (c->done || outstanding == 0 || now >= deadline) break;
        int wait = (int)(next - now);
        if (wait > 50) wait = 50;
        if (wait < 1) wait = 1;
        curl_multi_poll(c->m, NULL, 0, wait, NULL);
    }
    ms_network = cl_now_ms() - t_net - c->ms_verify;
    for (size_t i = 0; i < c->n_nodes; i++) {
        node_req *nr = c->nodes[i];
        tkms_client_node_report *r = &c->rep[nr->rep];
        if (nr->active) {
            set_state(c, nr->rep, c->done ? TKMS_CLIENT_NODE_PENDING : TKMS_CLIENT_NODE_TIMEOUT, c->done ? "" : "deadline",
                      c->done ? "still running when t partials were valid" : "no answer before the overall deadline");
            curl_multi_remove_handle(c->m, nr->h);
            nr->active = 0;
        } else if (nr->waiting) {
            if (c->done) set_state(c, nr->rep, TKMS_CLIENT_NODE_NOT_ASKED, "", "retry not needed");
            else set_state(c, nr->rep, r->state ? r->state : TKMS_CLIENT_NODE_UNREACHABLE, "deadline", "retry after the deadline");
        }
    }
    if (!c->done) {
        size_t best = 0, t = o->group->g.t;
        for (size_t i = 0; i < c->n_b; i++)
            if (c->b[i].n_ok > best) best = c->b[i].n_ok, t = c->b[i].g->t;
        summarize(c, why, sizeof why);
        st = cl_fail(err, errlen, TKMS_CLIENT_E_QUORUM, "only %zu valid partial key%s, %zu needed: no key (%s)", best,
                     best == 1 ? "" : "s", t, why[0] ? why : "no answers");
        goto out;
    }
    /* combine the first t valid partials, then check the result against the MPK */
    {
        bucket *b = c->done;
        size_t t = b->g->t;
        g1_t k;
        g1_affine_t ka;
        double t0 = cl_now_ms();
        if (!scratch_for(c, t) || !tbls_combine(&k, b->ok, t, c->scratch)) {
            st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "combine failed");
            goto out;
        }
        g1_to_affine(&ka, &k);
        int ok = appkey_verify(&ka, o->app_id, &o->group->g.poly[0]);
        g1_serialize(key->app_key, &ka);
        OPENSSL_cleanse(&k, sizeof k);
        OPENSSL_cleanse(&ka, sizeof ka);
        ms_combine = cl_now_ms() - t0;
        if (!ok) {
            st = cl_fail(err, errlen, TKMS_CLIENT_E_VERIFY, "combined key does not verify against the MPK");
            goto out;
        }
        for (size_t i = 0; i < b->n_ok; i++) c->rep[b->ok_rep[i]].state = i < t ? TKMS_CLIENT_NODE_USED : TKMS_CLIENT_NODE_VALID;
        t0 = cl_now_ms();
        tkms_wallet_status ws = tkms_mnemonic_from_app_key(key->mnemonic, sizeof key->mnemonic, key->app_key);
        ms_derive = cl_now_ms() - t0;
        if (ws != TKMS_WALLET_OK) {
            st = cl_fail(err, errlen, TKMS_CLIENT_E_INTERNAL, "mnemonic derivation failed: %s", tkms_wallet_strerror(ws));
            goto out;
        }
        memcpy(key->app_id, o->app_id, 20);
        g2_serialize(key->mpk, &o->group->g.poly[0]);
        logf_(c, "combined %zu partials of epoch %llu; key verified against the MPK", t, (unsigned long long)b->g->epoch);
    }
out:
    if (rep) {
        rep->n = o && o->group ? o->group->g.n : 0;
        rep->t = o && o->group ? o->group->g.t : 0;
        rep->epoch = c->done ? c->done->g->epoch : (o && o->group ? o->group->g.epoch : 0);
        if (c->done) rep->n = c->done->g->n, rep->t = c->done->g->t;
        rep->nodes = c->rep;
        rep->n_nodes = c->n_rep;
        c->rep = NULL;
        for (size_t i = 0; i < rep->n_nodes; i++) {
            tkms_client_node_state s = rep->nodes[i].state;
            rep->n_valid += s == TKMS_CLIENT_NODE_USED || s == TKMS_CLIENT_NODE_VALID;
            rep->n_bad += s == TKMS_CLIENT_NODE_BAD_PARTIAL || s == TKMS_CLIENT_NODE_BAD_SIGNATURE || s == TKMS_CLIENT_NODE_BAD_RESPONSE;
        }
        rep->ms_evidence = ms_evidence;
        rep->ms_network = ms_network;
        rep->ms_verify = c->ms_verify;
        rep->ms_combine = ms_combine;
        rep->ms_derive = ms_derive;
        rep->ms_total = cl_now_ms() - t_start;
    }
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (c->nodes[i]->active) curl_multi_remove_handle(c->m, c->nodes[i]->h);
        curl_easy_cleanup(c->nodes[i]->h);
        tkms_net_body_free(&c->nodes[i]->body);
        free(c->nodes[i]);
    }
    free(c->nodes);
    free(c->rep);
    if (c->m) curl_multi_cleanup(c->m);
    curl_slist_free_all(c->hdrs);
    free(c->req_body);
    for (size_t i = 0; i < c->n_b; i++) bucket_free(&c->b[i]);
    free(c->tip);
    if (c->scratch) OPENSSL_cleanse(c->scratch, c->scratch_len);
    free(c->scratch);
    tkms_client_evidence_free(&ev);
    OPENSSL_cleanse(c->sk, sizeof c->sk);
    if (st != TKMS_CLIENT_OK && key) tkms_client_key_wipe(key);
    return st;
}
