/* Constant-time helpers: masks, conditional moves, a value barrier and a wipe the compiler keeps.
 * Every secret-handling routine in the core builds on these; nothing here branches on its inputs. */
#ifndef TKMS_CT_H
#define TKMS_CT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TKMS_INLINE static inline __attribute__((always_inline))
#else
#define TKMS_INLINE static inline
#endif

/* Hides a value from the optimiser so that mask arithmetic is not turned back into branches. */
TKMS_INLINE uint64_t ct_barrier_u64(uint64_t x) {
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#endif
    return x;
}

/* 1 if x == 0 else 0. */
TKMS_INLINE uint64_t ct_is_zero_u64(uint64_t x) { return 1 ^ ((x | (0 - x)) >> 63); }
/* all-ones if bit == 1, zero if bit == 0 (bit must be 0 or 1). */
TKMS_INLINE uint64_t ct_mask(uint64_t bit) { return 0 - ct_barrier_u64(bit); }
/* 1 if a == b else 0. */
TKMS_INLINE uint64_t ct_eq_u64(uint64_t a, uint64_t b) { return ct_is_zero_u64(a ^ b); }

/* r = bit ? a : r over n 64-bit words. */
TKMS_INLINE void ct_cmov_words(uint64_t *r, const uint64_t *a, size_t n, uint64_t bit) {
    uint64_t m = ct_mask(bit);
    for (size_t i = 0; i < n; i++) r[i] ^= m & (r[i] ^ a[i]);
}

/* 1 if the n bytes are equal, in time independent of their contents. */
TKMS_INLINE uint64_t ct_memeq(const void *a, const void *b, size_t n) {
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    uint64_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint64_t)(x[i] ^ y[i]);
    return ct_is_zero_u64(d);
}

/* Zeroes n bytes at p; the store cannot be elided. */
void tkms_wipe(void *p, size_t n);

#endif
