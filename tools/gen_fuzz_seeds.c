/* Writes the binary seed corpora that need the library to make (tools/gen_fuzz_corpus.py runs it when
 * given --seeds BIN): fuzz_datafile (files encrypted under the target's fixed key) and
 * fuzz_dkg_restore (checkpoints of node 1 of the target's committee at several points of a DKG).
 * Usage: gen_fuzz_seeds OUT_DIR (writes OUT_DIR/<target>/<name>). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "identity.h"
#include "tkms/wallet.h"

static const char *out_dir;

static void put(const char *target, const char *name, const uint8_t *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void datafiles(void) {
    static const uint8_t KEY[32] = "tkms-fuzz-datafile-key-32-bytes";
    static const size_t lens[] = {0, 1, 64, 65, 200};
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        uint8_t buf[1024], salt[32];
        memset(salt, (int)t, sizeof salt);
        tkms_datafile st;
        if (tkms_datafile_encrypt_init(&st, buf, KEY, 64, salt) != TKMS_WALLET_OK) exit(1);
        size_t o = TKMS_DATAFILE_HEADER_LEN, left = lens[t];
        uint8_t pt[64];
        memset(pt, 'a' + (int)t, sizeof pt);
        do {
            size_t n = left < 64 ? left : 64;
            int last = left <= 64;
            if (tkms_datafile_encrypt_chunk(&st, buf + o, pt, n, last) != TKMS_WALLET_OK) exit(1);
            o += n + TKMS_DATAFILE_TAG_LEN;
            left -= n;
            if (last) break;
        } while (1);
        char name[32];
        snprintf(name, sizeof name, "file_%zu", lens[t]);
        put("fuzz_datafile", name, buf, o);
        buf[o - 1] ^= 1; /* a forged tag */
        snprintf(name, sizeof name, "forged_%zu", lens[t]);
        put("fuzz_datafile", name, buf, o);
    }
}

#define N 4
static void det_rng(void *ctx, uint8_t *out, size_t len) {
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(*s >> 56);
    }
}

static void checkpoints(void) {
    tkms_identity ids[N];
    tkms_dkg_member members[N];
    tkms_dkg *e[N];
    uint64_t rs[N];
    for (int i = 0; i < N; i++) {
        uint8_t seed[32];
        memset(seed, i + 1, sizeof seed);
        if (!tkms_identity_from_seed(&ids[i], seed)) exit(1);
        memcpy(members[i].sign_pk, ids[i].sign_pk, 32);
        memcpy(members[i].kem_pk, ids[i].kem_pk, 32);
        strcpy(members[i].address, "127.0.0.1:1");
    }
    for (int i = 0; i < N; i++) {
        tkms_dkg_config c;
        memset(&c, 0, sizeof c);
        c.new_members = members;
        c.n_new = N;
        c.t_new = 3;
        c.self = &ids[i];
        c.deal_ticks = c.resp_ticks = c.just_ticks = 10;
        c.cert_ticks = 50;
        c.fetch_ticks = 5;
        c.rng = det_rng;
        rs[i] = 42 + (uint64_t)i;
        c.rng_ctx = &rs[i];
        size_t ml = tkms_dkg_mem_size(&c);
        e[i] = tkms_dkg_init(aligned_alloc(64, (ml + 63) & ~(size_t)63), ml, &c);
        if (!e[i]) exit(1);
    }
    int snap = 0;
    for (uint64_t now = 0; now <= 60 && snap < 8; now += 1) {
        for (int i = 0; i < N; i++) {
            tkms_dkg_tick(e[i], now);
            const uint8_t *m;
            size_t len;
            int32_t dest;
            while (tkms_dkg_pop_output(e[i], &dest, &m, &len)) {
                uint8_t *copy = malloc(len);
                memcpy(copy, m, len);
                for (int j = 0; j < N; j++)
                    if (j != i && (dest == TKMS_DKG_BROADCAST || (size_t)dest == (size_t)j))
                        (void)tkms_dkg_receive(e[j], now, copy, len);
                free(copy);
            }
        }
        if (now % 8 == 0 || tkms_dkg_needs_persist(e[0])) {
            size_t n = tkms_dkg_checkpoint(e[0], NULL, 0);
            uint8_t *ck = malloc(n);
            if (tkms_dkg_checkpoint(e[0], ck, n) != n) exit(1);
            char name[32];
            snprintf(name, sizeof name, "ckpt_t%02u", (unsigned)now);
            put("fuzz_dkg_restore", name, ck, n);
            if (n > 8) {
                ck[n / 2] ^= 0x40;
                snprintf(name, sizeof name, "ckpt_t%02u_flip", (unsigned)now);
                put("fuzz_dkg_restore", name, ck, n);
            }
            free(ck);
            snap++;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    datafiles();
    checkpoints();
    return 0;
}
