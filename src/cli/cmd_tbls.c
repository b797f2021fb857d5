/* tkms tbls / app-key: threshold BLS dealing, partial signing, partial verification and combining,
 * and partial app keys (a dev and test tool; operators' nodes use the same core functions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "appkey.h"
#include "cli.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "tbls.h"

static const char TBLS_USAGE[] =
    "usage: tkms tbls deal --t T --n N --secret-file F --seed-file F\n"
    "       tkms tbls partial --dst STR --share-file F --index I --msg HEX\n"
    "       tkms tbls verify-partial --dst STR --commitments FILE --index I --msg HEX --sig HEX\n"
    "       tkms tbls combine --t T --partial I:HEX [--partial I:HEX ...]\n"
    "                         [--commitments FILE --dst STR --msg HEX]\n\n"
    "Threshold BLS on BLS12-381 (signatures in G1, commitments and public shares in G2).\n"
    "Secrets come from files holding hex (mode 0600; - reads stdin, for one of them), never from\n"
    "the command line, where other local users see them.\n"
    "deal: Shamir-shares the 32-byte secret with Feldman commitments, the polynomial drawn from the\n"
    "  32-byte seed (secret too: with it, one share gives the secret); prints JSON\n"
    "  {\"commitments\":[hex...],\"shares\":[{\"index\":i,\"share\":hex}...]} (a test tool).\n"
    "partial: prints share*H(msg), H = hash_to_G1 under --dst.\n"
    "verify-partial: checks e(sig, G2) == e(H(msg), PK_index), PK_index from the commitments file\n"
    "  (the JSON printed by deal, a JSON array of hex, or hex separated by whitespace); exit 0/1.\n"
    "combine: Lagrange-combines the first t partials. With --commitments/--dst/--msg every partial\n"
    "  is verified first (one batch, bisection on failure), bad ones are listed on stderr and the\n"
    "  first t valid ones are combined.\n";

static const char APPKEY_USAGE[] =
    "usage: tkms app-key partial --share-file F --index I --app 0x...\n"
    "       tkms app-key verify --mpk HEX --app 0x... --key-file F\n\n"
    "partial: prints K_A,i = share * hash_to_G1(app_id) (DST " TKMS_DST_APP_KEY ").\n"
    "verify: checks e(key, G2) == e(Q_A, mpk); exit 0 if it holds, 1 if not. Pass a node's public\n"
    "  share PK_i as --mpk to check a partial app key.\n"
    "The share and the key (secrets) come from files holding hex (- reads stdin), never from the\n"
    "command line.\n";

static int want_help(int argc, char **argv, const char *usage) {
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h")) {
        fputs(usage, stdout);
        return 1;
    }
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    if (!s || !*s) return 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > max || s[0] == '-' || s[0] == '+') return 0;
    *out = v;
    return 1;
}

/* A non-zero scalar < r from a file holding 32 bytes of hex ("-": stdin). Prints on failure. */
static int read_scalar(fr_t *r, const char *path, const char *opt) {
    uint8_t b[32];
    if (!path) return cli_fail(CLI_USAGE, "%s FILE is required (see --help)", opt), 0;
    if (!cli_read_secret_hex(b, 32, path)) return 0;
    int ok = fr_from_bytes(r, b) && !fr_is_zero(r);
    OPENSSL_cleanse(b, sizeof b);
    if (!ok) cli_fail(CLI_REJECT, "%s: the scalar must be non-zero and below the group order", opt);
    return ok;
}

/* The secret options that used to take hex on the command line. */
static int removed_secret_opts(int argc, char **argv) {
    return cli_removed_secret_opt(argc, argv, "--secret", "--secret-file") ||
           cli_removed_secret_opt(argc, argv, "--seed", "--seed-file") ||
           cli_removed_secret_opt(argc, argv, "--share", "--share-file") ||
           cli_removed_secret_opt(argc, argv, "--key", "--key-file");
}

