/* libFuzzer target: SEV-SNP report + VCEK. The input is split at its first 0x4A0 bytes into report
 * and collateral, so both parsers are exercised (seeds: the real report followed by its VCEK). */
#include <stdint.h>
#include <stddef.h>

#include "tkms/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tkms_attest_result res;
    size_t rl = size < 0x4A0 ? size : 0x4A0;
    tkms_attest_request rq = {TKMS_ATTEST_SEV_SNP, data, rl, data + rl, size - rl, NULL, 1704067200, NULL, NULL, TKMS_ATTEST_F_NO_BINDING};
    if (tkms_attest_verify(&res, &rq) == TKMS_ATTEST_OK) res.claims.genuine ^= 0; /* result unused: only crashes matter */
    return 0;
}
