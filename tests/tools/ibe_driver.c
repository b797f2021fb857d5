/* JSON-lines driver for the IBE differential test (tests/js/ibe_diff.test.mjs): one request per
 * line on stdin, one answer per line on stdout, so one process serves every case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "g1.h"
#include "g2.h"
#include "ibe.h"
#include "testutil.h"

static long field(uint8_t *out, size_t cap, json_t *req, const char *name) {
    const char *s = json_string_value(json_object_get(req, name));
    if (!s) return -1;
    if (!*s) return 0;
    return tu_unhex(out, cap, s);
}

static void reply_hex(const char *key, const uint8_t *b, size_t n) {
    char *h = malloc(2 * n + 1);
    tu_hex(h, b, n);
    h[2 * n] = 0;
    printf("{\"ok\":true,\"%s\":\"%s\"}\n", key, h);
    free(h);
}

int main(void) {
    char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        json_error_t err;
        json_t *req = json_loads(line, 0, &err);
        if (!req) {
            printf("{\"ok\":false,\"error\":\"bad json\"}\n");
            fflush(stdout);
            continue;
        }
        const char *op = json_string_value(json_object_get(req, "op"));
        const char *orient = json_string_value(json_object_get(req, "orient"));
        int g2 = orient && strcmp(orient, "g2") == 0; /* MPK in G2 */
        uint8_t dst[512], id[512], mpk[96], msg[64], sigma[64], key[96], ct[256], out[64];
        int ok = 0;
        if (op && strcmp(op, "encrypt") == 0) {
            long dl = field(dst, sizeof dst, req, "dst"), il = field(id, sizeof id, req, "id");
            long ml = field(mpk, sizeof mpk, req, "mpk"), nl = field(msg, sizeof msg, req, "msg");
            long sl = field(sigma, sizeof sigma, req, "sigma");
            if (dl >= 0 && il >= 0 && nl > 0 && sl == nl) {
                if (g2) {
                    g2_affine_t m;
                    ok = ml == 96 && g2_deserialize(&m, mpk, 96, 0) == G2_OK &&
                         ibe_encrypt_mpk_g2(ct, &m, dst, (size_t)dl, id, (size_t)il, msg, (size_t)nl, sigma);
                } else {
                    g1_affine_t m;
                    ok = ml == 48 && g1_deserialize(&m, mpk, 48, 0) == G1_OK &&
                         ibe_encrypt_mpk_g1(ct, &m, dst, (size_t)dl, id, (size_t)il, msg, (size_t)nl, sigma);
                }
            }
            if (ok) reply_hex("ct", ct, ibe_ciphertext_len(g2 ? IBE_MPK_G2 : IBE_MPK_G1, (size_t)nl));
        } else if (op && strcmp(op, "decrypt") == 0) {
            long kl = field(key, sizeof key, req, "key"), cl = field(ct, sizeof ct, req, "ct");
            if (kl > 0 && cl > 0) {
                if (g2) {
                    g1_affine_t k;
                    ok = kl == 48 && g1_deserialize(&k, key, 48, 0) == G1_OK && ibe_decrypt_mpk_g2(out, &k, ct, (size_t)cl);
                } else {
                    g2_affine_t k;
                    ok = kl == 96 && g2_deserialize(&k, key, 96, 0) == G2_OK && ibe_decrypt_mpk_g1(out, &k, ct, (size_t)cl);
                }
            }
            if (ok) reply_hex("msg", out, ibe_message_len(g2 ? IBE_MPK_G2 : IBE_MPK_G1, (size_t)cl));
        }
        if (!ok) printf("{\"ok\":false}\n");
        fflush(stdout);
        json_decref(req);
    }
    return 0;
}
