/* libFuzzer target: G2 ZCash decoding. Whatever g2_deserialize accepts must be on the curve, in
 * the subgroup, re-encode to exactly the input bytes (one encoding per point) and agree with the
 * BLS min-pk signature parser (which also rejects the identity). */
#include <stdlib.h>
#include <string.h>

#include "g2.h"
#include "tkms/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    g2_affine_t a, b;
    g2_status st = g2_deserialize(&a, data, size, 1);
    g2_status st0 = g2_deserialize(&b, data, size, 0);
    tkms_bls_signature sig;
    int bls_ok = tkms_bls_signature_parse(&sig, TKMS_BLS_MIN_PK, data, size);
    if (st != G2_OK) {
        if (st0 == G2_OK || bls_ok) abort();
        return 0;
    }
    int ident = (int)g2_affine_is_identity(&a);
    if ((st0 == G2_OK) == ident || bls_ok == ident) abort();
    if (!g2_affine_is_on_curve(&a)) abort();
    g2_t p;
    g2_from_affine(&p, &a);
    if (!g2_in_subgroup_vartime(&p)) abort();
    uint8_t out[192];
    if (size == 96) g2_serialize(out, &a);
    else if (size == 192) g2_serialize_uncompressed(out, &a);
    else abort();
    if (memcmp(out, data, size) != 0) abort();
    if (bls_ok) {
        uint8_t c[96];
        if (!tkms_bls_signature_serialize(c, 96, &sig)) abort();
        g2_serialize(out, &a);
        if (memcmp(c, out, 96) != 0) abort();
    }
    return 0;
}
