/* TKMS-V1 encodings (proto.h). */
#include "proto.h"

#include <openssl/evp.h>
#include <string.h>

int tkms_proto_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t *recipient, size_t recipient_len,
                       const uint8_t *nonce, size_t nonce_len) {
    if (recipient_len > UINT32_MAX || nonce_len > UINT32_MAX) return 0;
    uint8_t lp[4];
    unsigned int n = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestInit_ex(m, EVP_sha512(), NULL) == 1 &&
             EVP_DigestUpdate(m, TKMS_TAG_ATTEST, TKMS_TAG_LEN(TKMS_TAG_ATTEST)) == 1;
    const uint8_t *part[3] = {app_id, recipient, nonce};
    size_t len[3] = {20, recipient_len, nonce_len};
    for (int i = 0; i < 3 && ok; i++) {
        proto_be32(lp, (uint32_t)len[i]);
        ok = EVP_DigestUpdate(m, lp, 4) == 1 && (len[i] == 0 || EVP_DigestUpdate(m, part[i], len[i]) == 1);
    }
    ok = ok && EVP_DigestFinal_ex(m, out, &n) == 1 && n == 64;
    EVP_MD_CTX_free(m);
    if (!ok) memset(out, 0, 64);
    return ok;
}

void tkms_proto_key_aad(uint8_t out[TKMS_PROTO_KEY_AAD_LEN], const uint8_t app_id[20], uint64_t epoch, uint32_t index) {
    (void)proto_put_lp(out, app_id, 20);
    proto_be64(out + 24, epoch);
    proto_be32(out + 32, index);
}

void tkms_proto_key_response(uint8_t out[TKMS_PROTO_KEY_RESPONSE_LEN], const uint8_t app_id[20], uint64_t epoch,
                             uint32_t index, const uint8_t recipient[32], const uint8_t nonce[32],
                             const uint8_t enc[32], const uint8_t ciphertext[64]) {
    uint8_t *p = out;
    memcpy(p, TKMS_TAG_KEY_RESPONSE, TKMS_TAG_LEN(TKMS_TAG_KEY_RESPONSE));
    p += TKMS_TAG_LEN(TKMS_TAG_KEY_RESPONSE);
    p = proto_put_lp(p, app_id, 20);
    proto_be64(p, epoch);
    proto_be32(p + 8, index);
    p += 12;
    p = proto_put_lp(p, recipient, 32);
    p = proto_put_lp(p, nonce, 32);
    p = proto_put_lp(p, enc, 32);
    (void)proto_put_lp(p, ciphertext, 64);
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int tkms_proto_app_id_parse(uint8_t app_id[20], const char *text) {
    if (!text || strlen(text) != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return 0;
    uint8_t v[20];
    for (size_t i = 0; i < 20; i++) {
        int a = nibble(text[2 + 2 * i]), b = nibble(text[3 + 2 * i]);
        if (a < 0 || b < 0) return 0;
        v[i] = (uint8_t)(a << 4 | b);
    }
    memcpy(app_id, v, 20);
    return 1;
}

void tkms_proto_app_id_format(char out[TKMS_PROTO_APP_ID_TEXT], const uint8_t app_id[20]) {
    static const char hx[] = "0123456789abcdef"; /* app IDs are public */
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < 20; i++) {
        out[2 + 2 * i] = hx[app_id[i] >> 4];
        out[3 + 2 * i] = hx[app_id[i] & 15];
    }
    out[42] = '\0';
}
