/* tkms mnemonic / derive: BIP-39 mnemonics from entropy or an app key, and wallets, TLS keys and data
 * keys from a mnemonic. Secrets come from files or stdin only, never from argv. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "tkms/wallet.h"

/* Mnemonic files hold at most 24 words; anything much larger is not a mnemonic. */
#define MNEMONIC_FILE_MAX 4096
#define PASSPHRASE_FILE_MAX (1u << 16)

static const char MNEMONIC_USAGE[] =
    "usage: tkms mnemonic from-entropy (--entropy HEX | --entropy-file F)\n"
    "       tkms mnemonic from-app-key --app-key-file F\n"
    "       tkms mnemonic check < MNEMONIC\n\n"
    "from-entropy  encode 16/20/24/28/32 bytes of entropy as a BIP-39 English mnemonic\n"
    "              (--entropy in argv is meant for public test vectors; use --entropy-file for secrets)\n"
    "from-app-key  the app's 24-word mnemonic (DESIGN.md §2) from its compressed app key, given as\n"
    "              96 hex characters on one line in F ('-' for stdin)\n"
    "check         read a mnemonic on stdin; exit 0 if the words and checksum are valid, else 1\n";

static const char DERIVE_USAGE[] =
    "usage: tkms derive KIND --mnemonic-file F [--passphrase-file F] [options]\n\n"
    "KIND:\n"
    "  seed      the 64-byte BIP-39 seed (hex)\n"
    "  eth       EIP-55 address at m/44'/60'/0'/0/I        (--private: private key hex)\n"
    "  sol       base58 address at m/44'/501'/I'/0'         (--private: base58 64-byte keypair)\n"
    "  btc       bech32 P2WPKH address at m/84'/0'/0'/0/I   (--private: compressed WIF)\n"
    "  bip32     xpub at --path on secp256k1                (--private: xprv)\n"
    "  slip10    ed25519 public key hex at --path (hardened) (--private: private key hex)\n"
    "  tls       P-256 key for --domain D: writes DIR/tls.key (0600) and DIR/tls.crt, or DIR/tls.csr\n"
    "            with --csr, under --out-dir DIR; --days N sets the certificate lifetime (365)\n"
    "  data-key  32-byte data key for --label L (hex)\n\n"
    "options:\n"
    "  --mnemonic-file F     mnemonic ('-' for stdin); words separated by whitespace\n"
    "  --passphrase-file F   BIP-39 passphrase (ASCII only; one trailing newline is ignored)\n"
    "  --index I             account/address index (eth, sol, btc; default 0)\n"
    "  --path PATH           explicit path such as m/44'/60'/0'/0/7 (eth, sol, btc, bip32, slip10)\n"
    "  --domain D  --label L  --private  --out-dir DIR  --csr  --days N\n";

static int want_help(int argc, char **argv) { return cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h"); }

/* Positional (non-option) arguments after argv[0], skipping option values. */
static int positionals(int argc, char **argv, const char *const *allowed, char **out, int max) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) == 0) {
            if (strchr(a, '=')) continue;
            size_t alen = strlen(a);
            for (const char *const *p = allowed; *p; p++)
                if (strlen(*p) == alen && strcmp(a, *p) == 0) {
                    i++; /* a value-taking option (flags end with '!' and never match here) */
                    break;
                }
            continue;
        }
        if (n < max) out[n] = argv[i];
        n++;
    }
    return n;
}

/* Reads a secret text file; strips trailing whitespace. Returns NULL (message printed) on error. */
static char *read_text_secret(const char *path, size_t max, int strip_all_ws) {
    size_t n = 0;
    uint8_t *buf = cli_read_file(path, &n, max);
    if (!buf) return NULL;
    if (memchr(buf, 0, n)) {
        OPENSSL_cleanse(buf, n);
        free(buf);
        cli_fail(CLI_REJECT, "'%s' contains a NUL byte", path);
        return NULL;
    }
    if (strip_all_ws) {
        while (n && isspace(buf[n - 1])) buf[--n] = 0;
    } else {
        /* A passphrase keeps its spaces; only the newline an editor or echo adds is dropped. */
        if (n && buf[n - 1] == '\n') buf[--n] = 0;
        if (n && buf[n - 1] == '\r') buf[--n] = 0;
    }
    return (char *)buf;
}

