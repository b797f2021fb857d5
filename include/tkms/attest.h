/* tkms attestation verifiers: Intel TDX (DCAP), AMD SEV-SNP, Google Confidential Space and the
 * insecure-dev method behind one call that returns normalised claims or a specific reason. */
#ifndef TKMS_ATTEST_H
#define TKMS_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif


typedef enum {
    TKMS_ATTEST_TDX = 1,      /* Intel TDX DCAP quote v4/v5 + collateral bundle (JSON) */
    TKMS_ATTEST_SEV_SNP,      /* AMD SEV-SNP report + VCEK certificate (DER or PEM) */
    TKMS_ATTEST_GCP_CS,       /* Confidential Space token: OIDC (JWKS) or PKI (x5c) */
    TKMS_ATTEST_INSECURE_DEV  /* dev-key statement; dev clusters only (docs/attestation.md) */
} tkms_attest_method;

/* Why evidence was refused. The names (tkms_attest_reason_name) are a stable contract: they are
 * printed by `tkms attest verify`, written to audit logs and returned to clients as error codes.
 * Append only. */
typedef enum {
    TKMS_ATTEST_OK = 0,
    TKMS_ATTEST_E_ARGUMENT,           /* programming error: NULL, missing binding or replay cache */
    TKMS_ATTEST_E_POLICY_FORMAT,      /* the policy document is malformed */
    TKMS_ATTEST_E_MALFORMED,          /* evidence does not parse (length, field, encoding) */
    TKMS_ATTEST_E_OVERSIZE,           /* evidence or collateral larger than the fixed bound */
    TKMS_ATTEST_E_UNSUPPORTED,        /* version, key type, TEE type or algorithm not supported */
    TKMS_ATTEST_E_COLLATERAL_FORMAT,  /* collateral bundle, certificate or JWKS malformed/missing */
    TKMS_ATTEST_E_UNTRUSTED_ROOT,     /* chain does not end at the pinned root */
    TKMS_ATTEST_E_CHAIN,              /* certificate chain invalid (signature, CA flags, issuer) */
    TKMS_ATTEST_E_CERT_EXPIRED,       /* a certificate is outside its validity window at `now` */
    TKMS_ATTEST_E_REVOKED,            /* a certificate is listed on its issuer's CRL */
    TKMS_ATTEST_E_CRL,                /* a CRL is missing, badly signed or outside its window */
    TKMS_ATTEST_E_COLLATERAL_SIGNATURE, /* TCB info / QE identity signature or signing chain */
    TKMS_ATTEST_E_COLLATERAL_EXPIRED, /* TCB info / QE identity outside issueDate..nextUpdate */
    TKMS_ATTEST_E_QE_REPORT_SIGNATURE,/* QE report not signed by the PCK key */
    TKMS_ATTEST_E_QE_BINDING,         /* QE REPORTDATA != SHA-256(att key || auth data) || 0^32 */
    TKMS_ATTEST_E_QE_IDENTITY,        /* QE MRSIGNER/ISVPRODID/MISCSELECT/ATTRIBUTES mismatch */
    TKMS_ATTEST_E_SIGNATURE,          /* quote/report/token signature does not verify */
    TKMS_ATTEST_E_FMSPC_MISMATCH,     /* PCK FMSPC or PCEID differs from the TCB info's */
    TKMS_ATTEST_E_TDX_MODULE,         /* MRSIGNERSEAM / SEAMATTRIBUTES / module identity mismatch */
    TKMS_ATTEST_E_TCB_UNKNOWN,        /* no TCB level matches the platform */
    TKMS_ATTEST_E_TCB_STATUS,         /* TCB status not allowed by policy (OutOfDate, Revoked, ...) */
    TKMS_ATTEST_E_TCB_MISMATCH,       /* SNP REPORTED_TCB differs from the VCEK's SPL extensions */
    TKMS_ATTEST_E_CHIP_ID_MISMATCH,   /* SNP CHIP_ID differs from the VCEK's hwID */
    TKMS_ATTEST_E_DEBUG,              /* debug enabled (TD DEBUG, SNP POLICY.DEBUG, dbgstat) */
    TKMS_ATTEST_E_TD_ATTRIBUTES,      /* TD attributes / XFAM not allowed (SEPT_VE_DISABLE, ...) */
    TKMS_ATTEST_E_GUEST_POLICY,       /* SNP POLICY: migration agent, reserved bit, ... */
    TKMS_ATTEST_E_VMPL,               /* SNP VMPL above the policy maximum */
    TKMS_ATTEST_E_MEASUREMENT,        /* MRTD/RTMR/MRCONFIGID/MEASUREMENT/HOST_DATA not allowed */
    TKMS_ATTEST_E_BINDING,            /* REPORTDATA / REPORT_DATA / eat_nonce / dev binding != B */
    TKMS_ATTEST_E_JWT_FORMAT,         /* not three strict base64url parts, or JSON malformed */
    TKMS_ATTEST_E_JWT_ALG,            /* alg other than RS256, crit header, bad key type */
    TKMS_ATTEST_E_JWT_KID,            /* kid missing or not in the JWKS */
    TKMS_ATTEST_E_ISSUER,             /* iss differs from the expected issuer */
    TKMS_ATTEST_E_AUDIENCE,           /* aud missing, not the expected value, or several */
    TKMS_ATTEST_E_EXPIRED,            /* exp passed (with skew) */
    TKMS_ATTEST_E_NOT_YET_VALID,      /* nbf or iat in the future (with skew) */
    TKMS_ATTEST_E_TOO_OLD,            /* iat older than the policy's maximum age */
    TKMS_ATTEST_E_SWNAME,             /* swname is not CONFIDENTIAL_SPACE */
    TKMS_ATTEST_E_HWMODEL,            /* hwmodel not allowed */
    TKMS_ATTEST_E_ATTESTER_TCB,       /* attester_tcb lacks a required vendor */
    TKMS_ATTEST_E_SECBOOT,            /* secboot is not true */
    TKMS_ATTEST_E_SUPPORT_ATTRIBUTES, /* required support attribute (STABLE) absent */
    TKMS_ATTEST_E_SWVERSION,          /* swversion below the policy floor */
    TKMS_ATTEST_E_IMAGE_DIGEST,       /* submods.container.image_digest missing/malformed/not allowed */
    TKMS_ATTEST_E_DEPLOYMENT,         /* project / service account not allowed */
    TKMS_ATTEST_E_REPLAY,             /* jti already seen */
    TKMS_ATTEST_E_REPLAY_FULL,        /* replay cache full of unexpired entries: fail closed */
    TKMS_ATTEST_E_DEV_MODE,           /* insecure-dev evidence offered to a production cluster */
    TKMS_ATTEST_E_DEV_KEY,            /* insecure-dev key not in the policy's list */
    TKMS_ATTEST_E_INTERNAL            /* OpenSSL/allocation failure */
} tkms_attest_reason;

