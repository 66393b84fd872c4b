#!/usr/bin/env python3
"""DNS interface benchmark (issue 4), all servers in the same run:

  - cairn's DNS interface (`cairn agent -dev`, 200 services x 3 instances),
    with one loop and with dns_config.udp_loops = --loops (default: the CPUs),
  - dnsmasq serving the same records from srv-host/host-record lines,
  - the loopback ceiling: a minimal fixed-answer UDP responder.

dnsperf sends a query file of SRV and A lookups over the 200 services.
Measured: maximum queries/s (best of --rounds, alternating servers), then at
one fixed rate below saturation (half of dnsmasq's maximum) the server's CPU
time per answered query (user+sys from /proc) and the p99 latency (from
dnsperf -v). Prints a table and the ratios the issue sets targets for.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import cpu_seconds, free_port  # noqa: E402

def wait_udp(port, timeout=10):
    """Waits until something answers a DNS query on the port."""
    query = bytes.fromhex("beef01000001000000000000") + b"\x05probe\x00\x00\x01\x00\x01"
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            s.sendto(query, ("127.0.0.1", port))
            try:
                s.recv(512)
                return
            except socket.timeout:
                pass
    raise RuntimeError(f"nothing answers on udp/{port}")


def services(n, instances):
    """[(service, [(node, ip, port)])]: the records both servers hold."""
    out = []
    for i in range(n):
        insts = []
        for k in range(instances):
            idx = i * instances + k
            insts.append((f"svc-{i:03d}-{k}", f"10.{100 + idx // 65000}.{idx // 250 % 256}.{idx % 250 + 1}",
                          8000 + k))
        out.append((f"svc-{i:03d}", insts))
    return out


def start_cairn(binary, workdir, svcs, loops=1):
    """cairn agent -dev with the records; loops > 1 sets dns_config.udp_loops."""
    http_port, dns_port = free_port(), free_port()
    confdir = os.path.join(workdir, f"cairn-conf-{loops}")
    os.makedirs(confdir, exist_ok=True)
    with open(os.path.join(confdir, "dns.yaml"), "w") as f:
        f.write(f"dns_config:\n  udp_loops: {loops}\n")
    log = open(os.path.join(workdir, f"cairn-{loops}.log"), "wb")
    proc = subprocess.Popen([binary, "agent", "-dev", "-node", "bench", "-http-port", str(http_port),
                             "-dns-port", str(dns_port), "-serf-lan-port", str(free_port()),
                             "-serf-wan-port", str(free_port()), "-config-dir", confdir,
                             "-log-level", "warn"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 10
    conn = None
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
            conn.request("GET", "/v1/status/leader")
            conn.getresponse().read()
            break
        except OSError:
            conn = None
            time.sleep(0.05)
    if conn is None:
        raise RuntimeError("cairn did not start")
    for name, insts in svcs:
        for node, ip, port in insts:
            body = json.dumps({"Node": node, "Address": ip,
                               "Service": {"Service": name, "ID": name, "Port": port}})
            conn.request("PUT", "/v1/catalog/register", body=body)
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
    wait_udp(dns_port)
    return proc, dns_port


def start_dnsmasq(workdir, svcs):
    port = free_port()
    conf = os.path.join(workdir, "dnsmasq.conf")
    with open(conf, "w") as f:
        f.write("no-resolv\nno-hosts\nlocal=/consul/\nbind-interfaces\nlisten-address=127.0.0.1\n")
        f.write("cache-size=10000\n")
        for name, insts in svcs:
            for node, ip, port_ in insts:
                target = f"{node}.node.dc1.consul"
                f.write(f"srv-host=_{name}._tcp.service.consul,{target},{port_},1,1\n")
                f.write(f"host-record={target},{ip}\n")
                f.write(f"host-record={name}.service.consul,{ip}\n")
    proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", f"--port={port}",
                             "--user=" + os.environ.get("USER", "root"), "--pid-file="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    wait_udp(port)
    return proc, port


def start_responder(binary):
    port = free_port()
    proc = subprocess.Popen([binary, str(port)], start_new_session=True)
    wait_udp(port)
    return proc, port


def dnsperf(port, qfile, seconds, rate=None, verbose=False, clients=1, host="127.0.0.1"):
    cmd = ["dnsperf", "-s", host, "-p", str(port), "-d", qfile, "-l", str(seconds), "-q", "200",
           "-c", str(clients)]
    if rate:
        cmd += ["-Q", str(rate)]
    if verbose:
        cmd.append("-v")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    lat = [float(m.group(1)) for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)] if verbose else []
    return qps, completed, lost, lat


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--responder", required=True)
    ap.add_argument("--before", default="",
                    help="a second cairn binary (e.g. main's) measured in the same run")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--loops", type=int, default=os.cpu_count(),
                    help="dns_config.udp_loops of the second cairn (default: the CPUs)")
    args = ap.parse_args()
    if not shutil.which("dnsperf") or not shutil.which("dnsmasq"):
        sys.exit("dnsperf and dnsmasq are needed (packaging/install-deps.sh test)")

    workdir = tempfile.mkdtemp(prefix="cairn-dns-bench-")
    svcs = services(args.services, args.instances)
    qfile = os.path.join(workdir, "queries.txt")
    with open(qfile, "w") as f:
        for name, _ in svcs:
            f.write(f"_{name}._tcp.service.consul SRV\n{name}.service.consul A\n")

    procs = []
    try:
        servers = {}
        p, port = start_responder(args.responder)
        procs.append(p)
        servers["ceiling"] = (p, port)
        p, port = start_dnsmasq(workdir, svcs)
        procs.append(p)
        servers["dnsmasq"] = (p, port)
        p, port = start_cairn(args.cairn, workdir, svcs)
        procs.append(p)
        servers["cairn"] = (p, port)
        cairns = ["cairn"]
        if args.before:
            p, port = start_cairn(args.before, workdir, svcs)
            procs.append(p)
            servers["before"] = (p, port)
            cairns.append("before")
        multi = f"cairn x{args.loops}"
        if args.loops > 1:
            p, port = start_cairn(args.cairn, workdir, svcs, loops=args.loops)
            procs.append(p)
            servers[multi] = (p, port)

        print(f"{args.services} services x {args.instances} instances; query file: "
              f"{2 * args.services} names, SRV and A; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)

        best = {k: 0.0 for k in servers}
        for rnd in range(args.rounds):
            for name, (_, port) in servers.items():
                if name == multi:
                    continue
                qps, _, lost, _ = dnsperf(port, qfile, args.seconds)
                best[name] = max(best[name], qps)
                print(f"  round {rnd + 1} {name:8s} {qps:10.0f} q/s  (lost {lost})", flush=True)

        rate = int(best["dnsmasq"] * 0.5)
        fixed = {}
        for name in ["dnsmasq", *cairns, "ceiling"]:
            proc, port = servers[name]
            before = cpu_seconds(proc.pid)
            qps, completed, lost, lat = dnsperf(port, qfile, args.seconds, rate=rate, verbose=True)
            cpu = cpu_seconds(proc.pid) - before
            fixed[name] = (cpu / max(completed, 1) * 1e6, percentile(lat, 0.99) * 1e3,
                           percentile(lat, 0.5) * 1e3, lost)

        print()
        print(f"| server | max queries/s | at {rate} q/s: CPU us/query | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for name in ["ceiling", "dnsmasq", *cairns]:
            cpu_us, p99_ms, p50_ms, lost = fixed[name]
            print(f"| {name} | {best[name]:.0f} | {cpu_us:.2f} | {p50_ms:.3f} | {p99_ms:.3f} |")
        print()
        for name in cairns:
            label = "cairn" if name == "cairn" else "cairn before"
            ratio = best[name] / best["dnsmasq"]
            cpu_ratio = fixed[name][0] / fixed["dnsmasq"][0] if fixed["dnsmasq"][0] else float("nan")
            print(f"{label} / dnsmasq queries/s:  {ratio:.2f}x   (target >= 1.5x)")
            print(f"{label} / ceiling queries/s:  {best[name] / best['ceiling']:.2f}x")
            print(f"{label} / dnsmasq CPU per query: {cpu_ratio:.2f}x   (target <= 0.67x)")
            print(f"{label} p99 at {rate} q/s: {fixed[name][1]:.3f} ms   (target < 1 ms; the "
                  f"ceiling's own p99 is {fixed['ceiling'][1]:.3f} ms on this machine)")
        print(f"dnsmasq / ceiling queries/s: {best['dnsmasq'] / best['ceiling']:.2f}x")
        if args.before:
            print(f"cairn / cairn before queries/s: {best['cairn'] / best['before']:.2f}x, "
                  f"CPU per query: {fixed['cairn'][0] / fixed['before'][0]:.2f}x")
        if multi in servers:
            # Eight client sockets: SO_REUSEPORT spreads clients by address and
            # port, so dnsperf's usual single socket would land on one loop.
            scaled = {"cairn": 0.0, multi: 0.0}
            print(f"\nLoops, dnsperf -c 8 (udp_loops {args.loops} against 1):")
            for rnd in range(args.rounds):
                for name in scaled:
                    qps, _, lost, _ = dnsperf(servers[name][1], qfile, args.seconds, clients=8)
                    scaled[name] = max(scaled[name], qps)
                    print(f"  round {rnd + 1} {name:8s} {qps:10.0f} q/s  (lost {lost})", flush=True)
            print(f"{multi} / cairn queries/s: {scaled[multi] / scaled['cairn']:.2f}x   "
                  f"(on {os.cpu_count()} CPUs that dnsperf shares)")
        print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
