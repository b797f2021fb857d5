/* tkmsd: certified group files (build from an engine result, verification of the next epoch)
 * and committee proposals, on top of the engine's shared definitions. */
#ifndef TKMSD_GFILE_H
#define TKMSD_GFILE_H

#include "engine.h"
#include "tkmsd.h"

/* Canonical certified group file for a certified result (malloc'd), or NULL with st set. */
char *gfile_from_result(const tkms_dkg_result *r, const tkms_dkg_member *members, size_t n, tkms_status *st);
/* Checks a standalone group file's certification (signatures, session, transcript). */
int gfile_verify(const node_group *g, tkms_status *st);
/* Checks that next is the certified successor of prev: epoch, prev_group_id, session ID,
 * transcript hash, >= t_new valid member signatures, MPK unchanged. Returns 1 or 0 with st. */
int gfile_verify_next(const node_group *next, const node_group *prev, tkms_status *st);
/* Verifies a committee proposal against the current group (known fields only, epoch, group id, the
 * threshold rule of node_threshold_check, >= t signatures of distinct current members) and returns
 * its members and threshold. */
int gfile_proposal_check(const char *json, size_t len, const node_group *g, tkms_dkg_member *ms, uint32_t *n,
                         uint32_t *t, tkms_status *st);

#endif
