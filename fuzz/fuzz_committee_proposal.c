/* libFuzzer target: committee proposals as a node checks them (gfile_proposal_check: known fields
 * only, epoch and group id of the current group, threshold rule, member list, >= t signatures of
 * distinct current members) against a fixed certified group (fuzz/corpus/fuzz_group_parse/g1.json).
 * Must never crash; a refusal must say why; nothing the fuzzer can forge may be accepted (it holds
 * no operator key), and node_proposal_message must canonicalise whatever parses. */
#include <stdlib.h>
#include <string.h>

#include "gfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static node_group *current(void) {
    static node_group *g;
    if (g) return g;
    tkms_status st = {0};
    char *txt = node_read_file(TKMS_FUZZ_GROUP_FILE, NULL, 1 << 20, &st);
    g = calloc(1, sizeof *g);
    if (!txt || !g || !node_group_parse(g, txt, &st)) abort();
    free(txt);
    return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tkms_dkg_member ms[MAX_MEMBERS];
    node_group *g = current();
    uint32_t n = 0, t = 0;
    tkms_status st = {0};
    if (gfile_proposal_check((const char *)data, size, g, ms, &n, &t, &st)) abort(); /* no forgery */
    if (!st.msg[0]) abort();
    if (getenv("TKMS_FUZZ_VERBOSE")) fprintf(stderr, "%s\n", st.msg);
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(j)) {
        uint8_t msg[58];
        (void)node_proposal_message(msg, j);
    }
    json_decref(j);
    return 0;
}
