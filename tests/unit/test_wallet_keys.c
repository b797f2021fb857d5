/* Data keys, TLS keys/certificates and the streaming data-at-rest format: known answers from the
 * npm oracles, determinism, domain rules, and every kind of tampering the format must catch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tkms/wallet.h"
#include "testutil.h"
#include "wallet_test.h"

static void seed_of(uint8_t seed[64], const char *mnemonic) {
    assert_int_equal(tkms_bip39_seed(seed, mnemonic, ""), TKMS_WALLET_OK);
}

static void test_data_keys(void **state) {
    (void)state;
    json_t *all = wt_load_json("tkms-wallet.json"), *v;
    size_t i;
    assert_true(json_array_size(json_object_get(all, "data_keys")) >= 8);
    json_array_foreach(json_object_get(all, "data_keys"), i, v) {
        uint8_t seed[64], key[32];
        seed_of(seed, wt_str(v, "mnemonic"));
        assert_int_equal(tkms_data_key(key, seed, 64, wt_str(v, "label")), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(key, 32), wt_str(v, "key"));
    }
    json_decref(all);
}

static EVP_PKEY *read_key(const char *pem) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

static void test_tls(void **state) {
    (void)state;
    json_t *all = wt_load_json("tkms-wallet.json"), *v;
    size_t i;
    assert_true(json_array_size(json_object_get(all, "tls")) >= 6);
    json_array_foreach(json_object_get(all, "tls"), i, v) {
        uint8_t seed[64], d[32];
        const char *domain = wt_str(v, "domain");
        seed_of(seed, wt_str(v, "mnemonic"));
        assert_int_equal(tkms_tls_scalar(d, seed, 64, domain), TKMS_WALLET_OK);
        assert_string_equal(wt_hex(d, 32), wt_str(v, "scalar"));

        char *key = NULL, *cert = NULL, *key2 = NULL, *csr = NULL;
        assert_int_equal(tkms_tls_issue(&key, &cert, seed, 64, domain, 0, 1700000000, 30), TKMS_WALLET_OK);
        assert_int_equal(tkms_tls_issue(&key2, &csr, seed, 64, domain, 1, 1700000000, 30), TKMS_WALLET_OK);
        /* deterministic key: same PEM both times */
        assert_string_equal(key, key2);
        EVP_PKEY *pk = read_key(key);
        assert_non_null(pk);
        uint8_t pub[65];
        size_t plen = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(pk, "encoded-pub-key", pub, sizeof pub, &plen), 1);
        assert_string_equal(wt_hex(pub, plen), wt_str(v, "public_key_uncompressed"));
        BIGNUM *priv = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pk, "priv", &priv), 1);
        uint8_t pb[32];
        assert_int_equal(BN_bn2binpad(priv, pb, 32), 32);
        assert_memory_equal(pb, d, 32);
        BN_clear_free(priv);

        /* certificate: self-signed by that key, SAN = the domain, validity as asked */
        BIO *b = BIO_new_mem_buf(cert, -1);
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(x);
        assert_int_equal(X509_verify(x, pk), 1);
        assert_int_equal(X509_check_host(x, domain[0] == '*' ? domain + 2 : domain, 0, 0, NULL),
                         domain[0] == '*' ? 0 : 1);
        if (domain[0] == '*') {
            char sub[300];
            snprintf(sub, sizeof sub, "www.%s", domain + 2);
            assert_int_equal(X509_check_host(x, sub, 0, 0, NULL), 1);
        }
        assert_int_equal(X509_check_host(x, "other.invalid", 0, 0, NULL), 0);
        assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &(time_t){1700000000 - 3599}), -1);
        assert_int_equal(X509_cmp_time(X509_get0_notAfter(x), &(time_t){1700000000 + 30 * 86400 - 1}), 1);
        assert_int_equal(X509_cmp_time(X509_get0_notAfter(x), &(time_t){1700000000 + 30 * 86400 + 1}), -1);
        X509_free(x);
        /* CSR: signed by the key, carries the SAN */
        b = BIO_new_mem_buf(csr, -1);
        X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(req);
        assert_int_equal(X509_REQ_verify(req, pk), 1);
        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        assert_non_null(exts);
        GENERAL_NAMES *gens = NULL;
        for (int e = 0; e < sk_X509_EXTENSION_num(exts); e++) {
            X509_EXTENSION *ex = sk_X509_EXTENSION_value(exts, e);
            if (OBJ_obj2nid(X509_EXTENSION_get_object(ex)) == NID_subject_alt_name) gens = X509V3_EXT_d2i(ex);
        }
        assert_non_null(gens);
        assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
        assert_int_equal(g->type, GEN_DNS);
        assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), domain);
        GENERAL_NAMES_free(gens);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);
        EVP_PKEY_free(pk);
        free(key);
        free(key2);
        free(cert);
        free(csr);
    }
    json_decref(all);
}

