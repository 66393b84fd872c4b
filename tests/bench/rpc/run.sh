#!/usr/bin/env bash
# Server RPC transport benchmark (issue 15), one command:
#   bash tests/bench/rpc/run.sh [--requests N] [--body-bytes B] [--async]
# Builds an optimized echo server on rpc::Server, then drives it and nginx's
# HTTP/2 (`return 200` of a body of the same size) with the same h2load
# flags over one connection at concurrency 1, 16 and 256, and prints calls/s,
# p99 and the cairn/nginx ratio for each, in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench tests/bench/rpc/rpc_echo_server >build-bench/ninja.log 2>&1 ||
  { tail -30 build-bench/ninja.log; exit 1; }
exec /usr/bin/python3 tests/bench/rpc/bench_rpc.py --server build-bench/tests/bench/rpc/rpc_echo_server "$@"
