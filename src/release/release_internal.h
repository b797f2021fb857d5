/* Internals shared by the registry and the handlers: hex/base64 helpers, error formatting, the
 * statement-from-JSON-object parser. Not installed. */
#ifndef TKMS_RELEASE_INTERNAL_H
#define TKMS_RELEASE_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>

#include "release.h"

void rel_hex(char *out, const uint8_t *in, size_t n); /* out: 2n+1, lowercase */
/* Exactly n bytes from 2n hex chars; lower_only refuses A-F. Returns 1 or 0. */
int rel_unhex(uint8_t *out, size_t n, const char *s, size_t slen, int lower_only);
/* Strict standard base64 with padding (no whitespace). *out malloc'd. Returns 1 or 0. */
int rel_b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen);
/* snprintf into err (if non-NULL) and return code. */
tkms_release_code rel_fail(char *err, size_t errlen, tkms_release_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Validates a statement object; *canonical (may be NULL) gets the canonical JSON. */
tkms_release_code rel_statement_from_json(tkms_app_statement *st, char **canonical, char *err, size_t errlen,
                                          json_t *o);
/* B for the given recipient length (0 for sign/app) (docs/release-protocol.md §1-2). */
void rel_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t *rcpt, size_t rcpt_len,
                 const uint8_t *nonce, size_t nonce_len);
void rel_wipe(void *p, size_t n);

#endif
