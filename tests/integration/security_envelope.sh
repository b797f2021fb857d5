#!/usr/bin/env bash
# Security: the signed envelope names its destination, and its timestamp is strict decimal
# (docs/security.md, "Peer envelope"). A member-signed request captured on its way to node 2 (node 2
# is down; a recorder listens on its address) is refused by node 3 with 401, while node 3 accepts
# the same request signed for it, and node 2 -- its destination -- accepts the captured one. The
# captured timestamp rewritten as "+T" or "0T" (the same number to strtoull) is refused with 401.
# Meanwhile a refusing server on node 2's address: node 1's anti-entropy failure log names that peer.
source "$(dirname "$0")/common.inc"
P=17820
C=$(cluster_up env 4 $P)
URL() { echo "http://127.0.0.1:$((P + $1))"; }
# a valid registry summary that the daemons' own anti-entropy never sends (they hold no app)
echo '{"apps":{"0x00000000000000000000000000000000000000a1":1}}' > "$WORK/summary.json"

log "capture a request that member 1 signs for node 2"
"$TKMS" cluster kill 2 --dir "$C" 2>/dev/null
# the other daemons keep probing node 2's address: answer them 503 and keep only our request
cat > "$WORK/recorder.py" <<'PY'
import http.server, json, sys, time
done = False
class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code):
        self.send_response(code); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def do_GET(self): self.reply(503)
    def do_POST(self):
        global done
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"00a1" not in body: return self.reply(503)
        json.dump({"path": self.path, "headers": dict(self.headers.items()), "body": body.decode()}, open(sys.argv[2], "w"))
        done = True
        self.reply(200)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.timeout = 1
open(sys.argv[3], "w").close()
end = time.time() + 30
while not done and time.time() < end: srv.handle_request()
PY
python3 "$WORK/recorder.py" $((P + 2)) "$WORK/captured.json" "$WORK/rec.ready" &
wait_until 5 test -f "$WORK/rec.ready" || fail "recorder did not start"
"$TKMS" node curl --config "$C/node1/config.json" --url "$(URL 2)" --path /v1/peer/apps --method POST \
  --body-file "$WORK/summary.json" >/dev/null
wait
[ -f "$WORK/captured.json" ] || fail "nothing captured"
hdr() { python3 -c "import json,sys; print(json.load(open('$WORK/captured.json'))['headers']['$1'])"; }
KEY=$(hdr X-Tkms-Key); TS=$(hdr X-Tkms-Time); SIG=$(hdr X-Tkms-Sig)
python3 -c "import json; open('$WORK/body','w').write(json.load(open('$WORK/captured.json'))['body'])"
replay() { # replay NODE TIME -> HTTP status
  curl -s -o "$WORK/replay.out" -w '%{http_code}' -H "X-Tkms-Key: $KEY" -H "X-Tkms-Time: $2" -H "X-Tkms-Sig: $SIG" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/body" "$(URL "$1")/v1/peer/apps"
}

log "replayed to node 3: refused"
st=$(replay 3 "$TS")
[ "$st" = 401 ] || fail "a request signed for node 2 was accepted by node 3: HTTP $st $(cat "$WORK/replay.out")"
grep -q "signed for this node's address" "$WORK/replay.out" || fail "unclear refusal: $(cat "$WORK/replay.out")"
out=$("$TKMS" node curl --config "$C/node1/config.json" --url "$(URL 3)" --path /v1/peer/apps --method POST --body-file "$WORK/summary.json")
echo "$out" | grep -q '^200 ' || fail "the same request signed for node 3 was refused: $out"
echo "  ok: node 3 answers 401 to node 2's request and 200 to its own"

log "anti-entropy failures name the peer"
# while node 2 is down, a server on its address refuses everything; node 1 logs which peer refused
python3 - $((P + 2)) <<'PY' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def refuse(self):
        self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_POST = refuse
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.timeout = 0.5
end = time.time() + 7
while time.time() < end: srv.handle_request()
PY
synced() { grep '"event":"apps_sync_failed"' "$C/node1/tkmsd.log" | grep -c "\"peer\":\"$(URL 2)\"" > /dev/null; }
wait_until 8 synced || fail "node 1 did not log which peer refused its anti-entropy request"
wait
grep '"event":"apps_sync_failed"' "$C/node1/tkmsd.log" | grep -c '"status":403' > /dev/null || fail "status not logged"
echo "  ok: $(grep -m1 '"event":"apps_sync_failed"' "$C/node1/tkmsd.log" | grep -o '"peer".*')"

log "X-Tkms-Time must be strict decimal"
"$TKMS" cluster start 2 --dir "$C" 2>/dev/null
for t in "+$TS" "0$TS" "$TS.0" "${TS}x" ""; do
  st=$(replay 2 "$t")
  [ "$st" = 401 ] || fail "X-Tkms-Time '$t' accepted by node 2: HTTP $st $(cat "$WORK/replay.out")"
done
echo "  ok: '+T', '0T', 'T.0', 'Tx' and '' are refused with 401"
st=$(replay 2 "$TS")
[ "$st" = 200 ] || fail "node 2 refused the request signed for it: HTTP $st $(cat "$WORK/replay.out")"
st=$(replay 2 "$TS")
[ "$st" = 409 ] || fail "second use of the captured request: HTTP $st"
echo "  ok: node 2, the destination, accepts the captured request once (then 409)"

log "a node whose configured address drifted from its group-file entry still accepts its peers"
python3 - "$C/node3/config.json" $((P + 3)) <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["address"] = f"http://localhost:{sys.argv[2]}"; json.dump(c, open(sys.argv[1], "w"))
PY
"$TKMS" cluster restart 3 --dir "$C" 2>/dev/null
out=$("$TKMS" node curl --config "$C/node1/config.json" --url "$(URL 3)" --path /v1/peer/apps --method POST --body-file "$WORK/summary.json")
echo "$out" | grep -q '^200 ' || fail "signed for node 3's group-file address: $out"
out=$("$TKMS" node curl --config "$C/node1/config.json" --url "http://localhost:$((P + 3))" --path /v1/peer/apps --method POST --body-file "$WORK/summary.json")
echo "$out" | grep -q '^200 ' || fail "signed for node 3's configured address: $out"
echo "  ok: node 3 accepts requests signed for its group-file address and for its configured one"

log "peers still talk: the committee signs with one node restarted"
sign_ok "$C/group.json" 0a0b >/dev/null
echo "PASS"
