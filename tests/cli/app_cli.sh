#!/usr/bin/env bash
# tkms app contract: create (app ID from owner + salt), statement (canonical JSON, policy checks),
# sign/verify (EIP-191, wrong owner/salt/tampering refused), release to every node of a group file
# (fake nodes on 127.0.0.1: stored, already current, unreachable); exit codes 0/1/2.
set -euo pipefail
T=${TKMS_BIN:?}
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() {
  local want=$1; shift
  local got=0
  "$@" >"$W/out" 2>"$W/err" || got=$?
  [ "$got" = "$want" ] || fail "exit $got (want $want): $* -- $(cat "$W/err")"
}
errhas() { grep -q -- "$1" "$W/err" || fail "stderr lacks '$1': $(cat "$W/err")"; }
outhas() { grep -q -- "$1" "$W/out" || fail "stdout lacks '$1': $(cat "$W/out")"; }
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# --- usage ---
expect 0 "$T" app --help; outhas "tkms app create"
expect 2 "$T" app
expect 2 "$T" app bogus
expect 2 "$T" app create
expect 2 "$T" app create --owner-key-file "$W/missing"

# --- owner key file: 0600 only ---
echo 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318 > "$W/owner.key"
chmod 644 "$W/owner.key"
expect 2 "$T" app create --owner-key-file "$W/owner.key"; errhas "chmod 600"
chmod 600 "$W/owner.key"
SALT=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
expect 2 "$T" app create --owner-key-file "$W/owner.key" --salt 0011
expect 0 "$T" app create --owner-key-file "$W/owner.key" --salt "$SALT"
cp "$W/out" "$W/app.json"
OWNER=$(jget "$W/app.json" owner); APP=$(jget "$W/app.json" app_id)
# The key is the web3.js documentation example key (privateKeyToAccount); its address is published.
[ "$OWNER" = 0x2c7536e3605d9c16a7a3d7b1898e529396a65c23 ] || fail "owner address $OWNER"
[ "$(jget "$W/app.json" salt)" = "$SALT" ] || fail "salt echoed"
expect 0 "$T" app create --owner-key-file "$W/owner.key"
[ "$(jget "$W/out" owner)" = "$OWNER" ] || fail "random salt keeps the owner"
[ "$(jget "$W/out" app_id)" != "$APP" ] || fail "random salt gives another app"
echo 0000000000000000000000000000000000000000000000000000000000000000 > "$W/zero.key"; chmod 600 "$W/zero.key"
expect 1 "$T" app create --owner-key-file "$W/zero.key"

# --- statement ---
D=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expect 0 "$T" app statement --app "$APP" --seq 1 --method gcp-cs --method insecure-dev --image-digest "$D" --gcp-project acme-prod
cp "$W/out" "$W/st1.json"
[ "$(cat "$W/st1.json")" = "{\"app_id\":\"$APP\",\"deployments\":{\"gcp_projects\":[\"acme-prod\"]},\"image_digests\":[\"$D\"],\"methods\":[\"gcp-cs\",\"insecure-dev\"],\"seq\":1}" ] \
  || fail "canonical statement: $(cat "$W/st1.json")"
expect 1 "$T" app statement --app "$APP" --seq 1 --method gcp-cs --image-digest "$D"; errhas "gcp_projects"
expect 1 "$T" app statement --app "$APP" --seq 1 --method tdx; errhas "mrtd"
expect 1 "$T" app statement --app "$APP" --seq 1 --method sgx
expect 2 "$T" app statement --app "$APP" --seq 0 --method tdx
expect 2 "$T" app statement --app 0x12 --seq 1 --method tdx
expect 2 "$T" app statement --app "$APP" --seq 1 --method tdx --bogus 1
MRTD=$(printf 'ab%.0s' $(seq 48))
expect 0 "$T" app statement --app "$APP" --seq 2 --method tdx --mrtd "${MRTD^^}" --tdx-mrconfigid "${APP#0x}$(printf '00%.0s' $(seq 28))"
outhas "\"tdx\":{\"mrtd\":\[\"$MRTD\"\]}"

