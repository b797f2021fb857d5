/* tkms1: sealed secrets (DESIGN.md §2): header "TKMS-SEALED-V1" || lp(app_id) || SHA-256(MPK) ||
 * lp(name), IBE(app) of a random 32-byte data key, ChaCha20-Poly1305 payload with AAD = header. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "appkey.h"
#include "ct.h"
#include "g1.h"
#include "g2.h"
#include "ibe.h"
#include "seal.h"
#include "sha256.h"
#include "proto_bytes.h"
#include "proto_tags.h"

#define MAGIC TKMS_TAG_SEALED
#define MAGIC_LEN 14
#define PREFIX "tkms1:"
#define DK 32
#define IBE_CT (96 + 2 * DK)

int tkms_chacha_poly(int enc, uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t in_len);

static tkms_status st(tkms_seal_code c, const char *m) { return tkms_seal_st(c, m); }

static size_t rd32(const uint8_t *p) {
    return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | (size_t)p[3];
}

static void payload_key(uint8_t key[32], const uint8_t dk[DK]) {
    uint8_t prk[32];
    hkdf_sha256_extract(prk, (const uint8_t *)TKMS_SALT_V1, TKMS_TAG_LEN(TKMS_SALT_V1), dk, DK);
    (void)hkdf_sha256_expand(key, 32, prk, (const uint8_t *)TKMS_INFO_SEALED, TKMS_TAG_LEN(TKMS_INFO_SEALED));
    tkms_wipe(prk, sizeof prk);
}

static int build_header(tkms_buf *h, const uint8_t mpk[96], const uint8_t app_id[20], const char *name) {
    uint8_t l[4], mh[32];
    size_t nl = strlen(name);
    sha256(mh, mpk, 96);
    int ok = tkms_buf_append(h, MAGIC, MAGIC_LEN);
    proto_be32(l, (uint32_t)(20));
    ok = ok && tkms_buf_append(h, l, 4) && tkms_buf_append(h, app_id, 20) && tkms_buf_append(h, mh, 32);
    proto_be32(l, (uint32_t)(nl));
    return ok && tkms_buf_append(h, l, 4) && tkms_buf_append(h, name, nl);
}

tkms_status tkms_seal(tkms_buf *out, const uint8_t mpk[96], const uint8_t app_id[20], const char *name,
                           const uint8_t *in, size_t in_len) {
    g2_affine_t m;
    uint8_t dk[DK], sigma[DK], key[32], nonce[12] = {0};
    tkms_buf blob = {0};
    tkms_status res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
    if (!name) name = "";
    if (strlen(name) > TKMS_SEAL_MAX_NAME) return st(TKMS_SEAL_E_USAGE, "name longer than 255 bytes");
    if (in_len > TKMS_SEAL_MAX_PLAINTEXT) return st(TKMS_SEAL_E_INPUT, "secret larger than 64 MiB (use tlock/age or data encryption)");
    if (g2_deserialize(&m, mpk, 96, 0) != G2_OK) return st(TKMS_SEAL_E_INPUT, "invalid MPK (not a G2 point in the subgroup)");
    if (RAND_bytes(dk, DK) != 1 || RAND_bytes(sigma, DK) != 1) return st(TKMS_SEAL_E_INTERNAL, "no randomness");
    if (!build_header(&blob, mpk, app_id, name)) goto done;
    size_t hlen = blob.len;
    uint8_t ibe[IBE_CT];
    if (!ibe_encrypt_mpk_g2(ibe, &m, (const uint8_t *)TKMS_DST_APP_KEY, TKMS_TAG_LEN(TKMS_DST_APP_KEY), app_id, 20, dk, DK, sigma))
        goto done;
    if (!tkms_buf_append(&blob, ibe, IBE_CT)) goto done;
    size_t off = blob.len;
    /* reserve room for the payload, then encrypt in place into the buffer */
    uint8_t *tmp = malloc(in_len + 16);
    if (!tmp) goto done;
    payload_key(key, dk);
    int ok = tkms_chacha_poly(1, tmp, key, nonce, blob.p, hlen, in, in_len) && tkms_buf_append(&blob, tmp, in_len + 16);
    free(tmp);
    if (!ok) goto done;
    (void)off;
    char *b = tkms_b64_encode(blob.p, blob.len, 1, 0);
    if (!b) goto done;
    ok = tkms_buf_append(out, PREFIX, strlen(PREFIX)) && tkms_buf_append(out, b, strlen(b));
    free(b);
    if (ok) res = st(TKMS_SEAL_OK, "ok");
