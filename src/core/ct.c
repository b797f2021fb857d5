/* Constant-time helpers that must not be inlined away: the secret wipe. */
#include "ct.h"

#include <string.h>

void tkms_wipe(void *p, size_t n) {
    if (n == 0) return;
    memset(p, 0, n);
    /* The asm takes the buffer as an input with a memory clobber, so the memset is observable. */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
