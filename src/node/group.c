/* Operator node library: reading certified group files and the genesis file into the fixed structures the daemon
 * schedules and signs with. Points are parsed (curve, subgroup, identity) before use. */
#include "node.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

static int parse_member(member_t *m, json_t *j, uint32_t default_index, node_status *st) {
    json_t *a = json_object_get(j, "address"), *e = json_object_get(j, "ed25519"), *x = json_object_get(j, "x25519");
    json_t *i = json_object_get(j, "index");
    if (!json_is_object(j) || !json_is_string(a) || !json_is_string(e) || !json_is_string(x))
        return node_err(st, NS_INPUT, "member %u: needs address, ed25519, x25519", default_index);
    if (json_string_length(a) >= 128 || strncmp(json_string_value(a), "http", 4))
        return node_err(st, NS_INPUT, "member %u: bad address", default_index);
    if (!node_unhex(m->ed, 32, json_string_value(e)) || !node_unhex(m->x, 32, json_string_value(x)))
        return node_err(st, NS_INPUT, "member %u: keys must be 32 bytes of hex", default_index);
    snprintf(m->address, sizeof m->address, "%s", json_string_value(a));
    size_t al = strlen(m->address);
    while (al && m->address[al - 1] == '/') m->address[--al] = 0;
    m->index = default_index;
    if (i) {
        if (!json_is_integer(i) || json_integer_value(i) < 1 || json_integer_value(i) > MAX_MEMBERS)
            return node_err(st, NS_INPUT, "member %u: bad index", default_index);
        m->index = (uint32_t)json_integer_value(i);
    }
    return 1;
}

static int check_members(const member_t *ms, uint32_t n, node_status *st) {
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            if (ms[a].index == ms[b].index || !memcmp(ms[a].ed, ms[b].ed, 32) || !memcmp(ms[a].x, ms[b].x, 32))
                return node_err(st, NS_INPUT, "members %u and %u repeat an index or key", ms[a].index, ms[b].index);
    return 1;
}

static json_t *first_of(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    return v ? v : json_object_get(o, b);
}

int group_parse(group_t *g, const char *json, node_status *st) {
    memset(g, 0, sizeof *g);
    json_error_t je;
    json_t *r = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!r) return node_err(st, NS_INPUT, "group file: %s", je.text);
    int ok = 1;
    json_t *ep = json_object_get(r, "epoch"), *t = json_object_get(r, "threshold"), *ms = json_object_get(r, "members");
    json_t *mpk = json_object_get(r, "mpk");
    json_t *poly = first_of(r, "public_polynomial", "commitments");
    if (!json_is_integer(ep) || json_integer_value(ep) < 0 || !json_is_integer(t) || !json_is_array(ms) ||
        !json_is_string(mpk) || !json_is_array(poly))
        ok = node_err(st, NS_INPUT, "group file: needs epoch, threshold, members, public_polynomial, mpk");
    if (ok) {
        g->epoch = (uint64_t)json_integer_value(ep);
        g->n = (uint32_t)json_array_size(ms);
        json_int_t tv = json_integer_value(t);
        if (g->n < 1 || g->n > MAX_MEMBERS || tv < 1 || tv > (json_int_t)g->n || json_array_size(poly) != (size_t)tv)
            ok = node_err(st, NS_INPUT, "group file: bad n/t/polynomial sizes");
        else g->t = (uint32_t)tv;
    }
    for (uint32_t i = 0; ok && i < g->n; i++) ok = parse_member(&g->members[i], json_array_get(ms, i), i + 1, st);
    ok = ok && check_members(g->members, g->n, st);
    if (ok && (json_string_length(mpk) != 192 || !node_unhex(g->mpk_bytes, 96, json_string_value(mpk)) ||
               g2_deserialize(&g->mpk, g->mpk_bytes, 96, 0) != G2_OK))
        ok = node_err(st, NS_INPUT, "group file: bad mpk");
    if (ok) {
        g->commitments = calloc(g->t, sizeof *g->commitments);
        ok = g->commitments != NULL;
        for (uint32_t k = 0; ok && k < g->t; k++) {
            uint8_t b[96];
            json_t *c = json_array_get(poly, k);
            if (!json_is_string(c) || !node_unhex(b, 96, json_string_value(c)) ||
                g2_deserialize(&g->commitments[k], b, 96, 0) != G2_OK)
                ok = node_err(st, NS_INPUT, "group file: bad commitment %u", k);
        }
        /* the constant term is the MPK */
        if (ok) {
            uint8_t c0[96];
            g2_serialize(c0, &g->commitments[0]);
            if (memcmp(c0, g->mpk_bytes, 96)) ok = node_err(st, NS_INPUT, "group file: mpk != commitment 0");
        }
    }
    json_t *dm = json_object_get(r, "dev_mode"), *ss = json_object_get(r, "session");
    g->dev_mode = json_is_true(dm);
    if (json_is_string(ss) && !node_unhex(g->session, 32, json_string_value(ss))) memset(g->session, 0, 32);
    json_decref(r);
    if (ok) {
        g->json = strdup(json);
        SHA256((const uint8_t *)json, strlen(json), g->hash);
    }
    if (!ok) group_free(g);
    return ok;
}

