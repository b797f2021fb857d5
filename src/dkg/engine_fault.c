/* The fault-injection build of the DKG engine (library tkms_dkg_faults; tests and the simulator
 * only, never tkmsd or tkms). Built with TKMS_DKG_FAULTS=1, it compiles the whole engine as this
 * one object, together with the points where a Byzantine dealer departs from the protocol
 * (engine_fault.h). One object cannot be mixed with the production one: a program that pulled any
 * production engine object and this one fails to link (every engine symbol defined twice), so
 * the struct layout that differs between the builds never crosses between them. */
#if !TKMS_DKG_FAULTS
#error "engine_fault.c is the fault-injection build: compile it with TKMS_DKG_FAULTS=1"
#endif

#include "engine_ckpt.c"
#include "engine_cert.c"
#include "engine_deal.c"
#include "engine_driver.c"
#include "engine_wire.c"

/* Bad-share and bad-justification dealers send wrong shares to the even-indexed receivers. */
static int is_victim(const tkms_dkg *e, uint32_t j) {
    return (e->fault == TKMS_DKG_FAULT_BAD_SHARE || e->fault == TKMS_DKG_FAULT_BAD_JUST) && j % 2 == 0 &&
           j != e->my_new;
}

void dkg_fault_secret(const tkms_dkg *e, fr_t *secret) {
    if (e->fault == TKMS_DKG_FAULT_WRONG_CONSTANT) fr_add(secret, secret, &FR_ONE);
}

void dkg_fault_shares(const tkms_dkg *e, fr_t *shares) {
    for (size_t j = 1; j <= e->n_new; j++)
        if (is_victim(e, (uint32_t)j)) fr_add(&shares[j - 1], &shares[j - 1], &FR_ONE);
}

/* A bad-share dealer reveals the correct share; a bad-justification one the wrong one it sent. */
void dkg_fault_revealed(const tkms_dkg *e, uint32_t j, fr_t *s) {
    if (e->fault == TKMS_DKG_FAULT_BAD_SHARE && is_victim(e, j)) fr_sub(s, s, &FR_ONE);
}

/* An equivocating dealer sends a second deal, from another seed, to the odd slots. Returns 1 if it
 * sent the deal itself. */
int dkg_fault_send_deal(tkms_dkg *e, uint64_t now, uint8_t *buf, size_t len) {
    if (e->fault != TKMS_DKG_FAULT_EQUIVOCATE) return 0;
    uint8_t seed2[32], d2[32];
    sha256(seed2, e->seed, 32);
    if (!build_deal(e, e->equiv_buf, seed2, d2)) return 1;
    tkms_wipe(seed2, 32);
    (void)dkg_handle_msg(e, now, buf, len, 1);
    for (size_t s = 0; s < e->n_peers; s++)
        if (s != e->self_slot) dkg_queue(e, (int32_t)s, s % 2 ? e->equiv_buf : buf, len);
    return 1;
}

tkms_dkg *tkms_dkg_init_faulty(void *mem, size_t mem_len, const tkms_dkg_config *cfg, tkms_dkg_fault fault) {
    tkms_dkg *e = tkms_dkg_init(mem, mem_len, cfg);
    if (e) e->fault = fault;
    return e;
}

tkms_dkg *tkms_dkg_restore_faulty(void *mem, size_t mem_len, const tkms_dkg_config *cfg, const uint8_t *ckpt,
                                  size_t len, uint64_t now, tkms_dkg_fault fault) {
    tkms_dkg *e = dkg_load(mem, mem_len, cfg, ckpt, len, now, 0);
    if (!e) return NULL;
    e->fault = fault; /* before the restored engine acts (it may deal in dkg_resume) */
    dkg_resume(e, now, 0);
    return e;
}
