/* Strict RFC 4648 base64, standard and URL alphabets (prim.h): the only codec in the tree. */
#include "prim.h"

#include <stdlib.h>
#include <string.h>

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

int tkms_b64_decode_alloc(uint8_t **out, size_t *out_len, const char *in, size_t n, int url, int pad) {
    *out = NULL;
    *out_len = 0;
    size_t npad = 0;
    if (pad) {
        if (n % 4) return 0;
        /* at most two '=' at the end; any other '=' is not a symbol and is refused below */
        while (npad < 2 && n > 0 && in[n - 1] == '=') n--, npad++;
    } else if (n % 4 == 1) {
        return 0;
    }
    uint8_t *o = malloc(n / 4 * 3 + 3 + 1), *w = o;
    if (!o) return 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = val(in[i], url);
        if (v < 0) goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *w++ = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1)) goto bad; /* non-zero unused bits: a second spelling of the same bytes */
    *w = 0;
    *out = o;
    *out_len = (size_t)(w - o);
    return 1;
bad:
    free(o);
    return 0;
}
