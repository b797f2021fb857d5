/* BIP-32 hierarchical deterministic keys on secp256k1 (via libsecp256k1): master key, private and
 * public child derivation, paths, and strict xprv/xpub parsing and serialisation. */
#include <string.h>

#include "wallet_internal.h"

void tkms_hdkey_wipe(tkms_hdkey *k) {
    if (k) tkms_wallet_wipe(k, sizeof *k);
}

tkms_wallet_status tkms_path_parse(uint32_t *idx, size_t *n, size_t max, int *relative, const char *path) {
    if (!idx || !n || !path) return TKMS_WALLET_EARG;
    const char *p = path;
    size_t count = 0;
    int rel = 1;
    if (*p == 'm' || *p == 'M') {
        rel = 0;
        p++;
        if (*p == '\0') goto done;
        if (*p != '/') return TKMS_WALLET_EPATH;
        p++;
    } else if (*p == '\0') {
        return TKMS_WALLET_EPATH;
    }
    for (;;) {
        if (*p < '0' || *p > '9') return TKMS_WALLET_EPATH;
        /* No leading zeros ("01"), so that one index has one spelling. */
        if (*p == '0' && p[1] >= '0' && p[1] <= '9') return TKMS_WALLET_EPATH;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v >= TKMS_HARDENED) return TKMS_WALLET_EPATH;
            p++;
        }
        if (*p == '\'' || *p == 'h' || *p == 'H') {
            v |= TKMS_HARDENED;
            p++;
        }
        if (count == max) return TKMS_WALLET_EPATH;
        idx[count++] = (uint32_t)v;
        if (*p == '\0') break;
        if (*p != '/') return TKMS_WALLET_EPATH;
        p++;
    }
done:
    *n = count;
    if (relative) *relative = rel;
    return TKMS_WALLET_OK;
}

static tkms_wallet_status priv_to_pub(uint8_t pub[33], const uint8_t priv[32]) {
    const secp256k1_context *ctx = tkms_secp_ctx();
    secp256k1_pubkey pk;
    size_t len = 33;
    if (!ctx) return TKMS_WALLET_EINTERNAL;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, priv)) return TKMS_WALLET_EKEY;
    if (!secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk, SECP256K1_EC_COMPRESSED)) return TKMS_WALLET_EINTERNAL;
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_bip32_pubkey(uint8_t pub[33], const tkms_hdkey *k) {
    if (!pub || !k) return TKMS_WALLET_EARG;
    if (!k->is_private) {
        memcpy(pub, k->key, 33);
        return TKMS_WALLET_OK;
    }
    return priv_to_pub(pub, k->key + 1);
}

tkms_wallet_status tkms_bip32_master(tkms_hdkey *out, const uint8_t *seed, size_t len) {
    static const uint8_t label[] = "Bitcoin seed";
    uint8_t I[64];
    const secp256k1_context *ctx = tkms_secp_ctx();
    if (!out || !seed || len < 16 || len > 64) return TKMS_WALLET_EARG;
    if (!ctx) return TKMS_WALLET_EINTERNAL;
    if (!tkms_hmac_sha512(I, label, sizeof label - 1, seed, len)) return TKMS_WALLET_EINTERNAL;
    tkms_wallet_status st = TKMS_WALLET_OK;
    if (!secp256k1_ec_seckey_verify(ctx, I)) {
        st = TKMS_WALLET_EDERIVE;
    } else {
        memset(out, 0, sizeof *out);
        out->is_private = 1;
        out->key[0] = 0;
        memcpy(out->key + 1, I, 32);
        memcpy(out->chain_code, I + 32, 32);
    }
    tkms_wallet_wipe(I, sizeof I);
    return st;
}

tkms_wallet_status tkms_bip32_ckd(tkms_hdkey *out, const tkms_hdkey *parent, uint32_t index) {
    const secp256k1_context *ctx = tkms_secp_ctx();
    uint8_t data[37], I[64], ppub[33], fp[20];
    tkms_hdkey child;
    tkms_wallet_status st;
    if (!out || !parent) return TKMS_WALLET_EARG;
    if (!ctx) return TKMS_WALLET_EINTERNAL;
    if (parent->depth == 255) return TKMS_WALLET_EPATH;
    if (!parent->is_private && (index & TKMS_HARDENED)) return TKMS_WALLET_EPATH;
    st = tkms_bip32_pubkey(ppub, parent);
    if (st != TKMS_WALLET_OK) return st;
    if (index & TKMS_HARDENED) memcpy(data, parent->key, 33); /* 0x00 || k_par */
    else memcpy(data, ppub, 33);
    proto_be32(data + 33, index);
    if (!tkms_hmac_sha512(I, parent->chain_code, 32, data, sizeof data)) {
        st = TKMS_WALLET_EINTERNAL;
        goto out;
    }
    memset(&child, 0, sizeof child);
    child.is_private = parent->is_private;
    if (parent->is_private) {
        /* k_i = IL + k_par (mod n); libsecp256k1 rejects IL >= n and a zero result, in constant time. */
        child.key[0] = 0;
        memcpy(child.key + 1, parent->key + 1, 32);
        if (!secp256k1_ec_seckey_tweak_add(ctx, child.key + 1, I)) st = TKMS_WALLET_EDERIVE;
    } else {
        secp256k1_pubkey pk;
        size_t len = 33;
        if (!secp256k1_ec_pubkey_parse(ctx, &pk, parent->key, 33)) st = TKMS_WALLET_EKEY;
        else if (!secp256k1_ec_pubkey_tweak_add(ctx, &pk, I)) st = TKMS_WALLET_EDERIVE;
        else if (!secp256k1_ec_pubkey_serialize(ctx, child.key, &len, &pk, SECP256K1_EC_COMPRESSED))
            st = TKMS_WALLET_EINTERNAL;
    }
    if (st == TKMS_WALLET_OK) {
        memcpy(child.chain_code, I + 32, 32);
        tkms_hash160(fp, ppub, 33);
        memcpy(child.parent_fp, fp, 4);
        child.depth = (uint8_t)(parent->depth + 1);
        child.child = index;
        *out = child;
    }
    tkms_hdkey_wipe(&child);
out:
    tkms_wallet_wipe(data, sizeof data);
    tkms_wallet_wipe(I, sizeof I);
    return st;
}

