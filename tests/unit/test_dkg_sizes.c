/* DKG and reshare succeed for n in {1, 2, 3, 4, 7, 10, 16, 31, 64} with t = ceil(2n/3), the
 * MPK survives the reshare and the honest shares reconstruct it (n = 64 is skipped under the
 * sanitizers, where it would dominate the suite's run time). */
#include <string.h>

#include "sim.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

int main(void) {
    tu_seed();
    static const size_t sizes[] = {1, 2, 3, 4, 7, 10, 16, 31, 64};
    static tkms_sim_result r;
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++) {
        size_t n = sizes[a];
        if (n == 64 && SANITIZED) continue;
        for (int reshare = 0; reshare < 2; reshare++) {
            tkms_sim_params p;
            memset(&p, 0, sizeof p);
            p.seed = tu_get_seed() + n;
            p.n = n;
            p.reshare = reshare;
            p.n2 = n;
            p.keep = n;
            p.delay_min = 1;
            p.delay_max = 20;
            TU_CHECK(tkms_sim_run(&p, &r));
            if (!r.ok || !r.success) fprintf(stderr, "n=%zu reshare=%d: %s\n", n, reshare, r.why);
            TU_CHECK(r.ok && r.success && r.agreed && r.consistent);
            TU_CHECK(r.n_qual >= (2 * n + 2) / 3);
            if (reshare) TU_CHECK(memcmp(r.mpk, r.mpk_before, 96) == 0 && r.old_erased);
            printf("n=%-3zu %-7s ok  qual=%zu cpu=%.2fs messages=%llu\n", n, reshare ? "reshare" : "dkg", r.n_qual,
                   r.cpu_s, (unsigned long long)r.messages);
            tkms_sim_result_free(&r);
        }
    }
    return 0;
}
