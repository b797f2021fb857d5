#!/usr/bin/env bash
# End to end through the client, with real daemons: a 4-node --dev cluster (t = 3, short reshare
# interval) and a registered app. The app's mnemonic (`tkms key fetch --out`, file contents compared)
# is the same on two fetches (app restart), with n - t = 1 node killed, and after a scheduled reshare
# (epoch advanced, MPK unchanged); with 2 of 4 nodes down the fetch fails (exit 1), names the failing
# nodes and writes no key file. `tkms exec` opens a tkms1: secret sealed with `tkms seal` (MPK from
# `tkms group show`) to this app, exports the same mnemonic, and refuses a secret sealed to another
# app (exit 1, command not started). Then a committee change 4 -> 5 (signed proposal, as in
# committee.sh): the new member receives the app statement by anti-entropy, all 5 give valid partials,
# and the mnemonic is the same from the old (epoch 0) and the new group file, and with node 1 down.
source "$(dirname "$0")/common.inc"
P=17700
N4="$((P + 1)) $((P + 2)) $((P + 3)) $((P + 4))"

log "4-node --dev cluster, reshare every 8 s"
C=$(cluster_up e2e 4 $P --dev --interval 8 --phase-ms 800)
G=$C/group.json
"$TKMS" group show "$G" > "$WORK/gshow" || fail "tkms group show"
MPK=$(sed -n 's/^mpk: //p' "$WORK/gshow")
[ -n "$MPK" ] && [ "$MPK" = "$(mpk_of "$G")" ] || fail "group show MPK '$MPK' differs from the group file"

log "register an app"
W=$WORK/w; mkdir -p "$W"
( umask 077; openssl rand -hex 32 > "$W/owner.key" )
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(jget "$W/app.json" "['app_id']"); SALT=$(jget "$W/app.json" "['salt']")
"$TKMS" app statement --app "$APP" --seq 1 --method insecure-dev > "$W/st.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st.json" > "$W/signed.json"
"$TKMS" app release --statement "$W/signed.json" --group "$G" > "$W/rel.out" || fail "release: $(cat "$W/rel.out")"
[ "$(grep -c '"result":"stored"' "$W/rel.out")" = 4 ] || fail "release not stored on 4 nodes: $(cat "$W/rel.out")"
"$TKMS" key dev-keygen --out "$W/dev.key" > /dev/null

# fetch OUT [args]: tkms key fetch --out OUT for the app (dev evidence, fixed dev key)
fetch() {
  local out=$1; shift
  "$TKMS" key fetch --group "$G" --app "$APP" --attestation dev --dev-key-file "$W/dev.key" --out "$out" "$@"
}
same_key() { cmp -s "$W/m1" "$1" || fail "$2: mnemonic differs from the first fetch"; }

log "(a) two fetches (app restart): same mnemonic"
fetch "$W/m1" 2> "$W/f1.err" || fail "first fetch: $(cat "$W/f1.err")"
[ "$(wc -w < "$W/m1")" = 24 ] || fail "not a 24-word mnemonic"
[ "$(stat -c %a "$W/m1")" = 600 ] || fail "key file mode $(stat -c %a "$W/m1"), want 600"
"$TKMS" mnemonic check < "$W/m1" > /dev/null || fail "mnemonic checksum"
fetch "$W/m2" 2> "$W/f2.err" || fail "second fetch: $(cat "$W/f2.err")"
same_key "$W/m2" "second fetch"

log "tkms exec: a secret sealed to this app opens, MNEMONIC is the app's; one sealed to another app is refused"
SECRET="correct horse battery staple $(openssl rand -hex 8)"
SEALED=$(printf '%s' "$SECRET" | "$TKMS" seal --mpk "$MPK" --app "$APP" --name DB_PASSWORD) || fail "tkms seal"
case $SEALED in tkms1:*) ;; *) fail "sealed value does not start with tkms1: ($SEALED)";; esac
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app2.json"
APP2=$(jget "$W/app2.json" "['app_id']")
[ "$APP2" != "$APP" ] || fail "second app has the same id"
OTHER=$(printf 'not for you' | "$TKMS" seal --mpk "$MPK" --app "$APP2" --name DB_PASSWORD) || fail "tkms seal (other app)"
cat > "$W/app.sh" <<'SH'
#!/bin/sh
# the "app": records what tkms exec gave it
printf '%s' "$DB_PASSWORD" > "$OUT_DIR/secret"
printf '%s\n' "$MNEMONIC" > "$OUT_DIR/mnemonic"
printf '%s' "$TKMS_APP_ID" > "$OUT_DIR/app_id"
touch "$OUT_DIR/started"
SH
chmod +x "$W/app.sh"
mkdir -p "$W/x1" "$W/x2"
OUT_DIR="$W/x1" DB_PASSWORD="$SEALED" "$TKMS" exec --group "$G" --app "$APP" --attestation dev \
  --dev-key-file "$W/dev.key" -- "$W/app.sh" 2> "$W/x1.err" || fail "tkms exec: $(cat "$W/x1.err")"
