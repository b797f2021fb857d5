/* tkmsd: the committee of the next session -- one definition for the scheduler, which runs the
 * session, and the early-bundle buffer, which must recognise its session ID before this node has
 * started it. */
#include "tkmsd.h"
#include "gfile.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

int daemon_next_committee(tkmsd *d, next_committee *c) {
    memset(c, 0, sizeof *c);
    if (d->group) {
        const node_group *g = d->group;
        c->epoch = g->g.epoch + 1;
        memcpy(c->prev_group_id, g->id, 32);
        c->t_old = (uint32_t)g->g.t;
        /* the committee changes only through a verified proposal for this epoch; else it stays */
        char *json = NULL;
        uint32_t n = 0, t = 0;
        if (node_store_get_proposal(d->store, g->g.epoch, &json, NULL) && json &&
            gfile_proposal_check(json, strlen(json), g, c->members, &n, &t, NULL)) {
            c->n_new = n;
            c->t_new = t;
            c->from_proposal = 1;
        } else {
            c->n_new = (uint32_t)g->g.n;
            c->t_new = (uint32_t)g->g.t;
            memcpy(c->members, g->g.members, g->g.n * sizeof *c->members);
        }
        free(json);
        return 1;
    }
    if (!d->have_genesis) return 0;
    c->is_dkg = 1;
    SHA256((const uint8_t *)"", 0, c->prev_group_id);
    c->n_new = d->genesis.n;
    c->t_new = d->genesis.t;
    memcpy(c->members, d->genesis.members, d->genesis.n * sizeof *c->members);
    return 1;
}

int daemon_in_committee(const tkmsd *d, const next_committee *c) {
    int in = d->group && node_group_index(d->group, d->sec->ed_pk) != 0;
    for (uint32_t i = 0; i < c->n_new; i++) in |= !memcmp(c->members[i].sign_pk, d->sec->ed_pk, 32);
    return in;
}
