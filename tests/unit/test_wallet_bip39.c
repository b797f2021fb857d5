/* BIP-39 and app-key mnemonic tests: Trezor English vectors ("TREZOR" passphrase), the embedded
 * wordlist's sha256, negative cases (checksum, words, counts, passphrase rules) and tkms KATs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "tkms/wallet.h"
#include "wallet_test.h"

static void test_wordlist_sha256(void **state) {
    (void)state;
    /* Rebuild english.txt from the embedded table: it must hash to the published value and equal the
     * vectors copy byte for byte. */
    char *text = malloc(2048 * 10);
    size_t n = 0;
    for (unsigned i = 0; i < 2048; i++) {
        const char *w = tkms_bip39_word_vartime(i);
        assert_non_null(w);
        size_t l = strlen(w);
        memcpy(text + n, w, l);
        n += l;
        text[n++] = '\n';
    }
    assert_null(tkms_bip39_word_vartime(2048));
    uint8_t h[32];
    SHA256((const uint8_t *)text, n, h);
    assert_string_equal(wt_hex(h, 32), "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda");
    size_t flen = 0;
    uint8_t *file = wt_load_file("bip39/english.txt", &flen);
    assert_int_equal(flen, n);
    assert_memory_equal(file, text, n);
    free(file);
    free(text);
}

static void test_trezor_vectors(void **state) {
    (void)state;
    json_t *all = wt_load_json("bip39/vectors.json");
    json_t *en = json_object_get(all, "english");
    assert_true(json_array_size(en) >= 24);
    size_t i;
    json_t *v;
    json_array_foreach(en, i, v) {
        const char *ehex = json_string_value(json_array_get(v, 0));
        const char *words = json_string_value(json_array_get(v, 1));
        const char *seedhex = json_string_value(json_array_get(v, 2));
        const char *xprv = json_string_value(json_array_get(v, 3));
        size_t elen = 0;
        uint8_t *e = wt_unhex(ehex, &elen);
        char m[TKMS_BIP39_MNEMONIC_MAX];
        assert_int_equal(tkms_bip39_from_entropy(m, sizeof m, e, elen), TKMS_WALLET_OK);
        assert_string_equal(m, words);
        uint8_t back[32];
        size_t blen = 0;
        assert_int_equal(tkms_bip39_to_entropy(back, &blen, sizeof back, words), TKMS_WALLET_OK);
        assert_int_equal(blen, elen);
        assert_memory_equal(back, e, elen);
        uint8_t seed[64];
        assert_int_equal(tkms_bip39_seed(seed, words, "TREZOR"), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(seed, 64), seedhex);
        tkms_hdkey k;
        char x[TKMS_BIP32_XKEY_MAX];
        assert_int_equal(tkms_bip32_master(&k, seed, 64), TKMS_WALLET_OK);
        assert_int_equal(tkms_bip32_serialize(x, sizeof x, &k, TKMS_BIP32_VERSION_XPRV), TKMS_WALLET_OK);
        assert_string_equal(x, xprv);
        /* A one-character-too-small buffer must be refused, not overrun. */
        assert_int_equal(tkms_bip39_from_entropy(m, strlen(words), e, elen), TKMS_WALLET_EARG);
        free(e);
    }
    json_decref(all);
}

static void test_negative(void **state) {
    (void)state;
    uint8_t e[32];
    size_t elen;
    const char *ok12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e, ok12), TKMS_WALLET_OK);
    /* checksum: last word changed to another valid word */
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon abandon"),
                     TKMS_WALLET_ECHECKSUM);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon zoo"),
                     TKMS_WALLET_ECHECKSUM);
    /* unknown, upper-case, prefix-only and overlong words */
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon abouts"),
                     TKMS_WALLET_EWORD);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "Abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon about"),
                     TKMS_WALLET_EWORD);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "aban abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon about"),
                     TKMS_WALLET_EWORD);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandonabandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon abandon about"),
                     TKMS_WALLET_EWORD);
    /* counts: 0, 11, 13, 25 */
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e, "   "), TKMS_WALLET_ELENGTH);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon about"),
                     TKMS_WALLET_ELENGTH);
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e,
                                           "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                                           "abandon abandon abandon about"),
                     TKMS_WALLET_ELENGTH);
    char m25[400] = "";
    for (int i = 0; i < 25; i++) strcat(m25, "zoo ");
    assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e, m25), TKMS_WALLET_ELENGTH);
    /* entropy lengths */
    char m[TKMS_BIP39_MNEMONIC_MAX];
    memset(e, 0, sizeof e);
    assert_int_equal(tkms_bip39_from_entropy(m, sizeof m, e, 15), TKMS_WALLET_EARG);
    assert_int_equal(tkms_bip39_from_entropy(m, sizeof m, e, 17), TKMS_WALLET_EARG);
    assert_int_equal(tkms_bip39_from_entropy(m, sizeof m, e, 36), TKMS_WALLET_EARG);
    /* seed refuses an invalid mnemonic */
    uint8_t seed[64];
    assert_int_equal(tkms_bip39_seed(seed, "abandon abandon", NULL), TKMS_WALLET_ELENGTH);
}

