#!/usr/bin/env bash
# The production DKG library (libtkms_dkg.a), the daemon tkmsd and the CLI tkms contain no fault
# injection and no simulator: Byzantine dealers exist only in the fault-injection build
# (libtkms_dkg_faults.a, src/dkg/engine_fault.c), linked into tests, tkms-sim and the DKG bench.
# Positive control: the same symbol check finds them in the fault build.
set -euo pipefail
B=${TKMS_BUILD:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v nm >/dev/null || { echo "dkg_no_faults: nm not found, skipped"; exit 77; }
# every symbol of the fault build: the hooks (dkg_fault_*), the entry points (*_faulty), the simulator
pat='dkg_fault_|_faulty|tkms_sim_'
for f in "$B/libtkms_dkg.a" "$B/tkmsd" "${TKMS_BIN:-$B/tkms}"; do
    [ -e "$f" ] || fail "missing $f"
    n=$(nm -A "$f" 2>/dev/null | grep -cE "$pat" || true)
    [ "$n" -eq 0 ] || fail "$f holds fault-injection symbols: $(nm -A "$f" | grep -E "$pat" | head -3)"
done
for f in "$B/libtkms_dkg_faults.a" "$B/tkms-sim"; do
    n=$(nm -A "$f" 2>/dev/null | grep -cE "$pat" || true)
    [ "$n" -gt 0 ] || fail "$f: no fault-injection symbols found (the check would prove nothing)"
done
echo "dkg_no_faults: ok"