static int parse_g1(g1_affine_t *p, const char *hex) {
    uint8_t b[96];
    size_t n;
    return hex && cli_hex_decode(b, &n, sizeof b, hex) && (n == 48 || n == 96) && g1_deserialize(p, b, n, 0) == G1_OK;
}

static int parse_g2(g2_affine_t *p, const char *hex) {
    uint8_t b[192];
    size_t n;
    return hex && cli_hex_decode(b, &n, sizeof b, hex) && (n == 96 || n == 192) && g2_deserialize(p, b, n, 0) == G2_OK;
}

static void print_g1(const g1_t *p) {
    g1_affine_t a;
    uint8_t b[48];
    g1_to_affine(&a, p);
    g1_serialize(b, &a);
    cli_print_hex(b, 48);
}

static int parse_app(uint8_t app[20], const char *s) { return s && cli_hex_exact(app, 20, s); }

/* Commitments: deal's JSON, a JSON array, or whitespace-separated hex. Returns the count or 0. */
static size_t load_commitments(g2_affine_t *c, size_t cap, const char *path) {
    size_t len, n = 0;
    uint8_t *buf = cli_read_file(path, &len, 1 << 22);
    if (!buf) return 0;
    json_error_t err;
    json_t *j = json_loadb((const char *)buf, len, 0, &err);
    if (j) {
        json_t *arr = json_is_object(j) ? json_object_get(j, "commitments") : j;
        size_t i;
        json_t *v;
        if (!json_is_array(arr)) goto bad;
        json_array_foreach(arr, i, v) {
            if (n >= cap || !parse_g2(&c[n], json_string_value(v))) goto bad;
            n++;
        }
    } else {
        char *save = NULL;
        for (char *tok = strtok_r((char *)buf, " \t\r\n,", &save); tok; tok = strtok_r(NULL, " \t\r\n,", &save)) {
            if (n >= cap || !parse_g2(&c[n], tok)) goto bad;
            n++;
        }
    }
    json_decref(j);
    free(buf);
    return n;
bad:
    json_decref(j);
    free(buf);
    return 0;
}

static int tbls_deal_cmd(int argc, char **argv) {
    unsigned long t, n;
    fr_t secret;
    uint8_t seed[32];
    if (!parse_uint(cli_opt(argc, argv, "--t"), TBLS_MAX_N, &t) || !parse_uint(cli_opt(argc, argv, "--n"), TBLS_MAX_N, &n) ||
        t < 1 || t > n)
        return cli_fail(CLI_USAGE, "need 1 <= --t <= --n <= %d", TBLS_MAX_N);
    const char *sf = cli_opt(argc, argv, "--secret-file"), *df = cli_opt(argc, argv, "--seed-file");
    if (!sf || !df) return cli_fail(CLI_USAGE, "need --secret-file F and --seed-file F (hex; see --help)");
    if (!strcmp(sf, "-") && !strcmp(df, "-")) return cli_fail(CLI_USAGE, "only one of --secret-file and --seed-file can be -");
    if (!read_scalar(&secret, sf, "--secret-file")) return CLI_REJECT;
    if (!cli_read_secret_hex(seed, 32, df)) {
        OPENSSL_cleanse(&secret, sizeof secret);
        return CLI_REJECT;
    }
    fr_t *shares = malloc(n * sizeof(fr_t));
    g2_affine_t *comm = malloc(t * sizeof(g2_affine_t));
    void *scratch = malloc(tbls_scratch_size(n));
    if (!shares || !comm || !scratch) {
        free(shares), free(comm), free(scratch);
        return cli_fail(CLI_USAGE, "out of memory");
    }
    int ok = tbls_deal(shares, comm, &secret, seed, t, n, scratch);
    if (ok) {
        char hex[2 * 96 + 1];
        uint8_t b[96];
        printf("{\"commitments\":[");
        for (size_t k = 0; k < t; k++) {
            g2_serialize(b, &comm[k]);
            cli_hex_encode(hex, b, 96);
            printf("%s\"%s\"", k ? "," : "", hex);
        }
        printf("],\"shares\":[");
        for (size_t i = 0; i < n; i++) {
            fr_to_bytes(b, &shares[i]);
            cli_hex_encode(hex, b, 32);
            printf("%s{\"index\":%zu,\"share\":\"%s\"}", i ? "," : "", i + 1, hex);
        }
        printf("]}\n");
        OPENSSL_cleanse(hex, sizeof hex);
        OPENSSL_cleanse(b, sizeof b);
    }
    OPENSSL_cleanse(shares, n * sizeof(fr_t));
    OPENSSL_cleanse(&secret, sizeof secret);
    OPENSSL_cleanse(seed, sizeof seed);
    free(shares);
    free(comm);
    free(scratch);
    return ok ? CLI_OK : cli_fail(CLI_USAGE, "dealing failed");
}

