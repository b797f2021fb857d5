/* Mock tkms nodes (tests/tools/mock_node.h): libmicrohttpd servers around the real, HTTP-independent
 * release handler (src/release: tkms_release_handle_key with its own registry holding the mock's
 * app), with a dealt secret (tbls_deal), that misbehave on request: by what they are given (another
 * share, epoch or index) or by corrupting the handler's answer (signature, app echo) or by HTTP
 * (delays, errors, nothing listening). Built as a library for the C tests and the benchmark, and
 * (with MOCK_NODE_MAIN) as the tkms-mock-node program for shell tests. */
#include "mock_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fr.h"
#include "g1.h"
#include "group.h"
#include "identity.h"
#include "proto.h"
#include "release.h"
#include "sha256.h"
#include "tbls.h"

#define MOCK_MAX_EPOCHS 4
#define BODY_MAX (256u << 10)

typedef struct {
    mock_cluster *m;
    uint32_t index;
    uint16_t port;
    struct MHD_Daemon *d;
    atomic_uint requests;
    sqlite3 *db;           /* the node's registry (the mock's app) */
    tkms_release_ctx *rel; /* the real handler, given this node's (possibly faulty) share */
} mock_srv;

struct mock_cluster {
    mock_config cfg;
    atomic_int stopping;
    tkms_identity id[MOCK_MAX_N + 1];
    fr_t share[MOCK_MAX_EPOCHS][MOCK_MAX_N + 1];
    char *group[MOCK_MAX_EPOCHS];
    fr_t forged_share[MOCK_MAX_N + 1]; /* MOCK_FORGED_EPOCH: shares of the forged epoch reshares + 1 */
    char *forged_group;
    g2_affine_t mpk;
    mock_srv srv[MOCK_MAX_N + 1];
};

typedef struct {
    char *p;
    size_t len;
    int over;
} reqbody;

