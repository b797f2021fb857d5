/* tkms command line: `bls` (keygen, sign, verify), `h2c` and `selftest` -- the stable command
 * contract of issue 2 over the public BLS API and the core's hash-to-curve and pairing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "fp.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "pairing.h"
#include "sha256.h"
#include "tkms/bls.h"
#include "proto_tags.h"
#include "proto_bytes.h"

/* Programming errors inside the library are bugs in this program: report and exit. */
static void on_illegal(const char *msg, void *data) {
    (void)data;
    fprintf(stderr, "tkms: internal error: %s\n", msg);
    exit(CLI_USAGE);
}

static int parse_variant(const char *s, tkms_bls_variant *v) {
    if (s == NULL) return cli_fail(CLI_USAGE, "--variant min-sig|min-pk is required"), 0;
    if (strcmp(s, "min-sig") == 0) *v = TKMS_BLS_MIN_SIG;
    else if (strcmp(s, "min-pk") == 0) *v = TKMS_BLS_MIN_PK;
    else return cli_fail(CLI_USAGE, "--variant must be min-sig or min-pk, not '%s'", s), 0;
    return 1;
}

/* Decodes a hex argument of any length into a malloc'd buffer (empty hex is an empty message). */
static uint8_t *hex_arg(const char *name, const char *hex, size_t *len) {
    if (hex == NULL) {
        cli_fail(CLI_USAGE, "%s HEX is required", name);
        return NULL;
    }
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        cli_fail(CLI_USAGE, "out of memory");
        return NULL;
    }
    if (!cli_hex_decode(buf, len, cap, hex)) {
        free(buf);
        cli_fail(CLI_USAGE, "%s: not valid hex", name);
        return NULL;
    }
    return buf;
}

static const char *dst_arg(int argc, char **argv) {
    const char *dst = cli_opt(argc, argv, "--dst");
    if (dst == NULL || dst[0] == '\0') cli_fail(CLI_USAGE, "--dst STR (non-empty) is required");
    return dst && dst[0] ? dst : NULL;
}

static void bls_usage(FILE *f) {
    fprintf(f,
            "usage: tkms bls keygen --variant V (--ikm HEX | --ikm-file FILE) [--key-info STR]\n"
            "       tkms bls sign   --variant V --dst STR --sk-file FILE --msg HEX\n"
            "       tkms bls verify --variant V --dst STR --pk HEX --msg HEX --sig HEX\n"
            "\n"
            "BLS signatures on BLS12-381 (draft-irtf-cfrg-bls-signature-05), any DST.\n"
            "  V = min-sig  signature in G1 (48 bytes), public key in G2 (96 bytes)\n"
            "      min-pk   signature in G2 (96 bytes), public key in G1 (48 bytes)\n"
            "keygen prints 'sk HEX' and 'pk HEX' (IKM: at least 32 secret bytes).\n"
            "sign prints the compressed signature; verify exits 0 if valid, 1 if not.\n"
            "Secrets stay off the command line, where other local users see them (ps, /proc): the key\n"
            "comes from --sk-file FILE (the 32-byte key as hex; - reads stdin). --ikm HEX is kept for\n"
            "test vectors; --ikm-file FILE (hex, - for stdin) is the form for real key material.\n"
            "Exit codes: 0 ok, 1 invalid signature or rejected input, 2 usage.\n");
}

