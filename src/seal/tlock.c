/* drand tlock files: age v1 (C2SP age.md) with a `-> tlock ROUND CHAINHASH` stanza whose body is a
 * Boneh-Franklin IBE ciphertext of the 16-byte file key, header HMAC, STREAM payload, armor. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "ibe.h"
#include "pairing.h"
#include "seal.h"
#include "sha256.h"
#include "proto_bytes.h"
#include "prim.h"

const tkms_tlock_chain TKMS_TLOCK_QUICKNET = {
    "quicknet",
    {0x83, 0xcf, 0x0f, 0x28, 0x96, 0xad, 0xee, 0x7e, 0xb8, 0xb5, 0xf0, 0x1f, 0xca, 0xd3, 0x91, 0x22,
     0x12, 0xc4, 0x37, 0xe0, 0x07, 0x3e, 0x91, 0x1f, 0xb9, 0x00, 0x22, 0xd3, 0xe7, 0x60, 0x18, 0x3c,
     0x8c, 0x4b, 0x45, 0x0b, 0x6a, 0x0a, 0x6c, 0x3a, 0xc6, 0xa5, 0x77, 0x6a, 0x2d, 0x10, 0x64, 0x51,
     0x0d, 0x1f, 0xec, 0x75, 0x8c, 0x92, 0x1c, 0xc2, 0x2b, 0x0e, 0x17, 0xe6, 0x3a, 0xaf, 0x4b, 0xcb,
     0x5e, 0xd6, 0x63, 0x04, 0xde, 0x9c, 0xf8, 0x09, 0xbd, 0x27, 0x4c, 0xa7, 0x3b, 0xab, 0x4a, 0xf5,
     0xa6, 0xe9, 0xc7, 0x6a, 0x4b, 0xc0, 0x9e, 0x76, 0xea, 0xe8, 0x99, 0x1e, 0xf5, 0xec, 0xe4, 0x5a},
    {0x52, 0xdb, 0x9b, 0xa7, 0x0e, 0x0c, 0xc0, 0xf6, 0xea, 0xf7, 0x80, 0x3d, 0xd0, 0x74, 0x47, 0xa1,
     0xf5, 0x47, 0x77, 0x35, 0xfd, 0x3f, 0x66, 0x17, 0x92, 0xba, 0x94, 0x60, 0x0c, 0x84, 0xe9, 0x71},
    "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_",
    1692803367,
    3};

#define AGE_INTRO "age-encryption.org/v1\n"
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define CHUNK 65536
#define FILE_KEY 16

static tkms_status st(tkms_seal_code c, const char *m) { return tkms_seal_st(c, m); }
#define OK st(TKMS_SEAL_OK, "ok")

static void round_identity(uint8_t id[32], uint64_t round) {
    uint8_t be[8];
    proto_be64(be, round);
    sha256(id, be, 8);
}

static void hkdf(uint8_t *out, size_t len, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                 const char *info) {
    uint8_t prk[32];
    hkdf_sha256_extract(prk, salt, salt_len, ikm, ikm_len);
    (void)hkdf_sha256_expand(out, len, prk, (const uint8_t *)info, strlen(info));
    tkms_wipe(prk, sizeof prk);
}

/* One ChaCha20-Poly1305 operation (12-byte nonce, no AAD unless given). Returns 1 on success
 * (for decryption: tag verified). */
int tkms_chacha_poly(int enc, uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t in_len);
int tkms_chacha_poly(int enc, uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t in_len) {
    if (!enc && in_len < 16) return 0;
    size_t body = enc ? in_len : in_len - 16;
    uint8_t tag[16];
    if (!enc) memcpy(tag, in + body, 16);
    if (!tkms_aead(enc, out, key, nonce, aad, aad_len, in, body, tag)) return 0;
    if (enc) memcpy(out + body, tag, 16);
    return 1;
}

static int append_str(tkms_buf *b, const char *s) { return tkms_buf_append(b, s, strlen(s)); }

