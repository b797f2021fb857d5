/* Test support: deterministic PRNG (seed printed for reproduction), hex and vector helpers. */
#include "testutil.h"

#include <string.h>
#include <time.h>

static uint64_t s[4];
static uint64_t seed_used;
static int seeded;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tu_seed(void) {
    if (seeded) return;
    const char *e = getenv("TKMS_TEST_SEED");
    uint64_t x = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    seed_used = x;
    for (int i = 0; i < 4; i++) s[i] = splitmix(&x);
    seeded = 1;
    fprintf(stderr, "test seed: TKMS_TEST_SEED=%llu\n", (unsigned long long)seed_used);
}

uint64_t tu_get_seed(void) { return seed_used; }

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tu_rand64(void) {
    if (!seeded) tu_seed();
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

void tu_randbytes(void *buf, size_t n) {
    uint8_t *b = buf;
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)tu_rand64();
}

static int hv(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long tu_unhex(uint8_t *out, size_t cap, const char *hex) {
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hv(hex[2 * i]), b = hv(hex[2 * i + 1]);
        if (a < 0 || b < 0) return -1;
        out[i] = (uint8_t)(a * 16 + b);
    }
    return (long)(n / 2);
}

void tu_hex(char *out, const uint8_t *in, size_t n) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = 0;
}

const char *tu_vector_path(const char *rel) {
    static char buf[4096];
    const char *dir = getenv("TKMS_VECTORS");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/vectors", rel);
    return buf;
}

json_t *tu_load_json(const char *rel) {
    json_error_t err;
    json_t *j = json_load_file(tu_vector_path(rel), 0, &err);
    if (!j) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", tu_vector_path(rel), err.text, err.line);
        exit(1);
    }
    return j;
}