# --- sign / verify ---
expect 2 "$T" app sign --owner-key-file "$W/owner.key" --statement "$W/st1.json"
expect 0 "$T" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st1.json"
cp "$W/out" "$W/signed1.json"
outhas '"signature":"'
expect 0 "$T" app verify --statement "$W/signed1.json" --owner "$OWNER" --salt "$SALT"; outhas '"valid":true'
expect 0 "$T" app verify --statement "$W/signed1.json" --owner "${OWNER^^}"
expect 1 "$T" app verify --statement "$W/signed1.json" --owner 0x0000000000000000000000000000000000000001
expect 1 "$T" app verify --statement "$W/signed1.json" --owner "$OWNER" --salt "$(printf '11%.0s' $(seq 32))"
sed 's/"seq":1/"seq":7/' "$W/signed1.json" > "$W/tampered.json"
expect 1 "$T" app verify --statement "$W/tampered.json" --owner "$OWNER"; errhas bad_signature
expect 1 "$T" app verify --statement "$W/st1.json" --owner "$OWNER"
# another owner's key cannot sign for this app
echo 8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f > "$W/other.key"; chmod 600 "$W/other.key"
expect 1 "$T" app sign --owner-key-file "$W/other.key" --salt "$SALT" --statement "$W/st1.json"
# the signature is deterministic (RFC 6979)
expect 0 "$T" app sign --owner-key-file "$W/owner.key" --salt "$SALT" --statement "$W/st1.json"
cmp -s "$W/out" "$W/signed1.json" || fail "signing is deterministic"

# --- release to every node of a group file ---
"${TKMS_SIM_BIN:-${TKMS_BUILD:-.}/tkms-sim}" dkg --nodes 3 --seed 7 --group-out "$W/group.json" >/dev/null
cat > "$W/node.py" <<'PY'
import http.server, json, sys
mode = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        ok = self.path == '/v1/apps' and json.loads(body).get('signature')
        if mode == 'store' and ok:
            code, out = 200, {'app_id': json.loads(body)['statement']['app_id'], 'seq': 1, 'status': 'stored'}
        else:
            code, out = 409, {'error': {'code': 'stale_statement', 'message': 'seq 1 is not higher'}}
        data = json.dumps(out).encode()
        self.send_response(code); self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[1], 'w').write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$W/node.py" "$W/p1" store & PIDS+=($!)
python3 "$W/node.py" "$W/p2" stale & PIDS+=($!)
for i in $(seq 50); do [ -s "$W/p1" ] && [ -s "$W/p2" ] && break; sleep 0.1; done
python3 - "$W/group.json" "$(cat "$W/p1")" "$(cat "$W/p2")" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g['members'][0]['address'] = 'http://127.0.0.1:%s/' % sys.argv[2]
g['members'][1]['address'] = '127.0.0.1:%s' % sys.argv[3]
g['members'][2]['address'] = 'http://127.0.0.1:1'
json.dump(g, open(sys.argv[1], 'w'))
PY
expect 0 "$T" app release --statement "$W/signed1.json" --group "$W/group.json" --timeout 5
outhas '"result":"stored"'; outhas '"result":"already_current"'; outhas '"result":"unreachable"'
expect 1 "$T" app release --statement "$W/tampered.json" --group "$W/group.json"
expect 2 "$T" app release --statement "$W/signed1.json" --group "$W/st1.json"
python3 - "$W/group.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g['members'][0]['address'] = 'http://127.0.0.1:1'
json.dump(g, open(sys.argv[1], 'w'))
PY
expect 1 "$T" app release --statement "$W/signed1.json" --group "$W/group.json" --timeout 5; errhas "threshold"

if [ "$fails" -ne 0 ]; then echo "app_cli: $fails failure(s)" >&2; exit 1; fi
echo "app_cli: ok"
