#!/usr/bin/env bash
# DNS interface benchmark (issue 4), one command:
#   [BEFORE_BUILD=dir] bash tests/bench/dns/run.sh [--seconds N] [--rounds N]
# Builds an optimized cairn and the fixed-answer responder, then runs dnsperf
# against the responder (the loopback ceiling), dnsmasq and cairn in the same
# run and prints queries/s, CPU per query and p99 with the ratios. With
# BEFORE_BUILD, a build directory holding an already built agent/cairn (e.g. a
# release build of main), that binary is measured in the same run too and
# both sets of ratios are printed: before and after under the same load.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench agent/cairn >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
cc -O2 -Wall -Wextra -o build-bench/fixed_responder tests/bench/dns/fixed_responder.c
before=()
if [ -n "${BEFORE_BUILD:-}" ]; then
  [ -x "$BEFORE_BUILD/agent/cairn" ] || { echo "BEFORE_BUILD: no $BEFORE_BUILD/agent/cairn" >&2; exit 1; }
  before=(--before "$BEFORE_BUILD/agent/cairn")
fi
exec /usr/bin/python3 tests/bench/dns/bench_dns.py --cairn build-bench/agent/cairn \
  --responder build-bench/fixed_responder "${before[@]}" "$@"