static void derive(uint8_t out[32], const uint8_t seed[32], const char *label, uint32_t a) {
    uint8_t buf[32 + 32 + 4];
    size_t l = strlen(label);
    memcpy(buf, seed, 32);
    memcpy(buf + 32, label, l);
    proto_be32(buf + 32 + l, a);
    sha256(out, buf, 32 + l + 4);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct MHD_Response *r = MHD_create_response_from_buffer(s ? strlen(s) : 0, s ? s : (char *)"", MHD_RESPMEM_MUST_COPY);
    free(s);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg) {
    return reply(c, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

static unsigned served_epoch(const mock_cluster *m) { return m->cfg.reshares; }

/* tbls.c's batch coefficient r_pos for a sub-batch (first, cnt) and seed, as a scalar (docs: the
 * client's tbls_batch_find_bad; 128 bits, top bit set). Reimplemented here on purpose: a colluder
 * that knows the seed can predict it, which is what MOCK_COLLUDE plays. */
static void batch_coef(fr_t *r, const uint8_t seed[32], uint32_t first, uint32_t cnt, uint32_t pos) {
    static const char tag[] = TKMS_TAG_TBLS_BATCH;
    uint8_t buf[sizeof tag - 1 + 32 + 12], h[32], be[32] = {0};
    memcpy(buf, tag, sizeof tag - 1);
    memcpy(buf + sizeof tag - 1, seed, 32);
    proto_be32(buf + sizeof tag - 1 + 32, first);
    proto_be32(buf + sizeof tag - 1 + 36, cnt);
    proto_be32(buf + sizeof tag - 1 + 40, pos);
    sha256(h, buf, sizeof buf);
    /* limbs: lo = be64(h[0..8]), hi = be64(h[8..16]) | 2^63; value = hi * 2^64 + lo */
    memcpy(be + 16, h + 8, 8);
    memcpy(be + 24, h, 8);
    be[16] |= 0x80;
    (void)fr_from_bytes(r, be);
}

/* MOCK_COLLUDE: this node's position among the colluders and its error term. With two colluders
 * at positions 0 and 1 of a two-partial batch, e_0 = r_1 and e_1 = -r_0 make r_0 e_0 + r_1 e_1 = 0. */
static unsigned collude_pos(const mock_cluster *m, uint32_t index, unsigned *count) {
    unsigned pos = 0, cnt = 0;
    for (uint32_t i = 1; i <= m->cfg.n; i++)
        if (m->cfg.fault[i] == MOCK_COLLUDE) {
            if (i < index) pos++;
            cnt++;
        }
    *count = cnt;
    return pos;
}

static void collude_error(const mock_cluster *m, uint32_t index, fr_t *err) {
    unsigned cnt, pos = collude_pos(m, index, &cnt);
    fr_t r;
    fr_from_u64(err, 0);
    if (cnt != 2) return; /* only the two-colluder case is modelled */
    batch_coef(&r, m->cfg.batch_seed, 0, 2, pos ? 0 : 1);
    if (pos) fr_neg(err, &r);
    else *err = r;
}

static void sleep_ms_unless_stopping(const mock_cluster *m, unsigned ms) {
    for (unsigned i = 0; i < ms / 10 && !atomic_load(&m->stopping); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

/* The handler's answer with the app echo or the signature corrupted (MOCK_WRONG_APP,
 * MOCK_BAD_SIGNATURE): the JSON is rewritten with one bit flipped. */
static char *corrupt(const char *resp, mock_fault f) {
    json_t *o = json_loads(resp, 0, NULL);
    const char *k = f == MOCK_WRONG_APP ? "app_id" : "signature";
    const char *v = json_string_value(json_object_get(o, k));
    char *out = NULL;
    if (v) {
        char *c = strdup(v);
        /* app_id: the low bit of its first byte ("0x" + 2 digits); signature: a bit of byte 5 */
        size_t at = f == MOCK_WRONG_APP ? 3 : 10;
        if (c && strlen(c) > at) {
            static const char d[] = "0123456789abcdef";
            const char *pos = strchr(d, c[at]);
            unsigned nib = pos ? (unsigned)(pos - d) : 0;
            c[at] = d[nib ^ (f == MOCK_WRONG_APP ? 1u : 4u)];
            json_object_set_new(o, k, json_string(c));
            out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        }
        free(c);
    }
    json_decref(o);
    return out;
}

static enum MHD_Result key_release(mock_srv *s, struct MHD_Connection *c, const char *body, size_t len) {
    mock_cluster *m = s->m;
    mock_fault f = m->cfg.fault[s->index];
    unsigned nreq = atomic_fetch_add(&s->requests, 1) + 1;
    if (f == MOCK_TIMEOUT) sleep_ms_unless_stopping(m, m->cfg.sleep_ms ? m->cfg.sleep_ms : 3000);
    if (f == MOCK_COLLUDE) {
        unsigned cnt;
        sleep_ms_unless_stopping(m, collude_pos(m, s->index, &cnt) * m->cfg.sleep_ms);
    }
    if (f == MOCK_5XX) return error(c, 500, "internal", "injected server error");
    if (f == MOCK_FLAKY && nreq == 1) return error(c, 503, "not_ready", "injected: no certified share yet");
    if (f == MOCK_REFUSE) return reply(c, 403, json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "attestation_refused", "message",
                                                          "injected refusal", "reason", "signature"));
    /* the real handler: parsing, registry, insecure-dev verification, K_A,i = s_i * Q_A, HPKE,
     * the signed transcript (with the share, epoch and index mock_start gave this node) */
    char *resp = NULL;
    int status = 500;
    char src[32];
    snprintf(src, sizeof src, "mock-%u", s->index);
    (void)tkms_release_handle_key(s->rel, &resp, &status, body, len, src, (int64_t)time(NULL) * 1000);
    if (!resp) return error(c, 500, "internal", "out of memory");
    if (status == 200 && (f == MOCK_WRONG_APP || f == MOCK_BAD_SIGNATURE)) {
        char *bad = corrupt(resp, f);
        free(resp);
        if (!bad) return error(c, 500, "internal", "corrupt");
        resp = bad;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(resp), resp, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The mock's app: owner key 0x11 * 32, salt 0 (tkms app create --owner-key-file F --salt 00…). */
static void owner_key(uint8_t sk[32], uint8_t salt[32]) {
    memset(sk, 0x11, 32);
    memset(salt, 0, 32);
}

void mock_app_id(uint8_t out[20]) {
    uint8_t sk[32], salt[32], owner[20];
    owner_key(sk, salt);
    if (!tkms_eth_address_of_key(owner, sk)) memset(owner, 0, 20);
    tkms_app_id_derive(out, owner, salt);
}

/* Node index's handler: its registry with the mock's app (insecure-dev allowed) and the share,
 * epoch and index its fault calls for. */
static int node_release(mock_cluster *m, uint32_t index) {
    mock_srv *s = &m->srv[index];
    mock_fault f = m->cfg.fault[index];
    tkms_status err;
    char app[TKMS_APP_ID_TEXT], stmt[160];
    uint8_t id[20], sk[32], salt[32];
    if (sqlite3_open(":memory:", &s->db) != SQLITE_OK || !tkms_registry_init(s->db, &err)) return 0;
    tkms_release_config rc;
    memset(&rc, 0, sizeof rc);
    rc.db = s->db;
    memcpy(rc.ed25519_sk, m->id[index].sign_sk, 32);
    rc.app_rate = rc.source_rate = 1e6; /* tests and the benchmark ask fast */
    rc.app_burst = rc.source_burst = 1e6;
    s->rel = tkms_release_new(&rc);
    OPENSSL_cleanse(rc.ed25519_sk, 32);
    if (!s->rel) return 0;
    mock_app_id(id);
    tkms_app_id_format(app, id);
    snprintf(stmt, sizeof stmt, "{\"app_id\":\"%s\",\"methods\":[\"insecure-dev\"],\"seq\":1}", app);
    char *signed_json = NULL, *resp = NULL;
    int status = 0;
    owner_key(sk, salt);
    int ok = tkms_app_sign_statement(&signed_json, &err, stmt, strlen(stmt), sk, salt) == TKMS_REL_OK &&
             tkms_release_handle_app_update(s->rel, &resp, &status, signed_json, strlen(signed_json), "mock", 0) == TKMS_REL_OK;
    OPENSSL_cleanse(sk, sizeof sk);
    free(signed_json);
    free(resp);
    if (!ok) return 0;
    /* the share it serves: of the served epoch, or of the epoch before (MOCK_OLD_EPOCH), or of the
     * forged next epoch (MOCK_FORGED_EPOCH); shifted by 1 (MOCK_WRONG_PARTIAL: a valid point that
     * is not s_i * Q_A) or by the colluders' error term (MOCK_COLLUDE) */
    unsigned e = served_epoch(m);
    fr_t sh = m->share[e][index];
    uint64_t ep = e;
    uint32_t ci = index;
    if (f == MOCK_FORGED_EPOCH) ep = e + 1, sh = m->forged_share[index];
    if (f == MOCK_OLD_EPOCH && e > 0) ep = e - 1, sh = m->share[e - 1][index];
    if (f == MOCK_BAD_EPOCH) ep = 99;
    if (f == MOCK_CLAIM_INDEX) ci = (uint32_t)(index % m->cfg.n + 1); /* answers labelled as the next member */
    if (f == MOCK_WRONG_PARTIAL) {
        fr_t one;
        fr_from_u64(&one, 1);
        fr_add(&sh, &sh, &one);
    }
    if (f == MOCK_COLLUDE) {
        fr_t er;
        collude_error(m, index, &er);
        fr_add(&sh, &sh, &er);
    }
    uint8_t sb[32];
    fr_to_bytes(sb, &sh);
    ok = tkms_release_set_epoch(s->rel, ep, ci, sb, !m->cfg.production);
    OPENSSL_cleanse(sb, sizeof sb);
    OPENSSL_cleanse(&sh, sizeof sh);
    return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    mock_srv *s = cls;
    if (!strcmp(method, "GET") && !strcmp(url, "/v1/group")) {
        const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "epoch");
        unsigned e = served_epoch(s->m);
        int forger = s->m->cfg.fault[s->index] == MOCK_FORGED_EPOCH;
        if (q) {
            char *end;
            unsigned long v = strtoul(q, &end, 10);
            if (*end || v > served_epoch(s->m) + (forger ? 1u : 0u))
                return error(c, 404, "not_found", "no certified group for that epoch");
            e = (unsigned)v;
        }
        const char *g = e > served_epoch(s->m) ? s->m->forged_group : s->m->group[e];
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(g), (void *)g, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(method, "POST") != 0 || strcmp(url, "/v1/keys/app") != 0) return error(c, 404, "not_found", "no such endpoint");
    reqbody *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        if (b->len + *upload_size > BODY_MAX) {
            b->over = 1;
        } else {
            char *np = realloc(b->p, b->len + *upload_size + 1);
            if (!np) return MHD_NO;
            b->p = np;
            memcpy(b->p + b->len, upload, *upload_size);
            b->len += *upload_size;
            b->p[b->len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (b->over) return error(c, 413, "too_large", "body too large");
    return key_release(s, c, b->p ? b->p : "", b->len);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    reqbody *b = *con_cls;
    if (b) free(b->p), free(b);
    *con_cls = NULL;
}

/* A port nothing listens on (bound, then closed). */
static uint16_t dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    uint16_t port = 1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* bad_sigs: the members sign another message (a group file nobody certified). */
static char *make_group(mock_cluster *m, unsigned epoch, const g2_affine_t *poly, const uint8_t prev_id[32], int bad_sigs) {
    tkms_group *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    size_t n = m->cfg.n, t = m->cfg.t;
    g->epoch = epoch;
    g->n = n;
    g->t = t;
    g->t_old = epoch ? t : 0;
    g->dev_mode = !m->cfg.production;
    if (epoch) memcpy(g->previous, prev_id, 32);
    else sha256(g->previous, "", 0);
    for (size_t i = 0; i < n; i++) {
        memcpy(g->members[i].sign_pk, m->id[i + 1].sign_pk, 32);
        memcpy(g->members[i].kem_pk, m->id[i + 1].kem_pk, 32);
        snprintf(g->members[i].address, sizeof g->members[i].address, "http://127.0.0.1:%u", m->srv[i + 1].port);
    }
    g->n_qual = epoch ? t : n;
    for (size_t i = 0; i < g->n_qual; i++) g->qual[i] = (uint32_t)(i + 1);
    memcpy(g->poly, poly, t * sizeof *poly);
    tkms_dkg_session_id(g->session, epoch, g->previous, g->members, n, t, g->t_old);
    tkms_dkg_transcript_hash(g->transcript_hash, g->session, g->qual, g->n_qual, g->poly, t);
    uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
    tkms_dkg_cert_message(cm, g->session, g->transcript_hash);
    if (bad_sigs) cm[TKMS_DKG_CERT_MSG_LEN - 1] ^= 1;
    g->n_sigs = n;
    for (size_t i = 0; i < n; i++) {
        g->sig_index[i] = (uint32_t)(i + 1);
        if (!tkms_ed25519_sign(g->sigs[i], m->id[i + 1].sign_sk, cm, sizeof cm)) {
            free(g);
            return NULL;
        }
    }
    char *s = tkms_group_to_json(g, 1);
    free(g);
    return s;
}

mock_cluster *mock_start(const mock_config *cfg) {
    if (cfg->n < 1 || cfg->n > MOCK_MAX_N || cfg->t < 1 || cfg->t > cfg->n || cfg->reshares >= MOCK_MAX_EPOCHS) return NULL;
    mock_cluster *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    size_t n = cfg->n, t = cfg->t;
    uint8_t s32[32];
    fr_t secret;
    derive(s32, cfg->seed, "secret", 0);
    fr_from_bytes_wide(&secret, s32, 32);
    for (uint32_t i = 1; i <= n; i++) {
        derive(s32, cfg->seed, "identity", i);
        if (!tkms_identity_from_seed(&m->id[i], s32)) goto fail;
    }
    /* servers first: the group files carry their ports */
    for (uint32_t i = 1; i <= n; i++) {
        mock_srv *s = &m->srv[i];
        s->m = m;
        s->index = i;
        if (cfg->fault[i] == MOCK_DOWN) {
            s->port = dead_port();
            continue;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL,
                                handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                                completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
        if (!s->d) goto fail;
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        if (!di || !di->port) goto fail;
        s->port = di->port;
    }
    size_t scr_len = tbls_scratch_size(n);
    void *scratch = aligned_alloc(64, (scr_len + 63) / 64 * 64);
    fr_t shares[MOCK_MAX_N];
    g2_affine_t poly[MOCK_MAX_N];
    uint8_t prev_id[32] = {0};
    if (!scratch) goto fail;
    for (unsigned e = 0; e <= cfg->reshares; e++) {
        derive(s32, cfg->seed, "deal", e);
        if (!tbls_deal(shares, poly, &secret, s32, t, n, scratch)) {
            free(scratch);
            goto fail;
        }
        for (uint32_t i = 1; i <= n; i++) m->share[e][i] = shares[i - 1];
        m->group[e] = make_group(m, e, poly, prev_id, 0);
        if (!m->group[e]) {
            free(scratch);
            goto fail;
        }
        tkms_group g;
        if (!tkms_group_parse(&g, m->group[e], strlen(m->group[e]), NULL, 0) || !tkms_group_id(prev_id, &g)) {
            free(scratch);
            goto fail;
        }
        if (e == 0) m->mpk = poly[0];
    }
    /* MOCK_FORGED_EPOCH: the next epoch as a forger presents it (prev_id is the latest group's id) */
    int forgers = 0;
    for (uint32_t i = 1; i <= n; i++) forgers |= cfg->fault[i] == MOCK_FORGED_EPOCH;
    if (forgers) {
        fr_t fsecret = secret;
        if (cfg->forge == MOCK_FORGE_NEW_MPK) {
            derive(s32, cfg->seed, "forged-secret", 0);
            fr_from_bytes_wide(&fsecret, s32, 32);
        }
        derive(s32, cfg->seed, "forged-deal", 0);
        int ok = tbls_deal(shares, poly, &fsecret, s32, t, n, scratch);
        OPENSSL_cleanse(&fsecret, sizeof fsecret);
        for (uint32_t i = 1; ok && i <= n; i++) m->forged_share[i] = shares[i - 1];
        m->forged_group = ok ? make_group(m, cfg->reshares + 1, poly, prev_id, cfg->forge == MOCK_FORGE_UNSIGNED) : NULL;
        if (!m->forged_group) {
            free(scratch);
            goto fail;
        }
    }
    OPENSSL_cleanse(shares, sizeof shares);
    OPENSSL_cleanse(&secret, sizeof secret);
    free(scratch);
    for (uint32_t i = 1; i <= n; i++)
        if (cfg->fault[i] != MOCK_DOWN && !node_release(m, i)) goto fail;
    return m;
fail:
    OPENSSL_cleanse(&secret, sizeof secret);
    mock_stop(m);
    return NULL;
}

void mock_stop(mock_cluster *m) {
    if (!m) return;
    atomic_store(&m->stopping, 1);
    for (size_t i = 1; i <= m->cfg.n; i++)
        if (m->srv[i].d) MHD_stop_daemon(m->srv[i].d);
    for (size_t i = 1; i <= m->cfg.n; i++) {
        tkms_release_free(m->srv[i].rel);
        if (m->srv[i].db) sqlite3_close(m->srv[i].db);
    }
    for (size_t e = 0; e < MOCK_MAX_EPOCHS; e++) free(m->group[e]);
    free(m->forged_group);
    OPENSSL_cleanse(m, sizeof *m);
    free(m);
}

const char *mock_group_json(const mock_cluster *m, unsigned epoch) { return epoch < MOCK_MAX_EPOCHS ? m->group[epoch] : NULL; }

void mock_share(const mock_cluster *m, unsigned epoch, uint32_t index, uint8_t out[32]) { fr_to_bytes(out, &m->share[epoch][index]); }

void mock_mpk(const mock_cluster *m, uint8_t out[96]) { g2_serialize(out, &m->mpk); }

unsigned mock_requests(const mock_cluster *m, uint32_t index) { return atomic_load(&m->srv[index].requests); }

#ifdef MOCK_NODE_MAIN
/* tkms-mock-node: runs a mock cluster until SIGTERM/SIGINT or --lifetime-s, writing the group file
 * (epoch 0), the served epoch's shares and a ready marker. */
#include <signal.h>
#include <sys/stat.h>

static volatile sig_atomic_t g_stop;
static void on_sig(int sig) { (void)sig, g_stop = 1; }

static const char *const FAULTS[] = {"ok",          "wrong-partial", "bad-signature", "timeout",      "5xx",
                                     "down",        "refuse",        "flaky",         "wrong-app",    "claim-index",
                                     "bad-epoch",   "forged-epoch",  "collude",       NULL};

static int write_text(const char *path, const char *s, int mode) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    int ok = fputs(s, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (mode) chmod(path, (mode_t)mode);
    return ok;
}

int main(int argc, char **argv) {
    mock_config cfg = {0};
    const char *group_out = NULL, *shares_out = NULL, *ready = NULL;
    unsigned lifetime = 300;
    memset(cfg.seed, 7, 32);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "tkms-mock-node: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--n")) cfg.n = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--t")) cfg.t = strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seed")) {
            if (!tkms_unhex(cfg.seed, 32, v, strlen(v), TKMS_HEX_ANY_CASE)) return fprintf(stderr, "tkms-mock-node: --seed must be 64 hex\n"), 2;
        } else if (!strcmp(a, "--fault")) {
            char kind[32];
            unsigned idx;
            if (sscanf(v, "%u:%31s", &idx, kind) != 2 || idx < 1 || idx > MOCK_MAX_N) return fprintf(stderr, "bad --fault\n"), 2;
            int k = -1;
            for (int j = 0; FAULTS[j]; j++)
                if (!strcmp(FAULTS[j], kind)) k = j;
            if (k < 0) return fprintf(stderr, "tkms-mock-node: unknown fault '%s'\n", kind), 2;
            cfg.fault[idx] = (mock_fault)k;
        } else if (!strcmp(a, "--reshares")) cfg.reshares = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--sleep-ms")) cfg.sleep_ms = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--production")) cfg.production = atoi(v);
        else if (!strcmp(a, "--group-out")) group_out = v;
        else if (!strcmp(a, "--shares-out")) shares_out = v;
        else if (!strcmp(a, "--ready-file")) ready = v;
        else if (!strcmp(a, "--lifetime-s")) lifetime = (unsigned)strtoul(v, NULL, 10);
        else return fprintf(stderr, "tkms-mock-node: unknown option %s\n", a), 2;
    }
    if (!group_out) return fprintf(stderr, "usage: tkms-mock-node --n N --t T --group-out F [--shares-out F] [--fault I:KIND]... "
                                           "[--reshares R] [--sleep-ms MS] [--seed HEX] [--ready-file F] [--lifetime-s S]\n"), 2;
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    mock_cluster *m = mock_start(&cfg);
    if (!m) return fprintf(stderr, "tkms-mock-node: cannot start\n"), 2;
    int ok = write_text(group_out, mock_group_json(m, 0), 0644);
    if (ok && shares_out) {
        json_t *arr = json_array();
        uint8_t sh[32], mpk[96];
        char hx[193];
        for (uint32_t i = 1; i <= cfg.n; i++) {
            mock_share(m, cfg.reshares, i, sh);
            tkms_hex(hx, sh, 32);
            json_array_append_new(arr, json_pack("{s:i, s:s}", "index", (int)i, "share", hx));
        }
        OPENSSL_cleanse(sh, sizeof sh);
        mock_mpk(m, mpk);
        tkms_hex(hx, mpk, 96);
        json_t *o = json_pack("{s:i, s:i, s:i, s:s, s:o}", "n", (int)cfg.n, "t", (int)cfg.t, "epoch", (int)cfg.reshares, "mpk", hx,
                              "shares", arr);
        char *s = json_dumps(o, JSON_INDENT(1));
        ok = s && write_text(shares_out, s, 0600);
        free(s);
        json_decref(o);
    }
    if (ok && ready) ok = write_text(ready, "ready\n", 0644);
    if (!ok) {
        mock_stop(m);
        return fprintf(stderr, "tkms-mock-node: cannot write output files\n"), 2;
    }
    for (unsigned i = 0; !g_stop && i < lifetime * 10; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    mock_stop(m);
    return 0;
}
#endif
