/* Threshold BLS and app keys on BLS12-381: round trips for every (t, n) with n <= 10 and every
 * t-subset, random n up to 256, t-1 partials never verify, combine == master-secret signing, batch
 * verification == one-by-one with every bad partial named, robust combine, app-key checks, and
 * rejection of off-curve / non-subgroup / identity encodings. */
#include <stdlib.h>
#include <string.h>

#include "appkey.h"
#include "h2c.h"
#include "tbls.h"
#include "testutil.h"

static void *scratch;
static const uint8_t DST[] = "TKMS-V1-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

static void rand_fr(fr_t *r) {
    uint8_t b[64];
    tu_randbytes(b, sizeof b);
    fr_from_bytes_wide(r, b, sizeof b);
}

static void hash_msg(g1_t *hm, g1_affine_t *hma, const uint8_t *msg, size_t len) {
    h2c_hash_to_g1(hm, msg, len, DST, sizeof DST - 1);
    g1_to_affine(hma, hm);
}

static void to_aff(g1_affine_t *a, const g1_t *p) { g1_to_affine(a, p); }

static int g1a_eq(const g1_affine_t *a, const g1_affine_t *b) {
    uint8_t x[48], y[48];
    g1_serialize(x, a);
    g1_serialize(y, b);
    return memcmp(x, y, 48) == 0;
}

/* The reference: signing with the master secret itself. */
static void master_sign(g1_affine_t *out, const fr_t *s, const g1_t *hm) {
    g1_t r;
    tbls_partial_sign_hashed(&r, s, hm);
    to_aff(out, &r);
}

typedef struct {
    size_t t, n;
    fr_t secret;
    fr_t shares[256];
    g2_affine_t comm[256];
    g2_affine_t pks[256];
    g2_affine_t mpk;
} dealing;

static void deal(dealing *d, size_t t, size_t n) {
    uint8_t seed[32];
    d->t = t;
    d->n = n;
    rand_fr(&d->secret);
    tu_randbytes(seed, sizeof seed);
    TU_CHECK(tbls_deal(d->shares, d->comm, &d->secret, seed, t, n, scratch));
    tbls_public_shares(d->pks, d->comm, t, n, scratch);
    d->mpk = d->comm[0];
}

static void make_partials(tbls_partial *parts, const dealing *d, const g1_t *hm) {
    for (size_t i = 0; i < d->n; i++) {
        g1_t s;
        tbls_partial_sign_hashed(&s, &d->shares[i], hm);
        parts[i].index = (uint32_t)(i + 1);
        to_aff(&parts[i].sig, &s);
    }
}

static size_t popcount(unsigned v) {
    size_t c = 0;
    for (; v; v >>= 1) c += v & 1;
    return c;
}

static void test_small_exhaustive_subsets(void) {
    uint8_t msg[] = "every subset";
    g1_t hm;
    g1_affine_t hma, want, got_a;
    static dealing d;
    tbls_partial parts[10], sub[10];
    size_t combos = 0;
    for (size_t n = 1; n <= 10; n++)
        for (size_t t = 1; t <= n; t++) {
            deal(&d, t, n);
            for (size_t i = 0; i < n; i++) TU_CHECK(tbls_verify_share(&d.shares[i], (uint32_t)(i + 1), d.comm, t));
            hash_msg(&hm, &hma, msg, sizeof msg - 1);
            master_sign(&want, &d.secret, &hm);
            make_partials(parts, &d, &hm);
            for (size_t i = 0; i < n; i++) TU_CHECK(tbls_verify_partial(&parts[i].sig, &hma, &d.pks[i]));
            for (unsigned mask = 1; mask < (1u << n); mask++) {
                size_t k = popcount(mask);
                if (k != t && k + 1 != t) continue;
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (mask & (1u << i)) sub[m++] = parts[i];
                g1_t got;
                TU_CHECK(tbls_combine_vartime(&got, sub, m, scratch));
                to_aff(&got_a, &got);
                if (k == t) {
                    TU_CHECK(g1a_eq(&got_a, &want));
                    TU_CHECK(tbls_verify_partial(&got_a, &hma, &d.mpk));
                    combos++;
                } else {
                    /* t-1 partials never give a signature that verifies under the MPK. */
                    TU_CHECK(g1_affine_is_identity(&got_a) || !tbls_verify_partial(&got_a, &hma, &d.mpk));
                }
            }
            /* The constant-time combine agrees with the MSM one. */
            g1_t a, b;
            TU_CHECK(tbls_combine(&a, parts, t, scratch));
            TU_CHECK(tbls_combine_vartime(&b, parts, t, scratch));
            TU_CHECK(g1_eq(&a, &b));
        }
    fprintf(stderr, "tbls: %zu t-subsets for n <= 10 combine to the master signature\n", combos);
}

