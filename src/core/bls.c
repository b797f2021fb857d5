/* BLS signatures (draft-irtf-cfrg-bls-signature-05) over the core's G1/G2, hash-to-curve and
 * pairing: the public tkms_bls_* API. Secrets go only through constant-time code; no allocation. */
#include "tkms/bls.h"

#include <stdlib.h>
#include <string.h>

#include "bls_internal.h"
#include "ct.h"
#include "fr.h"
#include "g1.h"
#include "g2.h"
#include "h2c.h"
#include "pairing.h"
#include "sha256.h"

/* ---- error tier 1: the illegal-argument callback ---- */

static tkms_illegal_fn illegal_fn;
static void *illegal_data;

void tkms_set_illegal_callback(tkms_illegal_fn fn, void *data) {
    illegal_fn = fn;
    illegal_data = data;
}

static int illegal(const char *msg) {
    if (illegal_fn == NULL) abort();
    illegal_fn(msg, illegal_data);
    return 0;
}

void (*tkms_ct_declassify_hook)(const void *p, size_t n);

static void declassify(const void *p, size_t n) {
    if (tkms_ct_declassify_hook) tkms_ct_declassify_hook(p, n);
}

/* ---- object layout ---- */

/* Tag word: magic, kind and variant. A wiped or never-parsed object has no valid tag. */
#define BLS_MAGIC 0x746b6d73626c7300ULL /* "tkmsbls\0" */
enum { KIND_SK = 1, KIND_PK = 2, KIND_SIG = 3 };
#define TAG(kind, v) (BLS_MAGIC | ((uint64_t)(kind) << 4) | (uint64_t)(v))

typedef struct {
    uint64_t tag;
    union {
        g1_affine_t g1;
        g2_affine_t g2;
    } p;
} bls_point_t;

typedef struct {
    uint64_t tag;
    fr_t s;
} bls_sk_t;

_Static_assert(sizeof(bls_point_t) == sizeof(tkms_bls_public_key), "public key layout");
_Static_assert(sizeof(bls_point_t) == sizeof(tkms_bls_signature), "signature layout");
_Static_assert(sizeof(bls_sk_t) == sizeof(tkms_bls_secret_key), "secret key layout");

static const uint8_t EMPTY[1] = {0};

static int valid_variant(tkms_bls_variant v) { return v == TKMS_BLS_MIN_SIG || v == TKMS_BLS_MIN_PK; }

/* In which group a kind lives for a variant: 1 = G1, 2 = G2. */
static int group_of(int kind, tkms_bls_variant v) {
    if (kind == KIND_SIG) return v == TKMS_BLS_MIN_SIG ? 1 : 2;
    return v == TKMS_BLS_MIN_SIG ? 2 : 1;
}

/* Copies an opaque object out (memcpy keeps strict aliasing intact) and checks its tag. */
static int load_point(bls_point_t *out, const void *obj, int kind) {
    if (obj == NULL) return illegal("bls: NULL object");
    memcpy(out, obj, sizeof *out);
    uint64_t v = out->tag & 0xf;
    if ((out->tag & ~(uint64_t)0xff) != BLS_MAGIC || ((out->tag >> 4) & 0xf) != (uint64_t)kind || v > 1)
        return illegal(kind == KIND_PK ? "bls: public key was not made by a parser"
                                       : "bls: signature was not made by a parser");
    return 1;
}

static tkms_bls_variant point_variant(const bls_point_t *p) { return (tkms_bls_variant)(p->tag & 0xf); }

static int load_sk(bls_sk_t *out, const tkms_bls_secret_key *sk) {
    if (sk == NULL) return illegal("bls: NULL secret key");
    memcpy(out, sk, sizeof *out);
    if (out->tag != TAG(KIND_SK, 0)) {
        tkms_wipe(out, sizeof *out);
        return illegal("bls: secret key was not made by keygen or a parser");
    }
    return 1;
}

