/* HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305:
 * labelled HKDF on the core's SHA-256, X25519 and the AEAD from OpenSSL. */
#include "hpke.h"

#include <openssl/evp.h>
#include <string.h>

#include "ct.h"
#include "identity.h"
#include "sha256.h"
#include "prim.h"

static const uint8_t KEM_SUITE[5] = {'K', 'E', 'M', 0x00, 0x20};
static const uint8_t HPKE_SUITE[10] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, 0x03};

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite || label || ikm). */
static void labeled_extract(uint8_t prk[32], const uint8_t *suite, size_t suite_len, const uint8_t *salt,
                            size_t salt_len, const char *label, const uint8_t *ikm, size_t ikm_len) {
    hmac_sha256_ctx h;
    uint8_t zero[32] = {0};
    /* RFC 5869: an absent salt is HashLen zero bytes. */
    if (salt_len == 0) {
        salt = zero;
        salt_len = 32;
    }
    hmac_sha256_init(&h, salt, salt_len);
    hmac_sha256_update(&h, "HPKE-v1", 7);
    hmac_sha256_update(&h, suite, suite_len);
    hmac_sha256_update(&h, label, strlen(label));
    if (ikm_len) hmac_sha256_update(&h, ikm, ikm_len);
    hmac_sha256_final(&h, prk);
}

/* LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite || label || info, L). */
static int labeled_expand(uint8_t *out, size_t len, const uint8_t prk[32], const uint8_t *suite, size_t suite_len,
                          const char *label, const uint8_t *info, size_t info_len) {
    if (len > 255 * 32 || info_len > 1024) return 0;
    uint8_t buf[2 + 7 + 10 + 32 + 1024];
    size_t ll = strlen(label), n = 0;
    if (ll > 32) return 0;
    buf[n++] = (uint8_t)(len >> 8);
    buf[n++] = (uint8_t)len;
    memcpy(buf + n, "HPKE-v1", 7);
    n += 7;
    memcpy(buf + n, suite, suite_len);
    n += suite_len;
    memcpy(buf + n, label, ll);
    n += ll;
    if (info_len) memcpy(buf + n, info, info_len);
    n += info_len;
    int ok = hkdf_sha256_expand(out, len, prk, buf, n);
    tkms_wipe(buf, n);
    return ok;
}

int tkms_hpke_derive_keypair(uint8_t sk[32], uint8_t pk[32], const uint8_t *ikm, size_t ikm_len) {
    uint8_t prk[32];
    labeled_extract(prk, KEM_SUITE, 5, NULL, 0, "dkp_prk", ikm, ikm_len);
    int ok = labeled_expand(sk, 32, prk, KEM_SUITE, 5, "sk", NULL, 0) && tkms_x25519_pubkey(pk, sk);
    tkms_wipe(prk, sizeof prk);
    return ok;
}

/* ExtractAndExpand(dh, enc || pkR). */
static int kem_shared_secret(uint8_t ss[32], const uint8_t dh[32], const uint8_t enc[32], const uint8_t pk_r[32]) {
    uint8_t prk[32], kc[64];
    memcpy(kc, enc, 32);
    memcpy(kc + 32, pk_r, 32);
    labeled_extract(prk, KEM_SUITE, 5, NULL, 0, "eae_prk", dh, 32);
    int ok = labeled_expand(ss, 32, prk, KEM_SUITE, 5, "shared_secret", kc, 64);
    tkms_wipe(prk, sizeof prk);
    return ok;
}

static int key_schedule(tkms_hpke_ctx *ctx, const uint8_t ss[32], const uint8_t *info, size_t info_len) {
    uint8_t ksc[65], secret[32];
    ksc[0] = 0; /* mode_base */
    labeled_extract(ksc + 1, HPKE_SUITE, 10, NULL, 0, "psk_id_hash", NULL, 0);
    labeled_extract(ksc + 33, HPKE_SUITE, 10, NULL, 0, "info_hash", info, info_len);
    labeled_extract(secret, HPKE_SUITE, 10, ss, 32, "secret", NULL, 0);
    int ok = labeled_expand(ctx->key, 32, secret, HPKE_SUITE, 10, "key", ksc, 65) &&
             labeled_expand(ctx->base_nonce, 12, secret, HPKE_SUITE, 10, "base_nonce", ksc, 65) &&
             labeled_expand(ctx->exporter_secret, 32, secret, HPKE_SUITE, 10, "exp", ksc, 65);
    ctx->seq = 0;
    tkms_wipe(secret, sizeof secret);
    return ok;
}

