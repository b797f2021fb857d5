#!/usr/bin/env bash
# The shared core exports only the public API: every dynamic symbol it defines starts with tkms_.
set -euo pipefail
lib=$(ls "$TKMS_BUILD"/libtkms.so.* 2>/dev/null | head -1)
[ -n "$lib" ] || { echo "libtkms.so not built"; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^_' || true)
[ -n "$syms" ] || { echo "no exported symbols at all"; exit 1; }
bad=$(echo "$syms" | grep -v '^tkms_' || true)
echo "exported: $(echo "$syms" | wc -l) symbols"
if [ -n "$bad" ]; then echo "symbols without the tkms_ prefix:"; echo "$bad"; exit 1; fi
# and the internals (field, curve, pairing) stay hidden
for s in fp_mul g1_mul pairing_final_exp h2c_hash_to_g1 tbls_deal; do
  if echo "$syms" | grep -qx "$s"; then echo "internal symbol $s is exported"; exit 1; fi
done
echo "ok"