/* Stable snake_case name of a reason ("ok", "tcb_status", ...). Never NULL. */
const char *tkms_attest_reason_name(tkms_attest_reason r);
/* "tdx", "sev-snp", "gcp-cs", "insecure-dev"; 0 if the name is unknown. */
tkms_attest_method tkms_attest_method_from_name(const char *name);
const char *tkms_attest_method_name(tkms_attest_method m);

/* ---- policy ---- */

#define TKMS_ATTEST_MAX_ALLOW 16

/* TCB status bits (TDX). Revoked is never accepted whatever the policy says. */
enum {
    TKMS_TCB_UP_TO_DATE = 1u << 0,
    TKMS_TCB_SW_HARDENING_NEEDED = 1u << 1,
    TKMS_TCB_CONFIGURATION_NEEDED = 1u << 2,
    TKMS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED = 1u << 3,
    TKMS_TCB_OUT_OF_DATE = 1u << 4,
    TKMS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED = 1u << 5
};

/* An allow-list of fixed-size values; n == 0 means "not checked". */
typedef struct {
    size_t n;
    uint8_t v[TKMS_ATTEST_MAX_ALLOW][64];
} tkms_attest_allow;

typedef struct {
    size_t n;
    char v[TKMS_ATTEST_MAX_ALLOW][160];
} tkms_attest_strlist;

