/* ChaCha20-Poly1305 (RFC 8439) through OpenSSL's EVP interface (prim.h): the only one in the tree. */
#include "prim.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

int tkms_aead(int enc, uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t len, uint8_t tag[16]) {
    if (len > (size_t)1 << 30 || aad_len > (size_t)1 << 30) return 0; /* EVP takes int lengths */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = c != NULL;
    ok = ok && EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
         EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1;
    if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1;
    if (ok && aad_len) ok = EVP_CipherUpdate(c, NULL, &l, aad, (int)aad_len) == 1;
    if (ok && len) ok = EVP_CipherUpdate(c, out, &l, in, (int)len) == 1;
    if (ok) ok = EVP_CipherFinal_ex(c, out + len, &l) == 1; /* a stream cipher: nothing more is written */
    if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok && !enc && len) OPENSSL_cleanse(out, len);
    return ok;
}
