#!/usr/bin/env bash
# tkmsd integration: a node that is behind catches up only to a group whose committee it would have
# run itself. A certified next-epoch group file proves that its members signed it, not that they
# were entitled to: one malicious operator can make up a committee of its own keys, with the same
# MPK and a correct link to the current group, and have it certify itself
# (tkms-test-forge-group). Here that operator answers at node 1's address, announces a newer epoch
# and serves the forgery; node 4 must refuse it (catchup_rejected, naming the committee), stay at
# the current epoch with its share, and keep serving.
source "$(dirname "$0")/common.inc"
P=18600
FORGE="$TKMS_BUILD/tkms-test-forge-group"
C=$(cluster_up cf 4 $P --interval 3600)
E=$(hfield $((P+1)) epoch)
[ -n "$E" ] || fail "no epoch after the DKG"
curl -sf "http://127.0.0.1:$((P+2))/v1/group?epoch=$E" > "$WORK/prev.json" || fail "no group file of epoch $E"
"$FORGE" "$WORK/prev.json" > "$WORK/forged.json" || fail "the forgery does not verify as a group file"
jget "$WORK/forged.json" "['epoch']" | grep -c "^$((E+1))\$" > /dev/null || fail "the forgery is not for epoch $((E+1))"

log "node 1 is replaced by a malicious operator that serves a forged epoch $((E+1))"
"$TKMS" cluster kill 1 --dir "$C" 2>/dev/null
python3 - "$((P+1))" "$((E+1))" "$WORK/forged.json" > "$WORK/fake.log" 2>&1 <<'PY' &
import http.server, json, sys, time
port, epoch, forged = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/v1/health"):
            body = json.dumps({"epoch": epoch, "has_share": True, "server_time_ms": int(time.time() * 1000)}).encode()
        elif self.path.startswith("/v1/group"):
            body = forged
            print("served", self.path, flush=True)
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.send_response(404); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
FAKE=$!
trap 'rc=$?; kill $FAKE 2>/dev/null; set +e; (exit $rc); cleanup' EXIT
wait_until 10 bash -c "curl -sf http://127.0.0.1:$((P+1))/v1/health > /dev/null" || fail "the fake peer did not start"

log "node 4 restarts and probes its peers"
"$TKMS" cluster kill 4 --dir "$C" 2>/dev/null
"$TKMS" cluster start 4 --dir "$C" 2>/dev/null
wait_until 40 bash -c "grep -c 'served /v1/group?epoch=$((E+1))' '$WORK/fake.log' > /dev/null" \
  || fail "node 4 never fetched the announced epoch $((E+1))"
wait_until 10 bash -c "grep -c '\"event\":\"catchup_rejected\"' '$C/node4/tkmsd.log' > /dev/null" \
  || fail "node 4 did not reject the forged group: $(grep -E 'caught_up|catchup' "$C/node4/tkmsd.log")"
grep '"event":"catchup_rejected"' "$C/node4/tkmsd.log" | grep -c "neither the current one nor that of a verified proposal" \
  > /dev/null || fail "rejected for another reason: $(grep catchup_rejected "$C/node4/tkmsd.log" | head -1)"
grep -c '"event":"caught_up"' "$C/node4/tkmsd.log" > /dev/null && fail "node 4 adopted the forged group"
sleep 3 # a few more probe rounds: the refusal holds
[ "$(hfield $((P+4)) epoch)" = "$E" ] || fail "node 4 left epoch $E"
[ "$(hfield $((P+4)) has_share)" = True ] || fail "node 4 lost its share"
grep -c '"event":"caught_up"' "$C/node4/tkmsd.log" > /dev/null && fail "node 4 adopted the forged group"
wait_until 20 bash -c "[ \"\$(curl -s http://127.0.0.1:$((P+4))/v1/health | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = serving ]" \
  || fail "node 4 does not serve: $(health $((P+4)))"
echo "PASS"
