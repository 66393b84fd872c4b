#!/usr/bin/env python3
"""KV GET/PUT throughput against etcd, and lock cycles. See run.sh."""
import argparse
import base64
import http.client as httpclient
import json
import os
import sys
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import free_port  # noqa: E402


def wait_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} never opened")


def wrk(url, seconds, conns, script):
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses\n{out}")
    return rps, p99


def lua(tmp, name, method, path, body):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(f'wrk.method = "{method}"\nwrk.path = "{path}"\n')
        if body is not None:
            f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
    return p


def lock_cycles(port, seconds):
    c = httpclient.HTTPConnection("127.0.0.1", port)

    def req(method, path, body=""):
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.read()

    sid = json.loads(req("PUT", "/v1/session/create", json.dumps({"LockDelay": "0s"})))["ID"]
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert req("PUT", f"/v1/kv/bench/lock?acquire={sid}", "x") == b"true"
        assert req("PUT", f"/v1/kv/bench/lock?release={sid}", "x") == b"true"
        n += 1
    return n / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cairn-kvbench-")
    procs = []
    value = "v" * 64
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, {platform.platform()}")
    try:
        cport = free_port()
        procs.append(subprocess.Popen([args.cairn, "agent", "-dev", "-http-port", str(cport),
                                       "-log-level", "warn"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        eport, epeer = free_port(), free_port()
        procs.append(subprocess.Popen(
            ["etcd", "--data-dir", os.path.join(tmp, "etcd"), "--name", "bench",
             "--listen-client-urls", f"http://127.0.0.1:{eport}",
             "--advertise-client-urls", f"http://127.0.0.1:{eport}",
             "--listen-peer-urls", f"http://127.0.0.1:{epeer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{epeer}",
             "--initial-cluster", f"bench=http://127.0.0.1:{epeer}", "--log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(cport)
        wait_port(eport)
        time.sleep(1)
        c = httpclient.HTTPConnection("127.0.0.1", cport)
        c.request("PUT", "/v1/kv/bench/key", body=value)
        c.getresponse().read()
        b64 = lambda s: base64.b64encode(s.encode()).decode()
        e = httpclient.HTTPConnection("127.0.0.1", eport)
        e.request("POST", "/v3/kv/put", body=json.dumps({"key": b64("bench/key"), "value": b64(value)}))
        assert e.getresponse().status == 200
        scripts = {
            "cairn GET": (cport, lua(tmp, "cg.lua", "GET", "/v1/kv/bench/key", None)),
            "cairn PUT": (cport, lua(tmp, "cp.lua", "PUT", "/v1/kv/bench/key", value)),
            "etcd GET": (eport, lua(tmp, "eg.lua", "POST", "/v3/kv/range",
                                     json.dumps({"key": b64("bench/key")}))),
            "etcd PUT": (eport, lua(tmp, "ep.lua", "POST", "/v3/kv/put",
                                     json.dumps({"key": b64("bench/key"), "value": b64(value)}))),
        }
        res = {name: wrk(f"http://127.0.0.1:{port}", args.seconds, args.connections, script)
               for name, (port, script) in scripts.items()}
        print(f"\nwrk -t1 -c{args.connections} -d{args.seconds}s keep-alive, 64-byte values")
        print(f"{'':10} {'cairn req/s':>12} {'p99 ms':>7} {'etcd req/s':>11} {'p99 ms':>7} {'ratio':>6}")
        for op in ("GET", "PUT"):
            cr, cp = res[f"cairn {op}"]
            er, ep = res[f"etcd {op}"]
            print(f"{op:10} {cr:12.0f} {cp:7.2f} {er:11.0f} {ep:7.2f} {cr / er:6.1f}x")
        print("(cairn -dev PUTs are applied in memory; etcd's are fsynced to its WAL.)")
        print(f"\nlock acquire+release cycles/s (one client, keep-alive): {lock_cycles(cport, args.seconds):.0f}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
