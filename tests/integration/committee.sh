#!/usr/bin/env bash
# tkmsd integration: committee changes through signed proposals -- 4 -> 5 (a new operator runs
# `tkms node init` via `cluster add`, joins from the current group file) and 5 -> 4 (member 2 leaves);
# the MPK stays, signing works after each change, and a proposal with too few signatures is refused.
source "$(dirname "$0")/common.inc"
P=17560
C=$(cluster_up cm 4 $P --interval 6 --phase-ms 800)
G=$C/group.json
MPK=$(mpk_of "$G")
epoch_of() { hfield "$1" epoch; }
members_of() { curl -s "http://127.0.0.1:$1/v1/group" | python3 -c "import json,sys; g=json.load(sys.stdin); print(len(g['members']), g['threshold'], g['epoch'])"; }

# propose_and_submit OUT SIGNERS... -- ARGS: builds from node1's current group, signs, submits
change() {
  local signers=$1; shift
  for try in 1 2 3 4; do
    curl -s "http://127.0.0.1:$((P+1))/v1/group" > "$C/cur.json"
    "$TKMS" committee propose --group "$C/cur.json" "$@" --out "$C/prop.json" 2>/dev/null
    for n in $signers; do "$TKMS" committee sign --proposal "$C/prop.json" --node-config "$C/node$n/config.json" 2>/dev/null; done
    # submit right after a slot boundary so the proposal's epoch is still current
    "$TKMS" committee submit --proposal "$C/prop.json" --group "$C/cur.json" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

log "a proposal signed by fewer than t operators is refused"
curl -s "http://127.0.0.1:$((P+1))/v1/group" > "$C/cur.json"
"$TKMS" committee propose --group "$C/cur.json" --remove 4 --out "$C/weak.json" 2>/dev/null
for n in 1 2; do "$TKMS" committee sign --proposal "$C/weak.json" --node-config "$C/node$n/config.json" 2>/dev/null; done
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$C/weak.json" "http://127.0.0.1:$((P+1))/v1/committee/proposal")
[ "$code" = 400 ] || fail "weak proposal got $code"

log "4 -> 5: new operator"
"$TKMS" cluster add --dir "$C" > "$C/id5.json"
"$TKMS" cluster start 5 --dir "$C" 2>/dev/null
wait_until 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$((P+5))/v1/health | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"epoch\"])')\" = \"\$(curl -s http://127.0.0.1:$((P+1))/v1/health | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"epoch\"])')\" ]" \
  || fail "new node did not catch up"
change "1 2 3" --add "$C/id5.json" || fail "proposal 4->5 not accepted"
wait_until 30 sh -c "curl -s http://127.0.0.1:$((P+5))/v1/health | grep -q '\"state\":\"serving\"'" || fail "node 5 never served"
read n t e <<<"$(members_of $((P+1)))"
[ "$n" = 5 ] && [ "$t" = 4 ] || fail "group is n=$n t=$t after 4->5"
[ "$(mpk_of "$C/cur.json")" = "$MPK" ] || fail "MPK changed"
sign_ok "$G" 0a0b >/dev/null

log "5 -> 4: member 2 leaves"
wait_until 20 min_epoch $((e + 1)) $((P+1)) $((P+2)) $((P+3)) $((P+4)) $((P+5)) || fail "5-node cluster unstable"
change "1 2 3 5" --remove 2 || fail "proposal 5->4 not accepted"
wait_until 30 sh -c "[ \"\$(curl -s http://127.0.0.1:$((P+1))/v1/group | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"members\"]))')\" = 4 ]" \
  || fail "member 2 was not removed"
wait_until 15 sh -c "curl -s http://127.0.0.1:$((P+2))/v1/health | grep -q '\"state\":\"not_ready\"'" || fail "removed node still serving"
curl -s "http://127.0.0.1:$((P+1))/v1/group" > "$C/g4.json"
[ "$(mpk_of "$C/g4.json")" = "$MPK" ] || fail "MPK changed"
sign_ok "$C/g4.json" 0c0d >/dev/null
# the removed node erased its share
n_shares=$(python3 -c "import sqlite3; print(sqlite3.connect('$C/node2/tkms.db').execute('select count(*) from shares').fetchone()[0])")
[ "$n_shares" = 0 ] || fail "removed member kept its share"
echo "PASS"
