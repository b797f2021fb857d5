/* tkms app: the app registry from the owner's side (docs/registry.md): create an app ID, write,
 * sign and verify release statements (EIP-191), and send a signed statement to every node. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "group.h"
#include "net.h"
#include "release.h"

#define MAX_STATEMENT (64u * 1024u)

static void usage(FILE *f) {
    fprintf(f,
            "usage: tkms app create --owner-key-file F [--salt HEX]\n"
            "       tkms app statement --app 0x… --seq N --method M [--method M …]\n"
            "                          [--image-digest sha256:… …] [--mrtd H …] [--rtmr0|1|2 H …]\n"
            "                          [--snp-measurement H …] [--gcp-project P …] [--service-account S …]\n"
            "                          [--tdx-mrconfigid H …] [--snp-host-data H …]\n"
            "       tkms app sign --owner-key-file F --salt HEX --statement FILE\n"
            "       tkms app verify --statement FILE --owner 0xADDR [--salt HEX]\n"
            "       tkms app release --statement FILE --group FILE [--timeout S]\n\n"
            "The owner key file holds a secp256k1 private key as hex and must not be readable by\n"
            "group or others (0600). Statements are canonical JSON (docs/release-protocol.md §4).\n"
            "exit: 0 success, 1 rejected/invalid, 2 usage or environment error\n");
}

/* Reads the owner's secp256k1 key from a file only its owner may read. */
static int read_owner_key(uint8_t sk[32], const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return cli_fail(CLI_USAGE, "cannot stat '%s'", path), 0;
    if (sb.st_mode & 077) return cli_fail(CLI_USAGE, "'%s' is readable by group or others; chmod 600 it", path), 0;
    if (!cli_read_secret_hex(sk, 32, path)) return 0;
    return 1;
}

static int parse_salt(uint8_t salt[32], const char *hex) {
    if (!cli_hex_exact(salt, 32, hex)) return cli_fail(CLI_USAGE, "--salt must be 32 bytes of hex"), 0;
    return 1;
}

static void print_json(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s) puts(s);
    free(s);
}

static int app_create(int argc, char **argv) {
    static const char *const allowed[] = {"--owner-key-file", "--salt", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *kf = cli_opt(argc, argv, "--owner-key-file"), *sh = cli_opt(argc, argv, "--salt");
    if (!kf) return cli_fail(CLI_USAGE, "--owner-key-file is required");
    uint8_t sk[32], owner[20], salt[32], id[20];
    if (sh ? !parse_salt(salt, sh) : RAND_bytes(salt, 32) != 1) return CLI_USAGE;
    if (!read_owner_key(sk, kf)) return CLI_USAGE;
    int ok = tkms_eth_address_of_key(owner, sk);
    OPENSSL_cleanse(sk, sizeof sk);
    if (!ok) return cli_fail(CLI_REJECT, "the owner key is not a valid secp256k1 private key");
    tkms_app_id_derive(id, owner, salt);
    char ids[TKMS_APP_ID_TEXT], os[43], ss[65];
    tkms_app_id_format(ids, id);
    os[0] = '0', os[1] = 'x';
    cli_hex_encode(os + 2, owner, 20);
    cli_hex_encode(ss, salt, 32);
    json_t *o = json_pack("{s:s, s:s, s:s}", "app_id", ids, "owner", os, "salt", ss);
    print_json(o);
    json_decref(o);
    return CLI_OK;
}

/* Appends every value of a repeated option to a JSON array (lowercasing hex when asked). */
static int collect(json_t **arr, int argc, char **argv, const char *name, int lower) {
    size_t nl = strlen(name);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) v = argv[++i];
        else if (strncmp(argv[i], name, nl) == 0 && argv[i][nl] == '=') v = argv[i] + nl + 1;
        else if (strncmp(argv[i], "--", 2) == 0 && !strchr(argv[i], '=')) i++;
        if (!v) continue;
        char *s = strdup(v);
        if (!s) return 0;
        if (lower)
            for (char *p = s; *p; p++) *p = (char)tolower((unsigned char)*p);
        if (!*arr) *arr = json_array();
        json_array_append_new(*arr, json_string(s));
        free(s);
    }
    return 1;
}

