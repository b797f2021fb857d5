#!/usr/bin/env bash
# tkmsd integration: DKG for n = 4 and n = 7 certifies; once every operator approved a message,
# tkms sign verifies under the MPK; with n - t nodes killed signing still works; one more and it
# fails with "not enough nodes"; a restart recovers (approvals and epoch kept in the SQLite state).
source "$(dirname "$0")/common.inc"

log "n=4 DKG"
C4=$(cluster_up c4 4 17500)
G4=$C4/group.json
[ "$(jget "$G4" "['threshold']")" = 3 ] || fail "t != 3"
sign_ok "$G4" 68656c6c6f >/dev/null

log "kill n-t = 1 node (SIGKILL): signing works"
"$TKMS" cluster kill 4 --dir "$C4" 2>/dev/null
sign_ok "$G4" 01 >/dev/null

log "kill one more: clear 'not enough nodes'"
"$TKMS" cluster kill 3 --dir "$C4" 2>/dev/null
if out=$("$TKMS" sign --group "$G4" --msg 01 2>&1); then fail "signing succeeded with t-1 nodes"; fi
echo "$out" | grep -q "not enough nodes" || fail "unclear error: $out"

log "restart: works again, same epoch from the store"
"$TKMS" cluster start 3 --dir "$C4" 2>/dev/null
"$TKMS" cluster start 4 --dir "$C4" 2>/dev/null
wait_until 10 min_epoch 0 17501 17502 17503 17504 || fail "restarted nodes not serving"
[ "$(hfield 17503 epoch)" = 0 ] || fail "restarted node lost its epoch"
sign_ok "$G4" 01 >/dev/null

log "SIGTERM drains and exits 0"
pid=$(cat "$C4/node1/tkmsd.pid")
kill -TERM "$pid"
wait_until 10 grep -q '"event":"stopped"' "$C4/node1/tkmsd.log" || fail "no clean shutdown logged"
"$TKMS" cluster down --dir "$C4" >/dev/null 2>&1

log "n=7 DKG"
C7=$(cluster_up c7 7 17520)
G7=$C7/group.json
[ "$(jget "$G7" "['threshold']")" = 5 ] || fail "t != 5"
sign_ok "$G7" 00ff >/dev/null
"$TKMS" cluster kill 6 --dir "$C7" 2>/dev/null
"$TKMS" cluster kill 7 --dir "$C7" 2>/dev/null
sign_ok "$G7" 00ff >/dev/null
"$TKMS" cluster kill 5 --dir "$C7" 2>/dev/null
if "$TKMS" sign --group "$G7" --msg 00ff >/dev/null 2>&1; then fail "n=7 signed with 4 < t nodes"; fi
echo "PASS"
