/* libFuzzer target: DKG engine checkpoint restore (tkms_dkg_restore, src/dkg/engine_ckpt.c): the
 * persisted state (seed, old share, stored bundles, progress flags) read back strictly. Whatever
 * restores must run a tick and checkpoint again without crashing. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 4
static tkms_identity ids[N];
static tkms_dkg_member members[N];
static int ready;

static void det_rng(void *ctx, uint8_t *out, size_t len) {
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*s >> 56);
    }
}

/* the committee of fuzz_dkg_receive (seeds 1..4); the corpus holds checkpoints of node 1 */
static void init_ids(void) {
    for (int i = 0; i < N; i++) {
        uint8_t seed[32];
        memset(seed, i + 1, sizeof seed);
        if (!tkms_identity_from_seed(&ids[i], seed)) abort();
        memcpy(members[i].sign_pk, ids[i].sign_pk, 32);
        memcpy(members[i].kem_pk, ids[i].kem_pk, 32);
        strcpy(members[i].address, "127.0.0.1:1");
    }
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) init_ids();
    uint64_t rs = 42;
    tkms_dkg_config c;
    memset(&c, 0, sizeof c);
    c.new_members = members;
    c.n_new = N;
    c.t_new = 3;
    c.self = &ids[0];
    c.deal_ticks = c.resp_ticks = c.just_ticks = 10;
    c.cert_ticks = 50;
    c.fetch_ticks = 5;
    c.rng = det_rng;
    c.rng_ctx = &rs;
    size_t ml = tkms_dkg_mem_size(&c);
    void *mem = aligned_alloc(64, (ml + 63) & ~(size_t)63);
    if (!mem) abort();
    tkms_dkg *e = tkms_dkg_restore(mem, ml, &c, data, size, 1);
    if (e) {
        tkms_dkg_tick(e, 3);
        const uint8_t *out;
        size_t olen;
        int32_t dest;
        while (tkms_dkg_pop_output(e, &dest, &out, &olen)) {
        }
        size_t n = tkms_dkg_checkpoint(e, NULL, 0);
        uint8_t *ck = malloc(n ? n : 1);
        if (!ck || tkms_dkg_checkpoint(e, ck, n) != n) abort();
        free(ck);
        tkms_dkg_wipe(e);
    }
    free(mem);
    return 0;
}
