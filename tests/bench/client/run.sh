#!/usr/bin/env bash
# Client agents (issue 15, "Performance"), one command:
#   bash tests/bench/client/run.sh [--quick] [--perf] [--no-fsync] [--clients N]
# In one run, on loopback: 3 `cairn agent -server` (each with its own etcd member, on
# 127.0.5.x) and client agents (same binary, each on its own 127.0.6.x address):
#   1. DNS `web.service.consul` SRV at a client (its streamed view) vs at a server:
#      queries/s (dnsperf), ratio, p99 at two fixed rates, with the DNS benchmark's
#      fixed-answer responder as the loopback ceiling
#   2. /v1/health/service/web?passing (and &stale) at a client (forwarded) vs at its
#      server: wrk requests/s, ratio, CPU per request of each process
#   3. propagation: a TTL check flipped on client A, time until DNS on client B reflects
#      it (B polled every 1 ms), p50/p99, with 4 clients and again with the whole datacenter
#   4. the datacenter with --clients (default 50): steady-state server CPU (cairn and
#      etcd apart) and RPC bytes/s per client, the cost of one flip fanned out to every
#      client, the load of a full sync (every client killed and restarted), and an
#      extrapolation to 5,000 clients
#   5. RSS of a client with 100 local services after 20 services looked up (DNS + HTTP),
#      of the lightweight clients, and of the servers
# --quick: a smoke run (few seconds per figure, 10 clients). --perf: perf profiles of the
# health reads and of the servers in steady state. CAIRN_BIN=path skips the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
command -v etcd >/dev/null || { echo "etcd not found (Debian etcd-server)" >&2; exit 1; }
cairn=${CAIRN_BIN:-}
if [ -z "$cairn" ]; then
  [ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
  ninja -C build-bench agent/cairn >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
  cairn=build-bench/agent/cairn
fi
cc -O2 -Wall -Wextra -o build-bench/fixed_responder tests/bench/dns/fixed_responder.c
source tests/bench/workdir.sh
bench_workdir clientbench
/usr/bin/python3 tests/bench/client/bench_client.py --cairn "$cairn" --work "$work" \
  --responder build-bench/fixed_responder "$@"