static int check_dst(const uint8_t *dst, size_t dst_len) {
    if (dst == NULL || dst_len == 0) return illegal("bls: the DST must be non-empty");
    return 1;
}

static int check_msg(const uint8_t **msg, size_t msg_len) {
    if (*msg == NULL) {
        if (msg_len != 0) return illegal("bls: NULL message with non-zero length");
        *msg = EMPTY;
    }
    return 1;
}

size_t tkms_bls_public_key_size(tkms_bls_variant v) { return v == TKMS_BLS_MIN_SIG ? 96 : 48; }
size_t tkms_bls_signature_size(tkms_bls_variant v) { return v == TKMS_BLS_MIN_SIG ? 48 : 96; }

/* ---- secret keys ---- */

int tkms_bls_keygen(tkms_bls_secret_key *sk, const uint8_t *ikm, size_t ikm_len, const uint8_t *key_info,
                    size_t key_info_len) {
    if (sk == NULL || (ikm == NULL && ikm_len != 0) || (key_info == NULL && key_info_len != 0))
        return illegal("bls: keygen arguments");
    tkms_wipe(sk, sizeof *sk);
    if (ikm_len < 32) return 0;
    if (key_info == NULL) key_info = EMPTY;

    static const uint8_t SALT[] = "BLS-SIG-KEYGEN-SALT-";
    static const uint8_t ZERO = 0;
    const uint8_t l2[2] = {0, 48}; /* I2OSP(L, 2) */
    uint8_t salt[32], prk[32], okm[64];
    hmac_sha256_ctx h;
    bls_sk_t out;
    sha256(salt, SALT, sizeof SALT - 1);
    for (;;) {
        /* HKDF-Extract(salt, IKM || I2OSP(0, 1)) */
        hmac_sha256_init(&h, salt, sizeof salt);
        hmac_sha256_update(&h, ikm, ikm_len);
        hmac_sha256_update(&h, &ZERO, 1);
        hmac_sha256_final(&h, prk);
        /* HKDF-Expand(PRK, key_info || I2OSP(L, 2), L = 48): two blocks, written out because
         * key_info can be any length and the core does not allocate. */
        uint8_t ctr = 1;
        hmac_sha256_init(&h, prk, sizeof prk);
        hmac_sha256_update(&h, key_info, key_info_len);
        hmac_sha256_update(&h, l2, 2);
        hmac_sha256_update(&h, &ctr, 1);
        hmac_sha256_final(&h, okm);
        ctr = 2;
        hmac_sha256_init(&h, prk, sizeof prk);
        hmac_sha256_update(&h, okm, 32);
        hmac_sha256_update(&h, key_info, key_info_len);
        hmac_sha256_update(&h, l2, 2);
        hmac_sha256_update(&h, &ctr, 1);
        hmac_sha256_final(&h, okm + 32);
        fr_from_bytes_wide(&out.s, okm, 48); /* OS2IP(OKM) mod r */
        /* SK = 0 has probability 2^-255; whether it happened is public. */
        uint64_t zero = fr_is_zero(&out.s);
        declassify(&zero, sizeof zero);
        if (!zero) break;
        sha256(salt, salt, sizeof salt);
    }
    out.tag = TAG(KIND_SK, 0);
    memcpy(sk, &out, sizeof out);
    tkms_wipe(&out, sizeof out);
    tkms_wipe(prk, sizeof prk);
    tkms_wipe(okm, sizeof okm);
    tkms_wipe(&h, sizeof h);
    return 1;
}

