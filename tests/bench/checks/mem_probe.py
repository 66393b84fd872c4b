#!/usr/bin/env python3
"""RSS of one agent holding many checks, in seconds rather than the full benchmark's minutes.

    python3 tests/bench/checks/mem_probe.py --cairn build-bench/agent/cairn [--http 10000]
        [--tcp 1000] [--ttl 0] [--settle 15]

Loads the benchmark's services file (or, with --ttl N, N TTL checks over
1,000 services) into `cairn agent -dev`, waits --settle seconds, lists the
checks through the API as the benchmark does, and prints VmRSS.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_checks import get_json, start_agent, start_target, write_services  # noqa: E402
from benchlib import rss_kb  # noqa: E402


def write_ttl_services(path, n_checks, port):
    services = [{"name": f"svc-{i}", "port": port, "checks": []} for i in range(1000)]
    for i in range(n_checks):
        services[i % len(services)]["checks"].append({"ttl": "1h"})
    with open(path, "w") as f:
        json.dump({"services": services}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--http", type=int, default=10000)
    ap.add_argument("--tcp", type=int, default=1000)
    ap.add_argument("--ttl", type=int, default=0, help="TTL checks instead of HTTP and TCP")
    ap.add_argument("--settle", type=float, default=15)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        nginx, nport, aport, conf_dir = start_target(tmp)
        path = os.path.join(conf_dir, "probe.json")
        if args.ttl:
            write_ttl_services(path, args.ttl, nport)
        else:
            write_services(path, nport, args.http, args.tcp, "10s", "1s")
        agent = start_agent(args.cairn, "probe", aport, conf_dir)
        try:
            t0 = time.monotonic()
            while True:
                try:
                    get_json(aport, "/v1/agent/self")
                    break
                except OSError:
                    if agent.poll() is not None:
                        sys.exit("agent exited")
                    time.sleep(0.3)
            up = time.monotonic() - t0
            time.sleep(args.settle)
            checks = len(get_json(aport, "/v1/agent/checks"))
            critical = len(get_json(aport, "/v1/health/state/critical"))
            time.sleep(2)
            print(f"API up after {up:.1f} s; {checks} checks, {critical} critical; "
                  f"RSS {rss_kb(agent.pid) / 1024:.1f} MB")
        finally:
            agent.terminate()
            agent.wait()
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()
