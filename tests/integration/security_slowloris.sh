#!/usr/bin/env bash
# Security (issue 12, item 2): slowloris. A 4-node --dev cluster with the default connection limits,
# started with a soft RLIMIT_NOFILE of 1024 as systemd gives. Phase 1: 2,000 half-open connections
# from ONE source (127.0.0.2) against each of two nodes, each sending a header byte every second.
# While it runs, every /v1/health probe of the attacked nodes is answered, `tkms key fetch` returns
# the app's mnemonic, and a scheduled reshare completes on all four nodes. The per-source limit caps
# what the attacker holds (the daemon's fds stay flat), the total header deadline closes connections
# however many bytes they trickle, and the daemon raised its soft fd limit at start. Phase 2: 40
# sources x 32 connections fill every non-reserved slot of node 1; a connection from a fresh client
# address is refused with 503, while the committee members (127.0.0.1, the addresses in the group
# file) still get the reserved slots: health answered, another reshare completes.
# Run it in a private network namespace (the attacker binds 127.0.0.2..42).
source "$(dirname "$0")/common.inc"
SLOW="$(cd "$(dirname "$0")/../tools" && pwd)/slowloris.py"
SLOW_PID=
stop_attack() { [ -z "$SLOW_PID" ] || { kill "$SLOW_PID" 2>/dev/null || true; wait "$SLOW_PID" 2>/dev/null || true; }; SLOW_PID=; }
# stop the attacker, then common.inc's cleanup with the test's exit status (errexit off, or the
# `(exit rc)` that hands the status on would end the trap before cleanup stops the daemons)
on_exit() { local rc=$?; set +e; stop_attack; (exit $rc); cleanup; }
trap on_exit EXIT INT TERM
P=17860
N4="$((P + 1)) $((P + 2)) $((P + 3)) $((P + 4))"
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 8192 ] || fail "the attacker needs RLIMIT_NOFILE >= 8192 (hard limit $(ulimit -Hn))"
rc=0; curl -s -m 1 --interface 127.0.0.2 "http://127.0.0.1:1/" >/dev/null 2>&1 || rc=$?
[ $rc != 45 ] || fail "cannot bind 127.0.0.2 (run in a network namespace with lo up: unshare -n)"

