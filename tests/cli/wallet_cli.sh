#!/usr/bin/env bash
# tkms mnemonic / derive command contract: vectors through the binary, exit codes 0/1/2, help texts,
# secrets only from files or stdin, and key files written with mode 0600.
set -euo pipefail
T=${TKMS_BIN:?}
V=${TKMS_VECTORS:?}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
pass() { :; }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect CODE CMD...: runs CMD, checks its exit status.
expect() {
  local want=$1; shift
  local got=0
  "$@" >"$W/out" 2>"$W/err" || got=$?
  [ "$got" = "$want" ] || fail "exit $got (want $want): $* -- $(cat "$W/err")"
}
# eq WANT CMD...: runs CMD (must exit 0) and compares stdout.
eq() {
  local want=$1; shift
  local got
  if ! got=$("$@" 2>"$W/err"); then fail "failed: $* -- $(cat "$W/err")"; return; fi
  [ "$got" = "$want" ] || fail "$*: got '$got' want '$want'"
}

# --- help and usage ---
for c in mnemonic derive data; do
  expect 0 "$T" $c --help
  grep -q usage "$W/out" || fail "$c --help prints no usage"
done
expect 0 "$T" derive eth --help
expect 2 "$T" mnemonic
expect 2 "$T" mnemonic bogus
expect 2 "$T" mnemonic from-entropy
expect 2 "$T" mnemonic from-entropy --entropy 00 --bogus 1
expect 2 "$T" derive
expect 2 "$T" derive bogus --mnemonic-file /dev/null
expect 2 "$T" derive eth
# a mnemonic can never be passed in argv: there is no such option
expect 2 "$T" derive eth --mnemonic "abandon abandon"

# --- BIP-39 vectors through the CLI (Trezor English, passphrase TREZOR) ---
printf 'TREZOR' >"$W/trezor"
printf 'TREZOR\n' >"$W/trezor-nl"
# one python call flattens the vectors to tab-separated lines
python3 -c 'import json,sys
for v in json.load(open(sys.argv[1]))["english"]: print("\t".join(v))' "$V/bip39/vectors.json" >"$W/bip39.tsv"
[ "$(wc -l <"$W/bip39.tsv")" = 24 ] || fail "expected 24 English vectors"
i=0
while IFS=$'\t' read -r ent words seed xprv; do
  eq "$words" "$T" mnemonic from-entropy --entropy "$ent"
  printf '%s\n' "$ent" >"$W/ent"
  eq "$words" "$T" mnemonic from-entropy --entropy-file "$W/ent"
  printf '%s\n' "$words" >"$W/m"
  eq ok "$T" mnemonic check <"$W/m"
  if ((i % 4 == 0)); then # PBKDF2 per call: a subset keeps the test quick, the C tests do all
    eq "$seed" "$T" derive seed --mnemonic-file "$W/m" --passphrase-file "$W/trezor"
    eq "$xprv" "$T" derive bip32 --private --mnemonic-file "$W/m" --passphrase-file "$W/trezor"
    # a passphrase file with a trailing newline means the same passphrase
    eq "$seed" "$T" derive seed --mnemonic-file - --passphrase-file "$W/trezor-nl" <"$W/m"
  fi
  i=$((i + 1))
done <"$W/bip39.tsv"
expect 1 "$T" mnemonic from-entropy --entropy 0011
expect 1 "$T" mnemonic from-entropy --entropy zz000000000000000000000000000000
expect 1 "$T" mnemonic from-entropy --entropy 000000000000000000000000000000000000
echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon" >"$W/bad"
expect 1 "$T" mnemonic check <"$W/bad"
grep -q checksum "$W/err" || fail "check: no checksum message"
expect 1 "$T" derive eth --mnemonic-file "$W/bad"
echo "abandon abandon abandon" >"$W/short"
expect 1 "$T" mnemonic check <"$W/short"
expect 2 "$T" derive eth --mnemonic-file "$W/does-not-exist"

# --- app key -> mnemonic (tkms KATs computed with the npm oracles) ---
python3 -c 'import json,sys
for v in json.load(open(sys.argv[1]))["app_key_mnemonic"]: print(v["app_key"] + "\t" + v["mnemonic"])' \
  "$V/tkms-wallet.json" >"$W/ak.tsv"
while IFS=$'\t' read -r ak words; do
  echo "$ak" >"$W/ak"
  eq "$words" "$T" mnemonic from-app-key --app-key-file "$W/ak"
  eq "$words" "$T" mnemonic from-app-key --app-key-file - <"$W/ak"
done <"$W/ak.tsv"
echo 00 >"$W/ak-short"
expect 1 "$T" mnemonic from-app-key --app-key-file "$W/ak-short"
printf '%096d\n' 0 >"$W/ak-uncompressed"
expect 1 "$T" mnemonic from-app-key --app-key-file "$W/ak-uncompressed"
expect 2 "$T" mnemonic from-app-key

# --- wallets: "abandon ... about", BIP-84, Hardhat/Foundry ---
eval "$(python3 - "$V" <<'PY'
import json, shlex, sys
V = sys.argv[1]
w = json.load(open(V + "/wallets.json")); b = json.load(open(V + "/bip84/vectors.json"))
t = json.load(open(V + "/tkms-wallet.json"))
out = {"ABANDON": w["mnemonic"], "ABANDON_SEED": w["bip39_seed"], "DK_LABEL": t["data_keys"][1]["label"],
       "DK_KEY": t["data_keys"][1]["key"]}
