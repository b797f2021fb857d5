/* DKG/reshare under the simulator: the fault matrix (every Byzantine kind up to n - t, mixes,
 * crashes), the committee-change shapes (grow, shrink, replace all, refresh, threshold change)
 * and a property loop over hundreds of seeded random schedules checking agreement, validity,
 * MPK continuity, share consistency and erasure. The failing seed is printed. */
#include <string.h>

#include "sim.h"
#include "testutil.h"

static int failures;

static size_t tdef(size_t n) { return (2 * n + 2) / 3; }

static void base(tkms_sim_params *p, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->seed = seed;
    p->delay_min = 1;
    p->delay_max = 20;
}

/* Runs and checks: must be ok; must succeed when the faults were within bounds (no loss). */
static void expect(const tkms_sim_params *p, int must_succeed, const char *what) {
    static tkms_sim_result r;
    TU_CHECK(tkms_sim_run(p, &r));
    int good = r.ok && r.agreed && (!must_succeed || (r.success && r.consistent));
    if (r.success && p->reshare) good = good && memcmp(r.mpk, r.mpk_before, 96) == 0 && r.old_erased;
    if (!good) {
        fprintf(stderr, "FAIL %s: n=%zu t=%zu n2=%zu keep=%zu seed=%llu: %s (ok %d success %d within %d)\n", what, p->n,
                p->t, p->n2, p->keep, (unsigned long long)p->seed, r.why, r.ok, r.success, r.within_bounds);
        fprintf(stderr, "  reproduce: tkms-sim %s --nodes %zu --threshold %zu --seed %llu --crash %zu --loss %g --dup %g "
                        "--delay-ms %u-%u --partition-ms %llu-%llu",
                p->reshare ? "reshare" : "dkg", p->n, p->t ? p->t : tdef(p->n), (unsigned long long)p->seed, p->crash,
                p->loss, p->dup, p->delay_min, p->delay_max, (unsigned long long)p->partition_start,
                (unsigned long long)p->partition_end);
        if (p->reshare) fprintf(stderr, " --to-nodes %zu --to-threshold %zu --keep %zu", p->n2, p->t2 ? p->t2 : tdef(p->n2), p->keep);
        if (p->cert_late) fprintf(stderr, " --late-certs %zu", p->cert_late);
        if (p->lose) fprintf(stderr, " --lose %zu", p->lose);
        for (int k = 1; k < TKMS_SIM_KINDS; k++)
            if (p->byz[k]) fprintf(stderr, " --byzantine %s:%zu", tkms_sim_kind_name((tkms_sim_kind)k), p->byz[k]);
        fprintf(stderr, "\n");
        failures++;
    }
    tkms_sim_result_free(&r);
}


static void fault_matrix(uint64_t seed) {
    tkms_sim_params p;
    static const size_t sizes[] = {4, 7, 10};
    for (size_t a = 0; a < 3; a++) {
        size_t n = sizes[a], f = n - tdef(n);
        for (int k = 1; k < TKMS_SIM_KINDS; k++) {
            base(&p, seed + (uint64_t)(a * 10 + (size_t)k));
            p.n = n;
            p.byz[k] = f;
            expect(&p, 1, tkms_sim_kind_name((tkms_sim_kind)k));
            /* the same kind in a reshare (dealers are the old committee) */
            base(&p, seed + 100 + (uint64_t)(a * 10 + (size_t)k));
            p.reshare = 1;
            p.n = n;
            p.n2 = n;
            p.keep = n;
            p.byz[k] = f;
            expect(&p, 1, tkms_sim_kind_name((tkms_sim_kind)k));
        }
        /* crashed nodes (some restart from their checkpoints) */
        base(&p, seed + 200 + a);
        p.n = n;
        p.crash = f;
        expect(&p, 1, "crash");
        /* a mix of kinds */
        base(&p, seed + 300 + a);
        p.n = n;
        for (size_t c = 0; c < f; c++) p.byz[1 + (c % (TKMS_SIM_KINDS - 1))]++;
        expect(&p, 1, "mix");
    }
    /* too many faults: a clean abort (or a success) is acceptable, disagreement is not */
    base(&p, seed + 400);
    p.n = 4;
    p.byz[TKMS_SIM_SILENT] = 2;
    expect(&p, 0, "over-bound");
    base(&p, seed + 401);
    p.reshare = 1;
    p.n = 4;
    p.n2 = 4;
    p.keep = 4;
    p.byz[TKMS_SIM_WRONG_CONSTANT] = 2;
    expect(&p, 0, "over-bound reshare");
}

