/* libFuzzer target: the daemon's strict HTTP request-head parser (src/daemon/http_parse.c). The
 * first input byte chooses how the rest is split into reads; the scan must find the same head
 * whether fed in pieces or at once, and a parsed head must satisfy what the server relies on
 * (origin-form path, token method and field names, values without CR/LF/NUL, a known version). */
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_token(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s)) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t step = (size_t)data[0] % 16 + 1;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    size_t s1 = 0, h1 = 0, s2 = 0, h2 = 0;
    const char *why = NULL;
    int once = hp_scan(in, len, &s1, &h1, &why);
    int piece = HP_MORE;
    for (size_t fed = 0; piece == HP_MORE && fed < len;) {
        fed = fed + step < len ? fed + step : len;
        piece = hp_scan(in, fed, &s2, &h2, &why);
    }
    if (once != piece || (once == HP_DONE && h1 != h2)) abort();
    if (once != HP_DONE) return 0;
    char *buf = malloc(h1 ? h1 : 1);
    if (!buf) return 0;
    memcpy(buf, in, h1);
    hp_request r;
    int st = hp_parse(&r, buf, h1, &why);
    if (st != 0 && st != 400 && st != 411 && st != 417 && st != 431 && st != 505) abort();
    if (st == 0) {
        if (!is_token(r.method) || r.path[0] != '/' || (r.minor != 0 && r.minor != 1)) abort();
        if (r.minor == 1 && !hp_field_get(&r, "host")) abort();
        if (r.has_length && hp_field_get(&r, "transfer-encoding")) abort();
        for (size_t i = 0; i < r.nfields; i++) {
            if (!is_token(r.fields[i].name)) abort();
            if (strpbrk(r.fields[i].value, "\r\n")) abort();
        }
        (void)hp_query_get(&r, "epoch");
    }
    free(buf);
    return 0;
}
