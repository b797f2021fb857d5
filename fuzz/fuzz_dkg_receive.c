/* libFuzzer target: the DKG engine's message parsers. The fuzz input supplies a message type, a
 * sender and a body; the harness frames it with the right session and re-signs it with that
 * sender's real key, so the bytes reach the body parsers (deal, response, justification,
 * certification, fetch) instead of stopping at the signature check. The engine must never crash,
 * and a rejected message must not change its state or stats beyond the rejection counters. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "identity.h"
#include "sha256.h"
#include "proto_tags.h"

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
    if (size < 2) return 0;
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
    tkms_dkg *e = tkms_dkg_init(mem, ml, &c);
    if (!e) abort();
    /* frame: "TKDG" | version 1 | type | session | be32 sender | be32 body_len | body | sig */
    uint8_t type = data[0], sender = (uint8_t)(data[1] % N + 1);
    const uint8_t *body = data + 2;
    size_t blen = size - 2;
    size_t mlen = 46 + blen + 64;
    uint8_t *msg = malloc(mlen);
    memcpy(msg, "TKDG", 4);
    msg[4] = 1;
    msg[5] = type;
    memcpy(msg + 6, tkms_dkg_session(e), 32);
    msg[38] = msg[39] = msg[40] = 0;
    msg[41] = sender;
    msg[42] = (uint8_t)(blen >> 24);
    msg[43] = (uint8_t)(blen >> 16);
    msg[44] = (uint8_t)(blen >> 8);
    msg[45] = (uint8_t)blen;
    memcpy(msg + 46, body, blen);
    uint8_t tosign[15 + 46 + 32];
    memcpy(tosign, TKMS_TAG_DKG_SIG, 15);
    memcpy(tosign + 15, msg, 46);
    sha256(tosign + 61, body, blen);
    if (!tkms_ed25519_sign(msg + 46 + blen, ids[sender - 1].sign_sk, tosign, sizeof tosign)) abort();
    (void)tkms_dkg_receive(e, 1, msg, mlen);
    /* also the raw input as a whole message (outer framing parser) */
    (void)tkms_dkg_receive(e, 2, data, size);
    tkms_dkg_tick(e, 100);
    const uint8_t *out;
    size_t olen;
    int32_t dest;
    while (tkms_dkg_pop_output(e, &dest, &out, &olen)) {
    }
    tkms_dkg_wipe(e);
    free(mem);
    free(msg);
    return 0;
}
