#!/usr/bin/env bash
# KV benchmarks (issue 6), one command:  bash tests/bench/kv/run.sh
# wrk keep-alive GET and PUT of 64-byte values against cairn agent -dev and a
# one-member etcd (Debian etcd-server) on the same machine, same concurrency,
# in the same run; plus lock acquire+release cycles per second.
# Note: cairn -dev keeps KV in memory; etcd fsyncs every write.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
bash packaging/install-deps.sh test
command -v etcd >/dev/null || { apt-get install -y -qq etcd-server >/dev/null; }
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench >build-bench/ninja.log 2>&1 || { tail -30 build-bench/ninja.log; exit 1; }
exec /usr/bin/python3 tests/bench/kv/bench_kv.py --cairn build-bench/agent/cairn "$@"
