/* Test tool (not installed): signs one peer/operator envelope with a node's identity key, as that
 * node would, except that the timestamp is now + --offset-ms (negative: in the past) and, with
 * --flip-sig, one bit of the signature is flipped after signing (a wrong signature under a real
 * member's key). Prints the three envelope headers, one per line, for curl -H:
 *
 *   tkms-test-envelope-sign --config NODE/config.json --dest URL --path P [--method M]
 *                           [--body-file F] [--offset-ms MS] [--flip-sig]
 *
 * --dest is the address the envelope is addressed to (the receiving node's). Exit 0, or 2 on a
 * usage or key error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static int usage(void) {
    fprintf(stderr, "usage: tkms-test-envelope-sign --config CFG --dest URL --path P [--method M] [--body-file F] "
                    "[--offset-ms MS] [--flip-sig]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *cfg = NULL, *dest = NULL, *path = NULL, *method = "POST", *bf = NULL;
    long long offset = 0;
    int flip = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--flip-sig")) flip = 1;
        else if (!v) return usage();
        else if (!strcmp(a, "--config")) cfg = v, i++;
        else if (!strcmp(a, "--dest")) dest = v, i++;
        else if (!strcmp(a, "--path")) path = v, i++;
        else if (!strcmp(a, "--method")) method = v, i++;
        else if (!strcmp(a, "--body-file")) bf = v, i++;
        else if (!strcmp(a, "--offset-ms")) {
            char *end = NULL;
            errno = 0;
            offset = strtoll(v, &end, 10);
            if (errno || !*v || *end) return usage();
            i++;
        } else return usage();
    }
    if (!cfg || !dest || !path) return usage();
    tkms_status st = {0};
    size_t blen = 0;
    char *body = NULL;
    if (bf && !(body = node_read_file(bf, &blen, 64u << 20, &st))) {
        fprintf(stderr, "envelope-sign: %s\n", st.msg);
        return 2;
    }
    node_secrets *sec = node_secure_alloc(sizeof *sec);
    if (!sec || !node_load_identity(sec, NULL, cfg, &st)) {
        fprintf(stderr, "envelope-sign: %s\n", st.msg);
        return 2;
    }
    uint64_t ts = (uint64_t)((long long)node_now_ms() + offset);
    uint8_t sig[64];
    if (!node_envelope_sign(sig, sec->ed_sk, dest, method, path, ts, (const uint8_t *)body, blen)) return 2;
    if (flip) sig[17] ^= 0x01;
    char keyhex[65], sighex[129];
    tkms_hex(keyhex, sec->ed_pk, 32);
    tkms_hex(sighex, sig, 64);
    printf("X-Tkms-Key: %s\nX-Tkms-Time: %llu\nX-Tkms-Sig: %s\n", keyhex, (unsigned long long)ts, sighex);
    node_secure_free(sec, sizeof *sec);
    free(body);
    return 0;
}
