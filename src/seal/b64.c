/* The growable buffer of the seal layer, and base64 decoding into it (the codec is in src/prim). */
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "ct.h"
#include "prim.h"

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

int tkms_b64_decode(tkms_buf *out, const char *in, size_t n, int url, int pad) {
    uint8_t *d = NULL;
    size_t dl = 0;
    if (!tkms_b64_decode_alloc(&d, &dl, in, n, url, pad)) return 0;
    int ok = tkms_buf_append(out, d, dl);
    tkms_wipe(d, dl);
    free(d);
    return ok;
}
