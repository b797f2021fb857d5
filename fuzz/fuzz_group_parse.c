/* libFuzzer target: group-file JSON parsing and verification. Whatever parses must serialise
 * back to JSON that parses to the same group id, and verification must not crash. */
#include <stdlib.h>
#include <string.h>

#include "group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tkms_group *g = calloc(1, sizeof *g), *h = calloc(1, sizeof *h);
    char err[256];
    if (!g || !h) abort();
    if (tkms_group_parse(g, (const char *)data, size, err, sizeof err)) {
        (void)tkms_group_verify(g, NULL, err, sizeof err);
        char *js = tkms_group_to_json(g, 1);
        if (!js) abort();
        if (!tkms_group_parse(h, js, strlen(js), err, sizeof err)) abort();
        uint8_t a[32], b[32];
        if (tkms_group_id(a, g) != tkms_group_id(b, h)) abort();
        if (memcmp(a, b, 32) != 0) abort();
        free(js);
    }
    free(g);
    free(h);
    return 0;
}