static void put_list(json_t *o, const char *key, json_t *arr) {
    if (arr) json_object_set_new(o, key, arr);
}

static int app_statement(int argc, char **argv) {
    static const char *const allowed[] = {"--app", "--seq", "--method", "--image-digest", "--mrtd", "--rtmr0", "--rtmr1",
                                          "--rtmr2", "--snp-measurement", "--gcp-project", "--service-account",
                                          "--tdx-mrconfigid", "--snp-host-data", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *app = cli_opt(argc, argv, "--app"), *seqs = cli_opt(argc, argv, "--seq");
    uint8_t id[20];
    if (!app || !tkms_app_id_parse(id, app)) return cli_fail(CLI_USAGE, "--app 0x<40 hex> is required");
    char *end = NULL;
    unsigned long long seq = seqs ? strtoull(seqs, &end, 10) : 0;
    if (!seqs || !*seqs || *end || seq == 0 || !isdigit((unsigned char)seqs[0]))
        return cli_fail(CLI_USAGE, "--seq N (a positive integer) is required");
    json_t *methods = NULL, *digests = NULL, *mrtd = NULL, *rt[3] = {NULL, NULL, NULL}, *meas = NULL, *proj = NULL,
           *sa = NULL, *cfg = NULL, *hd = NULL;
    collect(&methods, argc, argv, "--method", 0);
    collect(&digests, argc, argv, "--image-digest", 1);
    collect(&mrtd, argc, argv, "--mrtd", 1);
    collect(&rt[0], argc, argv, "--rtmr0", 1);
    collect(&rt[1], argc, argv, "--rtmr1", 1);
    collect(&rt[2], argc, argv, "--rtmr2", 1);
    collect(&meas, argc, argv, "--snp-measurement", 1);
    collect(&proj, argc, argv, "--gcp-project", 0);
    collect(&sa, argc, argv, "--service-account", 0);
    collect(&cfg, argc, argv, "--tdx-mrconfigid", 1);
    collect(&hd, argc, argv, "--snp-host-data", 1);
    char ids[TKMS_APP_ID_TEXT];
    tkms_app_id_format(ids, id);
    json_t *o = json_pack("{s:s, s:I, s:o}", "app_id", ids, "seq", (json_int_t)seq, "methods", methods ? methods : json_array());
    put_list(o, "image_digests", digests);
    if (mrtd || rt[0] || rt[1] || rt[2]) {
        json_t *t = json_object();
        put_list(t, "mrtd", mrtd);
        put_list(t, "rtmr0", rt[0]);
        put_list(t, "rtmr1", rt[1]);
        put_list(t, "rtmr2", rt[2]);
        json_object_set_new(o, "tdx", t);
    }
    if (meas) json_object_set_new(o, "snp", json_pack("{s:o}", "measurement", meas));
    if (proj || sa || cfg || hd) {
        json_t *d = json_object();
        put_list(d, "gcp_projects", proj);
        put_list(d, "service_accounts", sa);
        put_list(d, "tdx_mrconfigid", cfg);
        put_list(d, "snp_host_data", hd);
        json_object_set_new(o, "deployments", d);
    }
    char *js = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS), *can = NULL;
    tkms_status es = {0};
    json_decref(o);
    tkms_app_statement st;
    tkms_release_code c = js ? tkms_app_statement_parse(&st, &can, &es, js, strlen(js)) : TKMS_REL_INTERNAL;
    free(js);
    if (c != TKMS_REL_OK) return cli_fail(CLI_REJECT, "invalid statement: %s", es.msg);
    puts(can);
    free(can);
    return CLI_OK;
}

