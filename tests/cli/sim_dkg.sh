#!/usr/bin/env bash
# tkms-sim dkg|reshare: the stable JSON contract (keys, types, exit codes), Byzantine kinds,
# crash/loss options, usage errors (exit 2), and a clean abort when success is impossible.
# tkms-sim is the simulator program built from the engine's fault-injection build; the product CLI
# has no simulator (checked at the end).
set -euo pipefail
TKMS=${TKMS_BIN:-tkms}
SIM=${TKMS_SIM_BIN:-${TKMS_BUILD:-.}/tkms-sim}
fail() { echo "FAIL: $*" >&2; exit 1; }
json_check() { # json_check JSON python-expression
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" ||
        fail "check '$2' on: $1"
}

out=$("$SIM" dkg --nodes 7 --seed 42)
json_check "$out" 'd["ok"] is True and d["agreed"] is True and d["honest_shares_consistent"] is True'
json_check "$out" 'd["qual"] == [1,2,3,4,5,6,7] and len(d["mpk"]) == 192 and d["messages"] > 0 and d["bytes"] > 0'
json_check "$out" 'isinstance(d["cpu_s"], float) and "mpk_before" not in d'
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "more than one line"
# deterministic given the seed (apart from cpu time)
out2=$("$SIM" dkg --nodes 7 --seed 42)
[ "$(echo "$out" | sed 's/"cpu_s": [0-9.]*//')" = "$(echo "$out2" | sed 's/"cpu_s": [0-9.]*//')" ] || fail "not deterministic"

for kind in bad-share equivocate bad-justification wrong-constant replay silent; do
    out=$("$SIM" dkg --nodes 7 --threshold 5 --seed 7 --byzantine "$kind:2") || fail "$kind: exit $?"
    json_check "$out" 'd["ok"] and d["agreed"] and len(d["qual"]) >= 5'
done
out=$("$SIM" dkg --nodes 7 --seed 9 --byzantine equivocate:2)
json_check "$out" 'len(d["qual"]) == 5'
out=$("$SIM" dkg --nodes 7 --seed 9 --byzantine replay:1)
json_check "$out" 'd["stale_rejected"] > 0 and len(d["qual"]) == 6'
out=$("$SIM" dkg --nodes 10 --seed 5 --crash 3 --loss 0.05 --delay-ms 2-40 --byzantine bad-share:0)
json_check "$out" 'd["ok"] and d["agreed"]'
out=$("$SIM" dkg --nodes 10 --seed 6 --byzantine silent:1 --byzantine bad-justification:1 --byzantine equivocate:1)
json_check "$out" 'd["ok"] and len(d["qual"]) == 7'

# reshare: MPK continuity for every committee change shape
for args in "--nodes 4 --to-nodes 7" "--nodes 7 --to-nodes 4" "--nodes 4 --to-nodes 4 --keep 0" \
            "--nodes 10 --to-nodes 10" "--nodes 7 --to-nodes 7 --to-threshold 3" "--nodes 4 --to-nodes 6 --to-threshold 6 --keep 2"; do
    # shellcheck disable=SC2086
    out=$("$SIM" reshare $args --seed 3) || fail "reshare $args: exit $?"
    json_check "$out" 'd["ok"] and d["agreed"] and d["mpk"] == d["mpk_before"] and d["honest_shares_consistent"]'
done
out=$("$SIM" reshare --nodes 7 --to-nodes 7 --seed 4 --byzantine wrong-constant:2)
json_check "$out" 'd["ok"] and d["mpk"] == d["mpk_before"] and 0 < len(d["qual"]) == 5'

# impossible: more faulty dealers than n - t; must end in a clean abort with exit 0
out=$("$SIM" dkg --nodes 4 --seed 1 --byzantine silent:2) || fail "clean abort should exit 0"
json_check "$out" 'd["ok"] and d["mpk"] is None and d["qual"] == []'
out=$("$SIM" reshare --nodes 4 --to-nodes 4 --seed 1 --byzantine wrong-constant:2) || fail "reshare abort should exit 0"
json_check "$out" 'd["ok"] and d["mpk"] is None and len(d["mpk_before"]) == 192'

# usage errors exit 2
for bad in "" "dkg" "dkg --nodes 0" "dkg --nodes 4 --threshold 5" "dkg --nodes 4 --byzantine evil:1" \
           "dkg --nodes 4 --loss 1.5" "dkg --nodes 4 --delay-ms 9-3" "reshare --nodes 4" \
           "dkg --nodes 4 --to-nodes 5" "dkg --nodes 4 --bogus 1" "frobnicate --nodes 4"; do
    set +e
    # shellcheck disable=SC2086
    "$SIM" $bad >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "'$bad' exited $rc, want 2"
done
# the product CLI has no simulator (and no fault injection): an unknown command
set +e
"$TKMS" sim dkg --nodes 4 >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "'tkms sim' exited $rc, want 2 (unknown command)"
echo "sim_dkg: ok"
