/* tkms: the one libcurl setup (src/net). Every HTTP client of the tree -- the daemon's peer client,
 * the CLI's node requests and `tkms app release`, libtkms-client's release round, group-chain walk
 * and Confidential Space launcher request -- builds its easy handles here and collects response
 * bodies in one growable buffer with a size cap. No policy beyond that: each caller keeps its own
 * limits, retries and result handling. */
#ifndef TKMS_NET_H
#define TKMS_NET_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* A response body: grows as data arrives, never beyond max bytes. p is NUL-terminated whenever it
 * is non-NULL (a convenience for JSON and text parsers; len excludes the NUL). */
typedef struct {
    uint8_t *p;
    size_t len, cap, max;
    int over; /* more than max bytes arrived (or were announced): the transfer was refused */
} tkms_net_body;

/* An empty collector refusing bodies longer than max bytes. */
void tkms_net_body_init(tkms_net_body *b, size_t max);
/* Empties b for another attempt (keeps its memory and max). */
void tkms_net_body_reset(tkms_net_body *b);
/* Frees the buffer; b is empty (same max) afterwards. */
void tkms_net_body_free(tkms_net_body *b);
/* Appends n bytes. Returns 1, or 0 when b would exceed max (b->over set, nothing appended) or on
 * allocation failure (b unchanged). */
int tkms_net_body_append(tkms_net_body *b, const void *data, size_t n);
/* The CURLOPT_WRITEFUNCTION for a tkms_net_body (CURLOPT_WRITEDATA): returning less than asked
 * makes libcurl abort with CURLE_WRITE_ERROR. */
size_t tkms_net_body_write(char *data, size_t size, size_t nmemb, void *body);

/* curl_global_init(CURL_GLOBAL_DEFAULT), once per process (thread-safe). */
void tkms_net_global_init(void);

typedef struct {
    long timeout_ms;          /* whole transfer; 0 = no bound */
    long connect_timeout_ms;  /* 0 = libcurl's default */
    tkms_net_body *body;      /* response collector (its max also becomes CURLOPT_MAXFILESIZE), or NULL */
    struct curl_slist *headers; /* request headers (not owned), or NULL */
    const char *unix_socket;  /* connect through this unix socket instead of TCP, or NULL */
    void *priv;               /* CURLOPT_PRIVATE */
} tkms_net_opts;

/* The common setup on a fresh or reused easy handle: the URL, protocols (and redirect protocols)
 * restricted to http and https, no redirects, no signals (NOSIGNAL: safe in threads), the
 * timeouts, the headers, the body collector with its cap. Returns 1, or 0 if libcurl refused an
 * option (e.g. out of memory). */
int tkms_net_setup(CURL *h, const char *url, const tkms_net_opts *o);
/* curl_easy_init() + tkms_net_setup(); NULL on failure. */
CURL *tkms_net_easy(const char *url, const tkms_net_opts *o);
/* Makes h a POST of len bytes at body (not copied: body must outlive the transfer). */
int tkms_net_post(CURL *h, const void *body, size_t len);

/* 1 if a finished transfer was refused because its body exceeded the collector's cap (announced
 * by Content-Length, or counted as it arrived). */
int tkms_net_too_large(CURLcode rc, const tkms_net_body *b);

/* Appends a header line (printf format, at most 511 bytes) to *l. Returns 1, or 0 on allocation
 * failure or an over-long line, after freeing the list (*l = NULL). The formatting buffer is wiped
 * (the line may hold a bearer token). */
int tkms_net_header(struct curl_slist **l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
