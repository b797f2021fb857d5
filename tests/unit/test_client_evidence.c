/* libtkms-client evidence producers against fakes: the insecure-dev signer (checked by the real
 * verifier), configfs-tsm (a temp directory with a fake provider thread, TDX and SNP with an
 * auxblob certificate table) and the Confidential Space launcher socket (libmicrohttpd on a unix
 * socket that checks the token request). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "testutil.h"
#include "tkms/attest.h"
#include "tkms/client.h"

static const uint8_t APP[20] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static char tmpdir[256];

static void hexs(char *out, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static void make_binding(uint8_t B[64]) {
    uint8_t r[32], n[32];
    tu_randbytes(r, 32);
    tu_randbytes(n, 32);
    tkms_client_binding(B, APP, r, n);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- dev ---- */

static void verify_dev(const tkms_client_evidence *ev, const uint8_t B[64], uint8_t key_out[32]) {
    tkms_attest_request rq = {.method = TKMS_ATTEST_INSECURE_DEV, .evidence = ev->evidence, .evidence_len = ev->evidence_len,
                              .binding = B, .now = 1, .flags = TKMS_ATTEST_F_DEV_MODE};
    tkms_attest_result *res = calloc(1, sizeof *res);
    TU_CHECK(res && tkms_attest_verify(res, &rq) == TKMS_ATTEST_OK);
    TU_CHECK(strcmp(res->claims.app_id, "0xa1b2c3d4e5f60708090a0b0c0d0e0f1011121314") == 0);
    if (key_out) memcpy(key_out, res->claims.dev_key, 32);
    uint8_t B2[64];
    memcpy(B2, B, 64);
    B2[63] ^= 1;
    rq.binding = B2;
    TU_CHECK(tkms_attest_verify(res, &rq) == TKMS_ATTEST_E_BINDING);
    free(res);
}

static void test_dev(void) {
    uint8_t B[64], pub[32], seen[32];
    tkms_status err;
    char path[300];
    make_binding(B);
    tkms_client_evidence_opts o = {.method = TKMS_CLIENT_ATT_DEV};
    tkms_client_evidence ev;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_OK);
    verify_dev(&ev, B, NULL);
    tkms_client_evidence_free(&ev);

    snprintf(path, sizeof path, "%s/dev.key", tmpdir);
    TU_CHECK(tkms_client_dev_keygen(pub, &err, path) == TKMS_CLIENT_OK);
    struct stat st;
    TU_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 65);
    TU_CHECK(tkms_client_dev_keygen(pub, &err, path) == TKMS_CLIENT_E_USAGE); /* no overwrite */
    o.dev_key_file = path;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_OK);
    verify_dev(&ev, B, seen);
    TU_CHECK(memcmp(seen, pub, 32) == 0);
    tkms_client_evidence_free(&ev);

    FILE *f = fopen(path, "w");
    fputs("not hex\n", f);
    fclose(f);
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE && !ev.evidence);
    o.dev_key_file = "/nonexistent/dev.key";
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE);
    unlink(path);
    printf("ok dev signer: ephemeral and key-file statements verify; bad key files refused\n");
}

/* ---- configfs-tsm fake ---- */

typedef struct {
    char root[300];
    const char *provider;
    int with_aux;
    atomic_int stop;
    atomic_int served;
} fake_tsm;

/* Written under a temporary name and renamed: the client never sees a half-written attribute
 * (the kernel's attributes are complete when they can be read). */
static void write_file(const char *dir, const char *name, const void *data, size_t len) {
    char p[700], tmp[720];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "wb");
    TU_CHECK(f);
    TU_CHECK(fwrite(data, 1, len, f) == len);
    TU_CHECK(fclose(f) == 0);
    TU_CHECK(rename(tmp, p) == 0);
}

/* Acts as the kernel: for each new entry whose inblob holds 64 bytes, writes provider, generation,
 * outblob = "QUOTE:" || inblob and optionally an SNP certificate table in auxblob. */
