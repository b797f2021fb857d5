/* tkms attestation: AMD SEV-SNP attestation report verification (VCEK -> ASK -> pinned ARK, report
 * signature, SPL/hwID match, guest policy, measurements and REPORT_DATA binding). */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "att_util.h"

#define REPORT_LEN 0x4A0
#define SIGNED_LEN 0x2A0

/* VCEK (DER, or PEM optionally followed by an ARK-signed CRL in PEM). */
static tkms_attest_reason parse_vcek(tkms_attest_result *res, X509 **vcek, X509_CRL **crl, const uint8_t *b, size_t n) {
    *vcek = NULL;
    *crl = NULL;
    if (!b || n == 0) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "SEV-SNP needs the VCEK certificate as collateral");
    if (n > ATT_MAX_COLLATERAL) return att_fail(res, TKMS_ATTEST_E_OVERSIZE, "collateral larger than %u bytes", ATT_MAX_COLLATERAL);
    if (b[0] == 0x30) {
        const unsigned char *p = b;
        *vcek = d2i_X509(NULL, &p, (long)n);
        if (!*vcek || p != b + n) {
            X509_free(*vcek);
            *vcek = NULL;
            ERR_clear_error();
            return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "VCEK is not one DER certificate");
        }
        return TKMS_ATTEST_OK;
    }
    STACK_OF(X509) *sk = att_pem_chain(b, n, 1);
    if (!sk) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "VCEK is neither DER nor one PEM certificate");
    *vcek = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    static const char tag[] = "-----BEGIN X509 CRL-----";
    const uint8_t *hit = NULL;
    for (size_t i = 0; i + sizeof tag - 1 <= n && !hit; i++)
        if (memcmp(b + i, tag, sizeof tag - 1) == 0) hit = b + i;
    if (hit) {
        BIO *bio = BIO_new_mem_buf(hit, (int)(n - (size_t)(hit - b)));
        *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        ERR_clear_error();
        if (!*crl) return att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "CRL block does not parse");
    }
    return TKMS_ATTEST_OK;
}

/* Extension 1.3.6.1.4.1.3704.1.<sub> of the VCEK: its raw contents (hwID) or a DER INTEGER. */
static int vcek_ext(X509 *x, const char *sub, att_der *raw) {
    char oid[64];
    snprintf(oid, sizeof oid, "1.3.6.1.4.1.3704.1.%s", sub);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int idx = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (idx < 0) return 0;
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    raw->p = ASN1_STRING_get0_data(os);
    raw->len = (size_t)ASN1_STRING_length(os);
    return 1;
}

static int vcek_spl(X509 *x, const char *sub, uint64_t *v) {
    att_der raw, val;
    uint8_t t;
    if (!vcek_ext(x, sub, &raw) || !att_der_next(&raw, &t, &val) || t != 0x02 || raw.len != 0) return 0;
    return att_der_uint(&val, v) && *v <= 255;
}

/* R and S are 72-byte little-endian fields holding 48-byte values: the high bytes must be zero. */
static int le72_to_be48(uint8_t out[48], const uint8_t *le) {
    for (int i = 48; i < 72; i++)
        if (le[i]) return 0;
    for (int i = 0; i < 48; i++) out[i] = le[47 - i];
    return 1;
}

static tkms_attest_reason check_ask_crl(tkms_attest_result *res, X509_CRL *crl, X509 *ark, X509 *ask, int64_t now) {
    EVP_PKEY *k = X509_get0_pubkey(ark);
    if (!k || X509_CRL_verify(crl, k) != 1) {
        ERR_clear_error();
        return att_fail(res, TKMS_ATTEST_E_CRL, "AMD CRL is not signed by the ARK");
    }
    time_t t = (time_t)now;
    const ASN1_TIME *lu = X509_CRL_get0_lastUpdate(crl), *nu = X509_CRL_get0_nextUpdate(crl);
    if (!lu || X509_cmp_time(lu, &t) > 0 || (nu && X509_cmp_time(nu, &t) < 0))
        return att_fail(res, TKMS_ATTEST_E_CRL, "AMD CRL outside its validity window");
    X509_REVOKED *rv = NULL;
    if (X509_CRL_get0_by_serial(crl, &rv, X509_get0_serialNumber(ask)) == 1)
        return att_fail(res, TKMS_ATTEST_E_REVOKED, "ASK is revoked by the ARK's CRL");
    return TKMS_ATTEST_OK;
}

