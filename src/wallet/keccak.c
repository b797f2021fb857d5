/* Keccak-256 with the original 0x01 padding, as Ethereum uses it. OpenSSL 3.0 only offers the
 * FIPS-202 variant (0x06 padding), which gives different digests. */
#include <string.h>

#include "wallet_internal.h"

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
/* Rotation offsets and lane permutation of the rho and pi steps, in pi's visiting order. */
static const unsigned ROT[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                                 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned PI[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

static uint64_t rol(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t s[25]) {
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], t;
        for (int x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (int x = 0; x < 5; x++) {
            t = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5) s[y + x] ^= t;
        }
        t = s[1];
        for (int i = 0; i < 24; i++) {
            uint64_t tmp = s[PI[i]];
            s[PI[i]] = rol(t, ROT[i]);
            t = tmp;
        }
        for (int y = 0; y < 25; y += 5) {
            uint64_t a[5];
            for (int x = 0; x < 5; x++) a[x] = s[y + x];
            for (int x = 0; x < 5; x++) s[y + x] = a[x] ^ (~a[(x + 1) % 5] & a[(x + 2) % 5]);
        }
        s[0] ^= RC[round];
    }
}

static uint64_t load64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

void tkms_keccak256(uint8_t out[32], const uint8_t *in, size_t len) {
    enum { RATE = 136 };
    uint64_t s[25] = {0};
    uint8_t block[RATE];
    while (len >= RATE) {
        for (int i = 0; i < RATE / 8; i++) s[i] ^= load64le(in + 8 * i);
        keccak_f1600(s);
        in += RATE;
        len -= RATE;
    }
    memset(block, 0, sizeof block);
    if (len) memcpy(block, in, len);
    block[len] ^= 0x01; /* Keccak padding (SHA3 would use 0x06) */
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++) s[i] ^= load64le(block + 8 * i);
    keccak_f1600(s);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)(s[i] >> (8 * j));
    tkms_wallet_wipe(s, sizeof s);
    tkms_wallet_wipe(block, sizeof block);
}
