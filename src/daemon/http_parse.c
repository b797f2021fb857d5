/* tkmsd: strict HTTP/1.1 request-head parser (RFC 9112), sans I/O. See http_parse.h for the
 * contract and docs/security.md ("HTTP strictness") for every rule and why it is there. */
#include "http_parse.h"

#include <string.h>

/* Fields the daemon reads: a second copy of any of them is refused, so no two components can pick
 * different copies (the classic request-smuggling and authentication-confusion ambiguity). */
static const char *const SINGLETONS[] = {"host",          "content-length", "transfer-encoding",
                                         "expect",        "authorization",  "content-type",
                                         "x-tkms-key",    "x-tkms-time",    "x-tkms-sig"};

static int is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

/* ASCII case-insensitive equality (no locale). */
static int ieq(const char *a, const char *b) {
    while (*a && *b && lower((unsigned char)*a) == lower((unsigned char)*b)) a++, b++;
    return *a == 0 && *b == 0;
}

static int ieq_n(const char *a, size_t n, const char *b) {
    size_t i = 0;
    for (; i < n && b[i]; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return i == n && b[i] == 0;
}

int hp_scan(const char *buf, size_t len, size_t *scanned, size_t *head_len, const char **why) {
    size_t i = *scanned;
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\r') {
            if (i + 1 == len) break; /* decide when the next byte is here */
            if (buf[i + 1] != '\n') {
                *why = "bare CR in the request head";
                return HP_BAD;
            }
        } else if (ch == '\n') {
            if (i == 0 || buf[i - 1] != '\r') {
                *why = "bare LF in the request head (lines must end with CRLF)";
                return HP_BAD;
            }
            if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                *scanned = *head_len = i + 1;
                return HP_DONE;
            }
        } else if (ch == 0) {
            *why = "NUL byte in the request head";
            return HP_BAD;
        }
    }
    *scanned = i;
    return HP_MORE;
}

static int bad(const char **why, const char *msg, int status) {
    *why = msg;
    return status;
}

/* request-line = method SP request-target SP HTTP-version; the target must be origin-form. */
static int parse_request_line(hp_request *r, char *p, char *e, const char **why) {
    char *sp1 = memchr(p, ' ', (size_t)(e - p));
    if (!sp1 || sp1 == p || sp1 - p > 32) return bad(why, "malformed request line", 400);
    for (char *q = p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q)) return bad(why, "malformed method in the request line", 400);
    char *t = sp1 + 1;
    char *sp2 = memchr(t, ' ', (size_t)(e - t));
    if (!sp2 || sp2 == t) return bad(why, "malformed request line", 400);
    for (char *q = t; q < sp2; q++) {
        unsigned char c = (unsigned char)*q;
        if (c < 0x21 || c > 0x7e || c == '#') return bad(why, "invalid character in the request target", 400);
    }
    if (*t != '/') return bad(why, "the request target must be a path (origin-form)", 400);
    char *v = sp2 + 1;
    *sp1 = 0;
    *sp2 = 0;
    char *q = memchr(t, '?', (size_t)(sp2 - t));
    if (q) {
        *q = 0;
        r->query = q + 1;
        r->query_len = (size_t)(sp2 - (q + 1));
        for (char *a = q + 1; a < sp2; a++)
            if (*a == '&') *a = 0;
    }
    r->method = p;
    r->path = t;
    if (e - v == 8 && !memcmp(v, "HTTP/1.", 7) && (v[7] == '1' || v[7] == '0')) {
        r->minor = v[7] - '0';
        return 0;
    }
    if (e - v == 8 && !memcmp(v, "HTTP/", 5) && v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' &&
        v[7] <= '9')
        return bad(why, "HTTP version not supported (HTTP/1.1 only)", 505);
    return bad(why, "malformed HTTP version in the request line", 400);
}

/* Content-Length = 1*DIGIT; a list ("5, 5"), a sign or spaces are refused. Saturates. */
static int parse_length(const char *v, uint64_t *out) {
    if (!*v) return 0;
    uint64_t x = 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9') return 0;
        unsigned d = (unsigned)(*v - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
    }
    *out = x;
    return 1;
}

