#!/usr/bin/env bash
# Audit log (docs/security.md): unauthenticated traffic -- rate-limited, malformed, unknown-app
# and forged-evidence requests from 100 source addresses -- writes no audit row (it is counted in
# the metrics and sampled in the log); every key release and every refusal of genuine evidence is
# recorded; the table keeps at most audit_max_rows rows and the rest goes, complete, into the
# archive directory; and when the audit record of a release cannot be written (full disk) the
# release is refused with 503 audit_unavailable and nothing is released.
source "$(dirname "$0")/common.inc"
HELPER="$(cd "$(dirname "$0")/../tools" && pwd)/release_req.mjs"
HAMMER="$(cd "$(dirname "$0")/../tools" && pwd)/http_hammer.py"
command -v node >/dev/null || fail "node is needed (apt-get install nodejs)"
P=17820
C=$WORK/au
mkdir -p "$C"
# the whole cluster on a small file system, to fill it at the end
if ! mount -t tmpfs -o size=96m tmpfs "$C" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (the full-disk check needs one)" >&2
  exit 77
fi
cluster_up au 4 $P --dev --node-config \
  '{"audit_max_rows": 1000, "audit_archive_dir": "audit-archive", "release_app_rate": 100000, "release_app_burst": 100000}' >/dev/null
