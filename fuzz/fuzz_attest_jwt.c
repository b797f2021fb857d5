/* libFuzzer target: Confidential Space token parsing (base64url, header JSON, x5c, JWKS lookup).
 * Input: token, then a NUL, then a JWKS; without a NUL the whole input is the token. */
#include <stdint.h>
#include <string.h>

#include "tkms/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tkms_attest_result res;
    static tkms_attest_replay *rc;
    if (!rc) rc = tkms_attest_replay_new(64);
    tkms_attest_replay_clear(rc);
    const uint8_t *nul = memchr(data, 0, size);
    size_t tl = nul ? (size_t)(nul - data) : size;
    const uint8_t *jw = nul ? nul + 1 : NULL;
    size_t jl = nul ? size - tl - 1 : 0;
    tkms_attest_request rq = {TKMS_ATTEST_GCP_CS, data, tl, jw, jl, NULL, 1751371200, NULL, rc, TKMS_ATTEST_F_NO_BINDING};
    if (tkms_attest_verify(&res, &rq) == TKMS_ATTEST_OK) res.claims.genuine ^= 0; /* result unused: only crashes matter */
    return 0;
}
