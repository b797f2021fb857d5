#!/usr/bin/env bash
# tkmsd integration: hostile input -- malformed JSON, oversized bodies, missing/bad credentials,
# bad envelope signatures, replayed requests, bundles from non-members, garbage and replayed
# protocol bundles -- each gets a 4xx, is logged, and changes nothing; SIGHUP reloads the config;
# a read-only or full disk gives a clear error, never a corrupted store.
source "$(dirname "$0")/common.inc"
P=17580
C=$(cluster_up bi 4 $P)
G=$C/group.json
U=http://127.0.0.1:$((P+1))
TOKEN=$(cat "$C/node1/admin.token")   # node 1's own admin token (U is node 1)
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect() { local want=$1; shift; local got; got=$(code "$@"); [ "$got" = "$want" ] || fail "expected $want, got $got for: $*"; }

log "operator API"
expect 403 -d '{"msg":"00"}' $U/v1/sign                    # not approved by node 1's operator
expect 401 -d '{"msg":"00"}' $U/v1/sign/approve
expect 401 -H "Authorization: Bearer $(printf '%064d' 0)" -d '{"msg":"00"}' $U/v1/sign/approve
expect 401 -H "Authorization: Bearer $(cat "$C/node2/admin.token")" -d '{"msg":"00"}' $U/v1/sign/approve
expect 401 -H "X-Tkms-Key: $(printf '%064d' 0)" -H "X-Tkms-Time: $(date +%s)000" -H "X-Tkms-Sig: $(printf '%0128d' 0)" -d '{"msg":"00"}' $U/v1/sign/approve
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":' $U/v1/sign/approve
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":"zz"}' $U/v1/sign/approve
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":"00","msg":"01"}' $U/v1/sign/approve
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":"00","ttl_s":0}' $U/v1/sign/approve
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":"00","ttl_s":2592001}' $U/v1/sign/approve  # 30 days + 1 s
expect 400 -H "Authorization: Bearer $TOKEN" -d '{"msg":"00","extra":1}' $U/v1/sign/approve
expect 400 -d '{"msg":"zz"}' $U/v1/sign
head -c 2000000 /dev/zero | tr '\0' a > "$WORK/big"
expect 413 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big" $U/v1/sign/approve
expect 404 $U/v1/nope
expect 400 $U/v1/group?epoch=x
[ "$(code -d '{"msg":"00"}' $U/v1/sign)" = 403 ] || fail "a refused approval was recorded"

log "operator-signed requests: own operator ok, replay refused, non-member refused"
echo '{"msg":"0102"}' > "$WORK/msg.json"
out=$("$TKMS" node curl --config "$C/node1/config.json" --url $U --path /v1/sign/approve --method POST --body-file "$WORK/msg.json" --repeat 2)
echo "$out" | head -1 | grep -q '^200 ' || fail "own operator's approval refused: $out"
echo "$out" | tail -1 | grep -q '^409 ' || fail "replayed request accepted: $out"
"$TKMS" node init --dir "$WORK/outsider" --address http://127.0.0.1:17599 >/dev/null
out=$("$TKMS" node curl --config "$WORK/outsider/config.json" --url $U --path /v1/sign/approve --method POST --body-file "$WORK/msg.json")
echo "$out" | grep -q '^403 ' || fail "non-member approved: $out"

log "peer endpoint"
python3 - "$WORK/garbage.bin" <<'PY'
import sys; open(sys.argv[1],"wb").write(b"\x00"*200)
PY
SESSION=$(jget "$G" "['session']")
python3 - "$WORK/replay.bin" "$SESSION" <<'PY'
import sys, struct
sess = bytes.fromhex(sys.argv[2]); body = b"\x01"*40
open(sys.argv[1],"wb").write(b"TKDG" + bytes([1, 1]) + sess + struct.pack(">II", 1, len(body)) + body + b"\x02"*64)
PY
out=$("$TKMS" node curl --config "$WORK/outsider/config.json" --url $U --path /v1/peer/bundle --method POST --body-file "$WORK/replay.bin")
echo "$out" | grep -q '^403 ' || fail "bundle from a non-member: $out"
out=$("$TKMS" node curl --config "$C/node2/config.json" --url $U --path /v1/peer/bundle --method POST --body-file "$WORK/garbage.bin")
echo "$out" | grep -q '^400 ' || fail "garbage bundle: $out"
out=$("$TKMS" node curl --config "$C/node2/config.json" --url $U --path /v1/peer/bundle --method POST --body-file "$WORK/replay.bin")
echo "$out" | grep -q '^4[0-9][0-9] ' || fail "replayed session bundle: $out"
expect 401 --data-binary @"$WORK/replay.bin" $U/v1/peer/bundle
expect 400 -d 'not json' $U/v1/committee/proposal

