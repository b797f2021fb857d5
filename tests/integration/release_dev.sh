#!/usr/bin/env bash
# Key release end to end on a 4-node --dev cluster (insecure-dev evidence): `tkms app create/
# statement/sign/release` registers an app on every node, including by anti-entropy on a node that
# was down during the release; `tkms key fetch` gets the mnemonic, equal to the one from partials
# fetched with curl, opened independently (tests/tools/release_req.mjs) and combined with `tkms tbls
# combine`, and the app key verifies under the MPK; an unregistered app, a stale or forged statement,
# replayed evidence and missing evidence get nothing, with the §3 error codes; POST /v1/sign/app
# partials combine into a signature on the app message that verifies under the MPK; /v1/sign cannot
# produce app keys.
source "$(dirname "$0")/common.inc"
HELPER="$(cd "$(dirname "$0")/../tools" && pwd)/release_req.mjs"
command -v node >/dev/null || fail "node is needed (apt-get install nodejs)"
P=17640
# curl_post PORT PATH BODYFILE OUT -> HTTP status on stdout, body in OUT
curl_post() { curl -s -o "$4" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$3" "http://127.0.0.1:$1$2"; }
# expect_err FILE STATUS GOT CODE: §3 shape {"error":{"code","message"[,"reason"]}} with that code
expect_err() {
  [ "$3" = "$2" ] || fail "HTTP $3, want $2: $(cat "$1")"
  python3 - "$1" "$4" <<'PY' || fail "error body: $(cat "$1")"
import json,sys
j=json.load(open(sys.argv[1])); e=j["error"]
assert list(j)==["error"] and set(e)-{"reason"}=={"code","message"} and e["code"]==sys.argv[2], j
PY
}

log "4-node --dev cluster"
C=$(cluster_up rd 4 $P --dev --node-config '{"release_source_burst": 1000}')
G=$C/group.json
[ "$(jget "$G" "['dev_mode']")" = True ] || fail "group file is not dev_mode"
MPK=$(mpk_of "$G")
grep -q '"evidence":"insecure-dev ACCEPTED' "$C/node1/tkmsd.log" || fail "dev mode not logged at start"

log "register an app while node 4 is down"
W=$WORK/w; mkdir -p "$W"
echo 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 > "$W/owner.key"; chmod 600 "$W/owner.key"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(jget "$W/app.json" "['app_id']"); SALT=$(jget "$W/app.json" "['salt']")
"$TKMS" app statement --app "$APP" --seq 1 --method insecure-dev > "$W/st1.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st1.json" > "$W/s1.json"
"$TKMS" cluster kill 4 --dir "$C" 2>/dev/null
"$TKMS" app release --statement "$W/s1.json" --group "$G" --timeout 2 > "$W/rel.out" || fail "release: $(cat "$W/rel.out")"
[ "$(grep -c '"result":"stored"' "$W/rel.out")" = 3 ] || fail "release: $(cat "$W/rel.out")"
grep -q '"result":"unreachable"' "$W/rel.out" || fail "node 4 not reported unreachable"
for i in 1 2 3; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((P + i))/v1/apps/$APP")" = 200 ] || fail "node $i lacks the app"
done
"$TKMS" cluster start 4 --dir "$C" 2>/dev/null
app_on4() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((P + 4))/v1/apps/$APP")" = 200 ]; }
wait_until 20 app_on4 || fail "anti-entropy did not bring the statement to node 4"
wait_until 10 min_epoch 0 $((P + 1)) $((P + 2)) $((P + 3)) $((P + 4)) || fail "node 4 not serving"
grep -q '"event":"apps_synced"' "$C/node4/tkmsd.log" || fail "node 4 did not log the sync"
curl -s "http://127.0.0.1:$((P + 4))/v1/apps/$APP" | cmp -s - <(curl -s "http://127.0.0.1:$((P + 1))/v1/apps/$APP") \
  || fail "node 4 holds another statement"

log "tkms key fetch (dev evidence) twice: same mnemonic; --show eth consistent"
"$TKMS" key dev-keygen --out "$W/dev.key" > "$W/dev.pub"
DEVSEED=$(cat "$W/dev.key")
"$TKMS" key fetch --attestation dev --dev-key-file "$W/dev.key" --group "$G" --app "$APP" --out "$W/m1" 2>/dev/null
"$TKMS" key fetch --attestation dev --group "$G" --app "$APP" --out "$W/m2" 2>/dev/null
cmp -s "$W/m1" "$W/m2" || fail "two fetches gave different mnemonics"
[ "$(wc -w < "$W/m1")" = 24 ] || fail "not a 24-word mnemonic"
"$TKMS" mnemonic check < "$W/m1" || fail "mnemonic checksum"
e1=$("$TKMS" key fetch --attestation dev --group "$G" --app "$APP" --show eth 2>/dev/null)
e2=$("$TKMS" key fetch --attestation dev --group "$G" --app "$APP" --show eth 2>/dev/null)
[ -n "$e1" ] && [ "$e1" = "$e2" ] || fail "eth address differs: $e1 / $e2"
grep -q '"event":"INSECURE_DEV_EVIDENCE"' "$C/node1/tkmsd.log" || fail "insecure-dev release not logged loudly"

