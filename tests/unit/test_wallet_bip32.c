/* BIP-32 (vectors 1-5, invalid keys included, public derivation from xpubs) and SLIP-0010
 * (secp256k1 and ed25519 vectors, hardened-only rule) against the published test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tkms/wallet.h"
#include "wallet_test.h"

static void test_bip32_vectors(void **state) {
    (void)state;
    json_t *all = wt_load_json("bip32/vectors.json");
    json_t *vecs = json_object_get(all, "vectors"), *v;
    size_t i, nchains = 0, npub = 0;
    assert_int_equal(json_array_size(vecs), 4);
    json_array_foreach(vecs, i, v) {
        size_t slen = 0;
        uint8_t *seed = wt_unhex(wt_str(v, "seed"), &slen);
        tkms_hdkey master;
        assert_int_equal(tkms_bip32_master(&master, seed, slen), TKMS_WALLET_OK);
        json_t *chains = json_object_get(v, "chains"), *c;
        size_t j;
        tkms_hdkey prev_pub;
        int have_prev = 0;
        json_array_foreach(chains, j, c) {
            const char *path = wt_str(c, "path");
            tkms_hdkey k, pub;
            char x[TKMS_BIP32_XKEY_MAX];
            assert_int_equal(tkms_bip32_derive_path(&k, &master, path), TKMS_WALLET_OK);
            assert_int_equal(tkms_bip32_serialize(x, sizeof x, &k, TKMS_BIP32_VERSION_XPRV), TKMS_WALLET_OK);
            assert_string_equal(x, wt_str(c, "ext_prv"));
            assert_int_equal(tkms_bip32_neuter(&pub, &k), TKMS_WALLET_OK);
            assert_int_equal(tkms_bip32_serialize(x, sizeof x, &pub, TKMS_BIP32_VERSION_XPUB), TKMS_WALLET_OK);
            assert_string_equal(x, wt_str(c, "ext_pub"));
            /* A key type and version that disagree cannot be serialised. */
            assert_int_equal(tkms_bip32_serialize(x, sizeof x, &pub, TKMS_BIP32_VERSION_XPRV), TKMS_WALLET_EARG);
            /* Round trip through the parser. */
            tkms_hdkey parsed;
            uint32_t ver = 0;
            assert_int_equal(tkms_bip32_parse(&parsed, &ver, wt_str(c, "ext_prv")), TKMS_WALLET_OK);
            assert_int_equal(ver, TKMS_BIP32_VERSION_XPRV);
            assert_memory_equal(&parsed.chain_code, k.chain_code, 32);
            assert_memory_equal(parsed.key, k.key, 33);
            assert_int_equal(parsed.depth, k.depth);
            assert_int_equal(parsed.child, k.child);
            assert_int_equal(tkms_bip32_parse(&parsed, &ver, wt_str(c, "ext_pub")), TKMS_WALLET_OK);
            assert_int_equal(ver, TKMS_BIP32_VERSION_XPUB);
            assert_false(parsed.is_private);
            assert_memory_equal(parsed.key, pub.key, 33);
            /* Public-only derivation: when the last step is normal, the parent's xpub alone gives
             * the child's xpub. */
            const char *last = strrchr(path, '/');
            if (have_prev && last && last[strlen(last) - 1] != 'H') {
                tkms_hdkey child;
                assert_int_equal(tkms_bip32_derive_path(&child, &prev_pub, last + 1), TKMS_WALLET_OK);
                assert_int_equal(tkms_bip32_serialize(x, sizeof x, &child, TKMS_BIP32_VERSION_XPUB),
                                 TKMS_WALLET_OK);
                assert_string_equal(x, wt_str(c, "ext_pub"));
                npub++;
            }
            /* ... and a hardened step from an xpub is refused. */
            tkms_hdkey tmp;
            assert_int_equal(tkms_bip32_ckd(&tmp, &pub, TKMS_HARDENED), TKMS_WALLET_EPATH);
            prev_pub = pub;
            have_prev = 1;
            nchains++;
        }
        free(seed);
    }
    assert_int_equal(nchains, 17);
    assert_true(npub >= 5);
    json_decref(all);
}

static void test_bip32_invalid(void **state) {
    (void)state;
    json_t *all = wt_load_json("bip32/vectors.json");
    json_t *inv = json_object_get(all, "invalid"), *v;
    size_t i;
    assert_int_equal(json_array_size(inv), 16);
    json_array_foreach(inv, i, v) {
        tkms_hdkey k;
        uint32_t ver;
        tkms_wallet_status st = tkms_bip32_parse(&k, &ver, wt_str(v, "key"));
        if (st == TKMS_WALLET_OK) fail_msg("accepted invalid key (%s): %s", wt_str(v, "reason"), wt_str(v, "key"));
        /* The reason decides the expected error class. */
        if (strstr(wt_str(v, "reason"), "checksum")) assert_int_equal(st, TKMS_WALLET_ECHECKSUM);
        else assert_int_equal(st, TKMS_WALLET_EKEY);
    }
    json_decref(all);
}

