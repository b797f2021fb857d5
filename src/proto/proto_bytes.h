/* TKMS-V1 byte encodings: big-endian integers and length prefixes lp(x) = be32(|x|) || x, the only
 * ones the protocol uses. Header-only and dependency-free so that every layer (core included) uses
 * these instead of writing its own. */
#ifndef TKMS_PROTO_BYTES_H
#define TKMS_PROTO_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void proto_be32(uint8_t out[4], uint32_t v) {
    out[0] = (uint8_t)(v >> 24), out[1] = (uint8_t)(v >> 16), out[2] = (uint8_t)(v >> 8), out[3] = (uint8_t)v;
}

static inline void proto_be64(uint8_t out[8], uint64_t v) {
    proto_be32(out, (uint32_t)(v >> 32));
    proto_be32(out + 4, (uint32_t)v);
}

static inline uint32_t proto_rd_be32(const uint8_t in[4]) {
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

static inline uint64_t proto_rd_be64(const uint8_t in[8]) {
    return (uint64_t)proto_rd_be32(in) << 32 | proto_rd_be32(in + 4);
}

/* Writes lp(x) at p (4 + n bytes; n < 2^32, checked by the caller) and returns the end. */
static inline uint8_t *proto_put_lp(uint8_t *p, const void *x, size_t n) {
    proto_be32(p, (uint32_t)n);
    if (n) memcpy(p + 4, x, n);
    return p + 4 + n;
}

#endif
