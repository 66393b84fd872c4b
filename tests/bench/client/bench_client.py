#!/usr/bin/env python3
"""Client agents (issue 15): a client's DNS and health reads against a server's, check
propagation between clients, what a datacenter of clients costs the servers, and a client's
memory. See run.sh."""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "server"))
sys.path.insert(0, os.path.join(here, "..", "dns"))
from benchlib import free_port, machine, rss_kb  # noqa: E402
import cluster  # noqa: E402
from cluster import Proc, call, wait_until  # noqa: E402
from bench_dns import dnsperf, percentile  # noqa: E402

# Apart from the tests' 127.0.0.x and the server benchmark's 127.0.1.x / 127.0.2.x.
cluster.CAIRN_NET = "127.0.5."
CLIENT_NET = "127.0.6."
RPC_PORT = 8300
HTTP_PORT, DNS_PORT = 8500, 8600  # a client's own address: the defaults never clash
FLIP_CHECK = "web-ttl"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_ns_seconds(pid):
    """CPU time of every live thread of pid from the scheduler (nanoseconds, where
    /proc/<pid>/stat counts 10 ms ticks); 0 once the process is gone."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return 0.0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def pct(xs, q):
    return percentile(xs, q) if xs else float("nan")


# -- DNS on the wire ---------------------------------------------------------------------------
def dns_query(name, qtype=33, qid=0xBEEF):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def answer_count(resp):
    return struct.unpack(">H", resp[6:8])[0] if len(resp) >= 12 else -1


class DnsProbe:
    """One UDP socket asking one server `web.service.consul SRV` again and again."""

    def __init__(self, ip, port):
        self.addr = (ip, port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(0.05)
        self.q = dns_query("web.service.consul")

    def ask(self):
        self.s.sendto(self.q, self.addr)
        while True:
            try:
                r = self.s.recv(4096)
            except socket.timeout:
                return None
            if r[:2] == self.q[:2]:
                return r

    def close(self):
        self.s.close()


def holds_node(resp, node):
    """The SRV answer names node (its target is <node>.node.<dc>.consul)."""
    return resp is not None and (bytes([len(node)]) + node.encode()) in resp


# -- processes ---------------------------------------------------------------------------------
class Client:
    """A lightweight client agent: its own address (HTTP 8500, DNS 8600 there), its
    services from a definitions file, joined to the first server."""

    def __init__(self, binary, work, name, ip, join_ip, services):
        self.name, self.ip = name, ip
        self.data_dir = os.path.join(work, f"{name}-data")
        conf_dir = os.path.join(work, f"{name}-conf")
        os.makedirs(self.data_dir, exist_ok=True)
        os.makedirs(conf_dir, exist_ok=True)
        with open(os.path.join(conf_dir, "services.json"), "w") as f:
            json.dump({"services": services}, f)
        args = [binary, "agent", "-node", name, "-bind", ip, "-client", ip,
                "-data-dir", self.data_dir, "-config-dir", conf_dir, "-log-level", "warn",
                "-retry-join", f"{join_ip}:8301", "-retry-interval", "1s"]
        self.proc = Proc(args, os.path.join(work, f"{name}.log"))
        self.endpoint = ("tcp", ip, HTTP_PORT)
        self.http = None

    def start(self):
        self.http = None
        self.proc.start()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def rpc_stats(self):
        st, _, body = call(self.endpoint, "GET", "/v1/agent/self", timeout=2)
        return json.loads(body)["Stats"].get("rpc", {}) if st == 200 else {}

    def ready(self):
        if not self.proc.alive():
            raise RuntimeError(f"{self.name} exited:\n{self.proc.log_tail()}")
        r = self.rpc_stats()
        return r.get("catalog_in_sync") == "true" and r.get("local_view") == "current"

    def put(self, path, body=""):
        """A PUT on this client's keep-alive connection: the status."""
        for attempt in range(2):
            if self.http is None:
                self.http = http.client.HTTPConnection(self.ip, HTTP_PORT, timeout=10)
            try:
                self.http.request("PUT", path, body=body)
                r = self.http.getresponse()
                r.read()
                return r.status
            except (OSError, http.client.HTTPException):
                self.http.close()
                self.http = None
                if attempt:
                    raise
        return 0


def client_services(i, flip_instances):
    """Three services per client: its own, one shared by ten clients, and `web` (with a TTL
    check, passing) on the first flip_instances clients or one shared by five otherwise."""
    svcs = [{"name": f"app-{i:03d}", "id": f"app-{i:03d}", "port": 9000},
            {"name": f"shared-{i % 10}", "port": 9001}]
    if i < flip_instances:
        svcs.append({"name": "web", "id": "web", "port": 8080,
                     "check": {"id": FLIP_CHECK, "ttl": "30m", "status": "passing"}})
    else:
        svcs.append({"name": f"batch-{i % 5}", "port": 9002})
    return svcs


