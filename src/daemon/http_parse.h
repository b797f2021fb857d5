/* tkmsd: a strict HTTP/1.1 request-head parser (RFC 9112), sans I/O: no allocation, no clock, no
 * globals. The server (http.c) owns the buffer; the parser finds the end of the head, then splits it
 * in place and checks every rule the daemon relies on. Whatever is ambiguous is refused, never
 * guessed: bare CR or LF, obs-fold, whitespace before a colon, Content-Length together with
 * Transfer-Encoding, repeated fields the daemon reads, absolute-form targets. */
#ifndef TKMSD_HTTP_PARSE_H
#define TKMSD_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HP_MAX_FIELDS 64 /* more header fields get 431 */

typedef struct {
    const char *name, *value; /* NUL-terminated inside the caller's buffer; value trimmed */
} hp_field;

typedef struct {
    const char *method;   /* a token */
    const char *path;     /* origin-form path (starts with '/'), without the query, not decoded */
    const char *query;    /* after '?': pairs separated by NUL bytes, query_len bytes; NULL if none */
    size_t query_len;
    int minor;            /* HTTP/1.minor: 0 or 1 */
    size_t nfields;
    hp_field fields[HP_MAX_FIELDS];
    int has_length;       /* a Content-Length field was present */
    uint64_t content_length; /* saturates at UINT64_MAX */
    int expect_continue;  /* Expect: 100-continue */
    int close;            /* Connection: close, or HTTP/1.0 (which never keeps the connection) */
} hp_request;

enum { HP_MORE = 0, HP_DONE = 1, HP_BAD = -1 };

/* Looks for the end of the request head (the first empty line) in buf[0..len), rejecting a bare CR,
 * a bare LF or a NUL byte as soon as it arrives. *scanned carries the position across calls on a
 * growing buffer (start with 0), so the work over a trickled head stays linear.
 * Returns HP_DONE with *head_len = bytes up to and including the empty line, HP_MORE, or HP_BAD
 * with *why set (the answer is 400). */
int hp_scan(const char *buf, size_t len, size_t *scanned, size_t *head_len, const char **why);

/* Parses the head buf[0..head_len) found by hp_scan (it ends with CRLF CRLF), writing NUL bytes into
 * buf. Returns 0 with r filled, or the HTTP status to answer (400, 411, 417, 431, 505) with *why
 * set; r->method and r->path are then set if the request line was valid (else NULL). */
int hp_parse(hp_request *r, char *buf, size_t head_len, const char **why);

/* The value of the first field called name (ASCII case-insensitive), or NULL. */
const char *hp_field_get(const hp_request *r, const char *name);

/* The value of the first query parameter called name (exact match; "k" alone gives ""), or NULL.
 * Values are not percent-decoded. */
const char *hp_query_get(const hp_request *r, const char *name);

#endif
