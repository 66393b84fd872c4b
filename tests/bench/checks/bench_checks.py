#!/usr/bin/env python3
"""10,000 HTTP checks at 10 s and 1,000 TCP checks at 1 s on one agent. See run.sh."""
import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import cpu_seconds, free_port, rss_kb  # noqa: E402

def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return json.loads(r.read())


def start_nginx(tmp, port):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /health {{ default_type text/plain; return 200 "ok"; }}
    location = /nginx_status {{ stub_status; }}
  }}
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


def nginx_counts(port):
    """(accepted connections, requests) from stub_status, minus this request itself."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/nginx_status", timeout=10) as r:
        text = r.read().decode()
    accepts, handled, requests = map(int, re.search(r"\n\s*(\d+)\s+(\d+)\s+(\d+)", text).groups())
    return accepts, requests


def write_services(path, nginx_port, n_http, n_tcp, http_interval, tcp_interval):
    # One service per TCP check; HTTP checks spread over the same services.
    n_services = max(n_tcp, 1)
    services = [{"name": f"svc-{i}", "port": nginx_port, "checks": []} for i in range(n_services)]
    for i in range(n_http):
        services[i % n_services]["checks"].append(
            {"http": f"http://127.0.0.1:{nginx_port}/health", "interval": http_interval})
    for i in range(n_tcp):
        services[i]["checks"].append({"tcp": f"127.0.0.1:{nginx_port}", "interval": tcp_interval})
    with open(path, "w") as f:
        json.dump({"services": services}, f)


def start_target(tmp):
    """nginx on a free port, a free port for the agent and an empty services dir."""
    nport, aport = free_port(), free_port()
    nginx = start_nginx(tmp, nport)
    conf_dir = os.path.join(tmp, "services.d")
    os.makedirs(conf_dir)
    return nginx, nport, aport, conf_dir


def start_agent(cairn, node, http_port, conf_dir):
    """`cairn agent -dev` loading the services files in conf_dir."""
    return subprocess.Popen([cairn, "agent", "-dev", "-node", node, "-http-port", str(http_port),
                             "-log-level", "warn", "-config-dir", conf_dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--http", type=int, default=10000)
    ap.add_argument("--tcp", type=int, default=1000)
    ap.add_argument("--http-interval", default="10s")
    ap.add_argument("--tcp-interval", default="1s")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        nginx, nport, aport, conf_dir = start_target(tmp)
        write_services(os.path.join(conf_dir, "bench.json"), nport, args.http, args.tcp,
                       args.http_interval, args.tcp_interval)
        agent = None
        try:
            t0 = time.monotonic()
            agent = start_agent(args.cairn, "bench", aport, conf_dir)
            total = args.http + args.tcp
            # The API answers once every definition is loaded; then wait for
            # the critical list to empty (all 11,000 start critical), asking
            # rarely: rendering thousands of checks is work the agent would
            # not do without the benchmark.
            pending = total
            while True:
                try:
                    pending = len(get_json(aport, "/v1/health/state/critical"))
                except OSError:
                    pass
                if pending == 0:
                    break
                if agent.poll() is not None:
                    raise RuntimeError("agent exited")
                if time.monotonic() - t0 > 120:
                    raise RuntimeError(f"{pending} of {total} checks not passing after 120 s")
                time.sleep(2)
            warm = time.monotonic() - t0
            print(f"{total} checks loaded and passing {warm:.1f} s after start")

            pid = agent.pid
            a0, r0 = nginx_counts(nport)
            c0 = cpu_seconds(pid)
            w0 = time.monotonic()
            rss = []
            while time.monotonic() - w0 < args.seconds:
                time.sleep(1)
                rss.append(rss_kb(pid))
            wall = time.monotonic() - w0
            cpu = cpu_seconds(pid) - c0
            a1, r1 = nginx_counts(nport)
            http_runs = r1 - r0 - 1          # minus one stub_status request
            tcp_runs = (a1 - a0 - 1) - http_runs
            still = total - len(get_json(aport, "/v1/health/state/critical"))

            floor_http = float(subprocess.check_output([args.floor, "http", str(nport), "20000"]))
            floor_tcp = float(subprocess.check_output([args.floor, "tcp", str(nport), "20000"]))
            expected_http = args.http * wall / 10 if args.http_interval == "10s" else None

            runs = http_runs + tcp_runs
            per_run_us = cpu / runs * 1e6 if runs else 0
            floor_mix = (http_runs * floor_http + tcp_runs * floor_tcp) / runs if runs else 0
            print(f"\nmachine: {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores; nginx-light 1 worker, access_log off")
            print(f"window: {wall:.0f} s; checks passing at the end: {still}/{total}")
            print(f"{'':34} {'value':>12}")
            print(f"{'HTTP check runs/s':34} {http_runs / wall:12.0f}"
                  + (f"   (nominal {expected_http / wall:.0f})" if expected_http else ""))
            print(f"{'TCP check runs/s':34} {tcp_runs / wall:12.0f}   (nominal {args.tcp})")
            print(f"{'agent CPU, % of one core':34} {cpu / wall * 100:12.2f}   (target < 5)")
            print(f"{'agent RSS, MB (mean / max)':34} {sum(rss) / len(rss) / 1024:8.1f} / "
                  f"{max(rss) / 1024:.1f}   (target < 50)")
            print(f"{'agent CPU per check run, us':34} {per_run_us:12.1f}")
            print(f"{'C client: HTTP request, us CPU':34} {floor_http:12.1f}")
            print(f"{'C client: TCP connect, us CPU':34} {floor_tcp:12.1f}")
            print(f"{'C client, same mix, us per run':34} {floor_mix:12.1f}   "
                  f"(agent/floor {per_run_us / floor_mix if floor_mix else 0:.2f}x)")
        finally:
            if agent:
                agent.terminate()
                agent.wait()
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    sys.exit(main())