static int get_msg(uint8_t **msg, size_t *len, int argc, char **argv) {
    const char *m = cli_opt(argc, argv, "--msg");
    if (!m) return 0;
    size_t cap = strlen(m) / 2 + 1;
    *msg = malloc(cap);
    return *msg && cli_hex_decode(*msg, len, cap, m);
}

static int tbls_partial_cmd(int argc, char **argv) {
    const char *dst = cli_opt(argc, argv, "--dst");
    unsigned long idx;
    fr_t share;
    uint8_t *msg = NULL;
    size_t ml;
    if (!dst || !parse_uint(cli_opt(argc, argv, "--index"), 0xffffffffUL, &idx) || idx == 0 || !get_msg(&msg, &ml, argc, argv)) {
        free(msg);
        return cli_fail(CLI_USAGE, "need --dst, --index >= 1 and --msg HEX (see --help)");
    }
    if (!read_scalar(&share, cli_opt(argc, argv, "--share-file"), "--share-file")) {
        free(msg);
        return cli_opt(argc, argv, "--share-file") ? CLI_REJECT : CLI_USAGE;
    }
    g1_t s;
    tbls_partial_sign(&s, &share, msg, ml, (const uint8_t *)dst, strlen(dst));
    OPENSSL_cleanse(&share, sizeof share);
    print_g1(&s);
    free(msg);
    return CLI_OK;
}

static int tbls_verify_cmd(int argc, char **argv) {
    const char *dst = cli_opt(argc, argv, "--dst"), *cf = cli_opt(argc, argv, "--commitments");
    unsigned long idx;
    uint8_t *msg = NULL;
    size_t ml;
    if (!dst || !cf || !parse_uint(cli_opt(argc, argv, "--index"), 0xffffffffUL, &idx) || idx == 0 ||
        !get_msg(&msg, &ml, argc, argv) || !cli_opt(argc, argv, "--sig")) {
        free(msg);
        return cli_fail(CLI_USAGE, "need --dst, --commitments, --index >= 1, --msg and --sig (see --help)");
    }
    static g2_affine_t comm[TBLS_MAX_N];
    size_t t = load_commitments(comm, TBLS_MAX_N, cf);
    if (!t) {
        free(msg);
        return cli_fail(CLI_REJECT, "no valid commitments in '%s'", cf);
    }
    g1_affine_t sig, hma;
    if (!parse_g1(&sig, cli_opt(argc, argv, "--sig"))) {
        free(msg);
        return cli_fail(CLI_REJECT, "--sig is not a valid G1 point (curve, subgroup, identity)");
    }
    g1_t hm;
    g2_t pk;
    g2_affine_t pka;
    h2c_hash_to_g1(&hm, msg, ml, (const uint8_t *)dst, strlen(dst));
    g1_to_affine(&hma, &hm);
    tbls_public_share(&pk, comm, t, (uint32_t)idx);
    g2_to_affine(&pka, &pk);
    free(msg);
    if (!tbls_verify_partial(&sig, &hma, &pka)) return cli_fail(CLI_REJECT, "partial signature does not verify");
    puts("valid");
    return CLI_OK;
}