int tkms_bls_secret_key_parse(tkms_bls_secret_key *sk, const uint8_t in[32]) {
    if (sk == NULL || in == NULL) return illegal("bls: secret key parse arguments");
    bls_sk_t out;
    uint64_t ok = fr_from_bytes(&out.s, in);
    ok &= 1 ^ fr_is_zero(&out.s);
    fr_cmov(&out.s, &FR_ZERO, 1 ^ ok); /* keep no secret bits of a rejected key */
    declassify(&ok, sizeof ok);        /* valid or not is the public result */
    out.tag = TAG(KIND_SK, 0) & ct_mask(ok);
    memcpy(sk, &out, sizeof out);
    tkms_wipe(&out, sizeof out);
    return (int)ok;
}

int tkms_bls_secret_key_serialize(uint8_t out[32], const tkms_bls_secret_key *sk) {
    if (out == NULL) return illegal("bls: NULL output");
    bls_sk_t k;
    if (!load_sk(&k, sk)) {
        tkms_wipe(out, 32);
        return 0;
    }
    fr_to_bytes(out, &k.s);
    tkms_wipe(&k, sizeof k);
    return 1;
}

void tkms_bls_secret_key_wipe(tkms_bls_secret_key *sk) {
    if (sk) tkms_wipe(sk, sizeof *sk);
}

int tkms_bls_sk_to_pk(tkms_bls_public_key *pk, tkms_bls_variant v, const tkms_bls_secret_key *sk) {
    if (pk == NULL || !valid_variant(v)) return illegal("bls: sk_to_pk arguments");
    bls_sk_t k;
    if (!load_sk(&k, sk)) return 0;
    uint64_t s[4];
    bls_point_t out;
    memset(&out, 0, sizeof out);
    fr_to_scalar(s, &k.s);
    if (group_of(KIND_PK, v) == 2) {
        g2_t g, r;
        g2_from_affine(&g, &G2_GENERATOR);
        g2_mul(&r, &g, s);
        g2_to_affine(&out.p.g2, &r);
        tkms_wipe(&r, sizeof r);
    } else {
        g1_t g, r;
        g1_from_affine(&g, &G1_GENERATOR);
        g1_mul(&r, &g, s);
        g1_to_affine(&out.p.g1, &r);
        tkms_wipe(&r, sizeof r);
    }
    out.tag = TAG(KIND_PK, v);
    memcpy(pk, &out, sizeof out);
    tkms_wipe(s, sizeof s);
    tkms_wipe(&k, sizeof k);
    return 1;
}

/* ---- parsing and serialisation ---- */

static int parse_point(void *obj, int kind, tkms_bls_variant v, const uint8_t *in, size_t len) {
    if (obj == NULL || in == NULL || !valid_variant(v)) return illegal("bls: parse arguments");
    bls_point_t out;
    memset(&out, 0, sizeof out);
    int ok;
    if (group_of(kind, v) == 1)
        ok = (len == 48 || len == 96) && g1_deserialize(&out.p.g1, in, len, 0) == G1_OK;
    else
        ok = (len == 96 || len == 192) && g2_deserialize(&out.p.g2, in, len, 0) == G2_OK;
    if (ok) out.tag = TAG(kind, v);
    else memset(&out, 0, sizeof out);
    memcpy(obj, &out, sizeof out);
    return ok;
}

int tkms_bls_public_key_parse(tkms_bls_public_key *pk, tkms_bls_variant v, const uint8_t *in, size_t len) {
    return parse_point(pk, KIND_PK, v, in, len);
}

int tkms_bls_signature_parse(tkms_bls_signature *sig, tkms_bls_variant v, const uint8_t *in, size_t len) {
    return parse_point(sig, KIND_SIG, v, in, len);
}

static int serialize_point(uint8_t *out, size_t out_len, const void *obj, int kind) {
    bls_point_t p;
    if (out == NULL) return illegal("bls: NULL output");
    if (!load_point(&p, obj, kind)) return 0;
    if (group_of(kind, point_variant(&p)) == 1) {
        if (out_len != 48) return illegal("bls: output must be 48 bytes");
        g1_serialize(out, &p.p.g1);
    } else {
        if (out_len != 96) return illegal("bls: output must be 96 bytes");
        g2_serialize(out, &p.p.g2);
    }
    return 1;
}

