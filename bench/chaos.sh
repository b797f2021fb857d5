#!/usr/bin/env bash
# Long chaos run (issue 11): tests/integration/chaos_driver.py for M minutes on a 4-node and a
# 7-node dev cluster. Prints, per cluster: faults injected, reshares certified, repairs, the
# minimum number of share holders seen, and the time to full repair after the faults stopped.
#   bench/chaos.sh [--minutes M] [--nodes "4 7"] [--seed S] [--json]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TKMS_BUILD:-$ROOT/build}
MIN=10; NODES="4 7"; SEED=$(od -An -N6 -tu8 /dev/urandom | tr -d ' '); JSON=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MIN=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --json) JSON=--json; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "usage: bench/chaos.sh [--minutes M] [--nodes \"4 7\"] [--seed S] [--json]" >&2; exit 2 ;;
  esac
done
[ -x "$BUILD/tkms" ] || { echo "build first (make build)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/tkms-chaos.XXXXXX)
trap 'for d in "$WORK"/chaos*; do [ -d "$d" ] && "$BUILD/tkms" cluster down --dir "$d" >/dev/null 2>&1; done; rm -rf "$WORK"' EXIT
export TKMS_BIN=$BUILD/tkms TKMSD=$BUILD/tkmsd
rc=0; port=18100
for n in $NODES; do
  python3 "$ROOT/tests/integration/chaos_driver.py" --nodes "$n" --seconds "$((MIN * 60))" --seed "$SEED" \
    --work "$WORK" --build "$BUILD" --base-port $port $JSON || rc=1
  port=$((port + 20)); SEED=$((SEED + 1))
done
exit $rc
