#!/usr/bin/env bash
# tkmsd integration (issue 11): clock skew, with a real skewed clock (libfaketime on one node).
#  1. node 4 runs 3 s ahead while the phases are 500 ms: reshares go on and node 4 takes part in
#     them (its schedule clock follows the members' median; /v1/health shows the offset).
#  2. node 4 jumps 200 s ahead (beyond clock_skew_s = 120), then its clock is fixed: reshares
#     resume by themselves, node 4 holds a share of the current epoch again.
source "$(dirname "$0")/common.inc"
FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -f "$FT" ] || fail "libfaketime is missing (Debian package faketime; make deps installs it)"
P=18040
C=$(cluster_up sk 4 $P --interval 8 --phase-ms 500)
ALL="$((P+1)) $((P+2)) $((P+3)) $((P+4))"
SKEW=$WORK/skew; echo "+3s" > "$SKEW"
skewed_start() { # node 4 with the fake clock read from $SKEW at every call
  env LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$SKEW" FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$TKMS" cluster start 4 --dir "$C" 2>/dev/null
}
"$TKMS" cluster kill 4 --dir "$C" --term 2>/dev/null
skewed_start
t_ms=$(python3 -c "import time; print(int(time.time()*1000))")
h4=$(curl -s "http://127.0.0.1:$((P+4))/v1/health")
python3 - "$h4" "$t_ms" <<'PY' || fail "node 4's clock is not 3 s ahead (libfaketime not effective)"
import json, sys
h = json.loads(sys.argv[1]); d = h["server_time_ms"] - int(sys.argv[2])
assert 2500 < d < 3600, d
PY
e0=$(hfield $((P+1)) epoch)
log "1. node 4 is 3 s ahead, phases are 500 ms"
wait_until 40 min_epoch $((e0 + 3)) $ALL || fail "reshares stopped with a node 3 s ahead"
off=$(hfield $((P+4)) clock_offset_ms)
[ "$off" -lt -2500 ] && [ "$off" -gt -3500 ] || fail "node 4's schedule clock offset is $off ms, expected about -3000"
python3 - "$C/node4/tkmsd.log" "$e0" <<'PY' || fail "node 4 did not take part in the reshares"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
mine = [e for e in ev if e.get("event") == "epoch_certified" and e.get("share") and e["epoch"] > int(sys.argv[2])]
assert len(mine) >= 2, [e.get("event") for e in ev][-30:]
PY

log "2. node 4 jumps 200 s ahead, then its clock is fixed"
echo "+200s" > "$SKEW"
sleep 9
echo "+0s" > "$SKEW"
e1=$(hfield $((P+1)) epoch)
cur4() { [ "$(hfield $((P+4)) epoch)" = "$(hfield $((P+1)) epoch)" ] && [ "$(hfield $((P+4)) has_share)" = True ] \
         && [ "$(hfield $((P+4)) epoch)" -ge $((e1 + 2)) ] && [ "$(hfield $((P+4)) state)" = serving ]; }
wait_until 60 cur4 || fail "after the clock was fixed node 4 did not come back to a share of the current epoch \
(node 4 at $(hfield $((P+4)) epoch) share $(hfield $((P+4)) has_share), node 1 at $(hfield $((P+1)) epoch))"
wait_until 20 min_epoch $((e1 + 2)) $ALL || fail "reshares did not resume"
echo "PASS"
