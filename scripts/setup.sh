#!/usr/bin/env bash
# Brings a Debian machine to the state cambrian needs: system packages, a
# virtual environment at the repository root, and the package installed
# into it in editable mode. Sourced by demo.sh, test.sh, bench.sh and
# wheel.sh; every step is skipped when already done, so a machine that is
# set up reaches the real work in a few seconds.
#
# Python requirements are not listed here: they are read from
# pyproject.toml (build-system.requires, the extras, the dependency
# groups), so that the scripts and the package's metadata agree.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

DEB_PACKAGES="build-essential cmake pkg-config libstarpu-dev libhwloc-dev
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo libopenblas-dev
  libclblast-dev"
# The extras the repository's environment gets (see pyproject.toml).
SETUP_EXTRAS="test,plot"

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

# A Python that satisfies requires-python (which is ">=X.Y"); one too old
# to have tomllib (3.11) cannot read it and is passed over too.
find_python() {
  local c
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" - "$ROOT/pyproject.toml" 2>/dev/null <<'EOF'
import sys, tomllib, venv
with open(sys.argv[1], "rb") as f:
    spec = tomllib.load(f)["project"]["requires-python"]
assert spec.startswith(">=")
need = tuple(int(x) for x in spec[2:].split("."))
assert sys.version_info[:len(need)] >= need
EOF
    then
      command -v "$c"; return 0
    fi
  done
  log "no Python with venv that satisfies pyproject.toml's requires-python"
  return 1
}

# Prints the requirements of the named lists of pyproject.toml, one a line:
# "build" (build-system.requires), "extra:NAME" (an optional dependency
# list), "group:NAME" (a dependency group).
pyproject_requirements() {
  "$PY" - "$ROOT/pyproject.toml" "$@" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
for name in sys.argv[2:]:
    kind, _, key = name.partition(":")
    if kind == "build":
        reqs = meta["build-system"]["requires"]
    elif kind == "extra":
        reqs = meta["project"]["optional-dependencies"][key]
    elif kind == "group":
        reqs = meta["dependency-groups"][key]
    else:
        sys.exit(f"unknown requirement list {name!r}")
    print("\n".join(reqs))
EOF
}

# Installs the named lists of pyproject.toml into the environment, unless
# the same requirements were installed last time under this stamp name.
install_requirements() {
  local stamp="$VENV/.cambrian-requirements-$1" reqs
  shift
  reqs=$(pyproject_requirements "$@")
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$reqs" ] && return 0
  log "installing $(echo $reqs)"
  # Word splitting is wanted: one requirement a line, none with spaces.
  # shellcheck disable=SC2086
  "$PY" -m pip install -q $reqs
  echo "$reqs" > "$stamp"
}

make_venv() {
  if [ ! -x "$PY" ]; then
    local base
    base=$(find_python)
    log "creating $VENV with $base"
    "$base" -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
  fi
  install_requirements build build
}

# Warnings are errors in the builds these scripts make (CAMBRIAN_WERROR=0
# turns that off); CAMBRIAN_SANITIZE=1 builds with ASan and UBSan.
CAMBRIAN_WERROR=${CAMBRIAN_WERROR-1}
[ "$CAMBRIAN_WERROR" = 0 ] && CAMBRIAN_WERROR=""

# An ASan build of the extension loads only into a process that has the
# sanitizers' runtimes loaded first.
sanitizer_preload() {
  [ -n "${CAMBRIAN_SANITIZE:-}" ] || return 0
  echo "$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
}

# Imports the extension, which rebuilds what changed since the last import:
# ninja's lines show while it compiles, the ones saying nothing was to do
# are left out.
import_core() {
  (cd / && SKBUILD_EDITABLE_VERBOSE=1 LD_PRELOAD="$(sanitizer_preload)" \
     ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
     "$PY" -c 'import cambrian._core' 2>&1) |
    sed -E '/^(Running cmake|ninja: no work to do|-- (Install configuration|Up-to-date))/d' >&2
}

# The package is an editable install that scikit-build-core rebuilds when
# it is imported: CMake and ninja see every changed source, and Python
# files are read from pybind/cambrian. It is installed again only when
# pyproject.toml or a build option changes. Each set of options has its
# own build directory, so that turning the sanitizers on and off does not
# compile everything again.
build_package() {
  local werror=OFF sanitize=OFF build="$ROOT/build/editable"
  [ -n "${CAMBRIAN_WERROR:-}" ] && werror=ON
  [ -n "${CAMBRIAN_SANITIZE:-}" ] && sanitize=ON && build="$build-sanitize"
  local stamp="$VENV/.cambrian-build" key
  key="$(sha1sum < "$ROOT/pyproject.toml" | cut -d' ' -f1) $werror $sanitize"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && import_core; then
    return 0
  fi
  log "building cambrian into $VENV (editable, in $build)"
  rm -f "$stamp"
  # Both options every time: the build directory's cache keeps the last
  # value of an option that is not given.
  (cd "$ROOT" && "$PY" -m pip install -q --no-build-isolation \
     -Cbuild-dir="$build" -Ceditable.rebuild=true -Ceditable.verbose=false \
     -Ccmake.define.CAMBRIAN_WERROR=$werror \
     -Ccmake.define.CAMBRIAN_SANITIZE=$sanitize \
     -e ".[$SETUP_EXTRAS]")
  echo "$key" > "$stamp"
}

install_debs
make_venv
build_package
export PATH="$VENV/bin:$PATH"
