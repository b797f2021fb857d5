/* libtkms-client: the sans-I/O collector of threshold partials (collect.h). */
#include "collect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "client_internal.h"
#include "hpke.h"
#include "identity.h"
#include "tbls.h"

#define MAX_BUCKETS 8
#define MAX_EPOCH_WALK 100000u
#define HPKE_INFO TKMS_INFO_PARTIAL_KEY

/* Partials of one epoch. */
typedef struct {
    tkms_group *g;
    g2_affine_t *pks;               /* PK_1..PK_n */
    tbls_partial *ok, *pend;        /* verified / not yet batch-checked */
    size_t *ok_rep, *pend_rep;      /* their report rows */
    size_t n_ok, n_pend;
    uint8_t *seen;                  /* index already answered (n + 1 entries) */
} bucket;

/* A response that waits for the group of a newer epoch. */
typedef struct {
    int active, kind;               /* kind: 1 key response, 2 sign response */
    size_t rep;
    uint64_t epoch;
    uint32_t index;
    uint8_t app[20], enc[32], ct[64], sig[64];
    g1_affine_t part;               /* sign: the parsed partial */
} pending_t;

struct cl_collect {
    tkms_client_log_fn log;
    void *log_ctx;
    g1_affine_t hm;
    g2_affine_t mpk;                /* poly[0] of the trusted group */
    uint64_t file_epoch;
    size_t file_t;
    /* key release */
    uint8_t app_id[20], recipient[32], nonce[32], sk[32];
    /* targets: report rows and the full addresses */
    tkms_client_node_report *rep;
    char (*addr)[TKMS_DKG_ADDR_MAX];
    size_t n_rep, cap_rep;
    bucket b[MAX_BUCKETS];
    size_t n_b;
    tkms_group *tip;                /* newest verified group (chain walk) */
    /* the groups the tip passed, newest last: a node may still answer for one of them (the walk
     * may have been led past the committee's epoch by one node's announcement) */
    tkms_group *passed[MAX_BUCKETS];
    size_t n_passed;
    bucket *done;
    pending_t pend;
    double ms_verify;
    void *scratch;
    size_t scratch_len;
};

