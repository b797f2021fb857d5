/* Certified group files: canonical JSON writer, strict parser and verifier (signatures,
 * threshold, session and transcript recomputation, MPK continuity across epochs). */
#include "group.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "sha256.h"
#include "proto_tags.h"
#include "prim.h"




/* canonical group files are lowercase */
static int hexdec(uint8_t *out, size_t n, const char *s) {
    return s && tkms_unhex(out, n, s, strlen(s), TKMS_HEX_LOWER_ONLY);
}

int tkms_group_from_result(tkms_group *g, const tkms_dkg_result *r, const tkms_dkg_member *members) {
    if (r->n > TKMS_DKG_MAX_N || r->t > r->n || r->n_qual > TKMS_DKG_MAX_N || r->n_sigs > TKMS_DKG_MAX_N) return 0;
    memset(g, 0, sizeof *g);
    g->epoch = r->epoch;
    g->n = r->n;
    g->t = r->t;
    g->t_old = r->t_old;
    memcpy(g->previous, r->prev_group_id, 32);
    memcpy(g->session, r->session, 32);
    memcpy(g->transcript_hash, r->transcript_hash, 32);
    g->dev_mode = r->dev_mode;
    memcpy(g->members, members, r->n * sizeof(tkms_dkg_member));
    memcpy(g->qual, r->qual, r->n_qual * 4);
    g->n_qual = r->n_qual;
    memcpy(g->poly, r->poly, r->t * sizeof(g2_affine_t));
    g->n_sigs = r->n_sigs;
    memcpy(g->sig_index, r->sig_index, r->n_sigs * 4);
    memcpy(g->sigs, r->sigs, r->n_sigs * 64);
    return 1;
}

static json_t *hexstr(const uint8_t *b, size_t n) {
    char buf[2 * 96 + 1];
    tkms_hex(buf, b, n);
    return json_string(buf);
}

char *tkms_group_to_json(const tkms_group *g, int with_sigs) {
    json_t *o = json_object(), *mem = json_array(), *q = json_array(), *poly = json_array();
    uint8_t pt[96];
    for (size_t i = 0; i < g->n; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "index", json_integer((json_int_t)(i + 1)));
        json_object_set_new(m, "ed25519", hexstr(g->members[i].sign_pk, 32));
        json_object_set_new(m, "x25519", hexstr(g->members[i].kem_pk, 32));
        json_object_set_new(m, "address", json_string(g->members[i].address));
        json_array_append_new(mem, m);
    }
    for (size_t i = 0; i < g->n_qual; i++) json_array_append_new(q, json_integer(g->qual[i]));
    for (size_t k = 0; k < g->t; k++) {
        g2_serialize(pt, &g->poly[k]);
        json_array_append_new(poly, hexstr(pt, 96));
    }
    g2_serialize(pt, &g->poly[0]);
    json_object_set_new(o, "version", json_string(TKMS_TAG_GROUP_FILE));
    json_object_set_new(o, "epoch", json_integer((json_int_t)g->epoch));
    json_object_set_new(o, "threshold", json_integer((json_int_t)g->t));
    json_object_set_new(o, "previous_threshold", json_integer((json_int_t)g->t_old));
    json_object_set_new(o, "previous", hexstr(g->previous, 32));
    json_object_set_new(o, "session", hexstr(g->session, 32));
    json_object_set_new(o, "dev_mode", json_boolean(g->dev_mode));
    json_object_set_new(o, "members", mem);
    json_object_set_new(o, "qual", q);
    json_object_set_new(o, "public_polynomial", poly);
    json_object_set_new(o, "mpk", hexstr(pt, 96));
    json_object_set_new(o, "transcript_hash", hexstr(g->transcript_hash, 32));
    if (with_sigs) {
        json_t *s = json_array();
        for (size_t i = 0; i < g->n_sigs; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "index", json_integer(g->sig_index[i]));
            json_object_set_new(e, "signature", hexstr(g->sigs[i], 64));
            json_array_append_new(s, e);
        }
        json_object_set_new(o, "signatures", s);
    }
    char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return out;
}

