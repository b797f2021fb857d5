/* tkms-bench-wallet: ns/op of the wallet layer (app key -> mnemonic, PBKDF2 seed, BIP-32 / SLIP-0010
 * paths, TLS key + certificate, data keys, data-file throughput). Median of timed batches; a table,
 * or JSON lines {"op", "ns", "iters"} with --json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tkms/wallet.h"

static uint8_t app_key[48], seed[64];
static const char *MNEMONIC =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
static volatile uint64_t sink;
static uint8_t *data_in, *data_out;
enum { DATA_LEN = 1 << 20 };

static void die(const char *what) {
    fprintf(stderr, "tkms-bench-wallet: %s failed\n", what);
    exit(2);
}

static void op_app_key_mnemonic(void) {
    char m[TKMS_BIP39_MNEMONIC_MAX];
    if (tkms_mnemonic_from_app_key(m, sizeof m, app_key) != TKMS_WALLET_OK) die("mnemonic");
    sink += (uint8_t)m[0];
}
static void op_seed(void) {
    uint8_t s[64];
    if (tkms_bip39_seed(s, MNEMONIC, NULL) != TKMS_WALLET_OK) die("seed");
    sink += s[0];
}
static void op_bip32_depth5(void) {
    tkms_hdkey k;
    uint8_t pub[33];
    if (tkms_bip32_master(&k, seed, 64) != TKMS_WALLET_OK || tkms_bip32_derive_path(&k, &k, "m/44'/60'/0'/0/0") ||
        tkms_bip32_pubkey(pub, &k))
        die("bip32");
    sink += pub[1];
}
static void op_slip10_depth4(void) {
    tkms_slip10_key k;
    uint8_t pub[32];
    if (tkms_slip10_master(&k, seed, 64) != TKMS_WALLET_OK || tkms_slip10_derive_path(&k, &k, "m/44'/501'/0'/0'") ||
        tkms_slip10_pubkey(pub, &k))
        die("slip10");
    sink += pub[0];
}
static void op_eth_address(void) {
    char a[TKMS_ETH_ADDR_LEN];
    if (tkms_derive_eth(a, NULL, seed, 0) != TKMS_WALLET_OK) die("eth");
    sink += (uint8_t)a[2];
}
static void op_tls_cert(void) {
    char *key = NULL, *cert = NULL;
    if (tkms_tls_issue(&key, &cert, seed, 64, "app.example.com", 0, 1700000000, 365) != TKMS_WALLET_OK) die("tls");
    sink += (uint8_t)cert[30];
    memset(key, 0, strlen(key));
    free(key);
    free(cert);
}
static void op_tls_csr(void) {
    char *key = NULL, *csr = NULL;
    if (tkms_tls_issue(&key, &csr, seed, 64, "app.example.com", 1, 0, 1) != TKMS_WALLET_OK) die("csr");
    sink += (uint8_t)csr[30];
    memset(key, 0, strlen(key));
    free(key);
    free(csr);
}
static void op_data_key(void) {
    uint8_t k[32];
    if (tkms_data_key(k, seed, 64, "db") != TKMS_WALLET_OK) die("data key");
    sink += k[0];
}
static void op_keccak_64(void) {
    uint8_t h[32];
    tkms_keccak256(h, seed, 64);
    sink += h[0];
}
/* 1 MiB through the data-file format in 64 KiB chunks. */
static void op_data_encrypt_1mib(void) {
    tkms_datafile st;
    uint8_t hdr[TKMS_DATAFILE_HEADER_LEN], salt[32] = {1}, key[32] = {2};
    if (tkms_datafile_encrypt_init(&st, hdr, key, TKMS_DATAFILE_CHUNK_DEFAULT, salt)) die("data init");
    size_t o = 0;
    for (size_t off = 0; off < DATA_LEN; off += TKMS_DATAFILE_CHUNK_DEFAULT) {
        int last = off + TKMS_DATAFILE_CHUNK_DEFAULT >= DATA_LEN;
        if (tkms_datafile_encrypt_chunk(&st, data_out + o, data_in + off, TKMS_DATAFILE_CHUNK_DEFAULT, last))
            die("data chunk");
        o += TKMS_DATAFILE_CHUNK_DEFAULT + TKMS_DATAFILE_TAG_LEN;
    }
    tkms_datafile_wipe(&st);
    sink += data_out[5];
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median ns/op over 9 batches, each sized to take about 20 ms (at least one call). */
static void bench(const char *name, void (*fn)(void), int json) {
    fn(); /* warm-up: lazy contexts, caches */
    uint64_t t0 = now_ns();
    fn();
    uint64_t one = now_ns() - t0 + 1;
    uint64_t iters = 20000000u / one;
    if (iters < 1) iters = 1;
    uint64_t per[9];
    for (int b = 0; b < 9; b++) {
        t0 = now_ns();
        for (uint64_t i = 0; i < iters; i++) fn();
        per[b] = (now_ns() - t0) / iters;
    }
    qsort(per, 9, sizeof per[0], cmp_u64);
    if (json) printf("{\"op\": \"%s\", \"ns\": %llu, \"iters\": %llu}\n", name, (unsigned long long)per[4],
                     (unsigned long long)(iters * 9));
    else printf("%-34s %14llu %12.1f %10llu\n", name, (unsigned long long)per[4], 1e9 / (double)per[4],
                (unsigned long long)(iters * 9));
}

int main(int argc, char **argv) {
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 1 && !json) {
        fprintf(stderr, "usage: tkms-bench-wallet [--json]\n");
        return 2;
    }
    /* a valid compressed G1 point (the generator): the library checks curve and subgroup */
    static const uint8_t g1[48] = {0x97, 0xf1, 0xd3, 0xa7, 0x31, 0x97, 0xd7, 0x94, 0x26, 0x95, 0x63, 0x8c,
                                   0x4f, 0xa9, 0xac, 0x0f, 0xc3, 0x68, 0x8c, 0x4f, 0x97, 0x74, 0xb9, 0x05,
                                   0xa1, 0x4e, 0x3a, 0x3f, 0x17, 0x1b, 0xac, 0x58, 0x6c, 0x55, 0xe8, 0x3f,
                                   0xf9, 0x7a, 0x1a, 0xef, 0xfb, 0x3a, 0xf0, 0x0a, 0xdb, 0x22, 0xc6, 0xbb};
    memcpy(app_key, g1, sizeof app_key);
    if (tkms_bip39_seed(seed, MNEMONIC, NULL) != TKMS_WALLET_OK) die("seed");
    data_in = calloc(1, DATA_LEN);
    data_out = malloc(DATA_LEN + (DATA_LEN / TKMS_DATAFILE_CHUNK_DEFAULT + 1) * TKMS_DATAFILE_TAG_LEN);
    if (!data_in || !data_out) die("malloc");
    static const struct {
        const char *name;
        void (*fn)(void);
    } ops[] = {
        {"mnemonic_from_app_key", op_app_key_mnemonic},
        {"bip39_seed_pbkdf2_2048", op_seed},
        {"bip32_master_path_depth5", op_bip32_depth5},
        {"slip10_ed25519_master_path_depth4", op_slip10_depth4},
        {"eth_address_m44_60_0_0_0", op_eth_address},
        {"tls_p256_key_and_cert", op_tls_cert},
        {"tls_p256_key_and_csr", op_tls_csr},
        {"data_key_hkdf", op_data_key},
        {"keccak256_64B", op_keccak_64},
        {"datafile_encrypt_1MiB", op_data_encrypt_1mib},
    };
    if (!json) printf("%-34s %14s %12s %10s\n", "operation", "ns/op (median)", "ops/s", "iters");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) bench(ops[i].name, ops[i].fn, json);
    free(data_in);
    free(data_out);
    return sink == 42 ? 1 : 0; /* keeps the results observable */
}
