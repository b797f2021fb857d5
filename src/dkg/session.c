/* Definitions the DKG engine shares with group files (engine.h, "shared definitions"): session
 * ID, attempt wire tag, transcript hash, certification message and quorum. Pure functions of
 * public data; the same in every build of the engine. */
#include <string.h>

#include "engine.h"
#include "proto_bytes.h"
#include "proto_tags.h"
#include "sha256.h"

void tkms_dkg_session_id(uint8_t out[32], uint64_t epoch, const uint8_t prev_group_id[32],
                         const tkms_dkg_member *members, size_t n, size_t t_new, size_t t_old) {
    sha256_ctx c;
    uint8_t b[8];
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_SESSION, TKMS_TAG_LEN(TKMS_TAG_SESSION));
    proto_be64(b, epoch);
    sha256_update(&c, b, 8);
    sha256_update(&c, prev_group_id, 32);
    proto_be32(b, (uint32_t)n);
    sha256_update(&c, b, 4);
    for (size_t i = 0; i < n; i++) {
        size_t al = strnlen(members[i].address, TKMS_DKG_ADDR_MAX - 1);
        proto_be32(b, (uint32_t)(i + 1));
        sha256_update(&c, b, 4);
        sha256_update(&c, members[i].sign_pk, 32);
        sha256_update(&c, members[i].kem_pk, 32);
        proto_be32(b, (uint32_t)al);
        sha256_update(&c, b, 4);
        sha256_update(&c, members[i].address, al);
    }
    proto_be32(b, (uint32_t)t_new);
    sha256_update(&c, b, 4);
    proto_be32(b, (uint32_t)t_old);
    sha256_update(&c, b, 4);
    sha256_final(&c, out);
}

void tkms_dkg_transcript_hash(uint8_t out[32], const uint8_t session[32], const uint32_t *qual, size_t n_qual,
                              const g2_affine_t *poly, size_t t) {
    sha256_ctx c;
    uint8_t b[96];
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_TRANSCRIPT, TKMS_TAG_LEN(TKMS_TAG_TRANSCRIPT));
    sha256_update(&c, session, 32);
    proto_be32(b, (uint32_t)n_qual);
    sha256_update(&c, b, 4);
    for (size_t i = 0; i < n_qual; i++) {
        proto_be32(b, qual[i]);
        sha256_update(&c, b, 4);
    }
    proto_be32(b, (uint32_t)t);
    sha256_update(&c, b, 4);
    for (size_t k = 0; k < t; k++) {
        g2_serialize(b, &poly[k]);
        sha256_update(&c, b, 96);
    }
    sha256_final(&c, out);
}

void tkms_dkg_cert_message(uint8_t out[TKMS_DKG_CERT_MSG_LEN], const uint8_t session[32], const uint8_t thash[32]) {
    enum { TL = TKMS_TAG_LEN(TKMS_TAG_GROUP_CERT) };
    memcpy(out, TKMS_TAG_GROUP_CERT, TL);
    memcpy(out + TL, session, 32);
    memcpy(out + TL + 32, thash, 32);
}

/* Certificates needed for a group file to be final: t_new, but never fewer than a majority of the
 * new committee. With a lowered threshold (t_new <= n_new/2) two disjoint sets of t_new honest
 * nodes with different views could otherwise each certify a different file for one epoch; any
 * two majorities intersect. For the default t = ceil(2n/3) this is exactly t_new. */
size_t tkms_dkg_cert_quorum(size_t t_new, size_t n_new) { return t_new > n_new / 2 ? t_new : n_new / 2 + 1; }

void tkms_dkg_wire_tag(uint8_t out[32], const uint8_t session[32], uint32_t attempt) {
    if (!attempt) {
        memmove(out, session, 32);
        return;
    }
    uint8_t a[4];
    proto_be32(a, attempt);
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, TKMS_TAG_ATTEMPT, TKMS_TAG_LEN(TKMS_TAG_ATTEMPT));
    sha256_update(&c, session, 32);
    sha256_update(&c, a, 4);
    sha256_final(&c, out);
}
