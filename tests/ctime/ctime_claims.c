/* Constant-time claims beyond the BLS core (issue 13, item 9), the technique of ctime_bls.c: secrets
 * are marked undefined with memcheck's client requests, the function under test runs, and any
 * branch or memory index on them is a memcheck error (ctest runs each case as
 * `valgrind --error-exitcode=1 test_ctime_claims CASE`, label ctime). Results are marked defined
 * only once the function is done, and then checked against a variable-time reference, so that a
 * case also fails if it computed the wrong thing.
 * Values public by design (a verdict: "the share checks", "the AEAD tag matches"; a public key) are
 * declassified where they leave a library by tests/ctime/declassify_wrap.c (-Wl,--wrap), and the
 * documented exceptions by tests/ctime/ctime.supp, one commented entry each.
 * Cases (argv[1]): tbls appkey ibe hpke bip39 bip32 bip32_xprv unhex (ctime_dkg.c: the engine);
 * bip32_xprv covers base58 encoding of an xprv (tkms_base58_encode). */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "appkey.h"
#include "bls_internal.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "hpke.h"
#include "ibe.h"
#include "prim.h"
#include "tbls.h"
#include "testutil.h"
#include "tkms/wallet.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static void declassify(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

#define N 4
#define T 3
static uint64_t scratch_buf[1 << 14];

static const uint8_t DST_SIG[] = "TKMS-CTIME-TEST_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

static void rand_fr(fr_t *s) {
    uint8_t w[64];
    tu_randbytes(w, sizeof w);
    fr_from_bytes_wide(s, w, sizeof w);
}

static void g1_mul_fr_vartime(g1_t *r, const g1_t *p, const fr_t *s) {
    uint64_t k[4];
    fr_to_scalar(k, s);
    g1_mul_vartime(r, p, k);
}

/* tbls_deal with an undefined secret and seed; tbls_verify_share and tbls_partial_sign with an
 * undefined share; tbls_combine of undefined partials (partial app keys are secrets). */
static void ct_tbls(void) {
    fr_t secret, secret_pub, shares[N];
    g2_affine_t C[T];
    uint8_t seed[32];
    rand_fr(&secret_pub);
    secret = secret_pub;
    tu_randbytes(seed, sizeof seed);
    TU_CHECK(tbls_scratch_size(N) <= sizeof scratch_buf);
    SECRET(&secret, sizeof secret);
    SECRET(seed, sizeof seed);
    TU_CHECK(tbls_deal(shares, C, &secret, seed, T, N, scratch_buf));
    /* the commitments are published (the deal message): public from here on */
    PUBLIC(C, sizeof C);

    /* Feldman check of each (still secret) share: only the verdict becomes public */
    for (uint32_t i = 0; i < N; i++) {
        int ok = tbls_verify_share(&shares[i], i + 1, C, T);
        PUBLIC(&ok, sizeof ok);
        TU_CHECK(ok == 1);
    }

    /* partials on a public message by the secret shares, then combined while still secret */
    tbls_partial parts[T];
    g1_t hm, p;
    h2c_hash_to_g1(&hm, (const uint8_t *)"ctime", 5, DST_SIG, sizeof DST_SIG - 1);
    for (uint32_t i = 0; i < T; i++) {
        tbls_partial_sign_hashed(&p, &shares[i + 1], &hm);
        g1_to_affine(&parts[i].sig, &p);
        parts[i].index = i + 2; /* public: indices 2..4 */
        PUBLIC(&parts[i].index, sizeof parts[i].index);
    }
    g1_t sig, want;
    TU_CHECK(tbls_combine(&sig, parts, T, scratch_buf));
    PUBLIC(&sig, sizeof sig);
    PUBLIC(shares, sizeof shares);
    g1_mul_fr_vartime(&want, &hm, &secret_pub);
    TU_CHECK(g1_eq(&sig, &want));
    /* and the shares really are the polynomial's values behind C */
    for (uint32_t i = 0; i < N; i++) TU_CHECK(tbls_verify_share(&shares[i], i + 1, C, T));
}

/* appkey_partial: K_A,i = s_i * H(app_id) with an undefined share. */
static void ct_appkey(void) {
    fr_t s, s_pub;
    uint8_t app_id[APPKEY_ID_BYTES];
    rand_fr(&s_pub);
    s = s_pub;
    tu_randbytes(app_id, sizeof app_id);
    SECRET(&s, sizeof s);
    g1_t k, q, want;
    appkey_partial(&k, &s, app_id);
    PUBLIC(&k, sizeof k);
    appkey_identity_point(&q, app_id);
    g1_mul_fr_vartime(&want, &q, &s_pub);
    TU_CHECK(g1_eq(&k, &want));
    /* the check against PK_i = s_i * G2 */
    g2_t pk;
    g2_affine_t pka;
    g1_affine_t ka;
    uint64_t sc[4];
    fr_to_scalar(sc, &s_pub);
    g2_from_affine(&pk, &G2_GENERATOR);
    g2_mul_vartime(&pk, &pk, sc);
    g2_to_affine(&pka, &pk);
    g1_to_affine(&ka, &k);
    TU_CHECK(appkey_verify(&ka, app_id, &pka));
}

