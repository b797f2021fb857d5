/* TKMS-V1 app keys (DESIGN.md §2): Q_A = hash_to_G1(app_id) under the app DST, K_A = s*Q_A, partial
 * app keys K_A,i = s_i*Q_A and their checks against PK_i and MPK; the two threshold-signing DSTs
 * (app messages, cluster signatures) and the app-message encoding. Internal to libtkms; no malloc, no I/O. */
#ifndef TKMS_APPKEY_H
#define TKMS_APPKEY_H

#include <stddef.h>
#include <stdint.h>

#include "fr.h"
#include "tkms/common.h"
#include "g1.h"
#include "g2.h"
#include "proto_tags.h"

#define APPKEY_ID_BYTES 20
/* The DSTs (src/proto/proto_tags.h): TKMS_DST_APP_KEY for app keys; TKMS_DST_APP_SIGN for app
 * signatures, only ever on the app-message encoding below, only through the attested /v1/sign/app;
 * TKMS_DST_CLUSTER_SIGN for cluster (operator) signatures on any message, each partial released
 * only on its node's own operator's approval. Separate DSTs: no kind can produce another. */

/* Q_A = hash_to_curve_G1(app_id) with TKMS_DST_APP_KEY. */
void appkey_identity_point(g1_t *q, const uint8_t app_id[APPKEY_ID_BYTES]);
/* K_A,i = share * Q_A: one hash_to_G1 and one constant-time G1 multiplication. */
void appkey_partial(g1_t *k, const fr_t *share, const uint8_t app_id[APPKEY_ID_BYTES]);
/* e(k, G2) == e(Q_A, pk): checks a partial against PK_i, or the full key against MPK. k and pk
 * must be parsed points; returns 0 if either is the identity or the check fails. */
TKMS_WUR int appkey_verify(const g1_affine_t *k, const uint8_t app_id[APPKEY_ID_BYTES], const g2_affine_t *pk);
/* TKMS_TAG_APP_MSG || app_id || be32(msg_len) || msg into out (cap bytes). Returns the length,
 * or 0 if cap is too small or msg_len >= 2^32. */
size_t appkey_app_msg(uint8_t *out, size_t cap, const uint8_t app_id[APPKEY_ID_BYTES], const uint8_t *msg,
                      size_t msg_len);

#endif
