#!/usr/bin/env bash
# The stable CLI contract of `tkms bls`, `tkms h2c` and `tkms selftest`: outputs, exit codes
# (0 ok, 1 invalid signature / rejected input, 2 usage), errors on stderr, --help.
set -u
TKMS=${TKMS_BIN:-build/tkms}
if [ ! -x "$TKMS" ]; then
    echo "bls_cli: $TKMS is not an executable (set TKMS_BIN)" >&2
    exit 1
fi
fails=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect CODE DESCRIPTION -- CMD...   (stdout in $tmp/out, stderr in $tmp/err)
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    n=$((n + 1))
    if [ "$got" != "$want" ]; then
        echo "FAIL: $what: exit $got, want $want ($*)" >&2
        sed 's/^/  stderr: /' "$tmp/err" >&2
        fails=$((fails + 1))
    fi
}
same() { # same DESCRIPTION GOT WANT
    n=$((n + 1))
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: got '$2', want '$3'" >&2
        fails=$((fails + 1))
    fi
}

IKM=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
POP='BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
NUL='BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_'

# --- help ---
for c in "bls --help" "bls sign --help" "h2c --help" "selftest --help"; do
    expect 0 "tkms $c" -- $TKMS $c
    grep -q usage "$tmp/out" || { echo "FAIL: tkms $c prints no usage" >&2; fails=$((fails + 1)); }
done
grep -q -- --sk-file <($TKMS bls --help) || { echo "FAIL: bls --help does not mention --sk-file" >&2; fails=$((fails + 1)); }

