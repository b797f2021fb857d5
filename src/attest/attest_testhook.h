/* tkms attestation: test-only overrides of the compiled-in trust anchors. These functions exist
 * only in the tkms_attest_testhooks library (TKMS_ATTEST_TEST_HOOKS); production builds lack them. */
#ifndef TKMS_ATTEST_TESTHOOK_H
#define TKMS_ATTEST_TESTHOOK_H

#include <stdint.h>

#ifdef TKMS_ATTEST_TEST_HOOKS
/* Replaces the Intel SGX root (PEM); NULL restores the pinned one. Returns 1 on success. */
int tkms_attest_testhook_intel_root(const char *pem);
/* Replaces one AMD product's ASK and ARK (0 Milan, 1 Genoa, 2 Turin); NULL restores. */
int tkms_attest_testhook_amd(int product, const char *ask_pem, const char *ark_pem);
/* Replaces the pinned Confidential Space root fingerprint; NULL restores. */
void tkms_attest_testhook_gcp_root(const uint8_t *sha256);
#endif

#endif
