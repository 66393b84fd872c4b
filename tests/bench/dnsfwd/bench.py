#!/usr/bin/env python3
"""cairn-dnsfwd against dnsmasq and unbound, beside the loopback ceiling.

Run through run.sh (one command). Everything is on 127.0.0.1. The server
under test (and the ceiling) is pinned to CPU 0; dnsperf and the upstream
responders to CPU 1, as in /work/shared/reference/dns-forwarder.md §4.

Measured, each as the median of REPEATS runs of DURATION seconds:
  hits      1000 names (3 A : 1 SRV) answered from cache:
              - qps at saturation (dnsperf -c 4 -q 100), paired with a ceiling run
              - CPU time per answered query at a fixed rate below saturation
              - qps over TCP (4 connections)
  misses    unique names, upstream answering at once, with 1,000 and 100,000
            names cached first; the upstream's own counter checks that every
            miss reached it; RSS of cairn-dnsfwd with 100,000 names cached
  consul    *.service.consul through each forwarder to an agent stand-in
            answering with TTL 0: added latency (p50, p99) at 2000 qps against
            asking the stand-in directly (forwarder on CPU 1 with dnsperf and
            the stand-in for this one), and qps at saturation
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import cpu_seconds, free_port, rss_kb  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SERVER_CPU, LOAD_CPU = "0", "1"
HIT_NAMES = 1000
FIXED_RATE = 20000  # below every server's saturation on this machine class


def pinned(cpu, args):
    if os.cpu_count() and os.cpu_count() >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", cpu] + [str(a) for a in args]
    return [str(a) for a in args]


def query_once(port, name, rdtype="A", timeout=0.5):
    """A tiny stub (no dnspython needed): returns (rcode, raw answer) or None."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    types = {"A": 1, "TXT": 16, "SRV": 33}
    wire = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + qname + types[rdtype].to_bytes(2, "big") + b"\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(wire, ("127.0.0.1", port))
            data = s.recv(4096)
        except OSError:
            return None
    return data[3] & 0xF, data


def wait_answer(port, name="www.example.com", what="server"):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if query_once(port, name):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} on port {port} does not answer")


def upstream_count(port):
    r = query_once(port, "count.bench", "TXT")
    data = r[1]
    # The TXT string is the last bytes: length byte then digits.
    m = re.search(rb"(\d+)$", data)
    return int(m.group(1))


