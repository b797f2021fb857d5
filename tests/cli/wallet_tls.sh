#!/usr/bin/env bash
# TLS keys from a mnemonic: openssl verify accepts the self-signed certificate, a real
# openssl s_server/s_client handshake completes with it, the CSR verifies, and re-derivation
# (also via --csr) gives the same key.
set -euo pipefail
T=${TKMS_BIN:?}
W=$(mktemp -d)
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
D=app.tkms.test
echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about" >"$W/m"
mkdir "$W/a" "$W/b" "$W/c" "$W/d"
"$T" derive tls --mnemonic-file "$W/m" --domain $D --out-dir "$W/a" >/dev/null
"$T" derive tls --mnemonic-file "$W/m" --domain $D --out-dir "$W/b" --days 10 >/dev/null
"$T" derive tls --mnemonic-file "$W/m" --domain $D --out-dir "$W/c" --csr >/dev/null
"$T" derive tls --mnemonic-file "$W/m" --domain other.tkms.test --out-dir "$W/d" >/dev/null
[ "$(stat -c %a "$W/a/tls.key")" = 600 ] || die "key mode"
cmp -s "$W/a/tls.key" "$W/b/tls.key" || die "re-derivation changed the key"
cmp -s "$W/a/tls.key" "$W/c/tls.key" || die "--csr derived another key"
if cmp -s "$W/a/tls.key" "$W/d/tls.key"; then die "two domains share a key"; fi
openssl verify -CAfile "$W/a/tls.crt" "$W/a/tls.crt" >/dev/null || die "openssl verify"
openssl verify -CAfile "$W/a/tls.crt" -verify_hostname $D "$W/a/tls.crt" >/dev/null || die "verify_hostname"
if openssl verify -CAfile "$W/a/tls.crt" -verify_hostname wrong.tkms.test "$W/a/tls.crt" >/dev/null 2>&1; then
  die "certificate accepted for another host"
fi
if openssl verify -CAfile "$W/d/tls.crt" "$W/a/tls.crt" >/dev/null 2>&1; then die "verified under another key"; fi
openssl req -in "$W/c/tls.csr" -noout -verify 2>/dev/null || die "CSR signature"
openssl req -in "$W/c/tls.csr" -noout -text | grep -q "DNS:$D" || die "CSR has no SAN"
[ "$(openssl x509 -in "$W/a/tls.crt" -noout -pubkey)" = "$(openssl pkey -in "$W/a/tls.key" -pubout)" ] || die "cert/key mismatch"
[ "$(openssl req -in "$W/c/tls.csr" -noout -pubkey)" = "$(openssl pkey -in "$W/a/tls.key" -pubout)" ] || die "csr/key mismatch"

# Handshake on a free local port.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$W/a/tls.crt" -key "$W/a/tls.key" -naccept 1 -quiet \
  </dev/null >"$W/server.log" 2>&1 &
SRV=$!
ok=0
for _ in $(seq 1 50); do
  if echo | openssl s_client -connect "127.0.0.1:$PORT" -servername $D -CAfile "$W/a/tls.crt" \
    -verify_return_error -verify_hostname $D -brief >"$W/client.log" 2>&1; then
    ok=1
    break
  fi
  grep -q "Connection refused\|connect:errno" "$W/client.log" || break
  sleep 0.1
done
[ $ok = 1 ] || { cat "$W/client.log" >&2; die "handshake failed"; }
grep -q "Verification: OK" "$W/client.log" || { cat "$W/client.log" >&2; die "client did not verify the server"; }
wait "$SRV" 2>/dev/null || true
SRV=
echo "wallet_tls: handshake ok ($(grep -m1 'Protocol version' "$W/client.log" || true))"
