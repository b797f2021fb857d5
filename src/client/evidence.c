/* libtkms-client: attestation evidence producers bound to B. configfs-tsm (TDX and SEV-SNP,
 * Linux >= 6.7), the Confidential Space launcher socket (gcp-cs OIDC token with our audience and
 * eat_nonce), and the insecure-dev signer (docs/attestation.md "insecure-dev statement"). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "client_internal.h"
#include "identity.h"
#include "net.h"
#include "proto_tags.h"

#define CONFIGFS_DEFAULT "/sys/kernel/config/tsm/report"
#define TEESERVER_DEFAULT "/run/container_launcher/teeserver.sock"
#define DEV_DOMAIN TKMS_TAG_INSECURE_DEV
#define EVIDENCE_MAX (1u << 20)

tkms_client_att tkms_client_att_from_name(const char *name) {
    if (!name) return 0;
    if (!strcmp(name, "dev") || !strcmp(name, "insecure-dev")) return TKMS_CLIENT_ATT_DEV;
    if (!strcmp(name, "gcp-cs")) return TKMS_CLIENT_ATT_GCP_CS;
    if (!strcmp(name, "tdx")) return TKMS_CLIENT_ATT_TDX;
    if (!strcmp(name, "sev-snp")) return TKMS_CLIENT_ATT_SEV_SNP;
    return 0;
}

const char *tkms_client_att_name(tkms_client_att m) {
    switch (m) {
    case TKMS_CLIENT_ATT_DEV: return "insecure-dev";
    case TKMS_CLIENT_ATT_GCP_CS: return "gcp-cs";
    case TKMS_CLIENT_ATT_TDX: return "tdx";
    case TKMS_CLIENT_ATT_SEV_SNP: return "sev-snp";
    }
    return "unknown";
}

void tkms_client_evidence_free(tkms_client_evidence *ev) {
    if (!ev) return;
    free(ev->evidence);
    free(ev->collateral);
    memset(ev, 0, sizeof *ev);
}

/* ---- dev signer ---- */

static tkms_client_status read_dev_key(uint8_t sk[32], tkms_status *es, const char *path) {
    size_t len;
    uint8_t *buf = cl_read_file(path, &len, 4096);
    if (!buf) return cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "cannot read dev key file '%s': %s", path, strerror(errno));
    size_t s = 0, e = len;
    while (s < e && (buf[s] == ' ' || buf[s] == '\n' || buf[s] == '\r' || buf[s] == '\t')) s++;
    while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\n' || buf[e - 1] == '\r' || buf[e - 1] == '\t')) e--;
    int ok = tkms_unhex(sk, 32, (const char *)buf + s, e - s, TKMS_HEX_ANY_CASE);
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (!ok) return cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "dev key file '%s' must hold 64 hex digits", path);
    return TKMS_CLIENT_OK;
}

tkms_client_status tkms_client_dev_keygen(uint8_t pub_out[32], tkms_status *es, const char *path) {
    cl_status_ok(es);
    uint8_t sk[32], pub[32];
    char hex[66];
    if (!path) return cl_fail(es, TKMS_CLIENT_E_USAGE, "no key file path");
    if (RAND_bytes(sk, 32) != 1 || !tkms_ed25519_pubkey(pub, sk)) {
        OPENSSL_cleanse(sk, sizeof sk);
        return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "random key generation failed");
    }
    tkms_hex(hex, sk, 32);
    OPENSSL_cleanse(sk, sizeof sk);
    hex[64] = '\n';
    hex[65] = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    tkms_client_status st = TKMS_CLIENT_OK;
    if (fd < 0) {
        st = cl_fail(es, TKMS_CLIENT_E_USAGE, "cannot create '%s': %s", path, strerror(errno));
    } else {
        if (fchmod(fd, 0600) != 0 || write(fd, hex, 65) != 65) {
            st = cl_fail(es, TKMS_CLIENT_E_USAGE, "cannot write '%s': %s", path, strerror(errno));
            unlink(path);
        }
        if (close(fd) != 0 && st == TKMS_CLIENT_OK) st = cl_fail(es, TKMS_CLIENT_E_USAGE, "cannot write '%s'", path);
    }
    OPENSSL_cleanse(hex, sizeof hex);
    if (st == TKMS_CLIENT_OK) memcpy(pub_out, pub, 32);
    return st;
}

