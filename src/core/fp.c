/* Base field Fp of BLS12-381: Montgomery arithmetic on 6x64-bit limbs. Portable C (unsigned
 * __int128) with an x86-64 mulx/adcx/adox backend chosen at run time when the CPU has ADX+BMI2. */
#include "fp.h"

#include <string.h>

typedef unsigned __int128 u128;

const uint64_t FP_P[6] = {0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
                          0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
const fp_t FP_ZERO = {{0, 0, 0, 0, 0, 0}};
const fp_t FP_ONE = {{0x760900000002fffdULL, 0xebf4000bc40c0002ULL, 0x5f48985753c758baULL,
                      0x77ce585370525745ULL, 0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}};
static const fp_t FP_R2 = {{0xf4df1f341c341746ULL, 0x0a76e6a609d104f1ULL, 0x8de5476c4c95b6d5ULL,
                            0x67eb88a9939d83c0ULL, 0x9a793e85b519952dULL, 0x11988fe592cae3aaULL}};
/* 2^256 in Montgomery form, for reducing 512-bit hash outputs. */
static const fp_t FP_2_256 = {{0x075b3cd7c5ce820fULL, 0x3ec6ba621c3edb0bULL, 0x168a13d82bff6bceULL,
                               0x87663c4bf8c449d2ULL, 0x15f34c83ddc8d830ULL, 0x0f9628b49caa2e85ULL}};

#define FP_N0 0x89f3fffcfffcfffdULL

#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
#define FP_HAVE_X86 1
#include "fp_x86.h"
#else
#define FP_HAVE_X86 0
#endif

#if defined(__x86_64__)
#include <x86intrin.h>
typedef unsigned long long ull;
#define ADDC(c, a, b, out) _addcarry_u64((c), (a), (b), (ull *)(out))
#define SUBB(c, a, b, out) _subborrow_u64((c), (a), (b), (ull *)(out))
#else
static inline unsigned char ADDC(unsigned char c, uint64_t a, uint64_t b, uint64_t *out) {
    u128 s = (u128)a + b + c;
    *out = (uint64_t)s;
    return (unsigned char)(s >> 64);
}
static inline unsigned char SUBB(unsigned char c, uint64_t a, uint64_t b, uint64_t *out) {
    u128 d = (u128)a - b - c;
    *out = (uint64_t)d;
    return (unsigned char)((d >> 64) & 1);
}
#endif

/* r = a - p if a >= p else a, for a < 2p. */
static inline void fp_reduce_once(uint64_t r[6], const uint64_t a[6]) {
    uint64_t t[6];
    unsigned char b = 0;
    for (int i = 0; i < 6; i++) b = SUBB(b, a[i], FP_P[i], &t[i]);
    /* borrow means a < p: keep a. */
    uint64_t m = ct_mask(b);
    for (int i = 0; i < 6; i++) r[i] = (a[i] & m) | (t[i] & ~m);
}

void fp_add(fp_t *r, const fp_t *a, const fp_t *b) {
#if FP_HAVE_X86
    tkms_fp_add_x86(r->l, a->l, b->l);
    return;
#endif
    uint64_t t[6];
    unsigned char c = 0;
    /* a + b < 2p < 2^384, so there is never a carry out of the top limb. */
    for (int i = 0; i < 6; i++) c = ADDC(c, a->l[i], b->l[i], &t[i]);
    fp_reduce_once(r->l, t);
}

void fp_dbl(fp_t *r, const fp_t *a) { fp_add(r, a, a); }

void fp_sub(fp_t *r, const fp_t *a, const fp_t *b) {
#if FP_HAVE_X86
    tkms_fp_sub_x86(r->l, a->l, b->l);
    return;
#endif
    uint64_t t[6];
    unsigned char c = 0;
    for (int i = 0; i < 6; i++) c = SUBB(c, a->l[i], b->l[i], &t[i]);
    uint64_t m = ct_mask(c);
    c = 0;
    for (int i = 0; i < 6; i++) c = ADDC(c, t[i], FP_P[i] & m, &r->l[i]);
}

void fp_neg(fp_t *r, const fp_t *a) {
    uint64_t nz = 1 ^ fp_is_zero(a), m = ct_mask(nz), borrow = 0;
    for (int i = 0; i < 6; i++) {
        u128 d = (u128)FP_P[i] - a->l[i] - borrow;
        r->l[i] = (uint64_t)d & m;
        borrow = (uint64_t)(d >> 64) & 1;
    }
}

/* Portable Montgomery multiplication: CIOS without the extra carry word, valid because the top
 * limb of p is below 2^62 (gnark's "no-carry" variant). */
void fp_mul_portable(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]) {
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 6; i++) {
        u128 A = (u128)a[0] * b[i] + t[0];
        t[0] = (uint64_t)A;
        uint64_t m = t[0] * FP_N0;
        u128 C = (u128)m * FP_P[0] + t[0];
        for (int j = 1; j < 6; j++) {
            A = (u128)a[j] * b[i] + t[j] + (uint64_t)(A >> 64);
            t[j] = (uint64_t)A;
            C = (u128)m * FP_P[j] + t[j] + (uint64_t)(C >> 64);
            t[j - 1] = (uint64_t)C;
        }
        t[5] = (uint64_t)(A >> 64) + (uint64_t)(C >> 64);
    }
    fp_reduce_once(r, t);
}

