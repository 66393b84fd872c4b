#!/usr/bin/env bash
# The cairn-dnsfwd benchmark, one command:
#   [BEFORE_BUILD=dir] bash tests/bench/dnsfwd/run.sh [--repeats N] [--duration S] [--only hits,misses,consul]
# Builds cairn-dnsfwd (release-like, in build-bench/), then compares it with
# dnsmasq and unbound and the loopback ceiling on this machine. Not part of
# tests/all.sh. Takes about 6 minutes with the defaults (3 repeats of 3 s).
# With BEFORE_BUILD, a build directory holding an already built
# dnsfwd/cairn-dnsfwd (e.g. a release build of main), that binary runs as a
# fourth server in the same run and both sets of ratios are printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
if [ ! -f build-bench/build.ninja ]; then
  meson setup build-bench --buildtype=release -Dwerror=false -Dtests=false >/dev/null
fi
ninja -C build-bench dnsfwd/cairn-dnsfwd >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
g++ -O2 -std=c++20 -I. tests/bench/dnsfwd/parse_cost.cc build-bench/common/dns/libcairn_common_dns.a \
  -lldns -o build-bench/parse_cost && build-bench/parse_cost
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "versions: $(dnsmasq --version | head -1); $(/usr/sbin/unbound -V | head -1); $(dnsperf -h 2>&1 | grep -m1 Version)"
if [ -n "${BEFORE_BUILD:-}" ] && [ ! -x "$BEFORE_BUILD/dnsfwd/cairn-dnsfwd" ]; then
  echo "BEFORE_BUILD: no $BEFORE_BUILD/dnsfwd/cairn-dnsfwd" >&2
  exit 1
fi
exec /usr/bin/python3 tests/bench/dnsfwd/bench.py --build build-bench "$@"
