/* Mock tkms nodes (tests/tools/mock_node.h): libmicrohttpd servers that implement the key-release
 * endpoint of docs/release-protocol.md §1 with a dealt secret (tbls_deal), real insecure-dev
 * verification, HPKE and Ed25519, and can misbehave on request. Built as a library for the C tests
 * and the benchmark, and (with MOCK_NODE_MAIN) as the tkms-mock-node program for shell tests. */
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

#include "appkey.h"
#include "fr.h"
#include "g1.h"
#include "group.h"
#include "hpke.h"
#include "identity.h"
#include "proto.h"
#include "sha256.h"
#include "tbls.h"
#include "tkms/attest.h"

#define MOCK_MAX_EPOCHS 4
#define BODY_MAX (256u << 10)

typedef struct {
    mock_cluster *m;
    uint32_t index;
    uint16_t port;
    struct MHD_Daemon *d;
    atomic_uint requests;
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

static void hexs(char *out, const uint8_t *b, size_t n) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = d[b[i] >> 4], out[2 * i + 1] = d[b[i] & 15];
    out[2 * n] = 0;
}

static int unhex(uint8_t *out, size_t n, const char *s) {
    if (!s || strlen(s) != 2 * n) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}


static void derive(uint8_t out[32], const uint8_t seed[32], const char *label, uint32_t a) {
    uint8_t buf[32 + 32 + 4];
    size_t l = strlen(label);
    memcpy(buf, seed, 32);
    memcpy(buf + 32, label, l);
    proto_be32(buf + 32 + l, a);
    sha256(out, buf, 32 + l + 4);
}

