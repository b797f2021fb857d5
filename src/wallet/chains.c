/* Chain-specific addresses: Ethereum (Keccak-256 + EIP-55), Bitcoin BIP-84 P2WPKH and WIF, Solana
 * base58, and the DESIGN.md §2 standard paths for each. */
#include <stdio.h>
#include <string.h>

#include "wallet_internal.h"

void tkms_eip55(char out[TKMS_ETH_ADDR_LEN], const uint8_t addr[20]) {
    static const char hexd[] = "0123456789abcdef";
    char lower[40];
    uint8_t h[32];
    for (int i = 0; i < 20; i++) {
        lower[2 * i] = hexd[addr[i] >> 4];
        lower[2 * i + 1] = hexd[addr[i] & 15];
    }
    /* The checksum is the hash of the lowercase hex text, not of the bytes. */
    tkms_keccak256(h, (const uint8_t *)lower, sizeof lower);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        char c = lower[i];
        int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        if (c >= 'a' && nib >= 8) c = (char)(c - 'a' + 'A');
        out[2 + i] = c;
    }
    out[42] = '\0';
}

tkms_wallet_status tkms_eth_address(char out[TKMS_ETH_ADDR_LEN], const uint8_t *pub, size_t len) {
    const secp256k1_context *ctx = tkms_secp_ctx();
    secp256k1_pubkey pk;
    uint8_t full[65], h[32];
    size_t flen = sizeof full;
    if (!out || !pub) return TKMS_WALLET_EARG;
    if (!ctx) return TKMS_WALLET_EINTERNAL;
    if (!secp256k1_ec_pubkey_parse(ctx, &pk, pub, len)) return TKMS_WALLET_EKEY;
    if (!secp256k1_ec_pubkey_serialize(ctx, full, &flen, &pk, SECP256K1_EC_UNCOMPRESSED))
        return TKMS_WALLET_EINTERNAL;
    tkms_keccak256(h, full + 1, 64);
    tkms_eip55(out, h + 12);
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_btc_p2wpkh(char *out, size_t cap, const uint8_t pub[33]) {
    uint8_t h[20];
    if (!out || !pub || (pub[0] != 2 && pub[0] != 3)) return TKMS_WALLET_EARG;
    tkms_hash160(h, pub, 33);
    return tkms_segwit_encode(out, cap, "bc", 0, h, sizeof h);
}

tkms_wallet_status tkms_btc_wif(char *out, size_t cap, const uint8_t priv[32]) {
    uint8_t raw[34];
    if (!out || !priv) return TKMS_WALLET_EARG;
    raw[0] = 0x80; /* mainnet */
    memcpy(raw + 1, priv, 32);
    raw[33] = 0x01; /* compressed public key */
    tkms_wallet_status st = tkms_base58check_encode(out, cap, raw, sizeof raw);
    tkms_wallet_wipe(raw, sizeof raw);
    return st;
}

tkms_wallet_status tkms_sol_address(char *out, size_t cap, const uint8_t pub[32]) {
    if (!out || !pub) return TKMS_WALLET_EARG;
    return tkms_base58_encode(out, cap, pub, 32);
}

/* Derives a BIP-32 path from the seed; pub gets the compressed key, priv (optional) the scalar. */
static tkms_wallet_status bip32_leaf(uint8_t pub[33], uint8_t *priv, const uint8_t seed[64], const char *path) {
    tkms_hdkey k;
    tkms_wallet_status st = tkms_bip32_master(&k, seed, 64);
    if (st == TKMS_WALLET_OK) st = tkms_bip32_derive_path(&k, &k, path);
    if (st == TKMS_WALLET_OK) st = tkms_bip32_pubkey(pub, &k);
    if (st == TKMS_WALLET_OK && priv) memcpy(priv, k.key + 1, 32);
    tkms_hdkey_wipe(&k);
    return st;
}

tkms_wallet_status tkms_derive_eth(char out[TKMS_ETH_ADDR_LEN], uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) {
    char path[64];
    uint8_t pub[33];
    if (!out || !seed || index >= TKMS_HARDENED) return TKMS_WALLET_EARG;
    snprintf(path, sizeof path, "m/44'/60'/0'/0/%u", (unsigned)index);
    tkms_wallet_status st = bip32_leaf(pub, priv_out, seed, path);
    if (st == TKMS_WALLET_OK) st = tkms_eth_address(out, pub, 33);
    return st;
}

tkms_wallet_status tkms_derive_btc(char *out, size_t cap, uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) {
    char path[64];
    uint8_t pub[33];
    if (!out || !seed || index >= TKMS_HARDENED) return TKMS_WALLET_EARG;
    snprintf(path, sizeof path, "m/84'/0'/0'/0/%u", (unsigned)index);
    tkms_wallet_status st = bip32_leaf(pub, priv_out, seed, path);
    if (st == TKMS_WALLET_OK) st = tkms_btc_p2wpkh(out, cap, pub);
    return st;
}

tkms_wallet_status tkms_derive_sol(char *out, size_t cap, uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) {
    char path[64];
    uint8_t pub[32];
    tkms_slip10_key k;
    if (!out || !seed || index >= TKMS_HARDENED) return TKMS_WALLET_EARG;
    snprintf(path, sizeof path, "m/44'/501'/%u'/0'", (unsigned)index);
    tkms_wallet_status st = tkms_slip10_master(&k, seed, 64);
    if (st == TKMS_WALLET_OK) st = tkms_slip10_derive_path(&k, &k, path);
    if (st == TKMS_WALLET_OK) st = tkms_slip10_pubkey(pub, &k);
    if (st == TKMS_WALLET_OK && priv_out) memcpy(priv_out, k.key, 32);
    if (st == TKMS_WALLET_OK) st = tkms_sol_address(out, cap, pub);
    tkms_slip10_wipe(&k);
    return st;
}
