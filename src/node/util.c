/* Operator node library: status messages, hex, clocks, atomic file writes and locked memory. */
#define _GNU_SOURCE
#include "node.h"
#include "prim.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

int node_err(tkms_status *st, tkms_class cls, const char *fmt, ...) {
    if (st) {
        va_list ap;
        va_start(ap, fmt);
        st->cls = cls;
        st->code = 0;
        vsnprintf(st->msg, sizeof st->msg, fmt, ap);
        va_end(ap);
    }
    return 0;
}

int node_unhex(uint8_t *out, size_t len, const char *hex) {
    return hex && tkms_unhex(out, len, hex, strlen(hex), TKMS_HEX_ANY_CASE);
}

uint8_t *node_unhex_alloc(const char *hex, size_t *len) {
    if (!hex) return NULL;
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t n = strlen(hex);
    if (n % 2) return NULL;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b) return NULL;
    if (n && !node_unhex(b, n / 2, hex)) {
        free(b);
        return NULL;
    }
    *len = n / 2;
    return b;
}

int node_parse_u64(const char *s, uint64_t *out) {
    if (!s || s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1])) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

void node_wipe(void *p, size_t n) {
    if (p) tkms_wipe(p, n);
}

int node_random(uint8_t *out, size_t n) { return RAND_priv_bytes(out, (int)n) == 1; }

uint64_t node_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t node_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *node_read_file(const char *path, size_t *len, size_t max, tkms_status *st) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        node_err(st, TKMS_CLASS_USAGE, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                fclose(f);
                node_err(st, TKMS_CLASS_INPUT, "'%s' is larger than %zu bytes", path, max);
                return NULL;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        node_err(st, TKMS_CLASS_STORAGE, "cannot read '%s'", path);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int node_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, tkms_status *st) {
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return node_err(st, TKMS_CLASS_INTERNAL, "out of memory");
    snprintf(tmp, pl + 16, "%s.tmp%05d", path, (int)(getpid() % 100000));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        node_err(st, TKMS_CLASS_STORAGE, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return 0;
    }
    fchmod(fd, (mode_t)mode);
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            node_err(st, TKMS_CLASS_STORAGE, "cannot write '%s': %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return 0;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        node_err(st, TKMS_CLASS_STORAGE, "cannot sync '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return 0;
    }
    if (rename(tmp, path) != 0) {
        node_err(st, TKMS_CLASS_STORAGE, "cannot rename to '%s': %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return 0;
    }
    free(tmp);
    char *dcopy = strdup(path);
    if (dcopy) {
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    return 1;
}

char *node_path_join(const char *dir, const char *path) {
    if (!path) return NULL;
    if (path[0] == '/' || !dir || !dir[0]) return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%s/%s", dir, path);
    return r;
}

void *node_secure_alloc(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    (void)mlock(p, n); /* best effort: RLIMIT_MEMLOCK may be tiny in containers */
#ifdef MADV_DONTDUMP
    (void)madvise(p, n, MADV_DONTDUMP);
#endif
    memset(p, 0, n);
    return p;
}

void node_secure_free(void *p, size_t n) {
    if (!p) return;
    OPENSSL_cleanse(p, n);
    munlock(p, n);
    munmap(p, n);
}
