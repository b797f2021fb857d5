#!/usr/bin/env bash
# tkmsd integration: reshares run on schedule (6 s interval); the MPK never changes; shares do (a
# node's partial on a fixed message changes per epoch); kill -9 during a reshare on one node and
# then on two nodes: no corruption, the cluster converges on one epoch with the same MPK, and a
# restart from the SQLite state serves the same epoch.
source "$(dirname "$0")/common.inc"
P=17540
C=$(cluster_up rs 4 $P --interval 6 --phase-ms 800)
G=$C/group.json
MPK=$(mpk_of "$G")
# node 1's operator approves the fixed message once; the approval outlives the epochs
curl -sf -H "Authorization: Bearer $(cat "$C/node1/admin.token")" -d '{"msg":"aa"}' "http://127.0.0.1:$((P+1))/v1/sign/approve" >/dev/null \
  || fail "approval refused"
partial() { curl -s -d '{"msg":"aa"}' "http://127.0.0.1:$1/v1/sign" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['epoch'], d['partial'])"; }
group_mpk() { curl -s "http://127.0.0.1:$1/v1/group" | python3 -c "import json,sys; print(json.load(sys.stdin)['mpk'])"; }

p0=$(partial $((P+1)))
log "scheduled reshares: wait for epoch >= 2 on all nodes"
wait_until 30 min_epoch 2 $((P+1)) $((P+2)) $((P+3)) $((P+4)) || fail "no scheduled reshares"
p2=$(partial $((P+1)))
[ "${p0%% *}" != "${p2%% *}" ] || fail "epoch did not change"
[ "${p0#* }" != "${p2#* }" ] || fail "the share did not change across epochs"
for i in 1 2 3 4; do [ "$(group_mpk $((P+i)))" = "$MPK" ] || fail "MPK changed on node $i"; done
sign_ok "$G" 0102 >/dev/null
curl -s "http://127.0.0.1:$((P+1))/metrics" > "$WORK/metrics.txt"
grep -q 'tkms_sessions_total{kind="reshare",result="ok"} [1-9]' "$WORK/metrics.txt" || fail "metrics miss reshares"

sleep_until_slot() { python3 -c "import time; time.sleep(max(0, $(until_next_slot "$C") + $1))"; }
pid_of() { cat "$C/node$1/tkmsd.pid"; }
check_converged() { # every node serves a later epoch with the same MPK
  wait_until 30 min_epoch "$1" $((P+1)) $((P+2)) $((P+3)) $((P+4)) || fail "no convergence: $2"
  for i in 1 2 3 4; do [ "$(group_mpk $((P+i)))" = "$MPK" ] || fail "MPK changed on node $i ($2)"; done
}

log "kill -9 one node just after a slot starts"
e0=$(hfield $((P+1)) epoch)
sleep_until_slot 0.03
kill -9 "$(pid_of 2)"; sleep 0.3; "$TKMS" cluster start 2 --dir "$C" 2>/dev/null
check_converged $((e0 + 2)) "one crash"

log "kill -9 in the middle of a slow reshare (one node down, so no fast path) and resume"
e0=$(hfield $((P+1)) epoch)
sleep_until_slot -0.7
kill -9 "$(pid_of 4)"                       # absent at the start: the session runs to its deadlines
sleep_until_slot 1.0
kill -9 "$(pid_of 3)"                       # mid-session, after its deal is on disk
sleep 0.3; "$TKMS" cluster start 3 --dir "$C" 2>/dev/null
sleep 0.3; "$TKMS" cluster start 4 --dir "$C" 2>/dev/null
check_converged $((e0 + 2)) "two crashes"
grep -q '"event":"session_resumed"' "$C/node3/tkmsd.log" || fail "node3 did not resume its session from the checkpoint"
sign_ok "$G" 0304 >/dev/null
for n in 1 2 3 4; do
  python3 -c "import sqlite3; r=sqlite3.connect('$C/node$n/tkms.db').execute('pragma integrity_check').fetchone()[0]; assert r=='ok', r"
  log "node$n events: $(grep -o '"event":"\(session_resumed\|caught_up\|session_failed\|epoch_certified\)"' "$C/node$n/tkmsd.log" | sort | uniq -c | tr -s ' \n' ' ')"
done

