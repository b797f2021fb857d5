/* Byzantine fault injection for the DKG engine: tests and the simulator only. It exists only in the
 * fault-injection build of the engine (library tkms_dkg_faults, which defines TKMS_DKG_FAULTS=1 for
 * its users); the production library tkms_dkg, tkmsd and tkms contain none of it
 * (tests/cli/dkg_no_faults.sh checks their symbols). */
#ifndef TKMS_DKG_ENGINE_FAULT_H
#define TKMS_DKG_ENGINE_FAULT_H

#if !TKMS_DKG_FAULTS
#error "engine_fault.h is for the fault-injection build (link tkms_dkg_faults), never for production code"
#endif

#include "engine.h"

/* How an engine misbehaves as a Byzantine dealer would. */
typedef enum {
    TKMS_DKG_FAULT_NONE = 0,
    TKMS_DKG_FAULT_BAD_SHARE,     /* wrong shares to even-indexed receivers; justifies honestly */
    TKMS_DKG_FAULT_EQUIVOCATE,    /* two different deal bundles, one to each half of the peers */
    TKMS_DKG_FAULT_BAD_JUST,      /* wrong shares and a wrong justification */
    TKMS_DKG_FAULT_WRONG_CONSTANT /* reshare: deals f'(0) = s_i + 1 */
} tkms_dkg_fault;

/* tkms_dkg_init and tkms_dkg_restore for an engine that misbehaves as fault says
 * (TKMS_DKG_FAULT_NONE: exactly the honest engine). */
tkms_dkg *tkms_dkg_init_faulty(void *mem, size_t mem_len, const tkms_dkg_config *cfg, tkms_dkg_fault fault);
tkms_dkg *tkms_dkg_restore_faulty(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ckpt,
                                  size_t len, uint64_t now, tkms_dkg_fault fault);

#endif