log "4-node --dev cluster (default limits, daemons started with soft RLIMIT_NOFILE 1024), reshare every 6 s"
C=$(ulimit -Sn 1024; cluster_up sl 4 $P --dev --interval 6 --phase-ms 800)
G=$C/group.json
# every probe is bounded in time (common.inc's health() waits forever on a node that accepted and hangs)
health() { curl -s -m 3 "http://127.0.0.1:$1/v1/health"; }
pid_of() { cat "$C/node$1/tkmsd.pid"; }
nfds() { ls "/proc/$(pid_of "$1")/fd" | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(pid_of "$1")/status"; }
soft_nofile() { awk '/^Max open files/ {print $4}' "/proc/$(pid_of "$1")/limits"; }
metric() { { curl -s -m 3 "http://127.0.0.1:$1/metrics" || true; } | awk -v k="$2" '$1 == k {print $2; f=1} END {if (!f) print 0}'; }
answered() { [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$@")" != 000 ]; }
current_epoch() { local m=0 e; for p in $N4; do e=$(hfield "$p" epoch); [ -n "$e" ] && [ "$e" -gt "$m" ] && m=$e; done; echo $m; }

log "register an app; baseline fetch"
W=$WORK/w; mkdir -p "$W"
( umask 077; openssl rand -hex 32 > "$W/owner.key" )
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(jget "$W/app.json" "['app_id']"); SALT=$(jget "$W/app.json" "['salt']")
"$TKMS" app statement --app "$APP" --seq 1 --method insecure-dev > "$W/st.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st.json" > "$W/signed.json"
"$TKMS" app release --statement "$W/signed.json" --group "$G" > "$W/rel.out" || fail "release: $(cat "$W/rel.out")"
"$TKMS" key dev-keygen --out "$W/dev.key" > /dev/null
fetch() { "$TKMS" key fetch --group "$G" --app "$APP" --attestation dev --dev-key-file "$W/dev.key" --out "$@"; }
fetch "$W/m0" 2> "$W/f0.err" || fail "baseline fetch: $(cat "$W/f0.err")"
FDS0=$(nfds 1); RSS0=$(rss_kb 1)

log "phase 1: 2000 slow connections from 127.0.0.2 to each of nodes 1 and 2"
python3 "$SLOW" --source 127.0.0.2 --target 127.0.0.1:$((P + 1)) --target 127.0.0.1:$((P + 2)) \
  --conns 2000 --interval 1 --duration 150 --status "$WORK/slow1.json" &
SLOW_PID=$!
attack_ramped() { python3 -c "import json,sys; s=json.load(open('$WORK/slow1.json')); sys.exit(0 if all(v['attempted'] >= 2000 for v in s.values()) else 1)"; }
wait_until 20 attack_ramped || fail "the attacker did not open its connections"
T_RAMP=$SECONDS
sleep 2
E1=$(current_epoch)
ok1=0; ok2=0
for i in 1 2 3 4 5 6 7 8 9; do
  answered "http://127.0.0.1:$((P + 1))/v1/health" && ok1=$((ok1 + 1))
  answered "http://127.0.0.1:$((P + 2))/v1/health" && ok2=$((ok2 + 1))
  sleep 0.3
done
FDS1=$(nfds 1); RSS1=$(rss_kb 1); CONN1=$(metric $((P + 1)) tkms_http_connections)
# established server-side sockets from the attacker's address: admitted ones (and a few not accepted yet)
HELD1=$(ss -Htn state established "( sport = :$((P + 1)) and dst 127.0.0.2 )" | wc -l)
set +e; fetch "$W/m1" --deadline-ms 15000 2> "$W/f1.err"; FETCH_RC=$?; set -e
RESHARE_RC=0; wait_until 20 min_epoch $((E1 + 1)) $N4 || RESHARE_RC=1
E1B=$(current_epoch)
# the attack must outlast the 5 s header deadline by far for max_life_s to mean anything
while [ $((SECONDS - T_RAMP)) -lt 10 ]; do sleep 0.5; done
stop_attack
REFUSED1=$(metric $((P + 1)) 'tkms_http_connections_refused_total{reason="per_source"}')
CUT1=$(metric $((P + 1)) 'tkms_http_timeouts_total{phase="head"}')
python3 - "$WORK/slow1.json" <<'PY' >&2
import json,sys
for k, v in json.load(open(sys.argv[1])).items(): print(f"    attacker {k}: {v}")
PY
log "phase 1 figures (node 1): health answered node1 $ok1/9 node2 $ok2/9; fds $FDS0 -> $FDS1; RSS ${RSS0} -> ${RSS1} kB;" \
    "attacker connections held $HELD1; open HTTP connections $CONN1; per-source refusals $REFUSED1; cut by the header deadline $CUT1;" \
    "soft RLIMIT_NOFILE $(soft_nofile 1);" \
    "key fetch exit $FETCH_RC; epoch $E1 -> $E1B"
[ "$ok1" = 9 ] && [ "$ok2" = 9 ] || fail "health probes under attack: node1 $ok1/9, node2 $ok2/9 answered"
[ "$FETCH_RC" = 0 ] || fail "tkms key fetch under attack: exit $FETCH_RC: $(cat "$W/f1.err")"
cmp -s "$W/m0" "$W/m1" || fail "the mnemonic fetched under attack differs"
[ "$RESHARE_RC" = 0 ] || fail "no reshare past epoch $E1 on all 4 nodes under attack"
[ "$HELD1" -le 40 ] || fail "node 1 holds $HELD1 connections from the attacker (per-source limit 32)"
# 32 attacker connections, up to 64 refusals being answered, the members' own connections
[ $((FDS1 - FDS0)) -le 128 ] || fail "node 1 uses $((FDS1 - FDS0)) more fds under attack"
[ "$CONN1" -le 96 ] || fail "node 1 holds $CONN1 connections under attack"
[ "$REFUSED1" -ge 1000 ] || fail "node 1 counted only $REFUSED1 per-source refusals"
[ "$CUT1" -ge 32 ] || fail "node 1 cut only $CUT1 connections at the header deadline"
[ "$(soft_nofile 1)" -gt 1024 ] || fail "tkmsd did not raise its soft RLIMIT_NOFILE ($(soft_nofile 1))"
python3 - "$WORK/slow1.json" <<'PY' || fail "a trickling connection outlived the 5 s header deadline"
import json,sys
s = json.load(open(sys.argv[1]))
# header_timeout_ms = 5000 (default), checked every 100 ms; the attacker kept sending every second
assert all(v["max_life_s"] <= 7.0 for v in s.values()), s
assert all(v["answered"] > 0 for v in s.values()), s  # refusals are answered (503), not silent
PY

log "phase 2: 40 sources x 32 connections fill node 1's non-reserved slots"
python3 "$SLOW" --source 127.0.0.3-127.0.0.42 --target 127.0.0.1:$((P + 1)) \
  --conns 32 --interval 1 --reopen-rate 5 --duration 150 --status "$WORK/slow2.json" &
SLOW_PID=$!
full() { [ "$(metric $((P + 1)) tkms_http_connections)" -ge 950 ]; }
wait_until 20 full || fail "the attack did not fill node 1 ($(metric $((P + 1)) tkms_http_connections) connections)"
E2=$(current_epoch)
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' --interface 127.0.0.200 "http://127.0.0.1:$((P + 1))/v1/health" || true)
ok=0; for i in 1 2 3 4 5 6 7 8 9; do answered "http://127.0.0.1:$((P + 1))/v1/health" && ok=$((ok + 1)); sleep 0.3; done
RESHARE_RC=0; wait_until 20 min_epoch $((E2 + 1)) $N4 || RESHARE_RC=1
CONN2=$(metric $((P + 1)) tkms_http_connections); FDS2=$(nfds 1); RSS2=$(rss_kb 1)
REFUSED2=$(metric $((P + 1)) 'tkms_http_connections_refused_total{reason="capacity"}')
stop_attack
log "phase 2 figures (node 1): open HTTP connections $CONN2; fds $FDS2; RSS $RSS2 kB; fresh client got $code;" \
    "member health answered $ok/9; capacity refusals $REFUSED2; epoch $E2 -> $(current_epoch)"
[ "$code" = 503 ] || fail "a fresh client source got $code with the non-reserved slots full, want 503"
[ "$ok" = 9 ] || fail "member-address health probes with the slots full: $ok/9 answered"
[ "$RESHARE_RC" = 0 ] || fail "no reshare past epoch $E2 with node 1's client slots full"
[ "$CONN2" -le 1024 ] || fail "node 1 holds $CONN2 connections (max_connections 1024)"
wait_until 10 answered --interface 127.0.0.200 "http://127.0.0.1:$((P + 1))/v1/health" || fail "node 1 did not recover"
! grep -l -E "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$C"/node*/tkmsd.log || fail "sanitizer report"
echo "PASS"