static void logf_(cl_collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(cl_collect *c, const char *fmt, ...) {
    if (!c->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->log(c->log_ctx, line);
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

static int scratch_for(cl_collect *c, size_t k) {
    size_t need = tbls_scratch_size(k);
    if (need <= c->scratch_len) return 1;
    if (c->scratch) OPENSSL_cleanse(c->scratch, c->scratch_len);
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
static bucket *bucket_new(cl_collect *c, tkms_group *g) {
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

static bucket *bucket_find(cl_collect *c, uint64_t epoch) {
    for (size_t i = 0; i < c->n_b; i++)
        if (c->b[i].g->epoch == epoch) return &c->b[i];
    return NULL;
}

/* ---- life cycle and targets ---- */

cl_collect *cl_collect_new(const cl_collect_cfg *cfg) {
    cl_collect *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->log = cfg->log;
    c->log_ctx = cfg->log_ctx;
    c->hm = *cfg->hm;
    c->mpk = cfg->group->poly[0];
    c->file_epoch = cfg->group->epoch;
    c->file_t = cfg->group->t;
    c->tip = malloc(sizeof *c->tip);
    tkms_group *g0 = malloc(sizeof *g0);
    if (!c->tip || !g0) {
        free(g0);
        cl_collect_free(c);
        return NULL;
    }
    memcpy(c->tip, cfg->group, sizeof *c->tip);
    memcpy(g0, cfg->group, sizeof *g0);
    if (!bucket_new(c, g0)) {
        cl_collect_free(c);
        return NULL;
    }
    return c;
}

void cl_collect_free(cl_collect *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_b; i++) bucket_free(&c->b[i]);
    free(c->tip);
    for (size_t i = 0; i < c->n_passed; i++) free(c->passed[i]);
    free(c->rep);
    free(c->addr);
    if (c->scratch) OPENSSL_cleanse(c->scratch, c->scratch_len);
    free(c->scratch);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

void cl_collect_set_release(cl_collect *c, const uint8_t app_id[20], const uint8_t recipient[32], const uint8_t nonce[32],
                            const uint8_t sk[32]) {
    memcpy(c->app_id, app_id, 20);
    memcpy(c->recipient, recipient, 32);
    memcpy(c->nonce, nonce, 32);
    memcpy(c->sk, sk, 32);
}

size_t cl_collect_target(cl_collect *c, const char *address, uint32_t index, uint64_t epoch) {
    for (size_t i = 0; i < c->n_rep; i++)
        if (!strcmp(c->addr[i], address)) return SIZE_MAX; /* already asked */
    size_t cap = c->cap_rep;
    if (!grow((void **)&c->rep, &c->cap_rep, c->n_rep + 1, sizeof *c->rep)) return SIZE_MAX;
    if (!grow((void **)&c->addr, &cap, c->n_rep + 1, sizeof *c->addr)) {
        c->cap_rep = cap; /* keep both arrays the same size */
        return SIZE_MAX;
    }
    tkms_client_node_report *r = &c->rep[c->n_rep];
    memset(r, 0, sizeof *r);
    snprintf(r->address, sizeof r->address, "%s", address);
    snprintf(c->addr[c->n_rep], sizeof c->addr[c->n_rep], "%s", address);
    r->index = index;
    r->epoch = epoch;
    return c->n_rep++;
}

size_t cl_collect_n_targets(const cl_collect *c) { return c->n_rep; }
const char *cl_collect_address(const cl_collect *c, size_t row) { return c->addr[row]; }
tkms_client_node_report *cl_collect_row(cl_collect *c, size_t row) { return &c->rep[row]; }
double cl_collect_ms_verify(const cl_collect *c) { return c->ms_verify; }

void cl_collect_set(cl_collect *c, size_t rep, tkms_client_node_state s, const char *code, const char *fmt, ...) {
    tkms_client_node_report *r = &c->rep[rep];
    r->state = s;
    snprintf(r->code, sizeof r->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}
#define set_state cl_collect_set

/* The report's state names (public: client.h); here, beside the states the collector sets. */
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

/* ---- group chain ---- */

/* A bucket for a verified group of the chain (a copy of it); asks the members of that epoch that
 * the group file did not list. */
static bucket *group_bucket(cl_collect *c, const tkms_group *g, char *why, size_t whylen) {
    tkms_group *copy = malloc(sizeof *copy);
    if (copy) memcpy(copy, g, sizeof *copy);
    bucket *b = copy ? bucket_new(c, copy) : NULL;
    if (!b) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    uint64_t epoch = b->g->epoch;
    for (size_t i = 0; i < b->g->n; i++)
        if (cl_collect_target(c, b->g->members[i].address, (uint32_t)(i + 1), epoch) != SIZE_MAX)
            logf_(c, "asking node %zu of epoch %llu (%s)", i + 1, (unsigned long long)epoch, b->g->members[i].address);
    return b;
}

/* The bucket of `epoch`, or NULL: then either *walk is set (a newer epoch: fetch groups) or the
 * row's refusal is written into why. */
static bucket *epoch_bucket(cl_collect *c, uint64_t epoch, int *walk, char *why, size_t whylen) {
    *walk = 0;
    bucket *b = bucket_find(c, epoch);
    if (b) return b;
    if (epoch < c->tip->epoch) {
        /* a verified epoch the walk passed: one node's announcement of a newer epoch (even a
         * self-certified forgery of the next committee, which a client cannot tell from a real
         * committee change) must not make the others' answers stale */
        for (size_t i = 0; i < c->n_passed; i++)
            if (c->passed[i]->epoch == epoch) {
                if (c->n_b == MAX_BUCKETS) break;
                return group_bucket(c, c->passed[i], why, whylen);
            }
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
    if (epoch == c->tip->epoch) return group_bucket(c, c->tip, why, whylen);
    *walk = 1;
    return NULL;
}

int cl_collect_wants_group(const cl_collect *c, const char **base, uint64_t *epoch) {
    if (!c->pend.active) return 0;
    *base = c->addr[c->pend.rep];
    *epoch = c->tip->epoch + 1;
    return 1;
}

static void finish_pending(cl_collect *c, bucket *b);

cl_feed cl_collect_group(cl_collect *c, const uint8_t *body, size_t len, const char *transport_err) {
    if (!c->pend.active) return CL_FEED_DONE;
    pending_t *p = &c->pend;
    const char *base = c->addr[p->rep];
    char e2[200];
    tkms_group *g = body ? malloc(sizeof *g) : NULL;
    if (!g || !tkms_group_parse(g, (const char *)body, len, e2, sizeof e2)) {
        if (!body) snprintf(e2, sizeof e2, "%s", transport_err ? transport_err : "no answer");
        else if (!g) snprintf(e2, sizeof e2, "out of memory");
        set_state(c, p->rep, TKMS_CLIENT_NODE_STALE_EPOCH, "stale_epoch",
                  "answered for epoch %llu: cannot fetch the group of epoch %llu: %s", (unsigned long long)p->epoch,
                  (unsigned long long)c->tip->epoch + 1, e2);
        free(g);
        OPENSSL_cleanse(p, sizeof *p);
        return CL_FEED_DONE;
    }
    if (g->epoch != c->tip->epoch + 1 || !tkms_group_verify(g, c->tip, e2, sizeof e2)) {
        if (g->epoch != c->tip->epoch + 1) snprintf(e2, sizeof e2, "it is the group of epoch %llu", (unsigned long long)g->epoch);
        set_state(c, p->rep, TKMS_CLIENT_NODE_STALE_EPOCH, "stale_epoch",
                  "answered for epoch %llu: group of epoch %llu does not follow from the group file: %s",
                  (unsigned long long)p->epoch, (unsigned long long)c->tip->epoch + 1, e2);
        free(g);
        OPENSSL_cleanse(p, sizeof *p);
        return CL_FEED_DONE;
    }
    logf_(c, "verified group file of epoch %llu (n=%zu, t=%zu) from %s", (unsigned long long)g->epoch, g->n, g->t, base);
    /* buckets hold their own copies; the last MAX_BUCKETS passed groups are kept */
    if (c->n_passed == MAX_BUCKETS) {
        free(c->passed[0]);
        memmove(c->passed, c->passed + 1, (MAX_BUCKETS - 1) * sizeof c->passed[0]);
        c->n_passed--;
    }
    c->passed[c->n_passed++] = c->tip;
    c->tip = g;
    if (c->tip->epoch < p->epoch) return CL_FEED_NEED_GROUP;
    char why[256];
    int walk;
    bucket *b = epoch_bucket(c, p->epoch, &walk, why, sizeof why);
    if (!b) {
        set_state(c, p->rep, TKMS_CLIENT_NODE_STALE_EPOCH, "stale_epoch", "answered for epoch %llu: %s",
                  (unsigned long long)p->epoch, why);
        OPENSSL_cleanse(p, sizeof *p);
        return CL_FEED_DONE;
    }
    finish_pending(c, b);
    return CL_FEED_DONE;
}

/* ---- responses ---- */

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && tkms_unhex(out, n, json_string_value(v), json_string_length(v), TKMS_HEX_ANY_CASE);
}

static void on_error_body(cl_collect *c, size_t rep, tkms_client_node_state s, long code, const uint8_t *body, size_t len) {
    json_t *o = body ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    json_t *e = json_object_get(o, "error");
    const char *ec = json_string_value(json_object_get(e, "code")), *em = json_string_value(json_object_get(e, "message"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    if (!ec) ec = json_string_value(json_object_get(o, "code")); /* older daemon error shape */
    char cbuf[48];
    if (!ec) snprintf(cbuf, sizeof cbuf, "http_%ld", code), ec = cbuf;
    set_state(c, rep, s, ec, "HTTP %ld%s%.100s%s%.40s", code, em ? ": " : "", em ? em : "", reason ? " reason=" : "",
              reason ? reason : "");
    json_decref(o);
}

/* The partial becomes pending in its epoch. */
static void accept_partial(bucket *b, size_t rep, uint32_t index, const g1_affine_t *part) {
    b->seen[index] = 1;
    b->pend[b->n_pend].index = index;
    b->pend[b->n_pend].sig = *part;
    b->pend_rep[b->n_pend++] = rep;
}

/* The checks that need the answer's epoch: its index, the member we addressed, then per kind the
 * response signature and the HPKE open (key) or nothing more (sign). */
static void finish_pending(cl_collect *c, bucket *b) {
    pending_t *p = &c->pend;
    size_t rep = p->rep;
    uint64_t epoch = p->epoch;
    uint32_t index = p->index;
    const char *base = c->addr[rep];
    double t1 = cl_now_ms();
    if (index > b->g->n) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "bad_index", "answered as member %u of epoch %llu, which has %zu members",
                  index, (unsigned long long)epoch, b->g->n);
        goto out;
    }
    /* the answer must come from the member we addressed: the same index in the same epoch, or in a
     * later epoch the member listed at our URL */
    if (epoch == c->rep[rep].epoch ? index != c->rep[rep].index : strcmp(b->g->members[index - 1].address, base) != 0) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "index_mismatch",
                  "answered as member %u of epoch %llu, but that member's address is %.60s", index, (unsigned long long)epoch,
                  b->g->members[index - 1].address);
        goto out;
    }
    if (p->kind == 2) {
        if (b->seen[index]) {
            set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "duplicate", "index %u already answered", index);
            goto out;
        }
        accept_partial(b, rep, index, &p->part);
        set_state(c, rep, TKMS_CLIENT_NODE_VALID, "", "signed response for epoch %llu", (unsigned long long)epoch);
        goto out;
    }
    /* signature over the echoed request fields and the ciphertext */
    uint8_t msg[TKMS_PROTO_KEY_RESPONSE_LEN];
    tkms_proto_key_response(msg, p->app, epoch, index, c->recipient, c->nonce, p->enc, p->ct);
    if (!tkms_ed25519_verify(p->sig, b->g->members[index - 1].sign_pk, msg, sizeof msg)) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_SIGNATURE, "bad_signature",
                  "response signature does not verify under member %u's key (epoch %llu)", index, (unsigned long long)epoch);
        goto out;
    }
    if (b->seen[index]) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "duplicate", "index %u already answered", index);
        goto out;
    }
    uint8_t aad[TKMS_PROTO_KEY_AAD_LEN], in[96], pt[48];
    tkms_proto_key_aad(aad, p->app, epoch, index);
    memcpy(in, p->enc, 32), memcpy(in + 32, p->ct, 64);
    int opened = tkms_hpke_open(pt, c->sk, (const uint8_t *)HPKE_INFO, sizeof HPKE_INFO - 1, aad, sizeof aad, in, sizeof in);
    g1_affine_t part;
    int parsed = opened && g1_deserialize(&part, pt, 48, 0) == G1_OK;
    OPENSSL_cleanse(pt, sizeof pt);
    if (!parsed) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, opened ? "bad_point" : "undecryptable",
                  opened ? "partial is not a valid G1 point" : "HPKE ciphertext does not open for our key");
    } else {
        accept_partial(b, rep, index, &part);
        set_state(c, rep, TKMS_CLIENT_NODE_VALID, "", "signed response for epoch %llu, partial decrypted",
                  (unsigned long long)epoch);
    }
    OPENSSL_cleanse(&part, sizeof part);
