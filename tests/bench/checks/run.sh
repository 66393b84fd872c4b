#!/usr/bin/env bash
# Health-check benchmark (issue 3), one command:
#   bash tests/bench/checks/run.sh [--seconds 60] [--http 10000] [--tcp 1000]
# Builds an optimized cairn and a plain C client, starts nginx (Debian
# nginx-light) on loopback, loads 10,000 HTTP checks at a 10 s interval and
# 1,000 TCP checks at 1 s into one agent, waits until all pass, then measures
# for a minute: the agent's CPU (% of one core), its RSS, the check runs made,
# the CPU cost per run, and the same requests made by the C client as the floor.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench agent/cairn >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
mkdir -p build-bench/bench
cc -O2 -Wall -Wextra -o build-bench/bench/check_floor tests/bench/checks/check_floor.c
exec /usr/bin/python3 tests/bench/checks/bench_checks.py --cairn build-bench/agent/cairn \
  --floor build-bench/bench/check_floor "$@"
