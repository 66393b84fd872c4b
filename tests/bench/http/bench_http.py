#!/usr/bin/env python3
"""Agent HTTP benchmarks against nginx in the same run. See run.sh."""
import argparse
import http.client as httpclient
import json
import os
import platform
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import free_port, rss_kb  # noqa: E402


def http(port, method, path, body=None):
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def start_agent(cairn, port, tmp):
    # 1,000 parked queries come from one address: raise Consul's 200-per-client limit.
    conf = os.path.join(tmp, "bench.yaml")
    with open(conf, "w") as f:
        f.write("limits:\n  http_max_conns_per_client: 5000\n")
    t0 = time.monotonic()
    p = subprocess.Popen([cairn, "agent", "-dev", "-node", "bench", "-http-port", str(port),
                          "-log-level", "warn", "-config-file", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.0005)
        if time.monotonic() - t0 > 10:
            raise RuntimeError("agent did not start")
    return p, (time.monotonic() - t0) * 1000


def wrk(url, seconds, conns):
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, p99


def start_nginx(tmp, port, files):
    root = os.path.join(tmp, "www")
    os.makedirs(root, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-e", f"{tmp}/nginx-error.log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("nginx did not start")


def parked_queries(port, n, pid, change):
    """Parks n blocking queries, fires one change, and times each wake with epoll
    (an asyncio client is itself slower than the agent at this)."""
    http(port, "PUT", "/v1/catalog/register", {
        "Node": "node-000", "Address": "10.0.0.1",
        "Service": {"ID": "parked-1", "Service": "parked", "Port": 1}})
    _, headers, _ = http(port, "GET", "/v1/health/service/parked")
    index = headers["X-Consul-Index"]
    before = rss_kb(pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET /v1/health/service/parked?index={index}&wait=5m HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.setblocking(False)
        socks.append(s)
    time.sleep(1.0)  # let the agent park all of them
    parked = rss_kb(pid)
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    t0 = time.monotonic()
    change()
    latencies, seen = [], set()
    deadline = time.monotonic() + 30
    while len(seen) < n and time.monotonic() < deadline:
        for fd, _ in ep.poll(1):
            if fd not in seen:
                seen.add(fd)
                latencies.append((time.monotonic() - t0) * 1000)
                ep.unregister(fd)
    for s in socks:
        s.close()
    latencies.sort()
    return before, parked, latencies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cairn-bench-")
    results = {}
    started = []
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
          f"{platform.platform()}")
    try:
        port = free_port()
        agent, start_ms = start_agent(args.cairn, port, tmp)
        started.append(agent)
        results["start_ms"] = start_ms
        # 100 instances of web on 100 nodes, each with a passing check.
        for i in range(100):
            st, _, body = http(port, "PUT", "/v1/catalog/register", {
                "Node": f"node-{i:03d}", "Address": f"10.0.{i // 250}.{i % 250 + 1}",
                "Service": {"ID": f"web-{i}", "Service": "web", "Tags": ["v1"], "Port": 8080},
                "Check": {"CheckID": f"web-{i}", "Name": "web", "Status": "passing",
                          "ServiceID": f"web-{i}"}})
            assert st == 200, body
        for i in range(1000):
            http(port, "PUT", "/v1/catalog/register", {
                "Node": f"svc-node-{i % 50}", "Address": "10.1.0.1",
                "Service": {"ID": f"svc-{i}", "Service": f"svc-{i:04d}", "Tags": ["a", "b"], "Port": i}})
        health_path = "/v1/health/service/web?passing"
        services_path = "/v1/catalog/services"
        files = {"health.json": http(port, "GET", health_path)[2],
                 "services.json": http(port, "GET", services_path)[2]}
        nport = free_port()
        nginx = start_nginx(tmp, nport, files)
        try:
            rows = []
            for label, cpath, nfile in (("health/service web?passing (100 instances)", health_path, "health.json"),
                                        ("catalog/services (1,000 services)", services_path, "services.json")):
                c_rps, c_p99 = wrk(f"http://127.0.0.1:{port}{cpath}", args.seconds, args.connections)
                n_rps, n_p99 = wrk(f"http://127.0.0.1:{nport}/{nfile}", args.seconds, args.connections)
                rows.append((label, len(files[nfile]), c_rps, c_p99, n_rps, n_p99))
        finally:
            nginx.terminate()
            nginx.wait()
        print(f"\nwrk -t1 -c{args.connections} -d{args.seconds}s, keep-alive; nginx: 1 worker, static file of the same bytes")
        print(f"{'endpoint':44} {'bytes':>7} {'cairn req/s':>12} {'p99 ms':>7} {'nginx req/s':>12} {'p99 ms':>7} {'ratio':>6}")
        for label, size, c_rps, c_p99, n_rps, n_p99 in rows:
            print(f"{label:44} {size:7d} {c_rps:12.0f} {c_p99:7.2f} {n_rps:12.0f} {n_p99:7.2f} {c_rps / n_rps:6.2f}x")

        # 1,000 parked blocking queries on one service, woken by one change.
        n = 1000
        before, parked, lat = (parked_queries(
            port, n, agent.pid,
            lambda: http(port, "PUT", "/v1/catalog/register", {
                "Node": "node-000", "Address": "10.0.0.1",
                "Service": {"ID": "parked-1", "Service": "parked", "Tags": ["v2"], "Port": 1}})))
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
        print(f"\n{n} parked blocking queries on /v1/health/service/parked (one instance), one change wakes them:")
        print(f"  wake latency p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms "
              f"(all {len(lat)} answered)")
        print(f"  memory per parked query: {(parked - before) * 1024 / n:.0f} bytes "
              f"(RSS {before} kB -> {parked} kB, includes the agent's socket buffers)")
        agent.terminate()
        agent.wait()

        # RSS with 1,000 local services and 2,000 checks.
        port = free_port()
        agent, start_ms2 = start_agent(args.cairn, port, tmp)
        started.append(agent)
        for i in range(1000):
            st, _, body = http(port, "PUT", "/v1/agent/service/register", {
                "ID": f"s{i}", "Name": f"service-{i:04d}", "Port": 1000 + i, "Tags": ["x"],
                "Checks": [{"TTL": "1h", "Status": "passing"}, {"TTL": "1h"}]})
            assert st == 200, body
        time.sleep(0.5)
        rss = rss_kb(agent.pid)
        agent.terminate()
        agent.wait()
        print(f"\nRSS of cairn agent -dev with 1,000 services and 2,000 checks: {rss / 1024:.1f} MB (target < 30 MB)")
        print(f"start to first answered request: {start_ms:.1f} ms and {start_ms2:.1f} ms (target < 100 ms)")
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