int tkms_bls_public_key_serialize(uint8_t *out, size_t out_len, const tkms_bls_public_key *pk) {
    return serialize_point(out, out_len, pk, KIND_PK);
}

int tkms_bls_signature_serialize(uint8_t *out, size_t out_len, const tkms_bls_signature *sig) {
    return serialize_point(out, out_len, sig, KIND_SIG);
}

tkms_bls_variant tkms_bls_public_key_variant(const tkms_bls_public_key *pk) {
    return (tkms_bls_variant)(pk->opaque[0] & 1);
}

tkms_bls_variant tkms_bls_signature_variant(const tkms_bls_signature *sig) {
    return (tkms_bls_variant)(sig->opaque[0] & 1);
}

/* ---- signing ---- */

int tkms_bls_sign(tkms_bls_signature *sig, tkms_bls_variant v, const tkms_bls_secret_key *sk, const uint8_t *msg,
                  size_t msg_len, const uint8_t *dst, size_t dst_len) {
    if (sig == NULL || !valid_variant(v)) return illegal("bls: sign arguments");
    if (!check_msg(&msg, msg_len) || !check_dst(dst, dst_len)) return 0;
    bls_sk_t k;
    if (!load_sk(&k, sk)) return 0;
    uint64_t s[4];
    bls_point_t out;
    memset(&out, 0, sizeof out);
    fr_to_scalar(s, &k.s);
    if (group_of(KIND_SIG, v) == 1) {
        g1_t h, r;
        h2c_hash_to_g1(&h, msg, msg_len, dst, dst_len);
        g1_mul(&r, &h, s);
        g1_to_affine(&out.p.g1, &r);
    } else {
        g2_t h, r;
        h2c_hash_to_g2(&h, msg, msg_len, dst, dst_len);
        g2_mul(&r, &h, s);
        g2_to_affine(&out.p.g2, &r);
    }
    out.tag = TAG(KIND_SIG, v);
    memcpy(sig, &out, sizeof out);
    tkms_wipe(s, sizeof s);
    tkms_wipe(&k, sizeof k);
    return 1;
}

int tkms_bls_pop_prove(tkms_bls_signature *proof, tkms_bls_variant v, const tkms_bls_secret_key *sk,
                       const uint8_t *pop_dst, size_t pop_dst_len) {
    tkms_bls_public_key pk;
    uint8_t enc[96];
    if (!tkms_bls_sk_to_pk(&pk, v, sk)) return 0;
    size_t n = tkms_bls_public_key_size(v);
    if (!tkms_bls_public_key_serialize(enc, n, &pk)) return 0;
    declassify(enc, n); /* the public key is public; only sk stays secret */
    return tkms_bls_sign(proof, v, sk, enc, n, pop_dst, pop_dst_len);
}

/* ---- verification ---- */

/* Pairs accumulated into one product of Miller loops, flushed every PAIRING_MAX_BATCH pairs so
 * that any number of signers fits in fixed stack space; one final exponentiation at the end. */
typedef struct {
    g1_affine_t P[PAIRING_MAX_BATCH];
    g2_affine_t Q[PAIRING_MAX_BATCH];
    size_t n;
    int started;
    fp12_t acc;
} pairing_acc_t;

static void acc_init(pairing_acc_t *a) {
    a->n = 0;
    a->started = 0;
}

static void acc_flush(pairing_acc_t *a) {
    if (a->n == 0) return;
    if (!a->started) {
        pairing_miller_loop(&a->acc, a->P, a->Q, a->n);
        a->started = 1;
    } else {
        fp12_t f, t;
        pairing_miller_loop(&f, a->P, a->Q, a->n);
        fp12_mul(&t, &a->acc, &f);
        a->acc = t;
    }
    a->n = 0;
}

