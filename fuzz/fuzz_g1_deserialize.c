/* libFuzzer target: G1 ZCash decoding. Whatever g1_deserialize accepts must be on the curve, in
 * the subgroup, re-encode to exactly the input bytes (one encoding per point) and agree with the
 * BLS public-key parser (which also rejects the identity). */
#include <stdlib.h>
#include <string.h>

#include "g1.h"
#include "tkms/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    g1_affine_t a, b;
    g1_status st = g1_deserialize(&a, data, size, 1);
    g1_status st0 = g1_deserialize(&b, data, size, 0);
    tkms_bls_public_key pk;
    int bls_ok = tkms_bls_public_key_parse(&pk, TKMS_BLS_MIN_PK, data, size);
    if (st != G1_OK) {
        if (st0 == G1_OK || bls_ok) abort();
        return 0;
    }
    int ident = (int)g1_affine_is_identity(&a);
    if ((st0 == G1_OK) == ident || bls_ok == ident) abort();
    if (!g1_affine_is_on_curve(&a)) abort();
    g1_t p;
    g1_from_affine(&p, &a);
    if (!g1_in_subgroup_vartime(&p)) abort();
    uint8_t out[96];
    if (size == 48) g1_serialize(out, &a);
    else if (size == 96) g1_serialize_uncompressed(out, &a);
    else abort();
    if (memcmp(out, data, size) != 0) abort();
    if (bls_ok) {
        uint8_t c[48];
        if (!tkms_bls_public_key_serialize(c, 48, &pk)) abort();
        g1_serialize(out, &a);
        if (memcmp(c, out, 48) != 0) abort();
    }
    return 0;
}
