/* Operator node library: the signed message of a committee-change proposal (shared by the CLI that
 * signs proposals and the daemon that checks them). */
#include "node.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

int node_proposal_message(uint8_t out[58], json_t *proposal) {
    json_t *c = json_deep_copy(proposal);
    if (!c) return 0;
    json_object_del(c, "signatures");
    char *txt = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(c);
    if (!txt) return 0;
    memcpy(out, "TKMS-V1-COMMITTEE-PROPOSAL", 26);
    SHA256((const uint8_t *)txt, strlen(txt), out + 26);
    free(txt);
    return 1;
}
