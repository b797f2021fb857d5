/* Definitions shared by every public header of libtkms and libtkms-client: the export macro and
 * the result attribute (installed with each library's headers). */
#ifndef TKMS_COMMON_H
#define TKMS_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

/* The libraries are compiled with -fvisibility=hidden; only functions marked TKMS_API are exported. */
#if defined(__GNUC__)
#define TKMS_API __attribute__((visibility("default")))
#define TKMS_WUR __attribute__((warn_unused_result))
#else
#define TKMS_API
#define TKMS_WUR
#endif

#ifdef __cplusplus
}
#endif

#endif