/* age stanza body: base64 without padding, 64 columns, final line always shorter than 64. */
static int append_wrapped(tkms_buf *b, const uint8_t *body, size_t n) {
    char *e = tkms_b64_encode(body, n, 0, 0);
    if (!e) return 0;
    size_t el = strlen(e), i = 0;
    int ok = 1;
    for (; el - i >= 64; i += 64) ok &= tkms_buf_append(b, e + i, 64) && append_str(b, "\n");
    ok &= tkms_buf_append(b, e + i, el - i) && append_str(b, "\n");
    free(e);
    return ok;
}

static int append_armor(tkms_buf *out, const uint8_t *bin, size_t n) {
    char *e = tkms_b64_encode(bin, n, 0, 1);
    if (!e) return 0;
    size_t el = strlen(e);
    int ok = append_str(out, ARMOR_BEGIN "\n");
    for (size_t i = 0; i < el; i += 64) ok &= tkms_buf_append(out, e + i, el - i < 64 ? el - i : 64) && append_str(out, "\n");
    ok &= append_str(out, ARMOR_END "\n");
    free(e);
    return ok;
}

static void stream_nonce(uint8_t n[12], uint64_t counter, int last) {
    memset(n, 0, 12);
    for (int i = 0; i < 8; i++) n[10 - i] = (uint8_t)(counter >> (8 * i));
    n[11] = last ? 1 : 0;
}

tkms_status tkms_tlock_encrypt(tkms_buf *out, const tkms_tlock_chain *chain, uint64_t round, const uint8_t *in,
                                    size_t in_len, int armor) {
    uint8_t fk[FILE_KEY], sigma[FILE_KEY], id[32], ct[96 + 2 * FILE_KEY], mac_key[32], mac[32], nonce[16], pk_key[32];
    g2_affine_t mpk;
    tkms_buf bin = {0};
    tkms_status res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
    if (round == 0) return st(TKMS_SEAL_E_USAGE, "round must be >= 1");
    if (g2_deserialize(&mpk, chain->public_key, 96, 0) != G2_OK) return st(TKMS_SEAL_E_INTERNAL, "bad chain key");
    if (RAND_bytes(fk, sizeof fk) != 1 || RAND_bytes(sigma, sizeof sigma) != 1 || RAND_bytes(nonce, sizeof nonce) != 1)
        return st(TKMS_SEAL_E_INTERNAL, "no randomness");
    round_identity(id, round);
    if (!ibe_encrypt_mpk_g2(ct, &mpk, (const uint8_t *)chain->dst, strlen(chain->dst), id, 32, fk, FILE_KEY, sigma))
        goto done;
    char line[200], hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", chain->chain_hash[i]);
    snprintf(line, sizeof line, "-> tlock %" PRIu64 " %s\n", round, hex);
    if (!append_str(&bin, AGE_INTRO) || !append_str(&bin, line) || !append_wrapped(&bin, ct, sizeof ct) ||
        !append_str(&bin, "---"))
        goto done;
    hkdf(mac_key, 32, NULL, 0, fk, FILE_KEY, "header");
    hmac_sha256(mac, mac_key, 32, bin.p, bin.len);
    char *m64 = tkms_b64_encode(mac, 32, 0, 0);
    if (!m64) goto done;
    int ok = append_str(&bin, " ") && append_str(&bin, m64) && append_str(&bin, "\n") &&
             tkms_buf_append(&bin, nonce, sizeof nonce);
    free(m64);
    if (!ok) goto done;
    /* STREAM: full 64 KiB chunks, then a final (possibly short, empty only if all is empty) one. */
    hkdf(pk_key, 32, nonce, sizeof nonce, fk, FILE_KEY, "payload");
    uint8_t *cbuf = malloc(CHUNK + 16);
    if (!cbuf) goto done;
    size_t off = 0;
    uint64_t ctr = 0;
    for (;;) {
        size_t n = in_len - off;
        int last = n <= CHUNK;
        if (!last) n = CHUNK;
        uint8_t nn[12];
        stream_nonce(nn, ctr++, last);
        if (!tkms_chacha_poly(1, cbuf, pk_key, nn, NULL, 0, in + off, n) || !tkms_buf_append(&bin, cbuf, n + 16)) {
            free(cbuf);
            goto done;
        }
        off += n;
        if (last) break;
    }
    free(cbuf);
    if (armor) {
        if (!append_armor(out, bin.p, bin.len)) goto done;
    } else if (!tkms_buf_append(out, bin.p, bin.len)) {
        goto done;
    }
    res = OK;
done:
    tkms_buf_free(&bin);
    tkms_wipe(fk, sizeof fk);
    tkms_wipe(sigma, sizeof sigma);
    tkms_wipe(mac_key, sizeof mac_key);
    tkms_wipe(pk_key, sizeof pk_key);
    return res;
}