tkms_wallet_status tkms_bip32_derive_path(tkms_hdkey *out, const tkms_hdkey *root, const char *path) {
    uint32_t idx[255];
    size_t n = 0;
    int relative = 0;
    tkms_hdkey k;
    if (!out || !root) return TKMS_WALLET_EARG;
    tkms_wallet_status st = tkms_path_parse(idx, &n, 255, &relative, path);
    if (st != TKMS_WALLET_OK) return st;
    /* An absolute path ("m/...") only makes sense from a master key. */
    if (!relative && root->depth != 0) return TKMS_WALLET_EPATH;
    k = *root;
    for (size_t i = 0; i < n && st == TKMS_WALLET_OK; i++) st = tkms_bip32_ckd(&k, &k, idx[i]);
    if (st == TKMS_WALLET_OK) *out = k;
    tkms_hdkey_wipe(&k);
    return st;
}

tkms_wallet_status tkms_bip32_neuter(tkms_hdkey *out, const tkms_hdkey *k) {
    uint8_t pub[33];
    if (!out || !k) return TKMS_WALLET_EARG;
    tkms_wallet_status st = tkms_bip32_pubkey(pub, k);
    if (st != TKMS_WALLET_OK) return st;
    tkms_hdkey r = *k;
    memcpy(r.key, pub, 33);
    r.is_private = 0;
    *out = r;
    tkms_hdkey_wipe(&r);
    return TKMS_WALLET_OK;
}

static const struct {
    uint32_t prv, pub;
} VERSIONS[] = {
    {TKMS_BIP32_VERSION_XPRV, TKMS_BIP32_VERSION_XPUB},
    {TKMS_BIP32_VERSION_TPRV, TKMS_BIP32_VERSION_TPUB},
    {TKMS_BIP32_VERSION_ZPRV, TKMS_BIP32_VERSION_ZPUB},
};

/* 1 private, 0 public, -1 unknown. */
static int version_kind(uint32_t v) {
    for (size_t i = 0; i < sizeof VERSIONS / sizeof VERSIONS[0]; i++) {
        if (v == VERSIONS[i].prv) return 1;
        if (v == VERSIONS[i].pub) return 0;
    }
    return -1;
}

tkms_wallet_status tkms_bip32_serialize(char *out, size_t cap, const tkms_hdkey *k, uint32_t version) {
    uint8_t raw[78];
    if (!out || !k) return TKMS_WALLET_EARG;
    if (version_kind(version) != (k->is_private ? 1 : 0)) return TKMS_WALLET_EARG;
    proto_be32(raw, version);
    raw[4] = k->depth;
    memcpy(raw + 5, k->parent_fp, 4);
    proto_be32(raw + 9, k->child);
    memcpy(raw + 13, k->chain_code, 32);
    memcpy(raw + 45, k->key, 33);
    tkms_wallet_status st = tkms_base58check_encode(out, cap, raw, sizeof raw);
    tkms_wallet_wipe(raw, sizeof raw);
    return st;
}

tkms_wallet_status tkms_bip32_parse(tkms_hdkey *out, uint32_t *version, const char *s) {
    uint8_t raw[82];
    size_t n = 0;
    const secp256k1_context *ctx = tkms_secp_ctx();
    tkms_hdkey k;
    if (!out || !s) return TKMS_WALLET_EARG;
    if (!ctx) return TKMS_WALLET_EINTERNAL;
    tkms_wallet_status st = tkms_base58check_decode(raw, &n, sizeof raw, s);
    if (st != TKMS_WALLET_OK) return st;
    memset(&k, 0, sizeof k);
    uint32_t v = proto_rd_be32(raw);
    int kind = version_kind(v);
    if (n != 78 || kind < 0) {
        st = TKMS_WALLET_EKEY;
        goto out;
    }
    k.depth = raw[4];
    memcpy(k.parent_fp, raw + 5, 4);
    k.child = proto_rd_be32(raw + 9);
    memcpy(k.chain_code, raw + 13, 32);
    memcpy(k.key, raw + 45, 33);
    k.is_private = kind;
    if (k.depth == 0 && (proto_rd_be32(k.parent_fp) != 0 || k.child != 0)) {
        st = TKMS_WALLET_EKEY;
    } else if (kind == 1) {
        if (k.key[0] != 0x00 || !secp256k1_ec_seckey_verify(ctx, k.key + 1)) st = TKMS_WALLET_EKEY;
    } else {
        secp256k1_pubkey pk;
        if ((k.key[0] != 0x02 && k.key[0] != 0x03) || !secp256k1_ec_pubkey_parse(ctx, &pk, k.key, 33))
            st = TKMS_WALLET_EKEY;
    }
    if (st == TKMS_WALLET_OK) {
        *out = k;
        if (version) *version = v;
    }
out:
    tkms_hdkey_wipe(&k);
    tkms_wallet_wipe(raw, sizeof raw);
    return st;
}
