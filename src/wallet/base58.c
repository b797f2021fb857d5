/* Bitcoin base58 and Base58Check, used for xprv/xpub, WIF and Solana addresses. The encoding of
 * xprv and WIF strings handles secrets; see the note in tkms_base58_encode. */
#include <string.h>

#include "wallet_internal.h"

static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* The character of base-58 digit v (< 58) by a masked scan of the whole alphabet: no table index
 * by the (secret) digit. */
static char digit_char(uint8_t v) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < 58; i++) {
        uint32_t diff = i ^ v;
        uint32_t eq = ((diff | (0u - diff)) >> 31) ^ 1u; /* 1 iff i == v */
        c |= (0u - eq) & (uint32_t)(unsigned char)ALPHABET[i];
    }
    return (char)c;
}

/* Big-number conversion by repeated multiply-add over every digit, so the running time depends only
 * on the length and on the count of leading zero bytes (public for every format we encode: xprv,
 * WIF and the public keys all start with fixed version bytes or are public). Division by the
 * constant 58 compiles to a multiplication. The digits become characters by a masked scan; the
 * count of leading zero digits -- the length of the string, which is public -- is computed
 * without a branch by tkms_base58_leading_zero_digits. */
tkms_wallet_status tkms_base58_encode(char *out, size_t cap, const uint8_t *in, size_t len) {
    uint8_t buf[128];
    if (len > 90) return TKMS_WALLET_EARG;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0) zeros++;
    size_t size = len * 138 / 100 + 1; /* log(256)/log(58) */
    memset(buf, 0, size);
    for (size_t i = zeros; i < len; i++) {
        uint32_t carry = in[i];
        for (size_t j = size; j-- > 0;) {
            carry += 256u * buf[j];
            buf[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t k = tkms_base58_leading_zero_digits(buf, size);
    size_t need = zeros + (size - k) + 1;
    if (need > cap) {
        tkms_wallet_wipe(buf, sizeof buf);
        return TKMS_WALLET_EARG;
    }
    memset(out, '1', zeros);
    size_t o = zeros;
    for (; k < size; k++) out[o++] = digit_char(buf[k]);
    out[o] = '\0';
    tkms_wallet_wipe(buf, sizeof buf);
    return TKMS_WALLET_OK;
}

/* Digit value of c or -1, scanning the whole alphabet so that decoding an xprv does not leak its
 * characters through timing. */
static int digit(char c) {
    int v = -1;
    for (int i = 0; i < 58; i++) {
        uint32_t diff = (uint32_t)(unsigned char)ALPHABET[i] ^ (uint32_t)(unsigned char)c;
        uint32_t eq = ((diff | (0u - diff)) >> 31) ^ 1u; /* 1 iff equal */
        v ^= (int)((0u - eq) & (uint32_t)(v ^ i));
    }
    return v;
}

tkms_wallet_status tkms_base58_decode(uint8_t *out, size_t *len, size_t cap, const char *in) {
    uint8_t buf[128];
    size_t n = strlen(in);
    if (n == 0 || n > 160) return TKMS_WALLET_EKEY;
    size_t zeros = 0;
    while (zeros < n && in[zeros] == '1') zeros++;
    size_t size = n * 733 / 1000 + 1; /* log(58)/log(256) */
    if (size > sizeof buf) return TKMS_WALLET_EKEY;
    memset(buf, 0, size);
    for (size_t i = zeros; i < n; i++) {
        int d = digit(in[i]);
        if (d < 0) return TKMS_WALLET_EKEY;
        uint32_t carry = (uint32_t)d;
        for (size_t j = size; j-- > 0;) {
            carry += 58u * buf[j];
            buf[j] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry) return TKMS_WALLET_EKEY;
    }
    size_t k = 0;
    while (k < size && buf[k] == 0) k++;
    size_t total = zeros + (size - k);
    if (total > cap) {
        tkms_wallet_wipe(buf, sizeof buf);
        return TKMS_WALLET_EKEY;
    }
    memset(out, 0, zeros);
    memcpy(out + zeros, buf + k, size - k);
    *len = total;
    tkms_wallet_wipe(buf, sizeof buf);
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_base58check_encode(char *out, size_t cap, const uint8_t *payload, size_t len) {
    uint8_t tmp[96], h[32];
    if (len + 4 > sizeof tmp) return TKMS_WALLET_EARG;
    memcpy(tmp, payload, len);
    tkms_sha256(h, payload, len);
    tkms_sha256(h, h, 32);
    memcpy(tmp + len, h, 4);
    tkms_wallet_status st = tkms_base58_encode(out, cap, tmp, len + 4);
    tkms_wallet_wipe(tmp, sizeof tmp);
    return st;
}

tkms_wallet_status tkms_base58check_decode(uint8_t *payload, size_t *len, size_t cap, const char *in) {
    uint8_t tmp[128], h[32];
    size_t n = 0;
    tkms_wallet_status st = tkms_base58_decode(tmp, &n, sizeof tmp, in);
    if (st != TKMS_WALLET_OK) return st;
    if (n < 4 || n - 4 > cap) {
        tkms_wallet_wipe(tmp, sizeof tmp);
        return TKMS_WALLET_EKEY;
    }
    tkms_sha256(h, tmp, n - 4);
    tkms_sha256(h, h, 32);
    if (memcmp(h, tmp + n - 4, 4) != 0) { /* checksum of a public string: no secret */
        tkms_wallet_wipe(tmp, sizeof tmp);
        return TKMS_WALLET_ECHECKSUM;
    }
    memcpy(payload, tmp, n - 4);
    *len = n - 4;
    tkms_wallet_wipe(tmp, sizeof tmp);
    return TKMS_WALLET_OK;
}
