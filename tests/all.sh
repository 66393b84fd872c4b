#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. normal build: unit tests (doctest) and integration tests (real binaries on loopback)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build (clang): the same tests again
#   3. the fuzz targets of that build (libFuzzer): each for FUZZ_SECONDS (default 20)
# The last line is "N passed, N failed". Exit status 0 only when nothing failed.
# Environment: SKIP_ASAN=1, SKIP_FUZZ=1 and FUZZ_SECONDS=N shorten local runs;
# PYTEST_ARGS passes extra arguments (e.g. "-k dns") to pytest.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results="$root/build-results"
rm -rf "$results"
mkdir -p "$results"
jobs=$(nproc 2>/dev/null || echo 2)
started=$SECONDS
phase() { echo "== $* [$((SECONDS - started))s]"; }

record_failure() {  # name, message: a synthetic failing test case for steps that broke
  local msg
  msg=$(printf '%s' "$2" | tail -c 4000 | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
  printf '<testsuite name="%s"><testcase classname="setup" name="%s"><failure message="step failed">%s</failure></testcase></testsuite>\n' \
    "$1" "$1" "$msg" >"$results/$1.xml"
}
record_pass() {
  printf '<testsuite name="%s"><testcase classname="step" name="%s"/></testsuite>\n' "$1" "$1" >"$results/$1.xml"
}

if ! out=$(bash packaging/install-deps.sh test 2>&1); then
  echo "$out"
  record_failure install-deps "$out"
  phase "done"
python3 tests/summarize.py "$results"
  exit 1
fi
[ -n "$out" ] && echo "$out"

# configure_build DIR LABEL [meson options...]
configure_build() {
  local dir=$1 label=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    if ! out=$(meson setup "$dir" "$@" 2>&1); then
      echo "$out" | tail -30
      record_failure "build-$label" "$out"
      return 1
    fi
  fi
  phase "building $label ($dir)"
  if ! out=$(ninja -C "$dir" -j "$jobs" 2>&1); then
    echo "$out" | grep -E "error|Error" -A5 | head -60
    record_failure "build-$label" "$out"
    return 1
  fi
  return 0
}

run_suite() {  # DIR LABEL
  local dir=$1 label=$2 t name
  phase "unit tests ($label)"
  for t in $(find "$dir/tests/unit" -maxdepth 5 -type f -name 'unit_*' -perm -u+x 2>/dev/null | sort); do
    name=$(basename "$t")
    if ! "$t" --reporters=junit --out="$results/$label-$name.xml" >/dev/null 2>"$results/$label-$name.stderr"; then
      echo "   $name: failures (see $results/$label-$name.xml)"
      # A crash leaves no report: make sure it counts.
      grep -q '<testcase' "$results/$label-$name.xml" 2>/dev/null ||
        record_failure "$label-$name" "$(cat "$results/$label-$name.stderr")"
    fi
  done
  phase "integration tests ($label)"
  CAIRN_BUILD_DIR="$root/$dir" CAIRN_SANITIZED=$([ "$label" = asan ] && echo 1 || echo 0) \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/integration" \
    --junitxml="$results/$label-integration.xml" -o junit_suite_name="$label-integration" \
    ${PYTEST_ARGS:-} 2>&1 | tail -15
}

# Unity builds (several sources per compiler run) halve the build time on CI's
# two cores; sources must therefore not share file-local names.
if configure_build build normal --buildtype=debugoptimized -Dunity=on -Dunity_size=6; then
  run_suite build normal
fi

# One clang build serves both the sanitizer pass and the fuzzers: AddressSanitizer
# and UndefinedBehaviorSanitizer everywhere, libFuzzer coverage instrumentation
# (harmless outside the fuzz targets), and -O1 so the suite runs at a usable speed.
sanitized_ok=0
if [ "${SKIP_ASAN:-0}" != 1 ] || [ "${SKIP_FUZZ:-0}" != 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  if CC=clang CXX=clang++ configure_build build-asan asan -Dfuzz=true -Dunity=on -Dunity_size=6 \
      -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 -Ddebug=true \
      -Dcpp_args=-fno-sanitize-recover=all -Dc_args=-fno-sanitize-recover=all; then
    sanitized_ok=1
  fi
fi
if [ "${SKIP_ASAN:-0}" != 1 ] && [ $sanitized_ok = 1 ]; then
  run_suite build-asan asan
fi

if [ "${SKIP_FUZZ:-0}" != 1 ] && [ $sanitized_ok = 1 ]; then
  secs=${FUZZ_SECONDS:-20}
    phase "fuzzing, ${secs}s per target, $jobs at a time"
    export results secs
    fuzz_one() {  # runs one target; writes its own pass/fail report
      f=$1
      name=$(basename "$f")
      corpus="build-asan/fuzz-corpus/$name"
      mkdir -p "$corpus"
      seeds="tests/fuzz/seeds/${name#fuzz_}"
      [ -d "$seeds" ] || seeds=
      if out=$("$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
          -artifact_prefix="$results/$name-" "$corpus" $seeds 2>&1); then
        echo "   $name: ok ($(echo "$out" | grep -o 'stat::number_of_executed_units: *[0-9]*' | grep -o '[0-9]*$') runs)"
        printf '<testsuite name="fuzz-%s"><testcase classname="fuzz" name="%s"/></testsuite>\n' "$name" "$name" >"$results/fuzz-$name.xml"
      else
        echo "   $name: FAILED"
        echo "$out" | tail -40
        msg=$(printf '%s' "$out" | tail -c 4000 | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
        printf '<testsuite name="fuzz-%s"><testcase classname="fuzz" name="%s"><failure message="fuzzer found a crash">%s</failure></testcase></testsuite>\n' "$name" "$name" "$msg" >"$results/fuzz-$name.xml"
      fi
    }
    export -f fuzz_one
    find build-asan/tests/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort |
      xargs -r -P "$jobs" -I{} bash -c 'fuzz_one "$1"' _ {}
fi

phase "done"
python3 tests/summarize.py "$results"
