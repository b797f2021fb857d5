/* tkms ibe / tlock / seal / unseal: Boneh-Franklin IBE on raw bytes, drand tlock age files, and
 * tkms1: sealed secrets. Randomness from OpenSSL RAND_bytes; the core does none of its own. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "g1.h"
#include "g2.h"
#include "ibe.h"
#include "seal.h"

static const char IBE_USAGE[] =
    "usage: tkms ibe encrypt --dst STR --id HEX --mpk HEX   < message > ciphertext-hex\n"
    "       tkms ibe decrypt --key-file FILE               < ciphertext-hex > message\n\n"
    "Boneh-Franklin CCA IBE exactly as drand tlock uses it. A 96-byte --mpk (G2) means identities\n"
    "and keys in G1 and U in G2 (tkms, quicknet); a 48-byte --mpk (G1) the other orientation. The\n"
    "message is 1..32 raw bytes. The key for identity ID is s*hash_to_curve(ID, DST) (a BLS\n"
    "signature on ID). FILE holds it as hex (a secret: never on the command line). Decryption exits\n"
    "1 on a wrong key or a modified ciphertext.\n";

static const char TLOCK_USAGE[] =
    "usage: tkms tlock encrypt --chain quicknet --round R [--armor]   < plaintext > age file\n"
    "       tkms tlock decrypt --signature HEX [--public-key HEX] [--dst STR]   < age file > plaintext\n\n"
    "drand timelock files (age v1, `-> tlock ROUND CHAINHASH` stanza), compatible with drand's tle\n"
    "and tlock-js. decrypt takes the round's beacon signature (48 bytes for quicknet-style chains,\n"
    "96 for the older G2-signature chains); for quicknet, or when --public-key is given, the beacon\n"
    "is verified first. Armored and binary input are both accepted.\n";

static const char SEAL_USAGE[] =
    "usage: tkms seal --mpk HEX --app 0x... [--name NAME]   < secret > tkms1:...\n\n"
    "Seals a secret (up to 64 MiB) to an app with only the cluster's MPK (96-byte G2 hex); the\n"
    "output is one line, fit for an environment value. Only the app's key can open it.\n";

static const char UNSEAL_USAGE[] =
    "usage: tkms unseal --app-key-file FILE [--app 0x...] [--mpk HEX]   < tkms1:... > secret\n\n"
    "Opens a tkms1: sealed secret with the app key (FILE holds the 48-byte key as hex on one line,\n"
    "mode 0600). --app / --mpk additionally require the secret to be sealed to that app / cluster.\n"
    "Exit 1 on a wrong key, another app, or truncated/modified input.\n";

static int want_help(int argc, char **argv, const char *usage) {
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h")) {
        fputs(usage, stdout);
        return 1;
    }
    return 0;
}

static int write_all(const uint8_t *p, size_t n) {
    if (n && fwrite(p, 1, n, stdout) != n) return 0;
    return fflush(stdout) == 0;
}

static int seal_exit(tkms_status s) {
    if (s.cls == TKMS_CLASS_OK) return CLI_OK;
    return cli_fail(s.cls == TKMS_CLASS_INPUT ? CLI_REJECT : CLI_USAGE, "%s", s.msg);
}

int cmd_ibe(int argc, char **argv) {
    static const char *const allowed[] = {"--dst", "--id", "--mpk", "--key-file", "--help!", NULL};
    if (want_help(argc, argv, IBE_USAGE)) return CLI_OK;
    if (argc < 2 || strncmp(argv[1], "--", 2) == 0) return cli_fail(CLI_USAGE, "missing sub-command (see tkms ibe --help)");
    const char *sub = argv[1];
    argc--, argv++;
    if (cli_removed_secret_opt(argc, argv, "--key", "--key-file")) return CLI_USAGE;
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    if (strcmp(sub, "encrypt") == 0) {
        const char *dst = cli_opt(argc, argv, "--dst"), *idh = cli_opt(argc, argv, "--id"), *mh = cli_opt(argc, argv, "--mpk");
        uint8_t mpk[96], *id;
        size_t ml, idl;
        if (!dst || !idh || !mh) return cli_fail(CLI_USAGE, "need --dst, --id and --mpk");
        id = malloc(strlen(idh) / 2 + 1);
        if (!id || !cli_hex_decode(id, &idl, strlen(idh) / 2 + 1, idh)) {
            free(id);
            return cli_fail(CLI_USAGE, "--id must be hex");
        }
        if (!cli_hex_decode(mpk, &ml, sizeof mpk, mh) || (ml != 48 && ml != 96)) {
            free(id);
            return cli_fail(CLI_USAGE, "--mpk must be 48 (G1) or 96 (G2) bytes of hex");
        }
        size_t n;
        uint8_t *msg = cli_read_file("-", &n, IBE_MAX_MSG);
        if (!msg) {
            free(id);
            return CLI_REJECT;
        }
        uint8_t sigma[IBE_MAX_MSG], ct[96 + 2 * IBE_MAX_MSG];
        int ok = 0, bad_key = 0;
        if (n == 0 || n > IBE_MAX_MSG) {
            free(id);
            OPENSSL_cleanse(msg, n);
            free(msg);
            return cli_fail(CLI_REJECT, "the message must be 1..32 bytes");
        }
        if (RAND_bytes(sigma, (int)n) != 1) {
            free(id);
            free(msg);
            return cli_fail(CLI_USAGE, "no randomness");
        }
        ibe_orientation o = ml == 96 ? IBE_MPK_G2 : IBE_MPK_G1;
        if (o == IBE_MPK_G2) {
            g2_affine_t m;
            bad_key = g2_deserialize(&m, mpk, 96, 0) != G2_OK;
            ok = !bad_key && ibe_encrypt_mpk_g2(ct, &m, (const uint8_t *)dst, strlen(dst), id, idl, msg, n, sigma);
        } else {
            g1_affine_t m;
            bad_key = g1_deserialize(&m, mpk, 48, 0) != G1_OK;
            ok = !bad_key && ibe_encrypt_mpk_g1(ct, &m, (const uint8_t *)dst, strlen(dst), id, idl, msg, n, sigma);
        }
        OPENSSL_cleanse(sigma, sizeof sigma);
        OPENSSL_cleanse(msg, n);
        free(msg);
        free(id);
        if (bad_key) return cli_fail(CLI_REJECT, "--mpk is not a valid point (curve, subgroup, identity)");
        if (!ok) return cli_fail(CLI_REJECT, "encryption failed");
        cli_print_hex(ct, ibe_ciphertext_len(o, n));
        return CLI_OK;
    }
    if (strcmp(sub, "decrypt") == 0) {
        const char *kf = cli_opt(argc, argv, "--key-file");
        uint8_t key[96], ct[96 + 2 * IBE_MAX_MSG + 1], msg[IBE_MAX_MSG];
        size_t kl = 0, cl, n;
        if (!kf) return cli_fail(CLI_USAGE, "need --key-file FILE");
        if (!strcmp(kf, "-")) return cli_fail(CLI_USAGE, "--key-file cannot be - here: stdin carries the ciphertext");
        uint8_t *kb = cli_read_secret_hex_alloc(&kl, 48, 96, kf);
        if (!kb) return CLI_REJECT;
        int klen_ok = kl == 48 || kl == 96;
        if (klen_ok) memcpy(key, kb, kl);
        OPENSSL_cleanse(kb, kl);
        free(kb);
        if (!klen_ok) return cli_fail(CLI_REJECT, "--key-file must hold 48 (G1) or 96 (G2) bytes of hex");
        uint8_t *in = cli_read_file("-", &n, 4096);
        if (!in) {
            OPENSSL_cleanse(key, sizeof key);
            return CLI_REJECT;
        }
        size_t s = 0, e = n;
        while (s < e && isspace(in[s])) s++;
        while (e > s && isspace(in[e - 1])) e--;
        in[e] = 0;
        int okhex = cli_hex_decode(ct, &cl, sizeof ct, (const char *)in + s);
        free(in);
        if (!okhex) return cli_fail(CLI_REJECT, "the ciphertext on stdin must be hex");
        int ok;
        ibe_orientation o = kl == 48 ? IBE_MPK_G2 : IBE_MPK_G1;
        if (kl == 48) {
            g1_affine_t k;
            if (g1_deserialize(&k, key, 48, 0) != G1_OK) return cli_fail(CLI_REJECT, "--key is not a valid G1 point");
            ok = ibe_decrypt_mpk_g2(msg, &k, ct, cl);
        } else {
            g2_affine_t k;
            if (g2_deserialize(&k, key, 96, 0) != G2_OK) return cli_fail(CLI_REJECT, "--key is not a valid G2 point");
            ok = ibe_decrypt_mpk_g1(msg, &k, ct, cl);
        }
        OPENSSL_cleanse(key, sizeof key);
        if (!ok) return cli_fail(CLI_REJECT, "decryption failed (wrong key, or a modified or truncated ciphertext)");
        int w = write_all(msg, ibe_message_len(o, cl));
        OPENSSL_cleanse(msg, sizeof msg);
        return w ? CLI_OK : cli_fail(CLI_USAGE, "write error");
    }
    return cli_fail(CLI_USAGE, "unknown sub-command '%s' (see tkms ibe --help)", sub);
}

#define TLOCK_MAX_INPUT ((size_t)1 << 30)

int cmd_tlock(int argc, char **argv) {
    static const char *const allowed[] = {"--chain", "--round", "--armor!", "--signature", "--public-key", "--dst",
                                          "--help!", NULL};
    if (want_help(argc, argv, TLOCK_USAGE)) return CLI_OK;
    if (argc < 2 || strncmp(argv[1], "--", 2) == 0) return cli_fail(CLI_USAGE, "missing sub-command (see tkms tlock --help)");
    const char *sub = argv[1];
    argc--, argv++;
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    tkms_buf out = {0};
    tkms_status s;
    if (strcmp(sub, "encrypt") == 0) {
        const char *chain = cli_opt(argc, argv, "--chain"), *r = cli_opt(argc, argv, "--round");
        if (!chain || strcmp(chain, "quicknet") != 0) return cli_fail(CLI_USAGE, "--chain must be quicknet");
        char *end;
        errno = 0;
        unsigned long long round = r ? strtoull(r, &end, 10) : 0;
        if (!r || *end || errno || round == 0 || r[0] == '-') return cli_fail(CLI_USAGE, "--round must be a number >= 1");
        size_t n;
        uint8_t *in = cli_read_file("-", &n, TLOCK_MAX_INPUT);
        if (!in) return CLI_REJECT;
        s = tkms_tlock_encrypt(&out, &TKMS_TLOCK_QUICKNET, round, in, n, cli_flag(argc, argv, "--armor"));
        OPENSSL_cleanse(in, n);
        free(in);
    } else if (strcmp(sub, "decrypt") == 0) {
        const char *sh = cli_opt(argc, argv, "--signature"), *ph = cli_opt(argc, argv, "--public-key");
        uint8_t sig[96], pk[96];
        size_t sl, pl = 0;
        if (!sh || !cli_hex_decode(sig, &sl, sizeof sig, sh) || (sl != 48 && sl != 96))
            return cli_fail(CLI_USAGE, "--signature must be 48 or 96 bytes of hex");
        if (ph && (!cli_hex_decode(pk, &pl, sizeof pk, ph) || (pl != 48 && pl != 96)))
            return cli_fail(CLI_USAGE, "--public-key must be 48 or 96 bytes of hex");
        size_t n;
        uint8_t *in = cli_read_file("-", &n, TLOCK_MAX_INPUT);
        if (!in) return CLI_REJECT;
        s = tkms_tlock_decrypt(&out, in, n, sig, sl, ph ? pk : NULL, pl, cli_opt(argc, argv, "--dst"));
        free(in);
    } else {
        return cli_fail(CLI_USAGE, "unknown sub-command '%s' (see tkms tlock --help)", sub);
    }
    int rc = seal_exit(s);
    if (rc == CLI_OK && !write_all(out.p, out.len)) rc = cli_fail(CLI_USAGE, "write error");
    tkms_buf_free(&out);
    return rc;
}

int cmd_seal(int argc, char **argv) {
    static const char *const allowed[] = {"--mpk", "--app", "--name", "--help!", NULL};
    if (want_help(argc, argv, SEAL_USAGE)) return CLI_OK;
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    uint8_t mpk[96], app[20];
    const char *mh = cli_opt(argc, argv, "--mpk"), *ah = cli_opt(argc, argv, "--app"), *name = cli_opt(argc, argv, "--name");
    if (!mh || !cli_hex_exact(mpk, 96, mh)) return cli_fail(CLI_USAGE, "--mpk must be 96 bytes of hex");
    if (!ah || !cli_hex_exact(app, 20, ah)) return cli_fail(CLI_USAGE, "--app must be 0x + 40 hex digits");
    size_t n;
    uint8_t *in = cli_read_file("-", &n, TKMS_SEAL_MAX_PLAINTEXT);
    if (!in) return CLI_REJECT;
    tkms_buf out = {0};
    tkms_status s = tkms_seal(&out, mpk, app, name ? name : "", in, n);
    OPENSSL_cleanse(in, n);
    free(in);
    int rc = seal_exit(s);
    if (rc == CLI_OK && !(write_all(out.p, out.len) && write_all((const uint8_t *)"\n", 1)))
        rc = cli_fail(CLI_USAGE, "write error");
    tkms_buf_free(&out);
    return rc;
}

int cmd_unseal(int argc, char **argv) {
    static const char *const allowed[] = {"--app-key-file", "--app", "--mpk", "--help!", NULL};
    if (want_help(argc, argv, UNSEAL_USAGE)) return CLI_OK;
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *kf = cli_opt(argc, argv, "--app-key-file"), *ah = cli_opt(argc, argv, "--app"), *mh = cli_opt(argc, argv, "--mpk");
    uint8_t key[48], app[20], mpk[96];
    if (!kf) return cli_fail(CLI_USAGE, "need --app-key-file");
    if (ah && !cli_hex_exact(app, 20, ah)) return cli_fail(CLI_USAGE, "--app must be 0x + 40 hex digits");
    if (mh && !cli_hex_exact(mpk, 96, mh)) return cli_fail(CLI_USAGE, "--mpk must be 96 bytes of hex");
    if (!cli_read_secret_hex(key, 48, kf)) return CLI_REJECT;
    size_t n;
    /* base64url of header + IBE + payload: 4/3 of the plaintext limit plus slack */
    uint8_t *in = cli_read_file("-", &n, TKMS_SEAL_MAX_PLAINTEXT / 3 * 4 + 8192);
    if (!in) {
        OPENSSL_cleanse(key, sizeof key);
        return CLI_REJECT;
    }
    tkms_buf out = {0};
    tkms_status s = tkms_unseal(&out, NULL, (const char *)in, n, key, ah ? app : NULL, mh ? mpk : NULL);
    OPENSSL_cleanse(key, sizeof key);
    free(in);
    int rc = seal_exit(s);
    if (rc == CLI_OK && !write_all(out.p, out.len)) rc = cli_fail(CLI_USAGE, "write error");
    tkms_buf_free(&out);
    return rc;
}