/* Certificates reach some honest new members only after their certification deadline (they
 * signed in time, peers certified). They must not abort: they wait, end FINAL on the certified
 * group with their shares, and (reshare) erase their old share only then. */
static void late_certs(uint64_t seed) {
    static const struct {
        int reshare;
        size_t n, n2, keep, late;
    } c[] = {{0, 4, 0, 0, 1}, {0, 7, 0, 0, 2}, {1, 4, 4, 4, 1}, {1, 4, 5, 3, 2}, {1, 7, 7, 7, 3}};
    for (size_t a = 0; a < sizeof c / sizeof c[0]; a++) {
        tkms_sim_params p;
        base(&p, seed + a);
        p.reshare = c[a].reshare;
        p.n = c[a].n;
        p.n2 = c[a].n2;
        p.keep = c[a].keep;
        p.cert_late = c[a].late;
        expect(&p, 1, "late certificates");
    }
}

/* Repair reshares: members of the committee that lost their share (missed a reshare, store
 * restored from an old backup) take part as receivers only; with at least t share holders they
 * end with a share of the new epoch, the MPK unchanged. Up to n - t members without a share,
 * also together with a Byzantine dealer or a crash within the bound. */
static void repairs(uint64_t seed) {
    static const struct {
        size_t n, lose, crash;
        int byz;
    } c[] = {{4, 1, 0, 0}, {7, 1, 0, 0}, {7, 2, 0, 0}, {10, 3, 0, 0}, {7, 1, 1, 0}, {7, 1, 0, 1}, {10, 2, 0, 1}, {16, 5, 0, 0}};
    for (size_t a = 0; a < sizeof c / sizeof c[0]; a++) {
        tkms_sim_params p;
        base(&p, seed + a);
        p.reshare = 1;
        p.n = p.n2 = p.keep = c[a].n;
        p.lose = c[a].lose;
        p.crash = c[a].crash;
        if (c[a].byz) p.byz[TKMS_SIM_BAD_SHARE] = 1;
        expect(&p, 1, "repair");
    }
    /* more members without a share than n - t: no certified group without t dealers (clean abort) */
    tkms_sim_params p;
    base(&p, seed + 99);
    p.reshare = 1;
    p.n = p.n2 = p.keep = 4;
    p.lose = 2;
    expect(&p, 0, "repair beyond the bound");
}

static void shapes(uint64_t seed) {
    static const struct {
        size_t n, n2, t2, keep;
        const char *what;
    } s[] = {{4, 7, 0, 4, "grow 4->7"},      {7, 4, 0, 4, "shrink 7->4"},   {4, 4, 0, 0, "replace all 4"},
             {10, 10, 0, 10, "refresh 10"},   {7, 7, 3, 7, "threshold 5->3"}, {4, 7, 7, 2, "threshold 3->7"},
             {1, 3, 0, 1, "1->3"},            {3, 1, 0, 1, "3->1"}};
    for (size_t a = 0; a < sizeof s / sizeof s[0]; a++) {
        tkms_sim_params p;
        base(&p, seed + a);
        p.reshare = 1;
        p.n = s[a].n;
        p.n2 = s[a].n2;
        p.t2 = s[a].t2;
        p.keep = s[a].keep;
        expect(&p, 1, s[a].what);
    }
}