static tkms_client_status dev_evidence(tkms_client_evidence *ev, tkms_status *es, const tkms_client_evidence_opts *o,
                                       const uint8_t app_id[20], const uint8_t binding[64]) {
    uint8_t sk[32], pk[32], sig[64], msg[sizeof DEV_DOMAIN - 1 + 20 + 64];
    tkms_client_status st;
    if (o->dev_key_file) {
        if ((st = read_dev_key(sk, es, o->dev_key_file)) != TKMS_CLIENT_OK) return st;
    } else if (RAND_bytes(sk, 32) != 1) {
        return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "RNG failure");
    }
    memcpy(msg, DEV_DOMAIN, sizeof DEV_DOMAIN - 1);
    memcpy(msg + sizeof DEV_DOMAIN - 1, app_id, 20);
    memcpy(msg + sizeof DEV_DOMAIN - 1 + 20, binding, 64);
    int ok = tkms_ed25519_pubkey(pk, sk) && tkms_ed25519_sign(sig, sk, msg, sizeof msg);
    OPENSSL_cleanse(sk, sizeof sk);
    if (!ok) return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "Ed25519 signing failed");
    char app[43], bh[129], ph[65], sh[129];
    tkms_client_format_app_id(app, app_id);
    tkms_hex(bh, binding, 64);
    tkms_hex(ph, pk, 32);
    tkms_hex(sh, sig, 64);
    char *s = malloc(512);
    if (!s) return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
    int n = snprintf(s, 512,
                     "{\"format\":\"tkms-insecure-dev-v1\",\"app_id\":\"%s\",\"binding\":\"%s\",\"public_key\":\"%s\","
                     "\"signature\":\"%s\"}",
                     app, bh, ph, sh);
    ev->evidence = (uint8_t *)s;
    ev->evidence_len = (size_t)n;
    snprintf(ev->provider, sizeof ev->provider, "insecure-dev");
    return TKMS_CLIENT_OK;
}

/* ---- configfs-tsm ---- */

static int write_attr(const char *dir, const char *name, const uint8_t *data, size_t len) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) return 0;
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    /* On configfs the attribute exists as soon as the entry does; creating it only happens in a
     * plain directory standing in for configfs (tests). */
    if (fd < 0 && errno == ENOENT) fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    ssize_t w = write(fd, data, len);
    int ok = w == (ssize_t)len;
    return close(fd) == 0 && ok;
}

/* Reads an attribute; with wait_ms > 0 waits for it to appear (a stand-in provider in tests). */
static uint8_t *read_attr(const char *dir, const char *name, size_t *len, unsigned wait_ms) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    double until = cl_now_ms() + wait_ms;
    for (;;) {
        uint8_t *b = cl_read_file(p, len, EVIDENCE_MAX);
        if (b || errno != ENOENT || cl_now_ms() >= until) return b;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) s[--n] = 0;
}

static void remove_entry(const char *dir) {
    if (rmdir(dir) == 0 || errno != ENOTEMPTY) return;
    /* A plain directory standing in for configfs: remove the files we or the fake made. */
    static const char *const names[] = {"inblob", "outblob", "auxblob", "provider", "generation", "privlevel", NULL};
    char p[4096];
    for (size_t i = 0; names[i]; i++) {
        if (snprintf(p, sizeof p, "%s/%s", dir, names[i]) < (int)sizeof p) unlink(p);
    }
    rmdir(dir);
}

/* SEV-SNP certificate table (GHCB spec: GUID, u32 offset, u32 length; zero entry ends it): the
 * VCEK, GUID 63da758d-e664-4564-adc5-f4b93be8accd, is sent as the collateral. */
