/* libFuzzer target: the data-file format (src/wallet/datafile.c): header checks, then chunk-by-chunk
 * authenticated decryption with a fixed data key, the way `tkms data decrypt` reads a file (chunks
 * of chunk_size + 16 bytes, the last one shorter). Must never crash or decrypt a forged chunk. */
#include <stdlib.h>
#include <string.h>

#include "tkms/wallet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the key of the committed corpus (fuzz/corpus/fuzz_datafile, tools/gen_fuzz_corpus.py) */
static const uint8_t KEY[32] = "tkms-fuzz-datafile-key-32-bytes";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < TKMS_DATAFILE_HEADER_LEN) return 0;
    tkms_datafile st;
    if (tkms_datafile_decrypt_init(&st, data, KEY) != TKMS_WALLET_OK) return 0;
    size_t chunk = (size_t)st.chunk_size + TKMS_DATAFILE_TAG_LEN, off = TKMS_DATAFILE_HEADER_LEN;
    uint8_t *out = malloc(chunk);
    if (!out) abort();
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        int last = off + n == size;
        if (tkms_datafile_decrypt_chunk(&st, out, data + off, n, last) != TKMS_WALLET_OK) break;
        off += n;
    }
    free(out);
    tkms_datafile_wipe(&st);
    return 0;
}
