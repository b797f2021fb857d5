/* libtkms-client: certified group files (load + verify), app IDs, the binding B, statuses and the
 * small helpers the other client files share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "client_internal.h"
#include "g2.h"
#include "tkms/attest.h"
#include "proto.h"
#include "prim.h"

tkms_client_status cl_fail(tkms_status *es, tkms_client_status code, const char *fmt, ...) {
    if (es) {
        es->cls = tkms_client_class(code);
        es->code = (int)code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(es->msg, sizeof es->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cl_status_ok(tkms_status *es) {
    if (es) memset(es, 0, sizeof *es);
}

double cl_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint8_t *cl_read_file(const char *path, size_t *len, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                OPENSSL_cleanse(buf, n);
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            uint8_t *nb = malloc(cap + 1);
            if (nb) memcpy(nb, buf, n);
            OPENSSL_cleanse(buf, n);
            free(buf);
            buf = nb;
            if (!buf) break;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                OPENSSL_cleanse(buf, n);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

const char *tkms_client_strerror(tkms_client_status st) {
    switch (st) {
    case TKMS_CLIENT_OK: return "ok";
    case TKMS_CLIENT_E_USAGE: return "bad arguments";
    case TKMS_CLIENT_E_GROUP: return "group file rejected";
    case TKMS_CLIENT_E_EVIDENCE: return "attestation evidence could not be produced";
    case TKMS_CLIENT_E_QUORUM: return "fewer than t nodes returned a valid partial key";
    case TKMS_CLIENT_E_VERIFY: return "combined key does not verify against the MPK";
    case TKMS_CLIENT_E_SEALED: return "sealed value rejected";
    case TKMS_CLIENT_E_INTERNAL: return "internal error";
    }
    return "unknown status";
}

tkms_class tkms_client_class(tkms_client_status st) {
    switch (st) {
    case TKMS_CLIENT_OK: return TKMS_CLASS_OK;
    case TKMS_CLIENT_E_USAGE:
    case TKMS_CLIENT_E_EVIDENCE: return TKMS_CLASS_USAGE; /* fix the call or the environment */
    case TKMS_CLIENT_E_GROUP:
    case TKMS_CLIENT_E_SEALED: return TKMS_CLASS_INPUT;
    case TKMS_CLIENT_E_QUORUM:
    case TKMS_CLIENT_E_VERIFY: return TKMS_CLASS_PEER;
    case TKMS_CLIENT_E_INTERNAL: return TKMS_CLASS_INTERNAL;
    }
    return TKMS_CLASS_INTERNAL;
}

int tkms_client_exit_code(tkms_client_status st) {
    switch (st) {
    case TKMS_CLIENT_OK: return 0;
    case TKMS_CLIENT_E_GROUP:
    case TKMS_CLIENT_E_QUORUM:
    case TKMS_CLIENT_E_VERIFY:
    case TKMS_CLIENT_E_SEALED: return 1;
    default: return 2;
    }
}

tkms_client_status tkms_client_group_parse(tkms_client_group **out, tkms_status *es, const char *json,
                                           size_t len) {
    cl_status_ok(es);
    *out = NULL;
    tkms_client_group *g = calloc(1, sizeof *g);
    char e[200] = "";
    if (!g) return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
    if (!tkms_group_parse(&g->g, json, len, e, sizeof e)) {
        free(g);
        return cl_fail(es, TKMS_CLIENT_E_GROUP, "group file: %s", e);
    }
    if (!tkms_group_verify(&g->g, NULL, e, sizeof e)) {
        free(g);
        return cl_fail(es, TKMS_CLIENT_E_GROUP, "group file not certified: %s", e);
    }
    *out = g;
    return TKMS_CLIENT_OK;
}

tkms_client_status tkms_client_group_load(tkms_client_group **out, tkms_status *es, const char *path) {
    cl_status_ok(es);
    size_t len;
    *out = NULL;
    if (!path) return cl_fail(es, TKMS_CLIENT_E_USAGE, "no group file given");
    uint8_t *buf = cl_read_file(path, &len, 16u << 20);
    if (!buf) return cl_fail(es, TKMS_CLIENT_E_GROUP, "cannot read group file '%s': %s", path, strerror(errno));
    tkms_client_status st = tkms_client_group_parse(out, es, (const char *)buf, len);
    free(buf);
    return st;
}

void tkms_client_group_free(tkms_client_group *g) { free(g); }
uint64_t tkms_client_group_epoch(const tkms_client_group *g) { return g->g.epoch; }
size_t tkms_client_group_n(const tkms_client_group *g) { return g->g.n; }
size_t tkms_client_group_t(const tkms_client_group *g) { return g->g.t; }
int tkms_client_group_dev_mode(const tkms_client_group *g) { return g->g.dev_mode; }
void tkms_client_group_mpk(uint8_t mpk[96], const tkms_client_group *g) { g2_serialize(mpk, &g->g.poly[0]); }

const char *tkms_client_group_address(const tkms_client_group *g, size_t index) {
    return index >= 1 && index <= g->g.n ? g->g.members[index - 1].address : NULL;
}

int tkms_client_parse_app_id(uint8_t app_id[20], const char *text) { return tkms_proto_app_id_parse(app_id, text); }

void tkms_client_format_app_id(char out[43], const uint8_t app_id[20]) { tkms_proto_app_id_format(out, app_id); }

void tkms_client_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t recipient[32], const uint8_t nonce[32]) {
    if (!tkms_attest_binding(out, app_id, recipient, nonce, 32)) memset(out, 0, 64);
}
