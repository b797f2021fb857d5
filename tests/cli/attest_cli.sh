#!/usr/bin/env bash
# tkms attest verify contract: real TDX/SNP evidence at pinned times (exit 0 accepted, 1 refused
# with the reason on stderr, 2 usage), policy files, bindings, and a gcp-cs token minted here with
# openssl against a test JWKS.
set -euo pipefail
T=${TKMS_BIN:?}
V=${TKMS_VECTORS:?}/attestation
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect CODE CMD...: runs CMD, checks its exit status (stdout in $W/out, stderr in $W/err).
expect() {
  local want=$1; shift
  local got=0
  "$@" >"$W/out" 2>"$W/err" || got=$?
  [ "$got" = "$want" ] || fail "exit $got (want $want): $* -- $(cat "$W/err")"
}
errhas() { grep -q -- "$1" "$W/err" || fail "stderr lacks '$1': $(cat "$W/err")"; }
outhas() { grep -q -- "$1" "$W/out" || fail "stdout lacks '$1'"; }

TDX=(--method tdx --evidence "$V/dcapqvl_tdx_quote" --collateral "$V/dcapqvl_tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z)
OUT=(--method tdx --evidence "$V/dcapqvl_tdx_quote_outdated" --collateral "$V/dcapqvl_tdx_quote_outdated_collateral.json" --at 2026-03-01T00:00:00Z)
SNP=(--method sev-snp --evidence "$V/snp_attestation.bin" --collateral "$V/snp_vcek.der" --at 2024-01-01T00:00:00Z)

# --- help and usage (exit 2) ---
expect 0 "$T" attest --help; outhas usage
expect 0 "$T" attest verify --help; outhas "--binding"
expect 2 "$T" attest
expect 2 "$T" attest bogus
expect 2 "$T" attest verify
expect 2 "$T" attest verify --method tdx
expect 2 "$T" attest verify --method sgx --evidence "$V/dcapqvl_tdx_quote"
expect 2 "$T" attest verify --method tdx --evidence "$V/dcapqvl_tdx_quote"
expect 2 "$T" attest verify "${TDX[@]}" --bogus 1
expect 2 "$T" attest verify "${TDX[@]}" stray
expect 2 "$T" attest verify "${TDX[@]}" --binding 00
expect 2 "$T" attest verify --method tdx --evidence "$V/dcapqvl_tdx_quote" --collateral "$V/dcapqvl_tdx_quote_collateral.json" --at yesterday
expect 2 "$T" attest verify --method tdx --evidence "$W/missing" --collateral "$V/dcapqvl_tdx_quote_collateral.json"
expect 2 "$T" attest verify "${TDX[@]}" --jwks "$V/intel_sgx_root.pem"
expect 2 "$T" attest verify --method insecure-dev --evidence "$V/dcapqvl_tdx_quote"

# --- TDX: the UpToDate quote is accepted, the outdated one refused for its TCB status ---
expect 0 "$T" attest verify "${TDX[@]}"
outhas '"tcb_status": "UpToDate"'
outhas '"genuine": true'
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["method"]=="tdx" and len(d["mrconfigid"])==96 and len(d["rtmr"])==4' "$W/out" || fail "claims JSON"
RD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report_data"])' "$W/out")
expect 0 "$T" attest verify "${TDX[@]}" --binding "$RD"
outhas '"binding_checked": true'
expect 1 "$T" attest verify "${TDX[@]}" --binding "$(printf '%0128d' 0)"
errhas binding_mismatch
expect 1 "$T" attest verify "${OUT[@]}"
errhas tcb_status
expect 1 "$T" attest verify "${TDX[@]/2025-07-01T00:00:00Z/2025-08-01T00:00:00Z}"
errhas crl_invalid
head -c 4000 "$V/dcapqvl_tdx_quote" >"$W/trunc"
expect 1 "$T" attest verify --method tdx --evidence "$W/trunc" --collateral "$V/dcapqvl_tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z
errhas malformed
cp "$V/dcapqvl_tdx_quote" "$W/flip"
printf '\x41' | dd of="$W/flip" bs=1 seek=$((48 + 0x88)) conv=notrunc 2>/dev/null
expect 1 "$T" attest verify --method tdx --evidence "$W/flip" --collateral "$V/dcapqvl_tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z
errhas bad_signature
expect 1 "$T" attest verify --method tdx --evidence "$V/dcapqvl_tdx_quote" --collateral "$V/dcapqvl_tdx_quote_outdated_collateral.json" --at 2026-03-01T00:00:00Z
errhas fmspc_mismatch

# --- policy files ---
"$T" attest verify "${TDX[@]}" >"$W/claims.json" 2>/dev/null
MRTD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mrtd"])' "$W/claims.json")
echo "{\"tdx\":{\"mrtd\":[\"$MRTD\"]}}" >"$W/pol-ok.json"
echo "{\"tdx\":{\"mrtd\":[\"$(printf '%096d' 0)\"]}}" >"$W/pol-bad.json"
expect 0 "$T" attest verify "${TDX[@]}" --policy "$W/pol-ok.json"
expect 1 "$T" attest verify "${TDX[@]}" --policy "$W/pol-bad.json"
errhas measurement_not_allowed
echo '{"tdx":{"nonsense":1}}' >"$W/pol-junk.json"
expect 2 "$T" attest verify "${TDX[@]}" --policy "$W/pol-junk.json"

# --- SEV-SNP: genuine, refused on DEBUG; PEM VCEK too ---
expect 1 "$T" attest verify "${SNP[@]}"
errhas debug_enabled
openssl x509 -inform der -in "$V/snp_vcek.der" -out "$W/vcek.pem"
expect 1 "$T" attest verify --method sev-snp --evidence "$V/snp_attestation.bin" --collateral "$W/vcek.pem" --at 2024-01-01T00:00:00Z
errhas debug_enabled
expect 1 "$T" attest verify "${SNP[@]/2024-01-01T00:00:00Z/2031-01-01T00:00:00Z}"
errhas cert_expired

# --- gcp-cs: an RS256 token minted with openssl and a JWKS for its key ---
b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/k.pem" 2>/dev/null
N=$(openssl rsa -in "$W/k.pem" -noout -modulus 2>/dev/null | cut -d= -f2 | xxd -r -p | b64u)
echo "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\",\"n\":\"$N\",\"e\":\"AQAB\"}]}" >"$W/jwks.json"
NOW=$(date -u +%s)
B=$(printf '%0128x' 0 | sed 's/^0/a/')
NONCE=${B:0:64}
mint() { # mint PAYLOAD -> token on stdout
  local h p s
  h=$(printf '%s' '{"alg":"RS256","kid":"k1","typ":"JWT"}' | b64u)
  p=$(printf '%s' "$1" | b64u)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$W/k.pem" -binary | b64u)
  printf '%s.%s.%s' "$h" "$p" "$s"
}
payload() { # payload DBGSTAT
  cat <<EOF
{"iss":"https://confidentialcomputing.googleapis.com","aud":"tkms","iat":$((NOW - 10)),"nbf":$((NOW - 10)),"exp":$((NOW + 3000)),"jti":"j-$RANDOM","eat_nonce":"$NONCE","dbgstat":"$1","swname":"CONFIDENTIAL_SPACE","swversion":["250300"],"secboot":true,"hwmodel":"GCP_INTEL_TDX","attester_tcb":["INTEL"],"submods":{"container":{"image_digest":"sha256:$(printf '%064d' 7)","env":{"TKMS_APP_ID":"0x$(printf '%040d' 1)"}},"confidential_space":{"support_attributes":["STABLE"]},"gce":{"project_id":"acme"}}}
EOF
}
mint "$(payload disabled-since-boot)" >"$W/tok"
expect 0 "$T" attest verify --method gcp-cs --evidence "$W/tok" --jwks "$W/jwks.json" --binding "$B"
outhas '"project_id": "acme"'
outhas '"app_id": "0x0000000000000000000000000000000000000001"'
expect 1 "$T" attest verify --method gcp-cs --evidence "$W/tok" --jwks "$W/jwks.json" --binding "b$(printf '%0127x' 0)"
errhas binding_mismatch
mint "$(payload enabled)" >"$W/tok-dbg"
expect 1 "$T" attest verify --method gcp-cs --evidence "$W/tok-dbg" --jwks "$W/jwks.json"
errhas debug_enabled
expect 1 "$T" attest verify --method gcp-cs --evidence "$W/tok" --jwks "$W/jwks.json" --at 2020-01-01T00:00:00Z
errhas not_yet_valid
expect 1 "$T" attest verify --method gcp-cs --evidence "$W/tok"
errhas collateral_format

if [ "$fails" -ne 0 ]; then
  echo "attest_cli: $fails failure(s)" >&2
  exit 1
fi
echo "attest_cli: ok"
