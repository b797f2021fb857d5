/* Declassification for test_ctime_claims only (the wallet is not linked into test_ctime_dkg); see
 * declassify_wrap.c. */
#include <stddef.h>
#include <stdint.h>

#include <valgrind/memcheck.h>

/* base58: the count of leading zero digits is the encoded string's length (public: an xprv is
 * always 111 characters); the digits themselves stay secret */
size_t __real_tkms_base58_leading_zero_digits(const uint8_t *digits, size_t size);
size_t __wrap_tkms_base58_leading_zero_digits(const uint8_t *digits, size_t size);
size_t __wrap_tkms_base58_leading_zero_digits(const uint8_t *digits, size_t size) {
    size_t r = __real_tkms_base58_leading_zero_digits(digits, size);
    VALGRIND_MAKE_MEM_DEFINED(&r, sizeof r);
    return r;
}
