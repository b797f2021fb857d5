/* Test driver for differential tests: reads one JSON request per line on stdin, answers one JSON
 * line on stdout, so a node test can run thousands of cases against one process. Not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "pairing.h"
#include "testutil.h"
#include "tkms/bls.h"

#define MAXB 4096
#define MAXPAIRS 8

static void on_illegal(const char *msg, void *data) {
    (void)data;
    fprintf(stderr, "bls_driver: illegal argument: %s\n", msg);
    exit(3);
}

static const char *str(json_t *req, const char *key) {
    const char *s = json_string_value(json_object_get(req, key));
    return s ? s : "";
}

static long hexarg(uint8_t *out, size_t cap, json_t *req, const char *key) {
    return tu_unhex(out, cap, str(req, key));
}

static void reply_hex(const char *key, const uint8_t *b, size_t n) {
    static char h[2 * MAXB + 1];
    tu_hex(h, b, n);
    printf("{\"%s\":\"%s\"}\n", key, h);
}

static void reply_bool(const char *key, int v) { printf("{\"%s\":%s}\n", key, v ? "true" : "false"); }
static void reply_err(const char *what) { printf("{\"error\":\"%s\"}\n", what); }

static int variant(json_t *req, tkms_bls_variant *v) {
    const char *s = str(req, "variant");
    if (strcmp(s, "min-sig") == 0) *v = TKMS_BLS_MIN_SIG;
    else if (strcmp(s, "min-pk") == 0) *v = TKMS_BLS_MIN_PK;
    else return 0;
    return 1;
}

static int scalar(uint64_t k[4], json_t *req) {
    uint8_t b[32];
    if (hexarg(b, 32, req, "k") != 32) return 0;
    for (int i = 0; i < 4; i++) {
        k[i] = 0;
        for (int j = 0; j < 8; j++) k[i] |= (uint64_t)b[31 - 8 * i - j] << (8 * j);
    }
    return 1;
}

static void handle(json_t *req) {
    const char *op = str(req, "op");
    static uint8_t a[MAXB], b[MAXB], c[MAXB], d[MAXB];
    long na, nb, nc;
    tkms_bls_variant v;

    if (strcmp(op, "keygen") == 0) {
        tkms_bls_secret_key sk;
        tkms_bls_public_key pk;
        uint8_t out[96];
        na = hexarg(a, MAXB, req, "ikm");
        nb = hexarg(b, MAXB, req, "info");
        if (na < 0 || nb < 0 || !variant(req, &v)) return reply_err("args");
        if (!tkms_bls_keygen(&sk, a, (size_t)na, b, (size_t)nb)) return reply_err("ikm");
        if (!tkms_bls_secret_key_serialize(out, &sk) || !tkms_bls_sk_to_pk(&pk, v, &sk)) return reply_err("internal");
        char h1[65], h2[193];
        tu_hex(h1, out, 32);
        if (!tkms_bls_public_key_serialize(out, tkms_bls_public_key_size(v), &pk)) return reply_err("internal");
        tu_hex(h2, out, tkms_bls_public_key_size(v));
        printf("{\"sk\":\"%s\",\"pk\":\"%s\"}\n", h1, h2);
    } else if (strcmp(op, "sign") == 0) {
        tkms_bls_secret_key sk;
        tkms_bls_signature sig;
        tkms_bls_public_key pk;
        uint8_t out[96];
        if (hexarg(a, 32, req, "sk") != 32 || !variant(req, &v)) return reply_err("args");
        nb = hexarg(b, MAXB, req, "msg");
        nc = hexarg(c, MAXB, req, "dst");
        if (nb < 0 || nc <= 0) return reply_err("args");
        if (!tkms_bls_secret_key_parse(&sk, a)) return reply_err("sk");
        if (!tkms_bls_sign(&sig, v, &sk, b, (size_t)nb, c, (size_t)nc)) return reply_err("sign");
        if (!tkms_bls_signature_serialize(out, tkms_bls_signature_size(v), &sig)) return reply_err("internal");
        char hs[193], hp[193];
        tu_hex(hs, out, tkms_bls_signature_size(v));
        if (!tkms_bls_sk_to_pk(&pk, v, &sk) || !tkms_bls_public_key_serialize(out, tkms_bls_public_key_size(v), &pk))
            return reply_err("internal");
        tu_hex(hp, out, tkms_bls_public_key_size(v));
        printf("{\"sig\":\"%s\",\"pk\":\"%s\"}\n", hs, hp);
    } else if (strcmp(op, "verify") == 0) {
        tkms_bls_signature sig;
        tkms_bls_public_key pk;
        if (!variant(req, &v)) return reply_err("args");
        na = hexarg(a, MAXB, req, "pk");
        nb = hexarg(b, MAXB, req, "msg");
        nc = hexarg(c, MAXB, req, "dst");
        long nd = hexarg(d, MAXB, req, "sig");
        if (na < 0 || nb < 0 || nc <= 0 || nd < 0) return reply_err("args");
        int ok = tkms_bls_public_key_parse(&pk, v, a, (size_t)na) && tkms_bls_signature_parse(&sig, v, d, (size_t)nd) &&
                 tkms_bls_verify(&pk, b, (size_t)nb, &sig, c, (size_t)nc);
        reply_bool("ok", ok);
    } else if (strcmp(op, "g1_mul") == 0 || strcmp(op, "g2_mul") == 0) {
        /* constant-time and variable-time multiplication must agree; answers the compressed point */
        uint64_t k[4];
        int g2 = op[1] == '2';
        na = hexarg(a, MAXB, req, "p");
        if (na < 0 || !scalar(k, req)) return reply_err("args");
        if (!g2) {
            g1_affine_t p, ra;
            g1_t pp, r, rv;
            if (g1_deserialize(&p, a, (size_t)na, 1) != G1_OK) return reply_err("point");
            g1_from_affine(&pp, &p);
            g1_mul(&r, &pp, k);
            g1_mul_vartime(&rv, &pp, k);
            if (!g1_eq(&r, &rv)) return reply_err("ct/vartime mismatch");
            g1_to_affine(&ra, &r);
            g1_serialize(c, &ra);
            reply_hex("r", c, 48);
        } else {
            g2_affine_t p, ra;
            g2_t pp, r, rv;
            if (g2_deserialize(&p, a, (size_t)na, 1) != G2_OK) return reply_err("point");
            g2_from_affine(&pp, &p);
            g2_mul(&r, &pp, k);
            g2_mul_vartime(&rv, &pp, k);
            if (!g2_eq(&r, &rv)) return reply_err("ct/vartime mismatch");
            g2_to_affine(&ra, &r);
            g2_serialize(c, &ra);
            reply_hex("r", c, 96);
        }
    } else if (strcmp(op, "g1_add") == 0 || strcmp(op, "g2_add") == 0) {
        int g2 = op[1] == '2';
        na = hexarg(a, MAXB, req, "a");
        nb = hexarg(b, MAXB, req, "b");
        if (na < 0 || nb < 0) return reply_err("args");
        if (!g2) {
            g1_affine_t p, q, ra;
            g1_t pp, r;
            if (g1_deserialize(&p, a, (size_t)na, 1) != G1_OK || g1_deserialize(&q, b, (size_t)nb, 1) != G1_OK)
                return reply_err("point");
            g1_from_affine(&pp, &p);
            g1_add_affine(&r, &pp, &q);
            g1_to_affine(&ra, &r);
            g1_serialize(c, &ra);
            reply_hex("r", c, 48);
        } else {
            g2_affine_t p, q, ra;
            g2_t pp, r;
            if (g2_deserialize(&p, a, (size_t)na, 1) != G2_OK || g2_deserialize(&q, b, (size_t)nb, 1) != G2_OK)
                return reply_err("point");
            g2_from_affine(&pp, &p);
            g2_add_affine(&r, &pp, &q);
            g2_to_affine(&ra, &r);
            g2_serialize(c, &ra);
            reply_hex("r", c, 96);
        }
    } else if (strcmp(op, "decompress") == 0) {
        /* parse (compressed or uncompressed) and re-encode both ways */
        int g2 = strcmp(str(req, "group"), "g2") == 0;
        na = hexarg(a, MAXB, req, "bytes");
        if (na < 0) return reply_err("args");
        char hc[193], hu[385];
        if (!g2) {
            g1_affine_t p;
            g1_status st = g1_deserialize(&p, a, (size_t)na, 1);
            if (st != G1_OK) return (void)printf("{\"ok\":false,\"status\":%d}\n", (int)st);
            g1_serialize(b, &p);
            g1_serialize_uncompressed(c, &p);
            tu_hex(hc, b, 48);
            tu_hex(hu, c, 96);
        } else {
            g2_affine_t p;
            g2_status st = g2_deserialize(&p, a, (size_t)na, 1);
            if (st != G2_OK) return (void)printf("{\"ok\":false,\"status\":%d}\n", (int)st);
            g2_serialize(b, &p);
            g2_serialize_uncompressed(c, &p);
            tu_hex(hc, b, 96);
            tu_hex(hu, c, 192);
        }
        printf("{\"ok\":true,\"compressed\":\"%s\",\"uncompressed\":\"%s\"}\n", hc, hu);
    } else if (strcmp(op, "h2c") == 0) {
        int g2 = strcmp(str(req, "group"), "g2") == 0, enc = json_is_true(json_object_get(req, "encode"));
        na = hexarg(a, MAXB, req, "msg");
        nb = hexarg(b, MAXB, req, "dst");
        if (na < 0 || nb <= 0) return reply_err("args");
        if (!g2) {
            g1_t p;
            g1_affine_t pa;
            if (enc) h2c_encode_to_g1(&p, a, (size_t)na, b, (size_t)nb);
            else h2c_hash_to_g1(&p, a, (size_t)na, b, (size_t)nb);
            g1_to_affine(&pa, &p);
            g1_serialize(c, &pa);
            reply_hex("p", c, 48);
        } else {
            g2_t p;
            g2_affine_t pa;
            if (enc) h2c_encode_to_g2(&p, a, (size_t)na, b, (size_t)nb);
            else h2c_hash_to_g2(&p, a, (size_t)na, b, (size_t)nb);
            g2_to_affine(&pa, &p);
            g2_serialize(c, &pa);
            reply_hex("p", c, 96);
        }
    } else if (strcmp(op, "pairing_check") == 0) {
        /* {"g1":[hex...],"g2":[hex...]}: 1 if prod e(P_i, Q_i) == 1 */
        json_t *l1 = json_object_get(req, "g1"), *l2 = json_object_get(req, "g2");
        size_t n = json_array_size(l1);
        g1_affine_t P[MAXPAIRS];
        g2_affine_t Q[MAXPAIRS];
        if (n == 0 || n > MAXPAIRS || json_array_size(l2) != n) return reply_err("args");
        for (size_t i = 0; i < n; i++) {
            long x = tu_unhex(a, MAXB, json_string_value(json_array_get(l1, i)) ?: "");
            long y = tu_unhex(b, MAXB, json_string_value(json_array_get(l2, i)) ?: "");
            if (x < 0 || y < 0 || g1_deserialize(&P[i], a, (size_t)x, 1) != G1_OK ||
                g2_deserialize(&Q[i], b, (size_t)y, 1) != G2_OK)
                return reply_err("point");
        }
        reply_bool("ok", (int)pairing_product_is_one(P, Q, n));
    } else if (strcmp(op, "gt") == 0) {
        /* the 576-byte tlock encoding of e(P, Q) */
        g1_affine_t P;
        g2_affine_t Q;
        fp12_t e;
        na = hexarg(a, MAXB, req, "g1");
        nb = hexarg(b, MAXB, req, "g2");
        if (na < 0 || nb < 0 || g1_deserialize(&P, a, (size_t)na, 1) != G1_OK ||
            g2_deserialize(&Q, b, (size_t)nb, 1) != G2_OK)
            return reply_err("point");
        pairing(&e, &P, &Q);
        gt_to_bytes(c, &e);
        reply_hex("gt", c, 576);
    } else {
        reply_err("unknown op");
    }
}

int main(void) {
    static char line[1 << 16];
    tkms_set_illegal_callback(on_illegal, NULL);
    while (fgets(line, sizeof line, stdin)) {
        json_error_t err;
        json_t *req = json_loads(line, 0, &err);
        if (!req) {
            reply_err("bad json");
        } else {
            handle(req);
            json_decref(req);
        }
        fflush(stdout);
    }
    return 0;
}
