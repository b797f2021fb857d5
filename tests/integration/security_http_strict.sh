#!/usr/bin/env bash
# Security (issue 12, item 8): HTTP strictness (RFC 9112) and deadlines against a real node, with raw
# sockets. Content-Length with Transfer-Encoding gets 400 and the request smuggled behind it is never
# answered; a 1 GB body announced with Expect: 100-continue gets 413 at once, never 100 Continue;
# obs-fold, bare LF, whitespace before a colon, repeated Content-Length, a missing Host get 400;
# Transfer-Encoding alone 411; a too large head 431; every refusal closes the connection. Pipelined
# requests: the first is answered with Connection: close, the second never. Keep-alive, HTTP/1.0,
# HEAD and Expect: 100-continue for an acceptable body still work. A head trickled byte by byte is
# cut at header_timeout_ms and a trickled body at request_timeout_s, although bytes keep coming.
# SIGTERM closes the listener and still answers the request in flight (503 shutting_down).
source "$(dirname "$0")/common.inc"
P=17880
C=$(cluster_up hs 1 $P --node-config '{"header_timeout_ms": 1500, "request_timeout_s": 3}')
python3 - "$P" "$(cat "$C/node1/admin.token")" <<'PY' || fail "HTTP strictness (above)"
import socket, sys, time
port, token = int(sys.argv[1]) + 1, sys.argv[2]
failures = []

