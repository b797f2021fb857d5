#!/usr/bin/env bash
# Security: strict input (docs/security.md, "Input strictness" and "Committee thresholds").
# GET /v1/group?epoch= takes a strict decimal u64: "-1", "18446744073709551616", "+0", " 0",
# "00", "0x0" and "" are 400 (they used to alias the latest group); UINT64_MAX is 404, not "latest".
source "$(dirname "$0")/common.inc"
P=17840
C=$(cluster_up inp 4 $P)
U=http://127.0.0.1:$((P + 1))
code() { curl -s -o "$WORK/out" -w '%{http_code}' "$@"; }

log "GET /v1/group?epoch=: strict decimal u64"
[ "$(code "$U/v1/group?epoch=0")" = 200 ] || fail "epoch=0: $(cat "$WORK/out")"
cmp -s "$WORK/out" "$C/group.json" || fail "epoch=0 is not the certified group"
[ "$(code "$U/v1/group?epoch=1")" = 404 ] || fail "epoch=1 (not certified yet)"
[ "$(code "$U/v1/group?epoch=18446744073709551615")" = 404 ] || fail "epoch=UINT64_MAX gave $(cat "$WORK/out" | head -c 80)"
for e in -1 18446744073709551616 99999999999999999999 %2B0 %200 0%20 00 0x0 1e0 ''; do
  st=$(code "$U/v1/group?epoch=$e")
  [ "$st" = 400 ] || fail "epoch='$e': HTTP $st $(head -c 80 "$WORK/out")"
  grep -q '"code":"bad_request"' "$WORK/out" || fail "epoch='$e': $(cat "$WORK/out")"
done
echo "  ok: -1, 2^64, 10^20-1, +0, ' 0', '0 ', 00, 0x0, 1e0 and '' are 400; 2^64-1 is 404"
echo "PASS"
