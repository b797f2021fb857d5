#!/usr/bin/env bash
# `make demo` (for now): the built-in known-answer self-test and the benchmark summary.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x "$build/tkms" ] || [ ! -x "$build/tkms-bench" ]; then
    echo "demo: $build/tkms or $build/tkms-bench missing; run 'make build' first" >&2
    exit 2
fi
hr() { printf '\n== %s ==\n' "$1"; }

hr "tkms selftest (RFC 9380, Ethereum, drand, tlock GT, EIP-2333 KeyGen, pairing)"
"$build/tkms" selftest --verbose

hr "BLS round trip through the command line (min-sig, drand quicknet DST)"
dst='BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_'
keys=$("$build/tkms" bls keygen --variant min-sig --ikm "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')")
sk=$(awk '$1=="sk"{print $2}' <<<"$keys")
pk=$(awk '$1=="pk"{print $2}' <<<"$keys")
msg=$(printf 'hello tkms' | od -An -tx1 | tr -d ' \n')
skf=$(mktemp)
trap 'rm -f "$skf"' EXIT
chmod 600 "$skf"
echo "$sk" >"$skf"
sig=$("$build/tkms" bls sign --variant min-sig --dst "$dst" --sk-file "$skf" --msg "$msg")
echo "pk  $pk"
echo "sig $sig"
"$build/tkms" bls verify --variant min-sig --dst "$dst" --pk "$pk" --msg "$msg" --sig "$sig"
if "$build/tkms" bls verify --variant min-sig --dst "$dst" --pk "$pk" --msg "${msg}00" --sig "$sig" 2>/dev/null; then
    echo "demo: a signature on another message verified" >&2
    exit 1
fi
echo "other message: rejected (exit 1), as it should be"

hr "tkms-bench --quick (median ns/op; blst on this class of machine: fp_mul 28 ns, g1_mul 73 us, pairing 546 us)"
"$build/tkms-bench" --quick
