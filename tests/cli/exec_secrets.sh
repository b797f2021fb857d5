#!/usr/bin/env bash
# tkms exec --secrets-fd N [--no-env-secrets] against a tkms-mock-node cluster (docs/security.md,
# "Secrets on the command line"): the command reads {"NAME": value, "MNEMONIC": ...} once from fd N;
# with --no-env-secrets neither MNEMONIC nor the opened values are in its environment (nor in
# /proc/PID/environ), and a child that inherits fd N after the read gets nothing; usage errors exit 2.
set -u
T=${TKMS_BIN:?TKMS_BIN not set}
M=${TKMS_MOCK_NODE:-${TKMS_BUILD:?TKMS_BUILD not set}/tkms-mock-node}
W=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
APP=0x90120827bf163d7a0b368e0936a396a8c0527a3b # the app tkms-mock-node registers (MOCK_APP_TEXT)
"$M" --n 4 --t 3 --group-out "$W/g.json" --shares-out "$W/s.json" --ready-file "$W/ready" --lifetime-s 120 &
PID=$!
for _ in $(seq 100); do [ -f "$W/ready" ] && break; sleep 0.05; done
[ -f "$W/ready" ] || fail "mock cluster did not start"
MPK=$(jq -r .mpk "$W/s.json")
"$T" key fetch --group "$W/g.json" --app $APP --attestation dev --out "$W/mn" 2>/dev/null || fail "key fetch"
DB=$(printf 'hunter2 "quoted" \\ back' | "$T" seal --mpk "$MPK" --app $APP --name DB_PASSWORD) || fail "seal"
API=$(printf 'api-token-42' | "$T" seal --mpk "$MPK" --app $APP --name API) || fail "seal"
printf 'API_TOKEN=%s\nPLAIN=not-secret\n' "$API" > "$W/app.env"

# the app: reads fd 3 once, reports what it sees in its environment and what a child gets from fd 3
cat > "$W/app.sh" <<'APPEOF'
#!/bin/sh
cat <&3 > "$OUT/fd.json"
env > "$OUT/env.txt"
cat /proc/$$/environ | tr '\0' '\n' > "$OUT/proc_environ.txt"
sh -c 'cat <&3' > "$OUT/child.txt" 2>&1
APPEOF
chmod +x "$W/app.sh"
run() { mkdir -p "$W/$1"; local d=$1; shift; DB_PASSWORD="$DB" MNEMONIC=inherited OUT="$W/$d" "$T" exec --group "$W/g.json" --app $APP \
  --attestation dev --env-file "$W/app.env" "$@" -- "$W/app.sh" 2> "$W/$d.err"; }

run fdonly --secrets-fd 3 --no-env-secrets || { cat "$W/fdonly.err"; fail "exec --secrets-fd 3 --no-env-secrets"; }
python3 - "$W/fdonly/fd.json" "$(cat "$W/mn")" <<'PY' || fail "the JSON on fd 3"
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"DB_PASSWORD": 'hunter2 "quoted" \\ back', "API_TOKEN": "api-token-42", "MNEMONIC": sys.argv[2]}, d
PY
for f in env.txt proc_environ.txt; do
  ! grep -q '^MNEMONIC=\|^DB_PASSWORD=\|^API_TOKEN=' "$W/fdonly/$f" || fail "a secret is in the environment ($f)"
  ! grep -qF "$(cut -d' ' -f1-3 "$W/mn")" "$W/fdonly/$f" || fail "the mnemonic is in the environment ($f)"
  ! grep -q 'hunter2\|api-token-42' "$W/fdonly/$f" || fail "a secret value is in the environment ($f)"
  grep -qx "TKMS_APP_ID=$APP" "$W/fdonly/$f" && grep -qx 'PLAIN=not-secret' "$W/fdonly/$f" || fail "public values missing ($f)"
done
[ ! -s "$W/fdonly/child.txt" ] || fail "a child read the secrets again: $(cat "$W/fdonly/child.txt")"
grep -q "secrets on the fd only" "$W/fdonly.err" || fail "exec does not say where the secrets went"
echo "ok exec --secrets-fd 3 --no-env-secrets: secrets only on fd 3, read once, none in the environment"

run both --secrets-fd 3 || { cat "$W/both.err"; fail "exec --secrets-fd 3"; }
grep -qx "MNEMONIC=$(cat "$W/mn")" "$W/both/env.txt" || fail "MNEMONIC not in the environment without --no-env-secrets"
grep -qx "DB_PASSWORD=hunter2 \"quoted\" \\\\ back" "$W/both/env.txt" || fail "DB_PASSWORD not opened into the environment"
[ "$(jq -r .MNEMONIC "$W/both/fd.json")" = "$(cat "$W/mn")" ] || fail "MNEMONIC not on the fd"
echo "ok exec --secrets-fd 3: secrets on fd 3 and in the environment"

# a plain value in the env file replaces a sealed one from the environment: not a secret any more
printf 'DB_PASSWORD=plain-override\n' > "$W/plain.env"
mkdir -p "$W/ovr"
DB_PASSWORD="$DB" OUT="$W/ovr" "$T" exec --group "$W/g.json" --app $APP --attestation dev --env-file "$W/plain.env" \
  --secrets-fd 3 --no-env-secrets -- "$W/app.sh" 2>/dev/null || fail "exec with an overriding plain value"
[ "$(jq -c 'keys' "$W/ovr/fd.json")" = '["MNEMONIC"]' ] || fail "overridden sealed value still on the fd: $(cat "$W/ovr/fd.json")"
grep -qx 'DB_PASSWORD=plain-override' "$W/ovr/env.txt" || fail "plain override missing"
echo "ok a plain env-file value overrides a sealed one (environment, not fd)"

# usage: exit 2, CMD not started
for args in "--no-env-secrets" "--secrets-fd 2" "--secrets-fd 1024" "--secrets-fd x" "--secrets-fd -3" "--secrets-fd 3x"; do
  # shellcheck disable=SC2086
  "$T" exec --group "$W/g.json" --app $APP --attestation dev $args -- sh -c 'echo STARTED' > "$W/out" 2> "$W/err"
  rc=$?
  [ $rc = 2 ] || fail "'$args': exit $rc"
  ! grep -q STARTED "$W/out" || fail "'$args': CMD started"
done
grep -q "3..1023" "$W/err" || fail "unclear --secrets-fd error: $(cat "$W/err")"
"$T" exec --help | grep -q -- "--secrets-fd N" || fail "--help does not document --secrets-fd"
echo "all exec secrets tests passed"
