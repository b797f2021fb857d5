/* libFuzzer target: the release registry's statement parsers (src/release/registry.c):
 * tkms_app_signed_parse (the signed envelope: salt, signature, canonical statement) and
 * tkms_app_statement_parse (the statement JSON itself). A parsed statement's canonical form must
 * parse again to the same canonical form. */
#include <stdlib.h>
#include <string.h>

#include "release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tkms_status err;
    static tkms_app_statement st, st2;
    char *can = NULL, *can2 = NULL;
    if (tkms_app_statement_parse(&st, &can, &err, (const char *)data, size) == TKMS_REL_OK) {
        if (!can) abort();
        if (tkms_app_statement_parse(&st2, &can2, &err, can, strlen(can)) != TKMS_REL_OK) abort();
        if (strcmp(can, can2) != 0) abort();
    }
    free(can);
    free(can2);
    tkms_app_signed s;
    memset(&s, 0, sizeof s);
    if (tkms_app_signed_parse(&s, &err, (const char *)data, size) == TKMS_REL_OK) tkms_app_signed_free(&s);
    return 0;
}