for i, d in enumerate(w["ethereum"]["derivations"]):
    out[f"ETH{i}"] = d["address"]; out[f"ETHPRIV{i}"] = d["private_key"]
for i, d in enumerate(w["solana"]["derivations"]):
    out[f"SOL{i}"] = d["address"]; out[f"SOLPUB{i}"] = d["public_key"]; out[f"SOLPRIV{i}"] = d["private_key_seed"]
for i, d in enumerate(b["addresses"]):
    out[f"BTCPATH{i}"] = d["path"]; out[f"BTC{i}"] = d["address"]; out[f"BTCWIF{i}"] = d["privkey_wif"]
assert t["data_keys"][1]["mnemonic"] == w["mnemonic"]
for k, v in out.items(): print(f"{k}={shlex.quote(v)}")
PY
)"
echo "$ABANDON" >"$W/abandon"
for i in 0 1 2; do
  eval "addr=\$ETH$i priv=\$ETHPRIV$i"
  eq "$addr" "$T" derive eth --mnemonic-file "$W/abandon" --index $i
  eq "$addr" "$T" derive eth --mnemonic-file "$W/abandon" --path "m/44'/60'/0'/0/$i"
  eq "$priv" "$T" derive eth --private --mnemonic-file "$W/abandon" --index $i
done
for i in 0 1; do
  eval "addr=\$SOL$i pub=\$SOLPUB$i priv=\$SOLPRIV$i"
  eq "$addr" "$T" derive sol --mnemonic-file "$W/abandon" --index $i
  eq "$pub" "$T" derive slip10 --mnemonic-file "$W/abandon" --path "m/44'/501'/$i'/0'"
  eq "$priv" "$T" derive slip10 --private --mnemonic-file "$W/abandon" --path "m/44'/501'/$i'/0'"
done
eq "$ABANDON_SEED" "$T" derive seed --mnemonic-file "$W/abandon"
for i in 0 1 2; do
  eval "path=\$BTCPATH$i addr=\$BTC$i wif=\$BTCWIF$i"
  eq "$addr" "$T" derive btc --mnemonic-file "$W/abandon" --path "$path"
  eq "$wif" "$T" derive btc --private --mnemonic-file "$W/abandon" --path "$path"
done
eq "$BTC1" "$T" derive btc --mnemonic-file "$W/abandon" --index 1
echo "test test test test test test test test test test test junk" >"$W/hardhat"
eq 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 "$T" derive eth --mnemonic-file "$W/hardhat"
eq 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 "$T" derive eth --mnemonic-file "$W/hardhat" --index 1
eq 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC "$T" derive eth --mnemonic-file "$W/hardhat" --index 2
xpub=$("$T" derive bip32 --mnemonic-file "$W/abandon" --path "m/44'/60'/0'")
[[ $xpub == xpub6* ]] || fail "bip32 xpub: $xpub"
xprv=$("$T" derive bip32 --private --mnemonic-file "$W/abandon" --path "m/44'/60'/0'")
[[ $xprv == xprv9* ]] || fail "bip32 xprv: $xprv"
eq "$DK_KEY" "$T" derive data-key --mnemonic-file "$W/abandon" --label "$DK_LABEL"

# --- option rules and rejected input ---
expect 2 "$T" derive eth --mnemonic-file "$W/abandon" --index 1 --path "m/0"
expect 2 "$T" derive bip32 --mnemonic-file "$W/abandon" --index 1
expect 2 "$T" derive eth --mnemonic-file "$W/abandon" --index -1
expect 2 "$T" derive eth --mnemonic-file "$W/abandon" --index 2147483648
expect 2 "$T" derive data-key --mnemonic-file "$W/abandon"
expect 2 "$T" derive seed --mnemonic-file "$W/abandon" --domain x.com
expect 2 "$T" derive tls --mnemonic-file "$W/abandon" --domain x.com
expect 1 "$T" derive slip10 --mnemonic-file "$W/abandon" --path "m/44'/501'/0"
expect 1 "$T" derive bip32 --mnemonic-file "$W/abandon" --path "m/x"
printf 'caf\xc3\xa9' >"$W/pass-utf8"
expect 1 "$T" derive seed --mnemonic-file "$W/abandon" --passphrase-file "$W/pass-utf8"
grep -q ASCII "$W/err" || fail "non-ASCII passphrase: message does not say why"
mkdir -p "$W/tls"
expect 1 "$T" derive tls --mnemonic-file "$W/abandon" --domain "bad_domain" --out-dir "$W/tls"

# --- key files: mode 0600 even when a looser file already exists ---
touch "$W/tls/tls.key"
chmod 0644 "$W/tls/tls.key"
expect 0 "$T" derive tls --mnemonic-file "$W/abandon" --domain app.example.com --out-dir "$W/tls"
[ "$(stat -c %a "$W/tls/tls.key")" = 600 ] || fail "tls.key mode $(stat -c %a "$W/tls/tls.key")"
[ -s "$W/tls/tls.crt" ] || fail "no tls.crt"

# --- no secret on stderr ---
"$T" derive eth --mnemonic-file "$W/bad" 2>"$W/err" >/dev/null || true
if grep -q abandon "$W/err"; then fail "mnemonic words appear in an error message"; fi

if ((fails)); then
  echo "$fails failure(s)" >&2
  exit 1
fi
echo "wallet_cli: all checks passed"