static void test_random_large(void) {
    static dealing d;
    static tbls_partial parts[256], sub[256];
    for (int rep = 0; rep < 4; rep++) {
        size_t n = rep == 0 ? 256 : 11 + (size_t)(tu_rand64() % 246);
        size_t t = (2 * n + 2) / 3;
        if (rep == 3) t = n;
        deal(&d, t, n);
        uint8_t msg[32];
        tu_randbytes(msg, sizeof msg);
        g1_t hm;
        g1_affine_t hma, want, got_a;
        hash_msg(&hm, &hma, msg, sizeof msg);
        master_sign(&want, &d.secret, &hm);
        make_partials(parts, &d, &hm);
        /* a random t-subset, in random order */
        uint32_t perm[256];
        for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(tu_rand64() % (i + 1));
            uint32_t x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
        for (size_t i = 0; i < t; i++) sub[i] = parts[perm[i]];
        g1_t got;
        TU_CHECK(tbls_combine_vartime(&got, sub, t, scratch));
        to_aff(&got_a, &got);
        TU_CHECK(g1a_eq(&got_a, &want));
        uint8_t seed[32];
        tu_randbytes(seed, sizeof seed);
        g2_affine_t subpk[256];
        for (size_t i = 0; i < t; i++) subpk[i] = d.pks[perm[i]];
        TU_CHECK(tbls_batch_verify(&hma, sub, subpk, t, seed, scratch));
        if (t > 1) {
            TU_CHECK(tbls_combine_vartime(&got, sub, t - 1, scratch));
            to_aff(&got_a, &got);
            TU_CHECK(!tbls_verify_partial(&got_a, &hma, &d.mpk));
        }
        /* every share passes Feldman; a share from another epoch (a fresh dealing of the same
         * secret, as resharing produces) does not. */
        for (size_t i = 0; i < n; i += 17) TU_CHECK(tbls_verify_share(&d.shares[i], (uint32_t)(i + 1), d.comm, t));
        fprintf(stderr, "tbls: random n=%zu t=%zu ok\n", n, t);
    }
}