static int tbls_combine_cmd(int argc, char **argv) {
    unsigned long t;
    if (!parse_uint(cli_opt(argc, argv, "--t"), TBLS_MAX_N, &t) || t < 1) return cli_fail(CLI_USAGE, "need --t >= 1");
    static tbls_partial parts[TBLS_MAX_N];
    size_t k = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--partial") == 0 && i + 1 < argc) v = argv[++i];
        else if (strncmp(argv[i], "--partial=", 10) == 0) v = argv[i] + 10;
        if (!v) continue;
        const char *colon = strchr(v, ':');
        char num[16];
        unsigned long idx;
        if (!colon || (size_t)(colon - v) >= sizeof num || k >= TBLS_MAX_N) return cli_fail(CLI_USAGE, "--partial takes I:HEX");
        memcpy(num, v, (size_t)(colon - v));
        num[colon - v] = 0;
        if (!parse_uint(num, 0xffffffffUL, &idx) || idx == 0) return cli_fail(CLI_USAGE, "bad partial index '%s'", num);
        parts[k].index = (uint32_t)idx;
        if (!parse_g1(&parts[k].sig, colon + 1))
            return cli_fail(CLI_REJECT, "partial %lu is not a valid G1 point (curve, subgroup, identity)", idx);
        k++;
    }
    if (k < t) return cli_fail(CLI_REJECT, "need at least %lu partials, got %zu", t, k);
    void *scratch = malloc(tbls_scratch_size(k));
    if (!scratch) return cli_fail(CLI_USAGE, "out of memory");
    g1_t sig;
    int rc = CLI_OK;
    const char *cf = cli_opt(argc, argv, "--commitments");
    if (cf) {
        const char *dst = cli_opt(argc, argv, "--dst");
        uint8_t *msg = NULL, seed[32];
        size_t ml;
        static g2_affine_t comm[TBLS_MAX_N], pks[TBLS_MAX_N];
        size_t nc;
        if (!dst || !get_msg(&msg, &ml, argc, argv)) {
            free(msg);
            free(scratch);
            return cli_fail(CLI_USAGE, "--commitments needs --dst and --msg");
        }
        if (!(nc = load_commitments(comm, TBLS_MAX_N, cf))) {
            free(msg);
            free(scratch);
            return cli_fail(CLI_REJECT, "no valid commitments in '%s'", cf);
        }
        for (size_t i = 0; i < k; i++) {
            g2_t p;
            tbls_public_share(&p, comm, nc, parts[i].index);
            g2_to_affine(&pks[i], &p);
        }
        g1_t hm;
        g1_affine_t hma;
        h2c_hash_to_g1(&hm, msg, ml, (const uint8_t *)dst, strlen(dst));
        g1_to_affine(&hma, &hm);
        free(msg);
        if (RAND_bytes(seed, sizeof seed) != 1) {
            free(scratch);
            return cli_fail(CLI_USAGE, "no randomness");
        }
        uint8_t bad[TBLS_MAX_N];
        size_t nbad;
        int ok = tbls_robust_combine(&sig, bad, &nbad, &hma, parts, pks, k, t, seed, scratch);
        for (size_t i = 0; i < k; i++)
            if (bad[i]) fprintf(stderr, "tkms: partial %u is invalid\n", parts[i].index);
        if (!ok) rc = cli_fail(CLI_REJECT, "fewer than %lu valid partials", t);
    } else if (!tbls_combine(&sig, parts, t, scratch)) {
        rc = cli_fail(CLI_REJECT, "partial indices must be distinct and non-zero");
    }
    free(scratch);
    if (rc == CLI_OK) print_g1(&sig);
    OPENSSL_cleanse(&sig, sizeof sig);
    return rc;
}

static const char *subcommand(int argc, char **argv) {
    return argc >= 2 && strncmp(argv[1], "--", 2) != 0 ? argv[1] : NULL;
}