class Bench:
    def __init__(self, a, work):
        self.a, self.work = a, work
        conf = os.path.join(work, "server.yaml")
        with open(conf, "w") as f:
            f.write("limits:\n  http_max_conns_per_client: 5000\n")
        self.dc = cluster.CairnDatacenter(a.cairn, work, conf, a.no_fsync)
        self.seed = self.dc.servers[0]
        self.clients = []
        self.results = {}

    # -- helpers -------------------------------------------------------------------------------
    def add_clients(self, n):
        first = len(self.clients)
        new = [Client(self.a.cairn, self.work, f"c{i:03d}", f"{CLIENT_NET}{i + 10}", self.seed.ip,
                      client_services(i, 3)) for i in range(first, first + n)]
        t0 = time.monotonic()
        for c in new:
            c.start()
        self.clients += new
        self.wait_clients_ready(new, 120)
        return time.monotonic() - t0

    def wait_clients_ready(self, clients, timeout):
        pending = list(clients)

        def all_ready():
            pending[:] = [c for c in pending if not ready_quiet(c)]
            return not pending
        try:
            wait_until(all_ready, timeout, "every client in sync with a current local view", 0.1)
        except RuntimeError:
            for c in pending[:3]:
                try:
                    stats = c.rpc_stats()
                except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                    stats = repr(e)
                print(f"  {c.name} not ready: Stats.rpc {stats}\n{c.proc.log_tail(10)}", flush=True)
            raise

    def server_dns_port(self, s):
        return int(s.proc.args[s.proc.args.index("-dns-port") + 1])

    def cpu_snapshot(self):
        """CPU seconds so far: per server cairn and etcd, and the clients together."""
        out = {}
        for s in self.dc.servers:
            out[f"{s.name} cairn"] = cpu_ns_seconds(s.proc.pid)
            out[f"{s.name} etcd"] = cpu_ns_seconds(s.etcd_pid())
        out["clients"] = sum(cpu_ns_seconds(c.pid) for c in self.clients if c.proc.alive())
        return out

    @staticmethod
    def cpu_diff(a, b):
        return {k: b[k] - a.get(k, 0) for k in b}

    def rpc_bytes(self):
        """{(client addr, server addr): (bytes the server sent, bytes it received, client pid)} on
        every established connection of a client agent to a server's RPC port, from the kernel
        (ss -tip on the client's end: a client connects from 127.0.0.1, not its own address)."""
        out = subprocess.run(["ss", "-tinpH", "state", "established", f"( dport = :{RPC_PORT} )"],
                             capture_output=True, text=True, check=True).stdout
        conns = {}
        key = pid = None
        for line in out.splitlines():
            if not line.strip():
                continue
            if not line[0].isspace():
                addrs = re.findall(r"(\d+\.\d+\.\d+\.\d+:\d+)", line)
                m = re.search(r"pid=(\d+)", line)
                key = (addrs[0], addrs[1]) if len(addrs) >= 2 else None
                pid = int(m.group(1)) if m else None
                continue
            if key is None:
                continue
            sent = re.search(r"bytes_sent:(\d+)", line)
            recv = re.search(r"bytes_received:(\d+)", line)
            conns[key] = (int(recv.group(1)) if recv else 0, int(sent.group(1)) if sent else 0, pid)
            key = None
        return conns

    def bytes_diff(self, a, b):
        """Bytes the servers sent to client agents and received from them between two
        rpc_bytes(); a connection opened in between counts from zero."""
        pids = {c.pid for c in self.clients if c.proc.alive()}
        sent = recv = 0
        for k, (s1, r1, pid) in b.items():
            if pid not in pids:
                continue
            s0, r0, _ = a.get(k, (0, 0, None))
            sent += max(0, s1 - s0)
            recv += max(0, r1 - r0)
        return sent, recv

    def catalog_index(self):
        """The seed's etcd raft index: every write the servers make advances it."""
        st = cluster.member_status(self.seed.member_endpoint)
        return st[2] if st else 0

    def window(self, seconds):
        """(cpu diff, (bytes sent, received), catalog index advances, seconds) over a quiet window."""
        c0, b0, i0, t0 = self.cpu_snapshot(), self.rpc_bytes(), self.catalog_index(), time.monotonic()
        time.sleep(seconds)
        c1, b1, i1, t1 = self.cpu_snapshot(), self.rpc_bytes(), self.catalog_index(), time.monotonic()
        return self.cpu_diff(c0, c1), self.bytes_diff(b0, b1), i1 - i0, t1 - t0

    def server_cpu(self, cpu):
        cairn = sum(v for k, v in cpu.items() if k.endswith(" cairn"))
        etcd = sum(v for k, v in cpu.items() if k.endswith(" etcd"))
        return cairn, etcd

    def print_cpu(self, cpu, secs, label):
        per = " ".join(f"{s.name} {cpu[f'{s.name} cairn'] / secs * 100:.2f}+{cpu[f'{s.name} etcd'] / secs * 100:.2f}"
                       for s in self.dc.servers)
        cairn, etcd = self.server_cpu(cpu)
        print(f"  {label}: servers {cairn / secs * 100:.2f}% cairn + {etcd / secs * 100:.2f}% etcd of a core "
              f"(per server cairn+etcd: {per}); clients {cpu['clients'] / secs * 100:.2f}%", flush=True)

    # -- 1. DNS ----------------------------------------------------------------------------------
    def dns(self, b):
        """dnsperf at the client and at a server, alternating; then at two fixed rates (half the
        server's maximum, and a tenth) for latency. The fixed-answer responder of the DNS
        benchmark, when built, is the loopback ceiling: what the kernel, the scheduler and dnsperf
        allow on this machine at that moment."""
        a = self.a
        srv = self.seed
        qfile = os.path.join(self.work, "web-srv.txt")
        with open(qfile, "w") as f:
            f.write("web.service.consul SRV\n")
        targets = {"client": (b.ip, DNS_PORT), "server": ("127.0.0.1", self.server_dns_port(srv))}
        pids = {"client": b.pid, "server": srv.proc.pid}
        for name, addr in targets.items():
            p = DnsProbe(*addr)
            r = p.ask()
            p.close()
            if r is None or answer_count(r) != 3:
                raise RuntimeError(f"DNS at the {name}: expected 3 SRV answers, got {r!r}")
        responder = None
        if a.responder:
            port = free_port()
            responder = Proc([a.responder, port], os.path.join(self.work, "responder.log")).start()
            targets["ceiling"] = ("127.0.0.1", port)
            pids["ceiling"] = responder.pid
            wait_until(lambda: DnsProbe("127.0.0.1", port).ask() is not None, 10, "the responder")
        try:
            best = {k: 0.0 for k in targets}
            for rnd in range(a.rounds):
                for name, (ip, port) in targets.items():
                    qps, _, lost, _ = dnsperf_at(ip, port, qfile, a.seconds)
                    best[name] = max(best[name], qps)
                    print(f"  round {rnd + 1} {name:7}: {qps:9.0f} q/s (lost {lost})", flush=True)
            rates = [int(best["server"] * 0.5), int(best["server"] * 0.1)]
            fixed = {}
            for rate in rates:
                for name, (ip, port) in targets.items():
                    c0 = cpu_ns_seconds(pids[name])
                    qps, done, lost, lat = dnsperf_at(ip, port, qfile, a.seconds, rate=rate, verbose=True)
                    cpu = cpu_ns_seconds(pids[name]) - c0
                    fixed[(name, rate)] = {"p50_ms": pct(lat, 0.5) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3,
                                           "cpu_us": cpu / max(done, 1) * 1e6, "lost": lost}
        finally:
            if responder:
                responder.kill9()
        ratio = best["client"] / best["server"]
        print(f"\n## 1. DNS web.service.consul SRV (3 instances), dnsperf -c 1 -q 200, best of {a.rounds} "
              f"x {a.seconds} s; asked at client {b.name} (streamed view) and at server {srv.name}"
              + ("; ceiling: a fixed-answer responder" if responder else ""))
        print("| asked at | max q/s | " + " | ".join(f"at {r} q/s: p50 ms | p99 ms | CPU us/query | lost"
                                                      for r in rates) + " |")
        print("|---|---:|" + "---:|---:|---:|---:|" * len(rates))
        for name in targets:
            cells = " | ".join(f"{x['p50_ms']:.3f} | {x['p99_ms']:.3f} | {x['cpu_us']:.1f} | {x['lost']}"
                               for x in (fixed[(name, r)] for r in rates))
            print(f"| {name} | {best[name]:.0f} | {cells} |")
        p99s = {r: fixed[("client", r)]["p99_ms"] for r in rates}
        print(f"client / server queries/s: {ratio:.2f}x (target >= 0.9x: {'met' if ratio >= 0.9 else 'NOT met'}); "
              + "; ".join(f"client p99 at {r} q/s: {v:.3f} ms (target < 1 ms: {'met' if v < 1 else 'NOT met'})"
                          for r, v in p99s.items()), flush=True)
        return {"max_qps": best, "rates": rates,
                "fixed": {f"{k[0]}@{k[1]}": v for k, v in fixed.items()}, "ratio": ratio}

    # -- 2. HTTP health --------------------------------------------------------------------------
    def health(self, b, path, target):
        """wrk at the client and at the client's own server, alternating."""
        a = self.a
        forwards_to = b.rpc_stats().get("server", "?")
        srv = next((s for s in self.dc.servers if s.name == forwards_to), self.seed)
        targets = {"client": f"http://{b.ip}:{HTTP_PORT}{path}", "server": f"{srv.url()}{path}"}
        for name, url in targets.items():
            ep = (b.endpoint if name == "client" else srv.endpoint)
            st, _, body = call(ep, "GET", path)
            if st != 200 or len(json.loads(body)) != 3:
                raise RuntimeError(f"health at the {name}: {st} {body[:200]!r}")
        rows = {k: [] for k in targets}
        for rnd in range(a.rounds):
            for name, url in targets.items():
                c0, b0 = self.cpu_snapshot(), cpu_ns_seconds(b.pid)
                w0 = time.monotonic()
                rps, p50, p99, n, wrk_cpu = wrk(url, a.seconds, a.http_conns)
                secs = time.monotonic() - w0
                cpu = self.cpu_diff(c0, self.cpu_snapshot())
                rows[name].append({"rps": rps, "p50": p50, "p99": p99, "n": n, "cpu": cpu,
                                   "client_cpu": cpu_ns_seconds(b.pid) - b0, "wrk_cpu": wrk_cpu,
                                   "secs": secs})
                print(f"  round {rnd + 1} {name:6}: {rps:9.0f} req/s p50 {p50:.2f} ms p99 {p99:.2f} ms",
                      flush=True)
        best = {k: max(rows[k], key=lambda r: r["rps"]) for k in rows}
        ratio = best["client"]["rps"] / best["server"]["rps"]
        print(f"\n## 2. GET {path} (3 instances), wrk -t1 -c{a.http_conns}, best of {a.rounds} x {a.seconds} s; "
              f"at client {b.name} (its streamed view; its server is {forwards_to}) and at server {srv.name}")
        print("| asked at | req/s | p50 ms | p99 ms | CPU us/request: client agent | servers' cairn | "
              "servers' etcd | wrk |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in targets:
            r = best[name]
            n = max(r["n"], 1)
            cairn, etcd = self.server_cpu(r["cpu"])
            client_us = r["client_cpu"] / n * 1e6
            print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {client_us:.1f} | "
                  f"{cairn / n * 1e6:.1f} | {etcd / n * 1e6:.1f} | {r['wrk_cpu'] / n * 1e6:.1f} |")
        if a.perf:
            self.profile(f"wrk at the client, {path}", [b.pid, srv.proc.pid, srv.etcd_pid()],
                         lambda: wrk(targets["client"], a.seconds, a.http_conns),
                         pid_names=["the client", f"its server {srv.name}", f"{srv.name}'s etcd"])
        if target:
            print(f"client / server requests/s: {ratio:.2f}x (target >= {target}x: "
                  f"{'met' if ratio >= target else 'NOT met'})", flush=True)
        else:
            print(f"client / server requests/s: {ratio:.2f}x", flush=True)
        return {"best": {k: {x: v for x, v in best[k].items() if x != "cpu"} for k in best},
                "ratio": ratio, "forwards_to": forwards_to}

    def profile(self, what, pids, action=None, seconds=None, pid_names=None):
        """perf (flat, by symbol) of pids for seconds, while action runs (a wrk run, not counted
        in the tables)."""
        seconds = seconds or self.a.seconds
        data = os.path.join(self.work, f"perf-{len(os.listdir(self.work))}.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-o", data, "-p",
                                ",".join(map(str, pids)), "--", "sleep", str(seconds)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if action:
            action()
        rec.wait()

        def report(sort, limit):
            out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", sort,
                                  "--percent-limit", str(limit)], capture_output=True, text=True).stdout
            rows = []
            for ln in out.splitlines():
                if ln.strip() and not ln.startswith("#"):
                    ln = re.sub(r"(\s+-)+\s*$", "", ln.strip())  # empty columns perf appends
                    rows.append(re.sub(r"\s{2,}", "  ", ln))
            return rows
        names = {pid: name for pid, name in zip(pids, pid_names)} if pid_names else {}
        print(f"perf, {what}: by process and object"
              + (" (" + ", ".join(f"{p} = {n}" for p, n in names.items()) + ")" if names else ""))
        for ln in report("pid,dso", 1)[:14]:
            print("   " + ln)
        print("  symbols above 1.5% of the samples:")
        for ln in report("pid,dso,symbol", 1.5)[:30]:
            print("   " + ln)

    # -- 3. propagation --------------------------------------------------------------------------
    def propagation(self, a_client, b_client, flips, label):
        """flips x (fail, pass) of A's TTL check; B's DNS polled every 1 ms."""
        probe = DnsProbe(b_client.ip, DNS_PORT)
        node = a_client.name
        if not holds_node(probe.ask(), node):
            raise RuntimeError(f"{node} is not in {b_client.name}'s DNS answer before the flips")
        from_resp = {"fail": [], "pass": []}
        from_send = {"fail": [], "pass": []}
        put_ms = []
        misses = 0
        c0, b0, t0 = self.cpu_snapshot(), self.rpc_bytes(), time.monotonic()
        i0 = self.catalog_index()
        for _ in range(flips):
            for verb, want_present in (("fail", False), ("pass", True)):
                t_send = time.monotonic()
                st = a_client.put(f"/v1/agent/check/{verb}/{FLIP_CHECK}")
                t_resp = time.monotonic()
                if st != 200:
                    raise RuntimeError(f"PUT check/{verb} on {node}: {st}")
                put_ms.append((t_resp - t_send) * 1000)
                seen = poll_until(probe, node, want_present, t_resp + 10)
                if seen is None:
                    misses += 1
                    continue
                from_resp[verb].append(max(0.0, seen - t_resp) * 1000)
                from_send[verb].append((seen - t_send) * 1000)
                time.sleep(self.a.flip_gap)
        secs = time.monotonic() - t0
        cpu = self.cpu_diff(c0, self.cpu_snapshot())
        sent, recv = self.bytes_diff(b0, self.rpc_bytes())
        changes = self.catalog_index() - i0
        probe.close()
        both_r = from_resp["fail"] + from_resp["pass"]
        both_s = from_send["fail"] + from_send["pass"]
        print(f"\n## 3. Propagation ({label}): {flips} x (fail, pass) of {node}'s TTL check through its HTTP "
              f"API; {b_client.name}'s DNS polled every 1 ms until the answer shows it; "
              f"{self.a.flip_gap * 1000:.0f} ms between flips")
        print("| flip | n | from A's answer p50 ms | p99 ms | max ms | from before the PUT p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for verb, name in (("fail", "critical: instance leaves B's DNS"), ("pass", "passing: instance returns")):
            r, s = from_resp[verb], from_send[verb]
            print(f"| {name} | {len(r)} | {pct(r, .5):.2f} | {pct(r, .99):.2f} | {max(r, default=float('nan')):.2f} | "
                  f"{pct(s, .5):.2f} | {pct(s, .99):.2f} |")
        print(f"| both | {len(both_r)} | {pct(both_r, .5):.2f} | {pct(both_r, .99):.2f} | "
              f"{max(both_r, default=float('nan')):.2f} | {pct(both_s, .5):.2f} | {pct(both_s, .99):.2f} |")
        p99 = pct(both_r, .99)
        print(f"PUT on A answered in p50 {pct(put_ms, .5):.2f} ms; {misses} flips never seen within 10 s; "
              f"p99 {p99:.2f} ms (target < 100 ms: {'met' if p99 < 100 and not misses else 'NOT met'})",
              flush=True)
        return {"fail_from_resp": summary(from_resp["fail"]), "pass_from_resp": summary(from_resp["pass"]),
                "both_from_resp": summary(both_r), "both_from_send": summary(both_s),
                "misses": misses, "cpu": cpu, "bytes": (sent, recv), "secs": secs,
                "flips": 2 * flips - misses, "catalog_changes": changes}

    # -- 4. the datacenter -------------------------------------------------------------------------
    def steady(self, label, seconds):
        cpu, (sent, recv), changes, secs = self.window(seconds)
        n = len(self.clients)
        print(f"\n  steady state, {label} ({secs:.0f} s): etcd raft index advanced {changes} times")
        self.print_cpu(cpu, secs, "CPU")
        if n:
            print(f"  RPC bytes per client: {sent / secs / n:.1f} B/s server->client, "
                  f"{recv / secs / n:.1f} B/s client->server", flush=True)
        return {"cpu": cpu, "secs": secs, "sent": sent, "recv": recv, "changes": changes, "clients": n}

    def full_sync(self, base):
        """Every client killed (-9) and started again: each pushes its whole state and loads a
        whole snapshot of the catalog."""
        c0, b0, i0 = self.cpu_snapshot(), self.rpc_bytes(), self.catalog_index()
        for c in self.clients:
            c.proc.kill9()
        t0 = time.monotonic()
        for c in self.clients:
            c.start()
        self.wait_clients_ready(self.clients, 180)
        synced = time.monotonic() - t0
        # The servers' CPU counts in ticks (10 ms): measure over a window much longer than that,
        # and take the steady state's share of it away.
        time.sleep(max(0.0, t0 + self.a.fullsync_window - time.monotonic()))
        secs = time.monotonic() - t0
        cpu = self.cpu_diff(c0, self.cpu_snapshot())
        cpu["clients"] = sum(cpu_ns_seconds(c.pid) for c in self.clients)  # new processes: from zero
        sent, recv = self.bytes_diff(b0, self.rpc_bytes())
        n = len(self.clients)
        cairn, etcd = self.server_cpu(cpu)
        bc, be = self.server_cpu(base["cpu"])
        idle_c, idle_e = bc / base["secs"] * secs, be / base["secs"] * secs
        print(f"\n  full sync: {n} clients killed and restarted, all in sync with a current view after "
              f"{synced:.1f} s")
        self.print_cpu(cpu, secs, f"CPU in the {secs:.0f} s from the kill")
        print(f"  servers' CPU above steady state: {(cairn - idle_c) * 1000:.0f} ms cairn + "
              f"{(etcd - idle_e) * 1000:.0f} ms etcd = {(cairn + etcd - idle_c - idle_e) / n * 1000:.2f} ms "
              f"per client; RPC bytes per client: {sent / n:,.0f} server->client, {recv / n:,.0f} "
              "client->server", flush=True)
        return {"secs": secs, "synced": synced, "cpu": cpu, "sent": sent, "recv": recv, "clients": n,
                "changes": self.catalog_index() - i0,
                "extra_server_cpu": cairn + etcd - idle_c - idle_e,
                "extra_cairn": cairn - idle_c, "extra_etcd": etcd - idle_e}

    def flip_cost(self, prop, base):
        """Server CPU and bytes per flip above steady state, from a propagation run."""
        cairn, etcd = self.server_cpu(prop["cpu"])
        bc, be = self.server_cpu(base["cpu"])
        secs = prop["secs"]
        extra_c = cairn - bc / base["secs"] * secs
        extra_e = etcd - be / base["secs"] * secs
        idle_sent = base["sent"] / base["secs"] * secs
        n = max(prop["flips"], 1)
        return {"cairn_ms": extra_c / n * 1000, "etcd_ms": extra_e / n * 1000,
                "sent_bytes": (prop["bytes"][0] - idle_sent) / n,
                "recv_bytes": (prop["bytes"][1] - base["recv"] / base["secs"] * secs) / n}

    # -- 5. RSS --------------------------------------------------------------------------------------
    def rss(self):
        a = self.a
        c = Client(a.cairn, self.work, "rss", f"{CLIENT_NET}250", self.seed.ip, [])
        c.start()
        wait_until(lambda: ready_quiet(c), 60, "the RSS client in sync")
        idle = rss_kb(c.pid)
        conn = http.client.HTTPConnection(c.ip, HTTP_PORT, timeout=10)
        for i in range(a.rss_services):
            body = json.dumps({"Name": f"local-{i:03d}", "ID": f"local-{i:03d}", "Port": 10000 + i,
                               "Tags": ["a", "b"], "Meta": {"team": "bench"},
                               "Check": {"CheckID": f"local-{i:03d}-ttl", "TTL": "30m",
                                         "Status": "passing"}})
            conn.request("PUT", "/v1/agent/service/register", body=body)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"register local-{i:03d}: {r.status}")
        wait_until(lambda: ready_quiet(c), 60, "the RSS client's services pushed")
        with_services = rss_kb(c.pid)
        names = [f"app-{i:03d}" for i in range(min(20, len(self.clients)))]
        names += [f"shared-{i}" for i in range(20 - len(names))]
        probe_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe_sock.settimeout(2)
        answered = 0
        for rnd in range(5):
            for name in names:
                probe_sock.sendto(dns_query(f"{name}.service.consul"), (c.ip, DNS_PORT))
                r = probe_sock.recv(4096)
                answered += answer_count(r) > 0
                conn.request("GET", f"/v1/health/service/{name}?passing")
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or not json.loads(body):
                    raise RuntimeError(f"health of {name} at the RSS client: {resp.status} {body[:200]!r}")
        probe_sock.close()
        conn.close()
        looked_up = rss_kb(c.pid)
        parts = rss_parts(c.pid)
        by_file = rss_by_file(c.pid)
        light = sorted(rss_kb(x.pid) for x in self.clients)
        servers = [(s.name, rss_kb(s.proc.pid), rss_kb(s.etcd_pid())) for s in self.dc.servers]
        print(f"\n## 5. RSS (VmRSS), the datacenter of {len(self.clients)} clients ({len(self.clients) * 3} "
              "client services in the catalog)")
        print(f"client with {a.rss_services} local services (each with a TTL check) after {len(names)} "
              f"distinct services looked up 5x by DNS and HTTP health ({answered} DNS answers): "
              f"{looked_up / 1024:.1f} MiB (idle, no services: {idle / 1024:.1f} MiB; with the services: "
              f"{with_services / 1024:.1f} MiB) (target < 15 MB: "
              f"{'met' if looked_up * 1024 < 15e6 else 'NOT met'})")
        print(f"  of which RssAnon {parts['RssAnon'] / 1024:.1f} MiB, RssFile {parts['RssFile'] / 1024:.1f} MiB "
              f"(the binary and shared libraries), RssShmem {parts['RssShmem'] / 1024:.1f} MiB; "
              f"{parts['Threads']} threads")
        print("  largest resident mappings (MiB): "
              + ", ".join(f"{name} {kb / 1024:.1f}" for kb, name in by_file))
        print(f"lightweight clients (3 services): median {statistics.median(light) / 1024:.1f} MiB, "
              f"max {light[-1] / 1024:.1f} MiB")
        for name, cr, er in servers:
            print(f"server {name}: cairn {cr / 1024:.1f} MiB, its etcd {er / 1024:.1f} MiB")
        c.proc.stop()
        return {"idle_kb": idle, "services_kb": with_services, "looked_up_kb": looked_up, "parts": parts,
                "light_median_kb": statistics.median(light), "servers": servers}

    # -- the whole run ---------------------------------------------------------------------------
    def run(self):
        a = self.a
        t = time.monotonic()
        self.dc.start()
        print(f"servers up in {time.monotonic() - t:.1f} s: {[s.ip for s in self.dc.servers]} "
              f"(cairn leader {self.dc.cairn_leader().name}, etcd leader {self.dc.etcd_leader().name})",
              flush=True)
        print("\n## 4a. Servers alone")
        base0 = self.steady("no clients", a.steady)
        secs = self.add_clients(4)
        A, B = self.clients[0], self.clients[3]
        print(f"\n4 clients up and in sync after {secs:.1f} s; A = {A.name} (web + TTL check), "
              f"B = {B.name} (no web instance); web on {[c.name for c in self.clients[:3]]}", flush=True)
        self.results["dns"] = self.dns(B)
        self.results["health"] = self.health(B, "/v1/health/service/web?passing", 0.8)
        # The same without the linearizable read a default read costs the server (one etcd
        # ReadIndex): what the forwarding itself costs.
        self.results["health_stale"] = self.health(B, "/v1/health/service/web?passing&stale", None)
        base4 = self.steady("4 clients", a.steady)
        prop4 = self.propagation(A, B, a.flips, "4 clients")
        fsync4 = self.full_sync(base4)
        print(f"\n## 4b. The datacenter: {a.clients} clients")
        secs = self.add_clients(a.clients - len(self.clients))
        print(f"  {a.clients - 4} more clients started, all in sync with a current view after {secs:.1f} s",
              flush=True)
        time.sleep(3)
        baseN = self.steady(f"{a.clients} clients", a.steady_dc)
        if a.perf:
            self.profile(f"the servers' cairn in steady state with {a.clients} clients",
                         [s.proc.pid for s in self.dc.servers], seconds=a.steady_dc,
                         pid_names=[s.name for s in self.dc.servers])
        propN = self.propagation(A, B, a.flips, f"{a.clients} clients")
        fsyncN = self.full_sync(baseN)
        self.results.update({"base0": base0, "base4": base4, "baseN": baseN, "propagation_4": prop4,
                             "propagation_N": propN, "full_sync_4": fsync4, "full_sync_N": fsyncN})
        self.results["rss"] = self.rss()
        self.report_dc(base0, base4, baseN, prop4, propN, fsync4, fsyncN)

    def report_dc(self, base0, base4, baseN, prop4, propN, fs4, fsN):
        n = self.a.clients
        target = 5000

        def rate(b):
            c, e = self.server_cpu(b["cpu"])
            return c / b["secs"], e / b["secs"]

        def fit(x0, y0, x1, y1):
            """(intercept, slope) of the line through two points; a slope below zero (noise) is 0."""
            slope = max(0.0, (y1 - y0) / (x1 - x0))
            return y1 - slope * x1, slope
        c0, e0 = rate(base0)
        c4, e4 = rate(base4)
        cn, en = rate(baseN)
        sentN, recvN = baseN["sent"] / baseN["secs"] / n, baseN["recv"] / baseN["secs"] / n
        f4 = self.flip_cost(prop4, base4)
        fN = self.flip_cost(propN, baseN)
        print(f"\n## 4. Summary: {n} clients, 3 servers (each cairn + its etcd member); CPU from the "
              "scheduler (/proc/<pid>/task/*/schedstat), in % of one core")
        print("| clients | servers' cairn % | servers' etcd % | etcd raft entries/s | RPC B/s per client "
              "server->client | client->server |")
        print("|---:|---:|---:|---:|---:|---:|")
        for k, b, (c, e) in ((0, base0, (c0, e0)), (4, base4, (c4, e4)), (n, baseN, (cn, en))):
            per = (f"{b['sent'] / b['secs'] / k:.1f} | {b['recv'] / b['secs'] / k:.1f}" if k else "- | -")
            print(f"| {k} | {c * 100:.2f} | {e * 100:.2f} | {b['changes'] / b['secs']:.2f} | {per} |")
        print(f"\none flip (a check status change on one client: pushed, written once through etcd, "
              "streamed to the clients that hold its service, here B); server CPU above steady state per flip:")
        print("| clients | cairn ms | etcd ms | bytes to all clients | bytes from clients |")
        print("|---:|---:|---:|---:|---:|")
        for k, f in ((4, f4), (n, fN)):
            print(f"| {k} | {f['cairn_ms']:.3f} | {f['etcd_ms']:.3f} | {f['sent_bytes']:,.0f} | {f['recv_bytes']:,.0f} |")
        print("\nfull sync (every client killed -9 and started: pushes its whole state, loads a whole "
              "snapshot):")
        print("| clients | to all in sync s | server CPU above steady ms per client (cairn + etcd) | "
              "bytes to each client | bytes from each client |")
        print("|---:|---:|---:|---:|---:|")
        for k, f in ((4, fs4), (n, fsN)):
            print(f"| {k} | {f['synced']:.2f} | {f['extra_cairn'] / k * 1000:.2f} + {f['extra_etcd'] / k * 1000:.2f} | "
                  f"{f['sent'] / k:,.0f} | {f['recv'] / k:,.0f} |")

        print(f"\nExtrapolation to {target:,} clients (straight lines through the 4- and {n}-client "
              "figures; loopback, so no network cost; a slope below zero is noise and counts as 0):")
        sc0, sc1 = fit(4, c4, n, cn)
        # etcd's steady work is its heartbeats and the servers' own periodic writes: it grows with
        # the clients only if the writes do (raft entries/s), else its differences are noise.
        grows = baseN["changes"] / baseN["secs"] > base0["changes"] / base0["secs"] + 0.5
        if grows:
            se0, se1 = fit(4, e4, n, en)
        else:
            se0, se1 = (e0 + e4 + en) / 3, 0.0
        steady_t = sc0 + se0 + (sc1 + se1) * target
        print(f"  steady server CPU(N) = (cairn {sc0 * 100:.2f}% + etcd {se0 * 100:.2f}%) + N x "
              f"({sc1 * 1e6:.2f} + {se1 * 1e6:.2f}) us/s = {steady_t * 100:.1f}% of a core over the 3 servers"
              + ("" if grows else " (etcd: the mean of the three, its raft entries/s do not grow with N)"))
        steady_b = (sentN + recvN) * target
        print(f"  steady RPC traffic(N) = N x {sentN + recvN:.1f} B/s = {steady_b / 1e3:.0f} kB/s "
              "(per client it does not grow with N)")
        fc0, fc1 = fit(4, f4["cairn_ms"], n, fN["cairn_ms"])
        fe = (f4["etcd_ms"] + fN["etcd_ms"]) / 2
        per_flip_bytes = fN["sent_bytes"] / n
        flip_t = fe + fc0 + fc1 * target
        print(f"  one flip(N) = etcd {fe:.2f} ms (the write; no N in it) + cairn ({fc0:.3f} ms + N x "
              f"{fc1 * 1000:.2f} us) = {flip_t:.1f} ms of server CPU; bytes N x {per_flip_bytes:,.0f} B = "
              f"{per_flip_bytes * target / 1e6:.2f} MB streamed")
        flips_s = target / 3600
        print(f"  if each client flips one check per hour: {flips_s:.2f} flips/s x {flip_t:.1f} ms = "
              f"{flips_s * flip_t / 10:.1f}% of a core and {flips_s * per_flip_bytes * target / 1e6:.2f} MB/s "
              "streamed (flips/s grow with N; each reaches the clients that hold that service, at most N: "
              "N^2 when every client asks about every service)")
        # The snapshot grows with the catalog (bytes: a straight line through both runs). The
        # servers' CPU per client is too small at 4 clients to fit a line through: bound it. Low:
        # what one client cost at N; high: all of cairn's share grows with the snapshot's bytes.
        # etcd only sees the pushes, which change nothing after a restart.
        b0_, b1_ = fit(4, fs4["sent"] / 4, n, fsN["sent"] / n)
        per_b = b0_ + b1_ * target
        te = max(0.0, fsN["extra_etcd"] / n * 1000)
        tc = max(0.0, fsN["extra_cairn"] / n * 1000)
        low = te + tc
        high = te + tc * per_b / (fsN["sent"] / n)
        print(f"  full sync of every client: the snapshot each loads holds what the client asked about "
              f"and those services' nodes: {b0_:,.0f} B + N x "
              f"{b1_:,.1f} B = {per_b / 1e6:.2f} MB per client, N x that = {target * per_b / 1e9:.2f} GB in all (N^2); "
              f"server CPU per client between {low:.1f} ms (as at {n}) and etcd {te:.2f} + cairn {tc:.2f} ms x "
              f"{per_b / (fsN['sent'] / n):.0f} (its share growing with the bytes) = {high:.0f} ms: "
              f"{target * low / 1000:.0f}-{target * high / 1000:.0f} s of server CPU in all; raft entries "
              f"during the {n}-client full sync: {fsN['changes']}")
        per_t = high
        self.results["extrapolation"] = {"steady_cores": steady_t, "steady_bytes_s": steady_b,
                                         "flip_ms": flip_t, "flip_bytes": per_flip_bytes * target,
                                         "full_sync_cpu_s": target * per_t / 1000,
                                         "full_sync_bytes": target * per_b}