static void test_tls_domains(void **state) {
    (void)state;
    const char *good[] = {"a", "example.com", "xn--bcher-kva.example", "a-b.c-d.e", "*.example.com", "EXAMPLE.com"};
    const char *bad[] = {"", ".", "a..b", "-a.com", "a-.com", "a.com.", "a b.com", "a_b.com", "*.com", "*", "a.*.com",
                         "ex\xc3\xa4mple.com", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!tkms_tls_domain_ok(good[i])) fail_msg("rejected %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tkms_tls_domain_ok(bad[i])) fail_msg("accepted %s", bad[i]);
    uint8_t seed[64] = {1}, d[32], d2[32];
    assert_int_equal(tkms_tls_scalar(d, seed, 64, "a_b.com"), TKMS_WALLET_EDOMAIN);
    /* different domains, different keys; same domain, same key */
    assert_int_equal(tkms_tls_scalar(d, seed, 64, "a.example"), TKMS_WALLET_OK);
    assert_int_equal(tkms_tls_scalar(d2, seed, 64, "b.example"), TKMS_WALLET_OK);
    assert_memory_not_equal(d, d2, 32);
    assert_int_equal(tkms_tls_scalar(d2, seed, 64, "a.example"), TKMS_WALLET_OK);
    assert_memory_equal(d, d2, 32);
}

/* ---- data file format ---- */

static uint8_t KEY[32] = {7, 7, 7};

/* Encrypts pt in chunks of cs; returns a malloc'd file image. */
static uint8_t *seal(size_t *out_len, const uint8_t *pt, size_t n, uint32_t cs) {
    tkms_datafile st;
    uint8_t salt[32];
    tu_randbytes(salt, 32);
    size_t chunks = n / cs + 1;
    uint8_t *out = malloc(TKMS_DATAFILE_HEADER_LEN + n + chunks * TKMS_DATAFILE_TAG_LEN);
    assert_int_equal(tkms_datafile_encrypt_init(&st, out, KEY, cs, salt), TKMS_WALLET_OK);
    size_t o = TKMS_DATAFILE_HEADER_LEN, off = 0;
    for (;;) {
        size_t take = n - off > cs ? cs : n - off;
        int last = off + take == n;
        assert_int_equal(tkms_datafile_encrypt_chunk(&st, out + o, pt + off, take, last), TKMS_WALLET_OK);
        o += take + TKMS_DATAFILE_TAG_LEN;
        off += take;
        if (last) break;
    }
    /* nothing after the last chunk */
    assert_int_equal(tkms_datafile_encrypt_chunk(&st, out + o, pt, 0, 1), TKMS_WALLET_EARG);
    tkms_datafile_wipe(&st);
    *out_len = o;
    return out;
}

/* Decrypts a file image the way the CLI reads a stream; returns the status, plaintext in *pt. */
static tkms_wallet_status open_(uint8_t **pt, size_t *pt_len, const uint8_t *f, size_t n, const uint8_t key[32]) {
    tkms_datafile st;
    *pt = NULL;
    *pt_len = 0;
    if (n < TKMS_DATAFILE_HEADER_LEN) return TKMS_WALLET_EFORMAT;
    tkms_wallet_status s = tkms_datafile_decrypt_init(&st, f, key);
    if (s != TKMS_WALLET_OK) return s;
    uint8_t *out = malloc(n + 1);
    size_t o = 0, off = TKMS_DATAFILE_HEADER_LEN, full = st.chunk_size + TKMS_DATAFILE_TAG_LEN;
    for (;;) {
        size_t take = n - off > full ? full : n - off;
        int last = off + take == n;
        s = tkms_datafile_decrypt_chunk(&st, out + o, f + off, take, last);
        if (s != TKMS_WALLET_OK) break;
        o += take - TKMS_DATAFILE_TAG_LEN;
        off += take;
        if (last) break;
    }
    tkms_datafile_wipe(&st);
    if (s != TKMS_WALLET_OK) {
        free(out);
        return s;
    }
    *pt = out;
    *pt_len = o;
    return TKMS_WALLET_OK;
}

static void test_datafile_roundtrip(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 63, 64, 65, 127, 128, 129, 1000, 4096};
    static const uint32_t chunks[] = {64, 100, 4096};
    uint8_t *pt = malloc(4096);
    tu_randbytes(pt, 4096);
    for (size_t c = 0; c < 3; c++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = 0, m = 0;
            uint8_t *f = seal(&n, pt, sizes[s], chunks[c]), *back = NULL;
            size_t nchunks = sizes[s] / chunks[c] + (sizes[s] % chunks[c] || sizes[s] == 0 ? 1 : 0);
            assert_int_equal(n, TKMS_DATAFILE_HEADER_LEN + sizes[s] + nchunks * TKMS_DATAFILE_TAG_LEN);
            assert_int_equal(open_(&back, &m, f, n, KEY), TKMS_WALLET_OK);
            assert_int_equal(m, sizes[s]);
            if (m) assert_memory_equal(back, pt, m);
            free(back);
            /* metamorphic: two encryptions of the same data differ (fresh salt), both open */
            size_t n2 = 0;
            uint8_t *f2 = seal(&n2, pt, sizes[s], chunks[c]);
            assert_int_equal(n2, n);
            assert_memory_not_equal(f, f2, n);
            free(f2);
            free(f);
        }
    free(pt);
}