G=$C/group.json
U1=http://127.0.0.1:$((P + 1))
DB1=$C/node1/tkms.db
W=$WORK/w; mkdir -p "$W"
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$DB1" "$1"; }
metric() { curl -s "$U1/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
hammer() { python3 "$HAMMER" "$@"; }
count_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['status'].get(sys.argv[2], 0))" "$1" "$2"; }
post() { curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$2" "$U1$1"; }

log "register an app; a dev TEE key"
echo 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 > "$W/owner.key"; chmod 600 "$W/owner.key"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(jget "$W/app.json" "['app_id']"); SALT=$(jget "$W/app.json" "['salt']")
"$TKMS" app statement --app "$APP" --seq 1 --method insecure-dev > "$W/st1.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st1.json" > "$W/s1.json"
"$TKMS" app release --statement "$W/s1.json" --group "$G" > /dev/null || fail "app release"
"$TKMS" key dev-keygen --out "$W/dev.key" > /dev/null
DEVSEED=$(cat "$W/dev.key")
node "$HELPER" key --app "$APP" --state "$W/state" --dev-seed "$DEVSEED" > "$W/req.json"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app2.json"
node "$HELPER" key --app "$(jget "$W/app2.json" "['app_id']")" --state "$W/state2" --dev-seed "$DEVSEED" > "$W/unknown.json"
python3 - "$W/req.json" > "$W/forged.json" <<'PY'
import base64,json,sys
r=json.load(open(sys.argv[1])); ev=json.loads(base64.b64decode(r["attestation"]["evidence"]))
s=ev["signature"]; ev["signature"]=("1" if s[0]=="0" else "0")+s[1:]
r["attestation"]["evidence"]=base64.b64encode(json.dumps(ev).encode()).decode(); print(json.dumps(r))
PY
echo '{}' > "$W/empty.json"
echo '{"salt":' > "$W/garbage.json"

log "unauthenticated flood: 6000 refused requests from 101 source addresses"
rows0=$(sql "select count(*) from audit"); bytes0=$(stat -c %s "$DB1")
lines0=$(grep -c '"event":"request_rejected"' "$C/node1/tkmsd.log" || true)
dev0=$(grep -c '"event":"INSECURE_DEV_EVIDENCE"' "$C/node1/tkmsd.log" || true)
t0=$SECONDS
f1=$(hammer --url "$U1/v1/keys/app" --body "$W/empty.json" --count 3000 --first-source 127.0.0.2); echo "    malformed, one source: $f1" >&2
f2=$(hammer --url "$U1/v1/keys/app" --body "$W/unknown.json" --count 1500 --sources 50 --first-source 127.0.1.1); echo "    unknown app: $f2" >&2
f3=$(hammer --url "$U1/v1/keys/app" --body "$W/forged.json" --count 1000 --sources 50 --first-source 127.0.2.1); echo "    forged evidence: $f3" >&2
f4=$(hammer --url "$U1/v1/apps" --body "$W/garbage.json" --count 500 --sources 50 --first-source 127.0.3.1); echo "    garbage statements: $f4" >&2
secs=$((SECONDS - t0 + 1))
rows1=$(sql "select count(*) from audit"); bytes1=$(stat -c %s "$DB1")
lines1=$(grep -c '"event":"request_rejected"' "$C/node1/tkmsd.log" || true)
dev1=$(grep -c '"event":"INSECURE_DEV_EVIDENCE"' "$C/node1/tkmsd.log" || true)
log "audit rows $rows0 -> $rows1, store $bytes0 -> $bytes1 bytes, request_rejected log lines +$((lines1 - lines0)) in ${secs} s"
[ "$(count_of "$f1" 429)" -ge 2900 ] || fail "the per-source limit did not apply: $f1"
[ "$(count_of "$f2" 404)" = 1500 ] && [ "$(count_of "$f3" 403)" = 1000 ] && [ "$(count_of "$f4" 400)" = 500 ] \
  || fail "unexpected answers: $f2 $f3 $f4"
[ "$rows1" = "$rows0" ] || fail "unauthenticated refusals wrote $((rows1 - rows0)) audit rows"
[ $((lines1 - lines0)) -le $((50 + 10 * secs)) ] || fail "refusals not sampled in the log: $((lines1 - lines0)) lines"
[ $((dev1 - dev0)) -le $((50 + 10 * secs)) ] || fail "refused dev evidence not sampled in the log: $((dev1 - dev0)) lines"
grep '"event":"request_rejected"' "$C/node1/tkmsd.log" | grep -c '"suppressed":[1-9]' > /dev/null || fail "suppressed lines not reported"
[ "$(metric 'tkms_release_requests_total{endpoint="keys/app",result="rate_limited"}')" -ge 2900 ] || fail "429s not counted"
[ "$(metric 'tkms_release_requests_total{endpoint="keys/app",result="attestation_refused"}')" = 1000 ] || fail "forged evidence not counted"
[ "$(metric tkms_log_lines_suppressed_total)" -gt 0 ] || fail "suppressed log lines not counted"

log "a key release and a refusal of genuine evidence are recorded"
"$TKMS" key fetch --attestation dev --dev-key-file "$W/dev.key" --group "$G" --app "$APP" --out "$W/m1" 2>/dev/null \
  || fail "key fetch"
[ "$(sql "select count(*) from audit where kind='keys/app' and decision='release'")" = 1 ] || fail "release not recorded"
python3 - "$W/req.json" "$W/state2" > "$W/replay.json" <<'PY'
import json,sys
r=json.load(open(sys.argv[1])); r["recipient"]=json.load(open(sys.argv[2]))["recipient"]; print(json.dumps(r))
PY
[ "$(post /v1/keys/app "$W/replay.json" "$W/e")" = 403 ] || fail "replayed evidence: $(cat "$W/e")"
[ "$(sql "select count(*) from audit where decision='refuse' and detail like '%binding_mismatch%'")" = 1 ] \
  || fail "refusal of genuine evidence not recorded"
first_release=$(sql "select id from audit where kind='keys/app' and decision='release'")

log "retention: 1520 releases; the table keeps at most 1000 rows, the archive the rest"
f5=$(hammer --url "$U1/v1/keys/app" --body "$W/req.json" --count 1520 --sources 40 --first-source 127.0.4.1)
echo "    $f5" >&2
[ "$(count_of "$f5" 200)" = 1520 ] || fail "releases refused: $f5"
rows=$(sql "select count(*) from audit"); maxid=$(sql "select max(id) from audit"); minid=$(sql "select min(id) from audit")
archived=$(cat "$C/node1/audit-archive"/audit-*.jsonl | wc -l)
log "audit table: $rows rows (ids $minid..$maxid), archive: $archived rows in $(ls "$C/node1/audit-archive" | wc -l) files, store $(stat -c %s "$DB1") bytes"
[ "$rows" -le 1000 ] || fail "$rows rows kept (audit_max_rows 1000)"
[ $((archived + rows)) = "$maxid" ] || fail "rows lost: $archived archived + $rows kept != $maxid written"
cat "$C/node1/audit-archive"/audit-*.jsonl | python3 -c "
import json,sys
ids=[json.loads(l)['id'] for l in sys.stdin]
assert ids==list(range(1,len(ids)+1)), 'archive not contiguous'
assert $first_release in ids, 'first release not archived'
" || fail "archive content"
grep -q '"event":"audit_pruned"' "$C/node1/tkmsd.log" || fail "pruning not logged"

log "full disk: releases are refused (503 audit_unavailable), nothing released, nothing half-written"
rel0=$(sql "select count(*) from audit where kind='keys/app' and decision='release'")
# an empty WAL, so that the next write must grow a file on the full file system
python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute('pragma wal_checkpoint(TRUNCATE)').fetchone(); sys.exit(r[0])" "$DB1" \
  || fail "cannot checkpoint node 1's WAL"
dd if=/dev/zero of="$C/filler" bs=64k 2>/dev/null || true
codes=""
for i in 1 2 3 4 5; do
  s=$(post /v1/keys/app "$W/req.json" "$W/full$i")
  codes="$codes $s"
  if [ "$s" = 200 ]; then continue; fi
  [ "$s" = 503 ] && grep -q '"code":"audit_unavailable"' "$W/full$i" || fail "release on a full disk: HTTP $s $(cat "$W/full$i")"
  grep -q ciphertext "$W/full$i" && fail "a partial key left without an audit record"
done
rm -f "$C/filler"
log "HTTP statuses on the full disk:$codes"
rel1=$(sql "select count(*) from audit where kind='keys/app' and decision='release'")
ok200=$(echo "$codes" | tr ' ' '\n' | grep -c '^200$' || true)
[ "$ok200" = 0 ] || fail "$ok200 of 5 releases answered on a full disk"
[ "$rel1" = "$rel0" ] || fail "release rows changed on a full disk: $rel0 -> $rel1"
grep -q '"event":"audit_failed"' "$C/node1/tkmsd.log" || fail "audit failure not logged"
log "space again: the release is answered and recorded"
[ "$(post /v1/keys/app "$W/req.json" "$W/after")" = 200 ] || fail "release after the disk was freed: $(cat "$W/after")"
[ "$(sql "select count(*) from audit where kind='keys/app' and decision='release'")" = $((rel0 + 1)) ] \
  || fail "release after the disk was freed not recorded"
[ "$(sql "pragma integrity_check")" = ok ] || fail "store damaged"
"$TKMS" cluster down --dir "$C" >/dev/null 2>&1
echo "PASS"