/* IBE (MPK in G2, the tkms orientation): encrypt with an undefined message and sigma, decrypt with
 * an undefined identity key (the app key K_A = s * H(id)). */
static void ct_ibe(void) {
    fr_t s;
    uint64_t sc[4];
    rand_fr(&s);
    fr_to_scalar(sc, &s);
    g2_t mpk;
    g2_affine_t mpka;
    g2_from_affine(&mpk, &G2_GENERATOR);
    g2_mul_vartime(&mpk, &mpk, sc);
    g2_to_affine(&mpka, &mpk);
    static const uint8_t id[] = "ctime-identity";
    g1_t q, key;
    g1_affine_t keya;
    h2c_hash_to_g1(&q, id, sizeof id - 1, DST_SIG, sizeof DST_SIG - 1);
    g1_mul_vartime(&key, &q, sc);
    g1_to_affine(&keya, &key);

    uint8_t msg[32], msg_pub[32], sigma[32], ct[96 + 64], out[32];
    tu_randbytes(msg_pub, sizeof msg_pub);
    tu_randbytes(sigma, sizeof sigma);
    memcpy(msg, msg_pub, sizeof msg);
    SECRET(msg, sizeof msg);
    SECRET(sigma, sizeof sigma);
    int ok = ibe_encrypt_mpk_g2(ct, &mpka, DST_SIG, sizeof DST_SIG - 1, id, sizeof id - 1, msg, sizeof msg, sigma);
    PUBLIC(&ok, sizeof ok);
    TU_CHECK(ok == 1);
    PUBLIC(ct, sizeof ct); /* the ciphertext is public */

    SECRET(&keya, sizeof keya);
    ok = ibe_decrypt_mpk_g2(out, &keya, ct, sizeof ct);
    PUBLIC(&ok, sizeof ok);
    PUBLIC(out, sizeof out);
    TU_CHECK(ok == 1);
    TU_CHECK(memcmp(out, msg_pub, sizeof out) == 0);
}

/* HPKE single-shot open with an undefined recipient key (and the plaintext it yields). */
static void ct_hpke(void) {
    uint8_t ikm[32], sk[32], pk[32], ikm_e[32], pt[32], ct[32 + 32 + 16], out[32];
    static const uint8_t info[] = "ctime info", aad[] = "ctime aad";
    tu_randbytes(ikm, sizeof ikm);
    tu_randbytes(ikm_e, sizeof ikm_e);
    tu_randbytes(pt, sizeof pt);
    TU_CHECK(tkms_hpke_derive_keypair(sk, pk, ikm, sizeof ikm));
    TU_CHECK(tkms_hpke_seal(ct, pk, info, sizeof info - 1, aad, sizeof aad - 1, pt, sizeof pt, ikm_e));
    SECRET(sk, sizeof sk);
    int ok = tkms_hpke_open(out, sk, info, sizeof info - 1, aad, sizeof aad - 1, ct, sizeof ct);
    PUBLIC(&ok, sizeof ok);
    PUBLIC(out, sizeof out);
    TU_CHECK(ok == 1);
    TU_CHECK(memcmp(out, pt, sizeof pt) == 0);
    /* a forged ciphertext: the same work, and only the verdict differs */
    ct[40] ^= 1;
    ok = tkms_hpke_open(out, sk, info, sizeof info - 1, aad, sizeof aad - 1, ct, sizeof ct);
    PUBLIC(&ok, sizeof ok);
    TU_CHECK(ok == 0);
}

/* BIP-39: entropy -> mnemonic (word selection by a masked scan of the list), mnemonic -> seed
 * (word lookup, checksum, PBKDF2) with undefined entropy / mnemonic. */
static void ct_bip39(void) {
    uint8_t ent[32], ent_pub[32], seed[TKMS_BIP39_SEED_LEN], seed2[TKMS_BIP39_SEED_LEN];
    char words[TKMS_BIP39_MNEMONIC_MAX], words_pub[TKMS_BIP39_MNEMONIC_MAX];
    tu_randbytes(ent_pub, sizeof ent_pub);
    memcpy(ent, ent_pub, sizeof ent);
    SECRET(ent, sizeof ent);
    TU_CHECK(tkms_bip39_from_entropy(words, sizeof words, ent, sizeof ent) == TKMS_WALLET_OK);
    memcpy(words_pub, words, sizeof words);
    PUBLIC(words_pub, sizeof words_pub);
    size_t wl = strlen(words_pub) + 1;
    SECRET(words, wl);
    tkms_wallet_status st = tkms_bip39_seed(seed, words, "passphrase");
    PUBLIC(&st, sizeof st);
    TU_CHECK(st == TKMS_WALLET_OK);
    PUBLIC(seed, sizeof seed);
    TU_CHECK(tkms_bip39_seed(seed2, words_pub, "passphrase") == TKMS_WALLET_OK);
    TU_CHECK(memcmp(seed, seed2, sizeof seed) == 0);
    uint8_t back[32];
    size_t bl = 0;
    TU_CHECK(tkms_bip39_to_entropy(back, &bl, sizeof back, words_pub) == TKMS_WALLET_OK);
    TU_CHECK(bl == 32 && memcmp(back, ent_pub, 32) == 0);
}

