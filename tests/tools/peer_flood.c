/* Test tool (not installed): a committee member that floods a peer with protocol bundles through
 * POST /v1/peer/bundle, each in its own correctly signed envelope (the member's node key, as a
 * compromised or buggy member would), so the peer must accept the envelope and decide on the
 * bundle. The bundles are framed like engine messages ("TKDG", version, type, session, sender,
 * length) but carry junk bodies and signatures: an engine refuses them, an early buffer keeps them.
 *
 *   tkms-test-peer-flood --config NODE/config.json --url http://127.0.0.1:P --count N --size BYTES
 *                        (--session HEX | --next-of GROUP.json | --random-session) [--tag K]
 *
 * --next-of computes the session ID of the reshare that follows GROUP with the same committee
 * (the one the peer expects next when no proposal is pending). Prints {"sent":N,"status":{code:k}}
 * and exits 0 if every request got an HTTP answer. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "group.h"
#include "node.h"

static size_t sink(char *p, size_t sz, size_t nm, void *ud) {
    (void)p;
    (void)ud;
    return sz * nm;
}

static int usage(void) {
    fprintf(stderr, "usage: tkms-test-peer-flood --config CFG --url URL --count N --size BYTES "
                    "(--session HEX | --next-of GROUP | --random-session) [--tag K]\n");
    return 2;
}

static int next_session(uint8_t sid[32], const char *group_path) {
    tkms_status st = {0};
    size_t n = 0;
    char *json = node_read_file(group_path, &n, 16 << 20, &st);
    tkms_group *g = malloc(sizeof *g);
    char err[256];
    uint8_t id[32];
    int ok = json && g && tkms_group_parse(g, json, n, err, sizeof err) && tkms_group_id(id, g);
    if (ok) tkms_dkg_session_id(sid, g->epoch + 1, id, g->members, g->n, g->t, g->t);
    else fprintf(stderr, "peer-flood: %s: %s\n", group_path, json ? err : st.msg);
    free(json);
    free(g);
    return ok;
}

int main(int argc, char **argv) {
    const char *cfg = NULL, *url = NULL, *sess = NULL, *next_of = NULL;
    long count = 0, size = 0, tag = 0;
    int random_session = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--random-session")) random_session = 1;
        else if (!v) return usage();
        else if (!strcmp(a, "--config")) cfg = v, i++;
        else if (!strcmp(a, "--url")) url = v, i++;
        else if (!strcmp(a, "--session")) sess = v, i++;
        else if (!strcmp(a, "--next-of")) next_of = v, i++;
        else if (!strcmp(a, "--count")) count = atol(v), i++;
        else if (!strcmp(a, "--size")) size = atol(v), i++;
        else if (!strcmp(a, "--tag")) tag = atol(v), i++;
        else return usage();
    }
    if (!cfg || !url || count < 1 || size < 46 + 64 + 8 || (!!sess + !!next_of + random_session) != 1) return usage();
    uint8_t sid[32];
    if (sess && !node_unhex(sid, 32, sess)) return usage();
    if (next_of && !next_session(sid, next_of)) return 2;
    tkms_status st = {0};
    node_secrets *sec = node_secure_alloc(sizeof *sec);
    if (!sec || !node_load_identity(sec, NULL, cfg, &st)) {
        fprintf(stderr, "peer-flood: %s\n", st.msg);
        return 2;
    }
    size_t len = (size_t)size, blen = len - 46 - 64;
    uint8_t *m = calloc(1, len);
    char full[512], keyhex[65], sighex[129], tsbuf[24];
    snprintf(full, sizeof full, "%s/v1/peer/bundle", url);
    tkms_hex(keyhex, sec->ed_pk, 32);
    CURL *c = curl_easy_init();
    if (!m || !c) return 2;
    memcpy(m, "TKDG\x01\x01", 6);
    m[41] = 1; /* be32 sender = 1 at 38..41, be32 body length at 42..45 */
    m[42] = (uint8_t)(blen >> 24), m[43] = (uint8_t)(blen >> 16), m[44] = (uint8_t)(blen >> 8), m[45] = (uint8_t)blen;
    long codes[600] = {0}, failed = 0;
    for (long i = 0; i < count; i++) {
        if (random_session) RAND_bytes(sid, 32);
        memcpy(m + 6, sid, 32);
        /* distinct bodies: distinct envelope signatures (no replay refusal) and bundle digests */
        snprintf((char *)m + 46, blen, "flood %ld %ld", tag, i);
        uint64_t ts = node_now_ms();
        uint8_t sig[64];
        if (!node_envelope_sign(sig, sec->ed_sk, url, "POST", "/v1/peer/bundle", ts, m, len)) return 2;
        tkms_hex(sighex, sig, 64);
        snprintf(tsbuf, sizeof tsbuf, "%llu", (unsigned long long)ts);
        char h1[128], h2[64], h3[160];
        snprintf(h1, sizeof h1, "X-Tkms-Key: %s", keyhex);
        snprintf(h2, sizeof h2, "X-Tkms-Time: %s", tsbuf);
        snprintf(h3, sizeof h3, "X-Tkms-Sig: %s", sighex);
        struct curl_slist *hs = curl_slist_append(NULL, h1);
        hs = curl_slist_append(hs, h2);
        hs = curl_slist_append(hs, h3);
        hs = curl_slist_append(hs, "Content-Type: application/octet-stream");
        hs = curl_slist_append(hs, "Expect:");
        curl_easy_setopt(c, CURLOPT_URL, full);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, m);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        else failed++;
        if (code > 0 && code < 600) codes[code]++;
        curl_slist_free_all(hs);
    }
    printf("{\"sent\":%ld,\"failed\":%ld,\"status\":{", count, failed);
    int first = 1;
    for (int k = 0; k < 600; k++)
        if (codes[k]) printf("%s\"%d\":%ld", first ? "" : ",", k, codes[k]), first = 0;
    printf("}}\n");
    curl_easy_cleanup(c);
    node_secure_free(sec, sizeof *sec);
    free(m);
    return failed ? 1 : 0;
}