static void test_negatives(void) {
    static dealing d, e;
    deal(&d, 3, 5);
    /* another epoch: same secret, fresh polynomial */
    e = d;
    uint8_t seed[32];
    tu_randbytes(seed, sizeof seed);
    TU_CHECK(tbls_deal(e.shares, e.comm, &d.secret, seed, 3, 5, scratch));
    tbls_public_shares(e.pks, e.comm, 3, 5, scratch);
    g1_t hm, s;
    g1_affine_t hma, sa;
    hash_msg(&hm, &hma, (const uint8_t *)"m", 1);
    tbls_partial_sign_hashed(&s, &e.shares[1], &hm);
    to_aff(&sa, &s);
    TU_CHECK(tbls_verify_partial(&sa, &hma, &e.pks[1]));
    TU_CHECK(!tbls_verify_partial(&sa, &hma, &d.pks[1])); /* old epoch's PK_2 */
    TU_CHECK(!tbls_verify_partial(&sa, &hma, &e.pks[2])); /* wrong index */
    TU_CHECK(!tbls_verify_share(&e.shares[1], 2, d.comm, 3));
    TU_CHECK(!tbls_verify_share(&d.shares[1], 3, d.comm, 3));
    g1_affine_t hm2;
    g1_t h2;
    hash_msg(&h2, &hm2, (const uint8_t *)"n", 1);
    TU_CHECK(!tbls_verify_partial(&sa, &hm2, &e.pks[1])); /* other message */
    /* identity partial */
    g1_affine_t id;
    memset(&id, 0, sizeof id);
    TU_CHECK(!tbls_verify_partial(&id, &hma, &e.pks[1]));
    /* identity partial with an identity public share, or an identity message point: the pairing
     * equation holds trivially (e(O, G2) * e(-hm, O) = 1), so only the identity check refuses */
    g2_affine_t id2;
    memset(&id2, 0, sizeof id2);
    TU_CHECK(g1_affine_is_identity(&id) && g2_affine_is_identity(&id2));
    TU_CHECK(!tbls_verify_partial(&id, &hma, &id2));
    TU_CHECK(!tbls_verify_partial(&id, &id, &e.pks[1]));
    /* bad indices in combine */
    tbls_partial p[3];
    for (int i = 0; i < 3; i++) {
        p[i].index = (uint32_t)(i + 1);
        p[i].sig = sa;
    }
    g1_t out;
    p[2].index = 1;
    TU_CHECK(!tbls_combine(&out, p, 3, scratch));
    p[2].index = 0;
    TU_CHECK(!tbls_combine_vartime(&out, p, 3, scratch));
    TU_CHECK(!tbls_deal(e.shares, e.comm, &d.secret, seed, 0, 5, scratch));
    TU_CHECK(!tbls_deal(e.shares, e.comm, &d.secret, seed, 6, 5, scratch));

    /* Encodings: identity, off-curve and non-subgroup G1/G2 points never parse. */
    uint8_t b48[48] = {0xc0}, b96[96] = {0xc0};
    g1_affine_t a1;
    g2_affine_t a2;
    TU_CHECK(g1_deserialize(&a1, b48, 48, 0) == G1_ERR_IDENTITY);
    TU_CHECK(g2_deserialize(&a2, b96, 96, 0) == G2_ERR_IDENTITY);
    int off = 0, sub = 0;
    for (int i = 0; i < 200 && !(off && sub); i++) {
        tu_randbytes(b48, 48);
        b48[0] = (uint8_t)(0x80 | (b48[0] & 0x0f));
        g1_status st = g1_deserialize(&a1, b48, 48, 0);
        TU_CHECK(st != G1_OK); /* a random x is never in the prime-order subgroup */
        off |= st == G1_ERR_NOT_ON_CURVE;
        sub |= st == G1_ERR_SUBGROUP;
    }
    TU_CHECK(off && sub);
    off = sub = 0;
    for (int i = 0; i < 200 && !(off && sub); i++) {
        tu_randbytes(b96, 96);
        b96[0] = (uint8_t)(0x80 | (b96[0] & 0x0f));
        b96[48] &= 0x0f;
        g2_status st = g2_deserialize(&a2, b96, 96, 0);
        TU_CHECK(st != G2_OK);
        off |= st == G2_ERR_NOT_ON_CURVE;
        sub |= st == G2_ERR_SUBGROUP;
    }
    TU_CHECK(off && sub);
}

