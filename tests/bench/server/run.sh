#!/usr/bin/env bash
# Server mode over etcd (issue 14), one command:  bash tests/bench/server/run.sh [--quick] [--no-fsync]
# In one run, on loopback: 3 `cairn agent -server` (each with its own etcd member) against a
# raw 3-member etcd started with the same flags (agent/etcd/member_command.cc), and a
# `cairn agent -dev`:
#   1-2. KV PUT (64 B) and a 3-key guarded txn at 1, 16 and 64 keep-alive connections
#        spread over the 3 servers / members (wrk), ops/s, p50/p99, ratio cairn/etcd
#   3.   GET on a follower (default and ?stale) against -dev
#   4.   failover: kill -9 of the etcd leader's server, of the cairn leader (and of a raw
#        etcd leader), time to the first accepted write on a survivor
#   5.   1,000 parked blocking queries woken by one write on another server; RSS of a
#        server holding 10,000 services and 100,000 keys
# Both clusters fsync unless --no-fsync (then both run with --unsafe-no-fsync).
# --quick: a smoke run, a few seconds per figure. CAIRN_BIN=path skips the build.
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
source tests/bench/workdir.sh
bench_workdir serverbench
/usr/bin/python3 tests/bench/server/bench_server.py --cairn "$cairn" --work "$work" "$@"
