#!/usr/bin/env bash
# Runs every test: the C programs through ctest, then the Python suite
# through pytest, then the stress runs (tests/stress), a check of the
# repaired wheel (see wheel.sh), the documentation, mypy and the fuzzing
# programs (see fuzz.sh). Sets the machine up first (see setup.sh). Exits
# non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

# Tests keep their StarPU calibration apart from the user's, but share
# pocl's cache of compiled kernels, so that a fresh clone does not compile
# (and link, by spawning a linker) every kernel variant again.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl/kcache}"
export XDG_CACHE_HOME="$ROOT/build/cache"

werror=ON
[ -z "${CAMBRIAN_WERROR:-}" ] && werror=OFF
sanitize=OFF
[ -n "${CAMBRIAN_SANITIZE:-}" ] && sanitize=ON
cmake -S . -B build/ctest -DCAMBRIAN_TESTS=ON -DCAMBRIAN_PYTHON=OFF \
  -DCAMBRIAN_WERROR=$werror -DCAMBRIAN_SANITIZE=$sanitize >/dev/null
cmake --build build/ctest -j "$(nproc)" >/dev/null

# With CAMBRIAN_SANITIZE=1 the package is built with ASan and UBSan too
# (setup.sh): Python then needs their runtimes loaded first. Leaks are
# not reported (the interpreter's own would drown the rest). pocl's LLVM
# installs a signal stack of its own, which ASan would check and refuse
# in threaded programs: ASan's own is left out.
preload=""
if [ "$sanitize" = ON ]; then
  preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:use_sigaltstack=0}"
fi

status=0
(cd build/ctest && ctest --output-on-failure) || status=1
LD_PRELOAD="$preload" "$VENV/bin/python" -m pytest tests/python -q \
  -p no:cacheprovider "$@" || status=1

# The stress runs (tests/stress/run.py): their short form after a full
# run; CAMBRIAN_STRESS=long the release form, CAMBRIAN_STRESS=0 none.
# Arguments for pytest leave them out unless CAMBRIAN_STRESS is set. The
# table is printed, the results written to build/stress.json.
stress=${CAMBRIAN_STRESS:-}
if [ "$stress" != 0 ] && { [ $# -eq 0 ] || [ -n "$stress" ]; }; then
  stress_args=()
  [ "$stress" = long ] && stress_args=(--long)
  [ "$sanitize" = ON ] && stress_args+=(--timeout-scale 3)
  LD_PRELOAD="$preload" "$VENV/bin/python" tests/stress/run.py \
    "${stress_args[@]}" --json build/stress.json || status=1
fi

# The repaired wheel, installed into its own environment (scripts/wheel.sh):
# a full run checks it with tests/python/test_arrays.py, CAMBRIAN_WHEEL=1
# with the whole suite; CAMBRIAN_WHEEL=0, or arguments for pytest, leave it
# out unless CAMBRIAN_WHEEL=1.
if [ "${CAMBRIAN_WHEEL:-}" = 1 ]; then
  bash scripts/wheel.sh || status=1
elif [ "${CAMBRIAN_WHEEL:-}" != 0 ] && [ $# -eq 0 ]; then
  bash scripts/wheel.sh --quick || status=1
fi

# The documentation and the types, in a full run (no arguments for
# pytest): Sphinx builds docs/ with warnings as errors, its doctest
# builder runs every example of the pages, the docstrings and the README,
# and mypy checks the package (strict), the examples and
# tests/typing/usage.py with pyproject.toml's configuration.
if [ $# -eq 0 ]; then
  LD_PRELOAD="$preload" "$VENV/bin/python" -m sphinx -W --keep-going -q \
    -b html docs build/docs/html || status=1
  LD_PRELOAD="$preload" "$VENV/bin/python" -m sphinx -W --keep-going -q \
    -b doctest docs build/docs/doctest || status=1
  "$VENV/bin/python" -m mypy || status=1
fi

# The fuzzing programs (scripts/fuzz.sh), CAMBRIAN_FUZZ_SECONDS each (0:
# their seeds only), in a full run.
if [ $# -eq 0 ]; then
  bash scripts/fuzz.sh || status=1
fi
exit $status