[ -f "$W/x1/started" ] || fail "command not started"
[ "$(cat "$W/x1/secret")" = "$SECRET" ] || fail "sealed secret not opened inside tkms exec"
[ "$(cat "$W/x1/app_id")" = "$APP" ] || fail "TKMS_APP_ID $(cat "$W/x1/app_id")"
cmp -s <(tr -s ' \n' ' ' < "$W/m1" | sed 's/ $//') <(tr -s ' \n' ' ' < "$W/x1/mnemonic" | sed 's/ $//') \
  || fail "MNEMONIC in tkms exec differs from tkms key fetch"
grep -q "$SECRET" "$W/x1.err" && fail "the secret leaked to stderr"
set +e
OUT_DIR="$W/x2" DB_PASSWORD="$OTHER" "$TKMS" exec --group "$G" --app "$APP" --attestation dev \
  --dev-key-file "$W/dev.key" -- "$W/app.sh" 2> "$W/x2.err"
rc=$?
set -e
[ $rc = 1 ] || fail "exec with another app's secret: exit $rc, want 1 ($(cat "$W/x2.err"))"
[ ! -e "$W/x2/started" ] || fail "command started with another app's secret"
grep -q DB_PASSWORD "$W/x2.err" || fail "refusal does not name the variable: $(cat "$W/x2.err")"
echo "    refused: $(head -c 300 "$W/x2.err")" >&2

log "(b) node 1 killed (n - t = 1): same mnemonic"
"$TKMS" cluster kill 1 --dir "$C" 2>/dev/null
fetch "$W/m3" 2> "$W/f3.err" || fail "fetch with node 1 down: $(cat "$W/f3.err")"
same_key "$W/m3" "node 1 down"

log "2 of 4 down (one more than tolerated): exit 1, failing nodes named, no key file"
"$TKMS" cluster kill 2 --dir "$C" 2>/dev/null
set +e
fetch "$W/m_fail" --timeout-ms 1000 --retries 1 --deadline-ms 5000 > "$W/ff.out" 2> "$W/ff.err"
rc=$?
set -e
echo "    error: $(head -c 400 "$W/ff.err")" >&2
[ $rc = 1 ] || fail "fetch with 2 of 4 down: exit $rc, want 1 ($(cat "$W/ff.err"))"
[ ! -e "$W/m_fail" ] || fail "a key file was written"
grep -qiE "partial|quorum|needed" "$W/ff.err" || fail "message does not say why: $(cat "$W/ff.err")"
grep -qE "node 1\b" "$W/ff.err" && grep -qE "node 2\b" "$W/ff.err" || fail "message does not name nodes 1 and 2: $(cat "$W/ff.err")"
grep -qE "node [34]\b" "$W/ff.err" && fail "message blames a healthy node: $(cat "$W/ff.err")"
"$TKMS" cluster restart 1 --dir "$C" >/dev/null 2>&1 || "$TKMS" cluster start 1 --dir "$C" >/dev/null 2>&1
"$TKMS" cluster restart 2 --dir "$C" >/dev/null 2>&1 || "$TKMS" cluster start 2 --dir "$C" >/dev/null 2>&1

log "(c) scheduled reshare: epoch advances, MPK unchanged, same mnemonic"
E0=$(jget "$G" "['epoch']")
E1=0
for p in $N4; do e=$(hfield "$p" epoch); [ -n "$e" ] && [ "$e" -gt "$E1" ] && E1=$e; done
# two epochs past whatever was live when the restarted nodes came back: a full reshare with all 4
wait_until 40 min_epoch $((E1 + 1)) $N4 || fail "no reshare past epoch $E1 with all 4 nodes"
curl -s "http://127.0.0.1:$((P + 3))/v1/group" > "$W/cur.json"
E2=$(jget "$W/cur.json" "['epoch']")
[ "$E2" -gt "$E0" ] || fail "epoch did not advance ($E0 -> $E2)"
[ "$(mpk_of "$W/cur.json")" = "$MPK" ] || fail "MPK changed across the reshare"
"$TKMS" group verify "$W/cur.json" > /dev/null || fail "current group file does not verify"
fetch "$W/m4" 2> "$W/f4.err" || fail "fetch after reshare (group file of epoch $E0): $(cat "$W/f4.err")"
same_key "$W/m4" "after reshare, old group file"
"$TKMS" key fetch --group "$W/cur.json" --app "$APP" --attestation dev --out "$W/m5" 2> "$W/f5.err" \
  || fail "fetch after reshare (group file of epoch $E2): $(cat "$W/f5.err")"
