/* libFuzzer target: the TDX quote parser and verifier on arbitrary bytes, against the real dcap-qvl
 * collateral bundle (seed corpus: the quotes in tests/vectors/attestation). Must never crash or read OOB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tkms/attest.h"

static uint8_t *bundle;
static size_t bundle_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *p = getenv("TKMS_FUZZ_TDX_BUNDLE");
    FILE *f = fopen(p ? p : "tests/vectors/attestation/dcapqvl_tdx_quote_collateral.json", "rb");
    if (f) {
        bundle = malloc(1 << 20);
        bundle_len = fread(bundle, 1, 1 << 20, f);
        fclose(f);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tkms_attest_result res;
    tkms_attest_request rq = {TKMS_ATTEST_TDX, data, size, bundle, bundle_len, NULL, 1751328000, NULL, NULL, TKMS_ATTEST_F_NO_BINDING};
    if (tkms_attest_verify(&res, &rq) == TKMS_ATTEST_OK) res.claims.genuine ^= 0; /* result unused: only crashes matter */
    return 0;
}
