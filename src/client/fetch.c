/* libtkms-client: the key-release round (docs/release-protocol.md §1) as driver + collector:
 * fresh recipient key and nonce, evidence bound to B, the request; the libcurl driver (driver.c)
 * asks every member and feeds the answers to the sans-I/O collector (collect.c), which verifies
 * each signed response, opens the HPKE partial, batch-checks partials against the public shares
 * (naming bad nodes), follows newer epochs through verified group files, combines t valid partials
 * and checks the key against the MPK; then the mnemonic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "appkey.h"
#include "client_internal.h"
#include "collect.h"
#include "g1.h"
#include "identity.h"
#include "tkms/wallet.h"
#include "proto.h"

void tkms_client_fetch_opts_default(tkms_client_fetch_opts *o) {
    memset(o, 0, sizeof *o);
    o->evidence.method = TKMS_CLIENT_ATT_DEV;
    o->timeout_ms = 5000;
    o->retries = 2;
    o->backoff_ms = 100;
    o->deadline_ms = 20000;
}

void tkms_client_report_free(tkms_client_report *r) {
    if (!r) return;
    free(r->nodes);
    memset(r, 0, sizeof *r);
}

void tkms_client_key_wipe(tkms_client_key *k) {
    if (k) OPENSSL_cleanse(k, sizeof *k);
}

static char *request_body(const tkms_client_fetch_opts *fo, const char *app_text, const uint8_t recipient[32],
                          const uint8_t nonce[32], const tkms_client_evidence *ev) {
    char rh[65], nh[65];
    tkms_hex(rh, recipient, 32);
    tkms_hex(nh, nonce, 32);
    char *e64 = tkms_b64_encode(ev->evidence, ev->evidence_len, 0, 1);
    char *c64 = ev->collateral ? tkms_b64_encode(ev->collateral, ev->collateral_len, 0, 1) : NULL;
    json_t *att = json_pack("{s:s, s:s}", "method", tkms_client_att_name(fo->evidence.method), "evidence", e64 ? e64 : "");
    if (att && c64) json_object_set_new(att, "collateral", json_string(c64));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "app_id", app_text, "recipient", rh, "nonce", nh, "attestation", att);
    char *s = (o && e64 && (!ev->collateral || c64)) ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    free(e64);
    free(c64);
    return s;
}

tkms_client_status tkms_client_fetch(tkms_client_key *key, tkms_client_report *rep, tkms_status *es,
                                     const tkms_client_fetch_opts *o) {
    cl_status_ok(es);
    double t_start = cl_now_ms();
    if (rep) memset(rep, 0, sizeof *rep);
    if (key) memset(key, 0, sizeof *key);
    if (!key || !o || !o->group || !o->evidence.method || o->timeout_ms == 0)
        return cl_fail(es, TKMS_CLIENT_E_USAGE, "tkms_client_fetch: missing key, group, method or timeout");
    tkms_client_status st = TKMS_CLIENT_OK;
    tkms_client_evidence ev = {0};
    cl_collect *col = NULL;
    char *req_body = NULL;
    double ms_evidence = 0, ms_network = 0, ms_combine = 0, ms_derive = 0;
    uint8_t sk[32], recipient[32], nonce[32];
    char app_text[43];
    const tkms_group *g0 = &o->group->g;

    tkms_client_format_app_id(app_text, o->app_id);
    g1_affine_t hm; /* Q_A */
    {
        g1_t q;
        appkey_identity_point(&q, o->app_id);
        g1_to_affine(&hm, &q);
    }
    /* the ephemeral recipient key and the nonce, then evidence bound to B */
    uint8_t B[64];
    if (RAND_bytes(sk, 32) != 1 || RAND_bytes(nonce, 32) != 1 || !tkms_x25519_pubkey(recipient, sk)) {
        st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "RNG or X25519 failure");
        goto out;
    }
    tkms_client_binding(B, o->app_id, recipient, nonce);
    {
        double t0 = cl_now_ms();
        st = tkms_client_evidence_get(&ev, es, &o->evidence, o->app_id, B);
        ms_evidence = cl_now_ms() - t0;
        if (st != TKMS_CLIENT_OK) goto out;
    }
    if (o->log) {
        char line[160];
        snprintf(line, sizeof line, "evidence: %s, %zu bytes (%.1f ms)", ev.provider, ev.evidence_len, ms_evidence);
        o->log(o->log_ctx, line);
    }

    cl_collect_cfg cc = {.group = g0, .hm = &hm, .log = o->log, .log_ctx = o->log_ctx};
    col = cl_collect_new(&cc);
    req_body = request_body(o, app_text, recipient, nonce, &ev);
    if (!col || !req_body) {
        st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
        goto out;
    }
    cl_collect_set_release(col, o->app_id, recipient, nonce, sk);
    for (size_t i = 0; i < g0->n; i++)
        if (cl_collect_target(col, g0->members[i].address, (uint32_t)(i + 1), g0->epoch) == SIZE_MAX && o->log) {
            char line[256];
            snprintf(line, sizeof line, "node %zu (%s): not asked (duplicate address or out of memory)", i + 1,
                     g0->members[i].address);
            o->log(o->log_ctx, line);
        }
    if (o->log) {
        char line[200];
        snprintf(line, sizeof line, "asked %zu nodes of epoch %llu for app %s (t = %zu)", cl_collect_n_targets(col),
                 (unsigned long long)g0->epoch, app_text, g0->t);
        o->log(o->log_ctx, line);
    }
    double t_net = cl_now_ms();
    cl_drive_opts dopt = {.body = req_body, .timeout_ms = o->timeout_ms, .retries = o->retries, .backoff_ms = o->backoff_ms,
                          .deadline_ms = o->deadline_ms, .wait_all = o->wait_all, .log = o->log, .log_ctx = o->log_ctx};
    if (!cl_drive_release(col, &dopt)) {
        st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "out of memory");
        goto out;
    }
    ms_network = cl_now_ms() - t_net - cl_collect_ms_verify(col);
    /* combine t valid partials and check the key against the MPK */
    {
        g1_affine_t ka;
        double t0 = cl_now_ms();
        st = cl_collect_verdict(col, &ka, es);
        if (st == TKMS_CLIENT_OK) g1_serialize(key->app_key, &ka);
        OPENSSL_cleanse(&ka, sizeof ka);
        ms_combine = cl_now_ms() - t0;
        if (st != TKMS_CLIENT_OK) goto out;
        t0 = cl_now_ms();
        tkms_wallet_status ws = tkms_mnemonic_from_app_key(key->mnemonic, sizeof key->mnemonic, key->app_key);
        ms_derive = cl_now_ms() - t0;
        if (ws != TKMS_WALLET_OK) {
            st = cl_fail(es, TKMS_CLIENT_E_INTERNAL, "mnemonic derivation failed: %s", tkms_wallet_strerror(ws));
            goto out;
        }
        memcpy(key->app_id, o->app_id, 20);
        g2_serialize(key->mpk, &g0->poly[0]);
    }
out:
    if (rep) {
        rep->n = g0->n;
        rep->t = g0->t;
        rep->epoch = g0->epoch;
        if (col) cl_collect_report(col, rep);
        rep->ms_evidence = ms_evidence;
        rep->ms_network = ms_network;
        rep->ms_combine = ms_combine;
        rep->ms_derive = ms_derive;
        rep->ms_total = cl_now_ms() - t_start;
    }
    cl_collect_free(col);
    free(req_body);
    tkms_client_evidence_free(&ev);
    OPENSSL_cleanse(sk, sizeof sk);
    if (st != TKMS_CLIENT_OK && key) tkms_client_key_wipe(key);
    return st;
}
