/* tkms sign: cluster signatures (docs/security.md, "Cluster signatures"). `approve` and `revoke`
 * act on this operator's own node only; `tkms sign` then collects from every node in parallel the
 * partials of the nodes whose operators approved (nodecli.c moves the bytes) and hands each signed
 * response to libtkms-client's collector (src/client/collect.h), which checks it, follows newer
 * epochs through certified group files, batch-checks the partials, combines t of one epoch and
 * checks the result under the group file's MPK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "appkey.h"
#include "cli.h"
#include "collect.h"
#include "g1.h"
#include "h2c.h"
#include "nodecli.h"
#include "tbls.h"

static int usage_sign(int ok) {
    fprintf(ok ? stdout : stderr,
            "usage: tkms sign approve --group FILE --msg HEX (--node-config CFG | --token-file F --node I)\n"
            "                         [--ttl-s S] [--timeout-ms N]\n"
            "       tkms sign revoke  --group FILE --msg HEX (--node-config CFG | --token-file F --node I)\n"
            "       tkms sign --group FILE --msg HEX [--timeout-ms N] [--json]\n\n"
            "Cluster signatures: BLS min-sig under the group's MPK with DST\n"
            "  %s.\n"
            "A node releases its partial signature on a message only once its own operator approved it, so\n"
            "a cluster signature means that at least t operators each approved the message.\n"
            "approve: this operator approves the message on its own node, for S seconds (default 86400, at\n"
            "  most 2592000). Credentials: the node's config (--node-config; the node's identity key signs\n"
            "  the request) or the node's own admin token (--token-file F, default $TKMS_ADMIN_TOKEN_FILE,\n"
            "  with --node I, the node's index in the group file). Prints {\"node\", \"approved\", \"expires_ms\"}.\n"
            "revoke: withdraws this operator's approval (same credentials).\n"
            "sign: asks every member for its partial (no credentials), verifies each response and partial,\n"
            "  combines t of one epoch and checks the signature under the MPK; prints it as hex.\n"
            "Exit 0 ok; 1 invalid answers or a refused approval; 2 usage, unreachable node or not enough\n"
            "approvals (one line per node that gave no partial, e.g. not_approved).\n",
            TKMS_DST_CLUSTER_SIGN);
    return ok ? CLI_OK : CLI_USAGE;
}

/* Checks that a 200 response carries the member's envelope signature (method RESPONSE, no
 * destination) over this path. */
static int response_signed(const ncli_req *r, const uint8_t member_ed[32], const char *path) {
    uint8_t key[32], sig[64];
    uint64_t ts = 0;
    return r->resp_key && r->resp_time && r->resp_sig && node_unhex(key, 32, r->resp_key) &&
           node_unhex(sig, 64, r->resp_sig) && !memcmp(key, member_ed, 32) && node_parse_u64(r->resp_time, &ts) &&
           node_envelope_verify(sig, key, "", "RESPONSE", path, ts, (const uint8_t *)r->resp, r->resp_len);
}

static const char *resp_code(const ncli_req *r, json_t **j) {
    *j = json_loadb(r->resp ? r->resp : "", r->resp_len, 0, NULL);
    json_t *c = *j ? json_object_get(json_object_get(*j, "error"), "code") : NULL;
    return json_is_string(c) ? json_string_value(c) : "";
}

static const char *resp_msg(json_t *j) {
    json_t *e = json_object_get(json_object_get(j, "error"), "message");
    return json_is_string(e) ? json_string_value(e) : "";
}

static int load_group(node_group *g, const char *gpath) {
    tkms_status st = {0};
    size_t glen = 0;
    char *gjson = node_read_file(gpath, &glen, 16 << 20, &st);
    int ok = gjson && node_group_parse(g, gjson, &st);
    free(gjson);
    if (!ok) cli_fail(CLI_USAGE, "%s", st.msg);
    return ok;
}

