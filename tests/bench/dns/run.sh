#!/usr/bin/env bash
# DNS interface benchmark (issue 4), one command:
#   bash tests/bench/dns/run.sh [--seconds N] [--rounds N]
# Builds an optimized cairn and the fixed-answer responder, then runs dnsperf
# against the responder (the loopback ceiling), dnsmasq and cairn in the same
# run and prints queries/s, CPU per query and p99 with the ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench agent/cairn >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
cc -O2 -Wall -Wextra -o build-bench/fixed_responder tests/bench/dns/fixed_responder.c
exec /usr/bin/python3 tests/bench/dns/bench_dns.py --cairn build-bench/agent/cairn \
  --responder build-bench/fixed_responder "$@"
