/* tkms data encrypt|decrypt: streams files through the chunked data-at-rest format (docs/wallet.md)
 * with a 32-byte key read from a key file; output files appear only once complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "tkms/wallet.h"

static const char DATA_USAGE[] =
    "usage: tkms data encrypt --key-file F [--in FILE] [--out FILE] [--chunk-size N]\n"
    "       tkms data decrypt --key-file F [--in FILE] [--out FILE]\n\n"
    "Encrypts or decrypts a stream with ChaCha20-Poly1305 in authenticated chunks (default 65536\n"
    "bytes). F holds the 32-byte data key as hex (e.g. from 'tkms derive data-key'). Input defaults to\n"
    "stdin and output to stdout. Decryption fails (exit 1) on a wrong key and on any modified,\n"
    "reordered, truncated or extended data. With --out the file is written to a temporary name (mode\n"
    "0600) and renamed only on success; on stdout, plaintext of chunks that verified may already have\n"
    "been written when a later chunk fails, so always check the exit status.\n";

/* Reads up to n bytes (short only at end of input). Returns the count, or -1 on a read error. */
static long read_full(FILE *f, uint8_t *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        size_t r = fread(buf + got, 1, n - got, f);
        if (r == 0) break;
        got += r;
    }
    return ferror(f) ? -1 : (long)got;
}

/* Whether f is at end of input, without consuming anything. */
static int at_eof(FILE *f) {
    int c = getc(f);
    if (c == EOF) return 1;
    ungetc(c, f);
    return 0;
}

static int write_all(FILE *f, const uint8_t *buf, size_t n) { return n == 0 || fwrite(buf, 1, n, f) == n; }

static int run(int encrypt, FILE *in, FILE *out, const uint8_t key[32], uint32_t chunk) {
    tkms_datafile st;
    uint8_t header[TKMS_DATAFILE_HEADER_LEN];
    uint8_t *pbuf = NULL, *cbuf = NULL;
    int rc = CLI_USAGE;
    tkms_wallet_status ws;
    if (encrypt) {
        uint8_t salt[32];
        if (RAND_bytes(salt, sizeof salt) != 1) return cli_fail(CLI_USAGE, "no randomness available");
        ws = tkms_datafile_encrypt_init(&st, header, key, chunk, salt);
        if (ws != TKMS_WALLET_OK) return cli_fail(CLI_USAGE, "%s", tkms_wallet_strerror(ws));
        if (!write_all(out, header, sizeof header)) goto werr;
    } else {
        long got = read_full(in, header, sizeof header);
        if (got < 0) goto rerr;
        if (got != (long)sizeof header) return cli_fail(CLI_REJECT, "input is too short to be a tkms data file");
        ws = tkms_datafile_decrypt_init(&st, header, key);
        if (ws != TKMS_WALLET_OK) return cli_fail(ws == TKMS_WALLET_EFORMAT ? CLI_REJECT : CLI_USAGE, "%s",
                                                  tkms_wallet_strerror(ws));
        chunk = st.chunk_size;
    }
    pbuf = malloc(chunk);
    cbuf = malloc((size_t)chunk + TKMS_DATAFILE_TAG_LEN);
    if (!pbuf || !cbuf) {
        rc = cli_fail(CLI_USAGE, "out of memory");
        goto done;
    }
    for (;;) {
        size_t want = encrypt ? chunk : (size_t)chunk + TKMS_DATAFILE_TAG_LEN;
        long got = read_full(in, encrypt ? pbuf : cbuf, want);
        if (got < 0) goto rerr;
        /* A chunk is the last one exactly when the input ends right after it. */
        int last = (size_t)got < want || at_eof(in);
        if (encrypt) {
            ws = tkms_datafile_encrypt_chunk(&st, cbuf, pbuf, (size_t)got, last);
            if (ws != TKMS_WALLET_OK) {
                rc = cli_fail(CLI_USAGE, "%s", tkms_wallet_strerror(ws));
                goto done;
            }
            if (!write_all(out, cbuf, (size_t)got + TKMS_DATAFILE_TAG_LEN)) goto werr;
        } else {
            ws = tkms_datafile_decrypt_chunk(&st, pbuf, cbuf, (size_t)got, last);
            if (ws != TKMS_WALLET_OK) {
                rc = cli_fail(CLI_REJECT, "%s", tkms_wallet_strerror(ws));
                goto done;
            }
            if (!write_all(out, pbuf, (size_t)got - TKMS_DATAFILE_TAG_LEN)) goto werr;
        }
        if (last) break;
    }
    if (fflush(out) != 0) goto werr;
    rc = CLI_OK;
    goto done;
rerr:
    rc = cli_fail(CLI_USAGE, "read error: %s", strerror(errno));
    goto done;
werr:
    rc = cli_fail(CLI_USAGE, "write error: %s", strerror(errno));
done:
    if (pbuf) OPENSSL_cleanse(pbuf, chunk);
    free(pbuf);
    free(cbuf);
    tkms_datafile_wipe(&st);
    return rc;
}