static int snp_vcek(uint8_t **out, size_t *out_len, const uint8_t *t, size_t n) {
    static const uint8_t guid[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                     0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    static const uint8_t zero[24];
    for (size_t off = 0; off + 24 <= n; off += 24) {
        if (!memcmp(t + off, zero, 24)) break;
        uint32_t o = (uint32_t)t[off + 16] | (uint32_t)t[off + 17] << 8 | (uint32_t)t[off + 18] << 16 | (uint32_t)t[off + 19] << 24;
        uint32_t l = (uint32_t)t[off + 20] | (uint32_t)t[off + 21] << 8 | (uint32_t)t[off + 22] << 16 | (uint32_t)t[off + 23] << 24;
        if (memcmp(t + off, guid, 16) != 0) continue;
        if (o > n || l > n - o || l == 0) return 0;
        *out = malloc(l);
        if (!*out) return 0;
        memcpy(*out, t + o, l);
        *out_len = l;
        return 1;
    }
    return 0;
}

static tkms_client_status configfs_evidence(tkms_client_evidence *ev, tkms_status *es, const tkms_client_evidence_opts *o,
                                            const uint8_t binding[64]) {
    const char *root = o->configfs_root ? o->configfs_root : CONFIGFS_DEFAULT;
    const char *want = o->method == TKMS_CLIENT_ATT_TDX ? "tdx_guest" : "sev_guest";
    unsigned wait = o->timeout_ms ? o->timeout_ms : 10000;
    uint8_t rnd[8];
    char dir[4096], rh[17];
    if (RAND_bytes(rnd, sizeof rnd) != 1) return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "RNG failure");
    tkms_hex(rh, rnd, 8);
    if (snprintf(dir, sizeof dir, "%s/tkms-%ld-%s", root, (long)getpid(), rh) >= (int)sizeof dir - 32)
        return cl_fail(es, TKMS_CLIENT_E_USAGE, "configfs root path too long");
    if (mkdir(dir, 0700) != 0)
        return cl_fail(es, TKMS_CLIENT_E_EVIDENCE,
                       "cannot create configfs-tsm report entry %s: %s (needs Linux >= 6.7 with configfs mounted, a %s provider and root)",
                       dir, strerror(errno), want);
    tkms_client_status st = TKMS_CLIENT_OK;
    uint8_t *out = NULL, *prov = NULL, *gen1 = NULL, *gen2 = NULL, *aux = NULL;
    size_t out_len = 0, pl = 0, g1l = 0, g2l = 0, al = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        free(out), free(gen1), free(gen2), free(prov);
        out = gen1 = gen2 = prov = NULL;
        if (!write_attr(dir, "inblob", binding, 64)) {
            st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "cannot write %s/inblob: %s", dir, strerror(errno));
            goto done;
        }
        gen1 = read_attr(dir, "generation", &g1l, 0);
        out = read_attr(dir, "outblob", &out_len, wait);
        if (!out) {
            st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "cannot read %s/outblob: %s", dir, strerror(errno));
            goto done;
        }
        gen2 = read_attr(dir, "generation", &g2l, 0);
        /* generation changes if another writer raced us between inblob and outblob: retry */
        if (!gen1 || !gen2 || (g1l == g2l && !memcmp(gen1, gen2, g1l))) break;
        if (attempt == 2) {
            st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "configfs-tsm entry %s keeps changing (concurrent writer)", dir);
            goto done;
        }
    }
    prov = read_attr(dir, "provider", &pl, 0);
    if (!prov) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "cannot read %s/provider: %s", dir, strerror(errno));
        goto done;
    }
    trim((char *)prov);
    if (strcmp((char *)prov, want) != 0) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "configfs-tsm provider is '%.40s', %s needs %s", (char *)prov,
                     tkms_client_att_name(o->method), want);
        goto done;
    }
    if (out_len == 0) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "configfs-tsm returned an empty report");
        goto done;
    }
    if (o->method == TKMS_CLIENT_ATT_SEV_SNP && !ev->collateral && (aux = read_attr(dir, "auxblob", &al, 0)) != NULL)
        (void)snp_vcek(&ev->collateral, &ev->collateral_len, aux, al);
    snprintf(ev->provider, sizeof ev->provider, "%s", (char *)prov);
    ev->evidence = out;
    ev->evidence_len = out_len;
    out = NULL;
