#!/usr/bin/env bash
# Static analysis (`make analyze`, part of `make test`): clang's analyzer (scan-build's analyze-build)
# over every C translation unit of a Debug configuration, each source analysed once per set of -D
# flags (the client library is compiled twice, static and shared, with the same defines).
# Any report fails: the tree stays at zero findings. A finding that cannot happen is annotated in
# the code (an assertion or check the analyzer understands), never suppressed here.
# Usage: scripts/analyze.sh [BUILD_DIR] [JOBS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-analyze}
jobs=${2:-$(nproc)}
[ "$jobs" -ge 1 ] && [ "$jobs" -le "$(nproc)" ] || jobs=$(nproc)
ab=$(command -v analyze-build-14 || command -v analyze-build || true)
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$ab" ] || [ -z "$clang" ]; then
    echo "analyze: needs clang-tools-14 (analyze-build) and clang" >&2
    exit 2
fi
start=$(date +%s)
mkdir -p "$build"
# configure only: the analyzer needs the compile commands, not a build
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$clang" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DTKMS_SANITIZE=OFF -DTKMS_FUZZ=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 2; }
python3 - "$build/compile_commands.json" "$build/analyze_cdb.json" <<'PY'
import json, shlex, sys
cdb = json.load(open(sys.argv[1]))
seen, out = set(), []
for e in cdb:
    args = e.get("arguments") or shlex.split(e["command"])
    if not e["file"].endswith(".c"):
        continue
    # -D<target>_EXPORTS (CMake's mark of a shared library's objects) changes nothing in the code
    key = (e["file"], tuple(sorted(a for a in args if a.startswith("-D") and not a.endswith("_EXPORTS"))))
    if key in seen:
        continue
    seen.add(key)
    out.append(e)
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"analyze: {len(out)} translation units ({len(cdb)} compile commands)")
PY
rm -rf "$build/analyzer-report"
set +e
# analyze-build has no job option: it uses one process per CPU it sees; cap that with taskset
taskset -c "0-$((jobs - 1))" "$ab" --cdb "$build/analyze_cdb.json" -o "$build/analyzer-report" --sarif-html \
    --status-bugs --html-title tkms >"$build/analyze.log" 2>&1
rc=$?
set -e
python3 - "$build/analyzer-report" "$root" <<'PY'
import glob, json, os, sys
n = 0
for f in glob.glob(os.path.join(sys.argv[1], "*", "result-*.sarif")):
    for run in json.load(open(f)).get("runs", []):
        for r in run.get("results", []):
            loc = r["locations"][0]["physicalLocation"]
            path = loc["artifactLocation"]["uri"].replace("file://", "")
            path = os.path.relpath(path, sys.argv[2])
            print(f"{path}:{loc['region']['startLine']}: {r['message']['text']} [{r['ruleId']}]")
            n += 1
print(f"analyze: {n} finding(s)")
PY
echo "analyze: $(( $(date +%s) - start )) s"
if [ $rc -ne 0 ]; then
    echo "analyze: reports in $build/analyzer-report (HTML); fix or annotate every finding" >&2
    exit 1
fi
