/* Test tool (not installed): fills a stopped node's app registry directly (the anti-entropy tests
 * need tens of thousands of apps; creating them over HTTP would take minutes). Each app gets a
 * genuine owner-signed statement, exactly as `tkms app create/statement/sign` makes them: owner
 * keys and salts are derived from --seed, so the test can sign newer statements later.
 *
 *   tkms-test-registry-fill --db NODE/tkms.db --count N [--owners K] [--seed S] [--first FILE]
 *
 * --first writes {"app_id","owner_key","salt"} of app 0 (owner key 0). Apps are spread over K
 * owners (default 50). One transaction; prints {"apps": N, "seconds": s}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>
#include <sqlite3.h>

#include "release.h"

static void derive(uint8_t out[32], const char *seed, const char *what, long i) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "tkms-test-registry-fill|%s|%s|%ld", seed, what, i);
    SHA256((const uint8_t *)buf, (size_t)n, out);
}

static void hex(char *o, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) sprintf(o + 2 * i, "%02x", b[i]);
}

/* An error exit that frees the owner tables. */
static int bail(void *keys, void *addrs) {
    free(keys);
    free(addrs);
    return 1;
}

int main(int argc, char **argv) {
    const char *dbp = NULL, *seed = "1", *first = NULL;
    long count = 0, owners = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--db")) dbp = argv[i + 1];
        else if (!strcmp(argv[i], "--count")) count = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--owners")) owners = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) seed = argv[i + 1];
        else if (!strcmp(argv[i], "--first")) first = argv[i + 1];
        else count = -1;
    }
    if (!dbp || count < 1 || owners < 1 || (argc % 2) != 1) {
        fprintf(stderr, "usage: tkms-test-registry-fill --db PATH --count N [--owners K] [--seed S] [--first FILE]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sqlite3 *db = NULL;
    tkms_status err;
    if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK || !tkms_registry_init(db, &err) ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "registry-fill: %s: %s\n", dbp, sqlite3_errmsg(db));
        return 1;
    }
    uint8_t (*keys)[32] = malloc((size_t)owners * 32), (*addrs)[20] = malloc((size_t)owners * 20);
    for (long k = 0; k < owners; k++) {
        long tweak = 0;
        do derive(keys[k], seed, "owner", k * 1000 + tweak++);
        while (!tkms_eth_address_of_key(addrs[k], keys[k]));
    }
    for (long i = 0; i < count; i++) {
        uint8_t salt[32], app[20];
        char id[TKMS_APP_ID_TEXT], st[160], *js = NULL;
        long k = i % owners;
        derive(salt, seed, "salt", i);
        tkms_app_id_derive(app, addrs[k], salt);
        tkms_app_id_format(id, app);
        snprintf(st, sizeof st, "{\"app_id\":\"%s\",\"seq\":1,\"methods\":[\"insecure-dev\"]}", id);
        tkms_app_signed s;
        if (tkms_app_sign_statement(&js, &err, st, strlen(st), keys[k], salt) != TKMS_REL_OK ||
            tkms_app_signed_parse(&s, &err, js, strlen(js)) != TKMS_REL_OK) {
            fprintf(stderr, "registry-fill: %s\n", err.msg);
            return bail(keys, addrs);
        }
        tkms_release_code c = tkms_registry_put(db, &s, 1000, &err);
        tkms_app_signed_free(&s);
        free(js);
        if (c != TKMS_REL_OK) {
            fprintf(stderr, "registry-fill: app %ld: %s\n", i, err.msg);
            return bail(keys, addrs);
        }
        if (i == 0 && first) {
            char kh[65], sh[65];
            hex(kh, keys[0], 32);
            hex(sh, salt, 32);
            FILE *f = fopen(first, "w");
            if (!f) return bail(keys, addrs);
            fprintf(f, "{\"app_id\":\"%s\",\"owner_key\":\"%s\",\"salt\":\"%s\"}\n", id, kh, sh);
            fclose(f);
        }
    }
    free(keys);
    free(addrs);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "registry-fill: commit: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_close(db);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("{\"apps\":%ld,\"seconds\":%.2f}\n", count, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