void group_free(group_t *g) {
    if (!g) return;
    free(g->commitments);
    free(g->json);
    g->commitments = NULL;
    g->json = NULL;
}

const member_t *group_member_by_ed(const group_t *g, const uint8_t ed[32]) {
    for (uint32_t i = 0; g && i < g->n; i++)
        if (!memcmp(g->members[i].ed, ed, 32)) return &g->members[i];
    return NULL;
}

int genesis_load(genesis_t *g, const char *path, node_status *st) {
    memset(g, 0, sizeof *g);
    size_t len = 0;
    char *txt = node_read_file(path, &len, 1 << 20, st);
    if (!txt) return 0;
    SHA256((const uint8_t *)txt, len, g->hash);
    json_error_t je;
    json_t *r = json_loads(txt, JSON_REJECT_DUPLICATES, &je);
    free(txt);
    if (!r) return node_err(st, NS_USAGE, "genesis %s: %s", path, je.text);
    json_t *ms = json_object_get(r, "members"), *t = json_object_get(r, "threshold");
    json_t *gt = json_object_get(r, "genesis_time"), *iv = json_object_get(r, "reshare_interval_s");
    int ok = json_is_array(ms) && json_is_integer(t) && json_is_integer(gt) && json_is_integer(iv);
    if (!ok) node_err(st, NS_USAGE, "genesis %s: needs members, threshold, genesis_time, reshare_interval_s", path);
    json_t *dm = json_object_get(r, "dev_mode");
    if (ok && dm && !json_is_boolean(dm)) ok = node_err(st, NS_USAGE, "genesis %s: \"dev_mode\" must be a boolean", path);
    g->dev_mode = json_is_true(dm);
    if (ok) {
        g->n = (uint32_t)json_array_size(ms);
        if (g->n < 1 || g->n > MAX_MEMBERS || json_integer_value(t) < 1 || json_integer_value(t) > (json_int_t)g->n ||
            json_integer_value(gt) < 0 || json_integer_value(iv) < 1)
            ok = node_err(st, NS_USAGE, "genesis %s: bad n, threshold, time or interval", path);
        g->t = (uint32_t)json_integer_value(t);
        json_t *ov = json_object_get(r, "threshold_override");
        node_status ts = {0};
        if (ok && ov && !json_is_boolean(ov))
            ok = node_err(st, NS_USAGE, "genesis %s: \"threshold_override\" must be a boolean", path);
        else if (ok && !node_threshold_check(g->t, g->n, json_is_true(ov), &ts))
            ok = node_err(st, NS_USAGE, "genesis %s: %s", path, ts.msg);
        g->genesis_time_s = (uint64_t)json_integer_value(gt);
        g->interval_s = (uint64_t)json_integer_value(iv);
    }
    for (uint32_t i = 0; ok && i < g->n; i++) ok = parse_member(&g->members[i], json_array_get(ms, i), i + 1, st);
    for (uint32_t i = 0; ok && i < g->n; i++)
        if (g->members[i].index != i + 1) ok = node_err(st, NS_USAGE, "genesis %s: indices must be 1..n in order", path);
    ok = ok && check_members(g->members, g->n, st);
    json_decref(r);
    return ok;
}
