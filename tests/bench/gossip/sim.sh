#!/usr/bin/env bash
# Gossip at fleet scale in virtual time: 1,000 and 10,000 nodes, 0% / 1% / 5%
# packet loss, each run with three kills, three late joins and a 10%
# partition that heals. One JSON line per run, then a table.
#
#   bash tests/bench/gossip/sim.sh                 # everything (~15-30 min, ~5 GB RAM at 10k)
#   SIZES=1000 LOSSES=0 bash tests/bench/gossip/sim.sh
#   BUILD=build-release PROFILE=lan SEED=1 ...
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-$root/build}
sizes=${SIZES:-1000 10000}
losses=${LOSSES:-0 0.01 0.05}
profile=${PROFILE:-lan}
seed=${SEED:-1}
out=${OUT:-$root/build/gossip-sim-$(date +%Y%m%d-%H%M%S).jsonl}

ninja -C "$build" tests/bench/gossip/gossip_sim >"$build/ninja.log" 2>&1 || { tail -30 "$build/ninja.log"; exit 1; }
sim="$build/tests/bench/gossip/gossip_sim"
echo "# machine: $(nproc) CPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)" >&2
echo "# results: $out" >&2
: > "$out"
for n in $sizes; do
  for loss in $losses; do
    /usr/bin/time -f '{"max_rss_mb":%M}' -o "$out.rss" "$sim" --nodes "$n" --loss "$loss" \
      --profile "$profile" --seed "$seed" | tee -a "$out"
    echo "# rss: $(awk -F: '{gsub(/[}]/,"",$2); printf "%.0f MB", $2/1024}' "$out.rss")" >&2
  done
done
rm -f "$out.rss"

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
hdr = ("nodes", "loss", "join conv s", "late join ms", "detect p50/p99 ms", "theory ms",
       "false+", "false susp", "B/s/node", "theory B/s", "heal s", "wall s")
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for r in rows:
    conv = "%.1f (bulk)" % r["join_conv_s"] if r["bulk_join"] and r["join_conv_s"] is not None else "pre-converged"
    lj = "/".join(str(x) for x in r["late_join_ms"])
    print("| %d | %g%% | %s | %s | %.0f / %.0f | %.0f | %d | %d | %.0f | %.0f | %s | %.0f |" % (
        r["nodes"], r["loss"] * 100, conv, lj, r["detect_ms_p50"], r["detect_ms_p99"],
        r["theory_detect_ms"], r["false_positives"], r["false_suspicions"], r["bytes_per_node_s"],
        r["theory_bytes_per_node_s"], "%.1f" % r["heal_s"] if r["heal_s"] is not None else "-",
        r["wall_s"]))
PY
