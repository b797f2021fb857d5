/* tkms sign: threshold-sign a message with a running cluster -- asks every node in parallel,
 * verifies each signed response and partial, combines t of one epoch and checks the result under
 * the group file's MPK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "g1.h"
#include "h2c.h"
#include "nodecli.h"
#include "tbls.h"

int cmd_sign(int argc, char **argv);

#define SIGN_DST "TKMS-V1-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"

static int usage_sign(void) {
    fprintf(stderr, "usage: tkms sign --group FILE --msg HEX [--node-config CFG | --token-file F] [--timeout-ms N] [--json]\n\n"
                    "Collects partial signatures (DST %s) from the group's nodes,\n"
                    "verifies them, combines t of them and checks the signature under the group's MPK.\n"
                    "Authenticates as an operator (--node-config, the node's identity key) or with an admin token\n"
                    "(--token-file; default: $TKMS_ADMIN_TOKEN_FILE or admin.token beside the group file).\n"
                    "Prints the 48-byte signature as hex. Exit 0 ok, 1 invalid answers, 2 not enough nodes or usage.\n",
            SIGN_DST);
    return CLI_USAGE;
}

typedef struct {
    uint64_t epoch;
    uint32_t index;
    g1_affine_t sig;
    size_t req;
} got_t;

static int cmp_epoch_desc(const void *a, const void *b) {
    const got_t *x = a, *y = b;
    return x->epoch < y->epoch ? 1 : x->epoch > y->epoch ? -1 : (int)x->index - (int)y->index;
}

/* Verifies and combines the partials of one epoch. Returns 1 and writes sig on success. */
static int combine_epoch(g1_affine_t *out, size_t *n_bad, const group_t *g, const got_t *gs, size_t k,
                         const g1_affine_t *hm) {
    tbls_partial *parts = calloc(k, sizeof *parts);
    g2_affine_t *pks = calloc(k, sizeof *pks);
    uint8_t *bad = calloc(k, 1);
    void *scratch = aligned_alloc(8, (tbls_scratch_size(k) + 7) & ~(size_t)7);
    int ok = parts && pks && bad && scratch;
    for (size_t i = 0; ok && i < k; i++) {
        parts[i].index = gs[i].index;
        parts[i].sig = gs[i].sig;
        g2_t pk;
        tbls_public_share(&pk, g->commitments, g->t, gs[i].index);
        g2_to_affine(&pks[i], &pk);
    }
    uint8_t seed[32];
    g1_t sig;
    ok = ok && node_random(seed, sizeof seed) && tbls_robust_combine(&sig, bad, n_bad, hm, parts, pks, k, g->t, seed, scratch);
    if (ok) {
        g1_to_affine(out, &sig);
        ok = tbls_verify_partial(out, hm, &g->mpk);
    }
    free(parts);
    free(pks);
    free(bad);
    free(scratch);
    return ok;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_sign(int argc, char **argv) {
    double t_start = mono_s();
    static const char *const allowed[] = {"--group", "--msg", "--node-config", "--token-file", "--timeout-ms", "--json!",
                                          "--help!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *gpath = cli_opt(argc, argv, "--group"), *mhex = cli_opt(argc, argv, "--msg");
    if (cli_flag(argc, argv, "--help") || !gpath || !mhex) return usage_sign();
    long timeout = cli_opt(argc, argv, "--timeout-ms") ? strtol(cli_opt(argc, argv, "--timeout-ms"), NULL, 10) : 5000;
    if (timeout <= 0) return cli_fail(CLI_USAGE, "--timeout-ms must be positive");
    size_t mlen = 0;
    uint8_t *msg = node_unhex_alloc(mhex, &mlen);
    if (!msg) return cli_fail(CLI_USAGE, "--msg must be hex");
    node_status st = {0};
    size_t glen = 0;
    char *gjson = node_read_file(gpath, &glen, 16 << 20, &st);
    group_t g;
    if (!gjson || !group_parse(&g, gjson, &st)) {
        free(gjson);
        free(msg);
        return cli_fail(CLI_USAGE, "%s", st.msg);
    }
    free(gjson);
    ncli_auth auth;
    if (!ncli_auth_load(&auth, cli_opt(argc, argv, "--node-config"), cli_opt(argc, argv, "--token-file"), gpath)) {
        group_free(&g);
        free(msg);
        return CLI_USAGE;
    }
    char *mh = malloc(2 * mlen + 1);
    node_hex(mh, msg, mlen);
    json_t *bj = json_pack("{s:s}", "msg", mh);
    free(mh);
    char *body = json_dumps(bj, JSON_COMPACT);
    json_decref(bj);
    ncli_req *rq = calloc(g.n, sizeof *rq);
    for (uint32_t i = 0; i < g.n; i++) {
        rq[i].url = strdup(g.members[i].address);
        rq[i].path = strdup("/v1/sign");
        rq[i].method = "POST";
        rq[i].body = (const uint8_t *)body;
        rq[i].body_len = strlen(body);
    }
    ncli_run(rq, g.n, &auth, timeout);
    ncli_auth_wipe(&auth);

    g1_t hmp;
    g1_affine_t hm;
    h2c_hash_to_g1(&hmp, msg, mlen, (const uint8_t *)SIGN_DST, sizeof SIGN_DST - 1);
    g1_to_affine(&hm, &hmp);
    got_t *gs = calloc(g.n, sizeof *gs);
    size_t ng = 0, invalid = 0;
    char problems[4096] = "";
    for (uint32_t i = 0; i < g.n; i++) {
        ncli_req *r = &rq[i];
        char line[512] = "";
        json_t *j = NULL;
        if (!r->ok) snprintf(line, sizeof line, "%s: %s", r->url, r->err);
        else if (r->status != 200) {
            j = json_loadb(r->resp ? r->resp : "", r->resp_len, 0, NULL);
            json_t *c = j ? json_object_get(j, "code") : NULL;
            snprintf(line, sizeof line, "%s: HTTP %ld%s%s", r->url, r->status, c ? " " : "", c ? json_string_value(c) : "");
        } else {
            uint8_t key[32], sig[64];
            uint64_t rts = 0;
            j = json_loadb(r->resp, r->resp_len, 0, NULL);
            json_t *e = json_object_get(j, "epoch"), *ix = json_object_get(j, "index"), *p = json_object_get(j, "partial");
            uint8_t pb[48];
            /* the response is signed by the node's identity key */
            if (!r->resp_key || !r->resp_time || !r->resp_sig || !node_unhex(key, 32, r->resp_key) ||
                !node_unhex(sig, 64, r->resp_sig) || memcmp(key, g.members[i].ed, 32) ||
                !node_parse_u64(r->resp_time, &rts) ||
                !node_envelope_verify(sig, key, "", "RESPONSE", "/v1/sign", rts, (const uint8_t *)r->resp, r->resp_len)) {
                snprintf(line, sizeof line, "%s: response not signed by the member's key", r->url);
                invalid++;
            } else if (!json_is_integer(e) || !json_is_integer(ix) || json_integer_value(ix) < 1 ||
                       json_integer_value(ix) > MAX_MEMBERS || !json_is_string(p) ||
                       !node_unhex(pb, 48, json_string_value(p)) || g1_deserialize(&gs[ng].sig, pb, 48, 0) != G1_OK) {
                snprintf(line, sizeof line, "%s: malformed partial", r->url);
                invalid++;
            } else {
                gs[ng].epoch = (uint64_t)json_integer_value(e);
                gs[ng].index = (uint32_t)json_integer_value(ix);
                gs[ng].req = i;
                ng++;
            }
        }
        json_decref(j);
        if (line[0] && strlen(problems) + strlen(line) + 4 < sizeof problems) {
            strcat(problems, "\n  ");
            strcat(problems, line);
        }
    }
    qsort(gs, ng, sizeof *gs, cmp_epoch_desc);
    int done = 0;
    g1_affine_t out;
    uint64_t used_epoch = 0;
    uint32_t used_t = g.t;
    size_t need = g.t, best = 0;
    uint64_t best_epoch = g.epoch;
    for (size_t a = 0; a < ng && !done;) {
        size_t b = a;
        while (b < ng && gs[b].epoch == gs[a].epoch) b++;
        group_t ge, *gp = &g;
        int have = 1;
        if (gs[a].epoch != g.epoch) {
            /* the cluster reshared since the group file was written: fetch that epoch's public
             * polynomial; the MPK must be the one we trust */
            have = 0;
            for (size_t k = a; k < b && !have; k++) {
                ncli_req fr = {.url = strdup(rq[gs[k].req].url), .method = "GET"};
                char p[64];
                snprintf(p, sizeof p, "/v1/group?epoch=%llu", (unsigned long long)gs[a].epoch);
                fr.path = strdup(p);
                ncli_run(&fr, 1, NULL, timeout);
                node_status s2;
                if (fr.ok && fr.status == 200 && fr.resp && group_parse(&ge, fr.resp, &s2)) {
                    if (!memcmp(ge.mpk_bytes, g.mpk_bytes, 96)) have = 1;
                    else group_free(&ge);
                }
                ncli_req_free(&fr);
            }
            gp = &ge;
        }
        if (have) {
            size_t n_bad = 0;
            if (b - a >= gp->t && combine_epoch(&out, &n_bad, gp, gs + a, b - a, &hm)) {
                done = 1;
                used_epoch = gs[a].epoch;
                used_t = gp->t;
            } else if (b - a - n_bad > best) {
                best = b - a - n_bad;
                best_epoch = gs[a].epoch;
                need = gp->t;
            }
            invalid += n_bad;
            if (gp != &g) group_free(gp);
        }
        a = b;
    }
    int rc;
    if (done) {
        uint8_t sb[48];
        g1_serialize(sb, &out);
        if (cli_flag(argc, argv, "--json")) {
            char sh[97];
            cli_hex_encode(sh, sb, 48);
            double worst = 0;
            for (uint32_t i = 0; i < g.n; i++)
                if (rq[i].seconds > worst) worst = rq[i].seconds;
            json_t *o = json_pack("{s:s, s:I, s:i, s:i, s:f, s:f}", "signature", sh, "epoch", (json_int_t)used_epoch,
                                  "partials", (int)ng, "threshold", (int)used_t, "requests_s", worst, "total_s",
                                  mono_s() - t_start);
            char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            puts(t);
            free(t);
            json_decref(o);
        } else {
            cli_print_hex(sb, 48);
        }
        rc = CLI_OK;
    } else if (invalid && ng >= g.t) {
        rc = cli_fail(CLI_REJECT, "invalid partial signatures: %zu of %zu answers failed verification%s", invalid, ng, problems);
    } else {
        rc = cli_fail(CLI_USAGE, "not enough nodes: %zu valid partial signature%s of the %zu needed (epoch %llu)%s", best ? best : ng,
                      (best ? best : ng) == 1 ? "" : "s", need, (unsigned long long)best_epoch, problems);
    }
    for (uint32_t i = 0; i < g.n; i++) ncli_req_free(&rq[i]);
    free(rq);
    free(gs);
    free(body);
    free(msg);
    group_free(&g);
    return rc;
}
