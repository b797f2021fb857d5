/* TKMS-V1: every domain tag, DST, HKDF label and at-rest AAD of the protocol, in one place
 * (../shared/DESIGN.md §2, docs/). Nothing else in src/ spells a tag: a reviewer checks domain
 * separation on this one screen. The header has no dependencies, so every layer (core included) may
 * use it; the byte layouts built from these tags live in proto.h.
 *
 * Rules: a tag is used for exactly one purpose; no tag is a prefix of another one used with the same
 * primitive and key, except where the next field is fixed-length or length-prefixed (noted). Lengths
 * are never counted by hand: TKMS_TAG_LEN(tag). Constants fixed by other specifications (BIP-39's
 * "mnemonic", drand's and RFC 9380's BLS_SIG_ ciphersuites, HPKE's labels) stay with their code. */
#ifndef TKMS_PROTO_TAGS_H
#define TKMS_PROTO_TAGS_H

/* Length of a tag literal without its NUL. */
#define TKMS_TAG_LEN(tag) (sizeof("" tag) - 1)

/* ---- BLS hash-to-curve DSTs (RFC 9380 format; core/appkey.c, release, client, cli) ---- */
/* partial and combined app keys: H(app_id) in G1 */
#define TKMS_DST_APP_KEY "TKMS-V1-APP-KEY_BLS12381G1_XMD:SHA-256_SSWU_RO_"
/* threshold signatures for an attested app (POST /v1/sign/app), over TKMS_TAG_APP_MSG || ... */
#define TKMS_DST_APP_SIGN "TKMS-V1-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
/* cluster (operator) signatures, only with the own operator's approval (POST /v1/sign) */
#define TKMS_DST_CLUSTER_SIGN "TKMS-V1-CLUSTER-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
/* the app-signed message: TKMS_TAG_APP_MSG || app_id(20) || be32(len) || msg */
#define TKMS_TAG_APP_MSG "TKMS-V1-APP-MSG"
/* `tkms bls selftest` only: a DST no protocol message uses */
#define TKMS_DST_SELFTEST "TKMS-SELFTEST"

/* ---- threshold dealing (core/tbls.c) ---- */
/* HKDF salt of the dealing coefficients a_k */
#define TKMS_TAG_TBLS_DEAL "TKMS-V1-TBLS-DEAL"
/* Fiat-Shamir seed of the batch-verification coefficients */
#define TKMS_TAG_TBLS_BATCH "TKMS-V1-TBLS-BATCH"

/* ---- operator identity (dkg/identity.c): HKDF salt; info "ed25519" / "x25519" ---- */
#define TKMS_TAG_ID "TKMS-V1-ID"
#define TKMS_INFO_ID_SIGN "ed25519"
#define TKMS_INFO_ID_KEM "x25519"

/* ---- DKG and reshare engine (dkg/engine_*.c, docs/dkg.md) ---- */
/* session ID = SHA-256(tag || be64(epoch) || prev group ID || members || t_new || t_old) */
#define TKMS_TAG_SESSION "TKMS-V1-SESSION"
/* wire tag of attempt a > 0 = SHA-256(tag || session || be32(a)) */
#define TKMS_TAG_ATTEMPT "TKMS-V1-ATTEMPT"
/* transcript hash = SHA-256(tag || session || QUAL || public polynomial) */
#define TKMS_TAG_TRANSCRIPT "TKMS-V1-TRANSCRIPT"
/* certificate message = tag || session(32) || transcript hash(32), signed with Ed25519 */
#define TKMS_TAG_GROUP_CERT "TKMS-V1-GROUP-CERT"
/* Ed25519 signatures on engine messages: tag || fixed-layout header and body */
#define TKMS_TAG_DKG_SIG "TKMS-V1-DKG-SIG"
/* HPKE AAD prefix of an encrypted share: tag || session || dealer || receiver (fixed length) */
#define TKMS_TAG_DKG_SHARE "TKMS-V1-DKG-SHARE"
/* HPKE info of an encrypted share */
#define TKMS_INFO_DKG_SHARE "tkms/v1/dkg-share"
/* the dealing seed bound to the session: SHA-256(tag || wire tag || driver seed) */
#define TKMS_TAG_DKG_DEAL_SEED "TKMS-V1-DKG-DEAL-SEED"
/* HKDF salt of a fresh DKG secret from the dealing seed */
#define TKMS_TAG_DKG_SECRET "TKMS-V1-DKG-SECRET"
/* HKDF salt and info prefix of the HPKE ephemeral key material per receiver */
#define TKMS_TAG_DKG_HPKE_IKM "TKMS-V1-DKG-HPKE-IKM"