static int parse_timeout(int argc, char **argv, long *timeout) {
    const char *v = cli_opt(argc, argv, "--timeout-ms");
    uint64_t t = 5000;
    if (v && (!node_parse_u64(v, &t) || t < 1 || t > 600000)) return cli_fail(CLI_USAGE, "--timeout-ms must be 1..600000"), 0;
    *timeout = (long)t;
    return 1;
}

/* tkms sign approve|revoke: one request to this operator's own node. */
static int sign_own(int argc, char **argv, int revoke) {
    static const char *const allowed[] = {"--group", "--msg", "--node-config", "--token-file", "--node", "--ttl-s",
                                          "--timeout-ms", "--help!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    if (cli_flag(argc, argv, "--help")) return usage_sign(1);
    const char *gpath = cli_opt(argc, argv, "--group"), *mhex = cli_opt(argc, argv, "--msg");
    const char *cfg = cli_opt(argc, argv, "--node-config"), *tok = cli_opt(argc, argv, "--token-file");
    const char *nodes = cli_opt(argc, argv, "--node"), *ttls = cli_opt(argc, argv, "--ttl-s");
    if (!gpath || !mhex) return usage_sign(0);
    if (cfg && (tok || nodes)) return cli_fail(CLI_USAGE, "give either --node-config or --token-file with --node, not both");
    if (!cfg && !nodes) return cli_fail(CLI_USAGE, "name your own node: --node-config CFG, or --token-file F with --node I");
    if (revoke && ttls) return cli_fail(CLI_USAGE, "--ttl-s applies to approve only");
    uint64_t ttl = 0, idx = 0;
    if (ttls && (!node_parse_u64(ttls, &ttl) || ttl < 1 || ttl > 2592000))
        return cli_fail(CLI_USAGE, "--ttl-s must be 1..2592000 (30 days)");
    long timeout;
    if (!parse_timeout(argc, argv, &timeout)) return CLI_USAGE;
    size_t mlen = 0;
    uint8_t *msg = node_unhex_alloc(mhex, &mlen);
    if (!msg) return cli_fail(CLI_USAGE, "--msg must be hex");
    node_group *g = calloc(1, sizeof *g);
    if (!g || !load_group(g, gpath)) {
        free(g);
        free(msg);
        return CLI_USAGE;
    }
    ncli_auth auth;
    int rc = CLI_USAGE;
    char *body = NULL;
    const tkms_dkg_member *me = NULL;
    uint32_t me_idx = 0;
    if (!ncli_auth_load(&auth, cfg, tok)) goto out_noauth;
    if (cfg) {
        me_idx = node_group_index(g, auth.ed_pk);
        me = me_idx ? &g->g.members[me_idx - 1] : NULL;
        if (!me) {
            char kh[65];
            tkms_hex(kh, auth.ed_pk, 32);
            cli_fail(CLI_USAGE, "the node of %s (key %.16s...) is not a member of the group in %s", cfg, kh, gpath);
            goto out;
        }
    } else {
        if (!node_parse_u64(nodes, &idx) || idx < 1 || idx > g->g.n) {
            cli_fail(CLI_USAGE, "--node must be a member index 1..%zu of the group file", g->g.n);
            goto out;
        }
        me_idx = (uint32_t)idx;
        me = &g->g.members[idx - 1];
    }
    char *mh = malloc(2 * mlen + 1);
    if (!mh) {
        cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    {
        tkms_hex(mh, msg, mlen);
        json_t *bj = json_pack("{s:s}", "msg", mh);
        free(mh);
        if (ttls) json_object_set_new(bj, "ttl_s", json_integer((json_int_t)ttl));
        body = json_dumps(bj, JSON_COMPACT);
        json_decref(bj);
        const char *path = revoke ? "/v1/sign/revoke" : "/v1/sign/approve";
        ncli_req r = {.url = strdup(me->address), .path = strdup(path), .method = "POST", .body = (const uint8_t *)body,
                      .body_len = body ? strlen(body) : 0};
        ncli_run(&r, 1, &auth, timeout);
        uint8_t h[32];
        char hh[65];
        SHA256(msg, mlen, h);
        tkms_hex(hh, h, 32);
        json_t *j = NULL;
        if (!r.ok) {
            rc = cli_fail(CLI_USAGE, "node %u (%s): %s", me_idx, me->address, r.err);
        } else if (r.status != 200) {
            const char *code = resp_code(&r, &j);
            rc = cli_fail(r.status == 401 || r.status == 403 || r.status == 400 ? CLI_REJECT : CLI_USAGE,
                          "node %u (%s) refused: HTTP %ld %s: %s", me_idx, me->address, r.status, code, resp_msg(j));
        } else if (!response_signed(&r, me->sign_pk, path)) {
            rc = cli_fail(CLI_REJECT, "node %u (%s): response not signed by the member's key", me_idx, me->address);
        } else {
            j = json_loadb(r.resp, r.resp_len, 0, NULL);
            const char *got = json_string_value(json_object_get(j, revoke ? "revoked" : "approved"));
            json_t *exp = json_object_get(j, "expires_ms");
            if (!got || strcmp(got, hh) || (!revoke && !json_is_integer(exp))) {
                rc = cli_fail(CLI_REJECT, "node %u (%s): unexpected answer %s", me_idx, me->address, r.resp);
            } else {
                json_t *o = revoke ? json_pack("{s:i, s:s, s:s, s:b}", "node", (int)me_idx, "address", me->address, "revoked",
                                               hh, "was_approved", json_is_true(json_object_get(j, "was_approved")))
                                   : json_pack("{s:i, s:s, s:s, s:O}", "node", (int)me_idx, "address", me->address,
                                               "approved", hh, "expires_ms", exp);
                char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (t) puts(t);
                free(t);
                json_decref(o);
                rc = CLI_OK;
            }
        }
        json_decref(j);
        ncli_req_free(&r);
    }
out:
    ncli_auth_wipe(&auth);
out_noauth:
    free(body);
    free(msg);
    node_group_free(g);
    free(g);
    return rc;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* tkms sign: collects the partials of the nodes whose operators approved msg. */
static int sign_collect(int argc, char **argv) {
    double t_start = mono_s();
    static const char *const allowed[] = {"--group", "--msg", "--node-config", "--token-file", "--timeout-ms", "--json!",
                                          "--help!", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    if (cli_flag(argc, argv, "--help")) return usage_sign(1);
    const char *gpath = cli_opt(argc, argv, "--group"), *mhex = cli_opt(argc, argv, "--msg");
    if (cli_opt(argc, argv, "--node-config") || cli_opt(argc, argv, "--token-file"))
        return cli_fail(CLI_USAGE, "tkms sign takes no credentials: each operator first approves the message on its own "
                                   "node with 'tkms sign approve', then anyone collects with 'tkms sign' (see --help)");
    if (!gpath || !mhex) return usage_sign(0);
    long timeout;
    if (!parse_timeout(argc, argv, &timeout)) return CLI_USAGE;
    size_t mlen = 0;
    uint8_t *msg = node_unhex_alloc(mhex, &mlen);
    if (!msg) return cli_fail(CLI_USAGE, "--msg must be hex");
    node_group *g = calloc(1, sizeof *g);
    if (!g || !load_group(g, gpath)) {
        free(g);
        free(msg);
        return CLI_USAGE;
    }
    char *mh = malloc(2 * mlen + 1);
    tkms_hex(mh, msg, mlen);
    json_t *bj = json_pack("{s:s}", "msg", mh);
    free(mh);
    char *body = json_dumps(bj, JSON_COMPACT);
    json_decref(bj);
    ncli_req *rq = calloc(g->g.n, sizeof *rq);
    for (uint32_t i = 0; i < g->g.n; i++) {
        rq[i].url = strdup(g->g.members[i].address);
        rq[i].path = strdup("/v1/sign");
        rq[i].method = "POST";
        rq[i].body = (const uint8_t *)body;
        rq[i].body_len = strlen(body);
    }
    ncli_run(rq, g->g.n, NULL, timeout);

    /* the answers go to the client library's collector (src/client/collect.h): the response checks
     * beyond the envelope, the chain walk to a newer epoch, the batch check, combine, MPK check */
    g1_t hmp;
    g1_affine_t hm;
    h2c_hash_to_g1(&hmp, msg, mlen, (const uint8_t *)TKMS_DST_CLUSTER_SIGN, TKMS_TAG_LEN(TKMS_DST_CLUSTER_SIGN));
    g1_to_affine(&hm, &hmp);
    cl_collect_cfg ccfg = {.group = &g->g, .hm = &hm};
    cl_collect *col = cl_collect_new(&ccfg);
    size_t *rows = calloc(g->g.n, sizeof *rows);
    int rc = CLI_USAGE;
    if (!col || !rows) {
        rc = cli_fail(CLI_USAGE, "out of memory");
        goto done;
    }
    size_t invalid = 0;
    char problems[4096] = "";
    /* every member asked is a target before any answer (a newer epoch adds its other members) */
    for (uint32_t i = 0; i < g->g.n; i++) rows[i] = cl_collect_target(col, rq[i].url, i + 1, g->g.epoch);
    for (uint32_t i = 0; i < g->g.n; i++) {
        ncli_req *r = &rq[i];
        char line[512] = "";
        json_t *j = NULL;
        if (rows[i] == SIZE_MAX) {
            snprintf(line, sizeof line, "node %u (%s): not asked (duplicate address)", (i + 1), r->url);
        } else if (!r->ok) {
            snprintf(line, sizeof line, "node %u (%s): %s", (i + 1), r->url, r->err);
            cl_collect_set(col, rows[i], TKMS_CLIENT_NODE_UNREACHABLE, "unreachable", "%.150s", r->err);
        } else if (r->status != 200) {
            const char *c = resp_code(r, &j);
            snprintf(line, sizeof line, "node %u (%s): HTTP %ld%s%s%s", (i + 1), r->url, r->status,
                     c[0] ? " " : "", c, !strcmp(c, "not_approved") ? " (its operator has not approved this message)" : "");
            cl_collect_set(col, rows[i], r->status >= 500 ? TKMS_CLIENT_NODE_SERVER_ERROR : TKMS_CLIENT_NODE_REFUSED,
                           c[0] ? c : "refused", "HTTP %ld", r->status);
            cl_collect_row(col, rows[i])->http_status = r->status;
        } else {
            /* the response is signed by the node's identity key (the envelope headers) */
            int authentic = response_signed(r, g->g.members[i].sign_pk, "/v1/sign");
            cl_feed f = cl_collect_feed_sign(col, rows[i], (const uint8_t *)r->resp, r->resp_len, authentic);
            const char *base;
            uint64_t epoch;
            while (f == CL_FEED_NEED_GROUP && cl_collect_wants_group(col, &base, &epoch)) {
                /* the cluster reshared since the group file was written: each later group must
                 * follow from the one before (same MPK, certified by the old members) */
                char p[64];
                snprintf(p, sizeof p, "/v1/group?epoch=%llu", (unsigned long long)epoch);
                ncli_req fr = {.url = strdup(base), .path = strdup(p), .method = "GET"};
                if (fr.url && fr.path) ncli_run(&fr, 1, NULL, timeout);
                else snprintf(fr.err, sizeof fr.err, "out of memory");
                int got = fr.ok && fr.status == 200 && fr.resp;
                char why[300];
                snprintf(why, sizeof why, "GET %s: %.200s", p, fr.ok ? "HTTP error" : fr.err);
                f = cl_collect_group(col, got ? (const uint8_t *)fr.resp : NULL, got ? fr.resp_len : 0, why);
                ncli_req_free(&fr);
            }
            const tkms_client_node_report *row = cl_collect_row(col, rows[i]);
            if (row->state != TKMS_CLIENT_NODE_VALID) snprintf(line, sizeof line, "node %u (%s): %s", (i + 1), r->url, row->detail);
        }
        json_decref(j);
        if (line[0] && strlen(problems) + strlen(line) + 4 < sizeof problems) {
            strcat(problems, "\n  ");
            strcat(problems, line);
        }
    }
    int done = cl_collect_quorum(col, 1);
    /* what failed verification, and how many well-formed partials there were */
    size_t ng = 0;
    for (uint32_t i = 0; i < g->g.n; i++) {
        if (rows[i] == SIZE_MAX) continue;
        const tkms_client_node_report *row = cl_collect_row(col, rows[i]);
        tkms_client_node_state st = row->state;
        ng += st == TKMS_CLIENT_NODE_VALID || st == TKMS_CLIENT_NODE_BAD_PARTIAL;
        invalid += st == TKMS_CLIENT_NODE_BAD_PARTIAL || st == TKMS_CLIENT_NODE_BAD_SIGNATURE ||
                   st == TKMS_CLIENT_NODE_BAD_RESPONSE;
        char line[512];
        snprintf(line, sizeof line, "node %u (%s): %s", (i + 1), rq[i].url, row->detail);
        if (st == TKMS_CLIENT_NODE_BAD_PARTIAL && strlen(problems) + strlen(line) + 4 < sizeof problems) {
            strcat(problems, "\n  ");
            strcat(problems, line);
        }
    }
    g1_affine_t out;
    tkms_status cerr = {0};
    tkms_client_status cst = done ? cl_collect_verdict(col, &out, &cerr) : TKMS_CLIENT_E_QUORUM;
    if (cst == TKMS_CLIENT_OK) {
        tkms_client_report rep = {0};
        cl_collect_report(col, &rep); /* the epoch combined and its threshold */
        uint64_t used_epoch = rep.epoch;
        size_t used_t = rep.t;
        tkms_client_report_free(&rep);
        uint8_t sb[48];
        g1_serialize(sb, &out);
        if (cli_flag(argc, argv, "--json")) {
            char sh[97];
            cli_hex_encode(sh, sb, 48);
            double worst = 0;
            for (uint32_t i = 0; i < g->g.n; i++)
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
    } else if (cst != TKMS_CLIENT_E_QUORUM) {
        rc = cli_fail(CLI_REJECT, "invalid partial signatures: %s%s", cerr.msg, problems);
    } else if (invalid && ng >= g->g.t) {
        rc = cli_fail(CLI_REJECT, "invalid partial signatures: %zu of %zu answers failed verification%s", invalid, ng, problems);
    } else {
        size_t best, need;
        uint64_t best_epoch;
        cl_collect_best(col, &best, &need, &best_epoch);
        rc = cli_fail(CLI_USAGE, "not enough nodes: %zu valid partial signature%s of the %zu needed (epoch %llu)%s",
                      best ? best : ng, (best ? best : ng) == 1 ? "" : "s", need, (unsigned long long)best_epoch, problems);
    }
done:
    cl_collect_free(col);
    free(rows);
    for (uint32_t i = 0; i < g->g.n; i++) ncli_req_free(&rq[i]);
    free(rq);
    free(body);
    free(msg);
    node_group_free(g);
    free(g);
    return rc;
}

int cmd_sign(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "approve")) return sign_own(argc - 1, argv + 1, 0);
    if (argc >= 2 && !strcmp(argv[1], "revoke")) return sign_own(argc - 1, argv + 1, 1);
    if (argc >= 2 && strncmp(argv[1], "--", 2)) return cli_fail(CLI_USAGE, "unknown 'sign' sub-command '%s' (see --help)", argv[1]);
    return sign_collect(argc, argv);
}
