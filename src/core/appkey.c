/* TKMS-V1 app keys: identity point, partial app keys and their pairing checks (see appkey.h). */
#include "appkey.h"

#include <string.h>

#include "h2c.h"
#include "tbls.h"
#include "proto_bytes.h"

void appkey_identity_point(g1_t *q, const uint8_t app_id[APPKEY_ID_BYTES]) {
    h2c_hash_to_g1(q, app_id, APPKEY_ID_BYTES, (const uint8_t *)TKMS_DST_APP_KEY, TKMS_TAG_LEN(TKMS_DST_APP_KEY));
}

void appkey_partial(g1_t *k, const fr_t *share, const uint8_t app_id[APPKEY_ID_BYTES]) {
    g1_t q;
    appkey_identity_point(&q, app_id);
    tbls_partial_sign_hashed(k, share, &q);
}

int appkey_verify(const g1_affine_t *k, const uint8_t app_id[APPKEY_ID_BYTES], const g2_affine_t *pk) {
    g1_t q;
    g1_affine_t qa;
    appkey_identity_point(&q, app_id);
    g1_to_affine(&qa, &q);
    return tbls_verify_partial(k, &qa, pk);
}

size_t appkey_app_msg(uint8_t *out, size_t cap, const uint8_t app_id[APPKEY_ID_BYTES], const uint8_t *msg,
                      size_t msg_len) {
    size_t need = TKMS_TAG_LEN(TKMS_TAG_APP_MSG) + APPKEY_ID_BYTES + 4 + msg_len;
    if (msg_len > 0xffffffffu || need < msg_len || cap < need) return 0;
    memcpy(out, TKMS_TAG_APP_MSG, TKMS_TAG_LEN(TKMS_TAG_APP_MSG));
    memcpy(out + TKMS_TAG_LEN(TKMS_TAG_APP_MSG), app_id, APPKEY_ID_BYTES);
    uint8_t *p = out + TKMS_TAG_LEN(TKMS_TAG_APP_MSG) + APPKEY_ID_BYTES;
    (void)proto_put_lp(p, msg, msg_len);
    return need;
}