done:
    free(out), free(prov), free(gen1), free(gen2), free(aux);
    remove_entry(dir);
    return st;
}

/* ---- Confidential Space launcher ---- */

static tkms_client_status gcp_evidence(tkms_client_evidence *ev, tkms_status *es, const tkms_client_evidence_opts *o,
                                       const uint8_t binding[64]) {
    const char *sock = o->teeserver_socket ? o->teeserver_socket : TEESERVER_DEFAULT;
    char nonce[65];
    tkms_hex(nonce, binding, 32);
    json_t *req = json_pack("{s:s, s:[s], s:s}", "audience", o->audience ? o->audience : "tkms", "nonces", nonce,
                            "token_type", "OIDC");
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
    tkms_net_global_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    tkms_net_body b;
    tkms_net_body_init(&b, EVIDENCE_MAX);
    tkms_net_opts no = {.timeout_ms = (long)(o->timeout_ms ? o->timeout_ms : 10000), .body = &b, .headers = hd,
                        .unix_socket = sock};
    CURL *h = hd ? tkms_net_easy("http://localhost/v1/token", &no) : NULL;
    long code = 0;
    tkms_client_status st = TKMS_CLIENT_OK;
    if (!h || !tkms_net_post(h, body, strlen(body))) {
        st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "libcurl initialisation failed");
        goto out;
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "Confidential Space launcher at %s: %s", sock, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "Confidential Space launcher answered HTTP %ld: %.120s", code,
                     b.p ? (char *)b.p : "");
        goto out;
    }
    size_t s = 0, e = b.len, dots = 0;
    while (s < e && (b.p[s] == ' ' || b.p[s] == '\n' || b.p[s] == '\r')) s++;
    while (e > s && (b.p[e - 1] == ' ' || b.p[e - 1] == '\n' || b.p[e - 1] == '\r')) e--;
    for (size_t i = s; i < e; i++) dots += b.p[i] == '.';
    if (e == s || dots != 2) {
        st = cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "Confidential Space launcher returned something that is not a JWT");
        goto out;
    }
    ev->evidence = malloc(e - s);
    if (!ev->evidence) {
        st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
        goto out;
    }
    memcpy(ev->evidence, b.p + s, e - s);
    ev->evidence_len = e - s;
    snprintf(ev->provider, sizeof ev->provider, "gcp-cs");
out:
    tkms_net_body_free(&b);
    free(body);
    curl_slist_free_all(hd);
    if (h) curl_easy_cleanup(h);
    return st;
}

tkms_client_status tkms_client_evidence_get(tkms_client_evidence *ev, tkms_status *es, const tkms_client_evidence_opts *o,
                                            const uint8_t app_id[20], const uint8_t binding[64]) {
    cl_status_ok(es);
    memset(ev, 0, sizeof *ev);
    if (!o || !app_id || !binding) return cl_fail(es, TKMS_CLIENT_E_USAGE, "missing argument");
    if (o->collateral_file) {
        ev->collateral = cl_read_file(o->collateral_file, &ev->collateral_len, 4u << 20);
        if (!ev->collateral)
            return cl_fail(es, TKMS_CLIENT_E_EVIDENCE, "cannot read collateral file '%s': %s", o->collateral_file,
                           strerror(errno));
    }
    tkms_client_status st;
    switch (o->method) {
    case TKMS_CLIENT_ATT_DEV: st = dev_evidence(ev, es, o, app_id, binding); break;
    case TKMS_CLIENT_ATT_GCP_CS: st = gcp_evidence(ev, es, o, binding); break;
    case TKMS_CLIENT_ATT_TDX:
    case TKMS_CLIENT_ATT_SEV_SNP: st = configfs_evidence(ev, es, o, binding); break;
    default: st = cl_fail(es, TKMS_CLIENT_E_USAGE, "unknown attestation method");
    }
    if (st != TKMS_CLIENT_OK) tkms_client_evidence_free(ev);
    return st;
}
