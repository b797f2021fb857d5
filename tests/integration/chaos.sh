#!/usr/bin/env bash
# tkmsd chaos test (issue 11; ctest label chaos, release build only): a 4-node (t = 3) and a 7-node
# (t = 5) dev cluster resharing every 12 s with repair slots every 2 s, under random kill -9,
# SIGTERM and restarts (never more than n - t down at once; some inside the sessions, some by the
# kill-after-certificate hook). After the faults: the MPK is unchanged, every member holds a
# verified share of the same latest epoch within two repair opportunities, the app key fetched
# again is the same, and no certified epoch had fewer than t share holders. The seeds are printed
# (TKMS_CHAOS_SEED reproduces a run; TKMS_CHAOS_SECONDS sets the fault phase per cluster).
source "$(dirname "$0")/common.inc"
S=${TKMS_CHAOS_SECONDS:-40}
SEED=${TKMS_CHAOS_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
DRIVER="$(dirname "$0")/chaos_driver.py"
python3 "$DRIVER" --nodes 4 --seconds "$S" --seed "$SEED" --work "$WORK" --build "$BUILD" --base-port 17900 \
  || fail "chaos run with 4 nodes (seed $SEED)"
python3 "$DRIVER" --nodes 7 --seconds "$S" --seed "$((SEED + 1))" --work "$WORK" --build "$BUILD" --base-port 17920 \
  || fail "chaos run with 7 nodes (seed $((SEED + 1)))"
echo "PASS"
