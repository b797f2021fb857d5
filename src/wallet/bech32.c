/* Bech32 (BIP-173) and bech32m (BIP-350) segwit addresses; used for BIP-84 P2WPKH ("bc1q...").
 * Addresses are public, so nothing here needs to be constant time. */
#include <string.h>

#include "wallet_internal.h"

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
enum { BECH32 = 1, BECH32M = 0x2bc830a3 };

static uint32_t polymod_step(uint32_t pre) {
    uint8_t b = (uint8_t)(pre >> 25);
    return ((pre & 0x1FFFFFF) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2UL) ^ (-((b >> 1) & 1) & 0x26508e6dUL) ^
           (-((b >> 2) & 1) & 0x1ea119faUL) ^ (-((b >> 3) & 1) & 0x3d4233ddUL) ^ (-((b >> 4) & 1) & 0x2a1462b3UL);
}

static uint32_t hrp_polymod(const char *hrp) {
    uint32_t chk = 1;
    for (size_t i = 0; hrp[i]; i++) chk = polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
    chk = polymod_step(chk);
    for (size_t i = 0; hrp[i]; i++) chk = polymod_step(chk) ^ ((unsigned char)hrp[i] & 0x1f);
    return chk;
}

/* Regroups bits (8 -> 5 with padding, or 5 -> 8 strictly). Returns 1 on success. */
static int convert_bits(uint8_t *out, size_t *out_len, size_t cap, int outbits, const uint8_t *in, size_t in_len,
                        int inbits, int pad) {
    uint32_t val = 0, maxv = (1u << outbits) - 1;
    int bits = 0;
    *out_len = 0;
    for (size_t i = 0; i < in_len; i++) {
        val = (val << inbits) | in[i];
        bits += inbits;
        while (bits >= outbits) {
            bits -= outbits;
            if (*out_len >= cap) return 0;
            out[(*out_len)++] = (uint8_t)((val >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits) {
            if (*out_len >= cap) return 0;
            out[(*out_len)++] = (uint8_t)((val << (outbits - bits)) & maxv);
        }
    } else if (bits >= inbits || ((val << (outbits - bits)) & maxv)) {
        return 0;
    }
    return 1;
}

tkms_wallet_status tkms_segwit_encode(char *out, size_t cap, const char *hrp, int witver, const uint8_t *prog,
                                      size_t prog_len) {
    uint8_t data[80];
    size_t dlen = 0, hlen = strlen(hrp);
    if (witver < 0 || witver > 16 || prog_len < 2 || prog_len > 40 || hlen < 1 || hlen > 83)
        return TKMS_WALLET_EARG;
    if (witver == 0 && prog_len != 20 && prog_len != 32) return TKMS_WALLET_EARG;
    data[0] = (uint8_t)witver;
    if (!convert_bits(data + 1, &dlen, sizeof data - 1, 5, prog, prog_len, 8, 1)) return TKMS_WALLET_EARG;
    dlen++;
    if (hlen + 1 + dlen + 6 + 1 > cap || hlen + 1 + dlen + 6 > 90) return TKMS_WALLET_EARG;
    uint32_t chk = hrp_polymod(hrp);
    size_t o = 0;
    for (size_t i = 0; i < hlen; i++) {
        char c = hrp[i];
        if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z')) return TKMS_WALLET_EARG;
        out[o++] = c;
    }
    out[o++] = '1';
    for (size_t i = 0; i < dlen; i++) {
        chk = polymod_step(chk) ^ data[i];
        out[o++] = CHARSET[data[i]];
    }
    for (int i = 0; i < 6; i++) chk = polymod_step(chk);
    chk ^= witver == 0 ? (uint32_t)BECH32 : (uint32_t)BECH32M;
    for (int i = 0; i < 6; i++) out[o++] = CHARSET[(chk >> ((5 - i) * 5)) & 31];
    out[o] = '\0';
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_segwit_decode(int *witver, uint8_t *prog, size_t *prog_len, size_t cap, const char *hrp,
                                      const char *addr) {
    size_t n = strlen(addr), hlen = strlen(hrp);
    int lower = 0, upper = 0;
    if (n < 8 || n > 90) return TKMS_WALLET_EKEY;
    for (size_t i = 0; i < n; i++) {
        char c = addr[i];
        if (c < 33 || c > 126) return TKMS_WALLET_EKEY;
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
    }
    if (lower && upper) return TKMS_WALLET_EKEY;
    const char *sep = strrchr(addr, '1');
    if (!sep || (size_t)(sep - addr) != hlen || (size_t)(addr + n - sep) < 8) return TKMS_WALLET_EKEY;
    for (size_t i = 0; i < hlen; i++) {
        char c = addr[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != hrp[i]) return TKMS_WALLET_EKEY;
    }
    uint8_t data[90];
    size_t dlen = 0;
    uint32_t chk = hrp_polymod(hrp);
    for (const char *p = sep + 1; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        const char *q = strchr(CHARSET, c);
        if (!q) return TKMS_WALLET_EKEY;
        data[dlen] = (uint8_t)(q - CHARSET);
        chk = polymod_step(chk) ^ data[dlen];
        dlen++;
    }
    dlen -= 6;
    int v = data[0];
    if (v > 16) return TKMS_WALLET_EKEY;
    if (chk != (v == 0 ? (uint32_t)BECH32 : (uint32_t)BECH32M)) return TKMS_WALLET_ECHECKSUM;
    if (!convert_bits(prog, prog_len, cap, 8, data + 1, dlen - 1, 5, 0)) return TKMS_WALLET_EKEY;
    if (*prog_len < 2 || *prog_len > 40 || (v == 0 && *prog_len != 20 && *prog_len != 32)) return TKMS_WALLET_EKEY;
    *witver = v;
    return TKMS_WALLET_OK;
}
