/* The gcp-cs token replay cache (tkms_attest_replay_*, attest.h): a bounded set of token IDs with
 * their expiry, shared by the verifier threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "att_util.h"

/* ---- replay cache ---- */

struct tkms_attest_replay {
    pthread_mutex_t mu;
    size_t cap, n;
    struct {
        uint8_t key[32];
        int64_t exp;
    } *e;
};

tkms_attest_replay *tkms_attest_replay_new(size_t capacity) {
    if (capacity == 0 || capacity > (1u << 24)) return NULL;
    tkms_attest_replay *rc = calloc(1, sizeof *rc);
    if (!rc) return NULL;
    rc->e = calloc(capacity, sizeof rc->e[0]);
    if (!rc->e || pthread_mutex_init(&rc->mu, NULL) != 0) {
        free(rc->e);
        free(rc);
        return NULL;
    }
    rc->cap = capacity;
    return rc;
}

void tkms_attest_replay_free(tkms_attest_replay *rc) {
    if (!rc) return;
    pthread_mutex_destroy(&rc->mu);
    free(rc->e);
    free(rc);
}

void tkms_attest_replay_clear(tkms_attest_replay *rc) {
    pthread_mutex_lock(&rc->mu);
    rc->n = 0;
    pthread_mutex_unlock(&rc->mu);
}

/* Linear scan: the cache is bounded and small next to an RSA verification. Entries whose token
 * has expired (exp < now) are dropped, since such a token would be refused anyway. */
int att_replay_check_insert(tkms_attest_replay *rc, const uint8_t key[32], int64_t exp, int64_t now) {
    int ret = 1;
    pthread_mutex_lock(&rc->mu);
    size_t w = 0;
    for (size_t i = 0; i < rc->n; i++) {
        if (memcmp(rc->e[i].key, key, 32) == 0) ret = 0;
        if (rc->e[i].exp >= now || memcmp(rc->e[i].key, key, 32) == 0) rc->e[w++] = rc->e[i];
    }
    rc->n = w;
    if (ret == 1) {
        if (rc->n == rc->cap) {
            ret = -1;
        } else {
            memcpy(rc->e[rc->n].key, key, 32);
            rc->e[rc->n].exp = exp;
            rc->n++;
        }
    }
    pthread_mutex_unlock(&rc->mu);
    return ret;
}
