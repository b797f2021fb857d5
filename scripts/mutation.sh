#!/usr/bin/env bash
# Mutation testing (issue 19): applies every mutant of tests/mutation/*.txt, one at a time, to
# a scratch copy of the tree, rebuilds incrementally, runs the tests that must catch it, and prints
#   N killed, M survived, E equivalent
# with each survivor named. A mutant is killed when at least one of its tests fails (or the mutated
# tree does not build with -Werror: then it is reported as "unbuildable", a broken mutant line, and
# counted as a survivor so that it gets fixed). Equivalent mutants are the "# equivalent:" comment
# lines of the files (each with its argument); they are counted, not run. Before any mutant, the
# tests named by the mutants are run on the unmutated tree: a test that fails there kills nothing.
#   scripts/mutation.sh [--only REGEX] [--keep] [--jobs J] [--scratch DIR]
# --scratch DIR keeps the scratch copy and its build in DIR between runs (only changed files are
# copied again, so the next run rebuilds incrementally): for writing and checking mutant lines.
# Not part of make test (about 12 minutes on 2 cores for the whole list); run it before resolving an
# issue that touches a security check: make mutation.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LISTS=("$ROOT"/tests/mutation/*.txt)
ONLY=""; KEEP=""; JOBS=$(nproc); SCRATCH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --jobs) JOBS=$2; shift 2 ;;
    --scratch) SCRATCH=$(mkdir -p "$2" && cd "$2" && pwd); KEEP=1; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "usage: scripts/mutation.sh [--only REGEX] [--keep] [--jobs J] [--scratch DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$SCRATCH" ] || SCRATCH=$(mktemp -d /tmp/tkms-mutation.XXXXXX)
cleanup() { if [ -z "$KEEP" ]; then rm -rf "$SCRATCH"; else echo "kept $SCRATCH" >&2; fi; }
trap cleanup EXIT
echo "==> scratch copy in $SCRATCH" >&2
# the tracked files as they are in the working tree (uncommitted edits included)
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  cmp -s "$f" "$SCRATCH/$f" 2>/dev/null || cp --parents "$f" "$SCRATCH/"
done)
[ -e "$SCRATCH/node_modules" ] || ln -s "$ROOT/node_modules" "$SCRATCH/node_modules"
B=$SCRATCH/build
echo "==> configure and build the unmutated tree" >&2
cmake -S "$SCRATCH" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$JOBS" >/dev/null
mutants() { # the mutant lines of every list (comments and empty lines dropped), filtered by --only
  cat "${LISTS[@]}" | while IFS=$'\t' read -r id file func kill script; do
    [ -z "$id" ] && continue
    case "$id" in \#*) continue ;; esac
    if [ -n "$ONLY" ] && ! [[ "$id" =~ $ONLY ]]; then continue; fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$file" "$func" "$kill" "$script"
  done
}
dups=$(mutants | cut -f1 | sort | uniq -d)
[ -z "$dups" ] || { echo "duplicate mutant ids: $dups" >&2; exit 2; }
run_tests() { # run_tests REGEX: 0 if every matching test passes
  local re=$1
  if [[ "$re" == *integ_* ]]; then
    unshare -n bash -c "ip link set lo up; cd '$B' && ctest -R '$re' >/dev/null 2>&1"
  else
    (cd "$B" && ctest -R "$re" >/dev/null 2>&1)
  fi
}
echo "==> the tests named by the mutants, on the unmutated tree" >&2
while read -r -u 3 re; do
  run_tests "$re" || { echo "tests '$re' fail on the unmutated tree: they cannot judge a mutant" >&2; exit 1; }
done 3< <(mutants | cut -f4 | sort -u)
killed=0; survived=0; total=0; survivors=()
equivalent=$(cat "${LISTS[@]}" | grep -c '^# equivalent:' || true)
while IFS=$'\t' read -r -u 3 id file func kill script; do
  total=$((total + 1))
  f=$SCRATCH/$file
  cp "$f" "$f.orig"
  sed -i -e "$script" "$f"
  if cmp -s "$f" "$f.orig"; then
    echo "  $id: the sed script does not change $file (stale mutant line)" >&2
    survived=$((survived + 1)); survivors+=("$id (stale line)")
  elif ! cmake --build "$B" -j"$JOBS" >/dev/null 2>&1; then
    echo "  $id: the mutated tree does not build (broken mutant line)" >&2
    survived=$((survived + 1)); survivors+=("$id (unbuildable)")
  elif run_tests "$kill"; then
    echo "  SURVIVED $id ($file: $func; tests $kill)" >&2
    survived=$((survived + 1)); survivors+=("$id")
  else
    echo "  killed   $id by $kill" >&2
    killed=$((killed + 1))
  fi
  mv "$f.orig" "$f"
  touch "$f"
done 3< <(mutants)
cmake --build "$B" -j"$JOBS" >/dev/null 2>&1 || true
echo "$killed killed, $survived survived, $equivalent equivalent (of $total mutants run)"
for s in "${survivors[@]+"${survivors[@]}"}"; do echo "  survivor: $s"; done
[ "$survived" = 0 ]