static int bls_keygen(int argc, char **argv) {
    static const char *const opts[] = {"--variant", "--ikm", "--ikm-file", "--key-info", NULL};
    if (!cli_check_opts(argc, argv, opts)) return CLI_USAGE;
    tkms_bls_variant v;
    if (!parse_variant(cli_opt(argc, argv, "--variant"), &v)) return CLI_USAGE;
    const char *ikmhex = cli_opt(argc, argv, "--ikm"), *ikmfile = cli_opt(argc, argv, "--ikm-file");
    if ((ikmhex == NULL) == (ikmfile == NULL)) return cli_fail(CLI_USAGE, "give exactly one of --ikm HEX or --ikm-file FILE");
    size_t ikm_len = 0;
    uint8_t *ikm = ikmhex ? hex_arg("--ikm", ikmhex, &ikm_len) : cli_read_secret_hex_alloc(&ikm_len, 1, 1 << 12, ikmfile);
    if (!ikm) return ikmhex ? CLI_USAGE : CLI_REJECT;
    const char *info = cli_opt(argc, argv, "--key-info");
    tkms_bls_secret_key sk;
    tkms_bls_public_key pk;
    uint8_t skb[32], pkb[96];
    int rc = CLI_OK;
    if (!tkms_bls_keygen(&sk, ikm, ikm_len, (const uint8_t *)info, info ? strlen(info) : 0)) {
        rc = cli_fail(CLI_REJECT, "IKM must be at least 32 bytes");
    } else if (!tkms_bls_sk_to_pk(&pk, v, &sk) || !tkms_bls_secret_key_serialize(skb, &sk) ||
               !tkms_bls_public_key_serialize(pkb, tkms_bls_public_key_size(v), &pk)) {
        rc = cli_fail(CLI_REJECT, "key generation failed");
    } else {
        fputs("sk ", stdout);
        cli_print_hex(skb, 32);
        fputs("pk ", stdout);
        cli_print_hex(pkb, tkms_bls_public_key_size(v));
    }
    OPENSSL_cleanse(ikm, ikm_len);
    free(ikm);
    OPENSSL_cleanse(skb, sizeof skb);
    tkms_bls_secret_key_wipe(&sk);
    return rc;
}

static int bls_sign(int argc, char **argv) {
    static const char *const opts[] = {"--variant", "--dst", "--sk-file", "--msg", NULL};
    if (cli_removed_secret_opt(argc, argv, "--sk", "--sk-file")) return CLI_USAGE;
    if (!cli_check_opts(argc, argv, opts)) return CLI_USAGE;
    tkms_bls_variant v;
    if (!parse_variant(cli_opt(argc, argv, "--variant"), &v)) return CLI_USAGE;
    const char *dst = dst_arg(argc, argv);
    if (!dst) return CLI_USAGE;
    const char *skfile = cli_opt(argc, argv, "--sk-file");
    if (!skfile) return cli_fail(CLI_USAGE, "--sk-file FILE is required (the 32-byte secret key as hex; - reads stdin)");
    uint8_t skb[32];
    if (!cli_read_secret_hex(skb, 32, skfile)) return CLI_REJECT;
    size_t msg_len = 0;
    uint8_t *msg = hex_arg("--msg", cli_opt(argc, argv, "--msg"), &msg_len);
    if (!msg) {
        OPENSSL_cleanse(skb, sizeof skb);
        return CLI_USAGE;
    }
    tkms_bls_secret_key sk;
    tkms_bls_signature sig;
    uint8_t out[96];
    int rc = CLI_OK;
    if (!tkms_bls_secret_key_parse(&sk, skb)) {
        rc = cli_fail(CLI_REJECT, "secret key is zero or not below the group order");
    } else if (!tkms_bls_sign(&sig, v, &sk, msg, msg_len, (const uint8_t *)dst, strlen(dst)) ||
               !tkms_bls_signature_serialize(out, tkms_bls_signature_size(v), &sig)) {
        rc = cli_fail(CLI_REJECT, "signing failed");
    } else {
        cli_print_hex(out, tkms_bls_signature_size(v));
    }
    OPENSSL_cleanse(skb, sizeof skb);
    tkms_bls_secret_key_wipe(&sk);
    free(msg);
    return rc;
}

static int bls_verify(int argc, char **argv) {
    static const char *const opts[] = {"--variant", "--dst", "--pk", "--msg", "--sig", NULL};
    if (!cli_check_opts(argc, argv, opts)) return CLI_USAGE;
    tkms_bls_variant v;
    if (!parse_variant(cli_opt(argc, argv, "--variant"), &v)) return CLI_USAGE;
    const char *dst = dst_arg(argc, argv);
    if (!dst) return CLI_USAGE;
    size_t pk_len = 0, sig_len = 0, msg_len = 0;
    uint8_t *pkb = hex_arg("--pk", cli_opt(argc, argv, "--pk"), &pk_len);
    uint8_t *sigb = pkb ? hex_arg("--sig", cli_opt(argc, argv, "--sig"), &sig_len) : NULL;
    uint8_t *msg = sigb ? hex_arg("--msg", cli_opt(argc, argv, "--msg"), &msg_len) : NULL;
    int rc;
    tkms_bls_public_key pk;
    tkms_bls_signature sig;
    if (!msg) rc = CLI_USAGE;
    else if (!tkms_bls_public_key_parse(&pk, v, pkb, pk_len))
        rc = cli_fail(CLI_REJECT, "invalid public key (encoding, curve, subgroup or identity)");
    else if (!tkms_bls_signature_parse(&sig, v, sigb, sig_len))
        rc = cli_fail(CLI_REJECT, "invalid signature encoding (length, curve, subgroup or identity)");
    else if (!tkms_bls_verify(&pk, msg, msg_len, &sig, (const uint8_t *)dst, strlen(dst)))
        rc = cli_fail(CLI_REJECT, "signature does not verify");
    else {
        puts("valid");
        rc = CLI_OK;
    }
    free(pkb);
    free(sigb);
    free(msg);
    return rc;
}