static void test_whitespace_and_passphrase(void **state) {
    (void)state;
    uint8_t a[64], b[64], c[64];
    const char *canon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const char *messy =
        "\n  abandon\tabandon abandon  abandon abandon abandon\r\nabandon abandon abandon abandon abandon about \n";
    assert_int_equal(tkms_bip39_seed(a, canon, NULL), TKMS_WALLET_OK);
    assert_string_equal(wt_hex(a, 64), "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389"
                                       "cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4");
    assert_int_equal(tkms_bip39_seed(b, messy, ""), TKMS_WALLET_OK);
    assert_memory_equal(a, b, 64);
    char norm[TKMS_BIP39_MNEMONIC_MAX];
    assert_int_equal(tkms_bip39_normalize(norm, sizeof norm, messy), TKMS_WALLET_OK);
    assert_string_equal(norm, canon);
    /* The passphrase changes the seed; ASCII is taken as-is (spaces count). */
    assert_int_equal(tkms_bip39_seed(c, canon, "TREZOR "), TKMS_WALLET_OK);
    assert_int_equal(tkms_bip39_seed(b, canon, "TREZOR"), TKMS_WALLET_OK);
    assert_memory_not_equal(b, c, 64);
    assert_memory_not_equal(a, b, 64);
    /* Non-ASCII passphrases are refused: NFC and NFD spellings of "é" would otherwise silently
     * give different seeds than other wallets, which normalise to NFKD. */
    assert_int_equal(tkms_bip39_seed(c, canon, "caf\xc3\xa9"), TKMS_WALLET_EPASSPHRASE);
    assert_int_equal(tkms_bip39_seed(c, canon, "cafe\xcc\x81"), TKMS_WALLET_EPASSPHRASE);
    assert_int_equal(tkms_bip39_seed(c, canon, "\xff"), TKMS_WALLET_EPASSPHRASE);
}

static void test_app_key_mnemonic(void **state) {
    (void)state;
    json_t *all = wt_load_json("tkms-wallet.json");
    json_t *arr = json_object_get(all, "app_key_mnemonic"), *v;
    size_t i;
    assert_true(json_array_size(arr) >= 3);
    json_array_foreach(arr, i, v) {
        uint8_t k[48];
        wt_unhex_exact(k, 48, wt_str(v, "app_key"));
        char m[TKMS_BIP39_MNEMONIC_MAX];
        assert_int_equal(tkms_mnemonic_from_app_key(m, sizeof m, k), TKMS_WALLET_OK);
        assert_string_equal(m, wt_str(v, "mnemonic"));
        /* 24 words with a valid checksum */
        uint8_t e[32];
        size_t elen = 0;
        assert_int_equal(tkms_bip39_to_entropy(e, &elen, sizeof e, m), TKMS_WALLET_OK);
        assert_int_equal(elen, 32);
        /* A flipped bit leaves no valid G1 point (off the curve or outside the subgroup). */
        char m2[TKMS_BIP39_MNEMONIC_MAX];
        k[47] ^= 1;
        assert_int_equal(tkms_mnemonic_from_app_key(m2, sizeof m2, k), TKMS_WALLET_EKEY);
        k[47] ^= 1;
        /* Encoding flags: uncompressed and infinity encodings are rejected. */
        k[0] &= 0x7f;
        assert_int_equal(tkms_mnemonic_from_app_key(m2, sizeof m2, k), TKMS_WALLET_EKEY);
        k[0] |= 0xc0;
        assert_int_equal(tkms_mnemonic_from_app_key(m2, sizeof m2, k), TKMS_WALLET_EKEY);
    }
    json_decref(all);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordlist_sha256),
        cmocka_unit_test(test_trezor_vectors),
        cmocka_unit_test(test_negative),
        cmocka_unit_test(test_whitespace_and_passphrase),
        cmocka_unit_test(test_app_key_mnemonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
