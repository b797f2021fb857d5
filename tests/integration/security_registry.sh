#!/usr/bin/env bash
# App registry limits (docs/security.md): POST /v1/apps refuses a new app of an owner at its quota
# (403 owner_quota_exceeded) and any new app once the registry is at registry_max_apps (507
# registry_full), storing nothing, while registered apps can still be updated; anti-entropy works
# at 50,000 apps (paged: node 1's registry reaches the three others, and a newer statement
# released afterwards on one node reaches every node within a few sync intervals).
source "$(dirname "$0")/common.inc"
FILL=$BUILD/tkms-test-registry-fill
[ -x "$FILL" ] || fail "missing $FILL (make build)"
P=17840
N=50000
# cap: the 50,000 filled apps, the 3 apps of the quota test and 7 more
CAP=$((N + 10))
C=$(cluster_up rg 4 $P --node-config "{\"registry_max_apps\": $CAP, \"registry_max_apps_per_owner\": 3}")
G=$C/group.json
W=$WORK/w; mkdir -p "$W"
post() { curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$2" "http://127.0.0.1:$1/v1/apps"; }
apps_on() { curl -s "http://127.0.0.1:$((P + $1))/metrics" | awk '$1 == "tkms_registry_apps" {print $2}'; }
# new_app NAME KEYFILE: creates an app of the key's owner, signs seq 1 into W/NAME.json
new_app() {
  "$TKMS" app create --owner-key-file "$2" > "$W/$1.app"
  "$TKMS" app statement --app "$(jget "$W/$1.app" "['app_id']")" --seq "${3:-1}" --method insecure-dev > "$W/$1.st"
  "$TKMS" app sign --owner-key-file "$2" --salt "$(jget "$W/$1.app" "['salt']")" --statement "$W/$1.st" > "$W/$1.json"
}
key() { openssl rand -hex 32 > "$W/$1.key"; chmod 600 "$W/$1.key"; }
expect_code() { # FILE HTTP GOT CODE
  [ "$3" = "$2" ] && grep -q "\"code\":\"$4\"" "$1" || fail "HTTP $3, want $2 $4: $(cat "$1")"
}

log "per-owner quota over HTTP (registry_max_apps_per_owner 3)"
key o1
for i in 1 2 3; do new_app q$i "$W/o1.key"; [ "$(post $((P + 1)) "$W/q$i.json" "$W/r")" = 200 ] || fail "app $i: $(cat "$W/r")"; done
new_app q4 "$W/o1.key"
expect_code "$W/r" 403 "$(post $((P + 1)) "$W/q4.json" "$W/r")" owner_quota_exceeded
grep -q registry_max_apps_per_owner "$W/r" || fail "the refusal does not name the limit: $(cat "$W/r")"
[ "$(apps_on 1)" = 3 ] || fail "node 1 holds $(apps_on 1) apps, want 3"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((P + 1))/v1/apps/$(jget "$W/q4.app" "['app_id']")")" = 404 ] \
  || fail "the refused app was stored"
# an update of a registered app is not a new app
"$TKMS" app statement --app "$(jget "$W/q1.app" "['app_id']")" --seq 2 --method insecure-dev > "$W/q1b.st"
"$TKMS" app sign --owner-key-file "$W/o1.key" --salt "$(jget "$W/q1.app" "['salt']")" --statement "$W/q1b.st" > "$W/q1b.json"
[ "$(post $((P + 1)) "$W/q1b.json" "$W/r")" = 200 ] || fail "update refused at the quota: $(cat "$W/r")"

log "anti-entropy at $N apps: node 1 gets them in its store (stopped), the others by anti-entropy"
wait_until 20 bash -c "[ \"\$(curl -s http://127.0.0.1:$((P + 4))/metrics | awk '\$1 == \"tkms_registry_apps\" {print \$2}')\" = 3 ]" \
  || fail "the quota test's apps did not spread"
