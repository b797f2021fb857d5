/* BIP-39 (English): entropy <-> mnemonic with checksum, the PBKDF2 seed, and the app-key mnemonic of
 * DESIGN.md §2. Word lookups scan the whole embedded list so that cache timing leaves no trace. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wallet_internal.h"
#include "g1.h"
#include "proto_tags.h"

#define MAX_WORDS 24

/* Row i as a 64-bit value: the first 8 bytes (the 9th is always the terminator). */
static uint64_t row64(uint32_t i) {
    uint64_t v;
    memcpy(&v, tkms_bip39_english[i], 8);
    return v;
}

/* 0xff..ff if a == b else 0, without branches. */
static uint64_t eq_mask(uint64_t a, uint64_t b) {
    uint64_t d = a ^ b;
    return ((d | (0 - d)) >> 63) - 1;
}

/* Copies row index of the list into word[9] by scanning all 2048 rows with a mask, so the memory
 * access pattern does not depend on the (secret) index. */
static void select_word(char word[9], uint32_t index) {
    uint64_t acc = 0;
    for (uint32_t i = 0; i < 2048; i++) acc |= row64(i) & eq_mask(i, index);
    memcpy(word, &acc, 8);
    word[8] = 0;
}

/* Index of the NUL-padded word[9] in the list, or -1; compares against every row. */
static int32_t find_word(const char word[9]) {
    uint64_t w, found = 0, index = 0;
    memcpy(&w, word, 8);
    for (uint32_t i = 0; i < 2048; i++) {
        uint64_t m = eq_mask(row64(i), w);
        index |= m & i;
        found |= m;
    }
    return found ? (int32_t)index : -1;
}

const char *tkms_bip39_word_vartime(unsigned i) { return i < 2048 ? tkms_bip39_english[i] : NULL; }

tkms_wallet_status tkms_bip39_from_entropy(char *out, size_t cap, const uint8_t *entropy, size_t len) {
    uint8_t buf[33], h[32];
    char word[9];
    if (!out || !entropy || len < 16 || len > 32 || len % 4 != 0) return TKMS_WALLET_EARG;
    size_t nwords = (len * 8 + len / 4) / 11;
    memcpy(buf, entropy, len);
    tkms_sha256(h, entropy, len);
    buf[len] = h[0]; /* only the first len/4 bits (<= 8) of the hash are used */
    size_t o = 0;
    tkms_wallet_status st = TKMS_WALLET_OK;
    for (size_t w = 0; w < nwords; w++) {
        uint32_t idx = 0;
        for (size_t b = w * 11; b < w * 11 + 11; b++) idx = idx << 1 | ((buf[b / 8] >> (7 - b % 8)) & 1);
        select_word(word, idx);
        size_t wl = strlen(word);
        if (o + (w ? 1 : 0) + wl + 1 > cap) { /* separator, word and the final NUL must fit */
            st = TKMS_WALLET_EARG;
            break;
        }
        if (w) out[o++] = ' ';
        memcpy(out + o, word, wl);
        o += wl;
    }
    if (st == TKMS_WALLET_OK) out[o] = '\0';
    else if (cap) tkms_wallet_wipe(out, cap);
    tkms_wallet_wipe(buf, sizeof buf);
    tkms_wallet_wipe(h, sizeof h);
    tkms_wallet_wipe(word, sizeof word);
    return st;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Splits the mnemonic into word indices; checks count and words (not the checksum). */
static tkms_wallet_status parse_words(uint32_t idx[MAX_WORDS], size_t *nwords, const char *m) {
    size_t n = 0;
    char word[9];
    tkms_wallet_status st = TKMS_WALLET_OK;
    const char *p = m;
    for (;;) {
        while (is_space(*p)) p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !is_space(*p)) p++;
        size_t wl = (size_t)(p - s);
        if (n == MAX_WORDS) {
            st = TKMS_WALLET_ELENGTH;
            break;
        }
        if (wl > 8) {
            st = TKMS_WALLET_EWORD;
            break;
        }
        memset(word, 0, sizeof word);
        memcpy(word, s, wl);
        int32_t i = find_word(word);
        if (i < 0) {
            st = TKMS_WALLET_EWORD;
            break;
        }
        idx[n++] = (uint32_t)i;
    }
    tkms_wallet_wipe(word, sizeof word);
    if (st == TKMS_WALLET_OK && (n < 12 || n % 3 != 0)) st = TKMS_WALLET_ELENGTH;
    *nwords = n;
    return st;
}

