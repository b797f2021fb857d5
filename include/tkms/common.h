/* libtkms: definitions shared by every public header (export macro, result attributes, the
 * illegal-argument callback of the core's two-tier error model). */
#ifndef TKMS_COMMON_H
#define TKMS_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

/* The core is compiled with -fvisibility=hidden; only functions marked TKMS_API are exported. */
#if defined(__GNUC__)
#define TKMS_API __attribute__((visibility("default")))
#define TKMS_WUR __attribute__((warn_unused_result))
#else
#define TKMS_API
#define TKMS_WUR
#endif

/* Error tier 1 (the core): fallible functions return 1 on success and 0 on invalid *input*
 * (a bad encoding, a failed verification). Programming errors (NULL where an object is required,
 * a wrong output length, an object of the wrong variant or one that no parser made) are reported
 * to the illegal-argument callback, and the function then returns 0.
 *
 * The default callback aborts the process. tkms_set_illegal_callback replaces it for the whole
 * process (fn = NULL restores the default); msg is a static, secret-free string. Not thread-safe:
 * set it once at start-up. */
typedef void (*tkms_illegal_fn)(const char *msg, void *data);
TKMS_API void tkms_set_illegal_callback(tkms_illegal_fn fn, void *data);

#ifdef __cplusplus
}
#endif

#endif
