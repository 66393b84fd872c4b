#!/usr/bin/env python3
"""Server mode over etcd (issue 14): 3 cairn servers against a raw 3-member etcd started
with the same flags, in one run. See run.sh."""
import argparse
import http.client
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
import benchlib  # noqa: E402
from benchlib import rss_kb  # noqa: E402
from cluster import (CairnDatacenter, DevAgent, KeyspaceWatchers, RawCluster, b64, call,  # noqa: E402
                     member_status, wait_until)
import wrkload  # noqa: E402
from wrkload import VALUE, lua_script  # noqa: E402


CAIRNS_ETCD = "cairn's etcd"
SYSTEMS = ("cairn", "etcd", "etcd+watch")
PUT_VARIANTS = ("etcd guarded", "etcd guarded+watch")  # diagnostics, KV PUT only


def machine():
    etcd = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return f"{benchlib.machine()}, {etcd}"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def fmt_ms(v):
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Bench:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.run_no = 0
        conf = os.path.join(work, "limits.yaml")
        with open(conf, "w") as f:
            # 1,000 parked queries come from one address: lift the 200-per-client limit.
            f.write("limits:\n  http_max_conns_per_client: 5000\n")
        self.dev = DevAgent(args.cairn, work, conf)
        self.raw = RawCluster(work, args.no_fsync)
        self.dc = CairnDatacenter(args.cairn, work, conf, args.no_fsync)
        self.conf = conf

    # -- helpers -----------------------------------------------------------------------------
    def pid_groups(self):
        return {"cairn": [s.proc.pid for s in self.dc.servers if s.proc.alive()],
                CAIRNS_ETCD: [p for s in self.dc.servers for p in [s.etcd_pid()] if p],
                "raw etcd": [p for m in self.raw.members for p in m.pids()],
                "dev": self.dev.pids(),
                "driver": [os.getpid()]}

    def wrk(self, system, kind, conc, seconds):
        """One measurement: conc connections spread over the 3 servers (or members); one
        connection visits each in turn for a third of the time."""
        self.run_no += 1
        base = "cairn" if system == "cairn" else "etcd"
        if system.startswith("etcd guarded"):
            kind = "gput"
        urls = [s.url() for s in self.dc.servers] if base == "cairn" else \
               [m.url() for m in self.raw.members]
        if conc == 1:
            split = [1, 1, 1]
        else:
            split = [conc // 3 + (1 if i < conc % 3 else 0) for i in range(3)]
        targets = []
        for i, (url, c) in enumerate(zip(urls, split)):
            prefix = f"t{self.run_no:04d}w{i}x/"
            targets.append((url, c, lua_script(f"{base}_{kind}", prefix, seed=self.run_no * 10 + i)))
        tag = f"{base}-{kind}-{conc}-{self.run_no}"
        if system.endswith("+watch"):
            with KeyspaceWatchers(self.raw.members):
                return wrkload.run(self.work, targets, seconds, self.pid_groups(), tag,
                                   sequential=(conc == 1))
        return wrkload.run(self.work, targets, seconds, self.pid_groups(), tag, sequential=(conc == 1))

    def check(self, res, what):
        if res.bad or res.socket_errors or res.timeouts:
            print(f"  !! {what}: {res.bad} wrong answers, {res.socket_errors} socket errors, "
                  f"{res.timeouts} timeouts; first wrong answer: {res.first_bad}")

    # -- 0. the client's ceiling ---------------------------------------------------------
    def client_ceiling(self):
        m = self.raw.members[0]
        m.put("bench/read", VALUE)
        res = wrkload.run(self.work, [(m.url(), 64, lua_script("etcd_range:bench/read:true"))],
                          self.args.seconds, self.pid_groups(), "ceiling")
        self.check(res, "ceiling")
        # The PUT script itself (a request built in Lua per call, every answer checked) against
        # -dev, which applies PUTs in memory: far above anything the servers reach.
        dev_res = wrkload.run(self.work, [(self.dev.url(), 64, lua_script("cairn_put"))],
                              self.args.seconds, self.pid_groups(), "ceiling-dev")
        self.check(dev_res, "ceiling -dev")
        print("\n## 0. Client ceiling (one wrk thread, 64 keep-alive connections)")
        print(f"serializable range on one raw etcd member: {res.ops:,.0f} req/s, wrk used "
              f"{res.client_cpu / res.seconds * 100:.0f}% of a core")
        print(f"the PUT script against cairn -dev:         {dev_res.ops:,.0f} req/s, wrk used "
              f"{dev_res.client_cpu / dev_res.seconds * 100:.0f}% of a core")
        return {"etcd_serializable_range": res.ops, "dev_put_script": dev_res.ops,
                "wrk_core_share_etcd": res.client_cpu / res.seconds}

    # -- 1 + 2. writes ------------------------------------------------------------------------
    def member_counters(self):
        """gRPC calls handled and stream messages sent, by method, summed over the 3 members
        of the cairn servers (etcd's /metrics on each member's socket)."""
        total = {}
        for srv in self.dc.servers:
            st, _, body = call(srv.member_endpoint, "GET", "/metrics")
            for line in body.decode().splitlines():
                if line.startswith(("grpc_server_handled_total{", "grpc_server_msg_sent_total{")):
                    labels, value = line.rsplit(" ", 1)
                    method = labels.split('grpc_method="', 1)[1].split('"', 1)[0]
                    what = "calls" if line.startswith("grpc_server_handled") else "stream msgs"
                    if "Watch" in method or what == "calls":
                        k = f"{method} {what}"
                        total[k] = total.get(k, 0) + float(value)
        return total

    def etcd_work_per_put(self, n=500):
        """What one cairn KV PUT costs the etcd members, counted: n sequential PUTs through
        a follower, etcd's gRPC counters before and after."""
        leader = self.dc.cairn_leader()
        srv = next(s for s in self.dc.servers if s is not leader)
        before = self.member_counters()
        c = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
        for i in range(n):
            c.request("PUT", f"/v1/kv/benchcount/{i}", body=VALUE)
            r = c.getresponse()
            assert r.read() == b"true"
        c.close()
        after = self.member_counters()
        diff = {k: (after.get(k, 0) - before.get(k, 0)) / n for k in after}
        diff = {k: v for k, v in diff.items() if v >= 0.01}
        print(f"\netcd work per cairn KV PUT ({n} sequential PUTs through {srv.name}, summed over the "
              "3 members): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(diff.items())))
        return diff

    def writes(self):
        a = self.args
        per_put = self.etcd_work_per_put(100 if a.quick else 500)
        # Warm-up (not measured): connections, the put key space, Go's heap.
        for system in ("cairn", "etcd"):
            self.wrk(system, "put", 16, 2 if a.quick else 4)
        rows = {}
        for p in range(a.passes):
            for conc in a.concurrency:
                for kind in ("put", "txn"):
                    for system in SYSTEMS + (PUT_VARIANTS if kind == "put" else ()):
                        r = self.wrk(system, kind, conc, a.seconds)
                        self.check(r, f"{system} {kind} c={conc}")
                        rows.setdefault((kind, conc, system), []).append(r)
                        print(f"  pass {p + 1} {kind:3} c={conc:<2} {system:10}: {r.ops:8,.0f} ops/s "
                              f"p50 {fmt_ms(r.percentile_ms(50))} ms p99 {fmt_ms(r.percentile_ms(99))} ms",
                              flush=True)
        out = {"etcd_work_per_cairn_put": per_put}
        print("\n## 1-2. Writes, 3 cairn servers vs 3 raw etcd members "
              f"({'--unsafe-no-fsync on both' if a.no_fsync else 'fsync on both'}); "
              f"{a.seconds}s per run, median of {a.passes} pass(es) [min-max ops/s]")
        print("CPU ms/op: cairn processes + their etcd members, vs the raw members; "
              "client = wrk's own CPU")
        hdr = (f"{'workload':18} {'conc':>4} | {'cairn ops/s':>17} {'p50':>6} {'p99':>6} | "
               f"{'etcd ops/s':>17} {'p50':>6} {'p99':>6} | {'ratio':>5} | "
               f"{'cairn+etcd CPU ms/op':>20} {'etcd CPU':>8}")
        print(hdr)
        for kind in ("put", "txn"):
            for conc in a.concurrency:
                line = {}
                for system in SYSTEMS + (PUT_VARIANTS if kind == "put" else ()):
                    rs = rows[(kind, conc, system)]
                    ops = [r.ops for r in rs]
                    line[system] = {
                        "ops": median(ops), "min": min(ops), "max": max(ops),
                        "p50": median([r.percentile_ms(50) for r in rs]),
                        "p99": median([r.percentile_ms(99) for r in rs]),
                        "cpu": {k: median([r.server_cpu[k] * 1000 / max(1, r.requests) for r in rs])
                                for k in rs[0].server_cpu},
                        "client_cpu_share": median([r.client_cpu / r.seconds for r in rs]),
                        "bad": sum(r.bad + r.socket_errors + r.timeouts for r in rs)}
                c, e = line["cairn"], line["etcd"]
                ratio = c["ops"] / e["ops"] if e["ops"] else float("nan")
                name = "KV PUT 64 B" if kind == "put" else "txn 3 guarded sets"
                crange = f"{c['ops']:,.0f} [{c['min']:,.0f}-{c['max']:,.0f}]"
                erange = f"{e['ops']:,.0f} [{e['min']:,.0f}-{e['max']:,.0f}]"
                print(f"{name:18} {conc:>4} | {crange:>17} {fmt_ms(c['p50']):>6} {fmt_ms(c['p99']):>6} | "
                      f"{erange:>17} {fmt_ms(e['p50']):>6} {fmt_ms(e['p99']):>6} | {ratio:5.2f} | "
                      f"{c['cpu']['cairn']:9.3f} + {c['cpu'][CAIRNS_ETCD]:8.3f} "
                      f"{e['cpu']['raw etcd']:8.3f}")
                out[f"{kind}_c{conc}"] = dict(line, ratio=ratio)
        print("\nWhere cairn's writes go: the raw etcd again, (a) with one whole-keyspace watch per member "
              "read through the gateway, as each cairn server's watch feed (the driver reads them; its "
              "CPU is the last column), (b) with each PUT sent as cairn's writer sends it")
        print(f"{'raw etcd':20} {'conc':>4} | {'ops/s':>17} {'p50':>6} {'p99':>6} | "
              f"{'cairn/this':>10} | {'etcd CPU ms/op':>14} {'driver':>7}")
        for kind, variant in (("put", "etcd+watch"), ("put", "etcd guarded"), ("put", "etcd guarded+watch"),
                              ("txn", "etcd+watch")):
            if variant == "etcd guarded":
                print("(b) each PUT as cairn's writer sends it: a txn with one mod_revision compare and one "
                      "put of cairn's ~100 B row; without, then with the 3 watches")
            for conc in a.concurrency:
                w = out[f"{kind}_c{conc}"][variant]
                c = out[f"{kind}_c{conc}"]["cairn"]
                name = {"etcd+watch": "KV PUT 64 B +watch", "etcd guarded": "guarded PUT",
                        "etcd guarded+watch": "guarded PUT +watch"}[variant] if kind == "put" \
                    else "txn 3 guarded +watch"
                wrange = f"{w['ops']:,.0f} [{w['min']:,.0f}-{w['max']:,.0f}]"
                print(f"{name:20} {conc:>4} | {wrange:>17} {fmt_ms(w['p50']):>6} {fmt_ms(w['p99']):>6} | "
                      f"{c['ops'] / w['ops']:10.2f} | {w['cpu']['raw etcd']:14.3f} {w['cpu']['driver']:7.3f}")
        return out

    # -- 3. reads on a follower ---------------------------------------------------------------
    def reads(self):
        a = self.args
        leader = self.dc.cairn_leader()
        follower = next(s for s in self.dc.servers if s is not leader)
        assert leader.put("benchread", VALUE)
        assert self.dev.put("benchread", VALUE)
        rleader = self.raw.leader()
        rfollower = next(m for m in self.raw.members if m is not rleader)
        rfollower.put("benchread", VALUE)
        cases = [
            ("cairn follower, default", follower.url(), "get:/v1/kv/benchread"),
            ("cairn follower, ?stale", follower.url(), "get:/v1/kv/benchread?stale"),
            ("cairn -dev, default", self.dev.url(), "get:/v1/kv/benchread"),
            ("raw etcd follower, linearizable range", rfollower.url(), "etcd_range:benchread:false"),
            ("raw etcd follower, serializable range", rfollower.url(), "etcd_range:benchread:true"),
        ]
        rows = {}
        for _ in range(a.passes):
            for conc in (1, 16):
                for label, url, kind in cases:
                    self.run_no += 1
                    r = wrkload.run(self.work, [(url, conc, lua_script(kind))], a.seconds,
                                    self.pid_groups(), f"read-{self.run_no}")
                    self.check(r, label)
                    rows.setdefault((label, conc), []).append(r)
        print(f"\n## 3. GET /v1/kv/benchread (64 B) on a follower ({follower.name}; leader "
              f"{leader.name}) vs cairn -dev; one wrk thread, median of {a.passes} pass(es)")
        print(f"{'read':40} {'conc':>4} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
        out = {}
        for conc in (1, 16):
            for label, _, _ in cases:
                rs = rows[(label, conc)]
                v = {"ops": median([r.ops for r in rs]), "p50": median([r.percentile_ms(50) for r in rs]),
                     "p99": median([r.percentile_ms(99) for r in rs])}
                out[f"{label} c{conc}"] = v
                print(f"{label:40} {conc:>4} {v['ops']:9,.0f} {fmt_ms(v['p50']):>7} {fmt_ms(v['p99']):>7}")
            d = out[f"cairn -dev, default c{conc}"]["ops"]
            print(f"  c={conc}: follower default / -dev = {out[f'cairn follower, default c{conc}']['ops'] / d:.2f}, "
                  f"follower ?stale / -dev = {out[f'cairn follower, ?stale c{conc}']['ops'] / d:.2f}")
        return out

    # -- 5a. blocking queries -----------------------------------------------------------------
    def parked_wake(self, query_ep, n, write, metric_ep):
        """Parks n blocking queries on query_ep, then write(); wake latency of each, from the
        moment the write is sent, timed with epoll (first byte of each answer)."""
        st, headers, _ = call(query_ep, "GET", "/v1/kv/bench/parked")
        index = headers["X-Consul-Index"]
        socks = []
        req = f"GET /v1/kv/bench/parked?index={index}&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for _ in range(n):
            s = socket.create_connection((query_ep[1], query_ep[2]))
            s.sendall(req)
            s.setblocking(False)
            socks.append(s)

        def parked():
            st, _, body = call(metric_ep, "GET", "/v1/agent/metrics?format=prometheus")
            for line in body.decode().splitlines():
                if line.startswith("consul_rpc_queries_blocking"):
                    return float(line.split()[-1]) >= n
            return False
        wait_until(parked, 30, f"{n} parked queries", 0.05)
        ep = select.epoll()
        for s in socks:
            ep.register(s.fileno(), select.EPOLLIN)
        t0 = time.monotonic()
        write()
        ack = (time.monotonic() - t0) * 1000
        lat, seen = [], set()
        deadline = time.monotonic() + 30
        while len(seen) < n and time.monotonic() < deadline:
            events = ep.poll(1)
            now = (time.monotonic() - t0) * 1000
            for fd, _ in events:
                if fd not in seen:
                    seen.add(fd)
                    lat.append(now)
                    ep.unregister(fd)
        ep.close()
        for s in socks:
            s.close()
        lat.sort()
        return ack, lat

    def blocking(self):
        a = self.args
        n = a.parked
        leader = self.dc.cairn_leader()
        others = [s for s in self.dc.servers if s is not leader]
        b, w = others[0], leader  # queries on a follower, the write on the leader's server
        assert w.put("bench/parked", "0")
        wait_until(lambda: call(b.endpoint, "GET", "/v1/kv/bench/parked?raw&stale")[2] == b"0", 10,
                   "the parked key on B")
        self.dev.put("bench/parked", "0")
        out = {}
        print(f"\n## 5a. {n} blocking queries GET /v1/kv/bench/parked?index=N&wait=60s parked on "
              f"{b.name}, one PUT on {w.name}; wake latency from sending the PUT (epoll, first byte)")
        print(f"{'setup':28} {'round':>5} {'PUT ack ms':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'woken':>6}")
        for label, qep, wfn, mep in (
                ("cairn follower <- leader", b.endpoint, lambda i: w.put("bench/parked", str(i)), b.endpoint),
                ("cairn -dev (same agent)", self.dev.endpoint, lambda i: self.dev.put("bench/parked", str(i)),
                 self.dev.endpoint)):
            rounds = []
            for i in range(a.parked_rounds):
                ack, lat = self.parked_wake(qep, n, lambda: wfn(i + 1), mep)
                p = lambda q: lat[min(len(lat) - 1, int(q / 100 * len(lat)))] if lat else float("nan")
                rounds.append({"ack": ack, "p50": p(50), "p99": p(99), "max": lat[-1] if lat else float("nan"),
                               "woken": len(lat)})
                print(f"{label:28} {i + 1:>5} {ack:10.2f} {p(50):7.2f} {p(99):7.2f} {rounds[-1]['max']:7.2f} "
                      f"{len(lat):>6}", flush=True)
            out[label] = rounds
        return out

    # -- 4. failover ----------------------------------------------------------------------
    @staticmethod
    def first_write(kill, putters, timeout, give_up=30.0):
        """kill(), then each survivor loops PUTs with `timeout` (a new connection each; the
        second loop starts timeout/2 later so together they probe twice per timeout);
        returns (seconds from the kill to the first accepted write, which survivor, attempts,
        the monotonic time of the kill)."""
        go = threading.Event()
        stop = threading.Event()
        found, lock = [], threading.Lock()
        attempts = [0]
        t0 = [0.0]

        def loop(name, put, delay):
            go.wait()
            if delay:
                time.sleep(delay)
            while not stop.is_set() and time.monotonic() - t0[0] < give_up:
                started = time.monotonic()
                try:
                    ok = put(timeout)
                except (OSError, http.client.HTTPException):
                    ok = False
                with lock:
                    attempts[0] += 1
                if ok:
                    with lock:
                        found.append((time.monotonic() - t0[0], name))
                    stop.set()
                    return
                spent = time.monotonic() - started
                if spent < 0.01:
                    time.sleep(0.01 - spent)  # a refusal comes back at once: do not spin
        threads = [threading.Thread(target=loop, args=(name, put, i * timeout / 2), daemon=True)
                   for i, (name, put) in enumerate(putters)]
        for t in threads:
            t.start()
        t0[0] = time.monotonic()
        kill()
        go.set()
        for t in threads:
            t.join()
        if not found:
            return None, None, attempts[0], t0[0]
        found.sort()
        return found[0][0], found[0][1], attempts[0], t0[0]

    def failover(self):
        a = self.args
        timeout = a.put_timeout
        out = {}
        print(f"\n## 4. Failover: kill -9, then PUT loops with a {timeout * 1000:.0f} ms timeout on both "
              "survivors; seconds from the kill to the first accepted write; the killed one is "
              "restarted and the datacenter healthy again before the next round. Before a "
              "'cairn leader' round, etcd leadership is moved off that server when it holds both.")
        for what in ("etcd leader's server", "cairn leader"):
            rounds = []
            for r in range(a.rounds):
                self.dc.wait_healthy(120)
                if what.startswith("etcd"):
                    victim = self.dc.etcd_leader()
                else:
                    victim = self.dc.cairn_leader()
                    self.dc.move_etcd_leader_away(victim)
                was_cairn_leader = victim is self.dc.cairn_leader()
                was_etcd_leader = victim is self.dc.etcd_leader()
                survivors = [s for s in self.dc.servers if s is not victim]
                key = f"bench/failover/{len(out)}-{r}"
                putters = [(s.name, (lambda s: lambda t: s.put(key, "x", timeout=t))(s)) for s in survivors]
                secs, by, attempts, t_kill = self.first_write(victim.kill9, putters, timeout)
                # How long the survivors take to name a new cairn leader (only when it was killed).
                new_leader = None
                if was_cairn_leader:
                    try:
                        wait_until(lambda: all(x.leader() not in ("", f"{victim.ip}:8300") for x in survivors),
                                   60, "a new cairn leader", 0.05)
                        new_leader = time.monotonic() - t_kill
                    except RuntimeError:
                        new_leader = None
                victim.reap()
                t_restart = time.monotonic()
                victim.start()
                self.dc.wait_healthy(120)
                back = time.monotonic() - t_restart
                rounds.append({"first_write_s": secs, "by": by, "attempts": attempts,
                               "victim": victim.name, "was_cairn_leader": was_cairn_leader,
                               "was_etcd_leader": was_etcd_leader, "new_cairn_leader_s": new_leader,
                               "back_s": back})
                nl = f"{new_leader:.2f}" if new_leader is not None else "-"
                print(f"  {what:21} round {r + 1:2}: killed {victim.name} (cairn leader: {was_cairn_leader}, "
                      f"etcd leader: {was_etcd_leader}); first write after "
                      f"{'%.3f' % secs if secs is not None else 'NEVER'} s on {by} ({attempts} attempts); "
                      f"new cairn leader named after {nl} s; restarted and healthy in {back:.1f} s",
                      flush=True)
            out[what] = rounds
        # The same on the raw cluster.
        rounds = []
        for r in range(a.rounds):
            self.raw.wait_healthy(60)
            victim = self.raw.leader()
            survivors = [m for m in self.raw.members if m is not victim]
            key = f"bench/failover/raw-{r}"
            putters = [(m.name, (lambda m: lambda t: m.put(key, "x", timeout=t))(m)) for m in survivors]
            secs, by, attempts, _ = self.first_write(lambda: os.kill(victim.proc.pid, 9), putters, timeout)
            victim.proc.p.wait()
            victim.proc.start()
            self.raw.wait_healthy(60)
            rounds.append({"first_write_s": secs, "by": by, "attempts": attempts})
            print(f"  raw etcd leader       round {r + 1:2}: killed {victim.name}; first write after "
                  f"{'%.3f' % secs if secs is not None else 'NEVER'} s on {by} ({attempts} attempts)", flush=True)
        out["raw etcd leader"] = rounds
        print(f"{'killed':24} {'rounds':>6} {'median s':>9} {'max s':>7} {'min s':>7}  all (s)")
        for what, rs in out.items():
            xs = [x["first_write_s"] for x in rs if x["first_write_s"] is not None]
            never = len(rs) - len(xs)
            print(f"{what:24} {len(rs):>6} {median(xs):9.3f} {max(xs, default=float('nan')):7.3f} "
                  f"{min(xs, default=float('nan')):7.3f}  {' '.join('%.2f' % x for x in sorted(xs))}"
                  + (f"  ({never} never)" if never else ""))
        return out

    # -- 5b. RSS -------------------------------------------------------------------------------
    def rss(self):
        """A fresh 3-server datacenter (the benchmark above left ~10^5 extra keys and revisions
        behind), loaded with services and KV keys through the HTTP API."""
        a = self.args
        work = os.path.join(self.work, "rss")
        os.makedirs(work)
        self.dc.stop()
        for s in self.dc.servers:
            s.reap()
        dc = CairnDatacenter(a.cairn, work, self.conf, a.no_fsync)
        self.rss_dc = dc
        dc.start()

        def sizes():
            out = []
            for s in dc.servers:
                ms = member_status(s.member_endpoint)
                out.append((s.name, rss_kb(s.proc.pid), rss_kb(s.etcd_pid()), ms[3] if ms else 0))
            return out
        idle = sizes()
        n_svc, n_kv = a.rss_services, a.rss_keys
        t0 = time.monotonic()
        jobs = []
        per_txn = 64
        for start in range(0, n_kv, per_txn):
            ops = [{"KV": {"Verb": "set", "Key": f"rss/key-{k:06d}", "Value": b64(VALUE)}}
                   for k in range(start, min(n_kv, start + per_txn))]
            jobs.append(("PUT", "/v1/txn", json.dumps(ops)))
        for i in range(n_svc):
            jobs.append(("PUT", "/v1/catalog/register", json.dumps({
                "Node": f"rss-node-{i % 100:03d}", "Address": f"10.2.{i % 100}.1",
                "Service": {"ID": f"svc-{i}", "Service": f"svc-{i // 10:04d}", "Tags": ["a", "b"],
                            "Port": 1000 + i % 1000}})))
        failures = self.load(dc.servers, jobs, 12)
        load_s = time.monotonic() - t0

        def converged():
            idx = set()
            for s in dc.servers:
                st, h, body = call(s.endpoint, "GET", "/v1/kv/rss/?keys&stale", timeout=10)
                if st != 200 or len(json.loads(body)) != n_kv:
                    return False
                idx.add(call(s.endpoint, "GET", "/v1/catalog/services?stale")[1]["X-Consul-Index"])
            return len(idx) == 1
        wait_until(converged, 60, "every server holding the loaded data", 0.5)
        loaded = sizes()
        dev_before = rss_kb(self.dev.proc.pid)
        dev_fail = self.load([self.dev], jobs, 4)
        dev_after = rss_kb(self.dev.proc.pid)
        print(f"\n## 5b. RSS of each server (cairn + its etcd member), a fresh datacenter, before and "
              f"after loading {n_svc:,} service instances (100 nodes) and {n_kv:,} KV keys of 64 B "
              f"(load took {load_s:.1f} s, {failures} failed requests)")
        print(f"{'server':7} {'cairn MiB':>10} {'etcd MiB':>9} {'sum MiB':>8} {'etcd db MiB':>11}   (idle: cairn / etcd MiB)")
        for (name, c0, e0, _), (_, c1, e1, db) in zip(idle, loaded):
            print(f"{name:7} {c1 / 1024:10.1f} {e1 / 1024:9.1f} {(c1 + e1) / 1024:8.1f} {db / 2**20:11.1f}"
                  f"   ({c0 / 1024:.1f} / {e0 / 1024:.1f})")
        print(f"cairn -dev with the same data: {dev_after / 1024:.1f} MiB (was {dev_before / 1024:.1f} MiB "
              f"with the benchmark's leftovers; {dev_fail} failed requests)")
        return {"idle": idle, "loaded": loaded, "dev_before_kb": dev_before, "dev_after_kb": dev_after,
                "load_s": load_s}

    @staticmethod
    def load(servers, jobs, threads):
        """Sends jobs round-robin over servers from `threads` keep-alive connections."""
        failures = [0]
        lock = threading.Lock()
        it = iter(enumerate(jobs))

        def worker(w):
            conns = {}
            while True:
                with lock:
                    nxt = next(it, None)
                if nxt is None:
                    break
                n, (method, path, body) = nxt
                s = servers[n % len(servers)]
                c = conns.get(s.http_port) or http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=30)
                conns[s.http_port] = c
                try:
                    c.request(method, path, body=body)
                    r = c.getresponse()
                    r.read()
                    ok = r.status == 200
                except (OSError, http.client.HTTPException):
                    c.close()
                    conns.pop(s.http_port, None)
                    ok = False
                if not ok:
                    with lock:
                        failures[0] += 1
            for c in conns.values():
                c.close()
        ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return failures[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", help="work directory (default: a new one under /tmp)")
    ap.add_argument("--quick", action="store_true", help="smoke mode: a few seconds per figure")
    ap.add_argument("--no-fsync", action="store_true",
                    help="--unsafe-no-fsync on every etcd member (cairn's and the raw ones)")
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--passes", type=int)
    ap.add_argument("--rounds", type=int, help="failover rounds per kind")
    ap.add_argument("--only", default="ceiling,writes,reads,blocking,failover,rss")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    a.seconds = a.seconds or (2 if a.quick else 10)
    a.passes = a.passes or (1 if a.quick else 3)
    a.rounds = a.rounds or (2 if a.quick else 10)
    a.concurrency = (1, 16, 64)
    a.parked = 100 if a.quick else 1000
    a.parked_rounds = 1 if a.quick else 5
    a.put_timeout = 0.2
    a.rss_services = 1000 if a.quick else 10_000
    a.rss_keys = 10_000 if a.quick else 100_000
    only = set(a.only.split(","))
    work = a.work or tempfile.mkdtemp(prefix="cairn-serverbench-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"load average before starting: {loadavg()}")
    print(f"mode: {'quick' if a.quick else 'full'}; etcd members "
          f"{'with --unsafe-no-fsync' if a.no_fsync else 'with fsync'}; work dir {work}", flush=True)
    b = Bench(a, work)
    results = {"machine": machine(), "no_fsync": a.no_fsync, "quick": a.quick}
    started = time.monotonic()
    try:
        b.dev.start()
        b.raw.start()
        b.dc.start()
        print(f"started: cairn -dev, raw etcd {[m.ip for m in b.raw.members]}, cairn servers "
              f"{[s.ip for s in b.dc.servers]} (cairn leader {b.dc.cairn_leader().name}, etcd leader "
              f"{b.dc.etcd_leader().name})", flush=True)
        steps = [("ceiling", b.client_ceiling), ("writes", b.writes), ("reads", b.reads),
                 ("blocking", b.blocking), ("failover", b.failover), ("rss", b.rss)]
        for name, fn in steps:
            if name in only:
                t = time.monotonic()
                results[name] = fn()
                print(f"[{name}: {time.monotonic() - t:.0f} s]", flush=True)
    finally:
        for dc in (getattr(b, "rss_dc", None), b.dc):
            if dc:
                dc.stop()
        b.raw.stop()
        b.dev.proc.stop()
        if a.json:
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1, default=str)
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"total {time.monotonic() - started:.0f} s; load average at the end: {loadavg()}")


if __name__ == "__main__":
    main()
