#!/usr/bin/env bash
# tkms exec against a tkms-mock-node cluster: opens tkms1: secrets sealed with `tkms seal` (MPK only)
# from the environment and an env file, sets MNEMONIC / TKMS_* and execs the command; refuses (and
# does not start the command) when a value is sealed to another app or cluster; writes nothing.
set -u
T=${TKMS_BIN:?TKMS_BIN not set}
M=${TKMS_MOCK_NODE:-${TKMS_BUILD:?TKMS_BUILD not set}/tkms-mock-node}
W=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
APP=0x90120827bf163d7a0b368e0936a396a8c0527a3b # the app tkms-mock-node registers (MOCK_APP_TEXT)
OTHER=0x90120827bf163d7a0b368e0936a396a8c0527a3c
"$M" --n 4 --t 3 --group-out "$W/g.json" --shares-out "$W/s.json" --ready-file "$W/ready" --lifetime-s 120 \
  --fault 4:wrong-partial &
PID=$!
for _ in $(seq 100); do [ -f "$W/ready" ] && break; sleep 0.05; done
[ -f "$W/ready" ] || fail "mock cluster did not start"
MPK=$(jq -r .mpk "$W/s.json")

# reference: key fetch prints the same addresses exec exports
"$T" key fetch --group "$W/g.json" --app $APP --attestation dev --out "$W/mn" > "$W/ids" 2>/dev/null || fail "key fetch"
"$T" key fetch --group "$W/g.json" --app $APP --attestation dev > "$W/ids" 2>/dev/null || fail "key fetch --show"
ETH=$(awk '$1=="eth"{print $2}' "$W/ids"); SOL=$(awk '$1=="sol"{print $2}' "$W/ids"); BTC=$(awk '$1=="btc"{print $2}' "$W/ids")

DB=$(printf 'hunter2 with spaces' | "$T" seal --mpk "$MPK" --app $APP --name DB_PASSWORD) || fail "seal"
API=$(printf 'api-token-42' | "$T" seal --mpk "$MPK" --app $APP --name API) || fail "seal"
case "$DB" in tkms1:*) ;; *) fail "seal output";; esac
printf '# app settings\nexport API_TOKEN=%s\nPLAIN="not sealed"\n\nDB_PASSWORD=overridden-by-file\n' "$API" > "$W/app.env"

cat > "$W/app.sh" <<'APPEOF'
#!/bin/sh
printf 'DB=%s\nAPI=%s\nPLAIN=%s\nAPP=%s\nETH=%s\nSOL=%s\nBTC=%s\nWORDS=%s\nARGS=%s\n' "$DB_PASSWORD" "$API_TOKEN" "$PLAIN" \
  "$TKMS_APP_ID" "$TKMS_ETH_ADDRESS" "$TKMS_SOL_ADDRESS" "$TKMS_BTC_ADDRESS" "$(echo $MNEMONIC | wc -w)" "$*"
[ "$MNEMONIC" = "$(cat "$MN_FILE")" ] && echo SAME_MNEMONIC
APPEOF
chmod +x "$W/app.sh"

: > "$W/out"; : > "$W/err"
before=$(find "$W" -type f | wc -l)
DB_PASSWORD="$DB" MN_FILE="$W/mn" "$T" exec --group "$W/g.json" --app $APP --attestation dev -- "$W/app.sh" one "two three" \
  > "$W/out" 2> "$W/err" || { cat "$W/err"; fail "exec"; }
grep -qx 'DB=hunter2 with spaces' "$W/out" || fail "sealed env value not opened"
grep -qx "APP=$APP" "$W/out" && grep -qx "ETH=$ETH" "$W/out" && grep -qx "SOL=$SOL" "$W/out" && grep -qx "BTC=$BTC" "$W/out" \
  || fail "TKMS_* variables"
grep -qx 'WORDS=24' "$W/out" && grep -qx SAME_MNEMONIC "$W/out" || fail "MNEMONIC"
grep -qx 'ARGS=one two three' "$W/out" || fail "arguments"
grep -q "node 4 .*bad_partial" "$W/err" || true   # may or may not be among the first t answers
[ "$(find "$W" -type f | wc -l)" = "$before" ] || fail "exec wrote files"
echo "ok exec: tkms1: env value opened, MNEMONIC and addresses set"

# env file: values opened, added, and they win over the environment
DB_PASSWORD="$DB" MN_FILE="$W/mn" "$T" exec --group "$W/g.json" --app $APP --attestation dev --env-file "$W/app.env" -- "$W/app.sh" \
  > "$W/out" 2> "$W/err" || { cat "$W/err"; fail "exec --env-file"; }
grep -qx 'API=api-token-42' "$W/out" && grep -qx 'PLAIN=not sealed' "$W/out" && grep -qx 'DB=overridden-by-file' "$W/out" \
  || { cat "$W/out"; fail "env file"; }
grep -q "opened 2 sealed values" "$W/err" || fail "count of opened values"
echo "ok exec --env-file"

# a value sealed to another app: refused, command not started
FOREIGN=$(printf 'not yours' | "$T" seal --mpk "$MPK" --app $OTHER) || fail "seal other"
DB_PASSWORD="$FOREIGN" MN_FILE="$W/mn" "$T" exec --group "$W/g.json" --app $APP --attestation dev -- sh -c 'echo STARTED' \
  > "$W/out" 2> "$W/err"
rc=$?
[ $rc = 1 ] || fail "foreign sealed value: exit $rc"
! grep -q STARTED "$W/out" || fail "command started despite a foreign secret"
grep -q "cannot open sealed DB_PASSWORD" "$W/err" || { cat "$W/err"; fail "message names the variable"; }
! grep -q "not yours" "$W/err" || fail "secret in the error"
echo "ok exec refuses a secret sealed to another app: $(grep 'cannot open' "$W/err")"

# a value sealed under another cluster's MPK (same app): refused too
printf '01%.0s' $(seq 32) > "$W/other.secret"
OTHERMPK=$(printf '02%.0s' $(seq 32) | "$T" tbls deal --t 1 --n 1 --secret-file "$W/other.secret" --seed-file - |
  jq -r '.commitments[0]')
X=$(printf 'x' | "$T" seal --mpk "$OTHERMPK" --app $APP) || fail "seal other mpk"
printf 'S=%s\n' "$X" > "$W/bad.env"
"$T" exec --group "$W/g.json" --app $APP --attestation dev --env-file "$W/bad.env" -- true 2> "$W/err"
[ $? = 1 ] || fail "other cluster's secret accepted"
echo "ok exec refuses a secret sealed under another MPK"

# usage
"$T" exec --group "$W/g.json" --app $APP --attestation dev 2>/dev/null; [ $? = 2 ] || fail "exec without -- CMD"
"$T" exec --group "$W/g.json" --app $APP stray -- true 2>/dev/null; [ $? = 2 ] || fail "stray argument"
"$T" exec --group "$W/g.json" --app $APP --attestation dev -- /nonexistent/cmd 2>/dev/null; [ $? = 2 ] || fail "exec failure code"
echo "all client exec tests passed"
