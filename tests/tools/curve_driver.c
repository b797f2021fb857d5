/* Line driver for the @noble/curves differential test (tests/js/curve_diff.test.mjs): reads one
 * command per line on stdin, answers one line on stdout, so one process serves every case.
 *   g1mul K P | g2mul K P   -> "RCT RVT" ([k]P by the constant-time and the wNAF path)
 *   g1add A B | g2add A B   -> "R"
 *   g1dec C   | g2dec C     -> "ok UNCOMPRESSED RECOMPRESSED" or "err STATUS"
 *   g1msm N K1 P1 ...       -> "R"  (also g2msm)
 *   fr A B                  -> "A*B A+B A-B 1/A" (canonical 32-byte big-endian)
 * K are 32-byte big-endian scalars (any 256-bit value), points compressed ZCash hex; "-" for empty. */
#include <stdlib.h>
#include <string.h>

#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "testutil.h"

static void scalar_from_hex(uint64_t k[4], const char *hex) {
    uint8_t b[32];
    if (tu_unhex(b, sizeof b, hex) != 32) {
        fprintf(stderr, "bad scalar\n");
        exit(2);
    }
    for (int i = 0; i < 4; i++) {
        k[i] = 0;
        for (int j = 0; j < 8; j++) k[i] = (k[i] << 8) | b[(3 - i) * 8 + j];
    }
}

static void put_hex(const uint8_t *b, size_t n) {
    char buf[512];
    tu_hex(buf, b, n);
    fputs(buf, stdout);
}

#define DEFINE_GROUP(G, CL, UL)                                                                   \
    static int G##_parse(G##_t *p, G##_affine_t *a, const char *hex) {                          \
        uint8_t b[UL];                                                                             \
        long n = tu_unhex(b, sizeof b, hex);                                                       \
        if (n < 0) return -1;                                                                      \
        int st = (int)G##_deserialize(a, b, (size_t)n, 1);                                         \
        if (st == 0) G##_from_affine(p, a);                                                        \
        return st;                                                                                 \
    }                                                                                              \
    static void G##_put(const G##_t *p) {                                                          \
        G##_affine_t a;                                                                            \
        uint8_t b[CL];                                                                             \
        G##_to_affine(&a, p);                                                                      \
        G##_serialize(b, &a);                                                                      \
        put_hex(b, CL);                                                                            \
    }

DEFINE_GROUP(g1, 48, 96)
DEFINE_GROUP(g2, 96, 192)

static char *tok(char **save) { return strtok_r(NULL, " \t\r\n", save); }