static void test_batch(void) {
    static dealing d;
    static tbls_partial parts[64];
    static g2_affine_t pks[64];
    uint8_t bad[64], seed[32];
    size_t checked = 0;
    for (int rep = 0; rep < 40; rep++) {
        size_t n = 1 + (size_t)(tu_rand64() % 40);
        size_t t = 1 + (size_t)(tu_rand64() % n);
        deal(&d, t, n);
        uint8_t msg[8];
        tu_randbytes(msg, sizeof msg);
        g1_t hm;
        g1_affine_t hma;
        hash_msg(&hm, &hma, msg, sizeof msg);
        make_partials(parts, &d, &hm);
        memcpy(pks, d.pks, n * sizeof pks[0]);
        int want_bad[64] = {0};
        unsigned mode = (unsigned)(tu_rand64() % 4); /* 0: all good; else density of bad ones */
        for (size_t i = 0; i < n; i++) {
            if (mode == 0 || tu_rand64() % (8 >> (mode - 1)) != 0) continue;
            want_bad[i] = 1;
            g1_t x;
            switch (tu_rand64() % 3) {
            case 0: { /* a share of another index */
                tbls_partial_sign_hashed(&x, &d.shares[(i + 1) % n], &hm);
                if (t == 1) { /* all shares equal the secret when t = 1 */
                    fr_t r;
                    rand_fr(&r);
                    tbls_partial_sign_hashed(&x, &r, &hm);
                }
                break;
            }
            case 1: { /* right share, other message */
                g1_t h2;
                h2c_hash_to_g1(&h2, (const uint8_t *)"other", 5, DST, sizeof DST - 1);
                tbls_partial_sign_hashed(&x, &d.shares[i], &h2);
                break;
            }
            default: { /* valid partial plus a random multiple of hm: cancels in naive sums */
                fr_t r;
                rand_fr(&r);
                g1_t y;
                tbls_partial_sign_hashed(&y, &r, &hm);
                g1_from_affine(&x, &parts[i].sig);
                g1_add(&x, &x, &y);
                break;
            }
            }
            to_aff(&parts[i].sig, &x);
        }
        tu_randbytes(seed, sizeof seed);
        size_t nb = tbls_batch_find_bad(bad, &hma, parts, pks, n, seed, scratch);
        size_t want_nb = 0;
        for (size_t i = 0; i < n; i++) {
            int one = tbls_verify_partial(&parts[i].sig, &hma, &pks[i]);
            TU_CHECK(one == !want_bad[i]);
            TU_CHECK(bad[i] == want_bad[i]);
            want_nb += (size_t)want_bad[i];
        }
        TU_CHECK(nb == want_nb);
        TU_CHECK(tbls_batch_verify(&hma, parts, pks, n, seed, scratch) == (want_nb == 0));
        /* robust combine over whatever is valid */
        g1_t sig;
        size_t nbad;
        int ok = tbls_robust_combine(&sig, bad, &nbad, &hma, parts, pks, n, t, seed, scratch);
        TU_CHECK(ok == (n - want_nb >= t));
        TU_CHECK(nbad == want_nb);
        if (ok) {
            g1_affine_t sa, want;
            to_aff(&sa, &sig);
            master_sign(&want, &d.secret, &hm);
            TU_CHECK(g1a_eq(&sa, &want));
        }
        checked += n;
    }
    /* A pair of bad partials that cancel each other (sig_1 + D, sig_2 - D) fools a plain sum but
     * not the random linear combination. */
    deal(&d, 2, 4);
    g1_t hm, dlt, x;
    g1_affine_t hma;
    hash_msg(&hm, &hma, (const uint8_t *)"cancel", 6);
    make_partials(parts, &d, &hm);
    fr_t r;
    rand_fr(&r);
    tbls_partial_sign_hashed(&dlt, &r, &hm);
    g1_from_affine(&x, &parts[0].sig);
    g1_add(&x, &x, &dlt);
    to_aff(&parts[0].sig, &x);
    g1_neg(&dlt, &dlt);
    g1_from_affine(&x, &parts[1].sig);
    g1_add(&x, &x, &dlt);
    to_aff(&parts[1].sig, &x);
    tu_randbytes(seed, sizeof seed);
    TU_CHECK(!tbls_batch_verify(&hma, parts, d.pks, 4, seed, scratch));
    TU_CHECK(tbls_batch_find_bad(bad, &hma, parts, d.pks, 4, seed, scratch) == 2);
    TU_CHECK(bad[0] && bad[1] && !bad[2] && !bad[3]);
    /* An identity partial under an identity public share adds nothing to either side of the batch
     * equation (nor of the single pairing check): it must be refused, not counted as a valid
     * partial. Honest partials around it still pass. */
    make_partials(parts, &d, &hm);
    g2_affine_t pk4[4];
    memcpy(pk4, d.pks, sizeof pk4);
    TU_CHECK(tbls_batch_verify(&hma, parts, pk4, 4, seed, scratch));
    memset(&parts[2].sig, 0, sizeof parts[2].sig);
    memset(&pk4[2], 0, sizeof pk4[2]);
    TU_CHECK(g1_affine_is_identity(&parts[2].sig) && g2_affine_is_identity(&pk4[2]));
    TU_CHECK(!tbls_batch_verify(&hma, parts, pk4, 4, seed, scratch));
    TU_CHECK(tbls_batch_find_bad(bad, &hma, parts, pk4, 4, seed, scratch) == 1);
    TU_CHECK(!bad[0] && !bad[1] && bad[2] && !bad[3]);
    fprintf(stderr, "tbls: batch == one-by-one on %zu partials\n", checked);
}