out:
    c->ms_verify += cl_now_ms() - t1;
    OPENSSL_cleanse(p, sizeof *p);
}

/* Finds the answer's epoch (or starts the walk to it) and finishes the checks. */
static cl_feed route(cl_collect *c) {
    pending_t *p = &c->pend;
    char why[256] = "";
    int walk;
    bucket *b = epoch_bucket(c, p->epoch, &walk, why, sizeof why);
    if (walk) {
        p->active = 1;
        return CL_FEED_NEED_GROUP;
    }
    if (!b) {
        set_state(c, p->rep, TKMS_CLIENT_NODE_STALE_EPOCH, "stale_epoch", "answered for epoch %llu: %s",
                  (unsigned long long)p->epoch, why);
        OPENSSL_cleanse(p, sizeof *p);
        return CL_FEED_DONE;
    }
    finish_pending(c, b);
    return CL_FEED_DONE;
}

cl_feed cl_collect_feed_key(cl_collect *c, size_t rep, long http_status, const uint8_t *body, size_t len) {
    if (c->pend.active || rep >= c->n_rep) return CL_FEED_DONE; /* misuse: finish the walk first */
    c->rep[rep].http_status = http_status;
    if (http_status != 200) {
        on_error_body(c, rep,
                      http_status >= 500 ? TKMS_CLIENT_NODE_SERVER_ERROR : TKMS_CLIENT_NODE_REFUSED, http_status, body,
                      len);
        return CL_FEED_DONE;
    }
    json_error_t je;
    json_t *o = body ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    pending_t *p = &c->pend;
    memset(p, 0, sizeof *p);
    json_t *ep = o ? json_object_get(o, "epoch") : NULL, *ix = o ? json_object_get(o, "index") : NULL;
    json_t *ap = o ? json_object_get(o, "app_id") : NULL;
    if (!json_is_object(o) || json_object_size(o) != 6 || !json_is_integer(ep) || json_integer_value(ep) < 0 ||
        !json_is_integer(ix) || json_integer_value(ix) < 1 || json_integer_value(ix) > TKMS_DKG_MAX_N ||
        !json_is_string(ap) || !tkms_client_parse_app_id(p->app, json_string_value(ap)) || !hexfield(p->enc, 32, o, "enc") ||
        !hexfield(p->ct, 64, o, "ciphertext") || !hexfield(p->sig, 64, o, "signature")) {
        json_decref(o);
        memset(p, 0, sizeof *p);
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "malformed", "response is not the release-protocol JSON");
        return CL_FEED_DONE;
    }
    /* what the node claims; the report keeps naming it by what we addressed (its index and URL in
     * the group file we took the address from), so a lying node cannot put the blame elsewhere */
    p->kind = 1;
    p->rep = rep;
    p->epoch = (uint64_t)json_integer_value(ep);
    p->index = (uint32_t)json_integer_value(ix);
    json_decref(o);
    if (memcmp(p->app, c->app_id, 20) != 0) {
        memset(p, 0, sizeof *p);
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "echo_mismatch", "response is for another app");
        return CL_FEED_DONE;
    }
    return route(c);
}

