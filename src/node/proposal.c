/* Operator node library: the signed message of a committee-change proposal (shared by the CLI that
 * signs proposals and the daemon that checks them) and the committee threshold rule. */
#include "node.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include "proto_tags.h"

int node_proposal_message(uint8_t out[58], json_t *proposal) {
    json_t *c = json_deep_copy(proposal);
    if (!c) return 0;
    json_object_del(c, "signatures");
    char *txt = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(c);
    if (!txt) return 0;
    memcpy(out, TKMS_TAG_COMMITTEE_PROPOSAL, TKMS_TAG_LEN(TKMS_TAG_COMMITTEE_PROPOSAL));
    SHA256((const uint8_t *)txt, strlen(txt), out + TKMS_TAG_LEN(TKMS_TAG_COMMITTEE_PROPOSAL));
    free(txt);
    return 1;
}

int node_threshold_check(uint32_t t, uint32_t n, int override_, tkms_status *st) {
    if (n < 1 || t < 1 || t > n) return node_err(st, TKMS_CLASS_INPUT, "threshold %u is not in 1..n (n = %u)", t, n);
    if (t < NODE_T_FLOOR(n))
        return node_err(st, TKMS_CLASS_INPUT, "threshold %u is below floor(n/2)+1 = %u for n = %u (never allowed: two sets of t "
                        "members must share one)", t, NODE_T_FLOOR(n), n);
    if (t < NODE_T_DEFAULT(n) && !override_)
        return node_err(st, TKMS_CLASS_INPUT, "threshold %u is below ceil(2n/3) = %u for n = %u; a lower threshold (at least %u) "
                        "needs \"threshold_override\": true", t, NODE_T_DEFAULT(n), n, NODE_T_FLOOR(n));
    return 1;
}