/* ---- files and statements ---- */
/* "version" of a certified group file (dkg/group.c) */
#define TKMS_TAG_GROUP_FILE "TKMS-V1-GROUP"
/* "version" of a genesis file (`tkms cluster`) */
#define TKMS_TAG_GENESIS_FILE "TKMS-V1-GENESIS"
/* committee proposals: Ed25519 over tag || SHA-256(canonical JSON) (node/proposal.c) */
#define TKMS_TAG_COMMITTEE_PROPOSAL "TKMS-V1-COMMITTEE-PROPOSAL"
/* on-chain committee (contracts/TkmsCommittee.sol, docs/chain.md): a member's Ed25519 binding signs
 * tag || be64(chain id) || operator(20) || ed25519(32) || x25519(32) || endpoint (last, variable);
 * a proposal ID is keccak256(abi.encode(keccak256(tag), chain id, contract, epoch, t, override,
 * members hash)). Spelled in the contract too: change both or neither. */
#define TKMS_TAG_CHAIN_MEMBER "TKMS-V1-CHAIN-MEMBER"
#define TKMS_TAG_CHAIN_PROPOSAL "TKMS-V1-CHAIN-PROPOSAL"
/* peer and admin request envelopes: Ed25519 over SHA-512(tag || lp(dest) || lp(method) || lp(path)
 * || be64(ts_ms) || lp(body)) (node/keys.c, docs/operator.md §4) */
#define TKMS_TAG_ENVELOPE "TKMS-V1-ENVELOPE2"

/* ---- apps and key release (release/, client/, attest/) ---- */
/* app_id = last20(keccak256(tag || owner(20) || salt(32))) */
#define TKMS_TAG_APP_ID "TKMS-V1-APP"
/* anti-entropy bucket digest = SHA-256(tag || (app_id || be64(seq))*) */
#define TKMS_TAG_APPS_BUCKET "TKMS-V1-APPS-BUCKET"
/* binding B = SHA-512(tag || lp(app_id) || lp(recipient) || lp(nonce)), in the TEE's report data */
#define TKMS_TAG_ATTEST "TKMS-V1-ATTEST"
/* nonce' = SHA-256(tag || lp(msg) || nonce) ties sign/app evidence to the message */
#define TKMS_TAG_SIGN_APP "TKMS-V1-SIGN-APP"
/* a node's signature on a key response (transcript in proto.h) */
#define TKMS_TAG_KEY_RESPONSE "TKMS-V1-KEY-RESPONSE"
/* a node's signature on a sign/app response */
#define TKMS_TAG_SIGN_RESPONSE "TKMS-V1-SIGN-RESPONSE"
/* HPKE info of an encrypted partial app key */
#define TKMS_INFO_PARTIAL_KEY "tkms/v1/partial-key"
/* insecure-dev evidence: Ed25519 over tag || binding B (attest/dev.c, client/evidence.c) */
#define TKMS_TAG_INSECURE_DEV "TKMS-V1-INSECURE-DEV"

/* ---- keys derived by the app (wallet/, seal/): HKDF salt; the info names the use ---- */
#define TKMS_SALT_V1 "TKMS-V1"
#define TKMS_INFO_BIP39_ENTROPY "bip39-entropy" /* the mnemonic's entropy from the app key */
#define TKMS_INFO_DATA_KEY "data"               /* lp("data") || lp(label) */
#define TKMS_INFO_TLS_KEY "tls"                 /* lp("tls") || ... */
#define TKMS_INFO_DATA_FILE "data-file"         /* "data-file" || file header */
#define TKMS_INFO_SEALED "sealed-payload"       /* sealed-secret payload key */
/* sealed secret header magic */
#define TKMS_TAG_SEALED "TKMS-SEALED-V1"

/* ---- AAD of secrets at rest in a node's store (node/store.c); printf formats ---- */
#define TKMS_AAD_IDENTITY_FMT "tkms/v1/identity/%s"     /* node identity; %s = hex of the public key hash */
#define TKMS_AAD_SHARE_FMT "tkms/v1/share/%llu/%u"       /* share of epoch %llu, member index %u */
#define TKMS_AAD_PENDING_FMT "tkms/v1/pending/%llu/%s/%u" /* uncertified share: epoch, transcript hash, index */
#define TKMS_AAD_SESSION_FMT "tkms/v1/session/%s"        /* engine checkpoint; %s = hex of the session ID */

#endif
