/* tkms wallet layer: app key -> BIP-39 mnemonic -> BIP-32/SLIP-0010 wallets, TLS keys and data keys,
 * plus the streaming data-at-rest format (DESIGN.md §2 "Mnemonic" / "From the mnemonic"). */
#ifndef TKMS_WALLET_H
#define TKMS_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif


/* Every fallible call returns one of these; TKMS_WALLET_OK is 0. Outputs are unspecified (and
 * wiped where they could hold secrets) on any other value. */
typedef enum {
    TKMS_WALLET_OK = 0,
    TKMS_WALLET_EARG,       /* programming error: bad length, NULL, buffer too small */
    TKMS_WALLET_ELENGTH,    /* mnemonic has a word count other than 12/15/18/21/24 */
    TKMS_WALLET_EWORD,      /* mnemonic word not in the English list (or not lower-case ASCII) */
    TKMS_WALLET_ECHECKSUM,  /* mnemonic or Base58Check checksum mismatch */
    TKMS_WALLET_EPASSPHRASE,/* passphrase is not ASCII: NFKD is not implemented (docs/wallet.md) */
    TKMS_WALLET_EPATH,      /* malformed derivation path, or hardened step from a public key */
    TKMS_WALLET_EKEY,       /* invalid key: version, prefix, range, point, depth/fingerprint rules */
    TKMS_WALLET_EDERIVE,    /* derived child is invalid (probability < 2^-127): use the next index */
    TKMS_WALLET_EDOMAIN,    /* TLS domain is not a valid DNS name */
    TKMS_WALLET_EFORMAT,    /* data file: bad magic, version or header field */
    TKMS_WALLET_EAUTH,      /* data file: chunk failed authentication (flip, reorder, truncation) */
    TKMS_WALLET_EINTERNAL   /* OpenSSL or libsecp256k1 failed unexpectedly */
} tkms_wallet_status;

/* A short, secret-free description of a status. Never returns NULL. */
const char *tkms_wallet_strerror(tkms_wallet_status st);

/* ---- BIP-39 (English) ---- */

#define TKMS_BIP39_SEED_LEN 64
/* Longest mnemonic text: 24 words of at most 8 letters, 23 spaces, NUL. */
#define TKMS_BIP39_MNEMONIC_MAX 216

/* Encodes entropy (16, 20, 24, 28 or 32 bytes) as a mnemonic of single-space-separated words into
 * out (cap bytes, TKMS_BIP39_MNEMONIC_MAX is always enough). Words are read from the list by a
 * masked scan of all rows, so memory access does not depend on the entropy. */
tkms_wallet_status tkms_bip39_from_entropy(char *out, size_t cap, const uint8_t *entropy, size_t len)
    TKMS_WUR;

/* Decodes a mnemonic (words separated by any ASCII whitespace runs; leading/trailing whitespace
 * ignored) into entropy (cap >= 32 is always enough); *len gets the entropy length. Checks the word
 * count, every word and the checksum. The word lookup scans the whole list in constant time. */
tkms_wallet_status tkms_bip39_to_entropy(uint8_t *entropy, size_t *len, size_t cap, const char *mnemonic)
    TKMS_WUR;

/* Rewrites a valid mnemonic into its canonical form (single spaces) in out (cap bytes). */
tkms_wallet_status tkms_bip39_normalize(char *out, size_t cap, const char *mnemonic) TKMS_WUR;

/* BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" || NFKD(passphrase), 2048, 64). The
 * mnemonic is validated (checksum included) and canonicalised first. passphrase may be NULL (empty)
 * and must be ASCII (NFKD is then the identity); other input gives TKMS_WALLET_EPASSPHRASE. */
tkms_wallet_status tkms_bip39_seed(uint8_t seed[TKMS_BIP39_SEED_LEN], const char *mnemonic,
                                   const char *passphrase) TKMS_WUR;

/* Word i (0..2047) of the English list, or NULL. Variable time: for public indices only. */
const char *tkms_bip39_word_vartime(unsigned i);

/* ---- Mnemonic from an app key (DESIGN.md §2) ---- */

