/* Test support: deterministic PRNG, hex helpers, vector loading. */
#ifndef TKMS_TESTUTIL_H
#define TKMS_TESTUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

/* xoshiro256** seeded from TKMS_TEST_SEED or the clock; the seed is printed once per process. */
void tu_seed(void);
uint64_t tu_rand64(void);
void tu_randbytes(void *buf, size_t n);
uint64_t tu_get_seed(void);

/* Hex decode into out (cap bytes); returns length or -1. Accepts optional 0x. */
long tu_unhex(uint8_t *out, size_t cap, const char *hex);
void tu_hex(char *out, const uint8_t *in, size_t n);

/* Loads TKMS_VECTORS/<rel> as JSON; aborts the test on failure. */
json_t *tu_load_json(const char *rel);
/* Path under TKMS_VECTORS, into a static buffer. */
const char *tu_vector_path(const char *rel);

#define TU_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s (seed %llu)\n", __FILE__, __LINE__, #cond,    \
                    (unsigned long long)tu_get_seed());                                            \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