/* What is accepted beyond genuineness. tkms_attest_policy_default fills the default policy:
 * TCB UpToDate only, debug off, SEPT_VE_DISABLE required, VMPL 0, Confidential Space production
 * image (STABLE, dbgstat disabled, secure boot, GCP_INTEL_TDX with INTEL attester), audience
 * "tkms", no workload measurement allow-lists. The JSON form is in docs/attestation.md. */
typedef struct {
    uint32_t tcb_status_allowed;          /* TKMS_TCB_* bits */
    /* tdx */
    int tdx_require_sept_ve_disable;
    tkms_attest_allow tdx_mrtd, tdx_rtmr[4], tdx_mrconfigid; /* 48-byte values */
    int tdx_xfam_set;
    uint64_t tdx_xfam;                    /* exact XFAM when tdx_xfam_set */
    /* sev-snp */
    uint32_t snp_max_vmpl;
    tkms_attest_allow snp_measurement;    /* 48-byte values */
    tkms_attest_allow snp_host_data;      /* 32-byte values */
    int snp_min_tcb_set;
    uint8_t snp_min_tcb[4];               /* bootloader, tee, snp, microcode */
    /* gcp-cs */
    char gcp_issuer[160];
    char gcp_audience[160];
    tkms_attest_strlist gcp_hwmodel;      /* allowed hwmodel values */
    tkms_attest_strlist gcp_attester_tcb; /* each must appear in attester_tcb */
    char gcp_support_attribute[32];       /* required, e.g. STABLE */
    uint32_t gcp_swversion_min;
    tkms_attest_strlist gcp_image_digest; /* "sha256:<hex>" */
    tkms_attest_strlist gcp_project_id;
    tkms_attest_strlist gcp_service_account;
    int64_t gcp_skew;                     /* seconds of clock skew tolerated on exp/nbf/iat */
    int64_t gcp_max_age;                  /* maximum now - iat, seconds */
    /* insecure-dev */
    tkms_attest_allow dev_keys;           /* 32-byte Ed25519 keys; empty = any key (dev only) */
} tkms_attest_policy;

void tkms_attest_policy_default(tkms_attest_policy *p);
/* Parses the JSON policy (unknown or duplicate keys refused) over the default policy. Returns
 * TKMS_ATTEST_OK or TKMS_ATTEST_E_POLICY_FORMAT with a message in err (errlen bytes). */
TKMS_WUR tkms_attest_reason tkms_attest_policy_parse(tkms_attest_policy *p, char *err, size_t errlen,
                                                            const char *json, size_t json_len);

/* ---- replay cache (gcp-cs jti) ---- */

/* Bounded set of (issuer, jti) digests with their expiry; thread-safe. When full of unexpired
 * entries a new token is refused (TKMS_ATTEST_E_REPLAY_FULL): failing closed beats forgetting. */
typedef struct tkms_attest_replay tkms_attest_replay;
tkms_attest_replay *tkms_attest_replay_new(size_t capacity);
void tkms_attest_replay_free(tkms_attest_replay *rc);
void tkms_attest_replay_clear(tkms_attest_replay *rc);

/* ---- claims ---- */