#define TKMS_APP_KEY_LEN 48
/* entropy = HKDF-SHA256(ikm = app_key, salt = "TKMS-V1", info = "bip39-entropy", 32), then 24 words.
 * app_key is the compressed G1 point K_A; its encoding flags are checked (compressed, not infinity),
 * but not curve/subgroup membership (that is the app-key module's job, before this is called). */
tkms_wallet_status tkms_mnemonic_from_app_key(char *out, size_t cap, const uint8_t app_key[TKMS_APP_KEY_LEN])
    TKMS_WUR;

/* ---- BIP-32 on secp256k1 ---- */

#define TKMS_BIP32_VERSION_XPRV 0x0488ADE4u
#define TKMS_BIP32_VERSION_XPUB 0x0488B21Eu
#define TKMS_BIP32_VERSION_TPRV 0x04358394u
#define TKMS_BIP32_VERSION_TPUB 0x043587CFu
#define TKMS_BIP32_VERSION_ZPRV 0x04B2430Cu /* SLIP-132 / BIP-84 */
#define TKMS_BIP32_VERSION_ZPUB 0x04B24746u
#define TKMS_HARDENED 0x80000000u
/* Base58Check of 82 bytes is at most 112 characters. */
#define TKMS_BIP32_XKEY_MAX 113

/* An extended key. key[0] is 0x00 followed by the private scalar when is_private, else the
 * compressed public key. Wipe with tkms_hdkey_wipe. */
typedef struct {
    uint8_t depth;
    uint8_t parent_fp[4];
    uint32_t child;
    uint8_t chain_code[32];
    uint8_t key[33];
    int is_private;
} tkms_hdkey;

void tkms_hdkey_wipe(tkms_hdkey *k);

/* Master key from a seed of 16..64 bytes (HMAC-SHA512 with key "Bitcoin seed"). */
tkms_wallet_status tkms_bip32_master(tkms_hdkey *out, const uint8_t *seed, size_t len) TKMS_WUR;
/* Child index (>= TKMS_HARDENED means hardened). From a public parent only normal children exist
 * (TKMS_WALLET_EPATH otherwise). out may alias parent. */
tkms_wallet_status tkms_bip32_ckd(tkms_hdkey *out, const tkms_hdkey *parent, uint32_t index) TKMS_WUR;
/* Derives a path "m/44'/60'/0'/0/1" ("'", "h" or "H" mark hardened steps; "m" alone is the root).
 * A path from an xpub may start with "m" or be relative ("0/1"). out may alias root. */
tkms_wallet_status tkms_bip32_derive_path(tkms_hdkey *out, const tkms_hdkey *root, const char *path)
    TKMS_WUR;
/* The public extended key of k (k itself if already public). out may alias k. */
tkms_wallet_status tkms_bip32_neuter(tkms_hdkey *out, const tkms_hdkey *k) TKMS_WUR;
/* Compressed public key of k. */
tkms_wallet_status tkms_bip32_pubkey(uint8_t pub[33], const tkms_hdkey *k) TKMS_WUR;
/* Base58Check serialisation with the given 4-byte version (must match k->is_private). */
tkms_wallet_status tkms_bip32_serialize(char *out, size_t cap, const tkms_hdkey *k, uint32_t version)
    TKMS_WUR;
/* Parses an xprv/xpub/tprv/tpub/zprv/zpub string with every BIP-32 check (test vector 5): checksum,
 * length, known version, version/key-type agreement, 0x00/0x02/0x03 prefixes, scalar in 1..n-1,
 * point on the curve, depth 0 implies zero fingerprint and index. *version gets the version. */
tkms_wallet_status tkms_bip32_parse(tkms_hdkey *out, uint32_t *version, const char *s) TKMS_WUR;
/* Parses "m/1'/2" into at most max indices; *n gets the count; *relative is 1 when no "m" prefix. */
tkms_wallet_status tkms_path_parse(uint32_t *idx, size_t *n, size_t max, int *relative, const char *path)
    TKMS_WUR;

/* ---- SLIP-0010 ed25519 (hardened only) ---- */

typedef struct {
    uint8_t depth;
    uint8_t parent_fp[4];
    uint32_t child;
    uint8_t chain_code[32];
    uint8_t key[32]; /* the ed25519 secret seed */
} tkms_slip10_key;