/* ---- decryption ---- */

static int is_space(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Removes ASCII armor if present (surrounding whitespace allowed, lines of <= 64 columns). */
static int dearmor(tkms_buf *bin, const uint8_t *in, size_t len, int *was_armored) {
    size_t a = 0, b = len;
    while (a < b && is_space(in[a])) a++;
    while (b > a && is_space(in[b - 1])) b--;
    size_t bl = strlen(ARMOR_BEGIN), el = strlen(ARMOR_END);
    *was_armored = 0;
    if (b - a < bl || memcmp(in + a, ARMOR_BEGIN, bl) != 0) return 1;
    *was_armored = 1;
    if (b - a < bl + el || memcmp(in + b - el, ARMOR_END, el) != 0) return 0;
    tkms_buf txt = {0};
    const uint8_t *p = in + a + bl, *end = in + b - el;
    int ok = 1, short_seen = 0;
    while (ok && p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll && p[ll - 1] == '\r') ll--;
        if (ll) {
            if (ll > 64 || short_seen) ok = 0;
            if (ll < 64) short_seen = 1;
            ok = ok && tkms_buf_append(&txt, p, ll);
        }
        p = nl ? nl + 1 : end;
    }
    ok = ok && tkms_b64_decode(bin, (const char *)txt.p, txt.len, 0, 1);
    tkms_buf_free(&txt);
    return ok;
}

/* Reads one '\n'-terminated line starting at *pos; returns its length (without '\n'), or -1. */
static long next_line(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **line) {
    if (*pos >= len) return -1;
    const uint8_t *nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl) return -1;
    *line = buf + *pos;
    long l = (long)(nl - (buf + *pos));
    *pos += (size_t)l + 1;
    return l;
}

