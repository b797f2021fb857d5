/* libFuzzer target: tlock/age file parsing and decryption (header, stanza, MAC, armor, STREAM
 * payload) with the real quicknet beacon of round 12040883. Anything accepted must open to the
 * same plaintext on a second call (decryption is a function of the input). */
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t SIG[48] = {0x92, 0x99, 0x06, 0xc9, 0x59, 0x03, 0x2a, 0xb3, 0x63, 0xc9, 0xf2, 0x65,
                                0x70, 0xd2, 0x15, 0xd6, 0x6f, 0x5c, 0x06, 0xcb, 0x0c, 0x44, 0xfe, 0x50,
                                0x8c, 0x12, 0xbb, 0x58, 0x39, 0xf0, 0x4e, 0xc8, 0x95, 0xbb, 0x68, 0x68,
                                0xe5, 0xb9, 0xff, 0x13, 0xab, 0x28, 0x9b, 0xdb, 0x52, 0x66, 0xb3, 0x94};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tkms_buf a = {0}, b = {0};
    tkms_status st = tkms_tlock_decrypt(&a, data, size, SIG, sizeof SIG, NULL, 0, NULL);
    if (st.code == TKMS_SEAL_OK) {
        tkms_status st2 = tkms_tlock_decrypt(&b, data, size, SIG, sizeof SIG, NULL, 0, NULL);
        if (st2.code != TKMS_SEAL_OK || a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0)) abort();
    } else if (a.len != 0) {
        abort(); /* nothing is returned unless the whole file verifies */
    }
    tkms_buf_free(&a);
    tkms_buf_free(&b);
    return 0;
}