int cmd_bls(int argc, char **argv) {
    tkms_set_illegal_callback(on_illegal, NULL);
    if (argc < 2) {
        bls_usage(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0 ||
        cli_flag(argc - 1, argv + 1, "--help")) {
        bls_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(sub, "keygen") == 0) return bls_keygen(argc - 1, argv + 1);
    if (strcmp(sub, "sign") == 0) return bls_sign(argc - 1, argv + 1);
    if (strcmp(sub, "verify") == 0) return bls_verify(argc - 1, argv + 1);
    bls_usage(stderr);
    return cli_fail(CLI_USAGE, "unknown bls command '%s'", sub);
}

/* ---- h2c ---- */

int cmd_h2c(int argc, char **argv) {
    static const char *const opts[] = {"--group", "--dst", "--msg", "--encode!", "--help!", NULL};
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: tkms h2c --group g1|g2 --dst STR --msg HEX [--encode]\n"
               "\n"
               "RFC 9380 hash_to_curve (random oracle, _RO_) or, with --encode, encode_to_curve\n"
               "(_NU_) to BLS12-381 G1 or G2 with expand_message_xmd(SHA-256) and any DST.\n"
               "Prints the compressed point (48 or 96 bytes, ZCash encoding) as hex.\n");
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, opts)) return CLI_USAGE;
    const char *group = cli_opt(argc, argv, "--group");
    if (group == NULL || (strcmp(group, "g1") != 0 && strcmp(group, "g2") != 0))
        return cli_fail(CLI_USAGE, "--group g1|g2 is required");
    const char *dst = dst_arg(argc, argv);
    if (!dst) return CLI_USAGE;
    size_t msg_len = 0;
    uint8_t *msg = hex_arg("--msg", cli_opt(argc, argv, "--msg"), &msg_len);
    if (!msg) return CLI_USAGE;
    int encode = cli_flag(argc, argv, "--encode");
    const uint8_t *d = (const uint8_t *)dst;
    size_t dl = strlen(dst);
    uint8_t out[96];
    if (strcmp(group, "g1") == 0) {
        g1_t p;
        g1_affine_t a;
        if (encode) h2c_encode_to_g1(&p, msg, msg_len, d, dl);
        else h2c_hash_to_g1(&p, msg, msg_len, d, dl);
        g1_to_affine(&a, &p);
        g1_serialize(out, &a);
        cli_print_hex(out, 48);
    } else {
        g2_t p;
        g2_affine_t a;
        if (encode) h2c_encode_to_g2(&p, msg, msg_len, d, dl);
        else h2c_hash_to_g2(&p, msg, msg_len, d, dl);
        g2_to_affine(&a, &p);
        g2_serialize(out, &a);
        cli_print_hex(out, 96);
    }
    free(msg);
    return CLI_OK;
}

/* ---- selftest: a handful of known answers, each from a named public source ---- */

static int unhex(uint8_t *out, size_t len, const char *hex) { return cli_hex_exact(out, len, hex); }

/* RFC 9380 App. J.9.1 / J.9.2 / J.10.1 / J.10.2, msg "abc" (uncompressed x || y, Fp2 as c1 || c0). */
static int st_h2c(int g2, int encode, const char *dst, const char *expect) {
    uint8_t want[192], got[192];
    const uint8_t *m = (const uint8_t *)"abc";
    if (!unhex(want, g2 ? 192 : 96, expect)) return 0;
    if (!g2) {
        g1_t p;
        g1_affine_t a;
        if (encode) h2c_encode_to_g1(&p, m, 3, (const uint8_t *)dst, strlen(dst));
        else h2c_hash_to_g1(&p, m, 3, (const uint8_t *)dst, strlen(dst));
        g1_to_affine(&a, &p);
        g1_serialize_uncompressed(got, &a);
        return memcmp(got, want, 96) == 0;
    }
    g2_t p;
    g2_affine_t a;
    if (encode) h2c_encode_to_g2(&p, m, 3, (const uint8_t *)dst, strlen(dst));
    else h2c_hash_to_g2(&p, m, 3, (const uint8_t *)dst, strlen(dst));
    g2_to_affine(&a, &p);
    g2_serialize_uncompressed(got, &a);
    return memcmp(got, want, 192) == 0;
}

