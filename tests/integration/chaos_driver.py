#!/usr/bin/env python3
"""Chaos run against a real tkmsd dev cluster (issue 11): random kill -9, SIGTERM and restarts of
nodes (never more than n - t down at once), some of them timed inside the reshare sessions and some
through the test hook that kills a node right after it sent its certificate, while the cluster
reshares every interval_s and repairs members without a share. Then every fault stops and the run
checks: the MPK never changed; within the repair bound every member holds a share of the same
latest epoch, each share verified by the node's own partial app key (opened independently and
combined into the app key, checked under the MPK); the app key fetched again gives the same
mnemonic; no certified epoch ever had fewer than t share holders (from the nodes' logs).

Used by tests/integration/chaos.sh (ctest, label chaos) and bench/chaos.sh (long runs).
Prints the seed first; exit 0 if every check held. --json prints the figures as JSON.
"""
import argparse, json, os, random, signal, subprocess, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HELPER = os.path.join(HERE, "..", "tools", "release_req.mjs")
OWNER_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def log(msg):
    print(f"--- {msg}", file=sys.stderr, flush=True)


class Chaos:
    def __init__(self, a):
        self.a = a
        self.tkms = os.environ.get("TKMS_BIN") or os.path.join(a.build, "tkms")
        self.dir = os.path.join(a.work, f"chaos{a.nodes}")
        self.rng = random.Random(a.seed)
        self.n = a.nodes
        self.t = (2 * self.n + 2) // 3
        self.down = set()        # nodes stopped by us (or by the hook)
        self.down_until = {}     # node -> earliest restart time (some stay down across a reshare)
        self.hooked = {}         # node -> epoch of its kill hook
        self.faults = {"kill9": 0, "sigterm": 0, "hook": 0, "restart": 0, "in_session": 0}
        self.min_holders_seen = None

    # ---- helpers
    def run(self, *args, input=None, env=None, check=True):
        r = subprocess.run([self.tkms, *args], input=input, capture_output=True, text=True, env=env)
        if check and r.returncode != 0:
            raise RuntimeError(f"tkms {' '.join(args[:3])}: rc {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def port(self, i):
        return self.a.base_port + i

    def health(self, i, timeout=1.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port(i)}/v1/health", timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            try:
                return json.load(e)
            except Exception:
                return None
        except Exception:
            return None

    def genesis(self):
        with open(os.path.join(self.dir, "genesis.json")) as f:
            return json.load(f)

    def pid(self, i):
        try:
            with open(os.path.join(self.dir, f"node{i}", "tkmsd.pid")) as f:
                p = int(f.read().strip())
            os.kill(p, 0)
            return p
        except Exception:
            return None

    def start(self, i, env=None):
        self.run("cluster", "start", str(i), "--dir", self.dir, env=env, check=False)

    # ---- phases
    def up(self):
        self.run("cluster", "up", "--nodes", str(self.n), "--dir", self.dir, "--base-port", str(self.a.base_port),
                 "--interval", str(self.a.interval), "--phase-ms", str(self.a.phase_ms), "--dev",
                 "--node-config", json.dumps({"repair_delay_s": self.a.repair_delay}))
        with open(os.path.join(self.dir, "group.json")) as f:
            self.mpk = json.load(f)["mpk"]
        w = os.path.join(self.dir, "app")
        os.makedirs(w, exist_ok=True)
        kf = os.path.join(w, "owner.key")
        with open(kf, "w") as f:
            f.write(OWNER_KEY + "\n")
        os.chmod(kf, 0o600)
        app = json.loads(self.run("app", "create", "--owner-key-file", kf))
        self.app = app["app_id"]
        with open(os.path.join(w, "st.json"), "w") as f:
            f.write(self.run("app", "statement", "--app", self.app, "--seq", "1", "--method", "insecure-dev"))
        with open(os.path.join(w, "sig.json"), "w") as f:
            f.write(self.run("app", "sign", "--owner-key-file", kf, "--salt", app["salt"], "--statement",
                             os.path.join(w, "st.json")))
        self.run("app", "release", "--statement", os.path.join(w, "sig.json"), "--group",
                 os.path.join(self.dir, "group.json"), "--timeout", "3")
        self.devkey = os.path.join(w, "dev.key")
        self.run("key", "dev-keygen", "--out", self.devkey)
        self.mnemonic = self.fetch_mnemonic("m0")
        log(f"n={self.n} t={self.t}: app {self.app} registered, key fetched")

    def fetch_mnemonic(self, name):
        out = os.path.join(self.dir, "app", name)
        for _ in range(20):
            if os.path.exists(out):
                os.unlink(out)
            r = subprocess.run([self.tkms, "key", "fetch", "--attestation", "dev", "--dev-key-file", self.devkey,
                                "--group", os.path.join(self.dir, "group.json"), "--app", self.app, "--out", out],
                               capture_output=True, text=True)
            if r.returncode == 0:
                with open(out) as f:
                    return f.read()
            time.sleep(0.5)
        raise RuntimeError(f"key fetch failed: {r.stderr.strip()}")

    def slot_phase(self):
        g = self.genesis()
        t = time.time()
        return (t - g["genesis_time"]) % g["reshare_interval_s"]

    def observe(self):
        """Polls every node's health: the smallest share-holder count any node reports."""
        for i in range(1, self.n + 1):
            h = self.health(i, timeout=0.5)
            if h and isinstance(h.get("share_holders"), int):
                v = h["share_holders"]
                self.min_holders_seen = v if self.min_holders_seen is None else min(self.min_holders_seen, v)

    def max_down(self):
        return self.n - self.t

    def inject(self, seconds):
        end = time.time() + seconds
        window = 5 * self.a.phase_ms / 1000 + 2
        while time.time() < end:
            # reap hooked nodes that killed themselves
            for i in list(self.hooked):
                if not self.pid(i):
                    self.down.add(i)
                    self.down_until[i] = time.time() + self.rng.uniform(0.2, 2 * self.a.interval)
                    del self.hooked[i]
            self.observe()
            budget = self.max_down() - len(self.down) - len(self.hooked)
            up = [i for i in range(1, self.n + 1) if i not in self.down and i not in self.hooked]
            choice = self.rng.random()
            ready = [i for i in sorted(self.down) if time.time() >= self.down_until.get(i, 0)]
            if ready and (budget <= 0 or choice < 0.35):
                i = self.rng.choice(ready)
                if not self.pid(i):  # a SIGTERM'd node may still be draining
                    self.start(i)
                    self.down.discard(i)
                    self.faults["restart"] += 1
            elif budget > 0 and up:
                i = self.rng.choice(up)
                kind = self.rng.random()
                if kind < 0.15:
                    # restart with the hook: it dies right after sending its CERT of the next epoch
                    h = self.health(i)
                    if h and isinstance(h.get("epoch"), int):
                        p = self.pid(i)
                        if p:
                            os.kill(p, signal.SIGKILL)
                            time.sleep(0.2)
                        env = dict(os.environ, TKMS_TEST_KILL_AFTER_CERT=str(h["epoch"] + 1))
                        self.start(i, env=env)
                        self.hooked[i] = h["epoch"] + 1
                        self.faults["hook"] += 1
                else:
                    if self.rng.random() < 0.5:
                        # inside a session: sleep to a random point of the next slot's window
                        ph = self.slot_phase()
                        wait = (self.a.interval - ph) + self.rng.uniform(0, window)
                        if wait < seconds:
                            time.sleep(min(wait, max(0, end - time.time())))
                            self.faults["in_session"] += 1
                    p = self.pid(i)
                    if p:
                        sig = signal.SIGKILL if self.rng.random() < 0.6 else signal.SIGTERM
                        os.kill(p, sig)
                        self.faults["kill9" if sig == signal.SIGKILL else "sigterm"] += 1
                        self.down.add(i)
                        # a third of the victims stay down across a whole reshare (then they need a
                        # repair), the others come back within seconds
                        long = self.rng.random() < 0.33
                        self.down_until[i] = time.time() + (self.rng.uniform(self.a.interval, 2 * self.a.interval)
                                                            if long else self.rng.uniform(0.2, 3))
            time.sleep(self.rng.uniform(0.2, 1.2))

    def heal(self):
        # hooked nodes that did not fire yet are restarted without the hook
        for i in list(self.hooked):
            p = self.pid(i)
            if p:
                os.kill(p, signal.SIGKILL)
                time.sleep(0.2)
            self.down.add(i)
            del self.hooked[i]
        for i in sorted(self.down):
            # a SIGTERM'd node may still be draining: wait for it to exit, then start it
            for _ in range(150):
                if not self.pid(i):
                    break
                time.sleep(0.1)
            for _ in range(10):
                self.start(i)
                time.sleep(0.3)
                if self.pid(i):
                    break
            if not self.pid(i):
                raise RuntimeError(f"node {i} does not start again")
        self.down.clear()

    def all_repaired(self):
        hs = [self.health(i) for i in range(1, self.n + 1)]
        if any(h is None for h in hs):
            return None
        ep = {h.get("epoch") for h in hs}
        ok = len(ep) == 1 and all(h.get("state") == "serving" and h.get("has_share") and
                                  h.get("share_holders") == self.n for h in hs)
        return hs[0]["epoch"] if ok else None

    def verify_shares(self, epoch):
        """verify_shares_once, again if the cluster reshared while the partials were fetched
        (partials of two epochs do not combine)."""
        for attempt in range(5):
            before = [(self.health(i) or {}).get("epoch") for i in range(1, self.n + 1)]
            try:
                self.verify_shares_once(before[0])
                return
            except RuntimeError:
                after = [(self.health(i) or {}).get("epoch") for i in range(1, self.n + 1)]
                if len(set(before + after)) == 1 and before[0] is not None:
                    raise  # no reshare in between: a real failure
                log(f"the cluster reshared during the share check (epochs {before} -> {after}); again")
        raise RuntimeError("the cluster kept resharing during the share check")

    def verify_shares_once(self, epoch):
        """Each node's partial app key, opened independently, combined with fixed others into the
        app key, which must verify under the MPK: every node's share is right."""
        w = os.path.join(self.dir, "app")
        seed = open(self.devkey).read().strip()
        parts = {}
        group = os.path.join(w, "group_now.json")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port(1)}/v1/group") as r:
            g = json.load(r)
        if g["epoch"] != epoch or g["mpk"] != self.mpk:
            raise RuntimeError(f"group epoch {g['epoch']} / MPK changed")
        with open(group, "w") as f:
            json.dump(g, f)
        for i in range(1, self.n + 1):
            st = os.path.join(w, f"state{i}")
            req = subprocess.run(["node", HELPER, "key", "--app", self.app, "--state", st, "--dev-seed", seed],
                                 capture_output=True, text=True, check=True).stdout
            rq = urllib.request.Request(f"http://127.0.0.1:{self.port(i)}/v1/keys/app", data=req.encode(),
                                        headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(rq, timeout=5) as r:
                body = r.read()
            rf = os.path.join(w, f"resp{i}")
            with open(rf, "wb") as f:
                f.write(body)
            out = subprocess.run(["node", HELPER, "open", "--state", st, "--group", group, "--resp", rf],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"node {i}: answer does not open: {out.stderr.strip()}")
            parts[i] = out.stdout.strip()
        key = None
        for i in range(1, self.n + 1):
            others = [j for j in range(1, self.n + 1) if j != i][: self.t - 1]
            args = ["tbls", "combine", "--t", str(self.t)]
            for j in [i] + others:
                args += ["--partial", parts[j]]
            k = self.run(*args).strip()
            r = subprocess.run([self.tkms, "app-key", "verify", "--mpk", self.mpk, "--app", self.app, "--key-file", "-"],
                               input=k + "\n", capture_output=True, text=True)
            if r.returncode == 2:
                raise RuntimeError(f"tkms app-key verify: usage error: {r.stderr.strip()}")
            if r.returncode != 0:
                raise RuntimeError(f"node {i}'s partial does not combine into the app key")
            if key and k != key:
                raise RuntimeError("two subsets combine differently")
            key = k

    def holders_per_epoch(self):
        """From the logs: the nodes that held a share of each epoch (certified with it, caught up
        with it, or loaded it)."""
        held = {}
        certified = set()
        for i in range(1, self.n + 1):
            with open(os.path.join(self.dir, f"node{i}", "tkmsd.log"), errors="replace") as f:
                for line in f:
                    if not line.startswith("{"):
                        continue
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    ev = e.get("event")
                    if ev == "epoch_certified":
                        certified.add(e["epoch"])
                    if ev in ("epoch_certified", "caught_up", "epoch_loaded") and e.get("share"):
                        held.setdefault(e["epoch"], set()).add(i)
        return {ep: len(held.get(ep, ())) for ep in sorted(certified)}

    def go(self):
        t0 = time.time()
        self.up()
        log(f"injecting faults for {self.a.seconds} s (seed {self.a.seed})")
        self.inject(self.a.seconds)
        log(f"faults stop: {self.faults}; restarting every node")
        self.heal()
        t_stop = time.time()
        bound = 2 * self.a.interval + 5 * self.a.phase_ms / 1000 + 2 + 4
        epoch = None
        while time.time() < t_stop + bound + 30:
            epoch = self.all_repaired()
            if epoch is not None:
                break
            self.observe()
            time.sleep(0.25)
        repair_s = time.time() - t_stop
        res = {"nodes": self.n, "t": self.t, "seed": self.a.seed, "seconds": self.a.seconds,
               "faults": self.faults, "faults_total": sum(v for k, v in self.faults.items() if k != "in_session")}
        per = self.holders_per_epoch()
        res["epochs_certified"] = len(per)
        res["min_holders_per_certified_epoch"] = min(per.values()) if per else None
        res["min_share_holders_seen"] = self.min_holders_seen
        res["repairs"] = self.count_repairs()
        res["time_to_full_repair_s"] = round(repair_s, 2)
        errors = []
        if epoch is None:
            errors.append(f"not every member holds a share of one epoch {repair_s:.1f} s after the faults stopped: "
                          + json.dumps([(h or {}).get('epoch') for h in [self.health(i) for i in range(1, self.n + 1)]])
                          + " " + json.dumps([(h or {}).get('has_share') for h in [self.health(i) for i in range(1, self.n + 1)]]))
        elif repair_s > bound:
            errors.append(f"full repair took {repair_s:.1f} s (bound {bound:.0f} s: two repair opportunities)")
        low = {ep: c for ep, c in per.items() if c < self.t}
        if low:
            errors.append(f"epochs certified with fewer than t = {self.t} share holders: {low}")
        if epoch is not None and not errors:
            try:
                for i in range(1, self.n + 1):
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port(i)}/v1/group") as r:
                        if json.load(r)["mpk"] != self.mpk:
                            raise RuntimeError(f"MPK changed on node {i}")
                self.verify_shares(epoch)
                if self.fetch_mnemonic("m1") != self.mnemonic:
                    raise RuntimeError("the app key fetched after the faults gives another mnemonic")
            except Exception as e:  # noqa: BLE001 -- reported as a failed check
                errors.append(str(e))
        res["final_epoch"] = epoch
        res["ok"] = not errors
        res["errors"] = errors
        res["wall_s"] = round(time.time() - t0, 1)
        self.run("cluster", "down", "--dir", self.dir, check=False)
        return res

    def count_repairs(self):
        eps = set()
        for i in range(1, self.n + 1):
            with open(os.path.join(self.dir, f"node{i}", "tkmsd.log"), errors="replace") as f:
                for line in f:
                    if '"kind":"repair"' in line and '"event":"epoch_certified"' in line:
                        try:
                            eps.add(json.loads(line)["epoch"])
                        except ValueError:
                            pass
        return len(eps)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--work", required=True)
    p.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    p.add_argument("--base-port", type=int, default=17900)
    p.add_argument("--interval", type=int, default=12)
    p.add_argument("--phase-ms", type=int, default=400)
    p.add_argument("--repair-delay", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(6), "big")
    print(f"chaos seed: {a.seed} (reproduce: --nodes {a.nodes} --seconds {a.seconds} --seed {a.seed})", file=sys.stderr,
          flush=True)
    c = Chaos(a)
    try:
        res = c.go()
    except Exception as e:  # noqa: BLE001
        c.run("cluster", "down", "--dir", c.dir, check=False)
        res = {"ok": False, "errors": [f"{type(e).__name__}: {e}"], "seed": a.seed, "nodes": a.nodes}
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:34s} {v}")
    if not res["ok"]:
        print(f"CHAOS FAILED (seed {a.seed}): {res['errors']}", file=sys.stderr)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
