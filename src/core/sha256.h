/* SHA-256, HMAC-SHA256 and HKDF-SHA256 (FIPS 180-4, RFC 2104, RFC 5869) for the allocation-free
 * core. The service layers use OpenSSL; the core must not allocate or depend on it. */
#ifndef TKMS_SHA256_H
#define TKMS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes absorbed */
    uint8_t buf[64];
    size_t buflen;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t out[32]); /* wipes the context */
void sha256(uint8_t out[32], const void *data, size_t n);

typedef struct {
    sha256_ctx inner, outer;
} hmac_sha256_ctx;
void hmac_sha256_init(hmac_sha256_ctx *c, const uint8_t *key, size_t keylen);
void hmac_sha256_update(hmac_sha256_ctx *c, const void *data, size_t n);
void hmac_sha256_final(hmac_sha256_ctx *c, uint8_t out[32]);
void hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen, const void *data, size_t n);

void hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen);
/* Returns 0 if len > 255*32. */
int hkdf_sha256_expand(uint8_t *out, size_t len, const uint8_t prk[32], const uint8_t *info, size_t infolen);

#endif