static void *tsm_thread(void *arg) {
    fake_tsm *f = arg;
    while (!atomic_load(&f->stop)) {
        DIR *d = opendir(f->root);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char dir[600], p[700];
            snprintf(dir, sizeof dir, "%s/%s", f->root, e->d_name);
            snprintf(p, sizeof p, "%s/outblob", dir);
            struct stat st;
            if (stat(p, &st) == 0) continue;
            snprintf(p, sizeof p, "%s/inblob", dir);
            FILE *in = fopen(p, "rb");
            uint8_t buf[70];
            size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
            if (in) fclose(in);
            if (n != 64) continue;
            write_file(dir, "provider", f->provider, strlen(f->provider));
            write_file(dir, "generation", "1\n", 2);
            if (f->with_aux) {
                /* one VCEK entry, then the zero terminator, then the certificate */
                uint8_t t[48 + 8] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd,
                                     48, 0, 0, 0, 8, 0, 0, 0};
                memcpy(t + 48, "VCEK-DER", 8);
                write_file(dir, "auxblob", t, sizeof t);
            }
            uint8_t q[6 + 64];
            memcpy(q, "QUOTE:", 6);
            memcpy(q + 6, buf, 64);
            write_file(dir, "outblob", q, sizeof q);
            atomic_fetch_add(&f->served, 1);
        }
        if (d) closedir(d);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run_tsm(const char *provider, int aux, tkms_client_att method, tkms_client_status want, const char *what) {
    fake_tsm f = {.provider = provider, .with_aux = aux};
    snprintf(f.root, sizeof f.root, "%s/tsm", tmpdir);
    TU_CHECK(mkdir(f.root, 0700) == 0);
    pthread_t th;
    TU_CHECK(pthread_create(&th, NULL, tsm_thread, &f) == 0);
    uint8_t B[64];
    tkms_status err;
    make_binding(B);
    tkms_client_evidence_opts o = {.method = method, .configfs_root = f.root, .timeout_ms = 3000};
    tkms_client_evidence ev;
    tkms_client_status st = tkms_client_evidence_get(&ev, &err, &o, APP, B);
    atomic_store(&f.stop, 1);
    pthread_join(th, NULL);
    if (st != want) fprintf(stderr, "%s: got %d (%s)\n", what, st, err.msg);
    TU_CHECK(st == want);
    if (st == TKMS_CLIENT_OK) {
        TU_CHECK(ev.evidence_len == 70 && memcmp(ev.evidence, "QUOTE:", 6) == 0 && memcmp(ev.evidence + 6, B, 64) == 0);
        TU_CHECK(strcmp(ev.provider, provider) == 0);
        if (aux) TU_CHECK(ev.collateral_len == 8 && memcmp(ev.collateral, "VCEK-DER", 8) == 0);
        else TU_CHECK(!ev.collateral);
    }
    TU_CHECK(count_entries(f.root) == 0); /* the report entry is removed on every path */
    tkms_client_evidence_free(&ev);
    TU_CHECK(rmdir(f.root) == 0);
    printf("ok configfs-tsm %s%s%s\n", what, st ? ": " : "", st ? err.msg : "");
}

static void test_configfs(void) {
    run_tsm("tdx_guest", 0, TKMS_CLIENT_ATT_TDX, TKMS_CLIENT_OK, "tdx quote carries B");
    run_tsm("sev_guest", 1, TKMS_CLIENT_ATT_SEV_SNP, TKMS_CLIENT_OK, "snp report carries B, VCEK from auxblob");
    run_tsm("sev_guest", 0, TKMS_CLIENT_ATT_TDX, TKMS_CLIENT_E_EVIDENCE, "provider mismatch");
    uint8_t B[64];
    tkms_status err;
    char root[300];
    make_binding(B);
    snprintf(root, sizeof root, "%s/no-such-dir", tmpdir);
    tkms_client_evidence_opts o = {.method = TKMS_CLIENT_ATT_TDX, .configfs_root = root};
    tkms_client_evidence ev;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE);
    TU_CHECK(strstr(err.msg, "configfs") != NULL);
    printf("ok configfs-tsm missing: %s\n", err.msg);
}

/* ---- Confidential Space launcher fake ---- */

typedef struct {
    char want_nonce[65];
    int status;
    atomic_int hits;
} fake_cs;

typedef struct {
    char *p;
    size_t n;
} body;