log "a reshare that cannot complete is retried at the next slot from the checkpoints"
# node4 is down at the start (no fast path) and node3 dies after dealing: nodes 1 and 2 compute and
# sign the transcript but cannot certify it (2 < q = 3), linger past the window and abandon the
# attempt at the next slot (keeping their computed share aside); everybody then retries the same
# session (same session ID) from its checkpoint, re-sending byte-identical deals, so the honest
# dealers 1-3 stay qualified (a fresh deal would be a second, different signed deal: equivocation).
check_converged $(( $(hfield $((P+1)) epoch) + 1 )) "before the failed attempt"   # every node holds a share
e0=$(hfield $((P+1)) epoch)
for i in 1 2 3 4; do [ "$(hfield $((P+i)) epoch)" = "$e0" ] || fail "nodes disagree on the epoch before the failed attempt"; done
ef=$((e0 + 1))
sleep_until_slot -0.7
kill -9 "$(pid_of 4)"
sleep_until_slot 1.0
kill -9 "$(pid_of 3)"                       # after its deal and response are on disk
sleep_until_slot 0.3                        # the attempt failed; restart both in the retry slot
"$TKMS" cluster start 3 --dir "$C" 2>/dev/null
"$TKMS" cluster start 4 --dir "$C" 2>/dev/null
check_converged "$ef" "retried reshare"
python3 - "$C" "$ef" "$MPK" $((P+1)) <<'PY' || fail "the retried reshare is not the one expected"
import json, sys, urllib.request
c, ef, mpk, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
g = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/group?epoch={ef}"))
assert g["epoch"] == ef and g["mpk"] == mpk, "wrong group or MPK changed"
# QUAL = the t_old smallest qualified dealers: dealers 1-3 all dealt and none was disqualified
assert g["qual"] == [1, 2, 3], f"honest dealers disqualified: qual={g['qual']}"
def events(n):
    out = []
    for line in open(f"{c}/node{n}/tkmsd.log"):
        try: out.append(json.loads(line))
        except ValueError: pass
    return [e for e in out if e.get("epoch") == ef]
for n in (1, 2, 3):
    ev = events(n)
    names = [e.get("event") for e in ev]
    first = [e for e in ev if e.get("event") in ("session_started", "session_resumed")]
    retried = [e for e in ev if e.get("event") == "session_retried"]
    assert first and retried, f"node{n}: no failed attempt followed by a retry: {names}"
    assert all(e["session"] == g["session"] for e in first + retried), f"node{n}: not the same session"
    # a retry never starts a fresh engine (new deal seed) for the session it had started
    assert names.count("session_started") <= 1, f"node{n}: fresh engine for a retry: {names}"
    assert "epoch_certified" in names, f"node{n}: not certified by its own engine: {names}"
for n in (1, 2):
    names = [e.get("event") for e in events(n)]
    assert "session_lingering" in names and "pending_share_kept" in names, f"node{n}: {names}"
    assert names.index("session_failed") < names.index("session_retried"), f"node{n}: {names}"
PY
sign_ok "$G" 0506 >/dev/null
curl -s "http://127.0.0.1:$((P+1))/metrics" > "$WORK/metrics2.txt"
grep -q 'tkms_sessions_total{kind="reshare",result="failed"} [1-9]' "$WORK/metrics2.txt" || fail "the failed attempt was not counted"

log "restart from the store serves the same epoch"
"$TKMS" cluster down --dir "$C" >/dev/null 2>&1
# keep the schedule from moving on while we look: compare right after the restart
e_stop=$(python3 -c "import sqlite3; print(sqlite3.connect('$C/node1/tkms.db').execute('select max(epoch) from groups').fetchone()[0])")
"$TKMS" cluster start 1 --dir "$C" 2>/dev/null
e_start=$(hfield $((P+1)) epoch)
[ "$e_start" -ge "$e_stop" ] || fail "restart lost the epoch ($e_start < $e_stop)"
n_shares=$(python3 -c "import sqlite3; print(sqlite3.connect('$C/node1/tkms.db').execute('select count(*) from shares').fetchone()[0])")
[ "$n_shares" = 1 ] || fail "old shares not erased ($n_shares rows)"
python3 -c "import sqlite3; r=sqlite3.connect('$C/node1/tkms.db').execute('pragma integrity_check').fetchone()[0]; assert r=='ok', r"
echo "PASS"
