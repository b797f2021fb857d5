/* Internals shared by the registry and the handlers: hex/base64 helpers, error formatting, the
 * statement-from-JSON-object parser. Not installed. */
#ifndef TKMS_RELEASE_INTERNAL_H
#define TKMS_RELEASE_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>

#include "release.h"
#include "prim.h"
#include "ct.h"

/* Strict standard base64 with padding (no whitespace). *out malloc'd. Returns 1 or 0. */
int rel_b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen);
/* *es (if non-NULL) = code's class, code and a printf message; returns code. */
/* *es (if non-NULL) = success. */
void rel_ok(tkms_status *es);
tkms_release_code rel_fail(tkms_status *es, tkms_release_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Validates a statement object; *canonical (may be NULL) gets the canonical JSON. */
tkms_release_code rel_statement_from_json(tkms_app_statement *st, char **canonical, tkms_status *es,
                                          json_t *o);
/* tkms_registry_put with limits; *n_apps (may be NULL) caches the app count across a batch: -1
 * makes it count, a successful insert increments it. */
tkms_release_code rel_registry_put(sqlite3 *db, const tkms_app_signed *s, int64_t now_ms, const tkms_registry_limits *lim,
                                   int64_t *n_apps, tkms_status *es);

/* ---- paged anti-entropy (registry.c; the session and the caches are in handler.c) ---- */
/* Bucket b = app IDs whose first byte is b: [b 00.., b ff..]. */
void rel_bucket_range(uint8_t lo[20], uint8_t hi[20], unsigned bucket);
/* SHA-256("TKMS-V1-APPS-BUCKET" || each app of the bucket in app ID order: app_id || be64(seq)). */
int rel_bucket_digest(sqlite3 *db, unsigned bucket, uint8_t out[32]);
/* {"0x…": seq} of the apps in [lo, hi_limit], at most max of them; hi_out = the last app ID the page
 * covers (hi_limit when all fit). NULL on a storage error. */
json_t *rel_page(sqlite3 *db, const uint8_t lo[20], const uint8_t hi_limit[20], size_t max, uint8_t hi_out[20]);
/* Answer to a pull: {"more":b,"statements":[…]}: newer statements of the apps in papps first, then
 * (unless known_only) the apps of [lo, hi] that papps lacks; at most max statements and, past the
 * first, max_bytes. NULL if papps is malformed or names an app outside [lo, hi]. */
char *rel_pull_answer(sqlite3 *db, const uint8_t lo[20], const uint8_t hi[20], json_t *papps, int known_only, size_t max,
                      size_t max_bytes);
tkms_release_code rel_signed_from_json(tkms_app_signed *out, json_t *o);
/* app_id and seq of a signed statement's JSON, unauthenticated: 1 or 0. */
int rel_statement_key(json_t *signed_stmt, uint8_t app_id[20], uint64_t *seq);

#endif
