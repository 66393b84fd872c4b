# Sourced by the benchmarks' run.sh: `bench_workdir <name>` makes $work, a
# temporary directory for one run. Every process the driver starts dies with
# it (parent-death signal); this is the backstop: on exit, whatever still runs
# from the work dir is killed by pid, and the dir removed.
bench_cleanup() {
  local pids=() pid
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    { tr "\0" " " <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$work/" && pids+=("$pid")
  done
  [ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
  rm -rf "$work"
}

bench_workdir() {
  work=$(mktemp -d "/tmp/cairn-$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
