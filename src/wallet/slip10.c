/* SLIP-0010 for ed25519 (hardened derivation only); public keys come from OpenSSL's Ed25519. */
#include <string.h>

#include <openssl/evp.h>

#include "wallet_internal.h"
#include "prim.h"

void tkms_slip10_wipe(tkms_slip10_key *k) {
    if (k) tkms_wallet_wipe(k, sizeof *k);
}

tkms_wallet_status tkms_slip10_master(tkms_slip10_key *out, const uint8_t *seed, size_t len) {
    static const uint8_t label[] = "ed25519 seed";
    uint8_t I[64];
    if (!out || !seed || len < 16 || len > 64) return TKMS_WALLET_EARG;
    if (!tkms_hmac_sha512(I, label, sizeof label - 1, seed, len)) return TKMS_WALLET_EINTERNAL;
    memset(out, 0, sizeof *out);
    /* Every 32-byte string is a valid ed25519 secret, so no retry loop is needed. */
    memcpy(out->key, I, 32);
    memcpy(out->chain_code, I + 32, 32);
    tkms_wallet_wipe(I, sizeof I);
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_slip10_pubkey(uint8_t pub[32], const tkms_slip10_key *k) {
    if (!pub || !k) return TKMS_WALLET_EARG;
    return tkms_ed25519_pubkey(pub, k->key) ? TKMS_WALLET_OK : TKMS_WALLET_EINTERNAL;
}

tkms_wallet_status tkms_slip10_ckd(tkms_slip10_key *out, const tkms_slip10_key *parent, uint32_t index) {
    uint8_t data[37], I[64], pub[33], fp[20];
    if (!out || !parent) return TKMS_WALLET_EARG;
    /* ed25519 has no public derivation: SLIP-0010 defines hardened children only. */
    if (!(index & TKMS_HARDENED) || parent->depth == 255) return TKMS_WALLET_EPATH;
    pub[0] = 0x00; /* SLIP-0010 fingerprints hash the 33-byte 0x00-prefixed public key */
    tkms_wallet_status st = tkms_slip10_pubkey(pub + 1, parent);
    if (st != TKMS_WALLET_OK) return st;
    data[0] = 0x00;
    memcpy(data + 1, parent->key, 32);
    proto_be32(data + 33, index);
    if (!tkms_hmac_sha512(I, parent->chain_code, 32, data, sizeof data)) {
        st = TKMS_WALLET_EINTERNAL;
    } else {
        tkms_hash160(fp, pub, sizeof pub);
        uint8_t depth = (uint8_t)(parent->depth + 1);
        memcpy(out->key, I, 32);
        memcpy(out->chain_code, I + 32, 32);
        memcpy(out->parent_fp, fp, 4);
        out->depth = depth;
        out->child = index;
    }
    tkms_wallet_wipe(data, sizeof data);
    tkms_wallet_wipe(I, sizeof I);
    return st;
}

tkms_wallet_status tkms_slip10_derive_path(tkms_slip10_key *out, const tkms_slip10_key *root, const char *path) {
    uint32_t idx[255];
    size_t n = 0;
    int relative = 0;
    if (!out || !root) return TKMS_WALLET_EARG;
    tkms_wallet_status st = tkms_path_parse(idx, &n, 255, &relative, path);
    if (st != TKMS_WALLET_OK) return st;
    if (!relative && root->depth != 0) return TKMS_WALLET_EPATH;
    for (size_t i = 0; i < n; i++)
        if (!(idx[i] & TKMS_HARDENED)) return TKMS_WALLET_EPATH;
    tkms_slip10_key k = *root;
    for (size_t i = 0; i < n && st == TKMS_WALLET_OK; i++) st = tkms_slip10_ckd(&k, &k, idx[i]);
    if (st == TKMS_WALLET_OK) *out = k;
    tkms_slip10_wipe(&k);
    return st;
}
