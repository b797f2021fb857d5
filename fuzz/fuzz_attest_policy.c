/* libFuzzer target: the attestation policy parser (tkms_attest_policy_parse: strict JSON, unknown or
 * duplicate keys refused, hex allow-lists, string lists). Must never crash; a rejection must say why. */
#include <stdlib.h>
#include <string.h>

#include "tkms/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tkms_attest_policy p;
    char err[256];
    err[0] = 0;
    tkms_attest_policy_default(&p);
    if (tkms_attest_policy_parse(&p, err, sizeof err, (const char *)data, size) != TKMS_ATTEST_OK && !err[0]) abort();
    return 0;
}