log "partials by curl, opened independently, combined: same key and mnemonic"
node "$HELPER" key --app "$APP" --state "$W/state" --dev-seed "$DEVSEED" > "$W/req.json"
parts=()
for i in 1 2 3 4; do
  s=$(curl_post $((P + i)) /v1/keys/app "$W/req.json" "$W/resp$i")
  [ "$s" = 200 ] || fail "node $i: HTTP $s $(cat "$W/resp$i")"
  parts+=("$(node "$HELPER" open --state "$W/state" --group "$G" --resp "$W/resp$i")") || fail "node $i answer does not open"
done
K1=$("$TKMS" tbls combine --t 3 --partial "${parts[0]}" --partial "${parts[1]}" --partial "${parts[2]}")
K2=$("$TKMS" tbls combine --t 3 --partial "${parts[1]}" --partial "${parts[2]}" --partial "${parts[3]}")
[ "$K1" = "$K2" ] || fail "two subsets of partials combine differently"
echo "$K1" | "$TKMS" app-key verify --mpk "$MPK" --app "$APP" --key-file - || fail "app key does not verify under the MPK"
echo "$K1" | "$TKMS" mnemonic from-app-key --app-key-file - > "$W/m3"
cmp -s "$W/m1" "$W/m3" || fail "tkms key fetch and the directly combined partials give different mnemonics"
# a partial alone is not the key
echo "${parts[0]#*:}" | "$TKMS" app-key verify --mpk "$MPK" --app "$APP" --key-file - 2>/dev/null && fail "a partial verified as the key"

log "refusals (curl): each gets nothing, with its code"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app2.json"
APP2=$(jget "$W/app2.json" "['app_id']")
node "$HELPER" key --app "$APP2" --state "$W/state2" --dev-seed "$DEVSEED" > "$W/req2.json"
expect_err "$W/e" 404 "$(curl_post $((P + 1)) /v1/keys/app "$W/req2.json" "$W/e")" unknown_app
# replayed evidence with the attacker's own recipient key: B differs
python3 - "$W/req.json" "$W/state2" > "$W/replay.json" <<'PY'
import json,sys
r=json.load(open(sys.argv[1])); r["recipient"]=json.load(open(sys.argv[2]))["recipient"]; print(json.dumps(r))
PY
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/replay.json" "$W/e")" binding_mismatch
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['nonce']='00'*32; print(json.dumps(r))" "$W/req.json" > "$W/renonce.json"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/renonce.json" "$W/e")" binding_mismatch
# no evidence at all
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); del r['attestation']; print(json.dumps(r))" "$W/req.json" > "$W/noev.json"
expect_err "$W/e" 400 "$(curl_post $((P + 1)) /v1/keys/app "$W/noev.json" "$W/e")" bad_request
echo '{}' > "$W/empty.json"
expect_err "$W/e" 400 "$(curl_post $((P + 2)) /v1/keys/app "$W/empty.json" "$W/e")" bad_request
# a method the statement does not allow
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['attestation']['method']='gcp-cs'; print(json.dumps(r))" "$W/req.json" > "$W/meth.json"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/keys/app "$W/meth.json" "$W/e")" method_not_allowed
# forged statement: seq changed after signing
sed 's/"seq":1/"seq":9/' "$W/s1.json" > "$W/forged.json"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/apps "$W/forged.json" "$W/e")" bad_signature
# statement for this app signed by another owner key (same salt): app_id != H(signer, salt)
python3 - "$W/s1.json" "$W/st1.json" "$SALT" "$TKMS" "$W" > "$W/other_owner.json" <<'PY'
import json,subprocess,sys,os
s1,st1,salt,tkms,w=sys.argv[1:]
k=os.path.join(w,"other.key"); open(k,"w").write("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f\n"); os.chmod(k,0o600)
# tkms app sign refuses (owner mismatch), so sign the same canonical statement as an app of the
# other owner with this salt and graft that signature onto our app's statement
other=json.loads(subprocess.check_output([tkms,"app","create","--owner-key-file",k,"--salt",salt]))
st=json.load(open(st1)); st["app_id"]=other["app_id"]; p=os.path.join(w,"st_other.json"); json.dump(st,open(p,"w"))
sig=json.loads(subprocess.check_output([tkms,"app","sign","--owner-key-file",k,"--salt",salt,"--statement",p]))["signature"]
j=json.load(open(s1)); j["signature"]=sig; print(json.dumps(j,separators=(",",":"),sort_keys=True))
PY
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/apps "$W/other_owner.json" "$W/e")" bad_signature
# seq 2 (sent to one node, spread by anti-entropy), then seq 1 again is stale
"$TKMS" app statement --app "$APP" --seq 2 --method insecure-dev > "$W/st2.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st2.json" > "$W/s2.json"
[ "$(curl_post $((P + 2)) /v1/apps "$W/s2.json" "$W/e")" = 200 ] || fail "seq 2 refused: $(cat "$W/e")"
seq2_on() { curl -s "http://127.0.0.1:$((P + $1))/v1/apps/$APP" | grep -q '"seq":2'; }
wait_until 15 seq2_on 1 || fail "seq 2 did not reach node 1 by anti-entropy"
wait_until 15 seq2_on 4 || fail "seq 2 did not reach node 4 by anti-entropy"
expect_err "$W/e" 409 "$(curl_post $((P + 1)) /v1/apps "$W/s1.json" "$W/e")" stale_statement
expect_err "$W/e" 404 "$(curl -s -o "$W/e" -w '%{http_code}' "http://127.0.0.1:$((P + 1))/v1/apps/$APP2")" unknown_app
# the app still gets its key under seq 2
"$TKMS" key fetch --attestation dev --group "$G" --app "$APP" --out "$W/m4" 2>/dev/null
cmp -s "$W/m1" "$W/m4" || fail "key changed with the statement"

