/* tkms service-layer sealing: drand tlock / age v1 files and tkms1: sealed secrets (DESIGN.md §2).
 * Uses OpenSSL (ChaCha20-Poly1305, RAND_bytes) and the core (IBE, hashing); allocates its outputs. */
#ifndef TKMS_SEAL_H
#define TKMS_SEAL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "prim.h"
#include "tkms/common.h"

/* Every call returns a tkms_status (include/tkms/common.h): the class the caller acts on, the seal
 * layer's code below in .code, and a message (never secret). */
typedef enum {
    TKMS_SEAL_OK = 0,
    TKMS_SEAL_E_INPUT = 1,    /* TKMS_CLASS_INPUT: malformed, truncated, modified, wrong key */
    TKMS_SEAL_E_USAGE = 2,    /* TKMS_CLASS_USAGE: bad arguments */
    TKMS_SEAL_E_INTERNAL = 3  /* TKMS_CLASS_INTERNAL: randomness or allocation failure */
} tkms_seal_code;

/* The status of a seal-layer outcome: its class, code c and message m. */
static inline tkms_status tkms_seal_st(tkms_seal_code c, const char *m) {
    tkms_status s = {c == TKMS_SEAL_OK      ? TKMS_CLASS_OK
                     : c == TKMS_SEAL_E_INPUT ? TKMS_CLASS_INPUT
                     : c == TKMS_SEAL_E_USAGE ? TKMS_CLASS_USAGE
                                              : TKMS_CLASS_INTERNAL,
                     (int)c, ""};
    snprintf(s.msg, sizeof s.msg, "%s", m ? m : "");
    return s;
}

/* A growable output buffer; free with tkms_buf_free (wipes first). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} tkms_buf;
void tkms_buf_free(tkms_buf *b);
int tkms_buf_append(tkms_buf *b, const void *data, size_t n);

/* ---- base64 (RFC 4648; tkms_b64_encode and the codec in prim.h) ---- */
/* tkms_b64_decode_alloc appending to out. Returns 1 or 0. */
int tkms_b64_decode(tkms_buf *out, const char *in, size_t n, int url, int pad);

/* ---- drand tlock / age v1 ---- */
typedef struct {
    const char *name;
    uint8_t public_key[96]; /* compressed G2 (quicknet: MPK in G2, signatures in G1) */
    uint8_t chain_hash[32];
    const char *dst;
    uint64_t genesis_time, period;
} tkms_tlock_chain;
extern const tkms_tlock_chain TKMS_TLOCK_QUICKNET;

/* Encrypts plaintext to `round` of the chain as an age v1 file with one `-> tlock ROUND HASH`
 * stanza (STREAM payload, 64 KiB chunks); armor selects ASCII armor. */
tkms_status tkms_tlock_encrypt(tkms_buf *out, const tkms_tlock_chain *chain, uint64_t round, const uint8_t *in,
                                    size_t in_len, int armor);
/* Decrypts an age file (binary or armored) with the beacon signature of its round: 48 bytes (G1,
 * keys in G1, MPK in G2) or 96 bytes (G2, the older chains). If the stanza names a chain whose key
 * is known (quicknet) or public_key is given, the signature is first verified as a BLS signature on
 * sha256(be64(round)) under dst (NULL: the default for the signature's group). Payload is
 * authenticated chunk by chunk; nothing is returned unless the whole file verifies. */
tkms_status tkms_tlock_decrypt(tkms_buf *out, const uint8_t *in, size_t in_len, const uint8_t *sig,
                                    size_t sig_len, const uint8_t *public_key, size_t pk_len, const char *dst);

/* ---- tkms1 sealed secrets ---- */
#define TKMS_SEAL_MAX_PLAINTEXT ((size_t)64 << 20) /* 64 MiB; larger input is rejected */
#define TKMS_SEAL_MAX_NAME 255

/* Seals plaintext to app_id under the cluster MPK (96-byte compressed G2). out receives the text
 * form "tkms1:" + base64url, NUL-terminated (out->len excludes the NUL). */
tkms_status tkms_seal(tkms_buf *out, const uint8_t mpk[96], const uint8_t app_id[20], const char *name,
                           const uint8_t *in, size_t in_len);
/* Opens a tkms1: text (surrounding whitespace allowed) with the 48-byte compressed app key.
 * If app_id is not NULL the sealed app must match it; if mpk is not NULL the key must verify
 * against it and its hash must match the header's. name_out (optional) receives a malloc'd
 * copy of the name. */
tkms_status tkms_unseal(tkms_buf *out, char **name_out, const char *text, size_t text_len, const uint8_t key[48],
                             const uint8_t *app_id, const uint8_t *mpk);

#endif
