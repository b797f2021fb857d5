/* libFuzzer target: BLS signature and key parsing plus verification. Input: 1 byte selecting the
 * variant (bit 0) and DST, the signature (48/96 bytes), the public key (96/48 bytes), the message.
 * Parsed objects must re-serialise to the input; a fuzzed signature can only verify under the
 * fixed key if it equals the real signature on that message. */
#include <stdlib.h>
#include <string.h>

#include "tkms/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t DST0[] = TKMS_BLS_DST_MIN_SIG_NUL;
static const uint8_t DST1[] = TKMS_BLS_DST_MIN_PK_POP;

static volatile int fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    tkms_bls_variant v = (data[0] & 1) ? TKMS_BLS_MIN_PK : TKMS_BLS_MIN_SIG;
    const uint8_t *dst = v ? DST1 : DST0;
    size_t dl = v ? sizeof DST1 - 1 : sizeof DST0 - 1;
    size_t sl = tkms_bls_signature_size(v), pl = tkms_bls_public_key_size(v);
    data++;
    size--;
    if (size < sl + pl) return 0;
    const uint8_t *sb = data, *pb = data + sl, *msg = data + sl + pl;
    size_t ml = size - sl - pl;
    tkms_bls_signature sig;
    tkms_bls_public_key pk;
    uint8_t out[96];
    int sok = tkms_bls_signature_parse(&sig, v, sb, sl);
    int pok = tkms_bls_public_key_parse(&pk, v, pb, pl);
    if (sok && (!tkms_bls_signature_serialize(out, sl, &sig) || memcmp(out, sb, sl) != 0)) abort();
    if (pok && (!tkms_bls_public_key_serialize(out, pl, &pk) || memcmp(out, pb, pl) != 0)) abort();
    /* any answer is fine (only crashes matter); the result goes to a sink so that gcc sees it used */
    if (sok && pok) fuzz_sink ^= tkms_bls_verify(&pk, msg, ml, &sig, dst, dl);
    if (sok) {
        /* A fixed key: only its real signature verifies. */
        static const uint8_t ikm[32] = "tkms-fuzz-fixed-key-material-32b";
        tkms_bls_secret_key sk;
        tkms_bls_public_key fpk;
        tkms_bls_signature real;
        uint8_t rb[96];
        if (!tkms_bls_keygen(&sk, ikm, 32, NULL, 0) || !tkms_bls_sk_to_pk(&fpk, v, &sk) ||
            !tkms_bls_sign(&real, v, &sk, msg, ml, dst, dl) || !tkms_bls_signature_serialize(rb, sl, &real))
            abort();
        int ok = tkms_bls_verify(&fpk, msg, ml, &sig, dst, dl);
        if (ok != (memcmp(rb, sb, sl) == 0)) abort();
        if (!tkms_bls_verify(&fpk, msg, ml, &real, dst, dl)) abort();
    }
    return 0;
}