static int st_h2c_g1_ro(void) {
    return st_h2c(0, 0, "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_",
                  "03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903"
                  "0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d");
}
static int st_h2c_g1_nu(void) {
    return st_h2c(0, 1, "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_NU_",
                  "009769f3ab59bfd551d53a5f846b9984c59b97d6842b20a2c565baa167945e3d026a3755b6345df8ec7e6acb6868ae6d"
                  "1532c00cf61aa3d0ce3e5aa20c3b531a2abd2c770a790a2613818303c6b830ffc0ecf6c357af3317b9575c567f11cd2c");
}
static int st_h2c_g2_ro(void) {
    return st_h2c(1, 0, "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_",
                  "139cddbccdc5e91b9623efd38c49f81a6f83f175e80b06fc374de9eb4b41dfe4ca3a230ed250fbe3a2acf73a41177fd8"
                  "02c2d18e033b960562aae3cab37a27ce00d80ccd5ba4b7fe0e7a210245129dbec7780ccc7954725f4168aff2787776e6"
                  "00aa65dae3c8d732d10ecd2c50f8a1baf3001578f71c694e03866e9f3d49ac1e1ce70dd94a733534f106d4cec0eddd16"
                  "1787327b68159716a37440985269cf584bcb1e621d3a7202be6ea05c4cfe244aeb197642555a0645fb87bf7466b2ba48");
}
static int st_h2c_g2_nu(void) {
    return st_h2c(1, 1, "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_NU_",
                  "0296238ea82c6d4adb3c838ee3cb2346049c90b96d602d7bb1b469b905c9228be25c627bffee872def773d5b2a2eb57d"
                  "108ed59fd9fae381abfd1d6bce2fd2fa220990f0f837fa30e0f27914ed6e1454db0d1ee957b219f61da6ff8be0d6441f"
                  "153606c417e59fb331b7ae6bce4fbf7c5190c33ce9402b5ebe2b70e44fca614f3f1382a3625ed5493843d0b0a652fc3f"
                  "033f90f6057aadacae7963b0a0b379dd46750c1c94a6357c99b65f63b79e321ff50fe3053330911c56b6ceea08fee656");
}

/* RFC 9380 App. K.1, expand_message_xmd(SHA-256), msg "abc", 32 bytes. */
static int st_xmd(void) {
    static const char dst[] = "QUUX-V01-CS02-with-expander-SHA256-128";
    uint8_t want[32], got[32];
    if (!unhex(want, 32, "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615")) return 0;
    if (!h2c_expand_message_xmd(got, 32, (const uint8_t *)"abc", 3, (const uint8_t *)dst, sizeof dst - 1)) return 0;
    return memcmp(got, want, 32) == 0;
}

/* Ethereum consensus-spec-tests phase0 bls/sign sign_case_11b8c7cad5238946 (min-pk, POP DST). */
static int st_eth_sign(void) {
    static const char dst[] = TKMS_BLS_DST_MIN_PK_POP;
    uint8_t skb[32], msg[32] = {0}, want[96], got[96], pkb[48];
    tkms_bls_secret_key sk;
    tkms_bls_signature sig;
    tkms_bls_public_key pk;
    if (!unhex(skb, 32, "47b8192d77bf871b62e87859d653922725724a5c031afeabc60bcef5ff665138") ||
        !unhex(want, 96,
               "b23c46be3a001c63ca711f87a005c200cc550b9429d5f4eb38d74322144f1b63926da3388979e5321012fb1a0526bcd1"
               "00b5ef5fe72628ce4cd5e904aeaa3279527843fae5ca9ca675f4f51ed8f83bbf7155da9ecc9663100a885d5dc6df96d9"))
        return 0;
    if (!tkms_bls_secret_key_parse(&sk, skb)) return 0;
    int ok = tkms_bls_sign(&sig, TKMS_BLS_MIN_PK, &sk, msg, 32, (const uint8_t *)dst, sizeof dst - 1) &&
             tkms_bls_signature_serialize(got, 96, &sig) && memcmp(got, want, 96) == 0 &&
             tkms_bls_sk_to_pk(&pk, TKMS_BLS_MIN_PK, &sk) && tkms_bls_public_key_serialize(pkb, 48, &pk) &&
             tkms_bls_verify(&pk, msg, 32, &sig, (const uint8_t *)dst, sizeof dst - 1);
    msg[0] ^= 1;
    ok = ok && !tkms_bls_verify(&pk, msg, 32, &sig, (const uint8_t *)dst, sizeof dst - 1);
    tkms_bls_secret_key_wipe(&sk);
    return ok;
}