int tkms_group_id(uint8_t out[32], const tkms_group *g) {
    char *s = tkms_group_to_json(g, 0);
    if (!s) return 0;
    sha256(out, s, strlen(s));
    free(s);
    return 1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static int get_uint(json_t *o, const char *k, uint64_t max, uint64_t *v) {
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x) || json_integer_value(x) < 0 || (uint64_t)json_integer_value(x) > max) return 0;
    *v = (uint64_t)json_integer_value(x);
    return 1;
}

static int get_hex(json_t *o, const char *k, uint8_t *out, size_t n) {
    return hexdec(out, n, json_string_value(json_object_get(o, k)));
}

int tkms_group_parse(tkms_group *g, const char *text, size_t len, char *err, size_t errlen) {
    json_error_t je;
    memset(g, 0, sizeof *g);
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return fail(err, errlen, "not JSON: %s (line %d)", je.text, je.line);
    int ok = 0;
    uint64_t v;
    uint8_t pt[96], mpk[96];
    json_t *mem, *q, *poly, *sigs, *x;
    size_t i;
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "version")) ||
        strcmp(json_string_value(json_object_get(o, "version")), TKMS_TAG_GROUP_FILE) != 0) {
        fail(err, errlen, "not a " TKMS_TAG_GROUP_FILE " file");
        goto out;
    }
    if (!get_uint(o, "epoch", INT64_MAX, &g->epoch) || !get_uint(o, "threshold", TKMS_DKG_MAX_N, &v)) {
        fail(err, errlen, "bad epoch or threshold");
        goto out;
    }
    g->t = (size_t)v;
    if (!get_uint(o, "previous_threshold", TKMS_DKG_MAX_N, &v)) {
        fail(err, errlen, "bad previous_threshold");
        goto out;
    }
    g->t_old = (size_t)v;
    if (!get_hex(o, "previous", g->previous, 32) || !get_hex(o, "session", g->session, 32) ||
        !get_hex(o, "transcript_hash", g->transcript_hash, 32) || !get_hex(o, "mpk", mpk, 96)) {
        fail(err, errlen, "bad previous, session, transcript_hash or mpk");
        goto out;
    }
    if (!json_is_boolean(json_object_get(o, "dev_mode"))) {
        fail(err, errlen, "bad dev_mode");
        goto out;
    }
    g->dev_mode = json_is_true(json_object_get(o, "dev_mode"));
    mem = json_object_get(o, "members");
    if (!json_is_array(mem) || json_array_size(mem) < 1 || json_array_size(mem) > TKMS_DKG_MAX_N) {
        fail(err, errlen, "bad members");
        goto out;
    }
    g->n = json_array_size(mem);
    json_array_foreach(mem, i, x) {
        const char *a = json_string_value(json_object_get(x, "address"));
        if (!get_uint(x, "index", TKMS_DKG_MAX_N, &v) || v != i + 1 || !get_hex(x, "ed25519", g->members[i].sign_pk, 32) ||
            !get_hex(x, "x25519", g->members[i].kem_pk, 32) || !a || strlen(a) >= TKMS_DKG_ADDR_MAX) {
            fail(err, errlen, "bad member %zu", i + 1);
            goto out;
        }
        strcpy(g->members[i].address, a);
    }
    if (g->t < 1 || g->t > g->n) {
        fail(err, errlen, "threshold %zu out of range for %zu members", g->t, g->n);
        goto out;
    }
    q = json_object_get(o, "qual");
    if (!json_is_array(q) || json_array_size(q) > TKMS_DKG_MAX_N) {
        fail(err, errlen, "bad qual");
        goto out;
    }
    g->n_qual = json_array_size(q);
    json_array_foreach(q, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > TKMS_DKG_MAX_N ||
            (i && json_integer_value(x) <= (json_int_t)g->qual[i - 1])) {
            fail(err, errlen, "qual must be ascending member indices");
            goto out;
        }
        g->qual[i] = (uint32_t)json_integer_value(x);
    }
    poly = json_object_get(o, "public_polynomial");
    if (!json_is_array(poly) || json_array_size(poly) != g->t) {
        fail(err, errlen, "public_polynomial must have threshold coefficients");
        goto out;
    }
    json_array_foreach(poly, i, x) {
        if (!hexdec(pt, 96, json_string_value(x)) || g2_deserialize(&g->poly[i], pt, 96, 0) != G2_OK) {
            fail(err, errlen, "coefficient %zu is not a G2 point", i);
            goto out;
        }
    }
    g2_serialize(pt, &g->poly[0]);
    if (memcmp(pt, mpk, 96) != 0) {
        fail(err, errlen, "mpk is not the constant coefficient");
        goto out;
    }
    sigs = json_object_get(o, "signatures");
    if (!json_is_array(sigs) || json_array_size(sigs) > TKMS_DKG_MAX_N) {
        fail(err, errlen, "bad signatures");
        goto out;
    }
    g->n_sigs = json_array_size(sigs);
    json_array_foreach(sigs, i, x) {
        if (!get_uint(x, "index", TKMS_DKG_MAX_N, &v) || !get_hex(x, "signature", g->sigs[i], 64)) {
            fail(err, errlen, "bad signature entry %zu", i);
            goto out;
        }
        g->sig_index[i] = (uint32_t)v;
    }
    ok = 1;