static void acc_push(pairing_acc_t *a, const g1_affine_t *P, const g2_affine_t *Q) {
    a->P[a->n] = *P;
    a->Q[a->n] = *Q;
    if (++a->n == PAIRING_MAX_BATCH) acc_flush(a);
}

static int acc_is_one(pairing_acc_t *a) {
    fp12_t r;
    acc_flush(a);
    if (!a->started) return 1;
    pairing_final_exp(&r, &a->acc);
    return (int)fp12_is_one(&r);
}

/* The pair that carries the signature: (sig, -g2) for min-sig, (-g1, sig) for min-pk. */
static void acc_push_sig(pairing_acc_t *a, const bls_point_t *sig) {
    if (point_variant(sig) == TKMS_BLS_MIN_SIG) {
        g2_affine_t ng;
        g2_affine_neg(&ng, &G2_GENERATOR);
        acc_push(a, &sig->p.g1, &ng);
    } else {
        g1_affine_t ng;
        g1_affine_neg(&ng, &G1_GENERATOR);
        acc_push(a, &ng, &sig->p.g2);
    }
}

/* The pair (H(msg), pk) in the variant's order. */
static void acc_push_msg(pairing_acc_t *a, const bls_point_t *pk, const uint8_t *msg, size_t msg_len,
                         const uint8_t *dst, size_t dst_len) {
    if (point_variant(pk) == TKMS_BLS_MIN_SIG) {
        g1_t h;
        g1_affine_t ha;
        h2c_hash_to_g1(&h, msg, msg_len, dst, dst_len);
        g1_to_affine(&ha, &h);
        acc_push(a, &ha, &pk->p.g2);
    } else {
        g2_t h;
        g2_affine_t ha;
        h2c_hash_to_g2(&h, msg, msg_len, dst, dst_len);
        g2_to_affine(&ha, &h);
        acc_push(a, &pk->p.g1, &ha);
    }
}

int tkms_bls_verify(const tkms_bls_public_key *pk, const uint8_t *msg, size_t msg_len, const tkms_bls_signature *sig,
                    const uint8_t *dst, size_t dst_len) {
    bls_point_t p, s;
    if (!load_point(&p, pk, KIND_PK) || !load_point(&s, sig, KIND_SIG)) return 0;
    if (point_variant(&p) != point_variant(&s)) return illegal("bls: key and signature of different variants");
    if (!check_msg(&msg, msg_len) || !check_dst(dst, dst_len)) return 0;
    g1_affine_t P[2];
    g2_affine_t Q[2];
    if (point_variant(&p) == TKMS_BLS_MIN_SIG) {
        g1_t h;
        P[0] = s.p.g1;
        g2_affine_neg(&Q[0], &G2_GENERATOR);
        h2c_hash_to_g1(&h, msg, msg_len, dst, dst_len);
        g1_to_affine(&P[1], &h);
        Q[1] = p.p.g2;
    } else {
        g2_t h;
        g1_affine_neg(&P[0], &G1_GENERATOR);
        Q[0] = s.p.g2;
        P[1] = p.p.g1;
        h2c_hash_to_g2(&h, msg, msg_len, dst, dst_len);
        g2_to_affine(&Q[1], &h);
    }
    return (int)pairing_product_is_one(P, Q, 2);
}

int tkms_bls_pop_verify(const tkms_bls_public_key *pk, const tkms_bls_signature *proof, const uint8_t *pop_dst,
                        size_t pop_dst_len) {
    uint8_t enc[96];
    bls_point_t p;
    if (!load_point(&p, pk, KIND_PK)) return 0;
    size_t n = tkms_bls_public_key_size(point_variant(&p));
    if (!tkms_bls_public_key_serialize(enc, n, pk)) return 0;
    return tkms_bls_verify(pk, enc, n, proof, pop_dst, pop_dst_len);
}

