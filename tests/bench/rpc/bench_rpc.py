#!/usr/bin/env python3
"""Unary RPC calls/s and p99 over one HTTP/2 connection: cairn's rpc::Server
against nginx's HTTP/2, both driven by h2load with the same flags. See run.sh."""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import free_port  # noqa: E402

CONCURRENCY = (1, 16, 256)


def wait_port(port, proc, what):
    for _ in range(500):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{what} did not start")


def start_cairn(binary, port):
    p = subprocess.Popen([binary, "127.0.0.1", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p, "rpc_echo_server")
    return p


def start_nginx(tmp, port, body):
    conf = os.path.join(tmp, "nginx.conf")
    # The same bytes the echo server answers with; nginx reads and drops the body.
    escaped = body.decode().replace("\\", "\\\\").replace('"', '\\"')
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  http2_max_concurrent_streams 1024;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} http2;
    location / {{ return 200 "{escaped}"; }}
  }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-e", f"{tmp}/nginx-error.log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p, "nginx")
    return p


def h2load(url, body_file, requests, concurrency, log_file):
    """One connection, `concurrency` streams in flight; returns (calls/s, p99 ms, failed)."""
    cmd = ["h2load", "-n", str(requests), "-c", "1", "-t", "1", "-m", str(concurrency),
           "-H", "cairn-rpc: 1", "-d", body_file, "--log-file", log_file, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = failed = None
    for line in out.splitlines():
        if line.startswith("finished in"):
            rps = float(line.split(",")[1].split()[0])
        if line.startswith("requests:"):
            failed = int(line.split(",")[4].split()[0]) + int(line.split(",")[5].split()[0])
    with open(log_file) as f:
        durations = sorted(int(line.split()[2]) for line in f if line.strip())
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))] / 1000.0
    return rps, p99, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="rpc_echo_server binary")
    ap.add_argument("--requests", type=int, default=200_000, help="calls per run")
    ap.add_argument("--body-bytes", type=int, default=64)
    ap.add_argument("--async", dest="async_", action="store_true",
                    help="cairn answers from a later loop turn (as after an etcd write)")
    args = ap.parse_args()
    for tool in ("h2load", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (packaging/install-deps.sh test)")

    body = b"x" * args.body_bytes
    with tempfile.TemporaryDirectory(prefix="cairn-rpc-bench-") as tmp:
        body_file = os.path.join(tmp, "body")
        with open(body_file, "wb") as f:
            f.write(body)
        cairn_port, nginx_port = free_port(), free_port()
        cairn = start_cairn(args.server, cairn_port)
        nginx = start_nginx(tmp, nginx_port, body)
        try:
            print(f"unary calls over one HTTP/2 connection, {args.requests} calls per run, "
                  f"{args.body_bytes}-byte bodies, h2load -c1 -t1"
                  + (", cairn answering a loop turn later" if args.async_ else ""))
            print(f"{'concurrency':>11} {'cairn calls/s':>14} {'p99 ms':>8} "
                  f"{'nginx req/s':>12} {'p99 ms':>8} {'ratio':>6}")
            for m in CONCURRENCY:
                method = "AsyncEcho" if args.async_ else "Echo"
                c_rps, c_p99, c_fail = h2load(f"http://127.0.0.1:{cairn_port}/cairn/v1/{method}",
                                              body_file, args.requests, m,
                                              os.path.join(tmp, "cairn.log"))
                n_rps, n_p99, n_fail = h2load(f"http://127.0.0.1:{nginx_port}/cairn/v1/Echo",
                                              body_file, args.requests, m,
                                              os.path.join(tmp, "nginx.log"))
                if c_fail or n_fail:
                    print(f"  failed requests: cairn {c_fail}, nginx {n_fail}")
                print(f"{m:>11} {c_rps:>14.0f} {c_p99:>8.3f} {n_rps:>12.0f} {n_p99:>8.3f} "
                      f"{c_rps / n_rps:>5.2f}x")
        finally:
            for p in (cairn, nginx):
                p.terminate()
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
