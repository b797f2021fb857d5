/* Certified group files: the outcome of a DKG or reshare as canonical JSON (keys sorted, no
 * whitespace), with parsing and verification (signatures, threshold, MPK continuity). */
#ifndef TKMS_DKG_GROUP_H
#define TKMS_DKG_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

typedef struct {
    uint64_t epoch;
    size_t n, t, t_old;
    uint8_t previous[32], session[32], transcript_hash[32];
    int dev_mode;
    tkms_dkg_member members[TKMS_DKG_MAX_N];
    uint32_t qual[TKMS_DKG_MAX_N];
    size_t n_qual;
    g2_affine_t poly[TKMS_DKG_MAX_N]; /* t coefficients, poly[0] = MPK */
    size_t n_sigs;
    uint32_t sig_index[TKMS_DKG_MAX_N];
    uint8_t sigs[TKMS_DKG_MAX_N][64];
} tkms_group;

/* Fills g from an engine result and the new member list. Returns 1/0. */
int tkms_group_from_result(tkms_group *g, const tkms_dkg_result *r, const tkms_dkg_member *members);
/* Canonical JSON (malloc'd, NUL-terminated; free()). with_sigs = 0 omits "signatures" (the form
 * the group id hashes). Returns NULL on allocation failure. */
char *tkms_group_to_json(const tkms_group *g, int with_sigs);
/* Group id = SHA-256 of the canonical JSON without signatures: the "hash of the previous group
 * file" in the next session ID (independent of which t signatures a copy carries). */
int tkms_group_id(uint8_t out[32], const tkms_group *g);
/* Strict parse (every field present and well-formed, points on the curve and in G2). Returns 1,
 * or 0 with a message in err. */
int tkms_group_parse(tkms_group *g, const char *json, size_t len, char *err, size_t errlen);
/* Checks the session ID, transcript hash, MPK = poly[0], >= t distinct valid member signatures
 * and, with prev, continuity: epoch + 1, previous = id(prev), t_old = prev.t, same MPK, QUAL of
 * prev.t old indices. Returns the number of valid signatures (>= t) or 0 with err set. */
size_t tkms_group_verify(const tkms_group *g, const tkms_group *prev, char *err, size_t errlen);

#endif