static int parse_u64(const char *s, size_t n, uint64_t *v) {
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

static int unhex(uint8_t *out, const char *s, size_t n) { return tkms_unhex(out, n, s, 2 * n, TKMS_HEX_LOWER_ONLY); }

static int verify_beacon(const uint8_t *sig, size_t sig_len, const uint8_t *pk, size_t pk_len, const char *dst,
                         const uint8_t id[32]) {
    if (sig_len == 48 && pk_len == 96) {
        g1_affine_t s, h;
        g2_affine_t p;
        g1_t hp;
        if (g1_deserialize(&s, sig, 48, 0) != G1_OK || g2_deserialize(&p, pk, 96, 0) != G2_OK) return 0;
        h2c_hash_to_g1(&hp, id, 32, (const uint8_t *)dst, strlen(dst));
        g1_to_affine(&h, &hp);
        g1_affine_t P[2] = {s, h};
        g2_affine_t Q[2] = {G2_GENERATOR, p};
        g1_affine_neg(&P[1], &h);
        return (int)pairing_product_is_one(P, Q, 2);
    }
    if (sig_len == 96 && pk_len == 48) {
        g2_affine_t s, h;
        g1_affine_t p;
        g2_t hp;
        if (g2_deserialize(&s, sig, 96, 0) != G2_OK || g1_deserialize(&p, pk, 48, 0) != G1_OK) return 0;
        h2c_hash_to_g2(&hp, id, 32, (const uint8_t *)dst, strlen(dst));
        g2_to_affine(&h, &hp);
        g1_affine_t P[2] = {G1_GENERATOR, p};
        g2_affine_t Q[2] = {s, h};
        g1_affine_neg(&P[1], &p);
        return (int)pairing_product_is_one(P, Q, 2);
    }
    return 0;
}

tkms_status tkms_tlock_decrypt(tkms_buf *out, const uint8_t *in, size_t in_len, const uint8_t *sig,
                                    size_t sig_len, const uint8_t *public_key, size_t pk_len, const char *dst) {
    tkms_buf bin = {0}, body = {0}, plain = {0};
    tkms_status res = st(TKMS_SEAL_E_INPUT, "not an age file");
    uint8_t fk[FILE_KEY], mac_key[32], mac[32], pk_key[32];
    int armored, have_fk = 0;
    if (sig_len != 48 && sig_len != 96) return st(TKMS_SEAL_E_USAGE, "signature must be 48 or 96 bytes");
    if (!dearmor(&bin, in, in_len, &armored)) {
        res = st(TKMS_SEAL_E_INPUT, "malformed armor");
        goto done;
    }
    const uint8_t *buf = armored ? bin.p : in;
    size_t len = armored ? bin.len : in_len, pos = 0;
    const uint8_t *line;
    long ll = next_line(buf, len, &pos, &line);
    if (ll != (long)strlen(AGE_INTRO) - 1 || memcmp(line, AGE_INTRO, (size_t)ll) != 0) goto done;
    res = st(TKMS_SEAL_E_INPUT, "malformed age header");
    for (;;) {
        size_t line_start = pos;
        ll = next_line(buf, len, &pos, &line);
        if (ll < 0) goto done;
        if (ll >= 3 && memcmp(line, "---", 3) == 0) {
            /* "--- " + 43 base64 characters of the MAC */
            if (ll != 3 + 1 + 43 || line[3] != ' ') goto done;
            tkms_buf m = {0};
            int okm = tkms_b64_decode(&m, (const char *)line + 4, 43, 0, 0) && m.len == 32;
            if (okm) memcpy(mac, m.p, 32);
            tkms_buf_free(&m);
            if (!okm || !have_fk) {
                if (okm) res = st(TKMS_SEAL_E_INPUT, "no tlock stanza in the age header");
                goto done;
            }
            hkdf(mac_key, 32, NULL, 0, fk, FILE_KEY, "header");
            uint8_t want[32];
            hmac_sha256(want, mac_key, 32, buf, line_start + 3);
            if (!ct_memeq(want, mac, 32)) {
                res = st(TKMS_SEAL_E_INPUT, "header MAC mismatch (modified file)");
                goto done;
            }
            break;
        }
        if (ll < 3 || memcmp(line, "-> ", 3) != 0) goto done;
        /* stanza: arguments, then body lines up to the first one shorter than 64 columns */
        const char *args = (const char *)line + 3;
        size_t alen = (size_t)ll - 3;
        tkms_buf_free(&body);
        tkms_buf b64 = {0};
        for (;;) {
            const uint8_t *bl;
            long l = next_line(buf, len, &pos, &bl);
            if (l < 0 || l > 64 || !tkms_buf_append(&b64, bl, (size_t)l)) {
                tkms_buf_free(&b64);
                goto done;
            }
            if (l < 64) break;
        }
        int okb = tkms_b64_decode(&body, (const char *)(b64.p ? b64.p : (const uint8_t *)""), b64.len, 0, 0);
        tkms_buf_free(&b64);
        if (!okb) goto done;
        if (alen < 6 || memcmp(args, "tlock ", 6) != 0 || have_fk) continue; /* other recipients */
        const char *sp = memchr(args + 6, ' ', alen - 6);
        uint64_t round;
        uint8_t chash[32];
        if (!sp || !parse_u64(args + 6, (size_t)(sp - args - 6), &round) ||
            (size_t)(args + alen - sp - 1) != 64 || !unhex(chash, sp + 1, 32))
            goto done;
        uint8_t id[32];
        round_identity(id, round);
        const uint8_t *vpk = public_key;
        size_t vpk_len = pk_len;
        const char *vdst = dst;
        if (!vpk && memcmp(chash, TKMS_TLOCK_QUICKNET.chain_hash, 32) == 0) {
            vpk = TKMS_TLOCK_QUICKNET.public_key;
            vpk_len = 96;
        }
        if (!vdst) vdst = sig_len == 48 ? TKMS_TLOCK_QUICKNET.dst : "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";
        if (vpk && !verify_beacon(sig, sig_len, vpk, vpk_len, vdst, id)) {
            res = st(TKMS_SEAL_E_INPUT, "the signature is not the chain's beacon for this round");
            goto done;
        }
        int okd;
        if (sig_len == 48) {
            g1_affine_t k;
            okd = g1_deserialize(&k, sig, 48, 0) == G1_OK && body.len == 96 + 2 * FILE_KEY &&
                  ibe_decrypt_mpk_g2(fk, &k, body.p, body.len);
        } else {
            g2_affine_t k;
            okd = g2_deserialize(&k, sig, 96, 0) == G2_OK && body.len == 48 + 2 * FILE_KEY &&
                  ibe_decrypt_mpk_g1(fk, &k, body.p, body.len);
        }
        if (!okd) {
            res = st(TKMS_SEAL_E_INPUT, "cannot decrypt the tlock stanza with this signature");
            goto done;
        }
        have_fk = 1;
    }
    /* payload */
    res = st(TKMS_SEAL_E_INPUT, "truncated or modified payload");
    if (len - pos < 16) goto done;
    hkdf(pk_key, 32, buf + pos, 16, fk, FILE_KEY, "payload");
    pos += 16;
    uint8_t *pbuf = malloc(CHUNK);
    if (!pbuf) {
        res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
        goto done;
    }
    uint64_t ctr = 0;
    int ok = 1, done_last = 0;
    while (ok && !done_last) {
        size_t n = len - pos;
        if (n < 16) {
            ok = 0;
            break;
        }
        uint8_t nn[12];
        if (n > CHUNK + 16) {
            n = CHUNK + 16;
            stream_nonce(nn, ctr, 0);
            ok = tkms_chacha_poly(0, pbuf, pk_key, nn, NULL, 0, buf + pos, n);
        } else {
            /* A chunk that is the rest of the file must be the last one; a full-size rest could
             * in principle be a non-last chunk followed by nothing, which is a truncation. */
            stream_nonce(nn, ctr, 1);
            ok = tkms_chacha_poly(0, pbuf, pk_key, nn, NULL, 0, buf + pos, n);
            done_last = 1;
            if (ok && n == 16 && ctr > 0) ok = 0; /* empty last chunk only for an empty file */
        }
        ok = ok && tkms_buf_append(&plain, pbuf, n - 16);
        pos += n;
        ctr++;
    }
    tkms_wipe(pbuf, CHUNK);
    free(pbuf);
    if (!ok) goto done;
    if (!tkms_buf_append(out, plain.p ? plain.p : (const uint8_t *)"", plain.len)) {
        res = st(TKMS_SEAL_E_INTERNAL, "out of memory");
        goto done;
    }
    res = OK;
done:
    tkms_buf_free(&bin);
    tkms_buf_free(&body);
    tkms_buf_free(&plain);
    tkms_wipe(fk, sizeof fk);
    tkms_wipe(mac_key, sizeof mac_key);
    tkms_wipe(pk_key, sizeof pk_key);
    return res;
}
