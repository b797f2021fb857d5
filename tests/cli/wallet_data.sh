#!/usr/bin/env bash
# Data at rest: a SQLCipher database keyed with a derived data key reopens after re-derivation and
# not with a wrong key; `tkms data` round-trips (large streams included) and rejects truncation,
# chunk reordering and bit flips; output files are 0600 and never left behind on failure.
set -euo pipefail
T=${TKMS_BIN:?}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
# Random test data comes from one seed, printed, so a failure can be replayed with TKMS_TEST_SEED=<seed>.
SEED_=${TKMS_TEST_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
echo "$(basename "$0"): TKMS_TEST_SEED=$SEED_"
rand_bytes() { # rand_bytes N [LABEL]: N bytes of AES-CTR keystream keyed by SHA-256(seed, label)
  local k; k=$(printf '%s/%s' "$SEED_" "${2:-}" | sha256sum | cut -c1-64)
  head -c "$1" /dev/zero | openssl enc -aes-256-ctr -K "$k" -iv 00000000000000000000000000000000 -nosalt
}
echo "test test test test test test test test test test test junk" >"$W/m"
"$T" derive data-key --mnemonic-file "$W/m" --label app-db >"$W/key"
chmod 600 "$W/key"

# --- SQLCipher: the key goes in through stdin (PRAGMA), never argv ---
if command -v sqlcipher >/dev/null; then
  sql_with_key() { # keyfile db sql...
    local k; k=$(cat "$1"); shift; local db=$1; shift
    printf 'PRAGMA key = "x'"'"'%s'"'"'";\n%s\n' "$k" "$*" | sqlcipher -bail "$db"
  }
  sql_with_key "$W/key" "$W/app.db" "CREATE TABLE t(v TEXT); INSERT INTO t VALUES('hello from the TEE');" >/dev/null
  if strings "$W/app.db" | grep -q "hello from the TEE"; then die "database is not encrypted"; fi
  # "reboot": derive the key again from the mnemonic alone
  "$T" derive data-key --mnemonic-file "$W/m" --label app-db >"$W/key2"
  cmp -s "$W/key" "$W/key2" || die "re-derived key differs"
  out=$(sql_with_key "$W/key2" "$W/app.db" "SELECT v FROM t;" | tail -n1)
  [ "$out" = "hello from the TEE" ] || die "reopen after re-derivation: '$out'"
  "$T" derive data-key --mnemonic-file "$W/m" --label other-db >"$W/wrong"
  if sql_with_key "$W/wrong" "$W/app.db" "SELECT v FROM t;" >/dev/null 2>&1; then die "opened with a wrong key"; fi
  echo "sqlcipher: reopened with the re-derived key, refused a wrong key"
else
  die "sqlcipher CLI not installed"
fi

# --- tkms data round trips ---
rand_bytes 300000 p >"$W/p"
"$T" data encrypt --key-file "$W/key" --in "$W/p" --out "$W/c"
[ "$(stat -c %a "$W/c")" = 600 ] || die "ciphertext mode"
"$T" data decrypt --key-file "$W/key" --in "$W/c" --out "$W/p2"
cmp -s "$W/p" "$W/p2" || die "round trip"
[ "$(stat -c %a "$W/p2")" = 600 ] || die "plaintext mode"
"$T" data encrypt --key-file "$W/key" <"$W/p" | "$T" data decrypt --key-file "$W/key" | cmp -s - "$W/p" || die "pipe round trip"
: >"$W/empty"
"$T" data encrypt --key-file "$W/key" <"$W/empty" >"$W/ce"
[ "$(stat -c %s "$W/ce")" = 64 ] || die "empty file: header + one tag expected"
[ "$("$T" data decrypt --key-file "$W/key" <"$W/ce" | wc -c)" = 0 ] || die "empty round trip"

# Large stream through pipes: 256 MiB never held in memory (RSS checked when GNU time exists).
big=$((256 * 1024 * 1024))
sum_in=$(head -c $big /dev/zero | tee >(sha256sum | cut -d' ' -f1 >"$W/sum_in") |
  "$T" data encrypt --key-file "$W/key" | "$T" data decrypt --key-file "$W/key" | sha256sum | cut -d' ' -f1)
sleep 0.2
[ "$sum_in" = "$(cat "$W/sum_in")" ] || die "large stream round trip"
if [ -x /usr/bin/time ]; then
  rss=$(head -c $big /dev/zero | /usr/bin/time -f %M "$T" data encrypt --key-file "$W/key" 2>&1 >/dev/null | tail -n1)
  [ "$rss" -lt 65536 ] || die "encrypt used ${rss} KiB for a 256 MiB stream"
fi

# --- tampering: small chunks make the layout easy to edit (header 48, chunk 64 + 16 tag) ---
rand_bytes 1000 s >"$W/s"
"$T" data encrypt --key-file "$W/key" --chunk-size 64 --in "$W/s" --out "$W/sc"
size=$(stat -c %s "$W/sc")
[ "$size" = $((48 + 1000 + 16 * 16)) ] || die "unexpected size $size"
reject() { # name file
  if "$T" data decrypt --key-file "$W/key" --in "$2" --out "$W/out" 2>"$W/err"; then die "$1 accepted"; fi
  rc=0; "$T" data decrypt --key-file "$W/key" --in "$2" >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || die "$1: exit $rc, want 1"
  [ ! -e "$W/out" ] || die "$1: output file left behind"
  ls "$W" | grep -q 'out.tmp' && die "$1: temporary file left behind"
  return 0
}
for cut in 0 10 48 49 $((48 + 80)) $((48 + 80 * 3)) $((size - 16)) $((size - 1)); do
  head -c $cut "$W/sc" >"$W/t"
  reject "truncation to $cut bytes" "$W/t"
done
# swap chunks 2 and 3
{ head -c $((48 + 80)) "$W/sc"; tail -c +$((48 + 160 + 1)) "$W/sc" | head -c 80
  tail -c +$((48 + 80 + 1)) "$W/sc" | head -c 80; tail -c +$((48 + 240 + 1)) "$W/sc"; } >"$W/t"
[ "$(stat -c %s "$W/t")" = "$size" ] || die "swap built a wrong file"
reject "chunk reordering" "$W/t"
# drop chunk 2
{ head -c $((48 + 80)) "$W/sc"; tail -c +$((48 + 160 + 1)) "$W/sc"; } >"$W/t"
reject "dropped chunk" "$W/t"
# bit flips in the header, a middle chunk, a tag and the last byte
for off in 0 8 13 20 47 48 150 $((48 + 80 + 70)) $((size - 1)); do
  python3 - "$W/sc" "$W/t" "$off" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[int(sys.argv[3])] ^= 0x04; open(sys.argv[2], 'wb').write(b)
PY
  reject "bit flip at $off" "$W/t"
done
# appended garbage
{ cat "$W/sc"; printf x; } >"$W/t"
reject "appended byte" "$W/t"
# wrong key
if "$T" data decrypt --key-file "$W/wrong" --in "$W/sc" >/dev/null 2>&1; then die "wrong key accepted"; fi
# not a data file / bad key file
rc=0; "$T" data decrypt --key-file "$W/key" --in "$W/s" >/dev/null 2>&1 || rc=$?; [ $rc = 1 ] || die "garbage: exit $rc"
echo 1234 >"$W/badkey"
rc=0; "$T" data encrypt --key-file "$W/badkey" <"$W/s" >/dev/null 2>&1 || rc=$?; [ $rc = 1 ] || die "bad key file: exit $rc"
rc=0; "$T" data encrypt <"$W/s" >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || die "missing --key-file: exit $rc"
rc=0; "$T" data decrypt --key-file "$W/key" --chunk-size 64 <"$W/sc" >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || die "chunk-size on decrypt: exit $rc"
echo "wallet_data: all checks passed"