PID1=$(cat "$C/node1/tkmsd.pid")
"$TKMS" cluster kill 1 --term --dir "$C" >/dev/null 2>&1
wait_until 15 bash -c "! kill -0 $PID1 2>/dev/null" || fail "node 1 did not stop"
"$FILL" --db "$C/node1/tkms.db" --count $N --first "$W/first.json" >&2 || fail "registry fill"
"$TKMS" cluster start 1 --dir "$C" >/dev/null 2>&1
t0=$SECONDS
all_have() { for i in 1 2 3 4; do [ "$(apps_on $i)" = $((N + 3)) ] || return 1; done; }
wait_until 150 all_have || fail "anti-entropy: nodes hold $(apps_on 1) $(apps_on 2) $(apps_on 3) $(apps_on 4) apps after $((SECONDS - t0)) s"
log "every node holds $((N + 3)) apps, $((SECONDS - t0)) s after node 1 restarted"
grep '"event":"apps_synced"' "$C/node2/tkmsd.log" | tail -2 >&2
reqs=$(grep -o '"requests":[0-9]*' "$C/node2/tkmsd.log" | awk -F: '{s += $2} END {print s}')
log "node 2 made $reqs anti-entropy requests to get them"

log "a newer statement released on node 3 reaches every node"
F=$W/first.json
APP=$(jget "$F" "['app_id']")
echo "$(jget "$F" "['owner_key']")" > "$W/fo.key"; chmod 600 "$W/fo.key"
"$TKMS" app statement --app "$APP" --seq 2 --method insecure-dev > "$W/f2.st"
"$TKMS" app sign --owner-key-file "$W/fo.key" --salt "$(jget "$F" "['salt']")" --statement "$W/f2.st" > "$W/f2.json"
[ "$(post $((P + 3)) "$W/f2.json" "$W/r")" = 200 ] || fail "seq 2 refused: $(cat "$W/r")"
t1=$SECONDS
seq2_everywhere() { for i in 1 2 4; do curl -s "http://127.0.0.1:$((P + i))/v1/apps/$APP" | grep -q '"seq":2' || return 1; done; }
wait_until 30 seq2_everywhere || fail "seq 2 did not reach every node"
log "seq 2 on every node after $((SECONDS - t1)) s"

log "total cap over HTTP (registry_max_apps $CAP)"
key o2; key o3; key o4
n=0
for k in o2 o3 o4; do for i in 1 2 3; do
  n=$((n + 1)); [ $n -le 7 ] || break
  new_app c$n "$W/$k.key"
  [ "$(post $((P + 2)) "$W/c$n.json" "$W/r")" = 200 ] || fail "app $n under the cap: $(cat "$W/r")"
done; done
[ "$(apps_on 2)" = "$CAP" ] || fail "node 2 holds $(apps_on 2) apps, want $CAP"
new_app c8 "$W/o4.key"
expect_code "$W/r" 507 "$(post $((P + 2)) "$W/c8.json" "$W/r")" registry_full
[ "$(apps_on 2)" = "$CAP" ] || fail "the refused app was stored"
"$TKMS" app statement --app "$APP" --seq 3 --method insecure-dev > "$W/f3.st"
"$TKMS" app sign --owner-key-file "$W/fo.key" --salt "$(jget "$F" "['salt']")" --statement "$W/f3.st" > "$W/f3.json"
[ "$(post $((P + 2)) "$W/f3.json" "$W/r")" = 200 ] || fail "update refused with a full registry: $(cat "$W/r")"
# the full registry still takes and spreads updates of registered apps
seq3_on1() { curl -s "http://127.0.0.1:$((P + 1))/v1/apps/$APP" | grep -q '"seq":3'; }
wait_until 30 seq3_on1 || fail "seq 3 did not reach node 1"
curl -s "http://127.0.0.1:$((P + 2))/metrics" > "$WORK/metrics2.txt"   # (a pipe into grep -q can SIGPIPE curl)
grep -q 'tkms_release_requests_total{endpoint="apps",result="registry_full"} 1' "$WORK/metrics2.txt" \
  || fail "registry_full not counted"
echo "PASS"
