/* Operator node library: Ed25519/X25519 identity keys, the ChaCha20-Poly1305 seal for secrets at
 * rest, the storage key (0600 key file or Argon2id passphrase) and the signed request envelope. */
#include "node.h"
#include "identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "proto_bytes.h"
#include "proto_tags.h"
#include "prim.h"

static int raw_keygen(int type, uint8_t sk[32], uint8_t pk[32]) {
    if (!node_random(sk, 32)) return 0;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, sk, 32);
    size_t n = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &n) == 1 && n == 32;
    EVP_PKEY_free(k);
    if (!ok) node_wipe(sk, 32);
    return ok;
}

int node_ed25519_keygen(uint8_t sk[32], uint8_t pk[32]) { return raw_keygen(EVP_PKEY_ED25519, sk, pk); }
int node_x25519_keygen(uint8_t sk[32], uint8_t pk[32]) { return raw_keygen(EVP_PKEY_X25519, sk, pk); }

int node_seal(uint8_t *out, const uint8_t key[32], const uint8_t *pt, size_t len, const char *aad) {
    if (!node_random(out, 12)) return 0;
    return tkms_aead(1, out + 12, key, out, (const uint8_t *)aad, strlen(aad), pt, len, out + 12 + len);
}

int node_open(uint8_t *out, const uint8_t key[32], const uint8_t *ct, size_t len, const char *aad) {
    if (len < NODE_SEAL_OVERHEAD) return 0;
    uint8_t tag[16];
    memcpy(tag, ct + len - 16, 16);
    return tkms_aead(0, out, key, ct, (const uint8_t *)aad, strlen(aad), ct + 12, len - NODE_SEAL_OVERHEAD, tag);
}

static int read_secret_line(char *buf, size_t cap, const char *path, int strict_mode, tkms_status *st) {
    struct stat sb;
    if (stat(path, &sb) != 0) return node_err(st, TKMS_CLASS_USAGE, "cannot open '%s': %s", path, strerror(errno));
    if (strict_mode && (sb.st_mode & 077))
        return node_err(st, TKMS_CLASS_USAGE, "'%s' is readable by group or others (mode %03o); chmod 600 it", path,
                        (unsigned)(sb.st_mode & 0777));
    size_t n = 0;
    char *b = node_read_file(path, &n, 4096, st);
    if (!b) return 0;
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ')) b[--n] = 0;
    if (n + 1 > cap) {
        node_wipe(b, n);
        free(b);
        return node_err(st, TKMS_CLASS_INPUT, "'%s' is too long", path);
    }
    memcpy(buf, b, n + 1);
    node_wipe(b, n);
    free(b);
    return 1;
}

int node_storage_key(uint8_t key[32], const node_config *cfg, tkms_status *st) {
    char buf[1024];
    if (cfg->kdf_passphrase) {
        const char *env = getenv("TKMS_PASSPHRASE");
        if (cfg->passphrase_file) {
            char *p = node_path_join(cfg->dir, cfg->passphrase_file);
            int ok = p && read_secret_line(buf, sizeof buf, p, 1, st);
            free(p);
            if (!ok) return 0;
        } else if (env) {
            if (strlen(env) + 1 > sizeof buf) return node_err(st, TKMS_CLASS_INPUT, "TKMS_PASSPHRASE is too long");
            strcpy(buf, env);
        } else {
            return node_err(st, TKMS_CLASS_USAGE, "passphrase mode: set passphrase_file in the config or TKMS_PASSPHRASE");
        }
        if (strlen(buf) < 8) {
            node_wipe(buf, sizeof buf);
            return node_err(st, TKMS_CLASS_USAGE, "the passphrase must have at least 8 characters");
        }
        int rc = argon2id_hash_raw((uint32_t)cfg->kdf_t_cost, (uint32_t)cfg->kdf_m_cost_kib,
                                   (uint32_t)cfg->kdf_parallelism, buf, strlen(buf), cfg->kdf_salt,
                                   sizeof cfg->kdf_salt, key, 32);
        node_wipe(buf, sizeof buf);
        if (rc != ARGON2_OK) return node_err(st, TKMS_CLASS_INTERNAL, "argon2id: %s", argon2_error_message(rc));
        return 1;
    }
    if (!cfg->storage_key_file) return node_err(st, TKMS_CLASS_USAGE, "no storage_key_file in the config");
    char *p = node_path_join(cfg->dir, cfg->storage_key_file);
    int ok = p && read_secret_line(buf, sizeof buf, p, 1, st);
    if (ok && !node_unhex(key, 32, buf)) ok = node_err(st, TKMS_CLASS_INPUT, "'%s' does not hold a 32-byte hex key", p);
    free(p);
    node_wipe(buf, sizeof buf);
    return ok;
}

static void put_lp(EVP_MD_CTX *c, const void *p, size_t n) {
    uint8_t l[4];
    proto_be32(l, (uint32_t)n);
    EVP_DigestUpdate(c, l, 4);
    if (n) EVP_DigestUpdate(c, p, n);
}

/* The destination as signed: the address without trailing '/', so "http://h:1/" and "http://h:1"
 * name the same node. */
static size_t dest_len(const char *dest) {
    size_t n = dest ? strlen(dest) : 0;
    while (n && dest[n - 1] == '/') n--;
    return n;
}

/* The signed string is hashed first (SHA-512) so that large bodies need not be copied. */
static int envelope_hash(uint8_t h[64], const char *dest, const char *method, const char *path, uint64_t ts,
                         const uint8_t *body, size_t len) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned hl = 0;
    uint8_t t[8];
    proto_be64(t, ts);
    int ok = c && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1;
    if (ok) {
        EVP_DigestUpdate(c, TKMS_TAG_ENVELOPE, TKMS_TAG_LEN(TKMS_TAG_ENVELOPE));
        put_lp(c, dest, dest_len(dest));
        put_lp(c, method, strlen(method));
        put_lp(c, path, strlen(path));
        EVP_DigestUpdate(c, t, 8);
        put_lp(c, body, len);
        ok = EVP_DigestFinal_ex(c, h, &hl) == 1 && hl == 64;
    }
    EVP_MD_CTX_free(c);
    return ok;
}

int node_envelope_sign(uint8_t sig[64], const uint8_t sk[32], const char *dest, const char *method, const char *path,
                       uint64_t ts_ms, const uint8_t *body, size_t len) {
    uint8_t h[64];
    return envelope_hash(h, dest, method, path, ts_ms, body, len) && tkms_ed25519_sign(sig, sk, h, 64);
}

int node_envelope_verify(const uint8_t sig[64], const uint8_t pk[32], const char *dest, const char *method,
                         const char *path, uint64_t ts_ms, const uint8_t *body, size_t len) {
    uint8_t h[64];
    return envelope_hash(h, dest, method, path, ts_ms, body, len) && tkms_ed25519_verify(sig, pk, h, 64);
}

void node_envelope_digest(uint8_t out[32], const uint8_t sig[64]) { SHA256(sig, 64, out); }