tkms_wallet_status tkms_bip39_to_entropy(uint8_t *entropy, size_t *len, size_t cap, const char *mnemonic) {
    uint32_t idx[MAX_WORDS];
    uint8_t buf[33] = {0}, h[32];
    size_t n = 0;
    if (!entropy || !len || !mnemonic) return TKMS_WALLET_EARG;
    tkms_wallet_status st = parse_words(idx, &n, mnemonic);
    if (st != TKMS_WALLET_OK) goto out;
    size_t elen = n * 11 * 32 / 33 / 8, csbits = elen / 4;
    if (elen > cap) {
        st = TKMS_WALLET_EARG;
        goto out;
    }
    for (size_t w = 0; w < n; w++)
        for (size_t k = 0; k < 11; k++) {
            size_t b = w * 11 + k;
            buf[b / 8] = (uint8_t)(buf[b / 8] | (((idx[w] >> (10 - k)) & 1) << (7 - b % 8)));
        }
    tkms_sha256(h, buf, elen);
    uint8_t mask = (uint8_t)(0xff << (8 - csbits));
    if (((h[0] ^ buf[elen]) & mask) != 0) { /* reveals only valid/invalid */
        st = TKMS_WALLET_ECHECKSUM;
        goto out;
    }
    memcpy(entropy, buf, elen);
    *len = elen;
out:
    tkms_wallet_wipe(idx, sizeof idx);
    tkms_wallet_wipe(buf, sizeof buf);
    tkms_wallet_wipe(h, sizeof h);
    return st;
}

tkms_wallet_status tkms_bip39_normalize(char *out, size_t cap, const char *mnemonic) {
    uint8_t e[32];
    size_t elen = 0;
    tkms_wallet_status st = tkms_bip39_to_entropy(e, &elen, sizeof e, mnemonic);
    if (st == TKMS_WALLET_OK) st = tkms_bip39_from_entropy(out, cap, e, elen);
    tkms_wallet_wipe(e, sizeof e);
    return st;
}

tkms_wallet_status tkms_bip39_seed(uint8_t seed[TKMS_BIP39_SEED_LEN], const char *mnemonic, const char *passphrase) {
    char canon[TKMS_BIP39_MNEMONIC_MAX];
    if (!seed || !mnemonic) return TKMS_WALLET_EARG;
    if (!passphrase) passphrase = "";
    size_t plen = strlen(passphrase);
    /* NFKD is the identity on ASCII; anything else would need Unicode tables we do not carry. */
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)passphrase[i] >= 0x80) return TKMS_WALLET_EPASSPHRASE;
    if (plen > (1u << 20)) return TKMS_WALLET_EARG;
    tkms_wallet_status st = tkms_bip39_normalize(canon, sizeof canon, mnemonic);
    if (st != TKMS_WALLET_OK) return st;
    uint8_t *salt = malloc(8 + plen + 1);
    if (!salt) {
        tkms_wallet_wipe(canon, sizeof canon);
        return TKMS_WALLET_EINTERNAL;
    }
    memcpy(salt, "mnemonic", 8);
    memcpy(salt + 8, passphrase, plen);
    if (PKCS5_PBKDF2_HMAC(canon, (int)strlen(canon), salt, (int)(8 + plen), 2048, EVP_sha512(), TKMS_BIP39_SEED_LEN,
                          seed) != 1)
        st = TKMS_WALLET_EINTERNAL;
    tkms_wallet_wipe(salt, 8 + plen);
    free(salt);
    tkms_wallet_wipe(canon, sizeof canon);
    if (st != TKMS_WALLET_OK) tkms_wallet_wipe(seed, TKMS_BIP39_SEED_LEN);
    return st;
}

tkms_wallet_status tkms_mnemonic_from_app_key(char *out, size_t cap, const uint8_t app_key[TKMS_APP_KEY_LEN]) {
    static const uint8_t salt[] = TKMS_SALT_V1;
    static const uint8_t info[] = TKMS_INFO_BIP39_ENTROPY;
    uint8_t e[32];
    if (!out || !app_key) return TKMS_WALLET_EARG;
    /* The key must be a compressed G1 point: on the curve, in the subgroup, not the identity. The
     * parser's work is a fixed sequence of constant-time field operations on the key (the subgroup
     * check multiplies by a public constant); only its accept/reject outcome is data-dependent. */
    g1_affine_t pt;
    int ok = (app_key[0] & 0x80) && g1_deserialize(&pt, app_key, TKMS_APP_KEY_LEN, 0) == G1_OK;
    tkms_wallet_wipe(&pt, sizeof pt);
    if (!ok) return TKMS_WALLET_EKEY;
    if (!tkms_hkdf_sha256(e, sizeof e, app_key, TKMS_APP_KEY_LEN, salt, sizeof salt - 1, info, sizeof info - 1))
        return TKMS_WALLET_EINTERNAL;
    tkms_wallet_status st = tkms_bip39_from_entropy(out, cap, e, sizeof e);
    tkms_wallet_wipe(e, sizeof e);
    return st;
}
