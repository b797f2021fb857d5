#!/usr/bin/env bash
# tkmsd key-release throughput: POST /v1/keys/app (and /v1/sign/app) requests per second on one
# node of a local 4-node --dev cluster, with insecure-dev evidence, under wrk load from another
# process. wrk posts one fixed, pre-made request (tests/tools/release_req.mjs): insecure-dev
# evidence has no jti, so the replay cache does not refuse the repeats, and every request does the
# full work (parse, registry lookup, Ed25519 evidence check, K_A,i, HPKE seal, response signature,
# audit write). The rate limits are raised for the run (release_*_rate/burst in the node config).
# Prints a table; --json prints JSON instead.
# Usage: bench/bench_release_http.sh [--json] [--build DIR] [--duration S] [--connections C] [--threads T]
set -euo pipefail
BUILD=build; JSON=0; DUR=10; CONN=16; WT=1
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=1 ;; --build) BUILD=$2; shift ;; --duration) DUR=$2; shift ;;
    --connections) CONN=$2; shift ;; --threads) WT=$2; shift ;;
    *) echo "usage: $0 [--json] [--build DIR] [--duration S] [--connections C] [--threads T]" >&2; exit 2 ;;
  esac; shift
done
TKMS=$(cd "$BUILD" && pwd)/tkms
export TKMSD=$(cd "$BUILD" && pwd)/tkmsd
HELPER=$(cd "$(dirname "$0")/../tests/tools" && pwd)/release_req.mjs
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }
command -v node >/dev/null || { echo "node not installed (apt-get install nodejs)" >&2; exit 2; }
W=$(mktemp -d /tmp/tkms-bench-rel.XXXXXX)
C=$W/c
cleanup() { "$TKMS" cluster down --dir "$C" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT INT TERM

PORT=18400
"$TKMS" cluster up --nodes 4 --dir "$C" --base-port $PORT --dev --node-config \
  '{"release_source_rate": 1000000, "release_source_burst": 1000000, "release_app_rate": 1000000, "release_app_burst": 1000000, "log_level": "error"}' \
  >/dev/null 2>&1
echo 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 > "$W/owner.key"; chmod 600 "$W/owner.key"
"$TKMS" app create --owner-key-file "$W/owner.key" > "$W/app.json"
APP=$(python3 -c "import json; print(json.load(open('$W/app.json'))['app_id'])")
SALT=$(python3 -c "import json; print(json.load(open('$W/app.json'))['salt'])")
"$TKMS" app statement --app "$APP" --seq 1 --method insecure-dev > "$W/st.json"
"$TKMS" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st.json" > "$W/s.json"
"$TKMS" app release --statement "$W/s.json" --group "$C/group.json" >/dev/null
SEED=$(openssl rand -hex 32)
node "$HELPER" key --app "$APP" --state "$W/state" --dev-seed "$SEED" > "$W/key.json"
node "$HELPER" sign --app "$APP" --msg "$(printf 'bench message' | xxd -p)" --dev-seed "$SEED" > "$W/sign.json"
URL=http://127.0.0.1:$((PORT + 1))
for f in key sign; do
  s=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "@$W/$f.json" "$URL/v1/$([ $f = key ] && echo keys || echo sign)/app")
  [ "$s" = 200 ] || { echo "warm-up request ($f) answered $s" >&2; exit 1; }
  # one Lua string literal; the body is plain JSON (no quotes or backslashes inside base64/hex)
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' \
    "$(cat "$W/$f.json")" > "$W/$f.lua"
done

run() { # LUA PATH -> "rps p50 p99 non2xx"
  local out
  out=$(wrk -t"$WT" -c"$CONN" -d"${DUR}s" --latency -s "$1" "$URL$2")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') \
$(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print $4}')"
}
read -r KRPS KP50 KP99 KNON < <(run "$W/key.lua" /v1/keys/app)
read -r SRPS SP50 SP99 SNON < <(run "$W/sign.lua" /v1/sign/app)
THREADS=$(python3 -c "import json; print(json.load(open('$C/node1/config.json'))['threads'])")

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); NCPU=$(nproc)
if [ $JSON = 1 ]; then
  printf '{"cpu":"%s","cores":%s,"tkmsd_threads":%s,"keys_app":{"rps":%s,"p50":"%s","p99":"%s","non_2xx":%s},' \
    "$CPU" "$NCPU" "$THREADS" "$KRPS" "$KP50" "$KP99" "${KNON:-0}"
  printf '"sign_app":{"rps":%s,"p50":"%s","p99":"%s","non_2xx":%s}}\n' "$SRPS" "$SP50" "$SP99" "${SNON:-0}"
else
  echo "tkmsd release benchmarks on $CPU ($NCPU cores; wrk, tkmsd x4 share them; $THREADS HTTP threads)"
  printf '%-52s %14s %18s\n' "one node, insecure-dev evidence (wrk -c$CONN, ${DUR}s)" "req/s" "p50 / p99"
  printf '%-52s %14s %18s\n' "  POST /v1/keys/app" "$KRPS" "$KP50 / $KP99"
  printf '%-52s %14s %18s\n' "  POST /v1/sign/app" "$SRPS" "$SP50 / $SP99"
  [ -n "${KNON:-}${SNON:-}" ] && printf '%-52s %14s\n' "  non-2xx responses (keys / sign)" "${KNON:-0} / ${SNON:-0}"
fi
