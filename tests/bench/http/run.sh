#!/usr/bin/env bash
# HTTP API benchmarks for the agent (issue 2), one command:
#   bash tests/bench/http/run.sh
# Builds an optimized cairn, then measures, in the same run:
#   - wrk keep-alive throughput and p99 for /v1/health/service/web?passing (100 instances)
#     and /v1/catalog/services (1,000 services), against nginx serving the same bytes
#   - 1,000 parked blocking queries woken by one change (wake latency, memory per query)
#   - RSS with 1,000 services and 2,000 checks; start to first answered request
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
exec /usr/bin/python3 tests/bench/http/bench_http.py --cairn build-bench/agent/cairn "$@"
