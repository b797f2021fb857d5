/* Line-oriented hash-to-curve driver for the @noble/curves differential test: each input line is
 * "g1|g2 ro|nu MSGHEX DSTHEX" ("-" for an empty hex string); each output line is the compressed
 * point in hex, or "error". One process serves the whole run. */
#include <stdio.h>
#include <string.h>

#include "h2c.h"
#include "testutil.h"

static long unhex_arg(uint8_t *out, size_t cap, const char *s) {
    if (strcmp(s, "-") == 0) return 0;
    return tu_unhex(out, cap, s);
}

int main(void) {
    static char line[16384];
    static uint8_t msg[4096], dst[4096];
    char grp[8], mode[8], mh[8200], dh[8200];
    while (fgets(line, sizeof line, stdin)) {
        long ml, dl;
        if (sscanf(line, "%7s %7s %8199s %8199s", grp, mode, mh, dh) != 4 ||
            (ml = unhex_arg(msg, sizeof msg, mh)) < 0 || (dl = unhex_arg(dst, sizeof dst, dh)) < 0) {
            puts("error");
            continue;
        }
        int ro = strcmp(mode, "ro") == 0;
        char hex[2 * 96 + 1];
        if (strcmp(grp, "g1") == 0) {
            g1_t p;
            g1_affine_t a;
            uint8_t out[48];
            if (ro)
                h2c_hash_to_g1(&p, msg, (size_t)ml, dst, (size_t)dl);
            else
                h2c_encode_to_g1(&p, msg, (size_t)ml, dst, (size_t)dl);
            g1_to_affine(&a, &p);
            g1_serialize(out, &a);
            tu_hex(hex, out, sizeof out);
        } else {
            g2_t p;
            g2_affine_t a;
            uint8_t out[96];
            if (ro)
                h2c_hash_to_g2(&p, msg, (size_t)ml, dst, (size_t)dl);
            else
                h2c_encode_to_g2(&p, msg, (size_t)ml, dst, (size_t)dl);
            g2_to_affine(&a, &p);
            g2_serialize(out, &a);
            tu_hex(hex, out, sizeof out);
        }
        puts(hex);
    }
    return 0;
}
