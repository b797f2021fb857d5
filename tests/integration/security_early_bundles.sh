#!/usr/bin/env bash
# Peer memory bounds (docs/security.md): a committee member floods a peer, between two sessions,
# with protocol bundles in correctly signed envelopes -- 1 MB bundles, 200 kB bundles for the next
# session, bundles for random sessions, thousands of small ones. The peer's early-bundle buffer
# keeps at most its per-sender budget of them (RSS and the tkms_early_bundle_bytes gauge stay
# bounded), an honest member's early bundle is still accepted after the flood, and the next
# reshare certifies on every node.
source "$(dirname "$0")/common.inc"
FLOOD=$BUILD/tkms-test-peer-flood
[ -x "$FLOOD" ] || fail "missing $FLOOD (make build)"
P=17800
# ASan builds (make test-asan) keep freed memory in a quarantine, 256 MB by default, which would
# count as RSS here; a small one keeps the bound meaningful there too (no effect on other builds)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
# a reshare every 30 s: the DKG runs at genesis, the flood happens in the gap before slot 1
C=$(cluster_up eb 4 $P --interval 30 --phase-ms 500)
G=$C/group.json
U1=http://127.0.0.1:$((P + 1))
PID1=$(cat "$C/node1/tkmsd.pid")
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
metric() { curl -s "$U1/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
flood() { "$FLOOD" --config "$C/node2/config.json" --url "$U1" "$@"; }
status_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['status'].get(sys.argv[2], 0))" "$1" "$2"; }

left=$(until_next_slot "$C")
python3 -c "import sys; sys.exit(0 if float('$left') > 20 else 1)" || fail "too little time before slot 1 ($left s)"
[ "$(hfield $((P + 1)) epoch)" = 0 ] || fail "DKG not certified"
before=$(rss_kb "$PID1")
log "node 1 RSS before the flood: ${before} kB; $left s until the reshare"

log "member 2 floods node 1: 150 x 1 MB bundles for the next session"
big=$(flood --next-of "$G" --count 150 --size 1000000 --tag 1); echo "    $big" >&2
log "member 2: 150 x 200 kB bundles for the next session"
mid=$(flood --next-of "$G" --count 150 --size 200000 --tag 2); echo "    $mid" >&2
log "member 2: 600 x 2 kB bundles for random sessions"
rnd=$(flood --random-session --count 600 --size 2000 --tag 3); echo "    $rnd" >&2
log "member 2: 3500 x 300 B bundles for the next session"
small=$(flood --next-of "$G" --count 3500 --size 300 --tag 4); echo "    $small" >&2
after=$(rss_kb "$PID1")
held=$(metric tkms_early_bundle_bytes)
log "member 3 (honest) sends one early bundle for the next session"
honest=$("$FLOOD" --config "$C/node3/config.json" --url "$U1" --next-of "$G" --count 1 --size 4000 --tag 5)
echo "    $honest" >&2
held2=$(metric tkms_early_bundle_bytes)
log "node 1 RSS after the flood: ${after} kB (+$(( (after - before) / 1024 )) MB); early buffer holds ${held:-?} bytes"
# measured before asserting, so that a failing run still reports the figures
[ "$(status_of "$big" 200)" = 0 ] || fail "bundles larger than the per-sender budget were kept: $big"
[ "$(status_of "$rnd" 409)" = 600 ] || fail "bundles for sessions other than the next one were kept: $rnd"
[ "$(status_of "$small" 200)" = 3500 ] || fail "small bundles refused: $small"
[ $((after - before)) -lt $((64 * 1024)) ] || fail "RSS grew by $(( (after - before) / 1024 )) MB"
[ -n "$held" ] && [ "$held" -le $((256 * 1024)) ] || fail "member 2 holds $held bytes in the early buffer (budget 256 KiB)"
[ "$(metric tkms_early_bundles_dropped_total)" -gt 0 ] || fail "drops not counted"
[ "$(status_of "$honest" 200)" = 1 ] || fail "member 3's early bundle refused after the flood: $honest"
[ "$held2" -gt "$held" ] || fail "member 3's bundle not held ($held -> $held2)"

log "the reshare at slot 1 certifies on every node"
wait_until 50 min_epoch 1 $((P + 1)) $((P + 2)) $((P + 3)) $((P + 4)) || fail "reshare after the flood did not certify"
sign_ok "$G" 0a0b >/dev/null
[ "$(metric tkms_early_bundle_bytes)" = 0 ] || fail "early buffer not emptied when the session started"
grep -q '"event":"epoch_certified".*"epoch":1' "$C/node1/tkmsd.log" || fail "node 1 did not certify epoch 1 itself"
log "node 1 RSS after the reshare: $(rss_kb "$PID1") kB"
echo "PASS"
