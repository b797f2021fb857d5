#!/usr/bin/env bash
# CLI contract of tbls / app-key / ibe / tlock / seal / unseal: round trips through the real binary,
# exit codes 0 / 1 / 2, the tlock vectors, and rejection of modified or foreign inputs.
set -u
T=${TKMS_BIN:?TKMS_BIN not set}
V=${TKMS_VECTORS:?TKMS_VECTORS not set}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Random test data comes from one seed, printed, so a failure can be replayed with TKMS_TEST_SEED=<seed>.
SEED_=${TKMS_TEST_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
echo "$(basename "$0"): TKMS_TEST_SEED=$SEED_"
rand_bytes() { # rand_bytes N [LABEL]: N bytes of AES-CTR keystream keyed by SHA-256(seed, label)
  local k; k=$(printf '%s/%s' "$SEED_" "${2:-}" | sha256sum | cut -c1-64)
  head -c "$1" /dev/zero | openssl enc -aes-256-ctr -K "$k" -iv 00000000000000000000000000000000 -nosalt
}
expect() { # expect CODE cmd...
  local want=$1; shift
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  [ "$rc" = "$want" ] || { cat "$W/err" >&2; fail "exit $rc (want $want): $*"; }
}

SECRET=1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988
SEED=$(printf 'ab%.0s' $(seq 32))
# secrets go in files (0600), never in argv
(umask 077; echo $SECRET >"$W/secret.hex"; echo $SEED >"$W/seed.hex")
DST=TKMS-V1-SIGN_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_
APP=0x00112233445566778899AABBCCDDEEFF00112233
OTHER=0x00112233445566778899aabbccddeeff00112234
MSG=68656c6c6f

expect 0 "$T" tbls deal --t 3 --n 5 --secret-file "$W/secret.hex" --seed-file "$W/seed.hex"
cp "$W/out" "$W/deal.json"
expect 0 sh -c "'$T' tbls deal --t 3 --n 5 --secret-file - --seed-file '$W/seed.hex' <'$W/secret.hex'"
cmp -s "$W/out" "$W/deal.json" || fail "deal with the secret on stdin differs"
[ "$(jq '.commitments|length' "$W/deal.json")" = 3 ] || fail "3 commitments"
[ "$(jq '.shares|length' "$W/deal.json")" = 5 ] || fail "5 shares"
MPK=$(jq -r '.commitments[0]' "$W/deal.json")
share() { jq -r ".shares[$(($1-1))].share" "$W/deal.json"; }
for i in 1 2 3 4 5; do (umask 077; share $i >"$W/share$i"); done

# partials verify against the commitments; a partial for another index does not
for i in 1 2 3 4 5; do
  expect 0 "$T" tbls partial --dst $DST --share-file "$W/share$i" --index $i --msg $MSG
  P[$i]=$(cat "$W/out")
  expect 0 "$T" tbls verify-partial --dst $DST --commitments "$W/deal.json" --index $i --msg $MSG --sig "${P[$i]}"
done
expect 1 "$T" tbls verify-partial --dst $DST --commitments "$W/deal.json" --index 2 --msg $MSG --sig "${P[1]}"
expect 1 "$T" tbls verify-partial --dst $DST --commitments "$W/deal.json" --index 1 --msg 00 --sig "${P[1]}"

# combine(t partials) == signing with the master secret, for several subsets
expect 0 "$T" tbls partial --dst $DST --share-file "$W/secret.hex" --index 1 --msg $MSG
FULL=$(cat "$W/out")
for sub in "1 2 3" "5 3 1" "2 4 5" "1 4 5"; do
  args=(); for i in $sub; do args+=(--partial "$i:${P[$i]}"); done
  expect 0 "$T" tbls combine --t 3 "${args[@]}"
  [ "$(cat "$W/out")" = "$FULL" ] || fail "combine $sub != master signature"
done
# t-1 partials: refused; a duplicate index: refused
expect 1 "$T" tbls combine --t 3 --partial "1:${P[1]}" --partial "2:${P[2]}"
expect 1 "$T" tbls combine --t 3 --partial "1:${P[1]}" --partial "1:${P[1]}" --partial "2:${P[2]}"
# robust combine names the bad partial and still succeeds
expect 0 "$T" tbls combine --t 3 --commitments "$W/deal.json" --dst $DST --msg $MSG \
  --partial "1:${P[2]}" --partial "2:${P[2]}" --partial "3:${P[3]}" --partial "4:${P[4]}"
[ "$(cat "$W/out")" = "$FULL" ] || fail "robust combine"
grep -q "partial 1 is invalid" "$W/err" || fail "bad partial 1 not named"

# points: identity, off-curve, wrong length
ID48=c0$(printf '0%.0s' $(seq 94))
expect 1 "$T" tbls combine --t 1 --partial "1:$ID48"
expect 1 "$T" tbls combine --t 1 --partial "1:8$(printf '1%.0s' $(seq 95))"
expect 1 "$T" tbls verify-partial --dst $DST --commitments "$W/deal.json" --index 1 --msg $MSG --sig "${P[1]:0:90}"
expect 2 "$T" tbls deal --t 4 --n 3 --secret-file "$W/secret.hex" --seed-file "$W/seed.hex"
expect 2 "$T" tbls bogus
expect 2 "$T" tbls partial --dst $DST --share-file "$W/share1" --index 0 --msg $MSG
expect 2 "$T" tbls deal --t 3 --n 5 --secret-file - --seed-file - </dev/null
(umask 077; printf '0%.0s' $(seq 64) >"$W/zero.hex")
expect 1 "$T" tbls partial --dst $DST --share-file "$W/zero.hex" --index 1 --msg $MSG
# the old secret options are refused, pointing to the file forms
expect 2 "$T" tbls deal --t 3 --n 5 --secret $SECRET --seed-file "$W/seed.hex"
grep -q -- "--secret was removed.*--secret-file" "$W/err" || fail "--secret refusal"
expect 2 "$T" tbls deal --t 3 --n 5 --secret-file "$W/secret.hex" --seed $SEED
grep -q -- "--seed-file" "$W/err" || fail "--seed refusal"
expect 2 "$T" tbls partial --dst $DST --share "$(share 1)" --index 1 --msg $MSG
grep -q -- "--share-file" "$W/err" || fail "--share refusal"
[ ! -s "$W/out" ] || fail "a refused --share still signed"
expect 0 "$T" tbls --help

# app keys: partials verify against PK_i (here: MPK for the full key), combine to K_A
for i in 1 2 3; do
  expect 0 "$T" app-key partial --share-file "$W/share$i" --index $i --app $APP
  K[$i]=$(cat "$W/out")
done
expect 0 "$T" tbls combine --t 3 --partial "1:${K[1]}" --partial "2:${K[2]}" --partial "3:${K[3]}"
KA=$(cat "$W/out")
(umask 077; echo "$KA" >"$W/ka.hex"; echo "${K[1]}" >"$W/k1.hex")
expect 0 "$T" app-key verify --mpk $MPK --app $APP --key-file "$W/ka.hex"
expect 1 "$T" app-key verify --mpk $MPK --app $OTHER --key-file "$W/ka.hex"
expect 1 "$T" app-key verify --mpk $MPK --app $APP --key-file "$W/k1.hex"
expect 2 "$T" app-key verify --mpk $MPK --app $APP --key $KA
grep -q -- "--key-file" "$W/err" || fail "--key refusal"
expect 2 "$T" app-key partial --share $SECRET --index 1 --app $APP
expect 0 "$T" app-key partial --share-file "$W/secret.hex" --index 1 --app $APP
[ "$(cat "$W/out")" = "$KA" ] || fail "combined app key != s*Q_A"

# IBE with the app key
printf 'thirty-two bytes of data key!!!!' >"$W/m"
"$T" ibe encrypt --dst TKMS-V1-APP-KEY_BLS12381G1_XMD:SHA-256_SSWU_RO_ --id ${APP#0x} --mpk $MPK <"$W/m" >"$W/ct" || fail "ibe encrypt"
"$T" ibe decrypt --key-file "$W/ka.hex" <"$W/ct" >"$W/m2" || fail "ibe decrypt"
cmp -s "$W/m" "$W/m2" || fail "ibe round trip"
CT=$(cat "$W/ct"); LAST=${CT: -1}; [ "$LAST" = 0 ] && NEW=1 || NEW=0
echo "${CT:0:${#CT}-1}$NEW" | { "$T" ibe decrypt --key-file "$W/ka.hex" >/dev/null 2>&1; [ $? = 1 ] || fail "modified ibe ciphertext accepted"; }
echo "${CT:0:${#CT}-2}" | { "$T" ibe decrypt --key-file "$W/ka.hex" >/dev/null 2>&1; [ $? = 1 ] || fail "truncated ibe ciphertext accepted"; }
expect 2 "$T" ibe decrypt --key $KA <"$W/ct"
grep -q -- "--key was removed.*--key-file" "$W/err" || fail "ibe --key refusal"
expect 2 "$T" ibe decrypt --key-file - <"$W/ct"

# tlock: the vectors, and our own quicknet file for the round whose beacon is known
for i in 0 1 2; do
  jq -r ".vectors[$i].age_armored" "$V/tlock.json" >"$W/age"
  SIG=$(jq -r ".vectors[$i].signature" "$V/tlock.json")
  PK=$(jq -r ".vectors[$i].public_key" "$V/tlock.json")
  D=$(jq -r ".vectors[$i].hash_to_curve_dst" "$V/tlock.json")
  jq -j ".vectors[$i].plaintext" "$V/tlock.json" >"$W/want"
  "$T" tlock decrypt --signature $SIG --public-key $PK --dst $D <"$W/age" >"$W/got" || fail "tlock vector $i"
  cmp -s "$W/want" "$W/got" || fail "tlock vector $i plaintext"
done
QSIG=$(jq -r '.vectors[0].signature' "$V/tlock.json")
rand_bytes 100000 big >"$W/big"
expect 0 "$T" tlock encrypt --chain quicknet --round 12040883 <"$W/big"
cp "$W/out" "$W/big.age"
expect 0 "$T" tlock decrypt --signature $QSIG <"$W/big.age"
cmp -s "$W/out" "$W/big" || fail "tlock round trip"
"$T" tlock encrypt --chain quicknet --round 12040883 --armor <"$W/big" >"$W/big.asc" || fail "armor"
head -1 "$W/big.asc" | grep -q "BEGIN AGE ENCRYPTED FILE" || fail "armor header"
expect 0 "$T" tlock decrypt --signature $QSIG <"$W/big.asc"
head -c 50000 "$W/big.age" >"$W/trunc.age"
expect 1 "$T" tlock decrypt --signature $QSIG <"$W/trunc.age"
expect 0 "$T" tlock encrypt --chain quicknet --round 12040884 <"$W/big"
cp "$W/out" "$W/later.age"
expect 1 "$T" tlock decrypt --signature $QSIG <"$W/later.age"
expect 2 "$T" tlock encrypt --chain mainnet --round 1

# sealed secrets
printf 'postgres://user:pw@db/prod' >"$W/secret"
expect 0 "$T" seal --mpk $MPK --app $APP --name DATABASE_URL <"$W/secret"
SEALED=$(cat "$W/out")
case "$SEALED" in tkms1:*) ;; *) fail "tkms1 prefix";; esac
(umask 077; echo "$KA" >"$W/app.key")
echo "$SEALED" | "$T" unseal --app-key-file "$W/app.key" >"$W/open" || fail "unseal"
cmp -s "$W/secret" "$W/open" || fail "unseal content"
echo "$SEALED" | "$T" unseal --app-key-file "$W/app.key" --app $APP --mpk $MPK >/dev/null || fail "unseal with checks"
echo "$SEALED" | { "$T" unseal --app-key-file "$W/app.key" --app $OTHER >/dev/null 2>&1; [ $? = 1 ] || fail "other app"; }
echo "${SEALED:0:${#SEALED}-5}" | { "$T" unseal --app-key-file "$W/app.key" >/dev/null 2>&1; [ $? = 1 ] || fail "truncated sealed"; }
MID=$(( ${#SEALED} / 2 )); C=${SEALED:$MID:1}; [ "$C" = A ] && R=B || R=A
echo "${SEALED:0:$MID}$R${SEALED:$MID+1}" | { "$T" unseal --app-key-file "$W/app.key" >/dev/null 2>&1; [ $? = 1 ] || fail "modified sealed"; }
(umask 077; echo "${K[1]}" >"$W/wrong.key")
echo "$SEALED" | { "$T" unseal --app-key-file "$W/wrong.key" >/dev/null 2>&1; [ $? = 1 ] || fail "wrong key"; }
# with --mpk the wrong key is refused by the MPK check itself, not later by the decryption
echo "$SEALED" | { "$T" unseal --app-key-file "$W/wrong.key" --mpk $MPK >/dev/null 2>"$W/err"; [ $? = 1 ] || fail "wrong key, --mpk"; }
grep -q "the app key does not verify against the MPK" "$W/err" || fail "wrong key, --mpk: $(cat "$W/err")"
expect 2 "$T" seal --mpk 00 --app $APP
echo ok
