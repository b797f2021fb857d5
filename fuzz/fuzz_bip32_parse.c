/* libFuzzer target: BIP-32 extended keys (tkms_bip32_parse: base58check, version, depth/fingerprint
 * rules, key validity). A key that parses must serialise back to the same string. */
#include <stdlib.h>
#include <string.h>

#include "tkms/wallet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[256], back[256];
    if (size >= sizeof s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    tkms_hdkey k;
    uint32_t v = 0;
    if (tkms_bip32_parse(&k, &v, s) != TKMS_WALLET_OK) return 0;
    if (tkms_bip32_serialize(back, sizeof back, &k, v) != TKMS_WALLET_OK) abort();
    if (strcmp(back, s) != 0) abort();
    tkms_hdkey c;
    if (tkms_bip32_ckd(&c, &k, 1) == TKMS_WALLET_OK) tkms_hdkey_wipe(&c); /* must not crash */
    tkms_hdkey_wipe(&k);
    return 0;
}