int main(void) {
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        char *save = NULL;
        char *op = strtok_r(line, " \t\r\n", &save);
        if (!op) continue;
        int g2 = op[1] == '2';
        if (!strcmp(op, "g1mul") || !strcmp(op, "g2mul")) {
            uint64_t k[4];
            scalar_from_hex(k, tok(&save));
            const char *ph = tok(&save);
            if (!g2) {
                g1_t p, r;
                g1_affine_t a;
                if (g1_parse(&p, &a, ph) != 0) goto bad;
                g1_mul(&r, &p, k);
                g1_put(&r);
                putchar(' ');
                g1_mul_vartime(&r, &p, k);
                g1_put(&r);
            } else {
                g2_t p, r;
                g2_affine_t a;
                if (g2_parse(&p, &a, ph) != 0) goto bad;
                g2_mul(&r, &p, k);
                g2_put(&r);
                putchar(' ');
                g2_mul_vartime(&r, &p, k);
                g2_put(&r);
            }
        } else if (!strcmp(op, "g1add") || !strcmp(op, "g2add")) {
            const char *ah = tok(&save), *bh = tok(&save);
            if (!g2) {
                g1_t a, b, r;
                g1_affine_t aa, ba;
                if (g1_parse(&a, &aa, ah) != 0 || g1_parse(&b, &ba, bh) != 0) goto bad;
                g1_add(&r, &a, &b);
                g1_put(&r);
                /* the mixed formula must agree */
                g1_t r2;
                g1_add_affine(&r2, &a, &ba);
                if (!g1_eq(&r, &r2)) goto bad;
            } else {
                g2_t a, b, r;
                g2_affine_t aa, ba;
                if (g2_parse(&a, &aa, ah) != 0 || g2_parse(&b, &ba, bh) != 0) goto bad;
                g2_add(&r, &a, &b);
                g2_put(&r);
                g2_t r2;
                g2_add_affine(&r2, &a, &ba);
                if (!g2_eq(&r, &r2)) goto bad;
            }
        } else if (!strcmp(op, "g1dec") || !strcmp(op, "g2dec")) {
            const char *h = tok(&save);
            uint8_t b[192];
            long n = tu_unhex(b, sizeof b, h);
            if (n < 0) goto bad;
            if (!g2) {
                g1_affine_t a;
                int st = (int)g1_deserialize(&a, b, (size_t)n, 1);
                if (st) {
                    printf("err %d", st);
                } else {
                    uint8_t u[96], c[48];
                    g1_serialize_uncompressed(u, &a);
                    g1_serialize(c, &a);
                    fputs("ok ", stdout);
                    put_hex(u, 96);
                    putchar(' ');
                    put_hex(c, 48);
                    /* the uncompressed form parses back to the same point */
                    g1_affine_t a2;
                    if (g1_deserialize(&a2, u, 96, 1) != G1_OK || memcmp(&a, &a2, sizeof a)) goto bad;
                }
            } else {
                g2_affine_t a;
                int st = (int)g2_deserialize(&a, b, (size_t)n, 1);
                if (st) {
                    printf("err %d", st);
                } else {
                    uint8_t u[192], c[96];
                    g2_serialize_uncompressed(u, &a);
                    g2_serialize(c, &a);
                    fputs("ok ", stdout);
                    put_hex(u, 192);
                    putchar(' ');
                    put_hex(c, 96);
                    g2_affine_t a2;
                    if (g2_deserialize(&a2, u, 192, 1) != G2_OK || memcmp(&a, &a2, sizeof a)) goto bad;
                }
            }
        } else if (!strcmp(op, "g1msm") || !strcmp(op, "g2msm")) {
            size_t n = (size_t)strtoul(tok(&save), NULL, 10);
            uint64_t(*ks)[4] = malloc((n + 1) * sizeof *ks);
            void *pts = malloc((n + 1) * sizeof(g2_affine_t));
            size_t sz = g2 ? g2_msm_scratch_size(n) : g1_msm_scratch_size(n);
            void *scratch = malloc(sz + 8);
            int ok = ks && pts && scratch;
            for (size_t i = 0; ok && i < n; i++) {
                scalar_from_hex(ks[i], tok(&save));
                const char *ph = tok(&save);
                if (!g2) {
                    g1_t p;
                    ok = g1_parse(&p, &((g1_affine_t *)pts)[i], ph) == 0;
                } else {
                    g2_t p;
                    ok = g2_parse(&p, &((g2_affine_t *)pts)[i], ph) == 0;
                }
            }
            if (ok && !g2) {
                g1_t r;
                g1_msm_vartime(&r, pts, (const uint64_t(*)[4])ks, n, scratch);
                g1_put(&r);
            } else if (ok) {
                g2_t r;
                g2_msm_vartime(&r, pts, (const uint64_t(*)[4])ks, n, scratch);
                g2_put(&r);
            }
            free(ks);
            free(pts);
            free(scratch);
            if (!ok) goto bad;
        } else if (!strcmp(op, "fr")) {
            uint8_t a[32], b[32], o[32];
            fr_t x, y, z;
            if (tu_unhex(a, 32, tok(&save)) != 32 || tu_unhex(b, 32, tok(&save)) != 32) goto bad;
            if (!fr_from_bytes(&x, a) || !fr_from_bytes(&y, b)) goto bad;
            fr_mul(&z, &x, &y);
            fr_to_bytes(o, &z);
            put_hex(o, 32);
            putchar(' ');
            fr_add(&z, &x, &y);
            fr_to_bytes(o, &z);
            put_hex(o, 32);
            putchar(' ');
            fr_sub(&z, &x, &y);
            fr_to_bytes(o, &z);
            put_hex(o, 32);
            putchar(' ');
            fr_inv(&z, &x);
            fr_to_bytes(o, &z);
            put_hex(o, 32);
        } else {
            goto bad;
        }
        putchar('\n');
        continue;
    bad:
        /* keep line alignment so the test can report the failing case */
        fputs("\nBAD\n", stdout);
        return 1;
    }
    return 0;
}
