/* libFuzzer target: tkms1: sealed-secret parsing and opening (base64url, header, IBE ciphertext,
 * payload) with a fixed app key. Rejections must leave the output empty. */
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed valid G1 point as the app key (the generator): the corpus holds texts sealed under the
 * MPK G2 with app keys of this form, so well-formed inputs reach the IBE and payload checks. */
static const uint8_t KEY[48] = {0x97, 0xf1, 0xd3, 0xa7, 0x31, 0x97, 0xd7, 0x94, 0x26, 0x95, 0x63, 0x8c,
                                0x4f, 0xa9, 0xac, 0x0f, 0xc3, 0x68, 0x8c, 0x4f, 0x97, 0x74, 0xb9, 0x05,
                                0xa1, 0x4e, 0x3a, 0x3f, 0x17, 0x1b, 0xac, 0x58, 0x6c, 0x55, 0xe8, 0x3f,
                                0xf9, 0x7a, 0x1a, 0xef, 0xfb, 0x3a, 0xf0, 0x0a, 0xdb, 0x22, 0xc6, 0xbb};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tkms_buf out = {0};
    char *name = NULL;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    tkms_status st = tkms_unseal(&out, &name, text, size, KEY, NULL, NULL);
    if (st.code != TKMS_SEAL_OK && (out.len != 0 || name != NULL)) abort();
    free(name);
    free(text);
    tkms_buf_free(&out);
    return 0;
}