log "nothing changed; everything was logged"
[ "$(hfield $((P+1)) epoch)" = 0 ] || fail "epoch changed"
sign_ok "$G" 0102 >/dev/null
n=$(grep -c '"event":"request_rejected"' "$C/node1/tkmsd.log")
[ "$n" -ge 16 ] || fail "only $n rejections logged"
curl -s $U/metrics > "$WORK/metrics.txt"
grep -q '^tkms_rejected_requests_total [1-9]' "$WORK/metrics.txt" || fail "rejections not counted"

log "SIGHUP reloads the config"
python3 - "$C/node1/config.json" <<'PY'
import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["log_level"]="debug"; json.dump(c,open(p,"w"),indent=2)
PY
kill -HUP "$(cat "$C/node1/tkmsd.pid")"
wait_until 5 grep -q '"event":"reloaded"' "$C/node1/tkmsd.log" || fail "no reload"
"$TKMS" cluster down --dir "$C" >/dev/null 2>&1

if mkdir -p "$WORK/ro" && mount -t tmpfs -o size=4m tmpfs "$WORK/ro" 2>/dev/null; then
  log "read-only disk: clear error, store intact"
  "$TKMS" node init --dir "$WORK/ro/n" --address http://127.0.0.1:17598 >/dev/null
  mount -o remount,ro "$WORK/ro"
  set +e; err=$("$TKMSD" --config "$WORK/ro/n/config.json" 2>&1 >/dev/null); rc=$?; set -e
  [ $rc -ne 0 ] || fail "tkmsd started on a read-only disk"
  echo "$err" | grep -qi "read-only" || fail "unclear read-only error: $err"
  mount -o remount,rw "$WORK/ro"
  python3 -c "import sqlite3; assert sqlite3.connect('$WORK/ro/n/tkms.db').execute('pragma integrity_check').fetchone()[0]=='ok'"
  umount "$WORK/ro"

  log "full disk: clear error, store intact"
  mkdir -p "$WORK/full" && mount -t tmpfs -o size=1m tmpfs "$WORK/full"
  "$TKMS" node init --dir "$WORK/full/n" --address http://127.0.0.1:17597 >/dev/null
  dd if=/dev/zero of="$WORK/full/filler" bs=4k 2>/dev/null || true
  set +e; err=$("$TKMS" node init --dir "$WORK/full/m" --address http://127.0.0.1:17596 2>&1); rc=$?; set -e
  [ $rc -ne 0 ] || fail "node init succeeded on a full disk"
  echo "$err" | grep -qi "full\|No space" || fail "unclear full-disk error: $err"
  set +e; err=$(timeout 3 "$TKMSD" --config "$WORK/full/n/config.json" 2>&1 >/dev/null); rc=$?; set -e
  if [ $rc -ne 124 ]; then echo "$err" | grep -qi "full\|space" || fail "unclear full-disk error from tkmsd: $err"; fi
  rm -f "$WORK/full/filler"
  python3 -c "import sqlite3; assert sqlite3.connect('$WORK/full/n/tkms.db').execute('pragma integrity_check').fetchone()[0]=='ok'"
  "$TKMS" node show --config "$WORK/full/n/config.json" >/dev/null || fail "store unreadable after a full disk"
  umount "$WORK/full"
else
  log "skipping read-only/full disk checks (cannot mount tmpfs here)"
fi
echo "PASS"
