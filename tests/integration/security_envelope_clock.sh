#!/usr/bin/env bash
# Security: the signed envelope's clock window, signature and membership checks (docs/security.md,
# "Peer envelope"), with requests signed by a REAL member's node key (tests/tools/envelope_sign.c).
# With clock_skew_s = 60: X-Tkms-Time 120 s in the past or in the future is refused with 401 stale,
# while the same request with a current timestamp (and one 30 s old) is accepted; a flipped bit of
# a correct signature is 401 bad_signature; a missing X-Tkms-Sig is 401 unauthenticated. A node key
# outside the committee gets 403 not_a_member on /v1/peer/apps and /v1/peer/noshare. A node that
# restarts while only t - 2 of its peers are up does not serve (it needs t - 1 peers at its epoch to
# confirm it, src/daemon/sched.c): /v1/sign is 503 not_serving until one more peer is back.
source "$(dirname "$0")/common.inc"
SIGNER=$BUILD/tkms-test-envelope-sign
[ -x "$SIGNER" ] || fail "missing $SIGNER (make build)"
P=17740
SKEW=60
C=$(cluster_up ec 4 $P --node-config "{\"clock_skew_s\":$SKEW}")
URL() { echo "http://127.0.0.1:$((P + $1))"; }
echo '{"apps":{"0x00000000000000000000000000000000000000a1":1}}' > "$WORK/summary.json"
# send CFG NODE PATH BODYFILE [signer args...]: HTTP status; response body in $WORK/out
send() {
  local cfg=$1 node=$2 path=$3 body=$4; shift 4
  local h
  h=$("$SIGNER" --config "$cfg" --dest "$(URL "$node")" --path "$path" --body-file "$body" "$@") || fail "signer failed"
  curl -s -o "$WORK/out" -w '%{http_code}' -H "$(sed -n 1p <<< "$h")" -H "$(sed -n 2p <<< "$h")" \
    -H "$(sed -n 3p <<< "$h")" -H 'Content-Type: application/octet-stream' --data-binary @"$body" "$(URL "$node")$path"
}
code_is() { grep -q "\"code\":\"$1\"" "$WORK/out" || fail "want code $1: $(cat "$WORK/out")"; }
M2=$C/node2/config.json

log "member 2 -> node 1 /v1/peer/apps: clock window of +-${SKEW} s"
st=$(send "$M2" 1 /v1/peer/apps "$WORK/summary.json" --offset-ms $((-2 * SKEW * 1000)))
[ "$st" = 401 ] || fail "X-Tkms-Time 2 x skew in the past accepted: HTTP $st $(cat "$WORK/out")"
code_is stale
st=$(send "$M2" 1 /v1/peer/apps "$WORK/summary.json" --offset-ms $((2 * SKEW * 1000)))
[ "$st" = 401 ] || fail "X-Tkms-Time 2 x skew in the future accepted: HTTP $st $(cat "$WORK/out")"
code_is stale
st=$(send "$M2" 1 /v1/peer/apps "$WORK/summary.json" --offset-ms $((-SKEW * 1000 / 2)))
[ "$st" = 200 ] || fail "X-Tkms-Time half the skew in the past refused: HTTP $st $(cat "$WORK/out")"
st=$(send "$M2" 1 /v1/peer/apps "$WORK/summary.json")
[ "$st" = 200 ] || fail "the same request with a current timestamp refused: HTTP $st $(cat "$WORK/out")"
echo "  ok: -2 x skew and +2 x skew are 401 stale; -skew/2 and now are 200"

log "wrong signature under a member's key, missing header"
st=$(send "$M2" 1 /v1/peer/apps "$WORK/summary.json" --flip-sig)
[ "$st" = 401 ] || fail "a flipped signature bit was accepted: HTTP $st $(cat "$WORK/out")"
code_is bad_signature
h=$("$SIGNER" --config "$M2" --dest "$(URL 1)" --path /v1/peer/apps --body-file "$WORK/summary.json")
st=$(curl -s -o "$WORK/out" -w '%{http_code}' -H "$(sed -n 1p <<< "$h")" -H "$(sed -n 2p <<< "$h")" \
  --data-binary @"$WORK/summary.json" "$(URL 1)/v1/peer/apps")
[ "$st" = 401 ] || fail "no X-Tkms-Sig: HTTP $st $(cat "$WORK/out")"
code_is unauthenticated
echo "  ok: flipped signature 401 bad_signature; no X-Tkms-Sig 401 unauthenticated"

log "a node key outside the committee"
"$TKMS" node init --dir "$WORK/outsider" --address "$(URL 9)" >/dev/null
OUT=$WORK/outsider/config.json
st=$(send "$OUT" 1 /v1/peer/apps "$WORK/summary.json")
[ "$st" = 403 ] || fail "non-member on /v1/peer/apps: HTTP $st $(cat "$WORK/out")"
code_is not_a_member
E=$(hfield $((P + 1)) epoch)
echo "{\"epoch\":$E,\"at\":$(date +%s%3N)}" > "$WORK/noshare.json"
st=$(send "$OUT" 1 /v1/peer/noshare "$WORK/noshare.json")
[ "$st" = 403 ] || fail "non-member on /v1/peer/noshare: HTTP $st $(cat "$WORK/out")"
code_is not_a_member
echo "  ok: 403 not_a_member on /v1/peer/apps and /v1/peer/noshare"

log "epoch confirmation: node 1 restarted with only t - 2 = 1 peer up does not serve"
TOKEN=$(cat "$C/node1/admin.token")
curl -sf -H "Authorization: Bearer $TOKEN" -d '{"msg":"0e"}' "$(URL 1)/v1/sign/approve" >/dev/null || fail "approval refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' -d '{"msg":"0e"}' "$(URL 1)/v1/sign")" = 200 ] || fail "node 1 does not sign"
"$TKMS" cluster kill 2 --dir "$C" 2>/dev/null
"$TKMS" cluster kill 3 --dir "$C" 2>/dev/null
"$TKMS" cluster restart 1 --dir "$C" 2>/dev/null
peers_up() { [ "$(hfield $((P + 1)) peers_up)" -ge 1 ] 2>/dev/null; }
wait_until 10 peers_up || fail "node 1 does not see node 4"
sleep 5 # two more probe rounds (sync_interval_ms = 2000)
st=$(curl -s -o "$WORK/out" -w '%{http_code}' -d '{"msg":"0e"}' "$(URL 1)/v1/sign")
[ "$st" = 503 ] || fail "node 1 serves with 1 of its t - 1 = 2 peers confirming its epoch: HTTP $st $(cat "$WORK/out")"
[ "$(hfield $((P + 1)) serving)" = False ] || fail "node 1 reports serving"
"$TKMS" cluster start 2 --dir "$C" 2>/dev/null
signs() { [ "$(curl -s -o /dev/null -w '%{http_code}' -d '{"msg":"0e"}' "$(URL 1)/v1/sign")" = 200 ]; }
wait_until 15 signs || fail "node 1 does not serve with t - 1 peers back"
echo "  ok: 503 not_serving with 1 peer; serving once node 2 is back"
echo "PASS"