/* Schedules that once failed (docs/dkg.md, "Known failing schedules"), pinned whatever the seed. */
static void regressions(void) {
    tkms_sim_params p;
    /* A partition (5-50 ms) hid the equivocating dealer's two bundles from each other's side:
     * node 2 held one, nodes 1 and 3 certified the other; node 2's deals could not reproduce the
     * certified transcript and it was abandoned at the end of the window, neither in the group
     * nor aborted cleanly. Now it fetches the peers' deals and adopts the certified one. The
     * partition heals before the first deadline, so full success is expected. */
    base(&p, 31690065135663ull);
    p.n = 3;
    p.t = 2;
    p.delay_min = 6;
    p.delay_max = 34;
    p.partition_start = 5;
    p.partition_end = 50;
    p.byz[TKMS_SIM_EQUIVOCATE] = 1;
    expect(&p, 1, "partition hides an equivocation (adoption of the other bundle)");
    /* the same with three equivocators (n = 7, t = 3, q = 4): the nodes on the smaller side hold
     * the other bundle of several dealers, and must replace them all (one signer's deals) */
    base(&p, 300);
    p.n = 7;
    p.t = 3;
    p.delay_min = 6;
    p.delay_max = 34;
    p.partition_start = 5;
    p.partition_end = 50;
    p.byz[TKMS_SIM_EQUIVOCATE] = 3;
    expect(&p, 1, "partition hides three equivocations");
}

/* Random schedules: random sizes, thresholds, faults within bounds, loss, duplication, delays,
 * partitions. Agreement and validity always; success whenever promised. */
static void property_loop(uint64_t seed0, int count) {
    for (int it = 0; it < count; it++) {
        uint64_t seed = seed0 + (uint64_t)it;
        uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
#define RND(m) ((x = x * 6364136223846793005ull + 1442695040888963407ull), (size_t)((x >> 33) % (m)))
        tkms_sim_params p;
        base(&p, seed);
        p.reshare = (int)RND(2);
        p.n = 1 + RND(7);
        p.t = tdef(p.n);
        size_t budget = p.n - p.t;
        if (p.reshare) {
            p.n2 = 1 + RND(7);
            p.keep = RND((p.n < p.n2 ? p.n : p.n2) + 1);
            if (RND(4) == 0) p.t2 = 1 + RND(p.n2);
            /* the new committee tolerates n2 - q faults, q the certificate quorum (t2, or
             * floor(n2/2) + 1 when t2 is below that): a new group needs q member signatures */
            size_t t2 = p.t2 ? p.t2 : tdef(p.n2), q2 = tkms_dkg_cert_quorum(t2, p.n2);
            if (p.n2 - q2 < budget) budget = p.n2 - q2;
        }
        size_t f = budget ? RND(budget + 1) : 0, crash = f ? RND(f + 1) : 0;
        p.crash = crash;
        for (size_t c = crash; c < f; c++) p.byz[1 + RND(TKMS_SIM_KINDS - 1)]++;
        /* repair: some kept members start without their old share; they cannot deal (a fault of
         * the old committee, so sometimes beyond its bound) and must end with a new share
         * whenever success is promised */
        if (p.reshare && p.keep && RND(3) == 0) p.lose = 1 + RND(p.keep);
        int beyond = f + p.lose > p.n - p.t; /* success not promised (lost shares count as faults) */
        int lossy = RND(4) == 0;
        if (lossy) p.loss = (double)RND(15) / 100.0;
        if (RND(4) == 0) p.dup = (double)RND(30) / 100.0;
        p.delay_min = (uint32_t)RND(10);
        p.delay_max = p.delay_min + (uint32_t)RND(60);
        if (RND(8) == 0) {
            p.partition_start = RND(50);
            p.partition_end = p.partition_start + 1 + RND(100);
            lossy = 1;
        }
        /* certificates delivered only after d_cert to some honest new members (not a fault) */
        if (RND(6) == 0) p.cert_late = 1 + RND(p.reshare ? p.n2 : p.n);
        expect(&p, !lossy && !beyond, "property");
#undef RND
    }
}

int main(int argc, char **argv) {
    tu_seed();
    uint64_t seed = tu_get_seed();
    int count = argc > 1 ? atoi(argv[1]) : 300;
    regressions();
    fault_matrix(seed);
    shapes(seed ^ 0x77);
    late_certs(seed ^ 0x99);
    repairs(seed ^ 0xabc);
    property_loop(seed ^ 0x1234, count);
    if (failures) {
        fprintf(stderr, "%d failures (TKMS_TEST_SEED=%llu)\n", failures, (unsigned long long)seed);
        return 1;
    }
    printf("dkg sim: fault matrix, shapes and %d random schedules ok\n", count);
    return 0;
}
