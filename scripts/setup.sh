#!/usr/bin/env bash
# Brings a Debian machine to the state cambrian needs: system packages, a
# virtual environment at the repository root, and the package built into it.
# Sourced by demo.sh and test.sh; every step is skipped when already done, so
# a machine that is set up reaches the real work in a few seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

DEB_PACKAGES="build-essential cmake pkg-config libstarpu-dev libhwloc-dev
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo libopenblas-dev
  libclblast-dev"
PY_PACKAGES="numpy pytest scikit-build-core>=0.8 uvloop matplotlib"

log() { printf '[setup] %s\n' "$*" >&2; }

install_debs() {
  local missing=""
  for p in $DEB_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
      || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  log "installing Debian packages:$missing"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

find_python() {
  for c in python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv; assert sys.version_info >= (3, 9)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  log "no usable python3 (3.9 or newer with venv) found"; return 1
}

make_venv() {
  if [ ! -x "$PY" ]; then
    local base
    base=$(find_python)
    log "creating $VENV with $base"
    "$base" -m venv "$VENV"
  fi
  local stamp="$VENV/.cambrian-deps"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$PY_PACKAGES" ]; then
    log "installing Python packages: $PY_PACKAGES"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q $PY_PACKAGES
    echo "$PY_PACKAGES" > "$stamp"
  fi
}

# The package is rebuilt only when a file that goes into it has changed.
source_hash() {
  (cd "$ROOT" && find CMakeLists.txt pyproject.toml include scheduler graphs \
     codelets pybind -type f \( -name '*.c' -o -name '*.h' -o -name '*.def' \
     -o -name '*.cl' -o -name '*.py' -o -name '*.txt' -o -name '*.toml' \) \
     -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
}

# Warnings are errors in the builds these scripts make (CAMBRIAN_WERROR=0
# turns that off); CAMBRIAN_SANITIZE=1 builds with ASan and UBSan.
CAMBRIAN_WERROR=${CAMBRIAN_WERROR-1}
[ "$CAMBRIAN_WERROR" = 0 ] && CAMBRIAN_WERROR=""

build_package() {
  local stamp="$VENV/.cambrian-build" h
  h="$(source_hash) ${CAMBRIAN_SANITIZE:-} ${CAMBRIAN_WERROR:-}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$h" ] &&
     "$PY" -c 'import cambrian._core' 2>/dev/null; then
    return 0
  fi
  log "building cambrian into $VENV"
  local args=(-Cbuild-dir="$ROOT/build/wheel")
  # Both options every time: the build directory's cache keeps the last
  # value of an option that is not given.
  local werror=OFF sanitize=OFF
  [ -n "${CAMBRIAN_WERROR:-}" ] && werror=ON
  [ -n "${CAMBRIAN_SANITIZE:-}" ] && sanitize=ON
  args+=(-Ccmake.define.CAMBRIAN_WERROR=$werror
         -Ccmake.define.CAMBRIAN_SANITIZE=$sanitize)
  (cd "$ROOT" && "$PY" -m pip install -q --no-build-isolation "${args[@]}" .)
  echo "$h" > "$stamp"
}

install_debs
make_venv
build_package
export PATH="$VENV/bin:$PATH"