/* drand quicknet round 12040883 (drand/tlock tlock_test.go): min-sig, msg = sha256(be64(round)). */
static int st_drand(void) {
    static const char dst[] = TKMS_BLS_DST_MIN_SIG_NUL;
    uint8_t pkb[96], sigb[48], be[8], msg[32];
    tkms_bls_public_key pk;
    tkms_bls_signature sig;
    if (!unhex(pkb, 96,
               "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d106451"
               "0d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a") ||
        !unhex(sigb, 48, "929906c959032ab363c9f26570d215d66f5c06cb0c44fe508c12bb5839f04ec895bb6868e5b9ff13ab289bdb5266b394"))
        return 0;
    if (!tkms_bls_public_key_parse(&pk, TKMS_BLS_MIN_SIG, pkb, 96) ||
        !tkms_bls_signature_parse(&sig, TKMS_BLS_MIN_SIG, sigb, 48))
        return 0;
    int ok = 1;
    for (uint64_t round = 12040883; round <= 12040884; round++) {
        proto_be64(be, round);
        sha256(msg, be, 8);
        int v = tkms_bls_verify(&pk, msg, 32, &sig, (const uint8_t *)dst, sizeof dst - 1);
        ok &= round == 12040883 ? v : !v;
    }
    return ok;
}

/* tlock.json gt_serialisation (drand/tlock-js ibe.test.ts): SHA-256("IBE-H2" || GT(e(g1, g2)))[:16]. */
static int st_gt_h2(void) {
    uint8_t gt[576], h[32], want[16];
    fp12_t e;
    sha256_ctx c;
    if (!unhex(want, 16, "cb87319f24560b5231579a09ad79f12e")) return 0;
    pairing(&e, &G1_GENERATOR, &G2_GENERATOR);
    gt_to_bytes(gt, &e);
    sha256_init(&c);
    sha256_update(&c, "IBE-H2", 6);
    sha256_update(&c, gt, sizeof gt);
    sha256_final(&c, h);
    return memcmp(h, want, 16) == 0;
}

/* Bilinearity and non-degeneracy: e(aP, bQ) * e(-abP, Q) == 1, e(P, Q) != 1. */
static int st_bilinear(void) {
    fr_t a, b, ab;
    uint64_t ka[4], kb[4], kab[4];
    fr_from_u64(&a, 0x1234567890abcdefULL);
    fr_mul(&a, &a, &a); /* full-size scalars */
    fr_from_u64(&b, 0xfedcba0987654321ULL);
    fr_mul(&b, &b, &a);
    fr_mul(&ab, &a, &b);
    fr_neg(&ab, &ab);
    fr_to_scalar(ka, &a);
    fr_to_scalar(kb, &b);
    fr_to_scalar(kab, &ab);
    g1_t g1, t1;
    g2_t g2, t2;
    g1_affine_t P[2];
    g2_affine_t Q[2];
    g1_from_affine(&g1, &G1_GENERATOR);
    g2_from_affine(&g2, &G2_GENERATOR);
    g1_mul(&t1, &g1, ka);
    g1_to_affine(&P[0], &t1);
    g2_mul(&t2, &g2, kb);
    g2_to_affine(&Q[0], &t2);
    g1_mul_vartime(&t1, &g1, kab);
    g1_to_affine(&P[1], &t1);
    Q[1] = G2_GENERATOR;
    if (!pairing_product_is_one(P, Q, 2)) return 0;
    fp12_t e;
    pairing(&e, &G1_GENERATOR, &G2_GENERATOR);
    return !fp12_is_one(&e);
}