int hp_parse(hp_request *r, char *buf, size_t head_len, const char **why) {
    memset(r, 0, sizeof *r);
    char *p = buf, *end = buf + head_len;
    char *e = memchr(p, '\r', (size_t)(end - p)); /* hp_scan guarantees every CR is followed by LF */
    if (!e || e == p) return bad(why, "empty line before the request line", 400);
    int st = parse_request_line(r, p, e, why);
    if (st) return st;
    p = e + 2;
    for (;;) {
        e = memchr(p, '\r', (size_t)(end - p));
        if (!e) return bad(why, "truncated request head", 400);
        if (e == p) break; /* the empty line */
        if (*p == ' ' || *p == '\t') return bad(why, "obs-fold (a folded header line) is not accepted", 400);
        char *c = p;
        while (c < e && is_tchar((unsigned char)*c)) c++;
        if (c == e || *c != ':') {
            if (c < e && (*c == ' ' || *c == '\t')) return bad(why, "whitespace between a field name and the colon", 400);
            return bad(why, "malformed header field", 400);
        }
        if (c == p) return bad(why, "empty header field name", 400);
        char *v = c + 1, *ve = e;
        while (v < ve && (*v == ' ' || *v == '\t')) v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        for (char *q = v; q < ve; q++) {
            unsigned char ch = (unsigned char)*q;
            if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) return bad(why, "control character in a header value", 400);
        }
        if (r->nfields == HP_MAX_FIELDS) return bad(why, "too many header fields", 431);
        *c = 0;
        *ve = 0;
        r->fields[r->nfields].name = p;
        r->fields[r->nfields].value = v;
        r->nfields++;
        p = e + 2;
    }

    for (size_t k = 0; k < sizeof SINGLETONS / sizeof SINGLETONS[0]; k++) {
        int n = 0;
        for (size_t i = 0; i < r->nfields; i++) n += ieq(r->fields[i].name, SINGLETONS[k]);
        if (n > 1) return bad(why, "a header field the server reads is repeated", 400);
    }
    const char *host = hp_field_get(r, "host");
    if (r->minor == 1 && !host) return bad(why, "missing Host header field", 400);
    if (host && strpbrk(host, " \t,")) return bad(why, "malformed Host header field", 400);
    const char *cl = hp_field_get(r, "content-length");
    if (cl) {
        if (!parse_length(cl, &r->content_length)) return bad(why, "malformed Content-Length", 400);
        r->has_length = 1;
    }
    if (hp_field_get(r, "transfer-encoding")) {
        if (cl) return bad(why, "both Content-Length and Transfer-Encoding", 400);
        return bad(why, "Transfer-Encoding is not supported; send Content-Length", 411);
    }
    for (size_t i = 0; i < r->nfields; i++) {
        if (!ieq(r->fields[i].name, "connection")) continue;
        const char *t = r->fields[i].value;
        while (*t) {
            while (*t == ' ' || *t == '\t' || *t == ',') t++;
            size_t n = strcspn(t, " \t,");
            if (n && ieq_n(t, n, "close")) r->close = 1;
            t += n;
        }
    }
    if (r->minor == 0) r->close = 1;
    const char *ex = hp_field_get(r, "expect");
    if (ex) {
        if (!ieq(ex, "100-continue")) return bad(why, "unsupported expectation", 417);
        r->expect_continue = 1;
    }
    return 0;
}

const char *hp_field_get(const hp_request *r, const char *name) {
    for (size_t i = 0; i < r->nfields; i++)
        if (ieq(r->fields[i].name, name)) return r->fields[i].value;
    return NULL;
}

const char *hp_query_get(const hp_request *r, const char *name) {
    if (!r->query) return NULL;
    size_t nl = strlen(name);
    const char *p = r->query, *end = r->query + r->query_len;
    while (p < end) {
        size_t l = strlen(p); /* every pair ends with a NUL written by the parser */
        const char *eq = memchr(p, '=', l);
        size_t kl = eq ? (size_t)(eq - p) : l;
        if (kl == nl && !memcmp(p, name, nl)) return eq ? eq + 1 : p + l;
        p += l + 1;
    }
    return NULL;
}
