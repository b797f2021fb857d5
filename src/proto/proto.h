/* TKMS-V1 protocol encodings built from the tags of proto_tags.h (../shared/DESIGN.md §2,
 * docs/release-protocol.md): the attestation binding B, the key-response transcript and its HPKE
 * AAD, app IDs as text. No I/O, no allocation; SHA-512 from OpenSSL. The release handler, the
 * client, the attestation verifiers and the test mock node all build these bytes here. */
#ifndef TKMS_PROTO_H
#define TKMS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto_bytes.h"
#include "proto_tags.h"

#define TKMS_PROTO_APP_ID_LEN 20
#define TKMS_PROTO_APP_ID_TEXT 43 /* "0x" + 40 lowercase hex + NUL */

/* B = SHA-512(TKMS_TAG_ATTEST || lp(app_id) || lp(recipient) || lp(nonce)). recipient may be empty
 * (sign/app: lp of nothing). Returns 0 only if a length does not fit in 32 bits or SHA-512 fails. */
int tkms_proto_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t *recipient, size_t recipient_len,
                       const uint8_t *nonce, size_t nonce_len);

/* HPKE AAD of a partial key: lp(app_id) || be64(epoch) || be32(index). */
#define TKMS_PROTO_KEY_AAD_LEN (4 + 20 + 8 + 4)
void tkms_proto_key_aad(uint8_t out[TKMS_PROTO_KEY_AAD_LEN], const uint8_t app_id[20], uint64_t epoch, uint32_t index);

/* The bytes a node signs in a key response: TKMS_TAG_KEY_RESPONSE || lp(app_id) || be64(epoch) ||
 * be32(index) || lp(recipient) || lp(nonce) || lp(enc) || lp(ciphertext). */
#define TKMS_PROTO_KEY_RESPONSE_LEN \
    (TKMS_TAG_LEN(TKMS_TAG_KEY_RESPONSE) + 4 + 20 + 8 + 4 + 4 + 32 + 4 + 32 + 4 + 32 + 4 + 64)
void tkms_proto_key_response(uint8_t out[TKMS_PROTO_KEY_RESPONSE_LEN], const uint8_t app_id[20], uint64_t epoch,
                             uint32_t index, const uint8_t recipient[32], const uint8_t nonce[32],
                             const uint8_t enc[32], const uint8_t ciphertext[64]);

/* App IDs as text: "0x" + 40 hex digits (either case) in; lowercase out. */
int tkms_proto_app_id_parse(uint8_t app_id[20], const char *text);
void tkms_proto_app_id_format(char out[TKMS_PROTO_APP_ID_TEXT], const uint8_t app_id[20]);

#endif
