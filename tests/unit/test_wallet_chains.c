/* Hashes, encodings and chain addresses: Keccak-256, RIPEMD-160, base58, bech32/bech32m, EIP-55,
 * BIP-84, the "abandon ... about" wallets and the Hardhat/Foundry development accounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "tkms/wallet.h"
#include "testutil.h"
#include "wallet_test.h"

static void test_keccak_vectors(void **state) {
    (void)state;
    json_t *all = wt_load_json("keccak256.json"), *v;
    size_t i;
    assert_int_equal(json_array_size(json_object_get(all, "cases")), 7);
    json_array_foreach(json_object_get(all, "cases"), i, v) {
        size_t n = 0;
        uint8_t *msg = wt_unhex(wt_str(v, "msg_hex"), &n), h[32];
        tkms_keccak256(h, msg, n);
        assert_string_equal(wt_hex(h, 32), wt_str(v, "digest"));
        free(msg);
    }
    /* Not SHA3-256: the FIPS padding gives a different digest for "". */
    uint8_t h[32], s[32];
    unsigned int sl = 0;
    tkms_keccak256(h, (const uint8_t *)"", 0);
    assert_int_equal(EVP_Digest("", 0, s, &sl, EVP_sha3_256(), NULL), 1);
    assert_memory_not_equal(h, s, 32);
    json_decref(all);
}

static void test_ripemd160(void **state) {
    (void)state;
    /* Published RIPEMD-160 test vectors (Dobbertin, Bosselaers, Preneel). */
    static const struct {
        const char *msg, *digest;
    } V[] = {
        {"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"},
        {"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"},
        {"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"},
        {"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"},
        {"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "b0e20b6e3116640286ed3a87a5713079b21f5189"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "9b752e45573d4b39f4dbd3323cab82bf63326bfb"},
    };
    uint8_t h[20];
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        tkms_ripemd160(h, (const uint8_t *)V[i].msg, strlen(V[i].msg));
        assert_string_equal(wt_hex(h, 20), V[i].digest);
    }
    uint8_t *million = malloc(1000000);
    memset(million, 'a', 1000000);
    tkms_ripemd160(h, million, 1000000);
    assert_string_equal(wt_hex(h, 20), "52783243c1697bdbe16d37f97f68f08325dc1528");
    /* Cross-check with OpenSSL's RIPEMD-160 where a provider offers it, over every padding case. */
    EVP_MD *md = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    if (md) {
        uint8_t buf[300], o[20];
        tu_randbytes(buf, sizeof buf);
        for (size_t n = 0; n <= sizeof buf; n++) {
            unsigned int ol = 0;
            assert_int_equal(EVP_Digest(buf, n, o, &ol, md, NULL), 1);
            tkms_ripemd160(h, buf, n);
            assert_memory_equal(h, o, 20);
        }
        EVP_MD_free(md);
    }
    free(million);
}