def ready_quiet(c):
    try:
        return c.ready()
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return False


def rss_parts(pid):
    """VmRSS split as the kernel counts it: RssAnon (heap, stacks), RssFile (the mapped binary
    and libraries), RssShmem; KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k = line.split(":", 1)[0]
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                out[k] = int(line.split()[1])
    return out


def rss_by_file(pid, top=8):
    """[(KiB, mapping)] of the largest resident mappings, summed by file ([anon] for the rest)."""
    sums = {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = os.path.basename(head[5]) if len(head) >= 6 else "[anon]"
            elif head and head[0] == "Rss:":
                sums[name] = sums.get(name, 0) + int(head[1])
    return sorted(((v, k) for k, v in sums.items()), reverse=True)[:top]


def summary(xs):
    return {"n": len(xs), "p50": pct(xs, .5), "p99": pct(xs, .99), "max": max(xs, default=float("nan"))}


def poll_until(probe, node, want_present, deadline):
    """Asks every 1 ms until the answer holds node (or no longer does); the time that
    answer arrived, or None at the deadline."""
    nxt = time.monotonic()
    while True:
        r = probe.ask()
        now = time.monotonic()
        if r is not None and holds_node(r, node) == want_present:
            return now
        if now > deadline:
            return None
        nxt += 0.001
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.monotonic()


def dnsperf_at(ip, port, qfile, seconds, rate=None, verbose=False):
    """bench_dns.dnsperf, for a server on any loopback address."""
    return dnsperf(port, qfile, seconds, rate=rate, verbose=verbose, host=ip)


def wrk(url, seconds, conns):
    """wrk -t1 keep-alive: (req/s, p50 ms, p99 ms, requests, wrk's own CPU seconds)."""
    t0 = os.times()
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    t1 = os.times()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))

    def ms(q):
        m = re.search(rf"{q}%\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk {url}: {errors.group(1)} non-2xx answers")
    return rps, ms(50), ms(99), n, (t1.children_user + t1.children_system) - (t0.children_user + t0.children_system)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", help="work directory (default: a new one under /tmp)")
    ap.add_argument("--responder", help="tests/bench/dns/fixed_responder, built: the DNS ceiling")
    ap.add_argument("--quick", action="store_true", help="smoke mode: 10 clients, a few seconds per figure")
    ap.add_argument("--no-fsync", action="store_true", help="--unsafe-no-fsync on the servers' etcd members")
    ap.add_argument("--clients", type=int)
    ap.add_argument("--seconds", type=int, help="per dnsperf / wrk run")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--flips", type=int, help="(fail, pass) pairs per propagation run")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--perf", action="store_true", help="perf profiles of the client's health reads")
    a = ap.parse_args()
    a.clients = a.clients or (10 if a.quick else 50)
    a.seconds = a.seconds or (2 if a.quick else 10)
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.flips = a.flips or (10 if a.quick else 100)
    a.steady = 5 if a.quick else 15
    a.steady_dc = 5 if a.quick else 30
    a.flip_gap = 0.05
    a.fullsync_window = 4 if a.quick else 15
    a.http_conns = 16
    a.rss_services = 100
    if a.perf and not shutil.which("perf"):
        sys.exit("--perf: perf is not installed (Debian linux-perf)")
    if a.clients < 5 or a.clients > 240:
        sys.exit("--clients: between 5 and 240 (one 127.0.6.x address each)")
    work = a.work or tempfile.mkdtemp(prefix="cairn-clientbench-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"load average before starting: {loadavg()}")
    print(f"mode: {'quick' if a.quick else 'full'}; {a.clients} clients; etcd members "
          f"{'with --unsafe-no-fsync' if a.no_fsync else 'with fsync'}; work dir {work}", flush=True)
    b = Bench(a, work)
    started = time.monotonic()
    try:
        b.run()
    finally:
        for c in b.clients:
            c.proc.kill9()
        b.dc.stop()
        if a.json:
            with open(a.json, "w") as f:
                json.dump(b.results, f, indent=1, default=str)
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"total {time.monotonic() - started:.0f} s; load average at the end: {loadavg()}")


if __name__ == "__main__":
    main()