/* BIP-32: master key from an undefined seed, hardened and normal child derivation along a path,
 * and the xprv encoding (base58check), all on undefined key material. */
static void ct_bip32_run(int xprv) {
    uint8_t seed[64], seed_pub[64];
    tkms_hdkey m, k, m2, k2;
    char x[128], x2[128];
    tu_randbytes(seed_pub, sizeof seed_pub);
    memcpy(seed, seed_pub, sizeof seed);
    SECRET(seed, sizeof seed);
    tkms_wallet_status st = tkms_bip32_master(&m, seed, sizeof seed);
    PUBLIC(&st, sizeof st);
    TU_CHECK(st == TKMS_WALLET_OK);
    PUBLIC(&m.is_private, sizeof m.is_private);
    PUBLIC(&m.depth, sizeof m.depth);
    st = tkms_bip32_derive_path(&k, &m, "m/44'/0'/0'/0/7");
    PUBLIC(&st, sizeof st);
    TU_CHECK(st == TKMS_WALLET_OK);
    PUBLIC(&k.is_private, sizeof k.is_private);
    if (xprv) { /* the xprv encoding (base58check) of the still secret key */
        st = tkms_bip32_serialize(x, sizeof x, &k, TKMS_BIP32_VERSION_XPRV);
        PUBLIC(&st, sizeof st);
        TU_CHECK(st == TKMS_WALLET_OK);
    }
    PUBLIC(&k, sizeof k);
    if (!xprv) TU_CHECK(tkms_bip32_serialize(x, sizeof x, &k, TKMS_BIP32_VERSION_XPRV) == TKMS_WALLET_OK);
    PUBLIC(x, sizeof x);
    /* reference: the same derivation on defined data */
    TU_CHECK(tkms_bip32_master(&m2, seed_pub, sizeof seed_pub) == TKMS_WALLET_OK);
    TU_CHECK(tkms_bip32_derive_path(&k2, &m2, "m/44'/0'/0'/0/7") == TKMS_WALLET_OK);
    TU_CHECK(tkms_bip32_serialize(x2, sizeof x2, &k2, TKMS_BIP32_VERSION_XPRV) == TKMS_WALLET_OK);
    TU_CHECK(strcmp(x, x2) == 0);
    tkms_hdkey_wipe(&m);
    tkms_hdkey_wipe(&k);
}
static void ct_bip32(void) { ct_bip32_run(0); }
static void ct_bip32_xprv(void) { ct_bip32_run(1); }

/* tkms_unhex on undefined digits (both cases, and lower-only), then on a bad digit: the rejection
 * is found without a branch per digit; only the verdict is public. */
static void ct_unhex(void) {
    uint8_t raw[32], out[32];
    char hex[65], up[65];
    tu_randbytes(raw, sizeof raw);
    tkms_hex(hex, raw, sizeof raw);
    for (int i = 0; i < 64; i++) up[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
    up[64] = 0;
    SECRET(hex, 64);
    SECRET(up, 64);
    int ok1 = tkms_unhex(out, sizeof out, hex, 64, TKMS_HEX_LOWER_ONLY);
    PUBLIC(&ok1, sizeof ok1);
    PUBLIC(out, sizeof out);
    TU_CHECK(ok1 == 1 && memcmp(out, raw, 32) == 0);
    int ok2 = tkms_unhex(out, sizeof out, up, 64, 0);
    PUBLIC(&ok2, sizeof ok2);
    PUBLIC(out, sizeof out);
    TU_CHECK(ok2 == 1 && memcmp(out, raw, 32) == 0);
    up[17] = 'g';
    SECRET(up, 64);
    int ok3 = tkms_unhex(out, sizeof out, up, 64, 0);
    PUBLIC(&ok3, sizeof ok3);
    TU_CHECK(ok3 == 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} CASES[] = {{"tbls", ct_tbls},   {"appkey", ct_appkey}, {"ibe", ct_ibe},     {"hpke", ct_hpke},
             {"bip39", ct_bip39}, {"bip32", ct_bip32},   {"bip32_xprv", ct_bip32_xprv}, {"unhex", ct_unhex}};

int main(int argc, char **argv) {
    tu_seed();
    tkms_ct_declassify_hook = declassify;
    if (!RUNNING_ON_VALGRIND)
        fprintf(stderr, "test_ctime_claims: not under valgrind; only the functional checks run\n");
    int ran = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        if (argc < 2 || strcmp(argv[1], CASES[i].name) == 0) {
            CASES[i].fn();
            printf("test_ctime_claims %s: ok\n", CASES[i].name);
            ran++;
        }
    if (!ran) {
        fprintf(stderr, "test_ctime_claims: unknown case %s\n", argv[1]);
        return 2;
    }
    return 0;
}
