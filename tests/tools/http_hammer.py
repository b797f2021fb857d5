#!/usr/bin/env python3
"""Test tool (not installed): sends the same POST many times from many loopback source addresses,
the way an unauthenticated flood does, over keep-alive connections; prints {"status": {code: n},
"seconds": s}. Source addresses 127.0.X.Y need a network namespace where 127.0.0.0/8 is on lo
(the integration tests run in one).

  http_hammer.py --url http://127.0.0.1:P/v1/keys/app --body FILE --count N [--sources K]
                 [--first-source 127.0.1.1]
"""
import argparse
import http.client
import ipaddress
import json
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--sources", type=int, default=1)
    ap.add_argument("--first-source", default="127.0.1.1")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    body = open(a.body, "rb").read()
    first = ipaddress.IPv4Address(a.first_source)
    sources = [str(first + i) for i in range(a.sources)]
    conns = {}
    status = {}
    t0 = time.time()
    for i in range(a.count):
        src = sources[i % len(sources)]
        for attempt in range(2):
            c = conns.get(src)
            if c is None:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(src, 0))
                conns[src] = c
            try:
                c.request("POST", u.path, body=body, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                status[r.status] = status.get(r.status, 0) + 1
                break
            except (http.client.HTTPException, OSError):
                c.close()
                conns.pop(src, None)
                if attempt:
                    status["error"] = status.get("error", 0) + 1
    for c in conns.values():
        c.close()
    print(json.dumps({"status": {str(k): v for k, v in sorted(status.items(), key=str)},
                      "seconds": round(time.time() - t0, 2)}))


if __name__ == "__main__":
    sys.exit(main())