static void free_secret(char *s) {
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static int reject(tkms_wallet_status st) {
    return cli_fail(st == TKMS_WALLET_EINTERNAL ? CLI_USAGE : CLI_REJECT, "%s", tkms_wallet_strerror(st));
}

/* ---- tkms mnemonic ---- */

int cmd_mnemonic(int argc, char **argv) {
    static const char *const allowed[] = {"--entropy", "--entropy-file", "--app-key-file", "--help!", NULL};
    char *pos[2];
    if (want_help(argc, argv)) {
        fputs(MNEMONIC_USAGE, stdout);
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    int np = positionals(argc, argv, allowed, pos, 2);
    if (np != 1) {
        fputs(MNEMONIC_USAGE, stderr);
        return CLI_USAGE;
    }
    const char *sub = pos[0];
    char words[TKMS_BIP39_MNEMONIC_MAX];
    tkms_wallet_status st;

    if (strcmp(sub, "from-entropy") == 0) {
        const char *hexarg = cli_opt(argc, argv, "--entropy"), *file = cli_opt(argc, argv, "--entropy-file");
        if (!!hexarg == !!file) return cli_fail(CLI_USAGE, "from-entropy needs exactly one of --entropy, --entropy-file");
        uint8_t e[32];
        size_t elen = 0;
        int ok;
        if (file) {
            char *txt = read_text_secret(file, 1024, 1);
            if (!txt) return CLI_USAGE;
            const char *s = txt;
            while (isspace((unsigned char)*s)) s++;
            ok = cli_hex_decode(e, &elen, sizeof e, s);
            free_secret(txt);
        } else {
            ok = cli_hex_decode(e, &elen, sizeof e, hexarg);
        }
        if (!ok || elen < 16 || elen % 4 != 0) {
            OPENSSL_cleanse(e, sizeof e);
            return cli_fail(CLI_REJECT, "entropy must be 16, 20, 24, 28 or 32 bytes of hex");
        }
        st = tkms_bip39_from_entropy(words, sizeof words, e, elen);
        OPENSSL_cleanse(e, sizeof e);
    } else if (strcmp(sub, "from-app-key") == 0) {
        const char *file = cli_opt(argc, argv, "--app-key-file");
        if (!file) return cli_fail(CLI_USAGE, "from-app-key needs --app-key-file F");
        uint8_t k[TKMS_APP_KEY_LEN];
        if (!cli_read_secret_hex(k, sizeof k, file)) return CLI_REJECT;
        st = tkms_mnemonic_from_app_key(words, sizeof words, k);
        OPENSSL_cleanse(k, sizeof k);
        if (st == TKMS_WALLET_EKEY) return cli_fail(CLI_REJECT, "app key is not a compressed, non-identity G1 point");
    } else if (strcmp(sub, "check") == 0) {
        if (cli_opt(argc, argv, "--entropy") || cli_opt(argc, argv, "--entropy-file") ||
            cli_opt(argc, argv, "--app-key-file"))
            return cli_fail(CLI_USAGE, "check takes no options (the mnemonic is read from stdin)");
        char *m = read_text_secret("-", MNEMONIC_FILE_MAX, 1);
        if (!m) return CLI_USAGE;
        uint8_t e[32];
        size_t elen = 0;
        st = tkms_bip39_to_entropy(e, &elen, sizeof e, m);
        OPENSSL_cleanse(e, sizeof e);
        free_secret(m);
        if (st != TKMS_WALLET_OK) return reject(st);
        puts("ok");
        return CLI_OK;
    } else {
        return cli_fail(CLI_USAGE, "unknown mnemonic command '%s' (see tkms mnemonic --help)", sub);
    }
    if (st != TKMS_WALLET_OK) return reject(st);
    puts(words);
    OPENSSL_cleanse(words, sizeof words);
    return CLI_OK;
}

/* ---- tkms derive ---- */

/* Writes data to path with the given mode, replacing any existing file; the mode is forced even
 * when the file already existed (open's mode only applies on creation). */
static int write_file_mode(const char *path, const char *data, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return cli_fail(CLI_USAGE, "cannot create '%s': %s", path, strerror(errno)), 0;
    if (fchmod(fd, mode) != 0) {
        close(fd);
        return cli_fail(CLI_USAGE, "cannot chmod '%s': %s", path, strerror(errno)), 0;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return cli_fail(CLI_USAGE, "cannot write '%s': %s", path, strerror(errno)), 0;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) return cli_fail(CLI_USAGE, "cannot write '%s'", path), 0;
    return 1;
}

/* Decimal 0..2^31-1, no sign, no leading zeros. */
static int parse_index(uint32_t *out, const char *s) {
    if (!s || !*s || (s[0] == '0' && s[1])) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v >= 0x80000000u) return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

static int derive_tls(const uint8_t seed[64], const char *domain, const char *dir, int csr, const char *days_s) {
    uint32_t days = 365;
    if (!domain || !dir) return cli_fail(CLI_USAGE, "tls needs --domain D and --out-dir DIR");
    if (days_s && (!parse_index(&days, days_s) || days < 1 || days > 36500))
        return cli_fail(CLI_USAGE, "--days must be 1..36500");
    if (!tkms_tls_domain_ok(domain)) return cli_fail(CLI_REJECT, "'%s' is not a valid DNS name", domain);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return cli_fail(CLI_USAGE, "'%s' is not a directory", dir);
    char *key = NULL, *cert = NULL;
    tkms_wallet_status st = tkms_tls_issue(&key, &cert, seed, 64, domain, csr, (int64_t)time(NULL), (int)days);
    if (st != TKMS_WALLET_OK) return reject(st);
    size_t plen = strlen(dir) + 16;
    char *kp = malloc(plen), *cp = malloc(plen);
    int rc = CLI_USAGE;
    if (kp && cp) {
        snprintf(kp, plen, "%s/tls.key", dir);
        snprintf(cp, plen, "%s/%s", dir, csr ? "tls.csr" : "tls.crt");
        if (write_file_mode(kp, key, strlen(key), 0600) && write_file_mode(cp, cert, strlen(cert), 0644)) {
            printf("%s\n%s\n", kp, cp);
            rc = CLI_OK;
        }
    }
    free(kp);
    free(cp);
    free_secret(key);
    free(cert);
    return rc;
}

/* Default path per chain (DESIGN.md §2) unless --path was given. */
static void chain_path(char *out, size_t cap, const char *kind, uint32_t index) {
    if (strcmp(kind, "eth") == 0) snprintf(out, cap, "m/44'/60'/0'/0/%u", (unsigned)index);
    else if (strcmp(kind, "sol") == 0) snprintf(out, cap, "m/44'/501'/%u'/0'", (unsigned)index);
    else snprintf(out, cap, "m/84'/0'/0'/0/%u", (unsigned)index);
}

static int derive_secp(const uint8_t seed[64], const char *kind, const char *path, int priv) {
    tkms_hdkey k;
    uint8_t pub[33];
    char out[TKMS_BIP32_XKEY_MAX];
    tkms_wallet_status st = tkms_bip32_master(&k, seed, 64);
    if (st == TKMS_WALLET_OK) st = tkms_bip32_derive_path(&k, &k, path);
    if (st == TKMS_WALLET_OK) st = tkms_bip32_pubkey(pub, &k);
    if (st == TKMS_WALLET_OK) {
        if (strcmp(kind, "bip32") == 0) {
            if (!priv) st = tkms_bip32_neuter(&k, &k);
            if (st == TKMS_WALLET_OK)
                st = tkms_bip32_serialize(out, sizeof out, &k,
                                          priv ? TKMS_BIP32_VERSION_XPRV : TKMS_BIP32_VERSION_XPUB);
        } else if (strcmp(kind, "eth") == 0) {
            if (priv) cli_hex_encode(out, k.key + 1, 32);
            else st = tkms_eth_address(out, pub, 33);
        } else { /* btc */
            if (priv) st = tkms_btc_wif(out, sizeof out, k.key + 1);
            else st = tkms_btc_p2wpkh(out, sizeof out, pub);
        }
    }
    tkms_hdkey_wipe(&k);
    if (st != TKMS_WALLET_OK) {
        OPENSSL_cleanse(out, sizeof out);
        return reject(st);
    }
    puts(out);
    OPENSSL_cleanse(out, sizeof out);
    return CLI_OK;
}

static int derive_ed25519(const uint8_t seed[64], const char *kind, const char *path, int priv) {
    tkms_slip10_key k;
    uint8_t pub[32], kp[64];
    char out[130];
    tkms_wallet_status st = tkms_slip10_master(&k, seed, 64);
    if (st == TKMS_WALLET_OK) st = tkms_slip10_derive_path(&k, &k, path);
    if (st == TKMS_WALLET_OK) st = tkms_slip10_pubkey(pub, &k);
    if (st == TKMS_WALLET_OK) {
        if (strcmp(kind, "sol") == 0) {
            if (priv) {
                /* Solana wallets import the 64-byte keypair (secret seed || public key) in base58. */
                memcpy(kp, k.key, 32);
                memcpy(kp + 32, pub, 32);
                st = tkms_base58_encode(out, sizeof out, kp, sizeof kp);
                OPENSSL_cleanse(kp, sizeof kp);
            } else {
                st = tkms_sol_address(out, sizeof out, pub);
            }
        } else {
            cli_hex_encode(out, priv ? k.key : pub, 32);
        }
    }
    tkms_slip10_wipe(&k);
    if (st != TKMS_WALLET_OK) {
        OPENSSL_cleanse(out, sizeof out);
        return reject(st);
    }
    puts(out);
    OPENSSL_cleanse(out, sizeof out);
    return CLI_OK;
}

int cmd_derive(int argc, char **argv) {
    static const char *const allowed[] = {"--mnemonic-file", "--passphrase-file", "--index", "--path", "--domain",
                                          "--label", "--private!", "--out-dir", "--csr!", "--days", "--help!", NULL};
    static const char *const kinds[] = {"seed", "eth", "sol", "btc", "bip32", "slip10", "tls", "data-key", NULL};
    char *pos[2];
    if (want_help(argc, argv)) {
        fputs(DERIVE_USAGE, stdout);
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    if (positionals(argc, argv, allowed, pos, 2) != 1) {
        fputs(DERIVE_USAGE, stderr);
        return CLI_USAGE;
    }
    const char *kind = pos[0];
    int known = 0;
    for (const char *const *k = kinds; *k; k++) known |= strcmp(*k, kind) == 0;
    if (!known) return cli_fail(CLI_USAGE, "unknown derive kind '%s' (see tkms derive --help)", kind);

    const char *mfile = cli_opt(argc, argv, "--mnemonic-file"), *pfile = cli_opt(argc, argv, "--passphrase-file");
    const char *index_s = cli_opt(argc, argv, "--index"), *path = cli_opt(argc, argv, "--path");
    const char *domain = cli_opt(argc, argv, "--domain"), *label = cli_opt(argc, argv, "--label");
    const char *outdir = cli_opt(argc, argv, "--out-dir"), *days = cli_opt(argc, argv, "--days");
    int priv = cli_flag(argc, argv, "--private"), csr = cli_flag(argc, argv, "--csr");
    int is_chain = !strcmp(kind, "eth") || !strcmp(kind, "sol") || !strcmp(kind, "btc");
    int is_hd = !strcmp(kind, "bip32") || !strcmp(kind, "slip10");
    int is_tls = !strcmp(kind, "tls");

    /* Options that do not apply to the kind are usage errors rather than silently ignored. */
    if (!mfile) return cli_fail(CLI_USAGE, "--mnemonic-file F is required ('-' for stdin)");
    if (index_s && path) return cli_fail(CLI_USAGE, "--index and --path are mutually exclusive");
    if (index_s && !is_chain) return cli_fail(CLI_USAGE, "--index applies to eth, sol and btc");
    if (path && !is_chain && !is_hd) return cli_fail(CLI_USAGE, "--path applies to eth, sol, btc, bip32 and slip10");
    if (priv && !is_chain && !is_hd) return cli_fail(CLI_USAGE, "--private applies to eth, sol, btc, bip32 and slip10");
    if ((domain || outdir || csr || days) && !is_tls) return cli_fail(CLI_USAGE, "--domain/--out-dir/--csr/--days apply to tls");
    if (csr && days) return cli_fail(CLI_USAGE, "--days does not apply to a CSR");
    if (label && strcmp(kind, "data-key") != 0) return cli_fail(CLI_USAGE, "--label applies to data-key");
    if (!strcmp(kind, "data-key") && !label) return cli_fail(CLI_USAGE, "data-key needs --label L");
    if (mfile && pfile && !strcmp(mfile, "-") && !strcmp(pfile, "-"))
        return cli_fail(CLI_USAGE, "mnemonic and passphrase cannot both come from stdin");

    uint32_t index = 0;
    if (index_s && !parse_index(&index, index_s)) return cli_fail(CLI_USAGE, "--index must be 0..2147483647");
    char pathbuf[64];
    if (is_chain && !path) {
        chain_path(pathbuf, sizeof pathbuf, kind, index);
        path = pathbuf;
    }
    if (is_hd && !path) path = "m";

    char *mnemonic = read_text_secret(mfile, MNEMONIC_FILE_MAX, 1);
    if (!mnemonic) return CLI_USAGE;
    char *pass = NULL;
    if (pfile && !(pass = read_text_secret(pfile, PASSPHRASE_FILE_MAX, 0))) {
        free_secret(mnemonic);
        return CLI_USAGE;
    }
    uint8_t seed[64];
    tkms_wallet_status st = tkms_bip39_seed(seed, mnemonic, pass);
    free_secret(mnemonic);
    free_secret(pass);
    if (st != TKMS_WALLET_OK) return reject(st);

    int rc;
    if (!strcmp(kind, "seed")) {
        cli_print_hex(seed, sizeof seed);
        rc = CLI_OK;
    } else if (!strcmp(kind, "data-key")) {
        uint8_t key[TKMS_DATA_KEY_LEN];
        st = tkms_data_key(key, seed, sizeof seed, label);
        if (st == TKMS_WALLET_OK) cli_print_hex(key, sizeof key);
        rc = st == TKMS_WALLET_OK ? CLI_OK : reject(st);
        OPENSSL_cleanse(key, sizeof key);
    } else if (is_tls) {
        rc = derive_tls(seed, domain, outdir, csr, days);
    } else if (!strcmp(kind, "sol") || !strcmp(kind, "slip10")) {
        rc = derive_ed25519(seed, kind, path, priv);
    } else {
        rc = derive_secp(seed, kind, path, priv);
    }
    OPENSSL_cleanse(seed, sizeof seed);
    fflush(stdout);
    return rc;
}
