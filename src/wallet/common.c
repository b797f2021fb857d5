/* Shared plumbing for the wallet layer: status strings, OpenSSL wrappers (SHA-256, HMAC-SHA512,
 * HKDF-SHA256) and the process-wide libsecp256k1 context. */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "wallet_internal.h"
#include "ct.h"
#include "sha256.h"

const char *tkms_wallet_strerror(tkms_wallet_status st) {
    switch (st) {
    case TKMS_WALLET_OK: return "ok";
    case TKMS_WALLET_EARG: return "invalid argument";
    case TKMS_WALLET_ELENGTH: return "mnemonic must have 12, 15, 18, 21 or 24 words";
    case TKMS_WALLET_EWORD: return "mnemonic contains a word that is not in the BIP-39 English list";
    case TKMS_WALLET_ECHECKSUM: return "checksum mismatch";
    case TKMS_WALLET_EPASSPHRASE:
        return "passphrase must be ASCII (NFKD normalisation of non-ASCII text is not supported)";
    case TKMS_WALLET_EPATH: return "invalid derivation path";
    case TKMS_WALLET_EKEY: return "invalid key";
    case TKMS_WALLET_EDERIVE: return "derived key is invalid at this index; use the next index";
    case TKMS_WALLET_EDOMAIN: return "invalid DNS name";
    case TKMS_WALLET_EFORMAT: return "not a tkms data file (bad header)";
    case TKMS_WALLET_EAUTH: return "authentication failed (wrong key, modified, reordered or truncated data)";
    case TKMS_WALLET_EINTERNAL: return "internal error";
    }
    return "unknown error";
}

void tkms_wallet_wipe(void *p, size_t n) {
    if (p && n) tkms_wipe(p, n);
}

void tkms_sha256(uint8_t out[32], const uint8_t *in, size_t len) { SHA256(in, len, out); }

int tkms_hmac_sha512(uint8_t out[64], const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len) {
    unsigned int olen = 0;
    if (key_len > 0x7fffffff) return 0;
    if (!HMAC(EVP_sha512(), key, (int)key_len, msg, msg_len, out, &olen)) return 0;
    return olen == 64;
}

int tkms_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const uint8_t *info, size_t info_len) {
    /* the core's HKDF (RFC 5869; core/sha256.c): one implementation in the tree */
    uint8_t prk[32];
    hkdf_sha256_extract(prk, salt, salt_len, ikm, ikm_len);
    int ok = hkdf_sha256_expand(out, out_len, prk, info, info_len);
    tkms_wipe(prk, sizeof prk);
    return ok;
}

static secp256k1_context *g_ctx;
static pthread_once_t g_ctx_once = PTHREAD_ONCE_INIT;

static void ctx_init(void) {
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx) return;
    /* Blinding of the generator multiplication against side channels (secp256k1.h recommends it). */
    unsigned char r[32];
    if (RAND_bytes(r, sizeof r) != 1 || !secp256k1_context_randomize(ctx, r)) {
        secp256k1_context_destroy(ctx);
        ctx = NULL;
    }
    OPENSSL_cleanse(r, sizeof r);
    g_ctx = ctx;
}

const secp256k1_context *tkms_secp_ctx(void) {
    pthread_once(&g_ctx_once, ctx_init);
    return g_ctx;
}

/* In its own object file (not base58.c): tests/ctime wraps it to declassify the string length. */
size_t tkms_base58_leading_zero_digits(const uint8_t *digits, size_t size) {
    size_t k = 0;
    uint32_t still = 1; /* all digits so far were zero */
    for (size_t j = 0; j < size; j++) {
        still &= ((uint32_t)digits[j] - 1u) >> 31; /* digits[j] == 0 */
        k += still;
    }
    return k;
}
