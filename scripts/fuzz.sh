#!/usr/bin/env bash
# Builds the libFuzzer programs of tests/fuzz with clang (CAMBRIAN_FUZZ,
# in build/fuzz) and runs each for a bounded time: CAMBRIAN_FUZZ_SECONDS
# (default 20) per program; 0 runs the seeds only. Each starts from a
# fresh copy of its seeds (tests/fuzz/corpus/<program>) under
# build/fuzz/run, so the repository is not written to. Exits non-zero if
# any program finds a crash, a leak, undefined behaviour or a broken
# check, and prints where its reproducer is: run the program with that
# file to see it again.
#
# Arguments, if any, name the programs to run (fuzz_filter, ...).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

seconds=${CAMBRIAN_FUZZ_SECONDS:-20}
build="$ROOT/build/fuzz"
programs=("$@")
[ ${#programs[@]} -eq 0 ] &&
  programs=(fuzz_filter fuzz_kernel_source fuzz_settings fuzz_python)

log() { printf '[fuzz] %s\n' "$*" >&2; }

# clang, whichever version Debian installed as "clang".
cc=${CAMBRIAN_FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null; then
  log "no $cc: scripts/setup.sh installs clang"
  exit 1
fi
log "building ${programs[*]} in $build"
mkdir -p "$build"
if ! { cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAMBRIAN_FUZZ=ON \
         -DCAMBRIAN_PYTHON=OFF -DCAMBRIAN_TESTS=OFF \
         -DCAMBRIAN_INSTALL_C=OFF -DPython_EXECUTABLE="$VENV/bin/python" &&
       cmake --build "$build" -j "$(nproc)" --target "${programs[@]}"; } \
     >"$build/build.log" 2>&1; then
  tail -n 30 "$build/build.log" >&2
  log "the build failed (log: $build/build.log)"
  exit 1
fi

# Sanitizers: stop at the first report. An allocation beyond 256 MiB
# fails as if memory ran out (the code must cope) rather than being made,
# which keeps the programs small. pocl's LLVM installs a signal stack of
# its own, which ASan's would otherwise check and refuse in threaded
# programs. Settings from the environment (the sanitized test run's) are
# not taken: they would turn leak detection off.
export ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=256"
ASAN_OPTIONS="$ASAN_OPTIONS:use_sigaltstack=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export STARPU_SILENT=1
export XDG_CACHE_HOME="$build/cache"

run="$build/run"
status=0
for p in "${programs[@]}"; do
  dir="$run/$p"
  rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -r "tests/fuzz/corpus/$p/." "$dir/corpus/"
  args=(-timeout=30 -rss_limit_mb=3072 -max_len=4096 -print_final_stats=1
        -artifact_prefix="$dir/artifacts/")
  [ -f "tests/fuzz/$p.dict" ] && args+=(-dict="tests/fuzz/$p.dict")
  opts=$ASAN_OPTIONS
  ok=1
  start=$SECONDS
  # The embedded interpreter is never finalised: what it holds at exit is
  # no leak. Its caches make libFuzzer look for leaks after nearly every
  # input, a tenth of a second each: the seeds are looked at so, then the
  # fuzzing goes on without.
  if [ "$p" = fuzz_python ]; then
    opts="$opts:leak_check_at_exit=0"
    log "running the seeds of $p"
    ASAN_OPTIONS=$opts "$build/tests/fuzz/$p" "${args[@]}" -runs=0 \
      "$dir/corpus" >"$dir/log" 2>&1 || ok=0
    args+=(-detect_leaks=0)
  fi
  if [ "$seconds" = 0 ]; then
    [ "$p" = fuzz_python ] || args+=(-runs=0)
  else
    args+=(-max_total_time="$seconds")
  fi
  if [ $ok = 1 ] && { [ "$seconds" != 0 ] || [ "$p" != fuzz_python ]; }; then
    log "running $p for $seconds s"
    ASAN_OPTIONS=$opts "$build/tests/fuzz/$p" "${args[@]}" "$dir/corpus" \
      >>"$dir/log" 2>&1 || ok=0
  fi
  if [ $ok = 1 ]; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" |
              awk '{ n += $1 } END { print n }')
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n1 || true)
    log "$p: $execs executions in $((SECONDS - start)) s" \
      "(${cov:-cov: ?}), no problem found"
  else
    status=1
    tail -n 40 "$dir/log" >&2
    for a in "$dir"/artifacts/*; do
      [ -e "$a" ] && log "$p found a problem; reproduce it with:" \
        "ASAN_OPTIONS=$opts $build/tests/fuzz/$p $a"
    done
    log "$p failed (log: $dir/log)"
  fi
done
exit $status