class Proc:
    def __init__(self, args, log):
        self.log = open(log, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def dnsperf(port, qfile, duration, qps=None, tcp=False, verbose=False, runs=None):
    args = ["dnsperf", "-s", "127.0.0.1", "-p", port, "-d", qfile, "-c", "4", "-q", "100",
            "-T", "1", "-t", "2"]
    if runs:
        args += ["-n", str(runs)]
    else:
        args += ["-l", str(duration)]
    if qps:
        args += ["-Q", str(qps)]
    if tcp:
        args += ["-m", "tcp"]
    if verbose:
        args += ["-v"]
    out = subprocess.run(pinned(LOAD_CPU, args), capture_output=True, text=True).stdout
    res = {"qps": 0.0, "completed": 0, "lost": 0, "latencies": []}
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    if m:
        res["qps"] = float(m.group(1))
    m = re.search(r"Queries completed:\s+(\d+)", out)
    if m:
        res["completed"] = int(m.group(1))
    m = re.search(r"Queries lost:\s+(\d+)", out)
    if m:
        res["lost"] = int(m.group(1))
    if verbose:
        res["latencies"] = [float(x) for x in re.findall(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)]
    return res


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="dnsfwd-bench-"))
        self.procs = []
        self.results = {}
        self.responder = self.tmp / "responder"
        subprocess.run(["cc", "-O2", "-o", self.responder, HERE / "responder.c"], check=True)
        self.fwd_bin = pathlib.Path(args.build) / "dnsfwd" / "cairn-dnsfwd"
        # "before": a second cairn-dnsfwd (e.g. main's), measured in the same run.
        self.before_bin = pathlib.Path(args.before_build) / "dnsfwd" / "cairn-dnsfwd" if args.before_build else None
        self.ports = {k: free_port() for k in ("ceiling", "upstream", "agent", "cairn", "before", "dnsmasq",
                                               "unbound", "metrics", "before_metrics")}
        self.files = {}
        self.write_query_files()

    # -- query files

    def write_names(self, name, lines):
        path = self.tmp / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def mix(self, fmt, n):
        return [f"{fmt.format(i)} {'SRV' if i % 4 == 3 else 'A'}" for i in range(n)]

    def write_query_files(self):
        self.files["hits"] = self.write_names("hits.txt", self.mix("h{}.example.com", HIT_NAMES))
        # 1000 distinct names: with 100 queries outstanding none is in flight
        # twice, so this measures forwarding, not coalescing.
        self.files["consul"] = self.write_names(
            "consul.txt", [f"web{i}.service.consul {'SRV' if i % 4 == 3 else 'A'}" for i in range(1000)])
        self.files["prefill"] = self.write_names("prefill.txt", self.mix("p{}.example.com", 100000))
        self.miss_serial = 0

    def miss_file(self, count=300000):
        self.miss_serial += 1
        return self.write_names(f"miss{self.miss_serial}.txt",
                                self.mix(f"m{self.miss_serial}-{{}}.example.com", count))

    # -- servers

    def start(self, name, args, cpu):
        p = Proc(pinned(cpu, args), self.tmp / f"{name}.log")
        self.procs.append(p)
        return p

    def start_responders(self):
        self.ceiling = self.start("ceiling", [self.responder, self.ports["ceiling"], 3600], SERVER_CPU)
        self.upstream = self.start("upstream", [self.responder, self.ports["upstream"], 3600], LOAD_CPU)
        self.agent = self.start("agent", [self.responder, self.ports["agent"], 0], LOAD_CPU)
        for k in ("ceiling", "upstream", "agent"):
            wait_answer(self.ports[k], what=k)

    def start_server(self, kind, cpu=SERVER_CPU):
        p = self.ports[kind]
        up, agent = self.ports["upstream"], self.ports["agent"]
        if kind in ("cairn", "before"):
            conf = self.tmp / f"dnsfwd-{kind}.yaml"
            metrics = self.ports["metrics" if kind == "cairn" else "before_metrics"]
            conf.write_text(json.dumps({
                "listen": [f"127.0.0.1:{p}"], "metrics_addr": f"127.0.0.1:{metrics}",
                "log_level": "warn",
                "upstreams": {"servers": [f"127.0.0.1:{up}"]},
                "routes": [{"domains": ["consul"], "servers": [f"127.0.0.1:{agent}"], "agent": True}],
                "cache": {"max_entries": 250000, "max_bytes": "128MiB"},
            }))
            binary = self.fwd_bin if kind == "cairn" else self.before_bin
            proc = self.start(kind, [binary, "-config", conf], cpu)
        elif kind == "dnsmasq":
            conf = self.tmp / "dnsmasq.conf"
            conf.write_text("\n".join([
                f"port={p}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts",
                f"server=127.0.0.1#{up}", f"server=/consul/127.0.0.1#{agent}",
                "cache-size=10000", "log-facility=-"]) + "\n")
            proc = self.start(kind, ["/usr/sbin/dnsmasq", "-k", "-C", conf, "--pid-file="], cpu)
        else:
            conf = self.tmp / "unbound.conf"
            conf.write_text(f"""server:
  interface: 127.0.0.1@{p}
  port: {p}
  num-threads: 1
  do-daemonize: no
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{self.tmp}"
  pidfile: "{self.tmp}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  msg-cache-size: 64m
  rrset-cache-size: 128m
  domain-insecure: "consul"
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{up}
stub-zone:
  name: "consul"
  stub-addr: 127.0.0.1@{agent}
remote-control:
  control-enable: no
""")
            proc = self.start(kind, ["/usr/sbin/unbound", "-d", "-c", conf], cpu)
        wait_answer(p, what=kind)
        return proc

    def stop(self, proc):
        proc.stop()
        self.procs.remove(proc)

    def close(self):
        for p in list(self.procs):
            p.stop()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- measurements

    def record(self, key, value):
        self.results.setdefault(key, []).append(value)

    def run_hits(self, kinds, dur):
        for kind in kinds:
            proc = self.start_server(kind)
            port = self.ports[kind]
            dnsperf(port, self.files["hits"], dur, runs=1)  # warm
            before = upstream_count(self.ports["upstream"])
            for rep in range(self.args.repeats):
                c = dnsperf(self.ports["ceiling"], self.files["hits"], dur)
                s = dnsperf(port, self.files["hits"], dur)
                self.record(f"hit_qps/{kind}", s["qps"])
                self.record(f"hit_qps/ceiling", c["qps"])
                self.record(f"hit_ratio/{kind}", s["qps"] / c["qps"] if c["qps"] else 0)
                cpu0 = cpu_seconds(proc.pid)
                f = dnsperf(port, self.files["hits"], dur, qps=FIXED_RATE)
                cpu1 = cpu_seconds(proc.pid)
                self.record(f"hit_cpu_us/{kind}", (cpu1 - cpu0) / max(1, f["completed"]) * 1e6)
                t = dnsperf(port, self.files["hits"], dur, tcp=True)
                self.record(f"tcp_hit_qps/{kind}", t["qps"])
                self.record(f"tcp_hit_ratio/{kind}", t["qps"] / c["qps"] if c["qps"] else 0)
            leaked = upstream_count(self.ports["upstream"]) - before
            self.record(f"hit_upstream_queries/{kind}", leaked)
            self.stop(proc)

    def run_misses(self, kinds, dur):
        for fill in (1000, 100000):
            for kind in kinds:
                for rep in range(self.args.repeats):
                    proc = self.start_server(kind)
                    port = self.ports[kind]
                    n = fill if kind != "dnsmasq" else min(fill, 12000)  # its cache holds 10000
                    pre = self.write_names("prefill-now.txt",
                                           self.files["prefill"].read_text().splitlines()[:n])
                    dnsperf(port, pre, dur, runs=1)
                    if kind in ("cairn", "before") and fill == 100000:
                        self.record(f"rss_kib_100k/{kind}", rss_kb(proc.pid))
                    c = dnsperf(self.ports["ceiling"], self.files["hits"], dur)
                    before = upstream_count(self.ports["upstream"])
                    s = dnsperf(port, self.miss_file(), dur)
                    reached = upstream_count(self.ports["upstream"]) - before
                    self.record(f"miss_qps_{fill}/{kind}", s["qps"])
                    self.record(f"miss_ratio_{fill}/{kind}", s["qps"] / c["qps"] if c["qps"] else 0)
                    self.record(f"miss_upstream_per_query_{fill}/{kind}",
                                reached / max(1, s["completed"]))
                    self.stop(proc)

    def run_consul(self, kinds, dur):
        agent = self.ports["agent"]
        for rep in range(self.args.repeats):
            d = dnsperf(agent, self.files["consul"], dur, qps=2000, verbose=True)
            self.record("consul_p50_ms/direct", pct(d["latencies"], 50) * 1000)
            self.record("consul_p99_ms/direct", pct(d["latencies"], 99) * 1000)
        for kind in kinds:
            # Latency with the forwarder on the same CPU as dnsperf and the
            # stand-in, like the direct path: on a busy machine a hop to the
            # other CPU costs a scheduling slice, which would swamp what the
            # forwarder itself adds.
            proc = self.start_server(kind, LOAD_CPU)
            port = self.ports[kind]
            for rep in range(self.args.repeats):
                v = dnsperf(port, self.files["consul"], dur, qps=2000, verbose=True)
                self.record(f"consul_p50_ms/{kind}", pct(v["latencies"], 50) * 1000)
                self.record(f"consul_p99_ms/{kind}", pct(v["latencies"], 99) * 1000)
            self.stop(proc)
            proc = self.start_server(kind)
            for rep in range(self.args.repeats):
                c = dnsperf(self.ports["ceiling"], self.files["hits"], dur)
                before = upstream_count(agent)
                s = dnsperf(port, self.files["consul"], dur)
                self.record(f"consul_qps/{kind}", s["qps"])
                self.record(f"consul_ratio/{kind}", s["qps"] / c["qps"] if c["qps"] else 0)
                self.record(f"consul_agent_per_query/{kind}",
                            (upstream_count(agent) - before) / max(1, s["completed"]))
            self.stop(proc)

    def summary(self):
        med = {k: statistics.median(v) for k, v in self.results.items()}
        rng = {k: (min(v), max(v)) for k, v in self.results.items()}
        kinds = ["cairn", "dnsmasq", "unbound"]
        if self.before_bin:
            kinds.insert(1, "before")

        def row(label, key, fmt="{:.0f}", ratio=False):
            cells = []
            for k in ["ceiling"] + kinds:
                full = f"{key}/{k}"
                if full in med:
                    lo, hi = rng[full]
                    cells.append(fmt.format(med[full]) + (f" ({fmt.format(lo)}-{fmt.format(hi)})" if ratio else ""))
                else:
                    cells.append("")
            return f"| {label} | " + " | ".join(cells) + " |"

        names = {"cairn": "cairn-dnsfwd", "before": "cairn-dnsfwd before", "dnsmasq": "dnsmasq 2.90",
                 "unbound": "unbound 1.17"}
        lines = ["| measure | ceiling | " + " | ".join(names[k] for k in kinds) + " |",
                 "|---|" + "---|" * (len(kinds) + 1)]
        lines.append(row("cache hit qps (UDP, saturation)", "hit_qps"))
        lines.append(row("cache hit x ceiling, paired", "hit_ratio", "{:.2f}", True))
        lines.append(row("CPU µs per hit at 20k qps", "hit_cpu_us", "{:.1f}"))
        lines.append(row("cache hit qps over TCP (4 conns)", "tcp_hit_qps"))
        lines.append(row("TCP hit x UDP ceiling", "tcp_hit_ratio", "{:.2f}", True))
        lines.append(row("upstream queries during hit runs", "hit_upstream_queries"))
        for fill in (1000, 100000):
            lines.append(row(f"miss qps, {fill} names cached", f"miss_qps_{fill}"))
            lines.append(row(f"miss x ceiling, {fill} cached", f"miss_ratio_{fill}", "{:.3f}", True))
            lines.append(row(f"upstream queries per miss, {fill} cached", f"miss_upstream_per_query_{fill}", "{:.3f}"))
        lines.append(row(".consul (agent TTL 0) qps", "consul_qps"))
        lines.append(row(".consul x ceiling", "consul_ratio", "{:.3f}", True))
        lines.append(row("agent queries per .consul query", "consul_agent_per_query", "{:.3f}"))
        out = "\n".join(lines)
        d50, d99 = med.get("consul_p50_ms/direct", 0), med.get("consul_p99_ms/direct", 0)
        lat = [f"Latency of *.service.consul at 2000 qps (agent stand-in asked directly: p50 {d50:.3f} ms, p99 {d99:.3f} ms):"]
        for k in kinds:
            if f"consul_p50_ms/{k}" in med:
                p50, p99 = med[f"consul_p50_ms/{k}"], med[f"consul_p99_ms/{k}"]
                lat.append(f"  {k:8s} p50 {p50:.3f} ms (+{p50 - d50:.3f}), p99 {p99:.3f} ms (+{p99 - d99:.3f})")
        ratios = []

        def ratio(label, a, b, want, higher_better=True):
            if a in med and b in med and med[b]:
                r = med[a] / med[b]
                ok = r >= want if higher_better else r <= want
                ratios.append(f"  {label}: {r:.2f}x (target {'>=' if higher_better else '<='} {want}) {'ok' if ok else 'MISSED'}")
        for who in [k for k in ("cairn", "before") if k in kinds]:
            label = "cairn" if who == "cairn" else "cairn before"
            if who == "before":
                ratios.append("")
            ratio(f"hit CPU per query, {label} / dnsmasq", f"hit_cpu_us/{who}", "hit_cpu_us/dnsmasq", 0.67, False)
            ratio(f"hit CPU per query, {label} / unbound", f"hit_cpu_us/{who}", "hit_cpu_us/unbound", 1.0, False)
            if f"hit_ratio/{who}" in med:  # paired with a ceiling run seconds earlier
                r = med[f"hit_ratio/{who}"]
                ratios.append(f"  hit qps at saturation, {label} / ceiling (paired): {r:.2f}x (target >= 0.95) "
                              f"{'ok' if r >= 0.95 else 'MISSED'}")
            for fill in (1000, 100000):
                ratio(f"miss qps ({fill} cached), {label} / dnsmasq", f"miss_qps_{fill}/{who}", f"miss_qps_{fill}/dnsmasq", 3.0)
                ratio(f"miss qps ({fill} cached), {label} / unbound", f"miss_qps_{fill}/{who}", f"miss_qps_{fill}/unbound", 1.0)
            ratio(f".consul qps, {label} / ceiling", f"consul_qps/{who}", "hit_qps/ceiling", 0.30)
            ratio(f"TCP hits, {label} / UDP ceiling", f"tcp_hit_qps/{who}", "hit_qps/ceiling", 0.4)
        rss = med.get("rss_kib_100k/cairn")
        extra = [f"cairn-dnsfwd RSS with 100,000 names cached: {rss / 1024:.1f} MiB (target < 32 MiB)"] if rss else []
        if med.get("rss_kib_100k/before"):
            extra.append(f"cairn-dnsfwd before, the same: {med['rss_kib_100k/before'] / 1024:.1f} MiB")
        return "\n".join([out, ""] + lat + ["", "Ratios (medians):"] + ratios + [""] + extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--before-build", default=os.environ.get("BEFORE_BUILD", ""),
                    help="a build dir with another dnsfwd/cairn-dnsfwd (e.g. main's), measured in the same run")
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("REPEATS", 3)))
    ap.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 3)))
    ap.add_argument("--only", default="hits,misses,consul")
    ap.add_argument("--servers", default="cairn,dnsmasq,unbound")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, configs)")
    ap.add_argument("--json", default="", help="write raw results here")
    args = ap.parse_args()
    for tool in ("dnsperf", "/usr/sbin/dnsmasq", "/usr/sbin/unbound", "cc"):
        if not shutil.which(tool):
            sys.exit(f"missing {tool}: run packaging/install-deps.sh test")
    b = Bench(args)
    kinds = args.servers.split(",")
    if args.before_build and "before" not in kinds:
        kinds.insert(1, "before")
    try:
        b.start_responders()
        dur = args.duration
        if "hits" in args.only:
            b.run_hits(kinds, dur)
        if "misses" in args.only:
            b.run_misses(kinds, dur)
        if "consul" in args.only:
            b.run_consul(kinds, dur)
    finally:
        b.close()
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(b.results, indent=1))
    print(b.summary())


if __name__ == "__main__":
    main()
