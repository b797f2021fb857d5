/* Helpers shared by the wallet unit tests: vector loading (TKMS_VECTORS) and hex conversion. */
#include "wallet_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *arg) {
    fprintf(stderr, "wallet test setup: %s %s\n", what, arg ? arg : "");
    abort();
}

static char *path_of(const char *rel) {
    const char *dir = getenv("TKMS_VECTORS");
    if (!dir) die("TKMS_VECTORS is not set", NULL);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (!p) die("out of memory", NULL);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

json_t *wt_load_json(const char *rel) {
    char *p = path_of(rel);
    json_error_t err;
    json_t *j = json_load_file(p, 0, &err);
    if (!j) die("cannot load", p);
    free(p);
    return j;
}

uint8_t *wt_load_file(const char *rel, size_t *len) {
    char *p = path_of(rel);
    FILE *f = fopen(p, "rb");
    if (!f) die("cannot open", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read", p);
    fclose(f);
    free(p);
    *len = (size_t)n;
    return buf;
}

static int hv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

uint8_t *wt_unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex);
    if (n % 2) die("odd hex", hex);
    uint8_t *out = malloc(n / 2 + 1);
    if (!out) die("out of memory", NULL);
    for (size_t i = 0; i < n / 2; i++) {
        int a = hv(hex[2 * i]), b = hv(hex[2 * i + 1]);
        if (a < 0 || b < 0) die("bad hex", hex);
        out[i] = (uint8_t)(a << 4 | b);
    }
    *len = n / 2;
    return out;
}

void wt_unhex_exact(uint8_t *out, size_t len, const char *hex) {
    size_t n = 0;
    uint8_t *b = wt_unhex(hex, &n);
    if (n != len) die("unexpected hex length", hex);
    memcpy(out, b, n);
    free(b);
}

const char *wt_hex(const uint8_t *buf, size_t len) {
    static char ring[4][512];
    static int slot;
    char *o = ring[slot++ & 3];
    if (len * 2 + 1 > sizeof ring[0]) die("wt_hex: too long", NULL);
    for (size_t i = 0; i < len; i++) sprintf(o + 2 * i, "%02x", buf[i]);
    o[2 * len] = 0;
    return o;
}

const char *wt_str(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) die("missing string member", key);
    return json_string_value(v);
}
