/* In-process network simulator for the DKG/reshare engine: seeded scheduler, per-link delay, loss,
 * duplication and reordering, partitions, crash/restart from checkpoints, Byzantine nodes. */
#ifndef TKMS_DKG_SIM_H
#define TKMS_DKG_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "group.h"

typedef enum {
    TKMS_SIM_HONEST = 0,
    TKMS_SIM_BAD_SHARE,
    TKMS_SIM_EQUIVOCATE,
    TKMS_SIM_BAD_JUST,
    TKMS_SIM_WRONG_CONSTANT,
    TKMS_SIM_REPLAY,
    TKMS_SIM_SILENT,
    TKMS_SIM_KINDS
} tkms_sim_kind;

/* "bad-share", "equivocate", ... -> kind; returns -1 if unknown. */
int tkms_sim_kind_from_name(const char *name);
const char *tkms_sim_kind_name(tkms_sim_kind k);

typedef struct {
    int reshare;            /* 0: DKG of n nodes; 1: DKG of n nodes, then reshare to n2 */
    size_t n, t;            /* (old) committee; t = 0 means ceil(2n/3) */
    size_t n2, t2, keep;    /* reshare: new size, threshold (0: ceil(2n2/3)), old members kept */
    uint64_t seed;
    size_t crash;           /* honest nodes that crash (about half of them restart) */
    size_t byz[TKMS_SIM_KINDS]; /* Byzantine dealers of each kind (in the old committee) */
    double loss, dup;       /* per-message probabilities */
    uint32_t delay_min, delay_max; /* ms */
    uint64_t partition_start, partition_end; /* ms; halves cut apart in [start, end) */
    int measure_node_cpu;   /* time every engine call per node (bench) */
    size_t cert_late;       /* honest new members that get every CERT only after d_cert */
    size_t lose;            /* reshare: honest kept members that start without their old share
                             * (repair: they deal nothing and must end with a new share) */
} tkms_sim_params;

typedef struct {
    int ok;                 /* ended as the protocol promises */
    int success, agreed, consistent, clean_abort, within_bounds, old_erased;
    size_t n_qual;
    uint32_t qual[TKMS_DKG_MAX_N];
    uint8_t mpk[96], mpk_before[96];
    int has_mpk;
    double cpu_s, node_cpu_max_s, node_cpu_avg_s;
    uint64_t messages, bytes, stale_rejected, adopted, fetches, events;
    size_t n_honest, n_final, n_aborted;
    char why[256];
    /* honest new members' shares (secret; tests only) and the previous epoch's */
    size_t n_shares, n_old_shares;
    uint32_t share_index[TKMS_DKG_MAX_N], old_share_index[TKMS_DKG_MAX_N];
    fr_t shares[TKMS_DKG_MAX_N], old_shares[TKMS_DKG_MAX_N];
    char *group_json, *prev_group_json; /* certified group files (malloc'd) */
} tkms_sim_result;

/* Runs one simulation. Returns 1 if it ran (see r->ok for the verdict), 0 on bad parameters
 * (message in r->why). Free r with tkms_sim_result_free. */
int tkms_sim_run(const tkms_sim_params *p, tkms_sim_result *r);
void tkms_sim_result_free(tkms_sim_result *r);

#endif
