#!/usr/bin/env bash
# Security: the per-source connection cap (docs/security.md; the fast counterpart of
# integ_security_slowloris). Node 1 runs with max_connections_per_source = 4. A client at 127.0.0.2
# (not a committee address) holds 4 half-sent requests open; its 5th connection is refused with 503
# connection_limit, while a client at 127.0.0.3 is served at the same time, and once one of the 4 is
# closed 127.0.0.2 is served again. Run it in a private network namespace (it binds 127.0.0.2/3).
source "$(dirname "$0")/common.inc"
P=17760
C=$(cluster_up cl 4 $P --node-config '{"max_connections_per_source":4}')
python3 - $((P + 1)) <<'PY' || fail "per-source connection cap"
import socket, sys, time
port = int(sys.argv[1])
def conn(src):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s
def get(src):
    s = conn(src)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    out = b""
    try:
        while True:
            b = s.recv(4096)
            if not b: break
            out += b
    except OSError:
        pass
    s.close()
    return out.decode(errors="replace")
held = []
for i in range(4):
    s = conn("127.0.0.2")
    s.sendall(b"GET /v1/health HTTP/1.1\r\n")  # a half-sent head keeps the connection open
    held.append(s)
time.sleep(0.3)
r = get("127.0.0.2")
if not r.startswith("HTTP/1.1 503") or "connection_limit" not in r:
    sys.exit("5th connection from 127.0.0.2 not refused: " + r[:200])
r = get("127.0.0.3")
if not r.startswith("HTTP/1.1 200"):
    sys.exit("127.0.0.3 not served while 127.0.0.2 is at its cap: " + r[:200])
held.pop().close()
time.sleep(0.3)
r = get("127.0.0.2")
if not r.startswith("HTTP/1.1 200"):
    sys.exit("127.0.0.2 not served below its cap: " + r[:200])
print("  ok: 5th connection of 127.0.0.2 refused with 503 connection_limit; 127.0.0.3 served; 127.0.0.2 served again below the cap")
PY
echo "PASS"
