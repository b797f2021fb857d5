/* tkmsd: the node's current epoch -- the certified group and this node's share as loaded at start
 * and installed after each certification or catch-up, the confirmation that gates serving, and the
 * state health reports. Called by main (start-up) and the scheduler. */
#include "tkmsd.h"
#include "gfile.h"

#include <stdlib.h>
#include <string.h>

void daemon_refresh_state(tkmsd *d) {
    int s = NODE_NOT_READY;
    pthread_rwlock_rdlock(&d->lock);
    if (d->group && d->have_share && atomic_load(&d->epoch_confirmed)) s = NODE_SERVING;
    else if (atomic_load(&d->session_active) || (d->group && d->my_index) || atomic_load(&d->pending_join))
        s = NODE_SYNCING;
    pthread_rwlock_unlock(&d->lock);
    atomic_store(&d->state, s);
}

void daemon_install_epoch(tkmsd *d, node_group *g, const fr_t *share, uint32_t index) {
    pthread_rwlock_wrlock(&d->lock);
    node_group *old = d->group;
    if (!old || old->g.epoch != g->g.epoch) atomic_store(&d->pending_join, 0);
    d->group = g;
    atomic_store(&d->epoch_confirmed, 0);
    uint32_t me = node_group_index(g, d->sec->ed_pk);
    d->my_index = me;
    if (share && me && index == me) {
        *d->share = *share;
        d->have_share = 1;
    } else {
        node_wipe(d->share, sizeof *d->share);
        d->have_share = 0;
    }
    int has = d->have_share;
    uint32_t idx = d->my_index;
    pthread_rwlock_unlock(&d->lock);
    (void)has;
    (void)idx;
    /* nothing is served until the epoch is confirmed current (daemon_confirm_epoch) */
    relay_set_epoch(d, g->g.epoch, 0, NULL, g->g.dev_mode);
    http_members_changed(d); /* the new committee's addresses get the reserved connection slots */
    if (old) {
        node_group_free(old);
        free(old);
    }
    daemon_refresh_state(d);
}

void daemon_confirm_epoch(tkmsd *d) {
    if (atomic_exchange(&d->epoch_confirmed, 1)) return;
    pthread_rwlock_rdlock(&d->lock);
    /* the release context gets its own copy of the share (locked page) */
    if (d->group && d->have_share) {
        relay_set_epoch(d, d->group->g.epoch, d->my_index, d->share, d->group->g.dev_mode);
        log_json(TLOG_INFO, "epoch_confirmed", json_pack("{s:I, s:i}", "epoch", (json_int_t)d->group->g.epoch, "index",
                                                        (int)d->my_index));
    }
    pthread_rwlock_unlock(&d->lock);
    daemon_refresh_state(d);
}

/* Loads the newest certified group and the current share from the store. */
int daemon_load_epoch(tkmsd *d, tkms_status *st) {
    char *json = NULL;
    uint64_t ge = 0;
    if (!node_store_get_group(d->store, UINT64_MAX, &json, &ge, st)) return 0;
    if (!json && d->cfg.join_group) {
        /* a new operator: start from the current certified group (checked), without a share */
        char *p = node_path_join(d->cfg.dir, d->cfg.join_group);
        char *txt = p ? node_read_file(p, NULL, 16 << 20, st) : NULL;
        free(p);
        if (!txt) return 0;
        node_group jg;
        int parsed = node_group_parse(&jg, txt, st);
        int ok = parsed && gfile_verify(&jg, st) &&
                 node_store_commit_epoch(d->store, d->sec->storage_key, jg.g.epoch, txt, 0, NULL, 0, st);
        if (parsed) ge = jg.g.epoch;
        if (parsed) node_group_free(&jg);
        if (ok) {
            json = txt;
            logf_(TLOG_INFO, "joined", "starting from the certified group of epoch %llu", (unsigned long long)ge);
        } else {
            free(txt);
            return 0;
        }
    }
    if (!json) return 1;
    node_group *g = calloc(1, sizeof *g);
    if (!g || !node_group_parse(g, json, st)) {
        free(json);
        free(g);
        return 0;
    }
    free(json);
    uint8_t buf[64];
    size_t bl = 0;
    uint64_t se = 0;
    uint32_t si = 0;
    int found = 0;
    if (!node_store_get_share(d->store, d->sec->storage_key, &se, &si, buf, &bl, &found, st)) {
        node_group_free(g);
        free(g);
        return 0;
    }
    fr_t *sh = NULL;
    fr_t tmp;
    if (found && se == g->g.epoch && bl == 32 && fr_from_bytes(&tmp, buf)) sh = &tmp;
    else if (found && se != g->g.epoch)
        logf_(TLOG_WARN, "store", "share is for epoch %llu, group for %llu: waiting to rejoin", (unsigned long long)se,
              (unsigned long long)g->g.epoch);
    node_wipe(buf, sizeof buf);
    daemon_install_epoch(d, g, sh, si);
    node_wipe(&tmp, sizeof tmp);
    log_json(TLOG_INFO, "epoch_loaded",
             json_pack("{s:I, s:i, s:b}", "epoch", (json_int_t)ge, "index", (int)d->my_index, "share", d->have_share));
    return 1;
}
