/* tkmsd: certified group files and committee proposals. The file layout follows the engine's
 * definitions (session ID, transcript hash, certification message). */
#include "gfile.h"

#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

static tkms_group *parse_tg(const char *json, node_status *st) {
    tkms_group *t = malloc(sizeof *t);
    char err[256];
    if (!t) {
        node_err(st, NS_INTERNAL, "out of memory");
        return NULL;
    }
    if (!tkms_group_parse(t, json, strlen(json), err, sizeof err)) {
        node_err(st, NS_INPUT, "group: %s", err);
        free(t);
        return NULL;
    }
    return t;
}

void gfile_group_id(uint8_t out[32], const group_t *g) {
    memset(out, 0, 32);
    tkms_group *t = parse_tg(g->json, NULL);
    if (t && !tkms_group_id(out, t)) memset(out, 0, 32);
    free(t);
}

char *gfile_from_result(const tkms_dkg_result *r, const tkms_dkg_member *members, size_t n, node_status *st) {
    (void)n;
    tkms_group *t = malloc(sizeof *t);
    char *json = NULL;
    if (t && tkms_group_from_result(t, r, members)) json = tkms_group_to_json(t, 1);
    free(t);
    if (!json) node_err(st, NS_INTERNAL, "cannot build the group file");
    return json;
}

int gfile_verify(const group_t *g, node_status *st) {
    tkms_group *t = parse_tg(g->json, st);
    char err[256];
    int ok = t && tkms_group_verify(t, NULL, err, sizeof err) > 0;
    if (t && !ok) node_err(st, NS_INPUT, "group: %s", err);
    free(t);
    return ok;
}

int gfile_verify_next(const group_t *next, const group_t *prev, node_status *st) {
    tkms_group *a = parse_tg(next->json, st), *b = a ? parse_tg(prev->json, st) : NULL;
    char err[256];
    int ok = a && b && tkms_group_verify(a, b, err, sizeof err) > 0;
    if (a && b && !ok) node_err(st, NS_INPUT, "group: %s", err);
    free(a);
    free(b);
    return ok;
}

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && node_unhex(out, n, json_string_value(v));
}

int gfile_proposal_check(const char *json, size_t len, const group_t *g, member_t *ms, uint32_t *n, uint32_t *t,
                         node_status *st) {
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return node_err(st, NS_INPUT, "proposal: not a JSON object");
    }
    int ok = 1;
    json_t *ty = json_object_get(j, "type"), *ep = json_object_get(j, "epoch"), *th = json_object_get(j, "threshold");
    json_t *mem = json_object_get(j, "members"), *sigs = json_object_get(j, "signatures");
    json_t *ov = json_object_get(j, "threshold_override");
    uint8_t pid[32], want[32];
    gfile_group_id(want, g);
    static const char *const known[] = {"type", "epoch", "prev_group_id", "threshold", "threshold_override", "members",
                                        "signatures"};
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        int k = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++) k |= !strcmp(key, known[i]);
        if (ok && !k) ok = node_err(st, NS_INPUT, "proposal: unknown field \"%.64s\"", key);
    }
    if (!ok)
        ;
    else if (ov && !json_is_boolean(ov))
        ok = node_err(st, NS_INPUT, "proposal: \"threshold_override\" must be a boolean");
    else if (!json_is_string(ty) || strcmp(json_string_value(ty), "tkms-committee-proposal-v1"))
        ok = node_err(st, NS_INPUT, "proposal: wrong type");
    else if (!json_is_integer(ep) || (uint64_t)json_integer_value(ep) != g->epoch)
        ok = node_err(st, NS_INPUT, "proposal: for epoch %lld, current is %llu", (long long)json_integer_value(ep),
                      (unsigned long long)g->epoch);
    else if (!hexfield(pid, 32, j, "prev_group_id") || memcmp(pid, want, 32))
        ok = node_err(st, NS_INPUT, "proposal: prev_group_id is not the current group");
    else if (!json_is_array(mem) || json_array_size(mem) < 1 || json_array_size(mem) > TKMS_DKG_MAX_N ||
             !json_is_integer(th) || json_integer_value(th) < 1 ||
             json_integer_value(th) > (json_int_t)json_array_size(mem) || !json_is_array(sigs))
        ok = node_err(st, NS_INPUT, "proposal: bad members/threshold/signatures");
    if (ok) {
        *n = (uint32_t)json_array_size(mem);
        *t = (uint32_t)json_integer_value(th);
        node_status ts = {0};
        if (!node_threshold_check(*t, *n, json_is_true(ov), &ts)) ok = node_err(st, NS_INPUT, "proposal: %s", ts.msg);
    }
    if (ok) {
        for (uint32_t i = 0; ok && i < *n; i++) {
            json_t *m = json_array_get(mem, i);
            json_t *a = json_object_get(m, "address");
            if (!json_is_string(a) || json_string_length(a) >= TKMS_DKG_ADDR_MAX ||
                strncmp(json_string_value(a), "http", 4) || !hexfield(ms[i].ed, 32, m, "ed25519") ||
                !hexfield(ms[i].x, 32, m, "x25519"))
                ok = node_err(st, NS_INPUT, "proposal: bad member %u", i + 1);
            else {
                snprintf(ms[i].address, sizeof ms[i].address, "%s", json_string_value(a));
                ms[i].index = i + 1;
            }
            for (uint32_t k = 0; ok && k < i; k++)
                if (!memcmp(ms[k].ed, ms[i].ed, 32) || !memcmp(ms[k].x, ms[i].x, 32))
                    ok = node_err(st, NS_INPUT, "proposal: member %u repeated", i + 1);
        }
    }
    if (ok) {
        uint8_t msg[58];
        uint8_t seen[MAX_MEMBERS + 1] = {0};
        uint32_t good = 0;
        ok = node_proposal_message(msg, j) ? 1 : node_err(st, NS_INTERNAL, "proposal: cannot canonicalise");
        for (size_t i = 0; ok && i < json_array_size(sigs); i++) {
            json_t *s = json_array_get(sigs, i);
            uint8_t k[32], sg[64];
            if (!hexfield(k, 32, s, "ed25519") || !hexfield(sg, 64, s, "sig")) continue;
            const member_t *m = group_member_by_ed(g, k);
            if (!m || seen[m->index] || !tkms_ed25519_verify(sg, k, msg, sizeof msg)) continue;
            seen[m->index] = 1;
            good++;
        }
        if (ok && good < g->t)
            ok = node_err(st, NS_INPUT, "proposal: %u valid operator signatures, %u (t of the current epoch) needed", good, g->t);
    }
    json_decref(j);
    return ok;
}
