#!/usr/bin/env bash
# Security: cluster signatures need t operators' approvals (docs/security.md, "Cluster signatures").
# One operator, with its own node key and its own admin token, tries to forge an app signature by
# asking every other node for a partial on "TKMS-V1-APP-MSG" || app_id || lp(msg): every node
# refuses (401/403) on /v1/sign and /v1/sign/approve, and a refused approval stores nothing. No
# endpoint signs under the app-message DST without evidence. With t operators approving (node key or
# own admin token), tkms sign combines a signature that verifies under the MPK with the cluster DST
# and not with the app DST; t-1 approvals, a revoked or an expired approval give no signature.
source "$(dirname "$0")/common.inc"
P=17800
C=$(cluster_up sec 4 $P)
G=$C/group.json
MPK=$(mpk_of "$G")
URL() { echo "http://127.0.0.1:$((P + $1))"; }
status_of() { echo "$1" | head -1 | cut -d' ' -f1; }

APP=0x00112233445566778899aabbccddeeff00112233
MSG=$(printf 'transfer 1000 to 0xb872799ebd09a09e3416544396d0eae41976265f' | xxd -p | tr -d '\n')
# the app-message encoding: "TKMS-V1-APP-MSG" || app_id || be32(len) || msg
AM=$(python3 -c "import sys; a=bytes.fromhex(sys.argv[1][2:]); m=bytes.fromhex(sys.argv[2]); print((b'TKMS-V1-APP-MSG'+a+len(m).to_bytes(4,'big')+m).hex())" "$APP" "$MSG")
echo "{\"msg\":\"$AM\"}" > "$WORK/am.json"

log "operator 2 alone asks every node for a partial on the app-message encoding"
got=()
for i in 1 2 3 4; do
  for path in /v1/sign /v1/sign/approve; do
    out=$("$TKMS" node curl --config "$C/node2/config.json" --url "$(URL $i)" --path $path --method POST --body-file "$WORK/am.json")
    st=$(status_of "$out")
    p=$(echo "$out" | cut -d' ' -f2- | python3 -c "import json,sys
try: print(json.load(sys.stdin).get('partial',''))
except Exception: print('')")
    if [ -n "$p" ]; then got+=("$(echo "$out" | cut -d' ' -f2- | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"{d['index']}:{d['partial']}\")")"); fi
    if [ "$i" != 2 ]; then
      case "$st" in 401|403) ;; *) echo "node $i $path with operator 2's node key: HTTP $st" >&2 ;; esac
    fi
  done
  for path in /v1/sign /v1/sign/approve; do
    st=$(curl -s -o "$WORK/tok.out" -w '%{http_code}' -H "Authorization: Bearer $(cat "$C/node2/admin.token")" \
         --data-binary @"$WORK/am.json" "$(URL $i)$path")
    p=$(python3 -c "import json,sys
try: print(json.load(open(sys.argv[1])).get('partial',''))
except Exception: print('')" "$WORK/tok.out")
    [ -n "$p" ] && got+=("$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{d['index']}:{d['partial']}\")" "$WORK/tok.out")")
    if [ "$i" != 2 ]; then
      case "$st" in 401|403) ;; *) echo "node $i $path with operator 2's admin token: HTTP $st" >&2 ;; esac
    fi
  done
done
# partials from the other nodes = a forgery; show what the old behaviour allowed before failing
others=0
for x in "${got[@]}"; do [ "${x%%:*}" = 2 ] || others=$((others + 1)); done
if [ "$others" -gt 0 ]; then
  python3 -c "import json; print('\n'.join(json.load(open('$G'))['public_polynomial']))" > "$WORK/commit"
  args=(); for x in $(printf '%s\n' "${got[@]}" | sort -u); do args+=(--partial "$x"); done
  if sig=$("$TKMS" tbls combine --t 3 "${args[@]}" --commitments "$WORK/commit" --dst "$APP_DST" --msg "$AM" 2>/dev/null) &&
     "$TKMS" bls verify --variant min-sig --dst "$APP_DST" --pk "$MPK" --msg "$AM" --sig "$sig" >/dev/null 2>&1; then
    fail "operator 2 alone forged an app signature for $APP without evidence: $sig"
  fi
  fail "operator 2 obtained $others partial(s) from other nodes without their operators' approval"
fi
# the exact refusals: another member's key is 403, another node's token is 401
out=$("$TKMS" node curl --config "$C/node2/config.json" --url "$(URL 1)" --path /v1/sign/approve --method POST --body-file "$WORK/am.json")
[ "$(status_of "$out")" = 403 ] && echo "$out" | grep -q not_own_operator || fail "another member's approval: $out"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$C/node2/admin.token")" --data-binary @"$WORK/am.json" "$(URL 1)/v1/sign/approve")
[ "$st" = 401 ] || fail "another node's admin token: HTTP $st"
st=$(curl -s -o "$WORK/e" -w '%{http_code}' --data-binary @"$WORK/am.json" "$(URL 1)/v1/sign")
[ "$st" = 403 ] && grep -q not_approved "$WORK/e" || fail "a refused approval was stored: HTTP $st $(cat "$WORK/e")"
# the CLI says the same
set +e
err=$("$TKMS" sign approve --group "$G" --msg "$AM" --token-file "$C/node2/admin.token" --node 1 2>&1); rc=$?
set -e
[ $rc = 1 ] && echo "$err" | grep -q "HTTP 401" || fail "tkms sign approve with another node's token: rc=$rc $err"
out=$("$TKMS" sign approve --group "$G" --msg "$AM" --node-config "$C/node2/config.json") || fail "own approval refused"
echo "$out" | grep -q '"node":2' || fail "approved on the wrong node: $out"
set +e
err=$("$TKMS" sign --group "$G" --msg "$AM" 2>&1); rc=$?
set -e
[ $rc = 2 ] && echo "$err" | grep -q "not enough nodes: 1 valid partial" && echo "$err" | grep -q "node 1 .*not_approved" \
  || fail "one approval made a signature: rc=$rc $err"