#if FP_HAVE_X86
int tkms_fp_have_adx = -1;
static void fp_detect(void) {
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    /* EBX bit 8 = BMI2, bit 19 = ADX */
    tkms_fp_have_adx = ((b >> 8) & 1) && ((b >> 19) & 1);
}
__attribute__((constructor)) static void fp_init(void) { fp_detect(); }
#define FP_USE_ADX (tkms_fp_have_adx > 0)
#else
#define FP_USE_ADX 0
#endif

const char *fp_backend(void) { return FP_USE_ADX ? "adx" : "c"; }

void fp_mul(fp_t *r, const fp_t *a, const fp_t *b) {
#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
    if (FP_USE_ADX) {
        fp_mul_adx(r->l, a->l, b->l);
        return;
    }
#endif
    fp_mul_portable(r->l, a->l, b->l);
}

void fp_sqr(fp_t *r, const fp_t *a) {
#if FP_HAVE_X86
    if (FP_USE_ADX) {
        tkms_fp_sqr_adx(r->l, a->l);
        return;
    }
#endif
    fp_mul(r, a, a);
}

void fp_mul_small(fp_t *r, const fp_t *a, unsigned k) {
    fp_t acc = FP_ZERO, base = *a;
    /* k is a public constant: branching on its bits leaks nothing. */
    while (k) {
        if (k & 1) fp_add(&acc, &acc, &base);
        k >>= 1;
        if (k) fp_dbl(&base, &base);
    }
    *r = acc;
}

uint64_t fp_is_zero(const fp_t *a) {
    uint64_t d = 0;
    for (int i = 0; i < 6; i++) d |= a->l[i];
    return ct_is_zero_u64(d);
}

uint64_t fp_eq(const fp_t *a, const fp_t *b) {
    uint64_t d = 0;
    for (int i = 0; i < 6; i++) d |= a->l[i] ^ b->l[i];
    return ct_is_zero_u64(d);
}

uint64_t fp_is_one(const fp_t *a) { return fp_eq(a, &FP_ONE); }

void fp_cmov(fp_t *r, const fp_t *a, uint64_t bit) { ct_cmov_words(r->l, a->l, 6, bit); }

void fp_to_mont(fp_t *r, const uint64_t plain[6]) {
    fp_t t;
    memcpy(t.l, plain, sizeof t.l);
    fp_mul(r, &t, &FP_R2);
}

void fp_from_mont(uint64_t plain[6], const fp_t *a) {
    static const uint64_t one[6] = {1, 0, 0, 0, 0, 0};
    fp_t r;
#if defined(__x86_64__) && !defined(TKMS_NO_ASM)
    if (FP_USE_ADX) {
        fp_mul_adx(r.l, a->l, one);
        memcpy(plain, r.l, sizeof r.l);
        return;
    }
#endif
    fp_mul_portable(r.l, a->l, one);
    memcpy(plain, r.l, sizeof r.l);
}

uint64_t fp_sgn0(const fp_t *a) {
    uint64_t t[6];
    fp_from_mont(t, a);
    return t[0] & 1;
}

uint64_t fp_is_lexlarge(const fp_t *a) {
    /* (p-1)/2 */
    static const uint64_t HALF[6] = {0xdcff7fffffffd555ULL, 0x0f55ffff58a9ffffULL, 0xb39869507b587b12ULL,
                                     0xb23ba5c279c2895fULL, 0x258dd3db21a5d66bULL, 0x0d0088f51cbff34dULL};
    uint64_t t[6], borrow = 0;
    fp_from_mont(t, a);
    /* HALF - t borrows iff t > HALF */
    for (int i = 0; i < 6; i++) {
        u128 d = (u128)HALF[i] - t[i] - borrow;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    return borrow;
}

void fp_from_u64(fp_t *r, uint64_t v) {
    uint64_t t[6] = {v, 0, 0, 0, 0, 0};
    fp_to_mont(r, t);
}

uint64_t fp_from_bytes(fp_t *r, const uint8_t in[48]) {
    uint64_t t[6], borrow = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++) w = (w << 8) | in[(5 - i) * 8 + j];
        t[i] = w;
    }
    for (int i = 0; i < 6; i++) {
        u128 d = (u128)t[i] - FP_P[i] - borrow;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    fp_to_mont(r, t);
    return borrow; /* t < p */
}

