#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working single-host cairn:
# installs what is missing, builds, then runs `cairn agent -dev` with the
# example services (HTTP API on 127.0.0.1:8500, DNS on 8600) in the foreground, and the
# cairn-dnsfwd forwarder on the unprivileged 127.0.0.1:5300 once it is built.
# Ctrl-C stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash packaging/install-deps.sh build
# Its own build directory: tests/all.sh's build/ is a debug-optimized test build.
build=build-quickstart
[ -f $build/build.ninja ] || meson setup $build --buildtype=release -Dtests=false -Dunity=on >/dev/null
ninja -C $build agent/cairn dnsfwd/cairn-dnsfwd >$build/ninja.log 2>&1 || { tail -30 $build/ninja.log; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -x $build/dnsfwd/cairn-dnsfwd ] && [ -f examples/dnsfwd-dev.yaml ]; then
  $build/dnsfwd/cairn-dnsfwd -config examples/dnsfwd-dev.yaml &
  pids+=($!)
  echo "==> cairn-dnsfwd on 127.0.0.1:5300 (try: dig @127.0.0.1 -p 5300 web.service.consul)"
fi

echo "==> try: curl -s localhost:8500/v1/catalog/services"
echo "==>      dig @127.0.0.1 -p 8600 web.service.consul SRV"
echo "==>      $build/agent/cairn status -dnsfwd-config examples/dnsfwd-dev.yaml"
$build/agent/cairn agent -dev -config-dir examples/services.d "$@" &
pids+=($!)
wait "${pids[-1]}"
