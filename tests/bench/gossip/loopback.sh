#!/usr/bin/env bash
# Loopback benchmark: the reference Go peer (HashiCorp memberlist 0.2.2 +
# Serf 0.9.4) and cairn-gossip-peer through the same cluster.sh, same
# settings, same machine, back to back; then a mixed cluster (odd peers
# cairn). Prints both summaries and cairn's bytes sent per node per second
# (from the peers' own counters: the Go peer exposes none).
#
#   bash tests/bench/gossip/loopback.sh                       # n=10,50 lan, 3 runs each
#   SIZES=10 CONFIGS=local,lan REPS=5 SETTLE=10 bash tests/bench/gossip/loopback.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-$root/build}
tools=${MEMBERLIST_PEER_TOOLS:-$root/../shared/tools/memberlist-peer}
sizes=${SIZES:-10,50}
configs=${CONFIGS:-lan}
reps=${REPS:-3}
settle=${SETTLE:-}   # default: N seconds (one probe cycle), plus a random [0, N]
mode=${MODE:-memberlist}
out=${OUT:-$root/build/gossip-loopback-$(date +%Y%m%d-%H%M%S)}

ninja -C "$build" agent/gossip/cairn-gossip-peer >"$build/ninja.log" 2>&1 || { tail -30 "$build/ninja.log"; exit 1; }
cairn="$build/agent/gossip/cairn-gossip-peer"
go_peer=${MEMBERLIST_PEER_BIN:-$root/.cache/mlpeer/memberlist-peer}
if [ ! -x "$go_peer" ]; then
  mkdir -p "$(dirname "$go_peer")"
  MEMBERLIST_PEER_OUT=$(dirname "$go_peer") GOCACHE=$(dirname "$go_peer")/go-cache "$tools/build.sh" >&2
fi
mkdir -p "$out"
echo "# machine: $(nproc) CPU, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt"

for n in ${sizes//,/ }; do
  s=${settle:-$n}
  for impl in go cairn mixed; do
    case $impl in
      go) args=(-b "$go_peer") ;;
      cairn) args=(-b "$cairn") ;;
      mixed) args=(-b "$go_peer" -a "$cairn") ;;
    esac
    echo "== $impl n=$n" | tee -a "$out/summary.txt"
    "$tools/cluster.sh" -n "$n" -c "$configs" -r "$reps" -m "$mode" -s "$s" -j "$s" \
      -o "$out/$impl-n$n" "${args[@]}" 2>/dev/null | tail -4 | tee -a "$out/summary.txt"
  done
done

# cairn's own traffic counters, from the "members" lines each peer printed
# on SIGUSR1 just before the kill: bytes sent (UDP + TCP) / uptime.
python3 - "$out" <<'PY' | tee -a "$out/summary.txt"
import glob, json, os, sys
rates = {}
for path in glob.glob(os.path.join(sys.argv[1], "cairn-n*", "*", "p*.log")):
    start = members = None
    for line in open(path, errors="replace"):
        if not line.startswith("{"): continue
        ev = json.loads(line)
        if ev.get("event") == "start": start = ev["t"]
        if ev.get("event") == "members" and "stats" in ev: members = ev
    if start and members:
        n = os.path.basename(os.path.dirname(os.path.dirname(path)))
        st = members["stats"]
        secs = (members["t"] - start) / 1000
        if secs > 1:
            rates.setdefault(n, []).append((st["bytes_out"] + st["stream_bytes_out"]) / secs)
for n, v in sorted(rates.items()):
    v.sort()
    print(f"{n}: cairn bytes sent per node per second, median {v[len(v)//2]:.0f} (min {v[0]:.0f}, max {v[-1]:.0f}, {len(v)} peers)")
PY
echo "# results in $out"