same_key "$W/m5" "after reshare, current group file"
echo "    epoch $E0 -> $E2, MPK unchanged" >&2

log "(d) committee change 4 -> 5 (signed proposal, as committee.sh): same mnemonic"
"$TKMS" cluster add --dir "$C" > "$C/id5.json"
"$TKMS" cluster start 5 --dir "$C" 2>/dev/null
caught_up5() { local a b; a=$(hfield $((P + 5)) epoch); b=$(hfield $((P + 1)) epoch); [ -n "$a" ] && [ "$a" = "$b" ]; }
wait_until 20 caught_up5 || fail "node 5 did not catch up"
# change SIGNERS ARGS...: propose from node 1's current group, sign, submit (retried: the proposal
# is for the current epoch, which a reshare may end before it is submitted)
change() {
  local signers=$1; shift
  for try in 1 2 3 4 5; do
    curl -s "http://127.0.0.1:$((P + 1))/v1/group" > "$C/cur.json"
    "$TKMS" committee propose --group "$C/cur.json" "$@" --out "$C/prop.json" 2>/dev/null || { sleep 1; continue; }
    for n in $signers; do "$TKMS" committee sign --proposal "$C/prop.json" --node-config "$C/node$n/config.json" 2>/dev/null; done
    "$TKMS" committee submit --proposal "$C/prop.json" --group "$C/cur.json" > /dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}
change "1 2 3" --add "$C/id5.json" || fail "proposal 4 -> 5 not accepted"
five_serving() {
  curl -s "http://127.0.0.1:$((P + 1))/v1/group" > "$W/g5.json" || return 1
  [ "$(python3 -c "import json; g=json.load(open('$W/g5.json')); print(len(g['members']), g['threshold'])")" = "5 4" ] || return 1
  min_epoch "$(jget "$W/g5.json" "['epoch']")" $N4 $((P + 5))
}
wait_until 40 five_serving || fail "the 5-node committee is not serving"
E5=$(jget "$W/g5.json" "['epoch']")
# node 5 was not a member when the app was released: anti-entropy must bring it the statement
app_on5() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((P + 5))/v1/apps/$APP")" = 200 ]; }
t5=$SECONDS
wait_until 30 app_on5 || fail "anti-entropy did not bring the app statement to new member 5"
echo "    node 5 got the app after $((SECONDS - t5)) s" >&2
[ "$(mpk_of "$W/g5.json")" = "$MPK" ] || fail "MPK changed with the committee"
fetch "$W/m6" 2> "$W/f6.err" || fail "fetch after 4 -> 5 (group file of epoch $E0): $(cat "$W/f6.err")"
same_key "$W/m6" "after 4 -> 5, old group file"
# every node of the new committee, node 5 included, gives a valid partial
"$TKMS" key fetch --group "$W/g5.json" --app "$APP" --attestation dev --wait-all --json --out "$W/m7" \
  > "$W/f7.json" 2> "$W/f7.err" || fail "fetch after 4 -> 5 (group file of epoch $E5): $(cat "$W/f7.err")"
same_key "$W/m7" "after 4 -> 5, new group file"
python3 - "$W/f7.json" <<'PY' || fail "not every member of the new committee gave a valid partial: $(cat "$W/f7.json")"
import json,sys
r=json.load(open(sys.argv[1]))["report"]
assert (r["n"], r["t"]) == (5, 4) and len(r["nodes"]) == 5, r
bad=[(x["index"], x["state"], x["http_status"], x["code"]) for x in r["nodes"] if x["http_status"] != 200 or x["code"]]
assert not bad, bad
PY
# n - t = 1 of the new committee down (an old member): the new member's partial is needed
"$TKMS" cluster kill 1 --dir "$C" 2>/dev/null
fetch "$W/m8" 2> "$W/f8.err" || fail "fetch after 4 -> 5 with node 1 down: $(cat "$W/f8.err")"
same_key "$W/m8" "after 4 -> 5, node 1 down"
echo "    committee 4 -> 5 at epoch $E5 (n = 5, t = 4), MPK unchanged" >&2
# sanitizer builds (TKMS_SANITIZE=ON): no client run or daemon reported an error
! grep -l -E "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$W"/*.err "$C"/node*/tkmsd.log \
  || fail "sanitizer report (files above)"
echo "PASS"
