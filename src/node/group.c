/* Operator node library: certified group files as a node holds them (the DKG's group type, its
 * file and id) and the genesis file. Points are parsed (curve, subgroup, identity) before use. */
#include "node.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

/* A genesis member: member default_index in the file; an "index", if present, must say the same. */
static int parse_member(tkms_dkg_member *m, json_t *j, uint32_t default_index, tkms_status *st) {
    json_t *a = json_object_get(j, "address"), *e = json_object_get(j, "ed25519"), *x = json_object_get(j, "x25519");
    json_t *i = json_object_get(j, "index");
    if (!json_is_object(j) || !json_is_string(a) || !json_is_string(e) || !json_is_string(x))
        return node_err(st, TKMS_CLASS_INPUT, "member %u: needs address, ed25519, x25519", default_index);
    if (json_string_length(a) >= TKMS_DKG_ADDR_MAX || strncmp(json_string_value(a), "http", 4))
        return node_err(st, TKMS_CLASS_INPUT, "member %u: bad address", default_index);
    if (!node_unhex(m->sign_pk, 32, json_string_value(e)) || !node_unhex(m->kem_pk, 32, json_string_value(x)))
        return node_err(st, TKMS_CLASS_INPUT, "member %u: keys must be 32 bytes of hex", default_index);
    snprintf(m->address, sizeof m->address, "%s", json_string_value(a));
    size_t al = strlen(m->address);
    while (al && m->address[al - 1] == '/') m->address[--al] = 0;
    if (i && (!json_is_integer(i) || json_integer_value(i) != (json_int_t)default_index))
        return node_err(st, TKMS_CLASS_INPUT, "member %u: indices must be 1..n in order", default_index);
    return 1;
}

static int check_members(const tkms_dkg_member *ms, uint32_t n, tkms_status *st) {
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            if (!memcmp(ms[a].sign_pk, ms[b].sign_pk, 32) || !memcmp(ms[a].kem_pk, ms[b].kem_pk, 32))
                return node_err(st, TKMS_CLASS_INPUT, "members %u and %u repeat a key", a + 1, b + 1);
    return 1;
}

int node_group_parse(node_group *g, const char *json, tkms_status *st) {
    memset(g, 0, sizeof *g);
    char err[256];
    if (!tkms_group_parse(&g->g, json, strlen(json), err, sizeof err))
        return node_err(st, TKMS_CLASS_INPUT, "group file: %s", err);
    g->json = strdup(json);
    if (!g->json || !tkms_group_id(g->id, &g->g)) {
        node_group_free(g);
        return node_err(st, TKMS_CLASS_INTERNAL, "group file: out of memory");
    }
    return 1;
}

void node_group_free(node_group *g) {
    if (!g) return;
    free(g->json);
    g->json = NULL;
}

uint32_t node_group_index(const node_group *g, const uint8_t ed[32]) {
    for (size_t i = 0; g && i < g->g.n; i++)
        if (!memcmp(g->g.members[i].sign_pk, ed, 32)) return (uint32_t)(i + 1);
    return 0;
}

int genesis_load(genesis_t *g, const char *path, tkms_status *st) {
    memset(g, 0, sizeof *g);
    size_t len = 0;
    char *txt = node_read_file(path, &len, 1 << 20, st);
    if (!txt) return 0;
    SHA256((const uint8_t *)txt, len, g->hash);
    json_error_t je;
    json_t *r = json_loads(txt, JSON_REJECT_DUPLICATES, &je);
    free(txt);
    if (!r) return node_err(st, TKMS_CLASS_USAGE, "genesis %s: %s", path, je.text);
    json_t *ms = json_object_get(r, "members"), *t = json_object_get(r, "threshold");
    json_t *gt = json_object_get(r, "genesis_time"), *iv = json_object_get(r, "reshare_interval_s");
    int ok = json_is_array(ms) && json_is_integer(t) && json_is_integer(gt) && json_is_integer(iv);
    if (!ok) node_err(st, TKMS_CLASS_USAGE, "genesis %s: needs members, threshold, genesis_time, reshare_interval_s", path);
    json_t *dm = json_object_get(r, "dev_mode");
    if (ok && dm && !json_is_boolean(dm)) ok = node_err(st, TKMS_CLASS_USAGE, "genesis %s: \"dev_mode\" must be a boolean", path);
    g->dev_mode = json_is_true(dm);
    if (ok) {
        g->n = (uint32_t)json_array_size(ms);
        if (g->n < 1 || g->n > MAX_MEMBERS || json_integer_value(t) < 1 || json_integer_value(t) > (json_int_t)g->n ||
            json_integer_value(gt) < 0 || json_integer_value(iv) < 1)
            ok = node_err(st, TKMS_CLASS_USAGE, "genesis %s: bad n, threshold, time or interval", path);
        g->t = (uint32_t)json_integer_value(t);
        json_t *ov = json_object_get(r, "threshold_override");
        tkms_status ts = {0};
        if (ok && ov && !json_is_boolean(ov))
            ok = node_err(st, TKMS_CLASS_USAGE, "genesis %s: \"threshold_override\" must be a boolean", path);
        else if (ok && !node_threshold_check(g->t, g->n, json_is_true(ov), &ts))
            ok = node_err(st, TKMS_CLASS_USAGE, "genesis %s: %s", path, ts.msg);
        g->genesis_time_s = (uint64_t)json_integer_value(gt);
        g->interval_s = (uint64_t)json_integer_value(iv);
    }
    for (uint32_t i = 0; ok && i < g->n; i++) ok = parse_member(&g->members[i], json_array_get(ms, i), i + 1, st);
    ok = ok && check_members(g->members, g->n, st);
    json_decref(r);
    return ok;
}