log "POST /v1/sign/app: partials combine into a signature verifying under the MPK"
MSG=$(printf 'address 0xb872799ebd09a09e3416544396d0eae41976265f belongs to this app' | xxd -p | tr -d '\n')
NONCE=$(openssl rand -hex 32)
node "$HELPER" sign --app "$APP" --msg "$MSG" --nonce "$NONCE" --dev-seed "$DEVSEED" > "$W/sreq.json"
sp=()
for i in 1 2 3 4; do
  s=$(curl_post $((P + i)) /v1/sign/app "$W/sreq.json" "$W/sresp$i")
  [ "$s" = 200 ] || fail "sign/app node $i: HTTP $s $(cat "$W/sresp$i")"
  sp+=("$(node "$HELPER" check-sign --group "$G" --app "$APP" --msg "$MSG" --nonce "$NONCE" --resp "$W/sresp$i")") \
    || fail "sign/app node $i: bad response signature"
done
AM=$(node "$HELPER" app-msg --app "$APP" --msg "$MSG")
python3 -c "import json; print('\n'.join(json.load(open('$G'))['public_polynomial']))" > "$W/commit"
SIG=$("$TKMS" tbls combine --t 3 --partial "${sp[3]}" --partial "${sp[0]}" --partial "${sp[2]}" \
      --commitments "$W/commit" --dst "$APP_DST" --msg "$AM") || fail "partials do not verify"
"$TKMS" bls verify --variant min-sig --dst "$APP_DST" --pk "$MPK" --msg "$AM" --sig "$SIG" || fail "app signature does not verify"
"$TKMS" bls verify --variant min-sig --dst "$APP_DST" --pk "$MPK" --msg "$MSG" --sig "$SIG" 2>/dev/null \
  && fail "app signature verifies on the bare message"
# the message is bound: the same evidence with another message is refused
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['msg']='00'; print(json.dumps(r))" "$W/sreq.json" > "$W/sreq2.json"
expect_err "$W/e" 403 "$(curl_post $((P + 1)) /v1/sign/app "$W/sreq2.json" "$W/e")" binding_mismatch

log "no endpoint gives a partial app key without attestation"
# /v1/sign signs under the cluster-signing DST: even t operators' approvals of the app ID give no app key
S=$(sign_ok "$G" "${APP#0x}")
echo "$S" | "$TKMS" app-key verify --mpk "$MPK" --app "$APP" --key-file - 2>/dev/null && fail "/v1/sign produced the app key"
expect_err "$W/e" 400 "$(curl_post $((P + 3)) /v1/sign/app "$W/noev.json" "$W/e")" bad_request
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((P + 1))/v1/keys/app")" = 404 ] || fail "GET /v1/keys/app"

log "audit, metrics"
python3 - "$C/node1/tkms.db" <<'PY' || fail "audit records"
import sqlite3,sys
rows=sqlite3.connect(sys.argv[1]).execute("select kind,subject,decision,detail from audit where kind in ('keys/app','sign/app','apps')").fetchall()
kinds={r[0] for r in rows}; dec={r[2] for r in rows}
assert {'keys/app','sign/app','apps'}<=kinds and {'release','sign','stored','refuse'}<=dec, (kinds,dec)
assert any('binding_mismatch' in (r[3] or '') for r in rows)
PY
curl -s "http://127.0.0.1:$((P + 1))/metrics" > "$W/metrics"
grep -q 'tkms_release_requests_total{endpoint="keys/app",result="ok"}' "$W/metrics" || fail "release metrics"
grep -q 'tkms_release_requests_total{endpoint="keys/app",result="binding_mismatch"} 2' "$W/metrics" || fail "refusal metrics"
echo "PASS"
