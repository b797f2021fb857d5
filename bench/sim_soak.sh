#!/usr/bin/env bash
# Random exploration of the DKG/reshare simulator: runs test_dkg_sim (fault matrix, shapes and 300
# random schedules) ROUNDS times, each with a new seed, and prints every failing schedule with the
# `tkms-sim` command that reproduces it. make test runs the same test with a fixed seed.
# Usage: bench/sim_soak.sh BUILD_DIR [ROUNDS]
set -uo pipefail
build=${1:?usage: bench/sim_soak.sh BUILD_DIR [ROUNDS]}
rounds=${2:-20}
fail=0
for r in $(seq 1 "$rounds"); do
  seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
  if ! out=$(TKMS_TEST_SEED=$seed "$build/test_dkg_sim" 2>&1); then
    fail=$((fail + 1))
    echo "round $r (TKMS_TEST_SEED=$seed):"
    echo "$out" | grep -E '^FAIL|reproduce:'
  fi
done
echo "$((rounds - fail)) of $rounds rounds passed"
[ "$fail" = 0 ]