int cmd_tbls(int argc, char **argv) {
    static const char *const allowed[] = {"--t", "--n", "--secret-file", "--seed-file", "--dst", "--share-file", "--index",
                                          "--msg", "--commitments", "--sig", "--partial", "--help!", "-h!", NULL};
    if (want_help(argc, argv, TBLS_USAGE)) return CLI_OK;
    if (removed_secret_opts(argc, argv)) return CLI_USAGE;
    const char *sub = subcommand(argc, argv);
    if (!sub) return cli_fail(CLI_USAGE, "missing sub-command (see tkms tbls --help)");
    if (!cli_check_opts(argc - 1, argv + 1, allowed)) return CLI_USAGE;
    if (strcmp(sub, "deal") == 0) return tbls_deal_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "partial") == 0) return tbls_partial_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "verify-partial") == 0) return tbls_verify_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "combine") == 0) return tbls_combine_cmd(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown sub-command '%s' (see tkms tbls --help)", sub);
}

int cmd_app_key(int argc, char **argv) {
    static const char *const allowed[] = {"--share-file", "--index", "--app", "--mpk", "--key-file", "--help!", "-h!", NULL};
    if (want_help(argc, argv, APPKEY_USAGE)) return CLI_OK;
    if (removed_secret_opts(argc, argv)) return CLI_USAGE;
    const char *sub = subcommand(argc, argv);
    if (!sub) return cli_fail(CLI_USAGE, "missing sub-command (see tkms app-key --help)");
    if (!cli_check_opts(argc - 1, argv + 1, allowed)) return CLI_USAGE;
    argc--, argv++;
    uint8_t app[20];
    if (!parse_app(app, cli_opt(argc, argv, "--app"))) return cli_fail(CLI_USAGE, "--app must be 0x + 40 hex digits");
    if (strcmp(sub, "partial") == 0) {
        unsigned long idx;
        fr_t share;
        if (!parse_uint(cli_opt(argc, argv, "--index"), 0xffffffffUL, &idx) || idx == 0)
            return cli_fail(CLI_USAGE, "need --index >= 1");
        if (!read_scalar(&share, cli_opt(argc, argv, "--share-file"), "--share-file"))
            return cli_opt(argc, argv, "--share-file") ? CLI_REJECT : CLI_USAGE;
        g1_t k;
        appkey_partial(&k, &share, app);
        OPENSSL_cleanse(&share, sizeof share);
        print_g1(&k);
        OPENSSL_cleanse(&k, sizeof k);
        return CLI_OK;
    }
    if (strcmp(sub, "verify") == 0) {
        g1_affine_t k;
        g2_affine_t m;
        size_t kl = 0;
        const char *kf = cli_opt(argc, argv, "--key-file");
        if (!cli_opt(argc, argv, "--mpk") || !kf) return cli_fail(CLI_USAGE, "need --mpk and --key-file");
        if (!parse_g2(&m, cli_opt(argc, argv, "--mpk"))) return cli_fail(CLI_REJECT, "--mpk is not a valid G2 point");
        uint8_t *kb = cli_read_secret_hex_alloc(&kl, 48, 96, kf);
        if (!kb) return CLI_REJECT;
        int parsed = (kl == 48 || kl == 96) && g1_deserialize(&k, kb, kl, 0) == G1_OK;
        OPENSSL_cleanse(kb, kl);
        free(kb);
        if (!parsed) return cli_fail(CLI_REJECT, "--key-file: not a valid G1 point (48 or 96 bytes of hex)");
        int good = appkey_verify(&k, app, &m);
        OPENSSL_cleanse(&k, sizeof k);
        if (!good) return cli_fail(CLI_REJECT, "the key is not this app's key under this MPK");
        puts("valid");
        return CLI_OK;
    }
    return cli_fail(CLI_USAGE, "unknown sub-command '%s' (see tkms app-key --help)", sub);
}