int tkms_hpke_setup_s(tkms_hpke_ctx *ctx, uint8_t enc[32], uint8_t *shared_secret, const uint8_t pk_r[32],
                      const uint8_t *info, size_t info_len, const uint8_t *ikm_e, size_t ikm_e_len) {
    uint8_t sk_e[32], dh[32], ss[32];
    int ok = tkms_hpke_derive_keypair(sk_e, enc, ikm_e, ikm_e_len) && tkms_x25519(dh, sk_e, pk_r) &&
             kem_shared_secret(ss, dh, enc, pk_r) && key_schedule(ctx, ss, info, info_len);
    if (ok && shared_secret) memcpy(shared_secret, ss, 32);
    tkms_wipe(sk_e, 32);
    tkms_wipe(dh, 32);
    tkms_wipe(ss, 32);
    if (!ok) tkms_hpke_ctx_wipe(ctx);
    return ok;
}

int tkms_hpke_setup_r(tkms_hpke_ctx *ctx, uint8_t *shared_secret, const uint8_t enc[32], const uint8_t sk_r[32],
                      const uint8_t *info, size_t info_len) {
    uint8_t pk_r[32], dh[32], ss[32];
    int ok = tkms_x25519_pubkey(pk_r, sk_r) && tkms_x25519(dh, sk_r, enc) && kem_shared_secret(ss, dh, enc, pk_r) &&
             key_schedule(ctx, ss, info, info_len);
    if (ok && shared_secret) memcpy(shared_secret, ss, 32);
    tkms_wipe(dh, 32);
    tkms_wipe(ss, 32);
    if (!ok) tkms_hpke_ctx_wipe(ctx);
    return ok;
}

static void ctx_nonce(uint8_t nonce[12], const tkms_hpke_ctx *ctx) {
    memcpy(nonce, ctx->base_nonce, 12);
    for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}


int tkms_hpke_ctx_seal(tkms_hpke_ctx *ctx, uint8_t *ct, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                       size_t pt_len) {
    uint8_t nonce[12];
    if (ctx->seq == UINT64_MAX) return 0;
    ctx_nonce(nonce, ctx);
    if (!tkms_aead(1, ct, ctx->key, nonce, aad, aad_len, pt, pt_len, ct + pt_len)) return 0;
    ctx->seq++;
    return 1;
}

int tkms_hpke_ctx_open(tkms_hpke_ctx *ctx, uint8_t *pt, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                       size_t ct_len) {
    uint8_t nonce[12], tag[16];
    if (ct_len < 16 || ctx->seq == UINT64_MAX) return 0;
    memcpy(tag, ct + ct_len - 16, 16);
    ctx_nonce(nonce, ctx);
    if (!tkms_aead(0, pt, ctx->key, nonce, aad, aad_len, ct, ct_len - 16, tag)) {
        tkms_wipe(pt, ct_len - 16);
        return 0;
    }
    ctx->seq++;
    return 1;
}

int tkms_hpke_export(const tkms_hpke_ctx *ctx, uint8_t *out, size_t len, const uint8_t *exp_ctx, size_t exp_ctx_len) {
    return labeled_expand(out, len, ctx->exporter_secret, HPKE_SUITE, 10, "sec", exp_ctx, exp_ctx_len);
}

void tkms_hpke_ctx_wipe(tkms_hpke_ctx *ctx) { tkms_wipe(ctx, sizeof *ctx); }

int tkms_hpke_seal(uint8_t *out, const uint8_t pk_r[32], const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t pt_len, const uint8_t ikm_e[32]) {
    tkms_hpke_ctx ctx;
    int ok = tkms_hpke_setup_s(&ctx, out, NULL, pk_r, info, info_len, ikm_e, 32) &&
             tkms_hpke_ctx_seal(&ctx, out + 32, aad, aad_len, pt, pt_len);
    tkms_hpke_ctx_wipe(&ctx);
    return ok;
}

int tkms_hpke_open(uint8_t *pt, const uint8_t sk_r[32], const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t in_len) {
    tkms_hpke_ctx ctx;
    if (in_len < 48) return 0;
    int ok = tkms_hpke_setup_r(&ctx, NULL, in, sk_r, info, info_len) &&
             tkms_hpke_ctx_open(&ctx, pt, aad, aad_len, in + 32, in_len - 32);
    tkms_hpke_ctx_wipe(&ctx);
    return ok;
}