static void test_datafile_tamper(void **state) {
    (void)state;
    enum { CS = 64, N = 200 }; /* four chunks: 64, 64, 64, 8 */
    uint8_t pt[N], *back;
    size_t n = 0, m;
    tu_randbytes(pt, N);
    uint8_t *f = seal(&n, pt, N, CS);
    assert_int_equal(open_(&back, &m, f, n, KEY), TKMS_WALLET_OK);
    free(back);
    /* every single-bit flip anywhere (header included) is caught */
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            f[i] ^= (uint8_t)(1 << bit);
            tkms_wallet_status s = open_(&back, &m, f, n, KEY);
            if (s == TKMS_WALLET_OK) fail_msg("bit flip at byte %zu bit %d accepted", i, bit);
            f[i] ^= (uint8_t)(1 << bit);
        }
    /* every truncation, at chunk boundaries too */
    for (size_t len = 0; len < n; len++) {
        tkms_wallet_status s = open_(&back, &m, f, len, KEY);
        if (s == TKMS_WALLET_OK) fail_msg("truncation to %zu bytes accepted", len);
    }
    /* appended bytes and an appended copy of a chunk */
    uint8_t *g = malloc(n + CS + 16);
    memcpy(g, f, n);
    g[n] = 0;
    assert_int_not_equal(open_(&back, &m, g, n + 1, KEY), TKMS_WALLET_OK);
    memcpy(g + n, f + TKMS_DATAFILE_HEADER_LEN, CS + 16);
    assert_int_not_equal(open_(&back, &m, g, n + CS + 16, KEY), TKMS_WALLET_OK);
    /* swapping two full chunks, and dropping a middle chunk */
    const size_t H = TKMS_DATAFILE_HEADER_LEN, C = CS + 16;
    memcpy(g, f, n);
    memcpy(g + H, f + H + C, C);
    memcpy(g + H + C, f + H, C);
    assert_int_equal(open_(&back, &m, g, n, KEY), TKMS_WALLET_EAUTH);
    assert_true(n > H + 2 * C);
    size_t rest = n - H - 2 * C;
    memcpy(g, f, H + C);
    memcpy(g + H + C, f + H + 2 * C, rest);
    assert_int_equal(open_(&back, &m, g, n - C, KEY), TKMS_WALLET_EAUTH);
    /* splicing the first chunk of another file under the same key */
    size_t n3 = 0;
    uint8_t *f3 = seal(&n3, pt, N, CS);
    memcpy(g, f, n);
    memcpy(g + H, f3 + H, C);
    assert_int_equal(open_(&back, &m, g, n, KEY), TKMS_WALLET_EAUTH);
    /* wrong key, bad magic, unknown version, bad chunk size */
    uint8_t other[32] = {8};
    assert_int_equal(open_(&back, &m, f, n, other), TKMS_WALLET_EAUTH);
    memcpy(g, f, n);
    g[0] ^= 1;
    assert_int_equal(open_(&back, &m, g, n, KEY), TKMS_WALLET_EFORMAT);
    memcpy(g, f, n);
    g[8] = 2;
    assert_int_equal(open_(&back, &m, g, n, KEY), TKMS_WALLET_EFORMAT);
    memcpy(g, f, n);
    g[12] = 0xff;
    assert_int_equal(open_(&back, &m, g, n, KEY), TKMS_WALLET_EFORMAT);
    free(f3);
    free(g);
    free(f);
}

static void test_datafile_api_misuse(void **state) {
    (void)state;
    tkms_datafile st;
    uint8_t h[TKMS_DATAFILE_HEADER_LEN], salt[32] = {0}, buf[200];
    assert_int_equal(tkms_datafile_encrypt_init(&st, h, KEY, 63, salt), TKMS_WALLET_EARG);
    assert_int_equal(tkms_datafile_encrypt_init(&st, h, KEY, TKMS_DATAFILE_CHUNK_MAX + 1, salt), TKMS_WALLET_EARG);
    assert_int_equal(tkms_datafile_encrypt_init(&st, h, KEY, 64, salt), TKMS_WALLET_OK);
    /* a non-last chunk must be full; a last chunk may not exceed the chunk size */
    assert_int_equal(tkms_datafile_encrypt_chunk(&st, buf, buf, 10, 0), TKMS_WALLET_EARG);
    assert_int_equal(tkms_datafile_encrypt_chunk(&st, buf, buf, 65, 1), TKMS_WALLET_EARG);
    tkms_datafile_wipe(&st);
}

int main(void) {
    tu_seed(); /* random test data: reproducible from the printed seed */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_keys),          cmocka_unit_test(test_tls),
        cmocka_unit_test(test_tls_domains),        cmocka_unit_test(test_datafile_roundtrip),
        cmocka_unit_test(test_datafile_tamper),    cmocka_unit_test(test_datafile_api_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
