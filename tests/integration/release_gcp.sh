#!/usr/bin/env bash
# Key release on a production (non-dev) 4-node cluster with gcp-cs evidence: a test JWKS in the
# node config (gcp_jwks_file), tokens minted here with a local RSA key (tests/tools/release_req.mjs,
# eat_nonce = hex(B[0:32])). A registered app gets t valid encrypted partials that combine into a key
# verifying under the MPK; a replayed token (same jti), a wrong image digest, a token naming another
# app or project, and insecure-dev evidence (dev_mode_only) get nothing. SIGHUP reloads the JWKS file,
# and gcp_jwks_url is fetched with libcurl (from a local HTTP server).
source "$(dirname "$0")/common.inc"
HELPER="$(cd "$(dirname "$0")/../tools" && pwd)/release_req.mjs"
command -v node >/dev/null || fail "node is needed (apt-get install nodejs)"
P=17660
HP=17679 # JWKS web server
HTTP_PID=
trap 'rc=$?; [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null; (exit $rc); cleanup' EXIT INT TERM
curl_post() { curl -s -o "$4" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$3" "http://127.0.0.1:$1$2"; }
expect_err() { # FILE STATUS GOT CODE [REASON]
  [ "$3" = "$2" ] || fail "HTTP $3, want $2: $(cat "$1")"
  python3 - "$1" "$4" "${5:-}" <<'PY' || fail "error body: $(cat "$1")"
import json,sys
j=json.load(open(sys.argv[1])); e=j["error"]
assert list(j)==["error"] and e["code"]==sys.argv[2] and isinstance(e["message"],str), j
assert not sys.argv[3] or e.get("reason")==sys.argv[3], j
PY
}

W=$WORK/w; mkdir -p "$W"
b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwk() { # KEYFILE KID -> one JWK
  local n; n=$(openssl rsa -in "$1" -noout -modulus 2>/dev/null | cut -d= -f2 | xxd -r -p | b64u)
  printf '{"kty":"RSA","kid":"%s","alg":"RS256","n":"%s","e":"AQAB"}' "$2" "$n"
}
for k in k1 k2 k3; do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/$k.pem" 2>/dev/null; done
echo "{\"keys\":[$(jwk "$W/k1.pem" k1)]}" > "$W/jwks.json"

log "4-node production cluster with a JWKS file"
C=$(cluster_up rg 4 $P --node-config "{\"gcp_jwks_file\": \"$W/jwks.json\", \"release_source_burst\": 1000}")
G=$C/group.json
[ "$(jget "$G" "['dev_mode']")" = False ] || fail "production group file says dev_mode"
MPK=$(mpk_of "$G")

log "register a gcp-cs app"
echo 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 > "$W/owner.key"; chmod 600 "$W/owner.key"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(jget "$W/app.json" "['app_id']"); SALT=$(jget "$W/app.json" "['salt']")
D=sha256:$(printf '%064d' 7)
"$TKMS" app statement --app "$APP" --seq 1 --method gcp-cs --method insecure-dev --image-digest "$D" \
  --gcp-project acme-prod > "$W/st.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st.json" > "$W/s.json"
"$TKMS" app release --statement "$W/s.json" --group "$G" > "$W/rel.out" || fail "release: $(cat "$W/rel.out")"
[ "$(grep -c '"result":"stored"' "$W/rel.out")" = 4 ] || fail "release: $(cat "$W/rel.out")"

NOW=$(date -u +%s)
claims() { # JTI [APP] [DIGEST] [PROJECT]
  cat <<EOF
{"iss":"https://confidentialcomputing.googleapis.com","aud":"tkms","iat":$((NOW - 10)),"nbf":$((NOW - 10)),"exp":$((NOW + 3000)),"jti":"$1","dbgstat":"disabled-since-boot","swname":"CONFIDENTIAL_SPACE","swversion":["250300"],"secboot":true,"hwmodel":"GCP_INTEL_TDX","attester_tcb":["INTEL"],"submods":{"container":{"image_digest":"${3:-$D}","env":{"TKMS_APP_ID":"${2:-$APP}"}},"confidential_space":{"support_attributes":["STABLE"]},"gce":{"project_id":"${4:-acme-prod}"}}}
EOF
}
# mkreq NAME JTI KEY [claims args...]: request NAME.json (state NAME.state) with a fresh token
mkreq() {
  local name=$1 jti=$2 key=$3; shift 3
  claims "$jti" "$@" > "$W/$name.claims"
  node "$HELPER" key --app "$APP" --state "$W/$name.state" --gcp-key "$W/$key.pem" --claims "$W/$name.claims" > "$W/$name.json"
}

log "one token, sent to every node: t valid encrypted partials combine into the app key"
mkreq ok jti-1 k1
parts=()
for i in 1 2 3 4; do
  s=$(curl_post $((P + i)) /v1/keys/app "$W/ok.json" "$W/resp$i")
  [ "$s" = 200 ] || fail "node $i: HTTP $s $(cat "$W/resp$i")"
  parts+=("$(node "$HELPER" open --state "$W/ok.state" --group "$G" --resp "$W/resp$i")") || fail "node $i answer does not open"
done
K=$("$TKMS" tbls combine --t 3 --partial "${parts[0]}" --partial "${parts[2]}" --partial "${parts[3]}")
echo "$K" | "$TKMS" app-key verify --mpk "$MPK" --app "$APP" --key-file - || fail "app key does not verify under the MPK"
K2=$("$TKMS" tbls combine --t 3 --partial "${parts[1]}" --partial "${parts[2]}" --partial "${parts[0]}")
[ "$K" = "$K2" ] || fail "subsets disagree"

log "refusals"
# the same token again (same jti): replay
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/ok.json" "$W/e")" attestation_refused replay
# image digest not in the statement (refused inside the verifier, so its jti is not consumed)
mkreq dg jti-2 k1 "$APP" "sha256:$(printf '%064d' 8)"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/dg.json" "$W/e")" digest_not_allowed
# another deployment's project
mkreq pj jti-3 k1 "$APP" "$D" other-project
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/pj.json" "$W/e")" deployment_not_allowed
# same image, launched for another app: TKMS_APP_ID names it
mkreq oa jti-4 k1 "0x$(printf '%040d' 1)"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/oa.json" "$W/e")" app_not_bound
# a token signed by a key not in the JWKS
mkreq uk jti-5 k2
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/uk.json" "$W/e")" attestation_refused
# insecure-dev evidence on a production cluster
DEVSEED=$(openssl rand -hex 32)
node "$HELPER" key --app "$APP" --state "$W/dev.state" --dev-seed "$DEVSEED" > "$W/dev.json"
for i in 1 2 3 4; do
  expect_err "$W/e" 403 "$(curl_post $((P + i)) /v1/keys/app "$W/dev.json" "$W/e")" dev_mode_only
done
"$TKMS" key fetch --attestation dev --group "$G" --app "$APP" --out "$W/m" 2>"$W/fetch.err" && fail "dev fetch from production"
[ ! -s "$W/m" ] || fail "mnemonic written"
# an unregistered app
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app2.json"
APP2=$(jget "$W/app2.json" "['app_id']")
claims jti-6 "$APP2" > "$W/u.claims"
node "$HELPER" key --app "$APP2" --state "$W/u.state" --gcp-key "$W/k1.pem" --claims "$W/u.claims" > "$W/u.json"
expect_err "$W/e" 404 "$(curl_post $((P + 1)) /v1/keys/app "$W/u.json" "$W/e")" unknown_app
grep -q INSECURE_DEV_EVIDENCE "$C"/node*/tkmsd.log && fail "a production node logged accepted dev evidence"

log "SIGHUP reloads the JWKS file"
# the helper's tokens all say kid k1: a rotated key keeps the kid, only the file changes
echo "{\"keys\":[$(jwk "$W/k3.pem" k1)]}" > "$W/jwks.json"
mkreq r3 jti-7 k3
expect_err "$W/e" 403 "$(curl_post $((P + 2)) /v1/keys/app "$W/r3.json" "$W/e")" attestation_refused
kill -HUP "$(cat "$C/node2/tkmsd.pid")"
jw2() { [ "$(grep -c '"event":"jwks_loaded"' "$C/node2/tkmsd.log")" -ge 2 ]; }
wait_until 5 jw2 || fail "node 2 did not reload its JWKS"
[ "$(curl_post $((P + 2)) /v1/keys/app "$W/r3.json" "$W/e")" = 200 ] || fail "reloaded JWKS not used: $(cat "$W/e")"

log "gcp_jwks_url: fetched with libcurl"
mkdir -p "$W/www"
echo "{\"keys\":[$(jwk "$W/k2.pem" k1)]}" > "$W/www/jwks.json"
python3 -m http.server "$HP" --bind 127.0.0.1 --directory "$W/www" >/dev/null 2>&1 &
HTTP_PID=$!
wait_until 5 curl -sf "http://127.0.0.1:$HP/jwks.json" || fail "web server"
python3 - "$C/node3/config.json" "http://127.0.0.1:$HP/jwks.json" <<'PY'
import json,sys
c=json.load(open(sys.argv[1])); c["gcp_jwks_url"]=sys.argv[2]; json.dump(c,open(sys.argv[1],"w"),indent=2)
PY
kill -HUP "$(cat "$C/node3/tkmsd.pid")"
jr3() { grep -q '"event":"jwks_refreshed"' "$C/node3/tkmsd.log"; }
wait_until 10 jr3 || fail "node 3 did not fetch gcp_jwks_url"
mkreq r2 jti-8 k2
[ "$(curl_post $((P + 3)) /v1/keys/app "$W/r2.json" "$W/e")" = 200 ] || fail "URL JWKS not used: $(cat "$W/e")"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/r2.json" "$W/e")" attestation_refused
kill "$HTTP_PID"; HTTP_PID=
echo "PASS"
