#!/usr/bin/env bash
# tkmsd benchmarks: POST /v1/sign partial signatures per second on one node under wrk load (from a
# second process; the message approved by that node's operator first), and `tkms sign` end-to-end
# latency (collect t partials, verify, combine, check; every message approved beforehand, outside
# the timing) for local clusters of n = 4, 7, 10 on loopback. Prints a table; --json prints JSON instead.
# Usage: bench/bench_daemon.sh [--json] [--build DIR] [--duration S] [--connections C] [--runs R]
set -euo pipefail
BUILD=build; JSON=0; DUR=10; CONN=32; RUNS=30
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=1 ;; --build) BUILD=$2; shift ;; --duration) DUR=$2; shift ;;
    --connections) CONN=$2; shift ;; --runs) RUNS=$2; shift ;;
    *) echo "usage: $0 [--json] [--build DIR] [--duration S] [--connections C] [--runs R]" >&2; exit 2 ;;
  esac; shift
done
TKMS=$(cd "$BUILD" && pwd)/tkms
export TKMSD=$(cd "$BUILD" && pwd)/tkmsd
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }
W=$(mktemp -d /tmp/tkms-bench.XXXXXX)
DIRS=()
cleanup() { for d in "${DIRS[@]}"; do "$TKMS" cluster down --dir "$d" >/dev/null 2>&1 || true; done; rm -rf "$W"; }
trap cleanup EXIT INT TERM

# --- partials per second on one node ---
C=$W/c4; DIRS+=("$C")
"$TKMS" cluster up --nodes 4 --dir "$C" --base-port 18100 >/dev/null 2>&1
BMSG=74686973206973206120626561636820627275736820746573742d6d657373616765
"$TKMS" sign approve --group "$C/group.json" --msg $BMSG --node-config "$C/node1/config.json" >/dev/null
cat > "$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"msg":"$BMSG"}'
wrk.headers["Content-Type"] = "application/json"
LUA
WRK_OUT=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$W/post.lua" http://127.0.0.1:18101/v1/sign)
RPS=$(echo "$WRK_OUT" | awk '/Requests\/sec/ {print $2}')
P50=$(echo "$WRK_OUT" | awk '$1=="50%" {print $2}')
P99=$(echo "$WRK_OUT" | awk '$1=="99%" {print $2}')
NON2XX=$(echo "$WRK_OUT" | awk '/Non-2xx/ {print $4}')
"$TKMS" cluster down --dir "$C" >/dev/null 2>&1

# --- tkms sign end-to-end latency ---
declare -A MED P95 IMED IP95
for n in 4 7 10; do
  C=$W/s$n; DIRS+=("$C")
  "$TKMS" cluster up --nodes $n --dir "$C" --base-port $((18200 + 20 * n)) >/dev/null 2>&1
  # every operator approves every message first (not timed)
  for i in $(seq 0 "$RUNS"); do
    for k in $(seq 1 $n); do
      "$TKMS" sign approve --group "$C/group.json" --msg "$(printf '%08x' "$i")" --node-config "$C/node$k/config.json" >/dev/null
    done
  done
  "$TKMS" sign --group "$C/group.json" --msg 00000000 >/dev/null   # warm up connections / page cache
  ts=(); ins=()
  for i in $(seq 1 "$RUNS"); do
    a=$(date +%s%N); out=$("$TKMS" sign --json --group "$C/group.json" --msg "$(printf '%08x' "$i")"); b=$(date +%s%N)
    ts+=($(( (b - a) / 1000 )))
    ins+=($(echo "$out" | python3 -c "import json,sys; print(int(json.load(sys.stdin)['total_s']*1e6))"))
  done
  pct() { sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int((NR+1)/2)]/1000, a[int(NR*0.95+0.5)]/1000}'; }
  read -r MED[$n] P95[$n] < <(printf '%s\n' "${ts[@]}" | pct)
  read -r IMED[$n] IP95[$n] < <(printf '%s\n' "${ins[@]}" | pct)
  "$TKMS" cluster down --dir "$C" >/dev/null 2>&1
done

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); NCPU=$(nproc)
if [ $JSON = 1 ]; then
  printf '{"cpu":"%s","cores":%s,"sign_partials_per_s":%s,"sign_p50":"%s","sign_p99":"%s","non_2xx":%s,' \
    "$CPU" "$NCPU" "$RPS" "$P50" "$P99" "${NON2XX:-0}"
  printf '"tkms_sign_ms":{'
  for n in 4 7 10; do
    printf '"%s":{"process_median":%s,"process_p95":%s,"in_process_median":%s,"in_process_p95":%s}' \
      $n "${MED[$n]}" "${P95[$n]}" "${IMED[$n]}" "${IP95[$n]}"; [ $n = 10 ] || printf ','
  done
  printf '}}\n'
else
  echo "tkmsd benchmarks on $CPU ($NCPU cores; wrk and tkmsd share them)"
  printf '%-44s %12s\n' "POST /v1/sign, one node (wrk -c$CONN, ${DUR}s)" "$RPS req/s"
  printf '%-44s %12s\n' "  latency p50 / p99" "$P50 / $P99"
  [ -n "${NON2XX:-}" ] && printf '%-44s %12s\n' "  non-2xx responses" "$NON2XX"
  printf '%-44s %12s %12s\n' "tkms sign end-to-end ($RUNS runs)" "median ms" "p95 ms"
  for n in 4 7 10; do
    printf '%-44s %12s %12s\n' "  n = $n, whole process (exec, dyn. linking)" "${MED[$n]}" "${P95[$n]}"
    printf '%-44s %12s %12s\n' "  n = $n, in process (requests+verify+combine)" "${IMED[$n]}" "${IP95[$n]}"
  done
fi
