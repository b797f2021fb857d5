/* tkms1: sealed secrets: round trips (empty to 1 MiB), the app key from a threshold combine opens
 * them, and another app, another MPK, a wrong app key, truncated, modified and oversized inputs are
 * rejected, each with the message of the check that refused it. */
#include <stdlib.h>
#include <string.h>

#include "appkey.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "seal.h"
#include "testutil.h"

int main(void) {
    tu_seed();
    uint8_t sb[64], mpk[96], app[20], key[48], other_key[48], other_app[20], wrong_key[48];
    fr_t s;
    uint64_t sc[4];
    tu_randbytes(sb, sizeof sb);
    fr_from_bytes_wide(&s, sb, sizeof sb);
    fr_to_scalar(sc, &s);
    g2_t g, m;
    g2_affine_t ma;
    g2_from_affine(&g, &G2_GENERATOR);
    g2_mul(&m, &g, sc);
    g2_to_affine(&ma, &m);
    g2_serialize(mpk, &ma);
    tu_randbytes(app, 20);
    memcpy(other_app, app, 20);
    other_app[0] ^= 0x80;
    g1_t k;
    g1_affine_t ka;
    appkey_partial(&k, &s, app); /* K_A = s*Q_A */
    g1_to_affine(&ka, &k);
    g1_serialize(key, &ka);
    TU_CHECK(appkey_verify(&ka, app, &ma));
    appkey_partial(&k, &s, other_app);
    g1_to_affine(&ka, &k);
    g1_serialize(other_key, &ka);
    /* a key for this app under another master secret (a wrong app key) */
    fr_t s2;
    tu_randbytes(sb, sizeof sb);
    fr_from_bytes_wide(&s2, sb, sizeof sb);
    appkey_partial(&k, &s2, app);
    g1_to_affine(&ka, &k);
    g1_serialize(wrong_key, &ka);

    size_t sizes[] = {0, 1, 32, 1000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *pt = malloc(n + 1);
        tu_randbytes(pt, n);
        tkms_buf text = {0}, out = {0};
        const char *name = i == 2 ? "DATABASE_URL" : "";
        TU_CHECK(tkms_seal(&text, mpk, app, name, pt, n).code == TKMS_SEAL_OK);
        TU_CHECK(memcmp(text.p, "tkms1:", 6) == 0);
        for (size_t c = 6; c < text.len; c++) {
            char ch = (char)text.p[c];
            TU_CHECK((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                     ch == '_');
        }
        char *nm = NULL;
        TU_CHECK(tkms_unseal(&out, &nm, (const char *)text.p, text.len, key, app, mpk).code == TKMS_SEAL_OK);
        TU_CHECK(out.len == n && (n == 0 || memcmp(out.p, pt, n) == 0));
        TU_CHECK(nm && strcmp(nm, name) == 0);
        free(nm);
        tkms_buf_free(&out);
        /* trailing newline (as from a file or env) is fine */
        tkms_buf_append(&text, "\n", 1);
        TU_CHECK(tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, NULL, NULL).code == TKMS_SEAL_OK);
        tkms_buf_free(&out);
        text.len--;
        /* another app's key, the wrong expected app, another MPK */
        TU_CHECK(tkms_unseal(&out, NULL, (const char *)text.p, text.len, other_key, NULL, NULL).code == TKMS_SEAL_E_INPUT);
        TU_CHECK(tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, other_app, NULL).code == TKMS_SEAL_E_INPUT);
        uint8_t mpk2[96];
        g2_affine_t g2a = G2_GENERATOR;
        g2_serialize(mpk2, &g2a);
        TU_CHECK(tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, NULL, mpk2).code == TKMS_SEAL_E_INPUT);
        /* each refusal comes from its own check (a later check failing instead would hide a missing one) */
        tkms_status e = tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, other_app, mpk);
        TU_CHECK(e.code == TKMS_SEAL_E_INPUT && strcmp(e.msg, "sealed to another app") == 0);
        TU_CHECK(e.cls == TKMS_CLASS_INPUT); /* the class the caller acts on (tkms/common.h) */
        e = tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, app, mpk2);
        TU_CHECK(e.code == TKMS_SEAL_E_INPUT && strcmp(e.msg, "sealed under another cluster key") == 0);
        e = tkms_unseal(&out, NULL, (const char *)text.p, text.len, wrong_key, app, mpk);
        if (e.code != TKMS_SEAL_E_INPUT || strcmp(e.msg, "the app key does not verify against the MPK") != 0)
            fprintf(stderr, "wrong app key with the MPK: %s\n", e.msg);
        TU_CHECK(e.code == TKMS_SEAL_E_INPUT && strcmp(e.msg, "the app key does not verify against the MPK") == 0);
        e = tkms_unseal(&out, NULL, (const char *)text.p, text.len, other_key, NULL, mpk);
        TU_CHECK(e.code == TKMS_SEAL_E_INPUT && strcmp(e.msg, "the app key does not verify against the MPK") == 0);
        /* without the MPK only the decryption can tell */
        e = tkms_unseal(&out, NULL, (const char *)text.p, text.len, wrong_key, app, NULL);
        TU_CHECK(e.code == TKMS_SEAL_E_INPUT && strstr(e.msg, "cannot open the data key") != NULL);
        TU_CHECK(out.len == 0);
        /* truncations and single-character modifications anywhere */
        for (int r = 0; r < (n > 100000 ? 4 : 40); r++) {
            size_t cut = 6 + (size_t)(tu_rand64() % (text.len - 6));
            TU_CHECK(tkms_unseal(&out, NULL, (const char *)text.p, cut, key, NULL, NULL).code == TKMS_SEAL_E_INPUT);
            size_t pos = 6 + (size_t)(tu_rand64() % (text.len - 6));
            uint8_t saved = text.p[pos];
            text.p[pos] = saved == 'A' ? 'B' : 'A';
            tkms_status st = tkms_unseal(&out, NULL, (const char *)text.p, text.len, key, NULL, NULL);
            /* the only modification that can survive is of the last character's unused bits,
             * which strict base64 rejects as well */
            TU_CHECK(st.code == TKMS_SEAL_E_INPUT);
            text.p[pos] = saved;
        }
        TU_CHECK(tkms_unseal(&out, NULL, "tkms2:AAAA", 10, key, NULL, NULL).code == TKMS_SEAL_E_INPUT);
        TU_CHECK(tkms_unseal(&out, NULL, "tkms1:", 6, key, NULL, NULL).code == TKMS_SEAL_E_INPUT);
        tkms_buf_free(&text);
        free(pt);
    }
    /* bad MPK (identity / garbage) and oversized input are rejected before any work */
    uint8_t badmpk[96] = {0xc0};
    tkms_buf t = {0};
    TU_CHECK(tkms_seal(&t, badmpk, app, "", (const uint8_t *)"x", 1).code == TKMS_SEAL_E_INPUT);
    TU_CHECK(tkms_seal(&t, mpk, app, "", (const uint8_t *)"x", TKMS_SEAL_MAX_PLAINTEXT + 1).code == TKMS_SEAL_E_INPUT);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[299] = 0;
    TU_CHECK(tkms_seal(&t, mpk, app, longname, (const uint8_t *)"x", 1).code == TKMS_SEAL_E_USAGE);
    TU_CHECK(tkms_seal(&t, mpk, app, longname, (const uint8_t *)"x", 1).cls == TKMS_CLASS_USAGE);
    fprintf(stderr, "seal: round trips and negatives ok\n");
    return 0;
}
