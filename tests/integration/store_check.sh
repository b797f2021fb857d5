#!/usr/bin/env bash
# tkmsd integration (issue 11): a store that fails SQLite's quick_check refuses to start, with a
# clear error and the file untouched; restoring a backup (tkms node restore) brings the node back.
# The damage is in the audit table, which nothing reads at start-up: only the check finds it.
source "$(dirname "$0")/common.inc"
N=$WORK/n
"$TKMS" node init --dir "$N" --address http://127.0.0.1:18070 --listen 127.0.0.1:18070 >/dev/null
"$TKMS" node backup --config "$N/config.json" --out "$WORK/good.bak" >/dev/null || fail "backup"
root=$(python3 -c "import sqlite3; print(sqlite3.connect('$N/tkms.db').execute(\"select rootpage from sqlite_master where name='audit'\").fetchone()[0])")
python3 - "$N/tkms.db" "$root" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek((int(sys.argv[2]) - 1) * 4096)
    f.write(b"\xff" * 64)
PY
before=$(sha256sum "$N/tkms.db" | cut -d' ' -f1)
set +e; out=$(timeout 10 "$TKMSD" --config "$N/config.json" 2>&1); rc=$?; set -e
[ $rc = 3 ] || fail "tkmsd on a damaged store: exit $rc, expected 3 ($out)"
echo "$out" | grep -q "fails its integrity check" || fail "no clear error: $out"
echo "$out" | grep -q "restore it from a backup" || fail "the error does not say what to do: $out"
[ "$(sha256sum "$N/tkms.db" | cut -d' ' -f1)" = "$before" ] || fail "the damaged store was modified"
"$TKMS" node restore --config "$N/config.json" --from "$WORK/good.bak" >/dev/null || fail "restore"
"$TKMSD" --config "$N/config.json" > "$WORK/d.log" 2>&1 &
pid=$!
answers() { curl -s "http://127.0.0.1:18070/v1/health" | grep -q '"node"'; }
wait_until 10 answers || fail "the restored node does not start: $(tail -3 "$WORK/d.log")"
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "PASS"
