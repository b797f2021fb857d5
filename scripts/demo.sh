#!/usr/bin/env bash
# `make demo`: a 4-node tkms cluster on this machine (embedded SQLite stores, insecure-dev
# attestation), a registered app that receives its key through `tkms exec`, a sealed secret, an
# SQLCipher database keyed from the app's mnemonic; then one node killed, then a reshare, and the
# app's identity checked to be the same each time. Leaves no processes behind.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
T="$root/$build/tkms"
[ -x "$T" ] && [ -x "$root/$build/tkmsd" ] || { echo "demo: $build/tkms or tkmsd missing; run 'make build' first" >&2; exit 2; }
export TKMS="$T" PATH="$root/$build:$PATH"

D=$(mktemp -d /tmp/tkms-demo.XXXXXX)
C="$D/cluster"
cleanup() {
    "$T" cluster down --dir "$C" >/dev/null 2>&1 || true
    rm -rf "$D"
}
trap cleanup EXIT INT TERM
step() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }
t0=$(date +%s)

step "1/8 self-test of the cryptographic core"
"$T" selftest

step "2/8 starting a 4-node cluster (threshold 3, reshare every 20 s, dev attestation)"
"$T" cluster up --nodes 4 --interval 20 --dev --dir "$C"
G="$C/group.json"
mpk=$("$T" group show "$G" | sed -n 's/^mpk: //p')
epoch0=$("$T" group show "$G" | sed -n 's/^epoch: //p')
echo "    certified group: epoch $epoch0, MPK ${mpk:0:32}…"

step "3/8 registering an app (owner key, app ID, signed release statement)"
umask 077
openssl rand -hex 32 >"$D/owner.key"
created=$("$T" app create --owner-key-file "$D/owner.key")
app=$(sed -n 's/.*"app_id": *"\(0x[0-9a-f]*\)".*/\1/p' <<<"$created")
salt=$(sed -n 's/.*"salt": *"\([0-9a-f]*\)".*/\1/p' <<<"$created")
"$T" app statement --app "$app" --seq 1 --method insecure-dev >"$D/statement.json"
"$T" app sign --owner-key-file "$D/owner.key" --salt "$salt" --statement "$D/statement.json" >"$D/signed.json"
"$T" app release --statement "$D/signed.json" --group "$G" >/dev/null
echo "    app $app registered on every node"

step "4/8 sealing a secret to the app with only the MPK"
sealed=$(printf 'correct horse battery staple' | "$T" seal --mpk "$mpk" --app "$app" --name DB_PASSWORD)
echo "    DB_PASSWORD=${sealed:0:48}…"
"$T" key dev-keygen --out "$D/dev.key" >/dev/null

run_app() {
    DEMO_OUT="$D/ids.$1" DB_PASSWORD="$sealed" "$T" exec --group "$G" --app "$app" --attestation dev \
        --dev-key-file "$D/dev.key" -- "$root/scripts/demo-app.sh" "$D/app.db"
}

step "5/8 first boot of the app through tkms exec"
run_app 1

step "6/8 node 1 killed: the app boots again with 3 of 4 nodes"
"$T" cluster kill 1 --dir "$C"
run_app 2

step "7/8 waiting for the scheduled reshare (new shares, same MPK)"
"$T" cluster restart 1 --dir "$C" >/dev/null
deadline=$(( $(date +%s) + 60 ))
epoch=$epoch0
while :; do
    # the newest epoch that at least t = 3 nodes serve
    epoch=$("$T" cluster status --dir "$C" --json | grep -o '"epoch":[0-9]*' | cut -d: -f2 | sort -n | uniq -c |
            awk -v e0="$epoch0" '$1 >= 3 && $2 > e0 {print $2}' | tail -1)
    [ -n "$epoch" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "demo: no reshare within 60 s" >&2; exit 1; }
    sleep 1
    printf '.'
done
echo " epoch $epoch0 -> $epoch"
run_app 3

step "8/8 summary"
same=yes
for i in 2 3; do cmp -s "$D/ids.1" "$D/ids.$i" || same=no; done
echo "    app identity (eth, sol) after restart, node loss and reshare: $([ $same = yes ] && echo identical || echo DIFFERENT)"
echo "    MPK unchanged across epochs $epoch0 -> $epoch; sealed secret opened each time; database reopened"
echo "    finished in $(( $(date +%s) - t0 )) s; stopping the cluster"
[ $same = yes ]
