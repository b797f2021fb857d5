#!/usr/bin/env bash
# libtkms-client.so exports exactly its public API: every defined dynamic symbol starts with
# tkms_client_, so the core, DKG, wallet and seal code linked into it stays hidden.
set -euo pipefail
lib=$(ls "$TKMS_BUILD"/libtkms-client.so.* 2>/dev/null | head -1)
[ -n "$lib" ] || { echo "libtkms-client.so not built"; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^_' || true)
[ -n "$syms" ] || { echo "no exported symbols at all"; exit 1; }
bad=$(echo "$syms" | grep -v '^tkms_client_' || true)
echo "exported: $(echo "$syms" | wc -l) symbols"
if [ -n "$bad" ]; then echo "symbols without the tkms_client_ prefix:"; echo "$bad"; exit 1; fi
for s in tkms_client_fetch tkms_client_group_load tkms_client_evidence_get tkms_client_unseal; do
  echo "$syms" | grep -qx "$s" || { echo "missing $s"; exit 1; }
done
echo "ok"
