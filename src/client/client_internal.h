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

/* Fills *es (may be NULL) with code's class, code and a printf message; returns code. */
tkms_client_status cl_fail(tkms_status *es, tkms_client_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* *es (may be NULL) = success: class ok, code 0, empty message. Every public call starts with it. */
void cl_status_ok(tkms_status *es);
/* Monotonic milliseconds. */
double cl_now_ms(void);
/* Reads a whole file (at most max bytes) into a malloc'd NUL-terminated buffer. Returns NULL. */
uint8_t *cl_read_file(const char *path, size_t *len, size_t max);

/* The libcurl driver of a release round (driver.c): POSTs body to <address>/v1/keys/app of every
 * target of the collector (cl_collect_*, collect.h) in parallel, retries transient failures,
 * fetches the group files the collector asks for and feeds it every outcome, until it has a
 * quorum (or, with wait_all, every answer), all requests ended or the deadline passed. Requests
 * still running then are recorded as pending (quorum) or timed out. Returns 1, or 0 on allocation
 * failure. */
struct cl_collect;
typedef struct {
    const char *body;     /* the request (JSON) */
    unsigned timeout_ms, retries, backoff_ms, deadline_ms;
    int wait_all;
    tkms_client_log_fn log;
    void *log_ctx;
} cl_drive_opts;
int cl_drive_release(struct cl_collect *col, const cl_drive_opts *o);

#endif
