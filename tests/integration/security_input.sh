#!/usr/bin/env bash
# Security: strict input (docs/security.md, "Input strictness" and "Committee thresholds").
# GET /v1/group?epoch= takes a strict decimal u64: "-1", "18446744073709551616", "+0", " 0",
# "00", "0x0" and "" are 400 (they used to alias the latest group); UINT64_MAX is 404, not "latest".
# Committee proposals signed by every operator are refused (400, nothing stored) when t < ceil(2n/3)
# without "threshold_override", when t < floor(n/2)+1 at all (t = 1 for n = 3), or with an unknown
# field; an override proposal within the bounds is accepted; tkms committee propose enforces the same.
# A proposal needs t valid signatures of distinct current operators: t - 1 signatures, one operator's
# signature repeated t times, or t signatures of which one is corrupted are refused (400, nothing stored).
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

log "committee proposals: t >= ceil(2n/3), or >= floor(n/2)+1 with threshold_override"
G=$C/group.json
"$TKMS" node init --dir "$WORK/new5" --address http://127.0.0.1:$((P + 5)) > "$WORK/id5.json"
n_props() { python3 -c "import sqlite3; print(sqlite3.connect('$C/node1/tkms.db').execute('select count(*) from proposals').fetchone()[0])"; }
# prop OUT 'python edit of p' ARGS...: a proposal from tkms committee propose, edited, then signed by all 4
prop() {
  local out=$1 edit=$2; shift 2
  "$TKMS" committee propose --group "$G" "$@" --out "$out" 2>/dev/null || fail "propose $*"
  python3 -c "import json,sys; p=json.load(open(sys.argv[1])); $edit; json.dump(p, open(sys.argv[1],'w'))" "$out"
  for i in 1 2 3 4; do "$TKMS" committee sign --proposal "$out" --node-config "$C/node$i/config.json" 2>/dev/null || fail "sign"; done
}
submit() { curl -s -o "$WORK/out" -w '%{http_code}' --data-binary @"$1" "$U/v1/committee/proposal"; }
prop "$WORK/t1.json" "p['threshold']=1" --remove 4
st=$(submit "$WORK/t1.json")
[ "$st" = 400 ] || fail "n = 3, t = 1, signed by every operator: HTTP $st $(cat "$WORK/out")"
grep -q "below floor(n/2)+1 = 2" "$WORK/out" || fail "unclear refusal: $(cat "$WORK/out")"
prop "$WORK/t1o.json" "p['threshold']=1; p['threshold_override']=True" --remove 4
[ "$(submit "$WORK/t1o.json")" = 400 ] || fail "override below floor(n/2)+1 accepted: $(cat "$WORK/out")"
prop "$WORK/t3.json" "p['threshold']=3" --add "$WORK/id5.json"
[ "$(submit "$WORK/t3.json")" = 400 ] || fail "n = 5, t = 3 without override accepted"
grep -q 'below ceil(2n/3) = 4' "$WORK/out" || fail "unclear refusal: $(cat "$WORK/out")"
prop "$WORK/tx.json" "p['note']='x'" --add "$WORK/id5.json"
[ "$(submit "$WORK/tx.json")" = 400 ] && grep -q 'unknown field' "$WORK/out" || fail "unknown field: $(cat "$WORK/out")"
prop "$WORK/tbool.json" "p['threshold_override']=1" --add "$WORK/id5.json"
[ "$(submit "$WORK/tbool.json")" = 400 ] || fail "non-boolean override accepted"
[ "$(n_props)" = 0 ] || fail "a refused proposal was stored"
echo "  ok: t = 1 (n = 3) refused even with the override; t = 3 (n = 5) needs the override; unknown fields refused; nothing stored"
set +e
err=$("$TKMS" committee propose --group "$G" --remove 4 --threshold 1 --out "$WORK/c1.json" 2>&1); rc1=$?
err3=$("$TKMS" committee propose --group "$G" --add "$WORK/id5.json" --threshold 3 --out "$WORK/c3.json" 2>&1); rc3=$?
set -e
[ $rc1 = 2 ] && echo "$err" | grep -q "floor(n/2)+1" || fail "tkms committee propose --threshold 1: rc=$rc1 $err"
[ $rc3 = 2 ] && echo "$err3" | grep -q "threshold_override" || fail "tkms committee propose --threshold 3 (n = 5): rc=$rc3 $err3"
"$TKMS" committee propose --group "$G" --add "$WORK/id5.json" --threshold 3 --allow-low-threshold --out "$WORK/ok.json" 2>/dev/null \
  || fail "--allow-low-threshold refused"
[ "$(jget "$WORK/ok.json" "['threshold_override']")" = True ] || fail "override not written"
# the same proposal with t - 1 = 2 signatures, one signature three times, a corrupted third signature
cp "$WORK/ok.json" "$WORK/q.json"
for i in 1 2; do "$TKMS" committee sign --proposal "$WORK/q.json" --node-config "$C/node$i/config.json" 2>/dev/null; done
[ "$(submit "$WORK/q.json")" = 400 ] && grep -q "valid operator signatures" "$WORK/out" \
  || fail "proposal with t - 1 signatures: $(cat "$WORK/out")"
python3 -c "import json,sys; p=json.load(open(sys.argv[1])); s=p['signatures']; p['signatures']=[s[0],s[0],s[0]]; json.dump(p, open(sys.argv[2],'w'))" "$WORK/q.json" "$WORK/qdup.json"
[ "$(submit "$WORK/qdup.json")" = 400 ] || fail "one operator's signature counted three times: $(cat "$WORK/out")"
"$TKMS" committee sign --proposal "$WORK/q.json" --node-config "$C/node3/config.json" 2>/dev/null
python3 -c "
import json,sys; p=json.load(open(sys.argv[1])); s=p['signatures'][2]['sig']
p['signatures'][2]['sig']=s[:-1]+'%x' % (int(s[-1],16)^1); json.dump(p, open(sys.argv[2],'w'))" "$WORK/q.json" "$WORK/qbad.json"
[ "$(submit "$WORK/qbad.json")" = 400 ] || fail "a corrupted operator signature counted: $(cat "$WORK/out")"
[ "$(n_props)" = 0 ] || fail "a proposal without t valid signatures was stored"
echo "  ok: t - 1 signatures, one signature repeated, a corrupted signature: 400, nothing stored"
for i in 1 2 3; do "$TKMS" committee sign --proposal "$WORK/ok.json" --node-config "$C/node$i/config.json" 2>/dev/null; done
st=$(submit "$WORK/ok.json")
[ "$st" = 200 ] || fail "override proposal n = 5, t = 3 refused: HTTP $st $(cat "$WORK/out")"
[ "$(n_props)" = 1 ] || fail "accepted proposal not stored"
echo "  ok: tkms committee propose refuses t = 1 and t = 3 (n = 5) unless --allow-low-threshold; that proposal is accepted"
echo "PASS"
