/* Strict RFC 4648 base64 (standard and URL alphabets) and the growable buffer of the seal layer. */
#include <stdlib.h>
#include <string.h>

#include "seal.h"

void tkms_buf_free(tkms_buf *b) {
    if (b->p) {
        volatile uint8_t *v = b->p;
        for (size_t i = 0; i < b->cap; i++) v[i] = 0;
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Makes room for n more bytes (plus the NUL) without changing len. */
static int buf_reserve(tkms_buf *b, size_t n) {
    if (n > SIZE_MAX - b->len - 1) return 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        /* grow by copying so that the old buffer can be wiped (it may hold secrets) */
        uint8_t *p = malloc(cap);
        if (!p) return 0;
        if (b->len) memcpy(p, b->p, b->len);
        size_t len = b->len;
        tkms_buf_free(b);
        b->p = p;
        b->len = len;
        b->cap = cap;
    }
    return 1;
}

int tkms_buf_append(tkms_buf *b, const void *data, size_t n) {
    if (!buf_reserve(b, n)) return 0;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 1;
}

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *tkms_b64_encode(const uint8_t *in, size_t n, int url, int pad) {
    const char *a = url ? URL : STD;
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        *o++ = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        if (pad) *o++ = '=', *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        *o++ = a[(v >> 6) & 63];
        if (pad) *o++ = '=';
    }
    *o = 0;
    return out;
}

static int val(char c, int url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

int tkms_b64_decode(tkms_buf *out, const char *in, size_t n, int url, int pad) {
    size_t npad = 0;
    if (pad) {
        if (n % 4) return 0;
        while (npad < 2 && n > 0 && in[n - 1] == '=') n--, npad++;
    } else if (n % 4 == 1) {
        return 0;
    }
    size_t start = out->len;
    if (!buf_reserve(out, n / 4 * 3 + 3)) return 0;
    uint8_t *o = out->p + out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = val(in[i], url);
        if (v < 0) goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1)) goto bad; /* non-canonical trailing bits */
    if (pad && ((n + npad) % 4 != 0 || (npad && (n % 4) + npad != 4))) goto bad;
    out->len = (size_t)(o - out->p);
    out->p[out->len] = 0;
    return 1;
bad:
    out->len = start;
    out->p[start] = 0;
    return 0;
}
