/* libtkms-client: using the fetched key -- public wallet addresses from the mnemonic and opening
 * tkms1: sealed secrets (src/seal) with the app key. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client_internal.h"
#include "seal.h"
#include "tkms/wallet.h"

tkms_client_status tkms_client_addresses_derive(tkms_client_addresses *a, const tkms_client_key *k) {
    uint8_t seed[TKMS_BIP39_SEED_LEN];
    memset(a, 0, sizeof *a);
    tkms_wallet_status ws = tkms_bip39_seed(seed, k->mnemonic, NULL);
    if (ws == TKMS_WALLET_OK) ws = tkms_derive_eth(a->eth, NULL, seed, 0);
    if (ws == TKMS_WALLET_OK) ws = tkms_derive_sol(a->sol, sizeof a->sol, NULL, seed, 0);
    if (ws == TKMS_WALLET_OK) ws = tkms_derive_btc(a->btc, sizeof a->btc, NULL, seed, 0);
    OPENSSL_cleanse(seed, sizeof seed);
    return ws == TKMS_WALLET_OK ? TKMS_CLIENT_OK : TKMS_CLIENT_E_INTERNAL;
}

tkms_client_status tkms_client_unseal(uint8_t **out, size_t *out_len, tkms_status *es, const tkms_client_key *k,
                                      const char *text, size_t text_len) {
    cl_status_ok(es);
    *out = NULL;
    *out_len = 0;
    tkms_buf b = {0};
    tkms_status s = tkms_unseal(&b, NULL, text, text_len, k->app_key, k->app_id, k->mpk);
    if (s.cls != TKMS_CLASS_OK) {
        tkms_buf_free(&b);
        return cl_fail(es, s.cls == TKMS_CLASS_INTERNAL ? TKMS_CLIENT_E_INTERNAL : TKMS_CLIENT_E_SEALED, "%s",
                       s.msg[0] ? s.msg : "cannot open");
    }
    uint8_t *p = malloc(b.len + 1);
    if (!p) {
        tkms_buf_free(&b);
        return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
    }
    if (b.len) memcpy(p, b.p, b.len);
    p[b.len] = 0;
    *out = p;
    *out_len = b.len;
    tkms_buf_free(&b);
    return TKMS_CLIENT_OK;
}

void tkms_client_secret_free(void *p, size_t len) {
    if (!p) return;
    OPENSSL_cleanse(p, len);
    free(p);
}