out:
    json_decref(o);
    return ok;
}

size_t tkms_group_verify(const tkms_group *g, const tkms_group *prev, char *err, size_t errlen) {
    uint8_t want[32], empty[32];
    sha256(empty, "", 0);
    if (g->epoch == 0) {
        if (g->t_old != 0 || memcmp(g->previous, empty, 32) != 0)
            return (size_t)fail(err, errlen, "epoch 0 must have no previous group");
    } else if (g->t_old < 1) {
        return (size_t)fail(err, errlen, "a reshare needs previous_threshold");
    }
    tkms_dkg_session_id(want, g->epoch, g->previous, g->members, g->n, g->t, g->t_old);
    if (memcmp(want, g->session, 32) != 0) return (size_t)fail(err, errlen, "session id does not match the contents");
    tkms_dkg_transcript_hash(want, g->session, g->qual, g->n_qual, g->poly, g->t);
    if (memcmp(want, g->transcript_hash, 32) != 0) return (size_t)fail(err, errlen, "transcript hash mismatch");
    if (g->epoch == 0 && g->n_qual < g->t) return (size_t)fail(err, errlen, "|QUAL| < t");
    if (g->epoch > 0 && g->n_qual != g->t_old) return (size_t)fail(err, errlen, "reshare QUAL must have t_old dealers");
    uint8_t cm[TKMS_DKG_CERT_MSG_LEN], seen[TKMS_DKG_MAX_N + 1] = {0};
    tkms_dkg_cert_message(cm, g->session, g->transcript_hash);
    size_t valid = 0;
    for (size_t i = 0; i < g->n_sigs; i++) {
        uint32_t j = g->sig_index[i];
        if (j < 1 || j > g->n || seen[j]) return (size_t)fail(err, errlen, "signature index %u invalid or repeated", j);
        seen[j] = 1;
        if (!tkms_ed25519_verify(g->sigs[i], g->members[j - 1].sign_pk, cm, sizeof cm))
            return (size_t)fail(err, errlen, "signature of member %u does not verify", j);
        valid++;
    }
    if (valid < tkms_dkg_cert_quorum(g->t, g->n))
        return (size_t)fail(err, errlen, "%zu member signatures, %zu needed (threshold %zu of %zu members)", valid,
                            tkms_dkg_cert_quorum(g->t, g->n), g->t, g->n);
    if (prev) {
        uint8_t pid[32];
        if (!tkms_group_id(pid, prev)) return (size_t)fail(err, errlen, "out of memory");
        if (g->epoch != prev->epoch + 1) return (size_t)fail(err, errlen, "epoch does not follow the previous group");
        if (memcmp(pid, g->previous, 32) != 0) return (size_t)fail(err, errlen, "previous group id mismatch");
        if (g->t_old != prev->t) return (size_t)fail(err, errlen, "previous_threshold differs from the previous group");
        uint8_t a[96], b[96];
        g2_serialize(a, &g->poly[0]);
        g2_serialize(b, &prev->poly[0]);
        if (memcmp(a, b, 96) != 0) return (size_t)fail(err, errlen, "MPK changed");
        for (size_t i = 0; i < g->n_qual; i++)
            if (g->qual[i] > prev->n) return (size_t)fail(err, errlen, "QUAL names a dealer outside the previous group");
    }
    return valid;
}
