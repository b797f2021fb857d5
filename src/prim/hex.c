/* Constant-time hex codec (prim.h): no table lookups by data, no data-dependent branches. */
#include "prim.h"

#include <string.h>

/* 0..15 -> '0'..'9','a'..'f' */
static char nib_char(unsigned v) {
    /* v + '0', plus 39 when v > 9 ('a' - '0' - 10) */
    unsigned gt9 = (9u - v) >> 31; /* 1 iff v > 9 */
    return (char)(v + '0' + 39u * gt9);
}

void tkms_hex(char *out, const uint8_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = nib_char(in[i] >> 4);
        out[2 * i + 1] = nib_char(in[i] & 15u);
    }
    out[2 * n] = '\0';
}

/* all ones iff lo <= c <= hi, else 0, without a branch (c, lo, hi < 256: a difference is negative,
 * i.e. has its top bit set, exactly when c is out of range) */
static unsigned in_range(unsigned c, unsigned lo, unsigned hi) { return (((c - lo) | (hi - c)) >> 31) - 1u; }

/* Value of one digit, and *bad |= 1 if it is not a digit. */
static unsigned nib_val(unsigned char ch, int lower_only, unsigned *bad) {
    unsigned c = ch;
    unsigned upper_ok = 0u - (unsigned)!lower_only; /* public flag */
    unsigned d = in_range(c, '0', '9'), l = in_range(c, 'a', 'f'), u = in_range(c, 'A', 'F') & upper_ok;
    unsigned v = (d & (c - '0')) | (l & (c - 'a' + 10u)) | (u & (c - 'A' + 10u));
    *bad |= ~(d | l | u) & 1u;
    return v & 15u;
}

int tkms_unhex(uint8_t *out, size_t n, const char *s, size_t slen, int flags) {
    if (!s || slen != 2 * n || slen < n) {
        if (out && n) memset(out, 0, n);
        return 0;
    }
    unsigned bad = 0;
    int lower_only = flags & TKMS_HEX_LOWER_ONLY;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = nib_val((unsigned char)s[2 * i], lower_only, &bad);
        unsigned lo = nib_val((unsigned char)s[2 * i + 1], lower_only, &bad);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (bad) {
        volatile uint8_t *p = out;
        for (size_t i = 0; i < n; i++) p[i] = 0;
        return 0;
    }
    return 1;
}