int cmd_data(int argc, char **argv) {
    static const char *const allowed[] = {"--key-file", "--in", "--out", "--chunk-size", "--help!", NULL};
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h")) {
        fputs(DATA_USAGE, stdout);
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *sub = NULL;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        sub = argv[i];
        npos++;
    }
    if (npos != 1 || (strcmp(sub, "encrypt") != 0 && strcmp(sub, "decrypt") != 0)) {
        fputs(DATA_USAGE, stderr);
        return CLI_USAGE;
    }
    int encrypt = strcmp(sub, "encrypt") == 0;
    const char *keyfile = cli_opt(argc, argv, "--key-file"), *inp = cli_opt(argc, argv, "--in");
    const char *outp = cli_opt(argc, argv, "--out"), *cs = cli_opt(argc, argv, "--chunk-size");
    if (!keyfile) return cli_fail(CLI_USAGE, "--key-file F is required");
    uint32_t chunk = TKMS_DATAFILE_CHUNK_DEFAULT;
    if (cs) {
        if (!encrypt) return cli_fail(CLI_USAGE, "--chunk-size applies to encrypt (decrypt reads it from the header)");
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(cs, &end, 10);
        if (errno || !end || *end || cs[0] < '0' || cs[0] > '9' || v < TKMS_DATAFILE_CHUNK_MIN ||
            v > TKMS_DATAFILE_CHUNK_MAX)
            return cli_fail(CLI_USAGE, "--chunk-size must be %u..%u", TKMS_DATAFILE_CHUNK_MIN, TKMS_DATAFILE_CHUNK_MAX);
        chunk = (uint32_t)v;
    }
    uint8_t key[32];
    if (!cli_read_secret_hex(key, sizeof key, keyfile)) return CLI_REJECT;

    FILE *in = stdin, *out = stdout;
    char *tmp = NULL;
    int rc = CLI_USAGE;
    if (inp && strcmp(inp, "-") != 0 && !(in = fopen(inp, "rb"))) {
        rc = cli_fail(CLI_USAGE, "cannot open '%s': %s", inp, strerror(errno));
        goto done;
    }
    if (outp && strcmp(outp, "-") != 0) {
        size_t tl = strlen(outp) + 16;
        tmp = malloc(tl);
        if (!tmp) goto done;
        snprintf(tmp, tl, "%s.tmp.XXXXXX", outp);
        int fd = mkstemp(tmp); /* mode 0600 */
        if (fd < 0 || !(out = fdopen(fd, "wb"))) {
            rc = cli_fail(CLI_USAGE, "cannot create '%s': %s", tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            tmp = NULL;
            goto done;
        }
    }
    rc = run(encrypt, in, out, key, chunk);
    if (tmp) {
        int fd = fileno(out);
        if (rc == CLI_OK && fsync(fd) != 0) rc = cli_fail(CLI_USAGE, "cannot write '%s': %s", outp, strerror(errno));
        if (fclose(out) != 0 && rc == CLI_OK) rc = cli_fail(CLI_USAGE, "cannot write '%s'", outp);
        if (rc == CLI_OK && rename(tmp, outp) != 0)
            rc = cli_fail(CLI_USAGE, "cannot rename to '%s': %s", outp, strerror(errno));
        if (rc != CLI_OK) unlink(tmp);
    }
done:
    OPENSSL_cleanse(key, sizeof key);
    if (in && in != stdin) fclose(in);
    free(tmp);
    return rc;
}