static int b64dec(uint8_t *out, size_t *outlen, size_t cap, const char *in) {
    size_t n = strlen(in);
    if (n % 4) return 0;
    if (n / 4 * 3 > cap + 2) return 0;
    int l = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (l < 0) return 0;
    size_t pad = (n && in[n - 1] == '=') + (n > 1 && in[n - 2] == '=');
    *outlen = (size_t)l - pad;
    return 1;
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
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *app_s = json_string_value(json_object_get(o, "app_id"));
    json_t *att = json_object_get(o, "attestation");
    const char *meth = json_string_value(json_object_get(att, "method"));
    const char *evs = json_string_value(json_object_get(att, "evidence"));
    uint8_t app[20], recipient[32], nonce[32], B[64];
    if (!json_is_object(o) || !app_s || strlen(app_s) != 42 || !unhex(app, 20, app_s + 2) ||
        !unhex(recipient, 32, json_string_value(json_object_get(o, "recipient"))) ||
        !unhex(nonce, 32, json_string_value(json_object_get(o, "nonce"))) || !meth || !evs) {
        json_decref(o);
        return error(c, 400, "bad_request", "malformed request");
    }
    char app_copy[43];
    snprintf(app_copy, sizeof app_copy, "%s", app_s);
    size_t evl = strlen(evs), evn = 0;
    uint8_t *ev = malloc(evl + 3);
    int ok = ev && b64dec(ev, &evn, evl, evs);
    tkms_attest_method am = tkms_attest_method_from_name(meth);
    json_decref(o);
    app_s = app_copy;
    if (!ok || !am) {
        free(ev);
        return error(c, 400, "bad_request", "bad evidence encoding or method");
    }
    if (!tkms_attest_binding(B, app, recipient, nonce, 32)) {
        free(ev);
        return error(c, 500, "internal", "binding");
    }
    tkms_attest_request rq = {.method = am, .evidence = ev, .evidence_len = evn, .binding = B, .now = (int64_t)time(NULL),
                              .flags = m->cfg.production ? 0u : TKMS_ATTEST_F_DEV_MODE};
    tkms_attest_result *res = calloc(1, sizeof *res);
    tkms_attest_replay *rc = tkms_attest_replay_new(16);
    rq.replay = rc;
    tkms_attest_reason r = res ? tkms_attest_verify(res, &rq) : TKMS_ATTEST_E_INTERNAL;
    tkms_attest_replay_free(rc);
    free(ev);
    if (r != TKMS_ATTEST_OK) {
        json_t *e = json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
                              r == TKMS_ATTEST_E_DEV_MODE ? "dev_mode_only" : "attestation_refused", "message",
                              res ? res->message : "oom", "reason", tkms_attest_reason_name(r));
        free(res);
        return reply(c, 403, e);
    }
    char claimed[48];
    snprintf(claimed, sizeof claimed, "%s", res->claims.app_id);
    free(res);
    if (strcasecmp(claimed, app_s) != 0) return error(c, 403, "app_not_bound", "evidence does not name the app");

    /* K_A,i = s_i * Q_A (or a wrong point), HPKE to the recipient, signed */
    unsigned e = served_epoch(m);
    fr_t sh = m->share[e][s->index];
    if (f == MOCK_FORGED_EPOCH) {
        e = served_epoch(m) + 1;
        sh = m->forged_share[s->index];
    }
    if (f == MOCK_OLD_EPOCH && e > 0) {
        e--;
        sh = m->share[e][s->index];
    }
    if (f == MOCK_WRONG_PARTIAL) {
        fr_t one;
        fr_from_u64(&one, 1);
        fr_add(&sh, &sh, &one);
    }
    if (f == MOCK_COLLUDE) {
        fr_t err;
        collude_error(m, s->index, &err);
        fr_add(&sh, &sh, &err);
    }
    g1_t k;
    g1_affine_t ka;
    uint8_t pt[48], out[32 + 64], ikm[32], aad[36];
    appkey_partial(&k, &sh, app);
    g1_to_affine(&ka, &k);
    g1_serialize(pt, &ka);
    OPENSSL_cleanse(&sh, sizeof sh);
    OPENSSL_cleanse(&k, sizeof k);
    if (f == MOCK_WRONG_APP) app[0] ^= 1;
    /* the claimed epoch and index (what a lying node would put in its answer, consistently) */
    uint32_t ci = f == MOCK_CLAIM_INDEX ? (uint32_t)(s->index % m->cfg.n + 1) : s->index;
    if (f == MOCK_BAD_EPOCH) e = 99;
    tkms_proto_key_aad(aad, app, e, ci);
    if (RAND_bytes(ikm, 32) != 1 ||
        !tkms_hpke_seal(out, recipient, (const uint8_t *)TKMS_INFO_PARTIAL_KEY, TKMS_TAG_LEN(TKMS_INFO_PARTIAL_KEY), aad, sizeof aad, pt, 48, ikm)) {
        OPENSSL_cleanse(pt, sizeof pt);
        return error(c, 500, "internal", "hpke");
    }
    OPENSSL_cleanse(pt, sizeof pt);
    uint8_t msg[TKMS_PROTO_KEY_RESPONSE_LEN], sig[64];
    tkms_proto_key_response(msg, app, e, ci, recipient, nonce, out, out + 32);
    if (!tkms_ed25519_sign(sig, m->id[s->index].sign_sk, msg, sizeof msg)) return error(c, 500, "internal", "sign");
    if (f == MOCK_BAD_SIGNATURE) sig[5] ^= 0x40;
    char ah[43] = "0x", eh[65], ch[129], sgh[129];
    hexs(ah + 2, app, 20), hexs(eh, out, 32), hexs(ch, out + 32, 64), hexs(sgh, sig, 64);
    return reply(c, 200, json_pack("{s:s, s:I, s:i, s:s, s:s, s:s}", "app_id", ah, "epoch", (json_int_t)e, "index", (int)ci,
                                   "enc", eh, "ciphertext", ch, "signature", sgh));
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
            if (!unhex(cfg.seed, 32, v)) return fprintf(stderr, "tkms-mock-node: --seed must be 64 hex\n"), 2;
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
            hexs(hx, sh, 32);
            json_array_append_new(arr, json_pack("{s:i, s:s}", "index", (int)i, "share", hx));
        }
        OPENSSL_cleanse(sh, sizeof sh);
        mock_mpk(m, mpk);
        hexs(hx, mpk, 96);
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
