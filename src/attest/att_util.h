/* tkms attestation: helpers shared by the verifiers (bounded readers, encodings, X.509 chains,
 * raw ECDSA, trust anchors). Nothing here is exported outside libtkms_attest. */
#ifndef TKMS_ATT_UTIL_H
#define TKMS_ATT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tkms/attest.h"

#define ATT_HIDDEN __attribute__((visibility("hidden")))

/* Upper bounds on inputs: every parser checks these before touching the bytes. */
#define ATT_MAX_EVIDENCE (64u * 1024u)
#define ATT_MAX_COLLATERAL (256u * 1024u)

/* Sets res->reason and a formatted message; returns the reason so callers can `return fail(...)`. */
ATT_HIDDEN tkms_attest_reason att_fail(tkms_attest_result *res, tkms_attest_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Little-endian loads; the caller has checked the bounds. */
static inline uint16_t att_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t att_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t att_le64(const uint8_t *p) { return (uint64_t)att_le32(p) | ((uint64_t)att_le32(p + 4) << 32); }

/* Hex of exactly n bytes (either case). Returns 1 on success. */
ATT_HIDDEN int att_unhex(uint8_t *out, size_t n, const char *hex, size_t hexlen);
ATT_HIDDEN void att_hex(char *out, const uint8_t *in, size_t n);
/* Strict base64url without padding (canonical: unused bits zero). *out is malloc'd, NUL-appended. */
ATT_HIDDEN int att_b64url_decode(uint8_t **out, size_t *outlen, const char *in, size_t inlen);
/* Strict standard base64 with padding (x5c). */
ATT_HIDDEN int att_b64std_decode(uint8_t **out, size_t *outlen, const char *in, size_t inlen);
/* Copies a C string into a fixed buffer; 0 if it does not fit. */
ATT_HIDDEN int att_strcpy(char *dst, size_t cap, const char *src);

/* Minimal DER walker over a bounded buffer. */
typedef struct {
    const uint8_t *p;
    size_t len;
} att_der;
/* Reads one TLV: tag into *tag, contents into *val; advances d. Definite lengths only. */
ATT_HIDDEN int att_der_next(att_der *d, uint8_t *tag, att_der *val);
/* Non-negative DER INTEGER of at most 8 bytes. */
ATT_HIDDEN int att_der_uint(const att_der *v, uint64_t *out);

/* Parses every CERTIFICATE in a PEM blob (trailing NULs ignored) into a new stack; NULL on error or
 * when there are more than max certificates or none. */
ATT_HIDDEN STACK_OF(X509) *att_pem_chain(const uint8_t *pem, size_t len, size_t max);
ATT_HIDDEN X509_CRL *att_crl_from_der(const uint8_t *der, size_t len);

/* Verifies leaf against a store holding only `root` at time `now`, with optional intermediates
 * and CRLs (when crls is non-NULL every certificate below the root must have a CRL). Maps
 * OpenSSL's verdict onto a reason; detail gets OpenSSL's message. */
ATT_HIDDEN tkms_attest_reason att_verify_chain(char *detail, size_t detail_len, X509 *root, X509 *leaf,
                                               STACK_OF(X509) *untrusted, STACK_OF(X509_CRL) *crls,
                                               int64_t now);

ATT_HIDDEN int att_sha256(uint8_t out[32], const uint8_t *in, size_t len);
ATT_HIDDEN int att_x509_der_sha256(uint8_t out[32], X509 *x);
ATT_HIDDEN int att_x509_spki_sha256(uint8_t out[32], X509 *x);

/* EC public key from an uncompressed X||Y (nbytes each) on the named curve. */
ATT_HIDDEN EVP_PKEY *att_ec_pub_xy(const char *curve, const uint8_t *xy, size_t nbytes);
/* ECDSA verification of a raw big-endian r||s (nbytes each). Returns 1 if valid. */
ATT_HIDDEN int att_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t msg_len,
                                   const uint8_t *r, const uint8_t *s, size_t nbytes);

/* Trust anchors: compiled in; tests may override them through attest_testhook.h. */
typedef enum { ATT_AMD_MILAN = 0, ATT_AMD_GENOA, ATT_AMD_TURIN, ATT_AMD_N } att_amd_product;
ATT_HIDDEN X509 *att_anchor_intel_root(void);
ATT_HIDDEN X509 *att_anchor_amd_ark(att_amd_product p);
ATT_HIDDEN X509 *att_anchor_amd_ask(att_amd_product p);
ATT_HIDDEN const uint8_t *att_anchor_gcp_root_sha256(void);
ATT_HIDDEN const char *att_amd_product_name(att_amd_product p);

/* The verifiers. Each fills res (claims, reason, message) and returns res->reason. */
ATT_HIDDEN tkms_attest_reason att_verify_tdx(tkms_attest_result *res, const tkms_attest_request *req,
                                             const tkms_attest_policy *pol);
ATT_HIDDEN tkms_attest_reason att_verify_snp(tkms_attest_result *res, const tkms_attest_request *req,
                                             const tkms_attest_policy *pol);
ATT_HIDDEN tkms_attest_reason att_verify_gcp(tkms_attest_result *res, const tkms_attest_request *req,
                                             const tkms_attest_policy *pol);
ATT_HIDDEN tkms_attest_reason att_verify_dev(tkms_attest_result *res, const tkms_attest_request *req,
                                             const tkms_attest_policy *pol);

/* Replay cache: 1 if inserted, 0 if already present (replay), -1 if full. */
ATT_HIDDEN int att_replay_check_insert(tkms_attest_replay *rc, const uint8_t key[32], int64_t exp, int64_t now);

/* 1 if v (n bytes) is in the allow-list (constant time per entry; lists are public). */
ATT_HIDDEN int att_allowed(const tkms_attest_allow *a, const uint8_t *v, size_t n);
ATT_HIDDEN int att_str_allowed(const tkms_attest_strlist *l, const char *s);

#endif
