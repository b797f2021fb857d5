/* Test tool (not installed): forges the certified group file of the epoch after a real one, as one
 * malicious operator could: the same MPK and previous-group link, a QUAL of t_old old dealers, and
 * a committee of keys it made up, which then sign the certificate themselves. Every check a group
 * file carries (session ID, transcript hash, >= q valid member signatures, continuity) passes; only
 * the authority to change the committee is missing. Prints the forged file on stdout.
 *
 *   tkms-test-forge-group PREV_GROUP_FILE
 *
 * Exit 0, or 2 on a usage or file error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "group.h"
#include "prim.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (buf) buf[*len] = 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tkms-test-forge-group PREV_GROUP_FILE\n");
        return 2;
    }
    size_t len = 0;
    char *json = slurp(argv[1], &len), err[256];
    static tkms_group prev, g;
    if (!json || !tkms_group_parse(&prev, json, len, err, sizeof err)) {
        fprintf(stderr, "tkms-test-forge-group: %s: %s\n", argv[1], json ? err : "cannot read");
        return 2;
    }
    free(json);
    uint8_t sk[TKMS_DKG_MAX_N][32];
    g = prev;
    g.epoch = prev.epoch + 1;
    g.t_old = prev.t;
    if (!tkms_group_id(g.previous, &prev)) return 2;
    for (size_t i = 0; i < g.n; i++) {
        uint8_t xsk[32];
        if (RAND_bytes(sk[i], 32) != 1 || RAND_bytes(xsk, 32) != 1 || !tkms_ed25519_pubkey(g.members[i].sign_pk, sk[i]) ||
            !tkms_x25519_pubkey(g.members[i].kem_pk, xsk))
            return 2;
    }
    g.n_qual = prev.t;
    for (size_t i = 0; i < g.n_qual; i++) g.qual[i] = (uint32_t)(i + 1);
    tkms_dkg_session_id(g.session, g.epoch, g.previous, g.members, g.n, g.t, g.t_old);
    tkms_dkg_transcript_hash(g.transcript_hash, g.session, g.qual, g.n_qual, g.poly, g.t);
    uint8_t cm[TKMS_DKG_CERT_MSG_LEN];
    tkms_dkg_cert_message(cm, g.session, g.transcript_hash);
    g.n_sigs = g.n;
    for (size_t i = 0; i < g.n; i++) {
        g.sig_index[i] = (uint32_t)(i + 1);
        if (!tkms_ed25519_sign(g.sigs[i], sk[i], cm, sizeof cm)) return 2;
    }
    if (!tkms_group_verify(&g, &prev, err, sizeof err)) {
        fprintf(stderr, "tkms-test-forge-group: the forgery does not verify: %s\n", err);
        return 2;
    }
    char *out = tkms_group_to_json(&g, 1);
    if (!out) return 2;
    puts(out);
    free(out);
    return 0;
}
