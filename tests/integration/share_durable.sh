#!/usr/bin/env bash
# tkmsd integration (issue 11, mechanism 1): a node that signed the certificate of epoch e+1 and
# died before it saw the certificate keeps its share. The test hook TKMS_TEST_KILL_AFTER_CERT=E
# makes node 2 SIGKILL itself right after its CERT of epoch E has been sent; the others certify E
# after its CERT was sent; node 2 is restarted only after the session's window
# is over (so it does not resume the session but catches up to the certified group) and must come
# back with its share of E: the share was stored (pending) in the same transaction as the session
# checkpoint, before the CERT left the node.
source "$(dirname "$0")/common.inc"
P=18000
C=$(cluster_up sd 4 $P --interval 12 --phase-ms 500)
E=$(( $(hfield $((P+1)) epoch) + 1 ))
log "restart node 2 with the kill hook for epoch $E"
"$TKMS" cluster kill 2 --dir "$C" --term 2>/dev/null
TKMS_TEST_KILL_AFTER_CERT=$E "$TKMS" cluster start 2 --dir "$C" 2>/dev/null
PID2=$(cat "$C/node2/tkmsd.pid")
wait_until 40 bash -c "! kill -0 $PID2" || fail "node 2 did not stop after signing its certificate"
grep -q '"event":"test_hook_kill"' "$C/node2/tkmsd.log" || fail "node 2 stopped, but not by the hook"
wait_until 20 min_epoch "$E" $((P+1)) $((P+3)) $((P+4)) || fail "the others did not certify epoch $E"
# (node 2's CERT went out before it died; whether the copy a node serves carries it depends on which
# q certificates that node collected first, so it is not asserted)
# restart after the session's window (5 phases + 2 s) so that node 2 catches up instead of resuming
python3 - "$C" <<'PY'
import json, sys, time
g = json.load(open(sys.argv[1] + "/genesis.json")); t = time.time()
g0, iv = g["genesis_time"], g["reshare_interval_s"]
start = g0 + int((t - g0) // iv) * iv
time.sleep(max(0, start + 5 * 0.5 + 2 + 0.5 - t))
PY
"$TKMS" cluster start 2 --dir "$C" 2>/dev/null
wait_until 20 min_epoch "$E" $((P+2)) || fail "node 2 does not serve epoch $E after the restart"
[ "$(hfield $((P+2)) has_share)" = True ] || fail "node 2 has no share"
grep '"event":"caught_up"' "$C/node2/tkmsd.log" | grep -c "\"epoch\":$E,\"share\":true" > /dev/null \
  || fail "node 2 did not catch up to epoch $E with its stored share: $(grep caught_up "$C/node2/tkmsd.log")"
# every member holds a share of E: the cluster tolerates n - t failures again
wait_until 10 bash -c "[ \"\$(curl -s http://127.0.0.1:$((P+1))/v1/health | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"share_holders\"])')\" = 4 ]" \
  || fail "node 1 does not see 4 share holders"
echo "PASS"