void tkms_slip10_wipe(tkms_slip10_key *k);
tkms_wallet_status tkms_slip10_master(tkms_slip10_key *out, const uint8_t *seed, size_t len) TKMS_WUR;
/* Every index must be hardened (TKMS_WALLET_EPATH otherwise); unmarked path steps are rejected too. */
tkms_wallet_status tkms_slip10_ckd(tkms_slip10_key *out, const tkms_slip10_key *parent, uint32_t index)
    TKMS_WUR;
tkms_wallet_status tkms_slip10_derive_path(tkms_slip10_key *out, const tkms_slip10_key *root, const char *path)
    TKMS_WUR;
/* The 32-byte ed25519 public key (via OpenSSL). */
tkms_wallet_status tkms_slip10_pubkey(uint8_t pub[32], const tkms_slip10_key *k) TKMS_WUR;

/* ---- Hashes and encodings used by the chains ---- */

/* Keccak-256 with the original Keccak padding (Ethereum), not FIPS-202 SHA3-256. */
void tkms_keccak256(uint8_t out[32], const uint8_t *in, size_t len);
/* RIPEMD-160 (own implementation: OpenSSL 3 may only offer it in the legacy provider). */
void tkms_ripemd160(uint8_t out[20], const uint8_t *in, size_t len);
/* RIPEMD-160(SHA-256(in)). */
void tkms_hash160(uint8_t out[20], const uint8_t *in, size_t len);
/* Bitcoin base58 (no checksum). Returns TKMS_WALLET_EARG if cap is too small. Variable time. */
tkms_wallet_status tkms_base58_encode(char *out, size_t cap, const uint8_t *in, size_t len) TKMS_WUR;
/* Decodes base58 into out (cap bytes), *len gets the length. */
tkms_wallet_status tkms_base58_decode(uint8_t *out, size_t *len, size_t cap, const char *in) TKMS_WUR;
/* Segwit address (BIP-173 bech32 for version 0, BIP-350 bech32m for 1..16). */
tkms_wallet_status tkms_segwit_encode(char *out, size_t cap, const char *hrp, int witver, const uint8_t *prog,
                                      size_t prog_len) TKMS_WUR;
/* Decodes a segwit address with the expected hrp; checks the checksum variant for the version. */
tkms_wallet_status tkms_segwit_decode(int *witver, uint8_t *prog, size_t *prog_len, size_t cap, const char *hrp,
                                      const char *addr) TKMS_WUR;

/* ---- Chain addresses ---- */

#define TKMS_ETH_ADDR_LEN 43 /* "0x" + 40 hex + NUL */
/* EIP-55 mixed-case checksum form of a 20-byte address. */
void tkms_eip55(char out[TKMS_ETH_ADDR_LEN], const uint8_t addr[20]);
/* Ethereum address of a compressed or uncompressed secp256k1 public key (33 or 65 bytes). */
tkms_wallet_status tkms_eth_address(char out[TKMS_ETH_ADDR_LEN], const uint8_t *pub, size_t len) TKMS_WUR;
/* Bitcoin P2WPKH mainnet address ("bc1q...") of a compressed public key. */
tkms_wallet_status tkms_btc_p2wpkh(char *out, size_t cap, const uint8_t pub[33]) TKMS_WUR;
/* Compressed mainnet WIF of a private scalar. */
tkms_wallet_status tkms_btc_wif(char *out, size_t cap, const uint8_t priv[32]) TKMS_WUR;
/* Solana address: base58 of the ed25519 public key. */
tkms_wallet_status tkms_sol_address(char *out, size_t cap, const uint8_t pub[32]) TKMS_WUR;

/* Convenience: derive the DESIGN.md §2 wallets from a 64-byte BIP-39 seed. */
tkms_wallet_status tkms_derive_eth(char out[TKMS_ETH_ADDR_LEN], uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) TKMS_WUR;                 /* m/44'/60'/0'/0/i */
tkms_wallet_status tkms_derive_sol(char *out, size_t cap, uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) TKMS_WUR;                 /* m/44'/501'/i'/0' */
tkms_wallet_status tkms_derive_btc(char *out, size_t cap, uint8_t priv_out[32], const uint8_t seed[64],
                                   uint32_t index) TKMS_WUR;                 /* m/84'/0'/0'/0/i */
/* (priv_out may be NULL in the three calls above.) */

