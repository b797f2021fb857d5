/* libFuzzer target: strict base64 decoding. Whatever decodes must re-encode to exactly the input
 * (one accepted spelling per byte string), in all four alphabet/padding modes. */
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int mode = 0; mode < 4; mode++) {
        int url = mode & 1, pad = mode >> 1;
        tkms_buf out = {0};
        if (tkms_b64_decode(&out, (const char *)data, size, url, pad)) {
            char *enc = tkms_b64_encode(out.p ? out.p : (const uint8_t *)"", out.len, url, pad);
            if (!enc || strlen(enc) != size || memcmp(enc, data, size) != 0) abort();
            free(enc);
        }
        tkms_buf_free(&out);
    }
    return 0;
}
