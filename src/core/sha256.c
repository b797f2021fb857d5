/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869) for the core: no
 * allocation, no library dependency, every buffer that held key material wiped before return. */
#include "sha256.h"

#include <string.h>

#include "ct.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Compresses n consecutive 64-byte blocks; the message schedule is a 16-word ring so the stack
 * footprint stays small (and is wiped once per call, not per block). */
static void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t n) {
    uint32_t w[16];
    while (n--) {
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
            uint32_t wi;
            if (i < 16) {
                wi = w[i] = load_be32(p + 4 * i);
            } else {
                uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
                uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3);
                uint32_t s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10);
                wi = w[i & 15] = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
            }
            uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + wi;
            uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
        p += 64;
    }
    tkms_wipe(w, sizeof w);
}

void sha256_init(sha256_ctx *c) {
    static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, IV, sizeof IV);
    c->len = 0;
    c->buflen = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    c->len += n;
    if (c->buflen) {
        size_t take = 64 - c->buflen;
        if (take > n) take = n;
        memcpy(c->buf + c->buflen, p, take);
        c->buflen += take;
        p += take;
        n -= take;
        if (c->buflen < 64) return;
        sha256_blocks(c->h, c->buf, 1);
        c->buflen = 0;
    }
    if (n >= 64) {
        sha256_blocks(c->h, p, n / 64);
        p += n & ~(size_t)63;
        n &= 63;
    }
    if (n) {
        memcpy(c->buf, p, n);
        c->buflen = n;
    }
}

void sha256_final(sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->len << 3;
    size_t n = c->buflen;
    c->buf[n++] = 0x80;
    if (n > 56) {
        memset(c->buf + n, 0, 64 - n);
        sha256_blocks(c->h, c->buf, 1);
        n = 0;
    }
    memset(c->buf + n, 0, 56 - n);
    for (int i = 0; i < 8; i++) c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_blocks(c->h, c->buf, 1);
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, c->h[i]);
    tkms_wipe(c, sizeof *c);
}

void sha256(uint8_t out[32], const void *data, size_t n) {
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, n);
    sha256_final(&c, out);
}

void hmac_sha256_init(hmac_sha256_ctx *c, const uint8_t *key, size_t keylen) {
    uint8_t k[64], pad[64];
    memset(k, 0, sizeof k);
    if (keylen > 64) {
        sha256(k, key, keylen); /* RFC 2104: keys longer than a block are hashed first */
    } else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (int i = 0; i < 64; i++) pad[i] = (uint8_t)(k[i] ^ 0x36);
    sha256_init(&c->inner);
    sha256_update(&c->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = (uint8_t)(k[i] ^ 0x5c);
    sha256_init(&c->outer);
    sha256_update(&c->outer, pad, 64);
    tkms_wipe(k, sizeof k);
    tkms_wipe(pad, sizeof pad);
}

void hmac_sha256_update(hmac_sha256_ctx *c, const void *data, size_t n) { sha256_update(&c->inner, data, n); }

void hmac_sha256_final(hmac_sha256_ctx *c, uint8_t out[32]) {
    uint8_t ih[32];
    sha256_final(&c->inner, ih);
    sha256_update(&c->outer, ih, 32);
    sha256_final(&c->outer, out);
    tkms_wipe(ih, sizeof ih);
}

void hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen, const void *data, size_t n) {
    hmac_sha256_ctx c;
    hmac_sha256_init(&c, key, keylen);
    hmac_sha256_update(&c, data, n);
    hmac_sha256_final(&c, out);
}

void hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen) {
    static const uint8_t zeros[32] = {0};
    /* RFC 5869 2.2: an absent salt is HashLen zero bytes (which HMAC pads the same as empty). */
    if (salt == NULL || saltlen == 0) {
        salt = zeros;
        saltlen = sizeof zeros;
    }
    hmac_sha256(prk, salt, saltlen, ikm, ikmlen);
}

int hkdf_sha256_expand(uint8_t *out, size_t len, const uint8_t prk[32], const uint8_t *info, size_t infolen) {
    if (len > 255 * 32) return 0;
    hmac_sha256_ctx base, c;
    uint8_t t[32];
    size_t tlen = 0;
    hmac_sha256_init(&base, prk, 32);
    for (uint8_t i = 1; len > 0; i++) {
        c = base; /* the keyed state is reused rather than re-deriving the pads per block */
        hmac_sha256_update(&c, t, tlen);
        if (infolen) hmac_sha256_update(&c, info, infolen);
        hmac_sha256_update(&c, &i, 1);
        hmac_sha256_final(&c, t);
        tlen = 32;
        size_t take = len < 32 ? len : 32;
        memcpy(out, t, take);
        out += take;
        len -= take;
    }
    tkms_wipe(&base, sizeof base);
    tkms_wipe(&c, sizeof c);
    tkms_wipe(t, sizeof t);
    return 1;
}