tkms_attest_reason att_verify_snp(tkms_attest_result *res, const tkms_attest_request *req, const tkms_attest_policy *pol) {
    const uint8_t *b = req->evidence;
    size_t n = req->evidence_len;
    tkms_attest_claims *c = &res->claims;
    X509 *vcek = NULL;
    X509_CRL *crl = NULL;
    STACK_OF(X509) *inter = NULL;
    tkms_attest_reason r;
    char detail[160];

    if (n != REPORT_LEN) return att_fail(res, TKMS_ATTEST_E_MALFORMED, "report is %zu bytes (want %u)", n, REPORT_LEN);
    c->snp_version = att_le32(b);
    if (c->snp_version < 2 || c->snp_version > 5)
        return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "report version %u (want 2-5)", c->snp_version);
    if (att_le32(b + 0x34) != 1) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "SIG_ALGO %u (want 1, ECDSA P-384/SHA-384)", att_le32(b + 0x34));
    uint32_t signer = att_le32(b + 0x48);
    if (((signer >> 2) & 7) != 0) return att_fail(res, TKMS_ATTEST_E_UNSUPPORTED, "report not signed by a VCEK (signing key %u)", (signer >> 2) & 7);
    c->guest_svn = att_le32(b + 4);
    c->snp_policy = att_le64(b + 8);
    c->vmpl = att_le32(b + 0x30);
    c->platform_info = att_le64(b + 0x40);
    memcpy(c->report_data, b + 0x50, 64);
    memcpy(c->measurement, b + 0x90, 48);
    memcpy(c->host_data, b + 0xC0, 32);
    memcpy(c->id_key_digest, b + 0xE0, 48);
    memcpy(c->author_key_digest, b + 0x110, 48);
    c->reported_tcb = att_le64(b + 0x180);
    memcpy(c->chip_id, b + 0x1A0, 64);
    c->debug = (int)((c->snp_policy >> 19) & 1);

    if ((r = parse_vcek(res, &vcek, &crl, req->collateral, req->collateral_len)) != TKMS_ATTEST_OK) goto out;

    /* The VCEK's issuer names the product; its ASK and ARK come from the pinned anchors only. */
    char issuer[64] = "";
    X509_NAME_get_text_by_NID(X509_get_issuer_name(vcek), NID_commonName, issuer, sizeof issuer);
    att_amd_product prod = ATT_AMD_N;
    for (int i = 0; i < ATT_AMD_N; i++) {
        char want[32];
        snprintf(want, sizeof want, "SEV-%s", att_amd_product_name((att_amd_product)i));
        if (strcmp(issuer, want) == 0) prod = (att_amd_product)i;
    }
    if (prod == ATT_AMD_N) {
        r = att_fail(res, TKMS_ATTEST_E_UNTRUSTED_ROOT, "VCEK issuer '%s' is not a known AMD ASK", issuer);
        goto out;
    }
    snprintf(c->snp_product, sizeof c->snp_product, "%s", att_amd_product_name(prod));
    X509 *ark = att_anchor_amd_ark(prod), *ask = att_anchor_amd_ask(prod);
    if (!ark || !ask) {
        r = att_fail(res, TKMS_ATTEST_E_UNTRUSTED_ROOT, "pinned AMD %s ARK unavailable", c->snp_product);
        goto out;
    }
    inter = sk_X509_new_null();
    if (!inter || !sk_X509_push(inter, ask)) {
        r = att_fail(res, TKMS_ATTEST_E_INTERNAL, "out of memory");
        goto out;
    }
    if ((r = att_verify_chain(detail, sizeof detail, ark, vcek, inter, NULL, req->now)) != TKMS_ATTEST_OK) {
        att_fail(res, r, "VCEK chain to ARK-%s: %s", c->snp_product, detail);
        goto out;
    }
    if (crl && (r = check_ask_crl(res, crl, ark, ask, req->now)) != TKMS_ATTEST_OK) goto out;

    /* Report signature by the VCEK */
    uint8_t rr[48], ss[48];
    EVP_PKEY *vk = X509_get0_pubkey(vcek);
    if (!le72_to_be48(rr, b + SIGNED_LEN) || !le72_to_be48(ss, b + SIGNED_LEN + 72)) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "signature R/S exceed 48 bytes");
        goto out;
    }
    if (!vk || EVP_PKEY_get_base_id(vk) != EVP_PKEY_EC || EVP_PKEY_get_bits(vk) != 384) {
        r = att_fail(res, TKMS_ATTEST_E_CHAIN, "VCEK key is not P-384");
        goto out;
    }
    if (!att_ecdsa_verify_rs(vk, EVP_sha384(), b, SIGNED_LEN, rr, ss, 48)) {
        r = att_fail(res, TKMS_ATTEST_E_SIGNATURE, "report signature does not verify with the VCEK");
        goto out;
    }

    /* The VCEK is issued for one chip at one TCB: its extensions must match the report. */
    {
        const uint8_t *t = b + 0x180;
        uint64_t bl, tee, snp, uc, fmc;
        int turin = prod == ATT_AMD_TURIN;
        if (!vcek_spl(vcek, "3.1", &bl) || !vcek_spl(vcek, "3.2", &tee) || !vcek_spl(vcek, "3.3", &snp) ||
            !vcek_spl(vcek, "3.8", &uc)) {
            r = att_fail(res, TKMS_ATTEST_E_COLLATERAL_FORMAT, "VCEK lacks its SPL extensions");
            goto out;
        }
        int ok = turin ? (t[1] == bl && t[2] == tee && t[3] == snp && t[7] == uc) : (t[0] == bl && t[1] == tee && t[6] == snp && t[7] == uc);
        if (turin && vcek_spl(vcek, "3.9", &fmc)) ok &= t[0] == fmc;
        if (!ok) {
            r = att_fail(res, TKMS_ATTEST_E_TCB_MISMATCH, "REPORTED_TCB 0x%016llx differs from the VCEK's SPLs", (unsigned long long)c->reported_tcb);
            goto out;
        }
        att_der hw;
        size_t hwlen = turin ? 8 : 64;
        if (!(signer & 2)) { /* MASK_CHIP_ID: the chip id is zeroed, nothing to compare */
            if (!vcek_ext(vcek, "4", &hw) || hw.len != hwlen || memcmp(hw.p, b + 0x1A0, hwlen) != 0) {
                r = att_fail(res, TKMS_ATTEST_E_CHIP_ID_MISMATCH, "CHIP_ID differs from the VCEK's hwID");
                goto out;
            }
        }
    }
    c->genuine = 1;

    /* Guest policy */
    if (c->debug) {
        r = att_fail(res, TKMS_ATTEST_E_DEBUG, "guest POLICY.DEBUG is set (policy 0x%llx)", (unsigned long long)c->snp_policy);
        goto out;
    }
    if ((c->snp_policy >> 18) & 1) {
        r = att_fail(res, TKMS_ATTEST_E_GUEST_POLICY, "guest POLICY allows a migration agent");
        goto out;
    }
    if (!((c->snp_policy >> 17) & 1)) {
        r = att_fail(res, TKMS_ATTEST_E_GUEST_POLICY, "guest POLICY bit 17 (reserved, must be 1) is clear");
        goto out;
    }
    if (c->vmpl > pol->snp_max_vmpl) {
        r = att_fail(res, TKMS_ATTEST_E_VMPL, "VMPL %u above the allowed %u", c->vmpl, pol->snp_max_vmpl);
        goto out;
    }
    if (pol->snp_min_tcb_set) {
        const uint8_t *t = b + 0x180;
        uint8_t got[4];
        if (prod == ATT_AMD_TURIN) {
            got[0] = t[1], got[1] = t[2], got[2] = t[3], got[3] = t[7];
        } else {
            got[0] = t[0], got[1] = t[1], got[2] = t[6], got[3] = t[7];
        }
        for (int i = 0; i < 4; i++)
            if (got[i] < pol->snp_min_tcb[i]) {
                r = att_fail(res, TKMS_ATTEST_E_TCB_STATUS, "REPORTED_TCB below the policy minimum");
                goto out;
            }
    }
    if (pol->snp_measurement.n && !att_allowed(&pol->snp_measurement, c->measurement, 48)) {
        r = att_fail(res, TKMS_ATTEST_E_MEASUREMENT, "MEASUREMENT not in the allow-list");
        goto out;
    }
    if (pol->snp_host_data.n && !att_allowed(&pol->snp_host_data, c->host_data, 32)) {
        r = att_fail(res, TKMS_ATTEST_E_MEASUREMENT, "HOST_DATA not in the allow-list");
        goto out;
    }
    if (req->binding) {
        if (CRYPTO_memcmp(c->report_data, req->binding, 64) != 0) {
            r = att_fail(res, TKMS_ATTEST_E_BINDING, "REPORT_DATA differs from the binding B");
            goto out;
        }
        c->binding_checked = 1;
    }
    r = TKMS_ATTEST_OK;
out:
    sk_X509_free(inter);
    X509_free(vcek);
    X509_CRL_free(crl);
    return r;
}
