/* src/prim: the constant-time hex codec against a plain reference decoder on every pair of input
 * characters and on random buffers (seeded, TKMS_TEST_SEED); ChaCha20-Poly1305 against the RFC 8439
 * §2.8.2 AEAD example (ciphertext and tag), tag and AAD tampering, in-place use and wiping on
 * failure; base64 against the RFC 4648 §10 vectors, strict padding and canonical spelling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prim.h"
#include "testutil.h"

static int ref_nib(int c, int lower_only) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (!lower_only && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void hex_every_pair(void) {
    for (int flags = 0; flags <= 1; flags++)
        for (int a = 0; a < 256; a++)
            for (int b = 0; b < 256; b++) {
                char s[2] = {(char)a, (char)b};
                uint8_t out = 0x5a;
                int ra = ref_nib(a, flags), rb = ref_nib(b, flags);
                int ok = tkms_unhex(&out, 1, s, 2, flags);
                if (ok != (ra >= 0 && rb >= 0) || (ok && out != (uint8_t)(ra << 4 | rb)) || (!ok && out != 0)) {
                    fprintf(stderr, "tkms_unhex(%02x %02x, flags %d) = %d, %02x\n", a, b, flags, ok, out);
                    TU_CHECK(0);
                }
            }
    for (int v = 0; v < 256; v++) {
        uint8_t in = (uint8_t)v;
        char got[3], want[3];
        tkms_hex(got, &in, 1);
        snprintf(want, sizeof want, "%02x", v);
        TU_CHECK(strcmp(got, want) == 0);
    }
    printf("ok hex: all 65,536 digit pairs in both modes and all 256 bytes agree with the reference\n");
}

static void hex_random(void) {
    for (int it = 0; it < 2000; it++) {
        uint8_t in[64], back[64];
        size_t n = 1 + (size_t)(tu_rand64() % 64);
        tu_randbytes(in, n);
        char h[129];
        tkms_hex(h, in, n);
        TU_CHECK(strlen(h) == 2 * n);
        for (size_t i = 0; i < 2 * n; i++) TU_CHECK(ref_nib(h[i], 1) >= 0);
        TU_CHECK(tkms_unhex(back, n, h, 2 * n, TKMS_HEX_LOWER_ONLY) && memcmp(back, in, n) == 0);
        /* upper case: accepted in any-case mode only */
        for (size_t i = 0; i < 2 * n; i++)
            if (h[i] >= 'a') h[i] = (char)(h[i] - 32);
        TU_CHECK(tkms_unhex(back, n, h, 2 * n, TKMS_HEX_ANY_CASE) && memcmp(back, in, n) == 0);
        /* a wrong length and one bad digit anywhere: refused, output zeroed */
        TU_CHECK(!tkms_unhex(back, n, h, 2 * n - 1, TKMS_HEX_ANY_CASE));
        size_t at = (size_t)(tu_rand64() % 128) * (2 * n) / 128; /* in [0, 2n) */
        h[at] = 'g';
        memset(back, 0x77, n);
        TU_CHECK(!tkms_unhex(back, n, h, 2 * n, TKMS_HEX_ANY_CASE));
        for (size_t i = 0; i < n; i++) TU_CHECK(back[i] == 0);
    }
    /* the empty string is the encoding of nothing */
    char e[1];
    tkms_hex(e, NULL, 0);
    TU_CHECK(e[0] == 0 && tkms_unhex(NULL, 0, "", 0, TKMS_HEX_LOWER_ONLY));
    TU_CHECK(!tkms_unhex(NULL, 0, NULL, 0, 0));
    printf("ok hex: 2,000 random buffers (1..64 bytes) and the empty one round-trip; bad digits and lengths refused with zeroed output\n");
}