static int app_sign(int argc, char **argv) {
    static const char *const allowed[] = {"--owner-key-file", "--statement", "--salt", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *kf = cli_opt(argc, argv, "--owner-key-file"), *sf = cli_opt(argc, argv, "--statement");
    const char *sh = cli_opt(argc, argv, "--salt");
    if (!kf || !sf || !sh) return cli_fail(CLI_USAGE, "--owner-key-file, --salt and --statement are required");
    uint8_t sk[32], salt[32];
    if (!parse_salt(salt, sh)) return CLI_USAGE;
    size_t len = 0;
    uint8_t *buf = cli_read_file(sf, &len, MAX_STATEMENT);
    if (!buf) return CLI_USAGE;
    if (!read_owner_key(sk, kf)) {
        free(buf);
        return CLI_USAGE;
    }
    char *out = NULL;
    tkms_status es = {0};
    tkms_release_code c = tkms_app_sign_statement(&out, &es, (const char *)buf, len, sk, salt);
    OPENSSL_cleanse(sk, sizeof sk);
    free(buf);
    if (c != TKMS_REL_OK) return cli_fail(CLI_REJECT, "%s: %s", tkms_release_code_name(c), es.msg);
    puts(out);
    free(out);
    return CLI_OK;
}

static int app_verify(int argc, char **argv) {
    static const char *const allowed[] = {"--statement", "--owner", "--salt", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *sf = cli_opt(argc, argv, "--statement"), *ow = cli_opt(argc, argv, "--owner"), *sh = cli_opt(argc, argv, "--salt");
    uint8_t owner[20], salt[32];
    if (!sf || !ow) return cli_fail(CLI_USAGE, "--statement and --owner are required");
    if (!tkms_app_id_parse(owner, ow)) return cli_fail(CLI_USAGE, "--owner must be 0x + 40 hex");
    if (sh && !parse_salt(salt, sh)) return CLI_USAGE;
    size_t len = 0;
    uint8_t *buf = cli_read_file(sf, &len, MAX_STATEMENT);
    if (!buf) return CLI_USAGE;
    tkms_app_signed s;
    tkms_status es = {0};
    tkms_release_code c = tkms_app_signed_parse(&s, &es, (const char *)buf, len);
    free(buf);
    if (c != TKMS_REL_OK) return cli_fail(CLI_REJECT, "%s: %s", tkms_release_code_name(c), es.msg);
    int bad_owner = memcmp(s.owner, owner, 20) != 0, bad_salt = sh && memcmp(s.salt, salt, 32) != 0;
    char ids[TKMS_APP_ID_TEXT], os[43];
    tkms_app_id_format(ids, s.st.app_id);
    os[0] = '0', os[1] = 'x';
    cli_hex_encode(os + 2, s.owner, 20);
    uint64_t seq = s.st.seq;
    tkms_app_signed_free(&s);
    if (bad_owner) return cli_fail(CLI_REJECT, "signed by %s, not by the expected owner", os);
    if (bad_salt) return cli_fail(CLI_REJECT, "the statement's salt is not the expected one");
    json_t *o = json_pack("{s:s, s:s, s:I, s:b}", "app_id", ids, "owner", os, "seq", (json_int_t)seq, "valid", 1);
    print_json(o);
    json_decref(o);
    return CLI_OK;
}

static int app_release(int argc, char **argv) {
    static const char *const allowed[] = {"--statement", "--group", "--timeout", NULL};
    if (!cli_check_opts(argc, argv, allowed)) return CLI_USAGE;
    const char *sf = cli_opt(argc, argv, "--statement"), *gf = cli_opt(argc, argv, "--group");
    const char *to = cli_opt(argc, argv, "--timeout");
    long timeout = to ? atol(to) : 10;
    if (!sf || !gf) return cli_fail(CLI_USAGE, "--statement and --group are required");
    if (timeout <= 0) return cli_fail(CLI_USAGE, "--timeout must be a positive number of seconds");
    size_t slen = 0, glen = 0;
    uint8_t *sbuf = cli_read_file(sf, &slen, MAX_STATEMENT), *gbuf = sbuf ? cli_read_file(gf, &glen, 8u << 20) : NULL;
    tkms_group *g = gbuf ? malloc(sizeof *g) : NULL;
    int rc = CLI_USAGE;
    char err[256] = "";
    tkms_app_signed s;
    int have_s = 0;
    if (!gbuf || !g) goto out;
    if (!tkms_group_parse(g, (const char *)gbuf, glen, err, sizeof err)) {
        rc = cli_fail(CLI_USAGE, "bad group file: %s", err);
        goto out;
    }
    /* Refuse locally what every node would refuse, and send the canonical form. */
    tkms_status es;
    tkms_release_code c = tkms_app_signed_parse(&s, &es, (const char *)sbuf, slen);
    if (c != TKMS_REL_OK) {
        rc = cli_fail(CLI_REJECT, "%s: %s", tkms_release_code_name(c), es.msg);
        goto out;
    }
    have_s = 1;
    char *body = tkms_app_signed_json(&s);
    if (!body) {
        rc = cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    tkms_net_global_init();
    if (timeout > LONG_MAX / 1000) timeout = LONG_MAX / 1000;
    size_t have = 0;
    for (size_t i = 0; i < g->n; i++) {
        const char *addr = g->members[i].address;
        size_t al = strlen(addr);
        while (al && addr[al - 1] == '/') al--;
        char url[TKMS_DKG_ADDR_MAX + 24];
        /* Group files name members as URLs or as host:port (then plain http, like the daemon). */
        snprintf(url, sizeof url, "%s%.*s/v1/apps", strstr(addr, "://") ? "" : "http://", (int)al, addr);
        tkms_net_body mb;
        tkms_net_body_init(&mb, 64u * 1024u);
        long status = 0;
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        tkms_net_opts no = {.timeout_ms = timeout * 1000, .body = &mb, .headers = hdr};
        CURL *h = hdr ? tkms_net_easy(url, &no) : NULL;
        CURLcode cc = CURLE_FAILED_INIT;
        if (h && tkms_net_post(h, body, strlen(body))) {
            cc = curl_easy_perform(h);
            if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        const char *result = "unreachable", *code = "";
        json_t *resp = mb.p ? json_loadb((const char *)mb.p, mb.len, 0, NULL) : NULL;
        json_t *ecode = json_object_get(json_object_get(resp, "error"), "code");
        if (json_is_string(ecode)) code = json_string_value(ecode);
        if (cc == CURLE_OK && status == 200) result = "stored", have++;
        else if (cc == CURLE_OK && strcmp(code, "stale_statement") == 0) result = "already_current", have++;
        else if (cc == CURLE_OK) result = "refused";
        json_t *line = json_pack("{s:I, s:s, s:s, s:I, s:s}", "index", (json_int_t)(i + 1), "address", addr, "result", result,
                                 "http", (json_int_t)status, "code", code);
        print_json(line);
        json_decref(line);
        json_decref(resp);
        tkms_net_body_free(&mb);
        curl_slist_free_all(hdr);
        if (h) curl_easy_cleanup(h);
    }
    free(body);
    /* Anti-entropy spreads it to the rest; t nodes holding it is what release needs. */
    if (have >= g->t) rc = CLI_OK;
    else rc = cli_fail(CLI_REJECT, "only %zu of %zu nodes hold the statement (threshold %zu)", have, g->n, g->t);
out:
    if (have_s) tkms_app_signed_free(&s);
    free(g);
    free(sbuf);
    free(gbuf);
    return rc;
}

int cmd_app(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
    const char *sub = argv[1];
    if (strcmp(sub, "create") == 0) return app_create(argc - 1, argv + 1);
    if (strcmp(sub, "statement") == 0) return app_statement(argc - 1, argv + 1);
    if (strcmp(sub, "sign") == 0) return app_sign(argc - 1, argv + 1);
    if (strcmp(sub, "verify") == 0) return app_verify(argc - 1, argv + 1);
    if (strcmp(sub, "release") == 0) return app_release(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown app sub-command '%s' (see tkms app --help)", sub);
}
