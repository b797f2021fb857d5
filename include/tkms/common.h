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

/* Error tier 2 (the services: node, daemon, CLI): a status with a class the caller acts on, the
 * module's own code (its enum; 0 where it has none) and a message for people (never a secret).
 * The core (tier 1) returns 1/0 and reports programming errors to its callback (bls.h). */
typedef enum {
    TKMS_CLASS_OK = 0,
    TKMS_CLASS_USAGE,   /* bad arguments or configuration: fix the call */
    TKMS_CLASS_INPUT,   /* refused input: malformed, forged, stale */
    TKMS_CLASS_PEER,    /* another node or service failed or disagreed */
    TKMS_CLASS_STORAGE, /* the store or the file system */
    TKMS_CLASS_INTERNAL /* allocation, randomness, a bug */
} tkms_class;

typedef struct {
    tkms_class cls;
    int code;
    char msg[256];
} tkms_status;

static inline const char *tkms_class_name(tkms_class c) {
    switch (c) {
    case TKMS_CLASS_OK: return "ok";
    case TKMS_CLASS_USAGE: return "usage";
    case TKMS_CLASS_INPUT: return "input";
    case TKMS_CLASS_PEER: return "peer";
    case TKMS_CLASS_STORAGE: return "storage";
    default: return "internal";
    }
}

#ifdef __cplusplus
}
#endif

#endif
