/* tkms command line: argument, hex and file helpers shared by every sub-command. */
#include "cli.h"
#include "prim.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int cli_fail(int code, const char *fmt, ...) {
    va_list ap;
    fputs("tkms: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

const char *cli_opt(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strncmp(argv[i], name, n) == 0) {
            if (argv[i][n] == '\0' && i + 1 < argc) return argv[i + 1];
            if (argv[i][n] == '=') return argv[i] + n + 1;
        }
    }
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], name) == 0) return 1;
    }
    return 0;
}

int cli_check_opts(int argc, char **argv, const char *const *allowed) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if (strncmp(a, "--", 2) != 0) continue;
        size_t alen = strcspn(a, "=");
        int found = 0, takes_value = 1;
        for (const char *const *p = allowed; *p; p++) {
            size_t plen = strlen(*p);
            int is_flag = plen > 0 && (*p)[plen - 1] == '!';
            if (is_flag) plen--;
            if (plen == alen && strncmp(a, *p, plen) == 0) {
                found = 1;
                takes_value = !is_flag;
                break;
            }
        }
        if (!found) {
            cli_fail(CLI_USAGE, "unknown option '%.*s' (see --help)", (int)alen, a);
            return 0;
        }
        if (takes_value && a[alen] != '=') {
            if (i + 1 >= argc) {
                cli_fail(CLI_USAGE, "option '%s' needs a value", a);
                return 0;
            }
            i++;
        }
    }
    return 1;
}


int cli_hex_decode(uint8_t *out, size_t *out_len, size_t cap, const char *hex) {
    if (hex == NULL) return 0;
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap || !tkms_unhex(out, n / 2, hex, n, TKMS_HEX_ANY_CASE)) return 0;
    *out_len = n / 2;
    return 1;
}

int cli_hex_exact(uint8_t *out, size_t len, const char *hex) {
    size_t got = 0;
    return cli_hex_decode(out, &got, len, hex) && got == len;
}

void cli_hex_encode(char *out, const uint8_t *buf, size_t len) { tkms_hex(out, buf, len); }

void cli_print_hex(const uint8_t *buf, size_t len) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        putchar(digits[buf[i] >> 4]);
        putchar(digits[buf[i] & 15]);
    }
    putchar('\n');
}

uint8_t *cli_read_file(const char *path, size_t *len, size_t max) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_fail(CLI_USAGE, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) goto oom;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                cli_fail(CLI_REJECT, "'%s' is larger than %zu bytes", path, max);
                free(buf);
                if (f != stdin) fclose(f);
                return NULL;
            }
            cap = cap * 2 > max ? max : cap * 2;
            uint8_t *nb = realloc(buf, cap + 1);
            if (!nb) goto oom;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        cli_fail(CLI_USAGE, "cannot read '%s'", path);
        free(buf);
        if (f != stdin) fclose(f);
        return NULL;
    }
    if (f != stdin) fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
oom:
    free(buf);
    if (f != stdin) fclose(f);
    cli_fail(CLI_USAGE, "out of memory");
    return NULL;
}

int cli_read_secret_hex(uint8_t *out, size_t len, const char *path) {
    size_t n = 0;
    uint8_t *buf = cli_read_file(path, &n, 1 << 16);
    if (!buf) return 0;
    /* strip surrounding whitespace */
    size_t s = 0, e = n;
    while (s < e && isspace(buf[s])) s++;
    while (e > s && isspace(buf[e - 1])) e--;
    buf[e] = 0;
    int ok = cli_hex_exact(out, len, (const char *)buf + s);
    OPENSSL_cleanse(buf, n);
    free(buf);
    if (!ok) cli_fail(CLI_REJECT, "'%s' does not hold %zu bytes of hex", path, len);
    return ok;
}

uint8_t *cli_read_secret_hex_alloc(size_t *len, size_t min, size_t max, const char *path) {
    size_t n = 0;
    uint8_t *buf = cli_read_file(path, &n, 2 * max + 64);
    if (!buf) return NULL;
    size_t s = 0, e = n;
    while (s < e && isspace(buf[s])) s++;
    while (e > s && isspace(buf[e - 1])) e--;
    buf[e] = 0;
    uint8_t *out = malloc(max ? max : 1);
    size_t got = 0;
    int ok = out && cli_hex_decode(out, &got, max, (const char *)buf + s) && got >= min;
    OPENSSL_cleanse(buf, n);
    free(buf);
    if (!ok) {
        if (out) OPENSSL_cleanse(out, max);
        free(out);
        cli_fail(CLI_REJECT, "'%s' does not hold %zu to %zu bytes of hex", path, min, max);
        return NULL;
    }
    *len = got;
    return out;
}

int cli_removed_secret_opt(int argc, char **argv, const char *old, const char *repl) {
    size_t n = strlen(old);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strncmp(argv[i], old, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
            cli_fail(CLI_USAGE,
                     "%s was removed: a secret in the arguments is visible to every local user (ps, /proc/PID/cmdline) "
                     "and stays in shell history; put it in a file (mode 0600) and pass %s FILE, or %s - to read stdin",
                     old, repl, repl);
            return 1;
        }
    }
    return 0;
}
