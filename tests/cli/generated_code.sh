#!/usr/bin/env bash
# Generated core code is what its committed generator prints, and the assembly field arithmetic is
# straight-line: no jump or call instructions (so no branch can depend on an operand; the Valgrind
# ctime test cannot see this path, as Valgrind does not emulate ADX).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python3 "$root/tools/gen_fp_x86.py" | diff -q - "$root/src/core/fp_x86_64.S"
python3 "$root/tools/gen_frobenius.py" | diff -q - "$root/src/core/fp12_consts.h"
if grep -nE '^\s+(j[a-z]+|call|loop[a-z]*)\s' "$root/src/core/fp_x86_64.S"; then
    echo "branch or call instruction in the field assembly"; exit 1
fi
echo ok