cl_feed cl_collect_feed_sign(cl_collect *c, size_t rep, const uint8_t *body, size_t len, int authentic) {
    if (c->pend.active || rep >= c->n_rep) return CL_FEED_DONE;
    c->rep[rep].http_status = 200;
    /* the response is signed by the node's identity key (checked by the caller) */
    if (!authentic) {
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_SIGNATURE, "bad_signature", "response not signed by the member's key");
        return CL_FEED_DONE;
    }
    json_t *j = body ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    json_t *e = json_object_get(j, "epoch"), *ix = json_object_get(j, "index"), *pj = json_object_get(j, "partial");
    pending_t *p = &c->pend;
    memset(p, 0, sizeof *p);
    uint8_t pb[48];
    if (!json_is_integer(e) || json_integer_value(e) < 0 || !json_is_integer(ix) || json_integer_value(ix) < 1 ||
        json_integer_value(ix) > TKMS_DKG_MAX_N || !json_is_string(pj) ||
        !tkms_unhex(pb, 48, json_string_value(pj), json_string_length(pj), TKMS_HEX_ANY_CASE) ||
        g1_deserialize(&p->part, pb, 48, 0) != G1_OK) {
        json_decref(j);
        memset(p, 0, sizeof *p);
        set_state(c, rep, TKMS_CLIENT_NODE_BAD_RESPONSE, "malformed", "malformed partial");
        return CL_FEED_DONE;
    }
    p->kind = 2;
    p->rep = rep;
    p->epoch = (uint64_t)json_integer_value(e);
    p->index = (uint32_t)json_integer_value(ix);
    json_decref(j);
    return route(c);
}

