/* libtkms-client internals shared by its source files: the group wrapper, error formatting,
 * hex, clock and file helpers. Not installed. */
#ifndef TKMS_CLIENT_INTERNAL_H
#define TKMS_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "group.h"
#include "tkms/client.h"
#include "proto.h"
#include "prim.h"

struct tkms_client_group {
    tkms_group g;
};

/* Writes a printf message into err (errlen bytes, err may be NULL) and returns st. */
tkms_client_status cl_fail(char *err, size_t errlen, tkms_client_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Monotonic milliseconds. */
double cl_now_ms(void);
/* Reads a whole file (at most max bytes) into a malloc'd NUL-terminated buffer. Returns NULL. */
uint8_t *cl_read_file(const char *path, size_t *len, size_t max);

#endif