echo "  ok: every other node refused operator 2 (401/403); its own approval alone gives 1 partial"

log "no app-message-DST partial without evidence"
python3 -c "import json,os; print(json.dumps({'app_id':'$APP','nonce':os.urandom(32).hex(),'msg':'$MSG'}))" > "$WORK/noev.json"
python3 -c "import json,os,base64; print(json.dumps({'app_id':'$APP','nonce':os.urandom(32).hex(),'msg':'$MSG','attestation':{'method':'insecure-dev','evidence':base64.urlsafe_b64encode(os.urandom(200)).decode().rstrip('=')}}))" > "$WORK/devev.json"
for i in 1 2 3 4; do
  st=$(curl -s -o "$WORK/e" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/noev.json" "$(URL $i)/v1/sign/app")
  [ "$st" = 400 ] || fail "node $i: /v1/sign/app without evidence: HTTP $st $(cat "$WORK/e")"
  st=$(curl -s -o "$WORK/e" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/devev.json" "$(URL $i)/v1/sign/app")
  case "$st" in 400|403|404) ;; *) fail "node $i: /v1/sign/app with bogus evidence: HTTP $st $(cat "$WORK/e")" ;; esac
  ! grep -q partial "$WORK/e" || fail "node $i released a partial for bogus evidence"
done
echo "  ok: /v1/sign/app refuses missing and bogus evidence on every node"

log "t = 3 operators approve (node key, node key, own admin token)"
"$TKMS" sign approve --group "$G" --msg "$AM" --node-config "$C/node3/config.json" >/dev/null || fail "operator 3"
set +e
err=$("$TKMS" sign --group "$G" --msg "$AM" 2>&1); rc=$?
set -e
[ $rc = 2 ] && echo "$err" | grep -q "not enough nodes: 2 valid" || fail "t-1 approvals made a signature: rc=$rc $err"
"$TKMS" sign approve --group "$G" --msg "$AM" --token-file "$C/node1/admin.token" --node 1 >/dev/null || fail "operator 1"
SIG=$("$TKMS" sign --group "$G" --msg "$AM") || fail "t approvals: no signature"
"$TKMS" bls verify --variant min-sig --dst "$CLUSTER_DST" --pk "$MPK" --msg "$AM" --sig "$SIG" >/dev/null \
  || fail "cluster signature does not verify under the MPK with the cluster DST"
set +e
"$TKMS" bls verify --variant min-sig --dst "$APP_DST" --pk "$MPK" --msg "$AM" --sig "$SIG" >/dev/null 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "a cluster signature verifies as an app signature (rc=$rc)"
st=$(curl -s -o "$WORK/e" -w '%{http_code}' --data-binary @"$WORK/am.json" "$(URL 4)/v1/sign")
[ "$st" = 403 ] || fail "node 4 signed without its operator's approval: HTTP $st"
echo "  ok: signature verifies with $CLUSTER_DST, not with $APP_DST; node 4 (not approved) refuses"

log "revoked and expired approvals"
"$TKMS" sign revoke --group "$G" --msg "$AM" --node-config "$C/node3/config.json" | grep -q '"was_approved":true' || fail "revoke"
set +e
"$TKMS" sign --group "$G" --msg "$AM" >/dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "a revoked approval still counted (rc=$rc)"
"$TKMS" sign approve --group "$G" --msg "$AM" --node-config "$C/node4/config.json" --ttl-s 1 >/dev/null || fail "short approval"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$WORK/am.json" "$(URL 4)/v1/sign")
[ "$st" = 200 ] || fail "fresh approval: HTTP $st"
sleep 1.2
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$WORK/am.json" "$(URL 4)/v1/sign")
[ "$st" = 403 ] || fail "expired approval still signs: HTTP $st"
echo "  ok: revoke and expiry take effect"

log "approvals are audited"
python3 - "$C/node1/tkms.db" "$C/node3/tkms.db" <<'PY' || fail "audit rows"
import sqlite3, sys
r1 = sqlite3.connect(sys.argv[1]).execute("select decision, detail from audit where kind='cluster_sign'").fetchall()
r3 = sqlite3.connect(sys.argv[2]).execute("select decision from audit where kind='cluster_sign'").fetchall()
assert [d for d, _ in r1] == ['approve'] and '"by":"admin"' in r1[0][1], r1
assert [d for (d,) in r3] == ['approve', 'revoke'], r3
PY
echo "PASS"