/* ---- quorum and verdict ---- */

/* Batch-verifies pending partials when the epoch could reach t; returns 1 when it has t valid. */
static int try_quorum(cl_collect *c, bucket *b, int force) {
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

int cl_collect_quorum(cl_collect *c, int force) {
    if (c->done) return 1;
    for (size_t i = c->n_b; i-- > 0;)
        if (try_quorum(c, &c->b[i], force)) {
            c->done = &c->b[i];
            return 1;
        }
    return 0;
}

void cl_collect_best(const cl_collect *c, size_t *valid, size_t *t, uint64_t *epoch) {
    size_t best = 0, bt = c->file_t;
    uint64_t be = c->file_epoch;
    for (size_t i = 0; i < c->n_b; i++)
        if (c->b[i].n_ok > best) best = c->b[i].n_ok, bt = c->b[i].g->t, be = c->b[i].g->epoch;
    *valid = best;
    *t = bt;
    *epoch = be;
}

static void summarize(const cl_collect *c, char *out, size_t cap) {
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

tkms_client_status cl_collect_verdict(cl_collect *c, g1_affine_t *out, tkms_status *es) {
    cl_status_ok(es);
    if (!c->done) {
        size_t best, t;
        uint64_t e;
        char why[768];
        cl_collect_best(c, &best, &t, &e);
        summarize(c, why, sizeof why);
        return cl_fail(es, TKMS_CLIENT_E_QUORUM, "only %zu valid partial key%s, %zu needed: no key (%s)", best,
                       best == 1 ? "" : "s", t, why[0] ? why : "no answers");
    }
    /* combine the first t valid partials, then check the result under the trusted MPK */
    bucket *b = c->done;
    size_t t = b->g->t;
    g1_t k;
    if (!scratch_for(c, t) || !tbls_combine(&k, b->ok, t, c->scratch)) {
        OPENSSL_cleanse(&k, sizeof k);
        return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "combine failed");
    }
    g1_to_affine(out, &k);
    OPENSSL_cleanse(&k, sizeof k);
    int ok = tbls_verify_partial(out, &c->hm, &c->mpk);
    if (!ok) return cl_fail(es, TKMS_CLIENT_E_VERIFY, "combined key does not verify against the MPK");
    for (size_t i = 0; i < b->n_ok; i++) c->rep[b->ok_rep[i]].state = i < t ? TKMS_CLIENT_NODE_USED : TKMS_CLIENT_NODE_VALID;
    logf_(c, "combined %zu partials of epoch %llu; key verified against the MPK", t, (unsigned long long)b->g->epoch);
    return TKMS_CLIENT_OK;
}

void cl_collect_report(cl_collect *c, tkms_client_report *rep) {
    rep->n = c->b[0].g->n;
    rep->t = c->file_t;
    rep->epoch = c->done ? c->done->g->epoch : c->file_epoch;
    if (c->done) rep->n = c->done->g->n, rep->t = c->done->g->t;
    rep->nodes = c->rep;
    rep->n_nodes = c->n_rep;
    c->rep = NULL;
    c->n_rep = c->cap_rep = 0;
    rep->n_valid = rep->n_bad = 0;
    for (size_t i = 0; i < rep->n_nodes; i++) {
        tkms_client_node_state s = rep->nodes[i].state;
        rep->n_valid += s == TKMS_CLIENT_NODE_USED || s == TKMS_CLIENT_NODE_VALID;
        rep->n_bad += s == TKMS_CLIENT_NODE_BAD_PARTIAL || s == TKMS_CLIENT_NODE_BAD_SIGNATURE || s == TKMS_CLIENT_NODE_BAD_RESPONSE;
    }
    rep->ms_verify = c->ms_verify;
}