/* Sum of n points of one kind and variant; 0 if n == 0, a variant mismatch or the identity. */
static int sum_points(bls_point_t *out, const void *objs, size_t stride, size_t n, int kind) {
    if (out == NULL || (objs == NULL && n != 0)) return illegal("bls: aggregate arguments");
    if (n == 0) return 0;
    bls_point_t first, q;
    if (!load_point(&first, objs, kind)) return 0;
    tkms_bls_variant v = point_variant(&first);
    memset(out, 0, sizeof *out);
    if (group_of(kind, v) == 1) {
        g1_t acc;
        g1_from_affine(&acc, &first.p.g1);
        for (size_t i = 1; i < n; i++) {
            if (!load_point(&q, (const uint8_t *)objs + i * stride, kind)) return 0;
            if (point_variant(&q) != v) return illegal("bls: aggregate of different variants");
            g1_t t;
            g1_add_affine(&t, &acc, &q.p.g1);
            acc = t;
        }
        if (g1_is_identity(&acc)) return 0;
        g1_to_affine(&out->p.g1, &acc);
    } else {
        g2_t acc;
        g2_from_affine(&acc, &first.p.g2);
        for (size_t i = 1; i < n; i++) {
            if (!load_point(&q, (const uint8_t *)objs + i * stride, kind)) return 0;
            if (point_variant(&q) != v) return illegal("bls: aggregate of different variants");
            g2_t t;
            g2_add_affine(&t, &acc, &q.p.g2);
            acc = t;
        }
        if (g2_is_identity(&acc)) return 0;
        g2_to_affine(&out->p.g2, &acc);
    }
    out->tag = TAG(kind, v);
    return 1;
}

int tkms_bls_aggregate(tkms_bls_signature *out, const tkms_bls_signature *sigs, size_t n) {
    bls_point_t r;
    if (out == NULL) return illegal("bls: NULL output");
    int ok = sum_points(&r, sigs, sizeof *sigs, n, KIND_SIG);
    if (!ok) memset(&r, 0, sizeof r);
    memcpy(out, &r, sizeof r);
    return ok;
}

int tkms_bls_aggregate_public_keys(tkms_bls_public_key *out, const tkms_bls_public_key *pks, size_t n) {
    bls_point_t r;
    if (out == NULL) return illegal("bls: NULL output");
    int ok = sum_points(&r, pks, sizeof *pks, n, KIND_PK);
    if (!ok) memset(&r, 0, sizeof r);
    memcpy(out, &r, sizeof r);
    return ok;
}

int tkms_bls_fast_aggregate_verify(const tkms_bls_public_key *pks, size_t n, const uint8_t *msg, size_t msg_len,
                                   const tkms_bls_signature *sig, const uint8_t *dst, size_t dst_len) {
    tkms_bls_public_key agg;
    if (n == 0) return 0;
    if (!tkms_bls_aggregate_public_keys(&agg, pks, n)) return 0;
    return tkms_bls_verify(&agg, msg, msg_len, sig, dst, dst_len);
}

int tkms_bls_aggregate_verify(const tkms_bls_public_key *pks, const uint8_t *const *msgs, const size_t *msg_lens,
                              size_t n, const tkms_bls_signature *sig, const uint8_t *dst, size_t dst_len) {
    if (n == 0) return 0;
    if (pks == NULL || msgs == NULL || msg_lens == NULL) return illegal("bls: aggregate_verify arguments");
    if (!check_dst(dst, dst_len)) return 0;
    bls_point_t s, p;
    if (!load_point(&s, sig, KIND_SIG)) return 0;
    pairing_acc_t a;
    acc_init(&a);
    acc_push_sig(&a, &s);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *m = msgs[i];
        if (!load_point(&p, &pks[i], KIND_PK)) return 0;
        if (point_variant(&p) != point_variant(&s)) return illegal("bls: key and signature of different variants");
        if (!check_msg(&m, msg_lens[i])) return 0;
        acc_push_msg(&a, &p, m, msg_lens[i], dst, dst_len);
    }
    return acc_is_one(&a);
}