static void test_paths(void **state) {
    (void)state;
    uint32_t idx[8];
    size_t n;
    int rel;
    assert_int_equal(tkms_path_parse(idx, &n, 8, &rel, "m"), TKMS_WALLET_OK);
    assert_int_equal(n, 0);
    assert_int_equal(rel, 0);
    assert_int_equal(tkms_path_parse(idx, &n, 8, &rel, "m/44'/60h/0H/0/2147483647"), TKMS_WALLET_OK);
    assert_int_equal(n, 5);
    assert_int_equal(idx[0], 44 | TKMS_HARDENED);
    assert_int_equal(idx[1], 60 | TKMS_HARDENED);
    assert_int_equal(idx[2], TKMS_HARDENED);
    assert_int_equal(idx[4], 2147483647u);
    assert_int_equal(tkms_path_parse(idx, &n, 8, &rel, "0/1"), TKMS_WALLET_OK);
    assert_int_equal(rel, 1);
    const char *bad[] = {"", "m/", "m//1", "m/1/", "m/2147483648", "m/-1", "m/01", "m/1''", "m/a", "x/1", "m1",
                         "m/1/2/3/4/5/6/7/8/9", "m/ 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tkms_path_parse(idx, &n, 8, &rel, bad[i]) != TKMS_WALLET_EPATH) fail_msg("accepted path '%s'", bad[i]);
}

static void test_slip10_vectors(void **state) {
    (void)state;
    json_t *all = wt_load_json("slip10/vectors.json"), *v;
    size_t i, ned = 0, nsecp = 0;
    json_array_foreach(all, i, v) {
        size_t slen = 0;
        uint8_t *seed = wt_unhex(wt_str(v, "seed"), &slen);
        const char *curve = wt_str(v, "curve"), *path = wt_str(v, "path");
        if (strcmp(curve, "ed25519") == 0) {
            tkms_slip10_key m, k;
            uint8_t pub[32];
            assert_int_equal(tkms_slip10_master(&m, seed, slen), TKMS_WALLET_OK);
            assert_int_equal(tkms_slip10_derive_path(&k, &m, path), TKMS_WALLET_OK);
            assert_int_equal(tkms_slip10_pubkey(pub, &k), TKMS_WALLET_OK);
            assert_string_equal(wt_hex(k.chain_code, 32), wt_str(v, "chain_code"));
            assert_string_equal(wt_hex(k.key, 32), wt_str(v, "private"));
            assert_string_equal(wt_hex(pub, 32), wt_str(v, "public") + 2); /* published with a 00 prefix */
            assert_string_equal(wt_hex(k.parent_fp, 4), wt_str(v, "fingerprint"));
            ned++;
        } else {
            assert_string_equal(curve, "secp256k1");
            tkms_hdkey m, k;
            uint8_t pub[33];
            assert_int_equal(tkms_bip32_master(&m, seed, slen), TKMS_WALLET_OK);
            assert_int_equal(tkms_bip32_derive_path(&k, &m, path), TKMS_WALLET_OK);
            assert_int_equal(tkms_bip32_pubkey(pub, &k), TKMS_WALLET_OK);
            assert_string_equal(wt_hex(k.chain_code, 32), wt_str(v, "chain_code"));
            assert_string_equal(wt_hex(k.key + 1, 32), wt_str(v, "private"));
            assert_string_equal(wt_hex(pub, 33), wt_str(v, "public"));
            assert_string_equal(wt_hex(k.parent_fp, 4), wt_str(v, "fingerprint"));
            nsecp++;
        }
        free(seed);
    }
    assert_int_equal(ned, 12);
    assert_int_equal(nsecp, 12);
    json_decref(all);
}

static void test_slip10_hardened_only(void **state) {
    (void)state;
    uint8_t seed[16] = {0};
    tkms_slip10_key m, k;
    assert_int_equal(tkms_slip10_master(&m, seed, sizeof seed), TKMS_WALLET_OK);
    assert_int_equal(tkms_slip10_ckd(&k, &m, 0), TKMS_WALLET_EPATH);
    assert_int_equal(tkms_slip10_derive_path(&k, &m, "m/0'/1"), TKMS_WALLET_EPATH);
    assert_int_equal(tkms_slip10_derive_path(&k, &m, "m/0'/1'"), TKMS_WALLET_OK);
    /* seeds outside 16..64 bytes */
    uint8_t big[65] = {0};
    assert_int_equal(tkms_slip10_master(&m, big, 15), TKMS_WALLET_EARG);
    assert_int_equal(tkms_slip10_master(&m, big, 65), TKMS_WALLET_EARG);
    tkms_hdkey h;
    assert_int_equal(tkms_bip32_master(&h, big, 65), TKMS_WALLET_EARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bip32_vectors), cmocka_unit_test(test_bip32_invalid),
        cmocka_unit_test(test_paths),         cmocka_unit_test(test_slip10_vectors),
        cmocka_unit_test(test_slip10_hardened_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
