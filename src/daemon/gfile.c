/* tkmsd: certified group files and committee proposals. The file layout follows the engine's
 * definitions (session ID, transcript hash, certification message). */
#include "gfile.h"

#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

char *gfile_from_result(const tkms_dkg_result *r, const tkms_dkg_member *members, size_t n, tkms_status *st) {
    (void)n;
    tkms_group *t = malloc(sizeof *t);
    char *json = NULL;
    if (t && tkms_group_from_result(t, r, members)) json = tkms_group_to_json(t, 1);
    free(t);
    if (!json) node_err(st, TKMS_CLASS_INTERNAL, "cannot build the group file");
    return json;
}

int gfile_verify(const node_group *g, tkms_status *st) {
    char err[256];
    if (tkms_group_verify(&g->g, NULL, err, sizeof err) > 0) return 1;
    return node_err(st, TKMS_CLASS_INPUT, "group: %s", err);
}

int gfile_verify_next(const node_group *next, const node_group *prev, tkms_status *st) {
    char err[256];
    if (tkms_group_verify(&next->g, &prev->g, err, sizeof err) > 0) return 1;
    return node_err(st, TKMS_CLASS_INPUT, "group: %s", err);
}

static int hexfield(uint8_t *out, size_t n, json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && node_unhex(out, n, json_string_value(v));
}

int gfile_proposal_check(const char *json, size_t len, const node_group *g, tkms_dkg_member *ms, uint32_t *n,
                         uint32_t *t, tkms_status *st) {
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return node_err(st, TKMS_CLASS_INPUT, "proposal: not a JSON object");
    }
    int ok = 1;
    json_t *ty = json_object_get(j, "type"), *ep = json_object_get(j, "epoch"), *th = json_object_get(j, "threshold");
    json_t *mem = json_object_get(j, "members"), *sigs = json_object_get(j, "signatures");
    json_t *ov = json_object_get(j, "threshold_override");
    uint8_t pid[32];
    static const char *const known[] = {"type", "epoch", "prev_group_id", "threshold", "threshold_override", "members",
                                        "signatures"};
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        int k = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++) k |= !strcmp(key, known[i]);
        if (ok && !k) ok = node_err(st, TKMS_CLASS_INPUT, "proposal: unknown field \"%.64s\"", key);
    }
    if (!ok)
        ;
    else if (ov && !json_is_boolean(ov))
        ok = node_err(st, TKMS_CLASS_INPUT, "proposal: \"threshold_override\" must be a boolean");
    else if (!json_is_string(ty) || strcmp(json_string_value(ty), "tkms-committee-proposal-v1"))
        ok = node_err(st, TKMS_CLASS_INPUT, "proposal: wrong type");
    else if (!json_is_integer(ep) || (uint64_t)json_integer_value(ep) != g->g.epoch)
        ok = node_err(st, TKMS_CLASS_INPUT, "proposal: for epoch %lld, current is %llu", (long long)json_integer_value(ep),
                      (unsigned long long)g->g.epoch);
    else if (!hexfield(pid, 32, j, "prev_group_id") || memcmp(pid, g->id, 32))
        ok = node_err(st, TKMS_CLASS_INPUT, "proposal: prev_group_id is not the current group");
    else if (!json_is_array(mem) || json_array_size(mem) < 1 || json_array_size(mem) > TKMS_DKG_MAX_N ||
             !json_is_integer(th) || json_integer_value(th) < 1 ||
             json_integer_value(th) > (json_int_t)json_array_size(mem) || !json_is_array(sigs))
        ok = node_err(st, TKMS_CLASS_INPUT, "proposal: bad members/threshold/signatures");
    if (ok) {
        *n = (uint32_t)json_array_size(mem);
        *t = (uint32_t)json_integer_value(th);
        tkms_status ts = {0};
        if (!node_threshold_check(*t, *n, json_is_true(ov), &ts)) ok = node_err(st, TKMS_CLASS_INPUT, "proposal: %s", ts.msg);
    }
    if (ok) {
        for (uint32_t i = 0; ok && i < *n; i++) {
            json_t *m = json_array_get(mem, i);
            json_t *a = json_object_get(m, "address");
            if (!json_is_string(a) || json_string_length(a) >= TKMS_DKG_ADDR_MAX ||
                strncmp(json_string_value(a), "http", 4) || !hexfield(ms[i].sign_pk, 32, m, "ed25519") ||
                !hexfield(ms[i].kem_pk, 32, m, "x25519"))
                ok = node_err(st, TKMS_CLASS_INPUT, "proposal: bad member %u", i + 1);
            else
                snprintf(ms[i].address, sizeof ms[i].address, "%s", json_string_value(a));
            for (uint32_t k = 0; ok && k < i; k++)
                if (!memcmp(ms[k].sign_pk, ms[i].sign_pk, 32) || !memcmp(ms[k].kem_pk, ms[i].kem_pk, 32))
                    ok = node_err(st, TKMS_CLASS_INPUT, "proposal: member %u repeated", i + 1);
        }
    }
    if (ok) {
        uint8_t msg[58];
        uint8_t seen[MAX_MEMBERS + 1] = {0};
        uint32_t good = 0;
        ok = node_proposal_message(msg, j) ? 1 : node_err(st, TKMS_CLASS_INTERNAL, "proposal: cannot canonicalise");
        for (size_t i = 0; ok && i < json_array_size(sigs); i++) {
            json_t *s = json_array_get(sigs, i);
            uint8_t k[32], sg[64];
            if (!hexfield(k, 32, s, "ed25519") || !hexfield(sg, 64, s, "sig")) continue;
            uint32_t m = node_group_index(g, k);
            if (!m || seen[m] || !tkms_ed25519_verify(sg, k, msg, sizeof msg)) continue;
            seen[m] = 1;
            good++;
        }
        if (ok && good < g->g.t)
            ok = node_err(st, TKMS_CLASS_INPUT, "proposal: %u valid operator signatures, %zu (t of the current epoch) needed", good,
                          g->g.t);
    }
    json_decref(j);
    return ok;
}