/* EIP-2333 test case 0 (master SK = KeyGen(seed) with empty key_info, the draft-04+ KeyGen). */
static int st_keygen(void) {
    uint8_t seed[64], want[32], got[32];
    tkms_bls_secret_key sk;
    if (!unhex(seed, 64,
               "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141"
               "630c7a3c4ab7c81b2f001698e7463b04") ||
        !unhex(want, 32, "0d7359d57963ab8fbbde1852dcf553fedbc31f464d80ee7d40ae683122b45070"))
        return 0;
    int ok = tkms_bls_keygen(&sk, seed, 64, NULL, 0) && tkms_bls_secret_key_serialize(got, &sk) &&
             memcmp(got, want, 32) == 0;
    tkms_bls_secret_key_wipe(&sk);
    return ok;
}

/* Sign/verify round trip in both variants, with a tampered signature rejected. */
static int st_roundtrip(void) {
    static const uint8_t ikm[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const char dst[] = TKMS_DST_SELFTEST;
    int ok = 1;
    for (int vi = 0; vi < 2; vi++) {
        tkms_bls_variant v = vi ? TKMS_BLS_MIN_PK : TKMS_BLS_MIN_SIG;
        tkms_bls_secret_key sk;
        tkms_bls_public_key pk;
        tkms_bls_signature sig, sig2;
        uint8_t enc[96];
        size_t n = tkms_bls_signature_size(v);
        ok &= tkms_bls_keygen(&sk, ikm, sizeof ikm, NULL, 0) && tkms_bls_sk_to_pk(&pk, v, &sk) &&
              tkms_bls_sign(&sig, v, &sk, (const uint8_t *)"m", 1, (const uint8_t *)dst, sizeof dst - 1) &&
              tkms_bls_verify(&pk, (const uint8_t *)"m", 1, &sig, (const uint8_t *)dst, sizeof dst - 1) &&
              tkms_bls_signature_serialize(enc, n, &sig) && tkms_bls_signature_parse(&sig2, v, enc, n) &&
              tkms_bls_verify(&pk, (const uint8_t *)"m", 1, &sig2, (const uint8_t *)dst, sizeof dst - 1) &&
              !tkms_bls_verify(&pk, (const uint8_t *)"n", 1, &sig, (const uint8_t *)dst, sizeof dst - 1);
        tkms_bls_secret_key_wipe(&sk);
    }
    return ok;
}

int cmd_selftest(int argc, char **argv) {
    static const char *const opts[] = {"--help!", "--verbose!", NULL};
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: tkms selftest [--verbose]\n\n"
               "Runs the built-in known-answer tests (RFC 9380 per suite and expand_message_xmd, an\n"
               "Ethereum sign vector, a drand quicknet beacon, the tlock GT/H2 check, EIP-2333 KeyGen,\n"
               "pairing bilinearity, sign/verify round trips) and prints a one-line summary.\n"
               "Exit 0 if all pass, 1 otherwise.\n");
        return CLI_OK;
    }
    if (!cli_check_opts(argc, argv, opts)) return CLI_USAGE;
    tkms_set_illegal_callback(on_illegal, NULL);
    int verbose = cli_flag(argc, argv, "--verbose");
    static const struct {
        const char *name;
        int (*fn)(void);
    } tests[] = {
        {"expand_message_xmd", st_xmd},  {"h2c-g1-ro", st_h2c_g1_ro},     {"h2c-g1-nu", st_h2c_g1_nu},
        {"h2c-g2-ro", st_h2c_g2_ro},     {"h2c-g2-nu", st_h2c_g2_nu},     {"pairing-bilinear", st_bilinear},
        {"gt-h2-tlock", st_gt_h2},       {"keygen-eip2333", st_keygen},   {"eth-sign", st_eth_sign},
        {"drand-quicknet", st_drand},    {"bls-roundtrip", st_roundtrip},
    };
    size_t n = sizeof tests / sizeof tests[0], pass = 0;
    char failed[512] = "";
    for (size_t i = 0; i < n; i++) {
        int ok = tests[i].fn();
        pass += (size_t)(ok != 0);
        if (verbose) printf("%-20s %s\n", tests[i].name, ok ? "ok" : "FAIL");
        if (!ok) {
            strncat(failed, " ", sizeof failed - strlen(failed) - 1);
            strncat(failed, tests[i].name, sizeof failed - strlen(failed) - 1);
        }
    }
    printf("selftest: %zu/%zu known-answer tests passed (fp backend %s)%s%s\n", pass, n, fp_backend(),
           pass == n ? "" : "; FAILED:", failed);
    return pass == n ? CLI_OK : CLI_REJECT;
}