static void test_robust_16(void) {
    static dealing d;
    static tbls_partial parts[16];
    deal(&d, 11, 16);
    uint8_t app[20];
    tu_randbytes(app, sizeof app);
    g1_t q;
    g1_affine_t qa;
    appkey_identity_point(&q, app);
    to_aff(&qa, &q);
    for (size_t i = 0; i < 16; i++) {
        g1_t k;
        appkey_partial(&k, &d.shares[i], app);
        parts[i].index = (uint32_t)(i + 1);
        to_aff(&parts[i].sig, &k);
        TU_CHECK(appkey_verify(&parts[i].sig, app, &d.pks[i]));
    }
    /* two bad ones: a partial for another app, and a swapped index */
    uint8_t other[20];
    memcpy(other, app, 20);
    other[19] ^= 1;
    g1_t k;
    appkey_partial(&k, &d.shares[3], other);
    to_aff(&parts[3].sig, &k);
    TU_CHECK(!appkey_verify(&parts[3].sig, app, &d.pks[3]));
    parts[9].sig = parts[10].sig;
    uint8_t bad[16], seed[32];
    size_t nbad;
    tu_randbytes(seed, sizeof seed);
    g1_t key;
    TU_CHECK(tbls_robust_combine(&key, bad, &nbad, &qa, parts, d.pks, 16, 11, seed, scratch));
    TU_CHECK(nbad == 2 && bad[3] && bad[9]);
    g1_affine_t ka, want;
    to_aff(&ka, &key);
    master_sign(&want, &d.secret, &q);
    TU_CHECK(g1a_eq(&ka, &want));
    TU_CHECK(appkey_verify(&ka, app, &d.mpk));
    TU_CHECK(!appkey_verify(&ka, other, &d.mpk));
    /* with 6 of 16 bad, only 10 < t remain */
    for (int i = 0; i < 4; i++) parts[i + 11].sig = parts[3].sig;
    TU_CHECK(!tbls_robust_combine(&key, bad, &nbad, &qa, parts, d.pks, 16, 11, seed, scratch));
    TU_CHECK(nbad == 6);
    /* The app-key DST and the signing DST give different points for the same bytes, and the
     * app message encoding is tag || id || be32(len) || msg. */
    g1_t s1, s2;
    h2c_hash_to_g1(&s1, app, 20, (const uint8_t *)TKMS_DST_APP_KEY, TKMS_TAG_LEN(TKMS_DST_APP_KEY));
    h2c_hash_to_g1(&s2, app, 20, (const uint8_t *)TKMS_DST_APP_SIGN, TKMS_TAG_LEN(TKMS_DST_APP_SIGN));
    TU_CHECK(g1_eq(&s1, &q) && !g1_eq(&s1, &s2));
    uint8_t enc[64];
    size_t len = appkey_app_msg(enc, sizeof enc, app, (const uint8_t *)"hi", 2);
    TU_CHECK(len == 15 + 20 + 4 + 2);
    TU_CHECK(memcmp(enc, "TKMS-V1-APP-MSG", 15) == 0 && memcmp(enc + 15, app, 20) == 0);
    TU_CHECK(enc[35] == 0 && enc[36] == 0 && enc[37] == 0 && enc[38] == 2 && enc[39] == 'h');
    TU_CHECK(appkey_app_msg(enc, 40, app, (const uint8_t *)"hi", 2) == 0);
}

int main(void) {
    tu_seed();
    scratch = malloc(tbls_scratch_size(256));
    TU_CHECK(scratch != NULL);
    test_negatives();
    test_batch();
    test_robust_16();
    test_small_exhaustive_subsets();
    test_random_large();
    free(scratch);
    return 0;
}