static void aead_rfc8439(void) {
    uint8_t key[32], nonce[12], aad[12], tag[16], ct[114], pt[114], want_tag[16], want_ct16[16];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0x80 + i);
    TU_CHECK(tu_unhex(nonce, 12, "070000004041424344454647") == 12);
    TU_CHECK(tu_unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7") == 12);
    static const char msg[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
                              "future, sunscreen would be it.";
    TU_CHECK(sizeof msg - 1 == 114);
    TU_CHECK(tu_unhex(want_tag, 16, "1ae10b594f09e26a7e902ecbd0600691") == 16);
    TU_CHECK(tu_unhex(want_ct16, 16, "d31a8d34648e60db7b86afbc53ef7ec2") == 16);
    TU_CHECK(tkms_aead(1, ct, key, nonce, aad, sizeof aad, (const uint8_t *)msg, 114, tag));
    TU_CHECK(memcmp(tag, want_tag, 16) == 0 && memcmp(ct, want_ct16, 16) == 0);
    TU_CHECK(tkms_aead(0, pt, key, nonce, aad, sizeof aad, ct, 114, tag) && memcmp(pt, msg, 114) == 0);
    /* in place */
    memcpy(pt, msg, 114);
    TU_CHECK(tkms_aead(1, pt, key, nonce, aad, sizeof aad, pt, 114, tag) && memcmp(pt, ct, 114) == 0);
    TU_CHECK(tkms_aead(0, pt, key, nonce, aad, sizeof aad, pt, 114, tag) && memcmp(pt, msg, 114) == 0);
    /* a flipped tag bit, AAD byte or ciphertext byte: refused, output wiped */
    uint8_t bad[16];
    memcpy(bad, tag, 16), bad[15] ^= 1;
    memset(pt, 0x77, sizeof pt);
    TU_CHECK(!tkms_aead(0, pt, key, nonce, aad, sizeof aad, ct, 114, bad));
    for (size_t i = 0; i < 114; i++) TU_CHECK(pt[i] == 0);
    aad[0] ^= 1;
    TU_CHECK(!tkms_aead(0, pt, key, nonce, aad, sizeof aad, ct, 114, tag));
    aad[0] ^= 1;
    ct[50] ^= 0x80;
    TU_CHECK(!tkms_aead(0, pt, key, nonce, aad, sizeof aad, ct, 114, tag));
    /* no AAD, empty message */
    TU_CHECK(tkms_aead(1, ct, key, nonce, NULL, 0, NULL, 0, tag));
    TU_CHECK(tkms_aead(0, pt, key, nonce, NULL, 0, NULL, 0, tag));
    tag[0] ^= 1;
    TU_CHECK(!tkms_aead(0, pt, key, nonce, NULL, 0, NULL, 0, tag));
    printf("ok aead: RFC 8439 2.8.2 ciphertext and tag; tampering refused with wiped output; in place\n");
}

static void b64_rfc4648(void) {
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const pad[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const nopad[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n = strlen(in[i]);
        char *e = tkms_b64_encode((const uint8_t *)in[i], n, 0, 1), *u = tkms_b64_encode((const uint8_t *)in[i], n, 1, 0);
        TU_CHECK(e && u && strcmp(e, pad[i]) == 0 && strcmp(u, nopad[i]) == 0);
        free(e), free(u);
        uint8_t *d = NULL;
        size_t dl = 0;
        TU_CHECK(tkms_b64_decode_alloc(&d, &dl, pad[i], strlen(pad[i]), 0, 1) && dl == n && memcmp(d, in[i], n) == 0);
        free(d);
        TU_CHECK(tkms_b64_decode_alloc(&d, &dl, nopad[i], strlen(nopad[i]), 1, 0) && dl == n && memcmp(d, in[i], n) == 0);
        free(d);
        if (strcmp(pad[i], nopad[i]) != 0) {
            /* padding exactly as requested */
            TU_CHECK(!tkms_b64_decode_alloc(&d, &dl, pad[i], strlen(pad[i]), 1, 0) && d == NULL);
            TU_CHECK(!tkms_b64_decode_alloc(&d, &dl, nopad[i], strlen(nopad[i]), 0, 1) && d == NULL);
        }
    }
    static const char *const bad_pad[] = {"Zh==", "Zm9=", "Z===", "Zg=", "Zg=A", "=Zg=", "Zm+v", "Zm-v", "Zg==Zg=="};
    static const int bad_url[] = {0, 0, 0, 0, 0, 0, 1, 0, 0};
    for (size_t i = 0; i < sizeof bad_pad / sizeof *bad_pad; i++) {
        uint8_t *d = NULL;
        size_t dl = 0;
        if (tkms_b64_decode_alloc(&d, &dl, bad_pad[i], strlen(bad_pad[i]), bad_url[i], 1)) {
            fprintf(stderr, "accepted %s\n", bad_pad[i]);
            TU_CHECK(0);
        }
    }
    uint8_t *d = NULL;
    size_t dl = 0;
    TU_CHECK(!tkms_b64_decode_alloc(&d, &dl, "Zh", 2, 1, 0));    /* unused bits set */
    TU_CHECK(!tkms_b64_decode_alloc(&d, &dl, "Zm9vY", 5, 1, 0)); /* 5 symbols: no byte count */
    TU_CHECK(!tkms_b64_decode_alloc(&d, &dl, "Zm/v", 4, 1, 0));  /* standard alphabet in URL mode */
    TU_CHECK(tkms_b64_decode_alloc(&d, &dl, "_-8", 3, 1, 0) && dl == 2 && d[0] == 0xff && d[1] == 0xef);
    free(d);
    printf("ok base64: RFC 4648 section 10 both ways; non-canonical bits, bad padding and foreign alphabets refused\n");
}

int main(void) {
    tu_seed();
    hex_every_pair();
    hex_random();
    aead_rfc8439();
    b64_rfc4648();
    return 0;
}
