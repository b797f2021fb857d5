/* SHA-256, HMAC-SHA256 and HKDF-SHA256 of the core against published vectors (FIPS 180-4
 * examples, RFC 4231, RFC 5869 cases 1-3) and against OpenSSL on random inputs, including every
 * length around the 64-byte block and 56-byte padding boundaries and split (streaming) updates. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "sha256.h"
#include "testutil.h"

static void check_hex(const uint8_t *got, size_t n, const char *want_hex) {
    uint8_t want[512];
    long wl = tu_unhex(want, sizeof want, want_hex);
    TU_CHECK(wl == (long)n);
    if (memcmp(got, want, n) != 0) {
        char h[1025];
        tu_hex(h, got, n);
        fprintf(stderr, "got  %s\nwant %s\n", h, want_hex);
    }
    TU_CHECK(memcmp(got, want, n) == 0);
}

static void known_answers(void) {
    uint8_t d[32];
    sha256(d, "abc", 3);
    check_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256(d, "", 0);
    check_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256(d, m448, strlen(m448));
    check_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha256(d, m896, strlen(m896));
    check_hex(d, 32, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a', streamed in uneven pieces */
    sha256_ctx c;
    uint8_t a[1000];
    memset(a, 'a', sizeof a);
    sha256_init(&c);
    for (size_t left = 1000000, step = 1; left;) {
        size_t n = step < left ? step : left;
        sha256_update(&c, a, n);
        left -= n;
        step = step % 977 + 13; /* stays below sizeof a */
    }
    sha256_final(&c, d);
    check_hex(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* RFC 4231 test cases 1, 2 and 6 (131-byte key, hashed first) */
    uint8_t key[131];
    memset(key, 0x0b, 20);
    hmac_sha256(d, key, 20, "Hi There", 8);
    check_hex(d, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_sha256(d, (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28);
    check_hex(d, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, sizeof key);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_sha256(d, key, sizeof key, m6, strlen(m6));
    check_hex(d, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

    /* RFC 5869 A.1-A.3 */
    struct {
        const char *ikm, *salt, *info, *prk, *okm;
        size_t L;
    } hk[3] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", 42},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87", 82},
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", 42},
    };
    for (int i = 0; i < 3; i++) {
        uint8_t ikm[128], salt[128], info[128], prk[32], okm[128];
        long il = tu_unhex(ikm, sizeof ikm, hk[i].ikm), sl = tu_unhex(salt, sizeof salt, hk[i].salt),
             nl = tu_unhex(info, sizeof info, hk[i].info);
        TU_CHECK(il >= 0 && sl >= 0 && nl >= 0);
        hkdf_sha256_extract(prk, sl ? salt : NULL, (size_t)sl, ikm, (size_t)il);
        check_hex(prk, 32, hk[i].prk);
        TU_CHECK(hkdf_sha256_expand(okm, hk[i].L, prk, nl ? info : NULL, (size_t)nl));
        check_hex(okm, hk[i].L, hk[i].okm);
    }
    uint8_t big[1];
    TU_CHECK(!hkdf_sha256_expand(big, 255 * 32 + 1, d, NULL, 0));
}

static void ossl_hkdf(uint8_t *out, size_t L, const uint8_t *salt, size_t sl, const uint8_t *ikm, size_t il,
                      const uint8_t *info, size_t nl) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM ps[5], *p = ps;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, il);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sl);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, nl);
    *p = OSSL_PARAM_construct_end();
    TU_CHECK(EVP_KDF_derive(kc, out, L, ps) == 1);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
}

static void random_vs_openssl(void) {
    static uint8_t msg[4200], key[300];
    tu_randbytes(msg, sizeof msg);
    tu_randbytes(key, sizeof key);
    /* every length up to 300 covers the 55/56/63/64/119/120/128 boundaries; then random ones */
    for (int it = 0; it < 1500; it++) {
        size_t n = it < 300 ? (size_t)it : (size_t)(tu_rand64() % sizeof msg);
        uint8_t a[32], b[32];
        unsigned int bl = 32;
        sha256(a, msg, n);
        TU_CHECK(EVP_Digest(msg, n, b, &bl, EVP_sha256(), NULL) == 1);
        TU_CHECK(memcmp(a, b, 32) == 0);

        /* streaming with random split points equals one-shot */
        sha256_ctx c;
        sha256_init(&c);
        for (size_t off = 0; off < n;) {
            size_t k = (size_t)(tu_rand64() % 150);
            if (k > n - off) k = n - off;
            sha256_update(&c, msg + off, k);
            off += k;
        }
        sha256_final(&c, a);
        TU_CHECK(memcmp(a, b, 32) == 0);

        size_t kl = it < 300 ? (size_t)it % 140 : (size_t)(tu_rand64() % sizeof key);
        size_t ml = n % 700;
        size_t ol = 0;
        hmac_sha256(a, key, kl, msg, ml);
        TU_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, kl, msg, ml, b, 32, &ol) != NULL && ol == 32);
        TU_CHECK(memcmp(a, b, 32) == 0);

        if (it % 5 == 0) {
            uint8_t o1[600], o2[600], prk[32];
            size_t L = 1 + (size_t)(tu_rand64() % sizeof o1);
            size_t sl = (size_t)(tu_rand64() % 100), il = 1 + (size_t)(tu_rand64() % 100), nl = (size_t)(tu_rand64() % 100);
            hkdf_sha256_extract(prk, key, sl, msg, il);
            TU_CHECK(hkdf_sha256_expand(o1, L, prk, msg + 200, nl));
            ossl_hkdf(o2, L, key, sl, msg, il, msg + 200, nl);
            TU_CHECK(memcmp(o1, o2, L) == 0);
        }
    }
}

int main(void) {
    tu_seed();
    known_answers();
    random_vs_openssl();
    printf("sha256: ok\n");
    return 0;
}
