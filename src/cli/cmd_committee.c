/* tkms committee: committee-change proposals -- propose (from the current group file, adding and
 * removing members), sign (an operator adds its Ed25519 signature) and submit (to every old and new
 * member; the change takes effect at the next reshare once >= t_old operators have signed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "group.h"
#include "nodecli.h"

static int usage_committee(void) {
    fprintf(stderr,
            "usage: tkms committee propose --group FILE [--add IDENTITY.json]... [--remove INDEX]...\n"
            "                              [--threshold T [--allow-low-threshold]] --out PROPOSAL.json\n"
            "       tkms committee sign --proposal FILE --node-config CFG\n"
            "       tkms committee submit --proposal FILE --group FILE\n\n"
            "IDENTITY.json is what 'tkms node init' printed ({address, ed25519, x25519}). The default new\n"
            "threshold is ceil(2n/3), and a lower one is refused unless --allow-low-threshold is given: it\n"
            "writes \"threshold_override\": true into the proposal (signed like the rest), which lets t go\n"
            "down to floor(n/2)+1, never lower. A proposal needs signatures of at least t current operators.\n");
    return CLI_USAGE;
}

static char *hex_of(const uint8_t *b, size_t n) {
    char *h = malloc(2 * n + 1);
    if (h) tkms_hex(h, b, n);
    return h;
}

static int write_json_file(const char *path, json_t *j) {
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    tkms_status st;
    int ok = t && node_write_file_atomic(path, t, strlen(t), 0644, &st);
    free(t);
    if (!ok) cli_fail(CLI_USAGE, "cannot write %s", path);
    return ok;
}

static int propose(int argc, char **argv) {
    static const char *const allowed[] = {"--group", "--add", "--remove", "--threshold", "--allow-low-threshold!", "--out",
                                          NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *gpath = cli_opt(argc, argv, "--group"), *out = cli_opt(argc, argv, "--out");
    if (!gpath || !out) return usage_committee();
    tkms_status st = {0};
    char *gj = node_read_file(gpath, NULL, 16 << 20, &st);
    tkms_group *tg = malloc(sizeof *tg);
    char err[256];
    if (!gj || !tg || !tkms_group_parse(tg, gj, strlen(gj), err, sizeof err)) {
        free(gj);
        free(tg);
        return cli_fail(CLI_USAGE, "%s: %s", gpath, gj ? err : st.msg);
    }
    free(gj);
    uint8_t gid[32];
    if (!tkms_group_id(gid, tg)) {
        free(tg);
        return cli_fail(CLI_USAGE, "cannot compute the group id");
    }
    int removed[TKMS_DKG_MAX_N + 1] = {0};
    json_t *members = json_array();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--remove") && i + 1 < argc) {
            int x = atoi(argv[++i]);
            if (x < 1 || (size_t)x > tg->n) {
                json_decref(members);
                free(tg);
                return cli_fail(CLI_USAGE, "--remove %s: no such member index", argv[i]);
            }
            removed[x] = 1;
        }
    }
    for (size_t i = 0; i < tg->n; i++) {
        if (removed[i + 1]) continue;
        char *e = hex_of(tg->members[i].sign_pk, 32), *x = hex_of(tg->members[i].kem_pk, 32);
        json_array_append_new(members, json_pack("{s:s, s:s, s:s}", "address", tg->members[i].address, "ed25519", e, "x25519", x));
        free(e);
        free(x);
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--add") || i + 1 >= argc) continue;
        json_t *id = json_load_file(argv[++i], 0, NULL);
        if (!json_is_string(json_object_get(id, "address")) || !json_is_string(json_object_get(id, "ed25519")) ||
            !json_is_string(json_object_get(id, "x25519"))) {
            json_decref(id);
            json_decref(members);
            free(tg);
            return cli_fail(CLI_USAGE, "--add %s: not a node identity ({address, ed25519, x25519})", argv[i]);
        }
        json_array_append_new(members, json_pack("{s:O, s:O, s:O}", "address", json_object_get(id, "address"), "ed25519",
                                                 json_object_get(id, "ed25519"), "x25519", json_object_get(id, "x25519")));
        json_decref(id);
    }
    size_t n = json_array_size(members);
    const char *ts = cli_opt(argc, argv, "--threshold");
    int low = cli_flag(argc, argv, "--allow-low-threshold");
    uint64_t t = NODE_T_DEFAULT((uint32_t)n);
    tkms_status tst = {0};
    if (n < 1 || n > TKMS_DKG_MAX_N || (ts && (!node_parse_u64(ts, &t) || t > n)) ||
        !node_threshold_check((uint32_t)t, (uint32_t)n, low, &tst)) {
        json_decref(members);
        free(tg);
        if (n < 1 || n > TKMS_DKG_MAX_N) return cli_fail(CLI_USAGE, "the new committee needs 1..%d members", TKMS_DKG_MAX_N);
        return cli_fail(CLI_USAGE, "--threshold: %s", tst.msg[0] ? tst.msg : "must be a number in 1..n");
    }
    if (low && !ts) {
        json_decref(members);
        free(tg);
        return cli_fail(CLI_USAGE, "--allow-low-threshold goes with --threshold T");
    }
    char *gh = hex_of(gid, 32);
    json_t *p = json_pack("{s:s, s:I, s:s, s:I, s:o, s:[]}", "type", "tkms-committee-proposal-v1", "epoch",
                          (json_int_t)tg->epoch, "prev_group_id", gh, "threshold", (json_int_t)t, "members", members,
                          "signatures");
    if (p && t < NODE_T_DEFAULT((uint32_t)n)) json_object_set_new(p, "threshold_override", json_true());
    free(gh);
    free(tg);
    int ok = write_json_file(out, p);
    json_decref(p);
    if (ok)
        fprintf(stderr, "proposal for epoch %lld -> n = %zu, t = %llu%s written to %s\n",
                (long long)json_integer_value(json_object_get(p, "epoch")), n, (unsigned long long)t,
                t < NODE_T_DEFAULT((uint32_t)n) ? " (threshold_override)" : "", out);
    return ok ? CLI_OK : CLI_USAGE;
}

static int sign_proposal(int argc, char **argv) {
    const char *pp = cli_opt(argc, argv, "--proposal"), *cfg = cli_opt(argc, argv, "--node-config");
    if (!pp || !cfg) return usage_committee();
    json_t *p = json_load_file(pp, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        return cli_fail(CLI_USAGE, "%s: not a proposal", pp);
    }
    ncli_auth a;
    if (!ncli_auth_load(&a, cfg, NULL)) {
        json_decref(p);
        return CLI_USAGE;
    }
    uint8_t msg[58], sig[64];
    int ok = node_proposal_message(msg, p) && tkms_ed25519_sign(sig, a.ed_sk, msg, sizeof msg);
    char kh[65], sh[129];
    tkms_hex(kh, a.ed_pk, 32);
    tkms_hex(sh, sig, 64);
    ncli_auth_wipe(&a);
    json_t *sigs = json_object_get(p, "signatures");
    if (!json_is_array(sigs)) {
        sigs = json_array();
        json_object_set_new(p, "signatures", sigs);
    }
    size_t i;
    json_t *e;
    json_array_foreach(sigs, i, e) {
        if (json_is_string(json_object_get(e, "ed25519")) && !strcmp(json_string_value(json_object_get(e, "ed25519")), kh)) {
            json_array_remove(sigs, i);
            break;
        }
    }
    json_array_append_new(sigs, json_pack("{s:s, s:s}", "ed25519", kh, "sig", sh));
    ok = ok && write_json_file(pp, p);
    if (ok) fprintf(stderr, "signed by %s (%zu signatures)\n", kh, json_array_size(sigs));
    json_decref(p);
    return ok ? CLI_OK : CLI_USAGE;
}

static int submit(int argc, char **argv) {
    const char *pp = cli_opt(argc, argv, "--proposal"), *gpath = cli_opt(argc, argv, "--group");
    if (!pp || !gpath) return usage_committee();
    tkms_status st = {0};
    size_t plen = 0;
    char *body = node_read_file(pp, &plen, 1 << 20, &st);
    char *gj = body ? node_read_file(gpath, NULL, 16 << 20, &st) : NULL;
    node_group *g = gj ? calloc(1, sizeof *g) : NULL;
    if (!g || !node_group_parse(g, gj, &st)) {
        free(body);
        free(gj);
        free(g);
        return cli_fail(CLI_USAGE, "%s", st.msg);
    }
    free(gj);
    json_t *p = json_loadb(body, plen, 0, NULL);
    json_t *pm = json_object_get(p, "members");
    /* old members and new members (deduplicated by address) */
    size_t cap = g->g.n + json_array_size(pm), n = 0;
    ncli_req *rq = calloc(cap ? cap : 1, sizeof *rq);
    for (size_t i = 0; i < g->g.n; i++) rq[n++].url = strdup(g->g.members[i].address);
    size_t k;
    json_t *m;
    json_array_foreach(pm, k, m) {
        const char *a = json_string_value(json_object_get(m, "address"));
        int dup = !a;
        for (size_t j = 0; a && j < n; j++) dup |= !strcmp(rq[j].url, a);
        if (!dup) rq[n++].url = strdup(a);
    }
    json_decref(p);
    for (size_t i = 0; i < n; i++) {
        rq[i].path = strdup("/v1/committee/proposal");
        rq[i].method = "POST";
        rq[i].body = (const uint8_t *)body;
        rq[i].body_len = plen;
    }
    ncli_run(rq, n, NULL, 5000);
    int accepted = 0;
    for (size_t i = 0; i < n; i++) {
        if (rq[i].ok && rq[i].status == 200) accepted++;
        fprintf(stderr, "%s: %s\n", rq[i].url,
                rq[i].ok ? (rq[i].status == 200 ? "accepted" : rq[i].resp ? rq[i].resp : "rejected") : rq[i].err);
        ncli_req_free(&rq[i]);
    }
    free(rq);
    free(body);
    node_group_free(g);
    free(g);
    if (!accepted) return cli_fail(CLI_REJECT, "no node accepted the proposal");
    printf("{\"accepted\":%d}\n", accepted);
    return CLI_OK;
}

int cmd_committee(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage_committee();
    if (!strcmp(argv[1], "propose")) return propose(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sign")) return sign_proposal(argc - 1, argv + 1);
    if (!strcmp(argv[1], "submit")) return submit(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown 'committee' sub-command '%s'", argv[1]);
}