def exchange(data, chunks=None, delay=0.0, timeout=6.0, read_first=False):
    """Sends data (or chunks with delay between them), reads until EOF or timeout.
    Returns (bytes received, seconds until EOF or None if the server kept the connection open)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    t0 = time.monotonic()
    got = b""
    try:
        for c in (chunks if chunks is not None else [data]):
            s.sendall(c)
            if delay:
                time.sleep(delay)
    except (BrokenPipeError, ConnectionResetError):
        pass
    eof = None
    try:
        while True:
            b = s.recv(65536)
            if not b:
                eof = time.monotonic() - t0
                break
            got += b
    except socket.timeout:
        pass
    except ConnectionResetError:
        eof = time.monotonic() - t0
    s.close()
    return got, eof

def statuses(got):
    return [int(x.split(b" ")[1]) for x in got.split(b"\r\n") if x.startswith(b"HTTP/1.1 ")]

def check(name, cond, detail):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail!r}"), file=sys.stderr)
    if not cond:
        failures.append(name)

def refused(name, req, want):
    got, eof = exchange(req)
    st = statuses(got)
    check(name, st == [want] and b"Connection: close" in got and eof is not None, (st, eof, got[:300]))

H = "Host: 127.0.0.1\r\n"
# smuggling: the chunked body "0" ends after 5 bytes, the GET behind it would be a second request
refused("CL + TE -> 400, smuggled request not answered",
        f"POST /v1/sign HTTP/1.1\r\n{H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        f"GET /v1/health HTTP/1.1\r\n{H}\r\n".encode(), 400)
refused("TE + CL (other order) -> 400",
        f"POST /v1/sign HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n".encode(), 400)
refused("TE alone -> 411", f"POST /v1/sign HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode(), 411)
refused("obs-fold -> 400", f"GET /v1/health HTTP/1.1\r\n{H}X-A: b\r\n c\r\n\r\n".encode(), 400)
refused("bare LF -> 400", b"GET /v1/health HTTP/1.1\nHost: 127.0.0.1\n\n", 400)
refused("bare LF after a field -> 400", f"GET /v1/health HTTP/1.1\r\n{H}X-A: b\n\r\n".encode(), 400)
refused("whitespace before colon -> 400", b"GET /v1/health HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n", 400)
refused("repeated Content-Length -> 400",
        f"POST /v1/sign HTTP/1.1\r\n{H}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{{}}".encode(), 400)
refused("Content-Length list -> 400", f"POST /v1/sign HTTP/1.1\r\n{H}Content-Length: 2, 2\r\n\r\n{{}}".encode(), 400)
refused("missing Host -> 400", b"GET /v1/health HTTP/1.1\r\n\r\n", 400)
refused("absolute-form -> 400", f"GET http://127.0.0.1/v1/health HTTP/1.1\r\n{H}\r\n".encode(), 400)
refused("HTTP/2.0 -> 505", f"GET /v1/health HTTP/2.0\r\n{H}\r\n".encode(), 505)
refused("head > 8 KiB -> 431", f"GET /v1/health HTTP/1.1\r\n{H}X-Big: {'a' * 9000}\r\n\r\n".encode(), 431)

# 1 GB announced with Expect: 100-continue: 413 at once, no 100 Continue, connection closed
for path, shape in (("/v1/sign", b'"error":{"code":"too_large"'), ("/v1/keys/app", b'"error":{"code":"too_large"')):
    got, eof = exchange(f"POST {path} HTTP/1.1\r\n{H}Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n".encode(),
                        timeout=3)
    check(f"1 GB + Expect on {path} -> 413 at once, no 100", statuses(got) == [413] and b"100 Continue" not in got
          and shape in got and eof is not None and eof < 1.0, (statuses(got), eof, got[:300]))
# without Expect the client starts sending at once: still 413, then close
got, eof = exchange(f"POST /v1/sign HTTP/1.1\r\n{H}Content-Length: 1073741824\r\n\r\n".encode() + b"x" * 65536, timeout=4)
check("1 GB without Expect -> 413, closed", statuses(got) == [413] and eof is not None, (statuses(got), eof))

# Expect: 100-continue for an acceptable body: 100 first, then the answer
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
body = b'{"msg":"0102"}'
s.sendall(f"POST /v1/sign/approve HTTP/1.1\r\n{H}Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n"
          f"Expect: 100-continue\r\n\r\n".encode())
first = s.recv(4096)
s.sendall(body)
rest = b""
while b'"approved"' not in rest:
    b = s.recv(65536)
    if not b: break
    rest += b
s.close()
check("Expect: 100-continue, small body -> 100 then 200", first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
      and statuses(rest) == [200] and b"X-Tkms-Sig: " in rest, (first[:100], rest[:300]))

# pipelining: two requests in one write -> the first answered with Connection: close, the second never
got, eof = exchange(f"GET /v1/health HTTP/1.1\r\n{H}\r\nGET /v1/group HTTP/1.1\r\n{H}\r\n".encode())
check("pipelined: first answered, closed, second not answered", statuses(got) == [200] and b"Connection: close" in got
      and eof is not None, (statuses(got), eof))

# keep-alive still works when the client waits for each answer
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
answers = []
for path in ("/v1/health", "/v1/group", "/metrics"):
    s.sendall(f"GET {path} HTTP/1.1\r\n{H}\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        rest += s.recv(65536)
    answers.append((statuses(head + b"\r\n")[0], b"Connection: close" in head))
s.close()
check("keep-alive: three requests on one connection", answers == [(200, False)] * 3, answers)
got, eof = exchange(b"GET /v1/health HTTP/1.0\r\n\r\n")
check("HTTP/1.0 -> answered and closed", statuses(got) == [200] and eof is not None, (statuses(got), eof))
got, eof = exchange(f"HEAD /v1/health HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode())
head, _, rest = got.partition(b"\r\n\r\n")
check("HEAD: Content-Length, no body", statuses(got) == [200] and b"Content-Length: " in head and rest == b"",
      (head[:200], rest[:50]))

# deadlines (this node: header_timeout_ms 1500, request_timeout_s 3); a byte every 0.2 s never idles
req = f"GET /v1/health HTTP/1.1\r\n{H}X-Slow: {'a' * 60}\r\n\r\n".encode()
got, eof = exchange(None, chunks=[req[i:i + 1] for i in range(len(req))], delay=0.2, timeout=8)
check("trickled head cut at header_timeout_ms", eof is not None and 1.3 <= eof <= 2.6 and statuses(got) in ([408], []),
      (eof, got[:100]))
head = f"POST /v1/sign HTTP/1.1\r\n{H}Content-Length: 100\r\n\r\n".encode()
got, eof = exchange(None, chunks=[head] + [b"x"] * 40, delay=0.2, timeout=10)
check("trickled body cut at request_timeout_s", eof is not None and 2.8 <= eof <= 4.2 and statuses(got) in ([408], []),
      (eof, got[:100]))
got, eof = exchange(b"", timeout=5)
check("silent connection closed at header_timeout_ms", eof is not None and 1.3 <= eof <= 2.6, eof)

sys.exit(1 if failures else 0)
PY
M=$(curl -s "http://127.0.0.1:$((P + 1))/metrics")
echo "$M" | grep -c '^tkms_http_timeouts_total{phase="head"} [1-9]' > /dev/null || fail "head timeouts not counted"
echo "$M" | grep -c '^tkms_http_timeouts_total{phase="body"} [1-9]' > /dev/null || fail "body timeouts not counted"
grep -q '"event":"request_rejected".*obs-fold' "$C/node1/tkmsd.log" || fail "the obs-fold refusal was not logged"
grep -q '"event":"request_rejected".*both Content-Length and Transfer-Encoding' "$C/node1/tkmsd.log" \
  || fail "the CL + TE refusal was not logged"
wait_until 15 grep -q '"event":"http_limits"' "$C/node1/tkmsd.log" || fail "no http_limits summary logged"

log "SIGTERM: the listener closes, the request in flight is answered, then a clean exit"
python3 - "$P" "$(cat "$C/node1/tkmsd.pid")" <<'PY' || fail "graceful quiesce"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]) + 1, int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
# a request whose head is in and whose body is not: it is running, the drain waits for it
s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\n{\"msg\":")
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    sys.exit("a new connection was accepted after SIGTERM")
except ConnectionRefusedError:
    pass
s.sendall(b'"0102"}')
got = b""
while True:
    b = s.recv(65536)
    if not b: break
    got += b
# answered (the handlers refuse new work while stopping: 503 shutting_down), then closed
assert got.startswith(b"HTTP/1.1 503 ") and b"shutting_down" in got and b"Connection: close" in got, got[:300]
PY
wait_until 10 grep -q '"event":"stopped"' "$C/node1/tkmsd.log" || fail "no clean shutdown logged"
! grep -l -E "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$C"/node*/tkmsd.log || fail "sanitizer report"
echo "PASS"