static void test_base58(void **state) {
    (void)state;
    /* bitcoin/bitcoin src/test/data/base58_encode_decode.json */
    static const char *V[][2] = {
        {"61", "2g"},
        {"626262", "a3gV"},
        {"636363", "aPEr"},
        {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"516b6fcd0f", "ABnLTmg"},
        {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
        {"572e4794", "3EFU7m"},
        {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
        {"10c8511e", "Rt5zm"},
        {"00000000000000000000", "1111111111"},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        size_t n = 0, m = 0;
        uint8_t *b = wt_unhex(V[i][0], &n), back[64];
        char s[128];
        assert_int_equal(tkms_base58_encode(s, sizeof s, b, n), TKMS_WALLET_OK);
        assert_string_equal(s, V[i][1]);
        assert_int_equal(tkms_base58_decode(back, &m, sizeof back, V[i][1]), TKMS_WALLET_OK);
        assert_int_equal(m, n);
        assert_memory_equal(back, b, n);
        /* too small an output buffer */
        assert_int_equal(tkms_base58_encode(s, strlen(V[i][1]), b, n), TKMS_WALLET_EARG);
        free(b);
    }
    uint8_t out[8];
    size_t m;
    assert_int_equal(tkms_base58_decode(out, &m, sizeof out, "0OIl"), TKMS_WALLET_EKEY);
    assert_int_equal(tkms_base58_decode(out, &m, sizeof out, "2cFupjhnEsSn59qHXstmK2ffpLv2"), TKMS_WALLET_EKEY);
}

static void test_bech32(void **state) {
    (void)state;
    /* BIP-173 and BIP-350 valid addresses with their scriptPubKeys. */
    static const char *V[][3] = {
        {"bc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
        {"tb", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
         "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
        {"bc", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
         "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        int ver = -1;
        uint8_t prog[40];
        size_t plen = 0, slen = 0;
        assert_int_equal(tkms_segwit_decode(&ver, prog, &plen, sizeof prog, V[i][0], V[i][1]), TKMS_WALLET_OK);
        uint8_t *spk = wt_unhex(V[i][2], &slen);
        assert_int_equal(spk[0], ver ? 0x50 + ver : 0);
        assert_int_equal(spk[1], plen);
        assert_memory_equal(spk + 2, prog, plen);
        char addr[100], lower[100];
        assert_int_equal(tkms_segwit_encode(addr, sizeof addr, V[i][0], ver, prog, plen), TKMS_WALLET_OK);
        for (size_t k = 0; k <= strlen(V[i][1]); k++)
            lower[k] = (char)(V[i][1][k] >= 'A' && V[i][1][k] <= 'Z' ? V[i][1][k] + 32 : V[i][1][k]);
        assert_string_equal(addr, lower);
        free(spk);
    }
    int ver;
    uint8_t prog[40];
    size_t plen;
    /* checksum error, mixed case, wrong hrp, v0 with a bech32m checksum */
    assert_int_not_equal(tkms_segwit_decode(&ver, prog, &plen, sizeof prog, "bc",
                                            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"),
                         TKMS_WALLET_OK);
    assert_int_not_equal(tkms_segwit_decode(&ver, prog, &plen, sizeof prog, "tb",
                                            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7"),
                         TKMS_WALLET_OK);
    assert_int_not_equal(tkms_segwit_decode(&ver, prog, &plen, sizeof prog, "tb",
                                            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
                         TKMS_WALLET_OK);
    assert_int_not_equal(tkms_segwit_decode(&ver, prog, &plen, sizeof prog, "bc",
                                            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"),
                         TKMS_WALLET_OK);
}

static void test_eip55(void **state) {
    (void)state;
    json_t *all = wt_load_json("eip55.json"), *v;
    size_t i;
    assert_int_equal(json_array_size(json_object_get(all, "cases")), 8);
    json_array_foreach(json_object_get(all, "cases"), i, v) {
        uint8_t a[20];
        char out[TKMS_ETH_ADDR_LEN];
        wt_unhex_exact(a, 20, wt_str(v, "lowercase") + 2);
        tkms_eip55(out, a);
        assert_string_equal(out, wt_str(v, "checksummed"));
    }
    json_decref(all);
}

static void seed_of(uint8_t seed[64], const char *mnemonic) {
    assert_int_equal(tkms_bip39_seed(seed, mnemonic, ""), TKMS_WALLET_OK);
}

static void test_bip84(void **state) {
    (void)state;
    json_t *all = wt_load_json("bip84/vectors.json"), *v;
    uint8_t seed[64];
    seed_of(seed, wt_str(all, "mnemonic"));
    tkms_hdkey m, k, pub;
    char x[TKMS_BIP32_XKEY_MAX];
    assert_int_equal(tkms_bip32_master(&m, seed, 64), TKMS_WALLET_OK);
    assert_int_equal(tkms_bip32_serialize(x, sizeof x, &m, TKMS_BIP32_VERSION_ZPRV), TKMS_WALLET_OK);
    assert_string_equal(x, wt_str(all, "rootpriv"));
    assert_int_equal(tkms_bip32_neuter(&pub, &m), TKMS_WALLET_OK);
    assert_int_equal(tkms_bip32_serialize(x, sizeof x, &pub, TKMS_BIP32_VERSION_ZPUB), TKMS_WALLET_OK);
    assert_string_equal(x, wt_str(all, "rootpub"));
    json_t *acct = json_object_get(all, "account0");
    assert_int_equal(tkms_bip32_derive_path(&k, &m, wt_str(acct, "path")), TKMS_WALLET_OK);
    assert_int_equal(tkms_bip32_serialize(x, sizeof x, &k, TKMS_BIP32_VERSION_ZPRV), TKMS_WALLET_OK);
    assert_string_equal(x, wt_str(acct, "xprv"));
    assert_int_equal(tkms_bip32_neuter(&pub, &k), TKMS_WALLET_OK);
    assert_int_equal(tkms_bip32_serialize(x, sizeof x, &pub, TKMS_BIP32_VERSION_ZPUB), TKMS_WALLET_OK);
    assert_string_equal(x, wt_str(acct, "xpub"));
    /* zpub parses, and watch-only derivation from it gives the receiving addresses. */
    tkms_hdkey zp;
    uint32_t ver;
    assert_int_equal(tkms_bip32_parse(&zp, &ver, wt_str(acct, "xpub")), TKMS_WALLET_OK);
    assert_int_equal(ver, TKMS_BIP32_VERSION_ZPUB);
    size_t i;
    json_array_foreach(json_object_get(all, "addresses"), i, v) {
        const char *path = wt_str(v, "path");
        uint8_t pk[33];
        char addr[100], wif[60];
        assert_int_equal(tkms_bip32_derive_path(&k, &m, path), TKMS_WALLET_OK);
        assert_int_equal(tkms_bip32_pubkey(pk, &k), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(pk, 33), wt_str(v, "pubkey"));
        assert_int_equal(tkms_btc_p2wpkh(addr, sizeof addr, pk), TKMS_WALLET_OK);
        assert_string_equal(addr, wt_str(v, "address"));
        assert_int_equal(tkms_btc_wif(wif, sizeof wif, k.key + 1), TKMS_WALLET_OK);
        assert_string_equal(wif, wt_str(v, "privkey_wif"));
        tkms_hdkey w;
        assert_int_equal(tkms_bip32_derive_path(&w, &zp, path + strlen("m/84'/0'/0'/")), TKMS_WALLET_OK);
        assert_memory_equal(w.key, pk, 33);
        /* standard-path helper for receiving addresses */
        if (strncmp(path, "m/84'/0'/0'/0/", 14) == 0) {
            uint8_t priv[32];
            assert_int_equal(tkms_derive_btc(addr, sizeof addr, priv, seed, (uint32_t)atoi(path + 14)), TKMS_WALLET_OK);
            assert_string_equal(addr, wt_str(v, "address"));
            assert_memory_equal(priv, k.key + 1, 32);
        }
    }
    json_decref(all);
}

static void test_wallets_json(void **state) {
    (void)state;
    json_t *all = wt_load_json("wallets.json"), *v;
    uint8_t seed[64];
    seed_of(seed, wt_str(all, "mnemonic"));
    assert_string_equal(wt_hex(seed, 64), wt_str(all, "bip39_seed"));
    size_t i;
    json_array_foreach(json_object_get(json_object_get(all, "ethereum"), "derivations"), i, v) {
        tkms_hdkey m, k;
        uint8_t pk[33], priv[32];
        char addr[TKMS_ETH_ADDR_LEN];
        assert_int_equal(tkms_bip32_master(&m, seed, 64), TKMS_WALLET_OK);
        assert_int_equal(tkms_bip32_derive_path(&k, &m, wt_str(v, "path")), TKMS_WALLET_OK);
        assert_int_equal(tkms_bip32_pubkey(pk, &k), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(k.key + 1, 32), wt_str(v, "private_key"));
        assert_string_equal(wt_hex(pk, 33), wt_str(v, "public_key_compressed"));
        assert_int_equal(tkms_eth_address(addr, pk, 33), TKMS_WALLET_OK);
        assert_string_equal(addr, wt_str(v, "address"));
        assert_int_equal(tkms_derive_eth(addr, priv, seed, (uint32_t)i), TKMS_WALLET_OK);
        assert_string_equal(addr, wt_str(v, "address"));
        assert_memory_equal(priv, k.key + 1, 32);
    }
    json_array_foreach(json_object_get(json_object_get(all, "solana"), "derivations"), i, v) {
        tkms_slip10_key m, k;
        uint8_t pub[32], priv[32];
        char addr[64];
        assert_int_equal(tkms_slip10_master(&m, seed, 64), TKMS_WALLET_OK);
        assert_int_equal(tkms_slip10_derive_path(&k, &m, wt_str(v, "path")), TKMS_WALLET_OK);
        assert_int_equal(tkms_slip10_pubkey(pub, &k), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(k.key, 32), wt_str(v, "private_key_seed"));
        assert_string_equal(wt_hex(pub, 32), wt_str(v, "public_key"));
        assert_int_equal(tkms_derive_sol(addr, sizeof addr, priv, seed, (uint32_t)i), TKMS_WALLET_OK);
        assert_string_equal(addr, wt_str(v, "address"));
        assert_memory_equal(priv, k.key, 32);
    }
    json_decref(all);
}

static void test_hardhat_accounts(void **state) {
    (void)state;
    /* Accounts #0-#2 printed by `npx hardhat node` and `anvil` for their default mnemonic. */
    static const char *expect[3] = {"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                                    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                                    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"};
    static const char *priv0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    uint8_t seed[64], priv[32];
    seed_of(seed, "test test test test test test test test test test test junk");
    for (uint32_t i = 0; i < 3; i++) {
        char addr[TKMS_ETH_ADDR_LEN];
        assert_int_equal(tkms_derive_eth(addr, priv, seed, i), TKMS_WALLET_OK);
        assert_string_equal(addr, expect[i]);
        if (i == 0) assert_string_equal(wt_hex(priv, 32), priv0);
    }
    /* uncompressed input gives the same address; a bad point is refused */
    uint8_t bad[33] = {0x02};
    char addr[TKMS_ETH_ADDR_LEN];
    assert_int_equal(tkms_eth_address(addr, bad, 33), TKMS_WALLET_EKEY);
}

int main(void) {
    tu_seed(); /* random test data: reproducible from the printed seed */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_vectors), cmocka_unit_test(test_ripemd160),  cmocka_unit_test(test_base58),
        cmocka_unit_test(test_bech32),         cmocka_unit_test(test_eip55),      cmocka_unit_test(test_bip84),
        cmocka_unit_test(test_wallets_json),   cmocka_unit_test(test_hardhat_accounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
