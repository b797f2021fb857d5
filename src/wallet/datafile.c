/* Streaming data-at-rest format: a 48-byte header, then ChaCha20-Poly1305 chunks under a per-file key
 * with a STREAM-style nonce (chunk counter || last-chunk flag). Sans-I/O: callers move the bytes. */
#include <string.h>

#include <openssl/evp.h>

#include "wallet_internal.h"
#include "proto_tags.h"
#include "prim.h"

static const uint8_t MAGIC[8] = {'T', 'K', 'M', 'S', 'D', 'A', 'T', 'A'};
enum { VERSION = 1 };

void tkms_datafile_wipe(tkms_datafile *st) {
    if (st) tkms_wallet_wipe(st, sizeof *st);
}

/* file key = HKDF-SHA256(data key, "TKMS-V1", "data-file" || header): every header byte (version,
 * chunk size, salt) is bound to the key, so a modified header fails the first chunk's tag. */
static int file_key(uint8_t key[32], const uint8_t data_key[32], const uint8_t header[TKMS_DATAFILE_HEADER_LEN]) {
    static const uint8_t salt[] = TKMS_SALT_V1;
    enum { IL = TKMS_TAG_LEN(TKMS_INFO_DATA_FILE) };
    uint8_t info[IL + TKMS_DATAFILE_HEADER_LEN];
    memcpy(info, TKMS_INFO_DATA_FILE, IL);
    memcpy(info + IL, header, TKMS_DATAFILE_HEADER_LEN);
    return tkms_hkdf_sha256(key, 32, data_key, 32, salt, sizeof salt - 1, info, sizeof info);
}

tkms_wallet_status tkms_datafile_encrypt_init(tkms_datafile *st, uint8_t header[TKMS_DATAFILE_HEADER_LEN],
                                              const uint8_t data_key[32], uint32_t chunk_size,
                                              const uint8_t salt[32]) {
    if (!st || !header || !data_key || !salt || chunk_size < TKMS_DATAFILE_CHUNK_MIN ||
        chunk_size > TKMS_DATAFILE_CHUNK_MAX)
        return TKMS_WALLET_EARG;
    memset(st, 0, sizeof *st);
    memcpy(header, MAGIC, 8);
    header[8] = VERSION;
    header[9] = header[10] = header[11] = 0;
    proto_be32(header + 12, chunk_size);
    memcpy(header + 16, salt, 32);
    if (!file_key(st->key, data_key, header)) {
        tkms_datafile_wipe(st);
        return TKMS_WALLET_EINTERNAL;
    }
    st->chunk_size = chunk_size;
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_datafile_decrypt_init(tkms_datafile *st, const uint8_t header[TKMS_DATAFILE_HEADER_LEN],
                                              const uint8_t data_key[32]) {
    if (!st || !header || !data_key) return TKMS_WALLET_EARG;
    memset(st, 0, sizeof *st);
    uint32_t cs = proto_rd_be32(header + 12);
    if (memcmp(header, MAGIC, 8) != 0 || header[8] != VERSION || header[9] || header[10] || header[11] ||
        cs < TKMS_DATAFILE_CHUNK_MIN || cs > TKMS_DATAFILE_CHUNK_MAX)
        return TKMS_WALLET_EFORMAT;
    if (!file_key(st->key, data_key, header)) {
        tkms_datafile_wipe(st);
        return TKMS_WALLET_EINTERNAL;
    }
    st->chunk_size = cs;
    return TKMS_WALLET_OK;
}

/* nonce = be88(counter) || last: the counter stops reordering and dropping chunks, the flag stops
 * truncation at a chunk boundary and appending after the end. */
static void make_nonce(uint8_t nonce[12], uint64_t counter, int last) {
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++) nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    nonce[11] = last ? 1 : 0;
}

static tkms_wallet_status aead(tkms_datafile *st, int enc, uint8_t *out, const uint8_t *in, size_t len,
                               uint8_t tag[16], int last) {
    uint8_t nonce[12];
    if (st->counter == UINT64_MAX) return TKMS_WALLET_EARG;
    make_nonce(nonce, st->counter, last);
    if (tkms_aead(enc, out, st->key, nonce, NULL, 0, in, len, tag)) return TKMS_WALLET_OK;
    return enc ? TKMS_WALLET_EINTERNAL : TKMS_WALLET_EAUTH;
}

tkms_wallet_status tkms_datafile_encrypt_chunk(tkms_datafile *st, uint8_t *out, const uint8_t *in, size_t len,
                                               int last) {
    if (!st || !out || (len && !in) || st->done || st->chunk_size == 0) return TKMS_WALLET_EARG;
    if (last ? len > st->chunk_size : len != st->chunk_size) return TKMS_WALLET_EARG;
    tkms_wallet_status rv = aead(st, 1, out, in, len, out + len, last);
    if (rv != TKMS_WALLET_OK) return rv;
    st->counter++;
    st->done = last != 0;
    return TKMS_WALLET_OK;
}

tkms_wallet_status tkms_datafile_decrypt_chunk(tkms_datafile *st, uint8_t *out, const uint8_t *in, size_t clen,
                                               int last) {
    uint8_t tag[16];
    if (!st || !in || st->done || st->chunk_size == 0) return TKMS_WALLET_EARG;
    if (clen < TKMS_DATAFILE_TAG_LEN) return TKMS_WALLET_EAUTH; /* truncated inside a tag */
    size_t len = clen - TKMS_DATAFILE_TAG_LEN;
    /* A non-last chunk is always full; a short chunk that is not followed by EOF cannot be valid. */
    if (len > st->chunk_size || (!last && len != st->chunk_size)) return TKMS_WALLET_EAUTH;
    if (len && !out) return TKMS_WALLET_EARG;
    memcpy(tag, in + len, 16);
    tkms_wallet_status rv = aead(st, 0, out, in, len, tag, last);
    if (rv != TKMS_WALLET_OK) {
        if (len) tkms_wallet_wipe(out, len); /* release no unauthenticated plaintext */
        return rv;
    }
    st->counter++;
    st->done = last != 0;
    return TKMS_WALLET_OK;
}