static enum MHD_Result cs_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *ver,
                                  const char *up, size_t *up_size, void **con) {
    (void)ver;
    fake_cs *f = cls;
    body *b = *con;
    if (!b) {
        *con = calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (*up_size) {
        b->p = realloc(b->p, b->n + *up_size + 1);
        memcpy(b->p + b->n, up, *up_size);
        b->n += *up_size;
        b->p[b->n] = 0;
        *up_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&f->hits, 1);
    const char *ans = "bad request";
    unsigned code = 400;
    json_t *j = b->p ? json_loads(b->p, 0, NULL) : NULL;
    json_t *nonces = json_object_get(j, "nonces");
    if (!strcmp(method, "POST") && !strcmp(url, "/v1/token") && json_object_size(j) == 3 &&
        !strcmp(json_string_value(json_object_get(j, "audience")) ?: "", "https://kms.example") &&
        !strcmp(json_string_value(json_object_get(j, "token_type")) ?: "", "OIDC") && json_array_size(nonces) == 1 &&
        !strcmp(json_string_value(json_array_get(nonces, 0)) ?: "", f->want_nonce)) {
        code = (unsigned)f->status;
        ans = code == 200 ? "eyJhbGciOiJSUzI1NiJ9.eyJlYXRfbm9uY2UiOiJ4In0.c2ln\n" : "launcher failure";
    }
    json_decref(j);
    free(b->p);
    free(b);
    *con = NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(ans), (void *)ans, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_teeserver(void) {
    char sock[300];
    tkms_status err;
    snprintf(sock, sizeof sock, "%s/teeserver.sock", tmpdir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    TU_CHECK(strlen(sock) < sizeof sa.sun_path);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    TU_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 8) == 0);
    fake_cs f = {.status = 200};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, cs_handler, &f,
                                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
    TU_CHECK(d);
    uint8_t B[64];
    make_binding(B);
    hexs(f.want_nonce, B, 32);
    tkms_client_evidence_opts o = {.method = TKMS_CLIENT_ATT_GCP_CS, .teeserver_socket = sock, .audience = "https://kms.example"};
    tkms_client_evidence ev;
    tkms_client_status st = tkms_client_evidence_get(&ev, &err, &o, APP, B);
    if (st) fprintf(stderr, "%s\n", err.msg);
    TU_CHECK(st == TKMS_CLIENT_OK);
    TU_CHECK(ev.evidence_len == 49 && memcmp(ev.evidence, "eyJhbGciOiJSUzI1NiJ9.", 21) == 0); /* newline trimmed */
    tkms_client_evidence_free(&ev);
    /* launcher error, and a token for another audience is never asked for */
    f.status = 500;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE && strstr(err.msg, "HTTP 500"));
    o.audience = NULL; /* default "tkms": the fake answers 400 */
    f.status = 200;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE && strstr(err.msg, "HTTP 400"));
    TU_CHECK(atomic_load(&f.hits) == 3);
    MHD_stop_daemon(d);
    close(fd);
    unlink(sock);
    o.teeserver_socket = sock;
    TU_CHECK(tkms_client_evidence_get(&ev, &err, &o, APP, B) == TKMS_CLIENT_E_EVIDENCE);
    printf("ok teeserver socket: token request (audience, eat_nonce = hex(B[0:32]), OIDC) checked; errors: %s\n", err.msg);
}

static void test_names(void) {
    TU_CHECK(tkms_client_att_from_name("dev") == TKMS_CLIENT_ATT_DEV && tkms_client_att_from_name("insecure-dev") == TKMS_CLIENT_ATT_DEV);
    TU_CHECK(tkms_client_att_from_name("sev-snp") == TKMS_CLIENT_ATT_SEV_SNP && !tkms_client_att_from_name("sgx"));
    TU_CHECK(!strcmp(tkms_client_att_name(TKMS_CLIENT_ATT_DEV), "insecure-dev"));
    TU_CHECK(tkms_client_exit_code(TKMS_CLIENT_E_QUORUM) == 1 && tkms_client_exit_code(TKMS_CLIENT_E_EVIDENCE) == 2);
}

int main(void) {
    tu_seed();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tkms-client-ev-XXXXXX");
    TU_CHECK(mkdtemp(tmpdir));
    test_names();
    test_dev();
    test_configfs();
    test_teeserver();
    TU_CHECK(rmdir(tmpdir) == 0);
    printf("all client evidence tests passed\n");
    return 0;
}
