#!/usr/bin/env bash
# tkms group verify|show on certified group files written by the simulator (tkms-sim): verification, MPK
# continuity with --previous, and rejection (exit 1) of tampered or mismatched files.
set -euo pipefail
TKMS=${TKMS_BIN:-tkms}
SIM=${TKMS_SIM_BIN:-${TKMS_BUILD:-.}/tkms-sim}
fail() { echo "FAIL: $*" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$SIM" reshare --nodes 4 --to-nodes 5 --seed 11 --group-out "$dir/g1.json" --prev-group-out "$dir/g0.json" >/dev/null
"$TKMS" group verify "$dir/g0.json" | grep -q '^ok: group file verifies' || fail "g0 verify"
"$TKMS" group verify "$dir/g1.json" --previous "$dir/g0.json" | grep -q 'same MPK' || fail "continuity"
"$TKMS" group show "$dir/g1.json" | grep -q '^epoch: 1$' || fail "show epoch"
"$TKMS" group show "$dir/g1.json" | grep -q '^threshold: 4$' || fail "show threshold"
mpk0=$("$TKMS" group show "$dir/g0.json" | sed -n 's/^mpk: //p')
mpk1=$("$TKMS" group show "$dir/g1.json" | sed -n 's/^mpk: //p')
[ -n "$mpk0" ] && [ "$mpk0" = "$mpk1" ] || fail "mpk differs"

expect_reject() { # expect_reject FILE [args]
    set +e
    "$TKMS" group verify "$@" >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc -eq 1 ] || fail "verify $* exited $rc, want 1"
}
# wrong order of epochs, an unrelated previous group
expect_reject "$dir/g0.json" --previous "$dir/g1.json"
"$SIM" dkg --nodes 4 --seed 12 --group-out "$dir/other.json" >/dev/null
expect_reject "$dir/g1.json" --previous "$dir/other.json"
# tampering: a signature, the threshold, a member key, the MPK, dropped signatures, not JSON
python3 - "$dir" <<'PY'
import json, sys, os
d = sys.argv[1]
g = json.load(open(os.path.join(d, "g1.json")))
def w(name, obj):
    json.dump(obj, open(os.path.join(d, name), "w"), sort_keys=True, separators=(",", ":"))
x = json.loads(json.dumps(g)); s = x["signatures"][0]["signature"]; x["signatures"][0]["signature"] = ("0" if s[0] != "0" else "1") + s[1:]; w("t_sig.json", x)
x = json.loads(json.dumps(g)); x["threshold"] = 2; w("t_thr.json", x)
x = json.loads(json.dumps(g)); k = x["members"][1]["x25519"]; x["members"][1]["x25519"] = ("0" if k[0] != "0" else "1") + k[1:]; w("t_mem.json", x)
x = json.loads(json.dumps(g)); x["signatures"] = x["signatures"][:3]; w("t_few.json", x)
x = json.loads(json.dumps(g)); x["public_polynomial"][0], x["public_polynomial"][1] = x["public_polynomial"][1], x["public_polynomial"][0]; w("t_poly.json", x)
x = json.loads(json.dumps(g)); x["qual"] = [1, 2, 4]; w("t_qual.json", x)
open(os.path.join(d, "t_junk.json"), "w").write("{not json")
PY
for t in t_sig t_thr t_mem t_few t_poly t_qual t_junk; do expect_reject "$dir/$t.json"; done
set +e
"$TKMS" group verify >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage"
"$TKMS" group frob "$dir/g1.json" >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage 2"
set -e
echo "sim_group: ok"
