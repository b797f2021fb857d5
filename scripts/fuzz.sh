#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting from the committed seed
# corpus fuzz/corpus/<target>/ (new inputs go to fuzz/corpus-run/<target>/, crashes to
# fuzz/corpus-run/artifacts/). Exit 1 if any target finds a crash.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/fuzz/corpus-run"
mkdir -p "$run/artifacts"
targets=$(find "$build" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
if [ -z "$targets" ]; then
    echo "no fuzz targets in $build (configure with -DTKMS_FUZZ=ON -DCMAKE_C_COMPILER=clang)" >&2
    exit 2
fi
status=0
for t in $targets; do
    name=$(basename "$t")
    mkdir -p "$run/$name"
    seeds="$root/fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    echo "==> $name for ${secs}s"
    if ! "$t" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 \
        -artifact_prefix="$run/artifacts/$name-" "$run/$name" $seeds 2>"$run/$name.log"; then
        echo "!! $name found a problem; see $run/$name.log and $run/artifacts/" >&2
        tail -30 "$run/$name.log" >&2
        status=1
    else
        grep -E 'stat::number_of_executed_units|stat::new_units_added' "$run/$name.log" | sed 's/^/   /'
    fi
done
exit $status