int tkms_bls_messages_distinct(const uint8_t *const *msgs, const size_t *msg_lens, size_t n) {
    if (n != 0 && (msgs == NULL || msg_lens == NULL)) return illegal("bls: messages_distinct arguments");
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (msg_lens[i] == msg_lens[j] && (msg_lens[i] == 0 || memcmp(msgs[i], msgs[j], msg_lens[i]) == 0))
                return 0;
    return 1;
}

int tkms_bls_batch_verify(const tkms_bls_public_key *pks, const uint8_t *const *msgs, const size_t *msg_lens,
                          const tkms_bls_signature *sigs, size_t n, const uint8_t *dst, size_t dst_len, tkms_rng_fn rng,
                          void *rng_ctx) {
    if (n == 0) return 0;
    if (pks == NULL || msgs == NULL || msg_lens == NULL || sigs == NULL || rng == NULL)
        return illegal("bls: batch_verify arguments");
    if (!check_dst(dst, dst_len)) return 0;
    bls_point_t p, s;
    if (!load_point(&s, &sigs[0], KIND_SIG)) return 0;
    const tkms_bls_variant v = point_variant(&s);
    pairing_acc_t a;
    g1_t sig1, t1;
    g2_t sig2, t2;
    g1_identity(&sig1);
    g2_identity(&sig2);
    acc_init(&a);
    /* Each triple is scaled by its own random r_i: e(sum r_i sig_i, -g) * prod e(r_i H(m_i), pk_i)
     * in min-sig order (the r_i go on the G1 side, where scaling is cheapest). Signatures whose
     * errors cancel only in the plain sum do not cancel under unknown independent r_i. */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *m = msgs[i];
        uint8_t rb[8];
        if (!load_point(&p, &pks[i], KIND_PK) || !load_point(&s, &sigs[i], KIND_SIG)) return 0;
        if (point_variant(&p) != v || point_variant(&s) != v) return illegal("bls: batch of different variants");
        if (!check_msg(&m, msg_lens[i])) return 0;
        if (!rng(rng_ctx, rb, sizeof rb)) return 0;
        uint64_t r = 0;
        for (int j = 0; j < 8; j++) r = r << 8 | rb[j];
        if (r == 0) r = 1;
        if (v == TKMS_BLS_MIN_SIG) {
            g1_t h;
            g1_affine_t ha;
            h2c_hash_to_g1(&h, m, msg_lens[i], dst, dst_len);
            g1_mul_u64s_vartime(&t1, &h, &r, 1);
            g1_to_affine(&ha, &t1);
            acc_push(&a, &ha, &p.p.g2);
            g1_from_affine(&h, &s.p.g1);
            g1_mul_u64s_vartime(&t1, &h, &r, 1);
            g1_add(&h, &sig1, &t1);
            sig1 = h;
        } else {
            g2_t h;
            g2_affine_t ha;
            g1_affine_t pa;
            h2c_hash_to_g2(&h, m, msg_lens[i], dst, dst_len);
            g2_to_affine(&ha, &h);
            g1_t u;
            g1_from_affine(&u, &p.p.g1);
            g1_mul_u64s_vartime(&t1, &u, &r, 1);
            g1_to_affine(&pa, &t1);
            acc_push(&a, &pa, &ha);
            g2_from_affine(&h, &s.p.g2);
            g2_mul_u64s_vartime(&t2, &h, &r, 1);
            g2_add(&h, &sig2, &t2);
            sig2 = h;
        }
    }
    bls_point_t sum;
    sum.tag = TAG(KIND_SIG, v);
    if (v == TKMS_BLS_MIN_SIG) g1_to_affine(&sum.p.g1, &sig1);
    else g2_to_affine(&sum.p.g2, &sig2);
    acc_push_sig(&a, &sum);
    return acc_is_one(&a);
}