done:
    tkms_buf_free(&blob);
    tkms_wipe(dk, sizeof dk);
    tkms_wipe(sigma, sizeof sigma);
    tkms_wipe(key, sizeof key);
    return res;
}

tkms_status tkms_unseal(tkms_buf *out, char **name_out, const char *text, size_t text_len, const uint8_t key[48],
                             const uint8_t *app_id, const uint8_t *mpk) {
    tkms_buf blob = {0};
    tkms_status res = st(TKMS_SEAL_E_INPUT, "not a tkms1: sealed secret");
    uint8_t dk[DK], pkey[32], nonce[12] = {0};
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    g1_affine_t k;
    if (g1_deserialize(&k, key, 48, 0) != G1_OK) return st(TKMS_SEAL_E_INPUT, "invalid app key");
    while (text_len && (text[text_len - 1] == '\n' || text[text_len - 1] == '\r' || text[text_len - 1] == ' '))
        text_len--;
    while (text_len && (text[0] == ' ' || text[0] == '\n' || text[0] == '\r' || text[0] == '\t')) text++, text_len--;
    size_t pl = strlen(PREFIX);
    if (text_len < pl || memcmp(text, PREFIX, pl) != 0) goto done;
    /* 4/3 expansion bounds the decoded size well before decoding */
    if ((text_len - pl) / 4 * 3 > TKMS_SEAL_MAX_PLAINTEXT + 4096) {
        res = st(TKMS_SEAL_E_INPUT, "sealed secret larger than the 64 MiB limit");
        goto done;
    }
    if (!tkms_b64_decode(&blob, text + pl, text_len - pl, 1, 0)) {
        res = st(TKMS_SEAL_E_INPUT, "bad base64url in the sealed secret");
        goto done;
    }
    res = st(TKMS_SEAL_E_INPUT, "truncated or malformed sealed secret");
    const uint8_t *p = blob.p;
    size_t n = blob.len;
    if (n < MAGIC_LEN + 4 + 20 + 32 + 4 || memcmp(p, MAGIC, MAGIC_LEN) != 0) goto done;
    if (rd32(p + MAGIC_LEN) != 20) goto done;
    const uint8_t *sealed_app = p + MAGIC_LEN + 4, *mpk_hash = sealed_app + 20;
    size_t name_len = rd32(mpk_hash + 32);
    if (name_len > TKMS_SEAL_MAX_NAME) goto done;
    size_t hlen = MAGIC_LEN + 4 + 20 + 32 + 4 + name_len;
    if (n < hlen + IBE_CT + 16) goto done;
    if (app_id && memcmp(app_id, sealed_app, 20) != 0) {
        res = st(TKMS_SEAL_E_INPUT, "sealed to another app");
        goto done;
    }
    if (mpk) {
        uint8_t mh[32];
        g2_affine_t m;
        sha256(mh, mpk, 96);
        if (memcmp(mh, mpk_hash, 32) != 0) {
            res = st(TKMS_SEAL_E_INPUT, "sealed under another cluster key");
            goto done;
        }
        if (g2_deserialize(&m, mpk, 96, 0) != G2_OK || !appkey_verify(&k, sealed_app, &m)) {
            res = st(TKMS_SEAL_E_INPUT, "the app key does not verify against the MPK");
            goto done;
        }
    }
    if (!ibe_decrypt_mpk_g2(dk, &k, p + hlen, IBE_CT)) {
        res = st(TKMS_SEAL_E_INPUT, "cannot open the data key (wrong app key or modified secret)");
        goto done;
    }
    plain_len = n - hlen - IBE_CT - 16;
    plain = malloc(plain_len + 1);
    if (!plain) {
        res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
        goto done;
    }
    payload_key(pkey, dk);
    if (!tkms_chacha_poly(0, plain, pkey, nonce, p, hlen, p + hlen + IBE_CT, n - hlen - IBE_CT)) {
        res = st(TKMS_SEAL_E_INPUT, "payload authentication failed (modified secret)");
        goto done;
    }
    if (!tkms_buf_append(out, plain, plain_len)) {
        res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
        goto done;
    }
    if (name_out) {
        *name_out = malloc(name_len + 1);
        if (*name_out) {
            memcpy(*name_out, mpk_hash + 36, name_len);
            (*name_out)[name_len] = 0;
        }
    }
    res = st(TKMS_SEAL_OK, "ok");
done:
    if (plain) {
        tkms_wipe(plain, plain_len);
        free(plain);
    }
    tkms_buf_free(&blob);
    tkms_wipe(dk, sizeof dk);
    tkms_wipe(pkey, sizeof pkey);
    return res;
}
