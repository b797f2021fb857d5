/* Line-oriented helper for the node differential test (tests/js/wallet_diff.test.mjs), exposing
 * library calls the CLI contract has no command for; without arguments it runs a short self-check
 * so that ctest exercises the same code paths. Commands on stdin, one per line:
 *   keccak HEX | xpub XPUB RELPATH | appkey HEX | datakey SEEDHEX LABELHEX | tls SEEDHEX DOMAIN
 *   mnemonic WORDSHEX PASSHEX (sets the current seed, prints it) then, from that seed:
 *   eth I | sol I | btc I | bip32 PATH | slip10 PATH        ("-" stands for an empty hex string) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tkms/wallet.h"
#include "wallet_test.h"

static uint8_t cur_seed[64];

/* Decodes hex ("-" = empty) into a NUL-terminated malloc'd string. */
static char *unhex_str(const char *h) {
    size_t n = 0;
    uint8_t *b = wt_unhex(!h || strcmp(h, "-") == 0 ? "" : h, &n);
    b[n] = 0;
    return (char *)b;
}

static int serve_line(char *line) {
    char *cmd = strtok(line, " \n"), *a = strtok(NULL, " \n"), *b = strtok(NULL, " \n");
    if (!cmd) return 0;
    size_t n = 0;
    if (strcmp(cmd, "keccak") == 0) {
        /* "-" stands for the empty message */
        uint8_t *m = wt_unhex(!a || strcmp(a, "-") == 0 ? "" : a, &n), h[32];
        tkms_keccak256(h, m, n);
        printf("%s\n", wt_hex(h, 32));
        free(m);
    } else if (strcmp(cmd, "xpub") == 0 && a && b) {
        tkms_hdkey k;
        uint32_t ver;
        char out[TKMS_BIP32_XKEY_MAX];
        tkms_wallet_status st = tkms_bip32_parse(&k, &ver, a);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_derive_path(&k, &k, b);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_serialize(out, sizeof out, &k, ver);
        printf("%s\n", st == TKMS_WALLET_OK ? out : tkms_wallet_strerror(st));
    } else if (strcmp(cmd, "appkey") == 0 && a) {
        uint8_t k[48];
        char m[TKMS_BIP39_MNEMONIC_MAX];
        wt_unhex_exact(k, 48, a);
        tkms_wallet_status st = tkms_mnemonic_from_app_key(m, sizeof m, k);
        printf("%s\n", st == TKMS_WALLET_OK ? m : tkms_wallet_strerror(st));
    } else if (strcmp(cmd, "datakey") == 0 && a && b) {
        uint8_t *seed = wt_unhex(a, &n), key[32];
        size_t ll = 0;
        uint8_t *label = wt_unhex(strcmp(b, "-") == 0 ? "" : b, &ll);
        char *l = malloc(ll + 1);
        memcpy(l, label, ll);
        l[ll] = 0;
        tkms_wallet_status st = tkms_data_key(key, seed, n, l);
        printf("%s\n", st == TKMS_WALLET_OK ? wt_hex(key, 32) : tkms_wallet_strerror(st));
        free(l);
        free(label);
        free(seed);
    } else if (strcmp(cmd, "tls") == 0 && a && b) {
        uint8_t *seed = wt_unhex(a, &n), d[32];
        tkms_wallet_status st = tkms_tls_scalar(d, seed, n, b);
        printf("%s\n", st == TKMS_WALLET_OK ? wt_hex(d, 32) : tkms_wallet_strerror(st));
        free(seed);
    } else if (strcmp(cmd, "mnemonic") == 0 && a && b) {
        char *m = unhex_str(a), *pass = unhex_str(b);
        tkms_wallet_status st = tkms_bip39_seed(cur_seed, m, pass);
        printf("%s\n", st == TKMS_WALLET_OK ? wt_hex(cur_seed, 64) : tkms_wallet_strerror(st));
        free(m);
        free(pass);
    } else if ((strcmp(cmd, "eth") == 0 || strcmp(cmd, "sol") == 0 || strcmp(cmd, "btc") == 0) && a) {
        uint32_t i = (uint32_t)strtoul(a, NULL, 10);
        uint8_t priv[32];
        char addr[128], extra[128];
        tkms_wallet_status st;
        if (cmd[0] == 'e') {
            st = tkms_derive_eth(addr, priv, cur_seed, i);
            strcpy(extra, wt_hex(priv, 32));
        } else if (cmd[0] == 's') {
            st = tkms_derive_sol(addr, sizeof addr, priv, cur_seed, i);
            strcpy(extra, wt_hex(priv, 32));
        } else {
            st = tkms_derive_btc(addr, sizeof addr, priv, cur_seed, i);
            if (st == TKMS_WALLET_OK) st = tkms_btc_wif(extra, sizeof extra, priv);
        }
        if (st == TKMS_WALLET_OK) printf("%s %s\n", addr, extra);
        else printf("%s\n", tkms_wallet_strerror(st));
    } else if (strcmp(cmd, "bip32") == 0 && a) {
        tkms_hdkey k, pub;
        char xprv[TKMS_BIP32_XKEY_MAX], xpub[TKMS_BIP32_XKEY_MAX];
        tkms_wallet_status st = tkms_bip32_master(&k, cur_seed, 64);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_derive_path(&k, &k, a);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_serialize(xprv, sizeof xprv, &k, TKMS_BIP32_VERSION_XPRV);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_neuter(&pub, &k);
        if (st == TKMS_WALLET_OK) st = tkms_bip32_serialize(xpub, sizeof xpub, &pub, TKMS_BIP32_VERSION_XPUB);
        if (st == TKMS_WALLET_OK) printf("%s %s\n", xpub, xprv);
        else printf("%s\n", tkms_wallet_strerror(st));
    } else if (strcmp(cmd, "slip10") == 0 && a) {
        tkms_slip10_key k;
        uint8_t pub[32];
        tkms_wallet_status st = tkms_slip10_master(&k, cur_seed, 64);
        if (st == TKMS_WALLET_OK) st = tkms_slip10_derive_path(&k, &k, a);
        if (st == TKMS_WALLET_OK) st = tkms_slip10_pubkey(pub, &k);
        if (st == TKMS_WALLET_OK) printf("%s %s\n", wt_hex(pub, 32), wt_hex(k.key, 32));
        else printf("%s\n", tkms_wallet_strerror(st));
    } else {
        printf("unknown command\n");
    }
    fflush(stdout);
    return 1;
}

static void test_self_check(void **state) {
    (void)state;
    /* the same commands the node test sends, with answers from published vectors */
    char l1[] = "keccak 616263";
    char l2[] = "xpub xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8 0";
    FILE *saved = stdout;
    char buf[4096] = {0};
    stdout = fmemopen(buf, sizeof buf, "w");
    assert_non_null(stdout);
    assert_int_equal(serve_line(l1), 1);
    assert_int_equal(serve_line(l2), 1);
    fclose(stdout);
    stdout = saved;
    assert_string_equal(buf, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45\n"
                             /* normal child 0 of BIP-32 vector 1's master xpub (checked with @scure/bip32) */
                             "xpub68Gmy5EVb2BdFbj2LpWrk1M7obNuaPTpT5oh9QCCo5sRfqSHVYWex97WpDZzszdzHzxXDAzPLVSwybe4uPYkSk4G3gnrPqqkV9RyNzAcNJ1\n");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "serve") == 0) {
        char line[8192];
        while (fgets(line, sizeof line, stdin)) serve_line(line);
        return 0;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_self_check)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
