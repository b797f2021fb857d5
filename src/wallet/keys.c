/* Keys derived from the BIP-39 seed with HKDF-SHA256 (DESIGN.md §2): data keys and the
 * rejection-sampled P-256 TLS scalar, plus the DNS-name rule for TLS domains. */
#include <stdlib.h>
#include <string.h>

#include "wallet_internal.h"
#include "proto_tags.h"

static const uint8_t SALT[] = TKMS_SALT_V1;

/* Appends lp(x) = be32(len) || x to buf at *o (the caller sized buf). */
static void put_lp(uint8_t *buf, size_t *o, const void *x, size_t len) {
    proto_be32(buf + *o, (uint32_t)len);
    memcpy(buf + *o + 4, x, len);
    *o += 4 + len;
}

tkms_wallet_status tkms_data_key(uint8_t key[TKMS_DATA_KEY_LEN], const uint8_t *seed, size_t seed_len,
                                 const char *label) {
    if (!key || !seed || !label) return TKMS_WALLET_EARG;
    size_t llen = strlen(label);
    if (llen > 4096) return TKMS_WALLET_EARG;
    uint8_t *info = malloc(8 + 4 + llen);
    if (!info) return TKMS_WALLET_EINTERNAL;
    size_t o = 0;
    put_lp(info, &o, TKMS_INFO_DATA_KEY, TKMS_TAG_LEN(TKMS_INFO_DATA_KEY));
    put_lp(info, &o, label, llen);
    int ok = tkms_hkdf_sha256(key, TKMS_DATA_KEY_LEN, seed, seed_len, SALT, sizeof SALT - 1, info, o);
    free(info);
    if (!ok) tkms_wallet_wipe(key, TKMS_DATA_KEY_LEN);
    return ok ? TKMS_WALLET_OK : TKMS_WALLET_EINTERNAL;
}

int tkms_tls_domain_ok(const char *d) {
    if (!d) return 0;
    size_t n = strlen(d);
    if (n == 0 || n > 253) return 0;
    const char *p = d;
    if (p[0] == '*' && p[1] == '.') p += 2; /* one leading wildcard label */
    size_t labels = 0;
    for (;;) {
        const char *s = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-') p++;
        size_t ll = (size_t)(p - s);
        if (ll == 0 || ll > 63 || s[0] == '-' || p[-1] == '-') return 0;
        labels++;
        if (*p == '\0') break;
        if (*p != '.') return 0;
        p++;
    }
    /* A wildcard must not cover a whole top-level domain ("*.com"). */
    return !(d[0] == '*' && labels < 2);
}

/* Order of the P-256 group. */
static const uint8_t P256_N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                   0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

tkms_wallet_status tkms_tls_scalar(uint8_t scalar[32], const uint8_t *seed, size_t seed_len, const char *domain) {
    if (!scalar || !seed) return TKMS_WALLET_EARG;
    if (!tkms_tls_domain_ok(domain)) return TKMS_WALLET_EDOMAIN;
    size_t dlen = strlen(domain);
    uint8_t info[4 + 3 + 4 + 253 + 4], cand[32];
    size_t o = 0;
    put_lp(info, &o, TKMS_INFO_TLS_KEY, TKMS_TAG_LEN(TKMS_INFO_TLS_KEY));
    put_lp(info, &o, domain, dlen);
    tkms_wallet_status st = TKMS_WALLET_EINTERNAL;
    /* Rejection sampling: a candidate is out of range with probability about 2^-32, so the loop
     * almost always ends at counter 0; whether it did depends on the secret only negligibly. */
    for (uint32_t ctr = 0; ctr < 256; ctr++) {
        proto_be32(info + o, ctr);
        if (!tkms_hkdf_sha256(cand, 32, seed, seed_len, SALT, sizeof SALT - 1, info, o + 4)) break;
        if (!tkms_ct_is_zero32(cand) && tkms_ct_lt_be32bytes(cand, P256_N)) {
            memcpy(scalar, cand, 32);
            st = TKMS_WALLET_OK;
            break;
        }
    }
    tkms_wallet_wipe(cand, sizeof cand);
    return st;
}
