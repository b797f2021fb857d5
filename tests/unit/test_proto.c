/* src/proto: the TKMS-V1 byte layouts of docs/release-protocol.md spelled out here byte by byte
 * (the tag text, lp() = be32 length || bytes, be64, be32) and compared with what proto.c builds: the
 * key response a node signs, its HPKE AAD, the binding B, app-ID text; plus the writers of
 * proto_bytes.h. The tests/tools/release_req.mjs oracle checks the same layouts against real nodes
 * in the integration tests. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto.h"
#include "testutil.h"

typedef struct {
    uint8_t b[1024];
    size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n) {
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put_u32(bytes *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(o, b, 4);
}
static void put_u64(bytes *o, uint64_t v) {
    put_u32(o, (uint32_t)(v >> 32));
    put_u32(o, (uint32_t)v);
}
static void put_lp(bytes *o, const void *p, size_t n) {
    put_u32(o, (uint32_t)n);
    put(o, p, n);
}

static void fill(uint8_t *p, size_t n, uint8_t start) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(start + i);
}

static void key_response_and_aad(void) {
    uint8_t app[20], rcpt[32], nonce[32], enc[32], ct[64];
    fill(app, 20, 0x10), fill(rcpt, 32, 0x40), fill(nonce, 32, 0x80), fill(enc, 32, 0xa0), fill(ct, 64, 0xc0);
    const uint64_t epoch = 0x0102030405060708ULL;
    const uint32_t index = 0x0a0b0c0d;
    bytes want = {.n = 0};
    put(&want, "TKMS-V1-KEY-RESPONSE", 20);
    put_lp(&want, app, 20);
    put_u64(&want, epoch);
    put_u32(&want, index);
    put_lp(&want, rcpt, 32);
    put_lp(&want, nonce, 32);
    put_lp(&want, enc, 32);
    put_lp(&want, ct, 64);
    uint8_t got[TKMS_PROTO_KEY_RESPONSE_LEN];
    TU_CHECK(sizeof got == want.n);
    tkms_proto_key_response(got, app, epoch, index, rcpt, nonce, enc, ct);
    TU_CHECK(memcmp(got, want.b, want.n) == 0);
    bytes aad = {.n = 0};
    put_lp(&aad, app, 20);
    put_u64(&aad, epoch);
    put_u32(&aad, index);
    uint8_t ga[TKMS_PROTO_KEY_AAD_LEN];
    TU_CHECK(sizeof ga == aad.n);
    tkms_proto_key_aad(ga, app, epoch, index);
    TU_CHECK(memcmp(ga, aad.b, aad.n) == 0);
    printf("ok key response (%zu bytes) and its HPKE AAD (%zu bytes) match the documented layout\n", want.n, aad.n);
}

static void binding(void) {
    uint8_t app[20], rcpt[32], nonce[32], got[64], want[64];
    fill(app, 20, 1), fill(rcpt, 32, 2), fill(nonce, 32, 3);
    for (int with_rcpt = 0; with_rcpt <= 1; with_rcpt++) {
        bytes m = {.n = 0};
        put(&m, "TKMS-V1-ATTEST", 14);
        put_lp(&m, app, 20);
        put_lp(&m, rcpt, with_rcpt ? 32 : 0);
        put_lp(&m, nonce, 32);
        unsigned int wl = 0;
        TU_CHECK(EVP_Digest(m.b, m.n, want, &wl, EVP_sha512(), NULL) == 1 && wl == 64);
        TU_CHECK(tkms_proto_binding(got, app, with_rcpt ? rcpt : NULL, with_rcpt ? 32 : 0, nonce, 32));
        TU_CHECK(memcmp(got, want, 64) == 0);
    }
    printf("ok binding B = SHA-512(tag || lp(app) || lp(recipient) || lp(nonce)), with and without a recipient\n");
}

static void app_ids(void) {
    uint8_t a[20];
    char t[TKMS_PROTO_APP_ID_TEXT];
    TU_CHECK(tkms_proto_app_id_parse(a, "0x00112233445566778899AABBCCDDEEFF0a1B2c3D"));
    tkms_proto_app_id_format(t, a);
    TU_CHECK(strcmp(t, "0x00112233445566778899aabbccddeeff0a1b2c3d") == 0);
    TU_CHECK(tkms_proto_app_id_parse(a, "0X00112233445566778899aabbccddeeff0a1b2c3d"));
    static const char *const bad[] = {"", "0x", "00112233445566778899aabbccddeeff0a1b2c3d",
                                      "0x00112233445566778899aabbccddeeff0a1b2c3", "0x00112233445566778899aabbccddeeff0a1b2c3d0",
                                      "0x00112233445566778899aabbccddeeff0a1b2c3g", "1x00112233445566778899aabbccddeeff0a1b2c3d"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) TU_CHECK(!tkms_proto_app_id_parse(a, bad[i]));
    TU_CHECK(!tkms_proto_app_id_parse(a, NULL));
    printf("ok app IDs: 0x + 40 hex digits in, lowercase out; %zu malformed forms refused\n", sizeof bad / sizeof *bad);
}

static void writers(void) {
    uint8_t b[8];
    proto_be32(b, 0x01020304u);
    TU_CHECK(b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4 && proto_rd_be32(b) == 0x01020304u);
    proto_be64(b, 0x1122334455667788ULL);
    TU_CHECK(b[0] == 0x11 && b[7] == 0x88 && proto_rd_be64(b) == 0x1122334455667788ULL);
    uint8_t o[16];
    TU_CHECK(proto_put_lp(o, "abc", 3) == o + 7 && !memcmp(o, "\0\0\0\3abc", 7));
    TU_CHECK(TKMS_TAG_LEN(TKMS_TAG_KEY_RESPONSE) == 20 && TKMS_TAG_LEN("") == 0);
    printf("ok be32/be64/lp writers and TKMS_TAG_LEN\n");
}

int main(void) {
    key_response_and_aad();
    binding();
    app_ids();
    writers();
    return 0;
}