void fp_to_bytes(uint8_t out[48], const fp_t *a) {
    uint64_t t[6];
    fp_from_mont(t, a);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++) out[(5 - i) * 8 + j] = (uint8_t)(t[i] >> (56 - 8 * j));
}

void fp_from_bytes_wide(fp_t *r, const uint8_t in[64]) {
    /* in = hi * 2^256 + lo with hi, lo < 2^256 < p. */
    uint64_t hi[6] = {0}, lo[6] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t wh = 0, wl = 0;
        for (int j = 0; j < 8; j++) {
            wh = (wh << 8) | in[(3 - i) * 8 + j];
            wl = (wl << 8) | in[32 + (3 - i) * 8 + j];
        }
        hi[i] = wh;
        lo[i] = wl;
    }
    fp_t h, l;
    fp_to_mont(&h, hi);
    fp_to_mont(&l, lo);
    fp_mul(&h, &h, &FP_2_256);
    fp_add(r, &h, &l);
}

void fp_pow_pubexp(fp_t *r, const fp_t *a, const uint64_t *e, int n) {
    /* Sliding window of width 5 over the odd powers a, a^3, ..., a^31. Every branch and table index
     * depends on the exponent's bits only (public), so the time does not depend on a. */
    fp_t tbl[16], a2, acc = FP_ONE;
    tbl[0] = *a;
    fp_sqr(&a2, a);
    for (int i = 1; i < 16; i++) fp_mul(&tbl[i], &tbl[i - 1], &a2);
    int i = n * 64 - 1;
    while (i >= 0 && !((e[i / 64] >> (i % 64)) & 1)) i--;
    int first = 1;
    while (i >= 0) {
        if (!((e[i / 64] >> (i % 64)) & 1)) {
            fp_sqr(&acc, &acc);
            i--;
            continue;
        }
        int l = i - 4 < 0 ? 0 : i - 4;
        while (!((e[l / 64] >> (l % 64)) & 1)) l++; /* the window ends on a set bit */
        unsigned v = 0;
        for (int j = i; j >= l; j--) v = (v << 1) | (unsigned)((e[j / 64] >> (j % 64)) & 1);
        if (first) {
            acc = tbl[v >> 1];
            first = 0;
        } else {
            for (int j = i; j >= l; j--) fp_sqr(&acc, &acc);
            fp_mul(&acc, &acc, &tbl[v >> 1]);
        }
        i = l - 1;
    }
    *r = acc;
    tkms_wipe(tbl, sizeof tbl);
    tkms_wipe(&a2, sizeof a2);
}

void fp_inv_fermat(fp_t *r, const fp_t *a) {
    static const uint64_t PM2[6] = {0xb9feffffffffaaa9ULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
                                    0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
    fp_pow_pubexp(r, a, PM2, 6);
}

uint64_t fp_sqrt(fp_t *r, const fp_t *a) {
    /* p = 3 mod 4: sqrt(a) = a^((p+1)/4). */
    static const uint64_t E[6] = {0xee7fbfffffffeaabULL, 0x07aaffffac54ffffULL, 0xd9cc34a83dac3d89ULL,
                                  0xd91dd2e13ce144afULL, 0x92c6e9ed90d2eb35ULL, 0x0680447a8e5ff9a6ULL};
    fp_t s, c;
    fp_pow_pubexp(&s, a, E, 6);
    fp_sqr(&c, &s);
    *r = s;
    return fp_eq(&c, a);
}

uint64_t fp_is_square(const fp_t *a) {
    /* Euler's criterion: a^((p-1)/2) is 1 or 0 for squares. */
    static const uint64_t E[6] = {0xdcff7fffffffd555ULL, 0x0f55ffff58a9ffffULL, 0xb39869507b587b12ULL,
                                  0xb23ba5c279c2895fULL, 0x258dd3db21a5d66bULL, 0x0d0088f51cbff34dULL};
    fp_t t;
    fp_pow_pubexp(&t, a, E, 6);
    return fp_is_one(&t) | fp_is_zero(a);
}