typedef struct {
    tkms_attest_method method;
    int genuine;       /* every signature, chain, CRL and collateral check passed */
    int insecure;      /* insecure-dev evidence: the caller must log this loudly */
    int binding_checked;
    char tcb_status[48];
    int debug;
    /* tdx */
    int tdx_version;
    uint8_t tee_tcb_svn[16], mrseam[48], mrsignerseam[48], seam_attributes[8], td_attributes[8], xfam[8];
    uint8_t mrtd[48], mrconfigid[48], mrowner[48], mrownerconfig[48], rtmr[4][48], report_data[64];
    uint8_t fmspc[6], pceid[2];
    uint16_t qe_isvsvn, pcesvn;
    /* sev-snp */
    uint32_t snp_version, vmpl, guest_svn;
    uint64_t snp_policy, reported_tcb, platform_info;
    uint8_t measurement[48], host_data[32], chip_id[64], id_key_digest[48], author_key_digest[48];
    char snp_product[16];
    /* gcp-cs (and insecure-dev app id) */
    int gcp_pki;       /* token came with an x5c chain (PKI variant) */
    char iss[160], aud[160], sub[256], jti[128], hwmodel[40], swname[40], dbgstat[40];
    char image_digest[80], image_reference[256], app_id[48], project_id[64], project_number[32];
    char instance_name[64], zone[64], eat_nonce[96];
    uint32_t swversion;
    int64_t iat, nbf, exp;
    tkms_attest_strlist service_accounts;
    tkms_attest_strlist support_attributes;
    uint8_t dev_key[32];
} tkms_attest_claims;

/* ---- verify ---- */

enum {
    TKMS_ATTEST_F_DEV_MODE = 1u << 0,   /* the cluster was created in dev mode (group file) */
    TKMS_ATTEST_F_NO_BINDING = 1u << 1  /* binding may be NULL: skip the B check (CLI inspection) */
};

typedef struct {
    tkms_attest_method method;
    const uint8_t *evidence;
    size_t evidence_len;
    /* TDX: collateral bundle JSON; SEV-SNP: VCEK (DER or PEM, optionally followed by an ARK-signed
     * CRL in PEM); gcp-cs: JWKS JSON (unused for PKI tokens); insecure-dev: unused. */
    const uint8_t *collateral;
    size_t collateral_len;
    const uint8_t *binding;             /* B, 64 bytes (DESIGN.md §2); NULL only with F_NO_BINDING */
    int64_t now;                        /* unix seconds; the verifier never reads the clock */
    const tkms_attest_policy *policy;   /* NULL: the default policy */
    tkms_attest_replay *replay;         /* required for gcp-cs */
    uint32_t flags;
} tkms_attest_request;

typedef struct {
    tkms_attest_reason reason;
    char message[256];                  /* human detail; no secrets */
    tkms_attest_claims claims;          /* filled as far as verification got */
} tkms_attest_result;

/* Verifies one piece of evidence. Returns res->reason (TKMS_ATTEST_OK when accepted). No network,
 * no clock, no global state other than the replay cache passed in. Thread-safe. */
TKMS_WUR tkms_attest_reason tkms_attest_verify(tkms_attest_result *res, const tkms_attest_request *req);

/* The claims as a JSON object (malloc'd, NUL-terminated; free with free()). NULL on OOM. */
char *tkms_attest_claims_json(const tkms_attest_claims *c);

/* B = SHA-512("TKMS-V1-ATTEST" || lp(app_id) || lp(recipient_x25519) || lp(nonce)) (DESIGN.md §2),
 * the value TDX REPORTDATA / SNP REPORT_DATA carry and whose first half is the eat_nonce. Returns 1. */
TKMS_WUR int tkms_attest_binding(uint8_t out[64], const uint8_t app_id[20], const uint8_t recipient_x25519[32],
                                        const uint8_t *nonce, size_t nonce_len);

/* Parses RFC 3339 ("2025-07-01T00:00:00Z", offsets and fractions accepted) to unix seconds.
 * Returns 1 on success. */
TKMS_WUR int tkms_attest_parse_time(int64_t *out, const char *s);

#ifdef __cplusplus
}
#endif

#endif