# --- keygen: 'sk HEX' and 'pk HEX', deterministic ---
for v in min-sig min-pk; do
    expect 0 "keygen $v" -- $TKMS bls keygen --variant $v --ikm $IKM
    sk=$(awk '$1=="sk"{print $2}' "$tmp/out")
    pk=$(awk '$1=="pk"{print $2}' "$tmp/out")
    same "keygen $v output lines" "$(wc -l <"$tmp/out" | tr -d ' ')" 2
    same "keygen $v sk length" ${#sk} 64
    if [ $v = min-sig ]; then same "pk length" ${#pk} 192; else same "pk length" ${#pk} 96; fi
    again=$($TKMS bls keygen --variant $v --ikm $IKM)
    same "keygen deterministic" "$again" "$(cat "$tmp/out")"
    [[ "$sk$pk" =~ ^[0-9a-f]+$ ]] || { echo "FAIL: keygen hex not lowercase" >&2; fails=$((fails + 1)); }

    # --- sign / verify round trip (the key from a file, or from stdin) ---
    echo "$sk" >"$tmp/sk"
    chmod 600 "$tmp/sk"
    expect 0 "sign $v" -- $TKMS bls sign --variant $v --dst "$NUL" --sk-file "$tmp/sk" --msg 68656c6c6f
    sig=$(cat "$tmp/out")
    if [ $v = min-sig ]; then same "sig length" ${#sig} 96; else same "sig length" ${#sig} 192; fi
    expect 0 "sign --sk-file - $v" -- sh -c "$TKMS bls sign --variant $v --dst '$NUL' --sk-file - --msg 68656c6c6f <'$tmp/sk'"
    same "stdin gives the same signature" "$(cat "$tmp/out")" "$sig"
    printf '%s' "$IKM" >"$tmp/ikm"
    expect 0 "keygen --ikm-file $v" -- $TKMS bls keygen --variant $v --ikm-file "$tmp/ikm"
    same "keygen --ikm-file = --ikm" "$(awk '$1=="sk"{print $2}' "$tmp/out")" "$sk"
    expect 0 "verify $v" -- $TKMS bls verify --variant $v --dst "$NUL" --pk "$pk" --msg 68656c6c6f --sig "$sig"
    expect 1 "verify wrong msg $v" -- $TKMS bls verify --variant $v --dst "$NUL" --pk "$pk" --msg 68656c6c6e --sig "$sig"
    [ -s "$tmp/err" ] || { echo "FAIL: rejection without a message on stderr" >&2; fails=$((fails + 1)); }
    expect 1 "verify wrong dst $v" -- $TKMS bls verify --variant $v --dst "X$NUL" --pk "$pk" --msg 68656c6c6f --sig "$sig"
    bad=$(printf '%s' "$sig" | sed 's/^\(..........\)\(.\)/\1f/')
    [ "$bad" = "$sig" ] && bad=$(printf '%s' "$sig" | sed 's/^\(..........\)\(.\)/\10/')
    expect 1 "verify tampered sig $v" -- $TKMS bls verify --variant $v --dst "$NUL" --pk "$pk" --msg 68656c6c6f --sig "$bad"
    expect 1 "verify truncated sig $v" -- $TKMS bls verify --variant $v --dst "$NUL" --pk "$pk" --msg 68656c6c6f --sig "${sig:0:20}"
    expect 1 "verify empty msg $v" -- $TKMS bls verify --variant $v --dst "$NUL" --pk "$pk" --msg "" --sig "$sig"
    expect 0 "sign empty msg $v" -- $TKMS bls sign --variant $v --dst "$NUL" --sk-file "$tmp/sk" --msg ""
done

# --- Ethereum vector (min-pk, POP DST) ---
echo 0x47b8192d77bf871b62e87859d653922725724a5c031afeabc60bcef5ff665138 >"$tmp/ethsk"
expect 0 "eth sign vector" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk-file "$tmp/ethsk" \
    --msg 0000000000000000000000000000000000000000000000000000000000000000
same "eth sign output" "$(cat "$tmp/out")" b23c46be3a001c63ca711f87a005c200cc550b9429d5f4eb38d74322144f1b63926da3388979e5321012fb1a0526bcd100b5ef5fe72628ce4cd5e904aeaa3279527843fae5ca9ca675f4f51ed8f83bbf7155da9ecc9663100a885d5dc6df96d9

# --- drand quicknet beacon (min-sig); round+1 fails ---
QPK=83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a
QSIG=b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92
expect 0 "drand round 123" -- $TKMS bls verify --variant min-sig --dst "$NUL" --pk $QPK \
    --msg 41f1c4ddd1183083b48396129dec579e9b7ae61bcf24b743cfe59b7d558a2676 --sig $QSIG
R124=$(printf '000000000000007c' | xxd -r -p | sha256sum | cut -c1-64)
expect 1 "drand round 124" -- $TKMS bls verify --variant min-sig --dst "$NUL" --pk $QPK --msg "$R124" --sig $QSIG
expect 1 "drand with the wrong variant" -- $TKMS bls verify --variant min-pk --dst "$NUL" --pk $QPK \
    --msg 41f1c4ddd1183083b48396129dec579e9b7ae61bcf24b743cfe59b7d558a2676 --sig $QSIG

# --- rejected input (1) ---
INF96=c0$(printf '0%.0s' $(seq 1 190))
expect 1 "identity public key" -- $TKMS bls verify --variant min-sig --dst "$NUL" --pk $INF96 --msg 00 --sig $QSIG
printf '0%.0s' $(seq 1 64) >"$tmp/zerosk"
echo 73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001 >"$tmp/rsk"
expect 1 "zero secret key" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk-file "$tmp/zerosk" --msg 00
expect 1 "secret key = r" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk-file "$tmp/rsk" --msg 00
expect 1 "short IKM" -- $TKMS bls keygen --variant min-sig --ikm 0011
printf 'zz\n' >"$tmp/badsk"
expect 1 "bad --sk-file" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk-file "$tmp/badsk" --msg 00

# --- usage errors (2) ---
expect 2 "no subcommand" -- $TKMS bls
expect 2 "unknown subcommand" -- $TKMS bls frobnicate
expect 2 "bad variant" -- $TKMS bls keygen --variant min-foo --ikm $IKM
expect 2 "missing variant" -- $TKMS bls keygen --ikm $IKM
expect 2 "missing ikm" -- $TKMS bls keygen --variant min-sig
expect 2 "unknown option" -- $TKMS bls keygen --variant min-sig --ikm $IKM --frob 1
expect 2 "non-hex msg" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk-file "$tmp/sk" --msg xyz
expect 2 "missing dst" -- $TKMS bls sign --variant min-pk --sk-file "$tmp/sk" --msg 00
expect 2 "missing --sk-file" -- $TKMS bls sign --variant min-pk --dst "$POP" --msg 00
expect 2 "empty dst" -- $TKMS bls verify --variant min-sig --dst "" --pk $QPK --msg 00 --sig $QSIG
# a secret on the command line is refused outright, pointing to the file form (docs/security.md)
expect 2 "--sk HEX (removed)" -- $TKMS bls sign --variant min-pk --dst "$POP" --sk "$(cat "$tmp/sk")" --msg 00
grep -q -- "--sk was removed.*--sk-file" "$tmp/err" || { echo "FAIL: --sk refusal does not point to --sk-file" >&2; fails=$((fails + 1)); }
[ ! -s "$tmp/out" ] || { echo "FAIL: --sk still signed" >&2; fails=$((fails + 1)); }
expect 2 "--sk=HEX (removed)" -- $TKMS bls sign --variant min-pk --dst "$POP" "--sk=$(cat "$tmp/sk")" --msg 00
expect 2 "both --ikm and --ikm-file" -- $TKMS bls keygen --variant min-sig --ikm $IKM --ikm-file "$tmp/ikm"
expect 2 "h2c bad group" -- $TKMS h2c --group g3 --dst D --msg 00
expect 2 "h2c no dst" -- $TKMS h2c --group g1 --msg 00

# --- h2c: RFC 9380 J.9.1 / J.9.2 msg "abc", compressed (sign bits checked with @noble/curves) ---
expect 0 "h2c g1" -- $TKMS h2c --group g1 --dst QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_ --msg 616263
same "h2c g1 abc" "$(cat "$tmp/out")" 83567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903
expect 0 "h2c g2" -- $TKMS h2c --group g2 --dst QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_ --msg 616263
same "h2c g2 abc length" "$(tr -d '\n' <"$tmp/out" | wc -c)" 192
expect 0 "h2c g1 encode" -- $TKMS h2c --group g1 --dst QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_NU_ --msg 616263 --encode
same "h2c g1 encode abc" "$(cat "$tmp/out")" a09769f3ab59bfd551d53a5f846b9984c59b97d6842b20a2c565baa167945e3d026a3755b6345df8ec7e6acb6868ae6d

# --- selftest ---
expect 0 "selftest" -- $TKMS selftest
same "selftest prints one line" "$(wc -l <"$tmp/out" | tr -d ' ')" 1
grep -q "passed" "$tmp/out" || { echo "FAIL: selftest summary" >&2; fails=$((fails + 1)); }

echo "bls_cli: $n checks, $fails failures"
[ "$fails" = 0 ]