/* ---- Keys from the seed (HKDF-SHA256, salt "TKMS-V1") ---- */

#define TKMS_DATA_KEY_LEN 32
/* HKDF-SHA256(seed, salt = "TKMS-V1", info = lp("data") || lp(label), 32). label may be empty. */
tkms_wallet_status tkms_data_key(uint8_t key[TKMS_DATA_KEY_LEN], const uint8_t *seed, size_t seed_len,
                                 const char *label) TKMS_WUR;
/* P-256 scalar for domain D: the first HKDF-SHA256(seed, "TKMS-V1", lp("tls") || lp(D) || be32(ctr), 32)
 * output, ctr = 0, 1, ..., that lies in 1..n-1. The domain is checked (tkms_tls_domain_ok). */
tkms_wallet_status tkms_tls_scalar(uint8_t scalar[32], const uint8_t *seed, size_t seed_len, const char *domain)
    TKMS_WUR;
/* 1 if domain is an acceptable DNS name: 1..253 chars, labels 1..63 of [A-Za-z0-9-] not starting or
 * ending with '-', optional leading "*." wildcard label. */
int tkms_tls_domain_ok(const char *domain);

/* TLS key pair and certificate (or CSR) as PEM, in malloc'd NUL-terminated buffers the caller frees
 * (key_pem wiped first). The key is deterministic; the certificate is self-signed ECDSA-SHA256 with
 * SAN DNS:domain, validity [now - 1 h, now + days], serial derived from the public key and domain.
 * With csr != 0 a PKCS#10 request with the same subject and SAN is produced instead. now is a Unix
 * time (the caller reads the clock). */
tkms_wallet_status tkms_tls_issue(char **key_pem, char **cert_pem, const uint8_t *seed, size_t seed_len,
                                  const char *domain, int csr, int64_t now, int days) TKMS_WUR;

/* ---- Streaming data-at-rest format (docs/wallet.md "Data files") ---- */

#define TKMS_DATAFILE_HEADER_LEN 48
#define TKMS_DATAFILE_TAG_LEN 16
#define TKMS_DATAFILE_CHUNK_DEFAULT 65536u
#define TKMS_DATAFILE_CHUNK_MIN 64u
#define TKMS_DATAFILE_CHUNK_MAX (1u << 24)

/* Streaming state: holds the per-file key; wipe with tkms_datafile_wipe. */
typedef struct {
    uint8_t key[32];
    uint64_t counter;
    uint32_t chunk_size;
    int done; /* the last chunk has been processed */
} tkms_datafile;

void tkms_datafile_wipe(tkms_datafile *st);

/* Starts encryption: writes the header (magic, version, chunk size, salt) and derives the per-file key
 * from data_key and the whole header. salt must be 32 fresh random bytes (the caller draws them). */
tkms_wallet_status tkms_datafile_encrypt_init(tkms_datafile *st, uint8_t header[TKMS_DATAFILE_HEADER_LEN],
                                              const uint8_t data_key[32], uint32_t chunk_size,
                                              const uint8_t salt[32]) TKMS_WUR;
/* Encrypts one chunk: len == chunk_size for a non-last chunk, len <= chunk_size for the last one.
 * out gets len + TKMS_DATAFILE_TAG_LEN bytes. After last != 0 no more chunks are accepted. */
tkms_wallet_status tkms_datafile_encrypt_chunk(tkms_datafile *st, uint8_t *out, const uint8_t *in, size_t len,
                                               int last) TKMS_WUR;
/* Parses a header and derives the key; *chunk_size gets the chunk size for buffer allocation. */
tkms_wallet_status tkms_datafile_decrypt_init(tkms_datafile *st, const uint8_t header[TKMS_DATAFILE_HEADER_LEN],
                                              const uint8_t data_key[32]) TKMS_WUR;
/* Decrypts one chunk of clen bytes (tag included) into out (clen - 16 bytes). last says whether the
 * reader saw end of input after this chunk; an unexpected value fails authentication. */
tkms_wallet_status tkms_datafile_decrypt_chunk(tkms_datafile *st, uint8_t *out, const uint8_t *in, size_t clen,
                                               int last) TKMS_WUR;

#ifdef __cplusplus
}
#endif
#endif
