/* Constant-time claims of the DKG engine (issue 13, item 9), as in ctime_bls.c / ctime_claims.c:
 * secrets undefined under memcheck, any branch or index on them is an error. The functions under
 * test live in src/dkg/engine_deal.c (build_deal is static), so this file includes it (same flags
 * plus -g; the library's copy of engine_deal.o is then never pulled from libtkms_dkg.a, every
 * symbol being defined here).
 * Cases (argv[1]):
 *   deal    build_deal -> eval_poly -> deal_secret + tbls_deal, the commitments' encoding, the HPKE
 *           seal of every share and the signature, with an undefined dealing seed (the secret
 *           f(0) and every coefficient and share derive from it);
 *   verify  dkg_verify_shares: the batched Feldman check (sum rho_i s_i) G2 == sum rho_i PK_ij of
 *           undefined received shares, and its per-dealer fallback after a bad share.
 * The checks' verdicts (share_st) are public by design (a bad share is complained about in the
 * response): tests/ctime/ctime.supp declassifies the two branches on them in dkg_verify_shares. */
#include "../../src/dkg/engine_deal.c"

#include <stdio.h>
#include <stdlib.h>

#include <valgrind/memcheck.h>

#include "bls_internal.h"
#include "identity.h"
#include "testutil.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

#define NN 4
#define TT 3
static tkms_identity ids[NN];
static tkms_dkg_member members[NN];
static tkms_dkg *eng[NN];
static uint64_t rs[NN];

static void declassify(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }

static void det_rng(void *ctx, uint8_t *out, size_t len) {
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*s >> 56);
    }
}

static void setup_engines(void) {
    for (int i = 0; i < NN; i++) {
        uint8_t seed[32];
        tu_randbytes(seed, sizeof seed);
        TU_CHECK(tkms_identity_from_seed(&ids[i], seed));
        memcpy(members[i].sign_pk, ids[i].sign_pk, 32);
        memcpy(members[i].kem_pk, ids[i].kem_pk, 32);
        strcpy(members[i].address, "127.0.0.1:1");
    }
    for (int i = 0; i < NN; i++) {
        tkms_dkg_config c;
        memset(&c, 0, sizeof c);
        c.new_members = members;
        c.n_new = NN;
        c.t_new = TT;
        c.self = &ids[i];
        c.deal_ticks = c.resp_ticks = c.just_ticks = 10;
        c.cert_ticks = 50;
        c.fetch_ticks = 5;
        c.rng = det_rng;
        rs[i] = tu_rand64();
        c.rng_ctx = &rs[i];
        size_t ml = tkms_dkg_mem_size(&c);
        void *mem = aligned_alloc(64, (ml + 63) & ~(size_t)63);
        TU_CHECK(mem);
        eng[i] = tkms_dkg_init(mem, ml, &c);
        TU_CHECK(eng[i]);
    }
}

/* A deal by engine i from seed (a buffer the caller frees). */
static uint8_t *make_deal(int i, const uint8_t seed[32], size_t *len) {
    tkms_dkg *e = eng[i];
    *len = HDR + dkg_deal_body_len(e) + SIG;
    uint8_t *buf = malloc(*len), digest[32];
    TU_CHECK(buf);
    int ok = build_deal(e, buf, seed, digest);
    PUBLIC(&ok, sizeof ok);
    TU_CHECK(ok);
    return buf;
}

static void ct_deal(void) {
    uint8_t seed[32];
    size_t len;
    tu_randbytes(seed, sizeof seed);
    SECRET(seed, sizeof seed);
    uint8_t *deal = make_deal(0, seed, &len);
    /* the deal goes on the wire: public from here on */
    PUBLIC(deal, len);
    /* every receiver decrypts its share and it checks against the commitments */
    for (int j = 1; j < NN; j++) {
        TU_CHECK(tkms_dkg_receive(eng[j], 1, deal, len) == 1);
        TU_CHECK(eng[j]->dealers[0].share_st == SHARE_DECRYPTED);
        dkg_verify_shares(eng[j]);
        TU_CHECK(eng[j]->dealers[0].share_st == SHARE_VERIFIED);
    }
    free(deal);
}

static void ct_verify(void) {
    /* engines 1..3 deal (public seeds: the dealing is the other case); engine 0 receives */
    for (int i = 1; i < NN; i++) {
        uint8_t seed[32];
        size_t len;
        tu_randbytes(seed, sizeof seed);
        uint8_t *deal = make_deal(i, seed, &len);
        TU_CHECK(tkms_dkg_receive(eng[0], 1, deal, len) == 1);
        free(deal);
    }
    tkms_dkg *e = eng[0];
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 2; i <= NN; i++) {
            TU_CHECK(e->dealers[i - 1].share_st == SHARE_DECRYPTED);
            SECRET(&e->dealers[i - 1].share, sizeof(fr_t));
        }
        dkg_verify_shares(e);
        for (uint32_t i = 2; i <= NN; i++) {
            PUBLIC(&e->dealers[i - 1].share, sizeof(fr_t));
            /* pass 1: dealer 3's share was altered, so the batch fails and each is checked alone */
            TU_CHECK(e->dealers[i - 1].share_st == (pass == 1 && i == 3 ? SHARE_BAD : SHARE_VERIFIED));
        }
        if (pass == 0) {
            TU_CHECK(e->st.batch_fallbacks == 0);
            for (uint32_t i = 2; i <= NN; i++) e->dealers[i - 1].share_st = SHARE_DECRYPTED;
            fr_add(&e->dealers[2].share, &e->dealers[2].share, &FR_ONE);
        } else {
            TU_CHECK(e->st.batch_fallbacks == 1);
        }
    }
}

int main(int argc, char **argv) {
    tu_seed();
    tkms_ct_declassify_hook = declassify;
    if (!RUNNING_ON_VALGRIND) fprintf(stderr, "test_ctime_dkg: not under valgrind; only the functional checks run\n");
    setup_engines();
    int ran = 0;
    if (argc < 2 || strcmp(argv[1], "deal") == 0) {
        ct_deal();
        printf("test_ctime_dkg deal: ok\n");
        ran++;
    }
    if (argc < 2 || strcmp(argv[1], "verify") == 0) {
        for (int i = 0; i < NN; i++) tkms_dkg_wipe(eng[i]);
        setup_engines();
        ct_verify();
        printf("test_ctime_dkg verify: ok\n");
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "test_ctime_dkg: unknown case %s\n", argv[1]);
        return 2;
    }
    return 0;
}
