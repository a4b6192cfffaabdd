#!/usr/bin/env bash
# Brings a Debian machine to the state cambrian needs: system packages,
# StarPU (built from Debian's source into the user's cache), a virtual
# environment at the repository root, and the package installed into it in
# editable mode. Sourced by demo.sh, test.sh, bench.sh and
# wheel.sh; every step is skipped when already done, so a machine that is
# set up reaches the real work in a few seconds.
#
# Python requirements are not listed here: they are read from
# pyproject.toml (build-system.requires, the extras, the dependency
# groups), so that the scripts and the package's metadata agree.
#
# On a machine without network, CAMBRIAN_BUNDLE names a folder that
# scripts/bundle.sh filled on a machine with network: the Debian packages,
# StarPU's source and the Python packages then come from it (see
# bundle_init).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

# StarPU is not among them: Debian's binary package caps CPU workers at 4,
# so StarPU is built from Debian's source package (see ensure_starpu);
# mpi-default-dev (Open MPI) is for its StarPU-MPI library, and
# mpi-default-bin (mpirun) for distributed runs and their tests; clang and
# libclang-rt-dev (its libFuzzer and sanitizer runtimes) are for the
# fuzzing programs (fuzz.sh).
DEB_PACKAGES="build-essential cmake pkg-config libhwloc-dev
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo libopenblas-dev
  libclblast-dev clblast-utils mpi-default-dev mpi-default-bin clang
  libclang-rt-dev patch"
# The extras the repository's environment gets (see pyproject.toml).
SETUP_EXTRAS="test,plot,docs"

log() { printf '[setup] %s\n' "$*" >&2; }

# The bundle CAMBRIAN_BUNDLE names (an absolute path), and the Python
# version its wheels are for; empty without one.
BUNDLE=""
BUNDLE_PYTHON=""

# A field of the bundle's MANIFEST.
bundle_field() { sed -n "s/^$1: //p" "$BUNDLE/MANIFEST" | head -n1; }

# Reads the bundle, if CAMBRIAN_BUNDLE names one, and makes pip install
# from its wheels only, here and in the scripts that source this one.
bundle_init() {
  [ -n "${CAMBRIAN_BUNDLE:-}" ] || return 0
  if ! BUNDLE=$(cd "$CAMBRIAN_BUNDLE" 2>/dev/null && pwd) ||
     [ ! -f "$BUNDLE/MANIFEST" ]; then
    log "CAMBRIAN_BUNDLE=$CAMBRIAN_BUNDLE is not a folder made by" \
      "scripts/bundle.sh (it has no MANIFEST)"
    return 1
  fi
  BUNDLE_PYTHON=$(bundle_field python)
  if [ -z "$BUNDLE_PYTHON" ]; then
    log "$BUNDLE/MANIFEST names no Python version"
    return 1
  fi
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="$BUNDLE/wheels"
}

# Fails unless the bundle's Debian packages were gathered for this
# machine's Debian release and architecture.
bundle_check_debian() {
  local want have
  want="$(bundle_field debian) $(bundle_field arch)"
  have="$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")"
  have="$have $(dpkg --print-architecture)"
  [ "$want" = "$have" ] && return 0
  log "the bundle's Debian packages are for $want, this machine is $have"
  return 1
}

install_debs() {
  local missing=""
  for p in $DEB_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
      || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  log "installing Debian packages:$missing${BUNDLE:+ (from $BUNDLE/debs)}"
  local sudo="" apt="" opts=()
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -n "$BUNDLE" ]; then
    bundle_check_debian || return 1
    # The bundle's debs/ is apt's only source, through files of its own:
    # nothing is downloaded, and the system's apt configuration is left
    # as it is.
    apt=$(mktemp -d)
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    echo "deb [trusted=yes] file:$BUNDLE/debs ./" > "$apt/sources.list"
    opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
      -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt/lists"
      -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  fi
  $sudo apt-get update -qq "${opts[@]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${opts[@]}" \
    $missing >/dev/null
  [ -z "$apt" ] || rm -rf "$apt"
}

# StarPU. Debian's binary package caps CPU workers at 4 (STARPU_MAXCPUS),
# so StarPU is built from Debian's source package with the options below
# into a prefix of the user's cache, outside the checkout, which every
# clone on the machine shares: starpu-VERSION-HASH, HASH naming the
# options. A build is reused while its stamp records the version and the
# options it was made with; the network is needed only to make one, and
# not even then with a bundle (CAMBRIAN_BUNDLE), whose source is used.
# Nothing is built when CAMBRIAN_STARPU_PREFIX names a StarPU prefix to
# use, or when pkg-config finds an installed StarPU that runs at least
# STARPU_MIN_CPUS CPU workers.
#
# The newest 1.4.x that Debian's suites below offer is preferred, then the
# newest 1.3.x; CAMBRIAN_STARPU_VERSION (1.3, 1.4.10, 1.4.10+dfsg-2)
# chooses among them, and asks for a build even where a suitable StarPU
# is installed. The sources are listed through apt files of the
# cache's own: the system's apt configuration is left as it is.
STARPU_MIN_CPUS=256
STARPU_SERIES="1.4 1.3"
STARPU_SUITES="sid trixie bookworm"
STARPU_MIRROR=${CAMBRIAN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
STARPU_CACHE=${CAMBRIAN_STARPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cambrian}
# OpenCL and StarPU-MPI on; CUDA, FxT, static libraries, examples, tests,
# documentation and the extensions cambrian does not use off; GLPK (GPL,
# which a wheel would then carry) and PAPI off whether installed or not.
# The NUMA node count is fixed, not read from the building machine.
STARPU_OPTIONS="--enable-maxcpus=$STARPU_MIN_CPUS --enable-maxnumanodes=4
  --enable-opencl --disable-cuda --enable-mpi --disable-fxt --disable-static
  --disable-build-examples --disable-build-tests --disable-build-doc
  --disable-fortran --disable-openmp --disable-socl --disable-starpufft
  --disable-starpupy --disable-hdf5 --disable-glpk --disable-papi"
# Patches of scripts/starpu/ applied to the source where they apply (a
# 1.4 source; a 1.3 one builds without them): opencl-task-event.patch
# lets an asynchronous OpenCL codelet end its task with an event of its
# own, which cambrian's codelets need to run asynchronously;
# opencl-unfinished-events.patch (applied after it) makes StarPU ask
# cambrian about OpenCL events that do not complete, so that nothing
# waits for ever on, or aborts over, an event of a lost device;
# messages.patch hands StarPU's messages to a function instead of
# stderr, which cambrian forwards to Python's logging.
STARPU_PATCHES=("$ROOT"/scripts/starpu/*.patch)
# The options, the patches, and how the installed files are adjusted
# (starpu_install's revision), name the build.
# shellcheck disable=SC2086,SC2116
STARPU_RECIPE="$(echo $STARPU_OPTIONS) install-4 $(cat "${STARPU_PATCHES[@]}" | sha1sum | cut -c1-10)"
STARPU_HASH=$(printf '%s' "$STARPU_RECIPE" | sha1sum | cut -c1-10)

# Whether Debian version $1 is one to use.
starpu_wanted() {
  local want=${CAMBRIAN_STARPU_VERSION:-} s
  if [ -n "$want" ]; then
    case $1 in "$want" | "$want".* | "$want"+* | "$want"-*) return 0 ;; esac
    return 1
  fi
  for s in $STARPU_SERIES; do
    case $1 in "$s".*) return 0 ;; esac
  done
  return 1
}

# The first of starpu-1.4 and starpu-1.3 that pkg-config finds, the order
# in which CMakeLists.txt looks for them.
starpu_module() {
  local m
  for m in starpu-1.4 starpu-1.3; do
    pkg-config --exists "$m" 2>/dev/null && { echo "$m"; return 0; }
  done
  return 1
}

# STARPU_MAXCPUS of the StarPU that pkg-config finds (module $1).
starpu_maxcpus() {
  local dir
  for dir in $(pkg-config --cflags-only-I "$1"); do
    dir=${dir#-I}
    if [ -f "$dir/starpu_config.h" ]; then
      sed -nE 's/^#define STARPU_MAXCPUS ([0-9]+).*/\1/p' "$dir/starpu_config.h"
      return 0
    fi
  done
  echo 0
}

# The prefix of the newest usable build in the cache, if any.
starpu_cached() {
  local stamp v
  for stamp in "$STARPU_CACHE"/starpu-*-"$STARPU_HASH"/.cambrian-starpu; do
    [ -f "$stamp" ] || continue
    v=$(head -n1 "$stamp")
    [ "$(cat "$stamp")" = "$(printf '%s\n%s' "$v" "$STARPU_RECIPE")" ] &&
      starpu_wanted "$v" && echo "$v ${stamp%/*}"
  done | sort -V -r -k1,1 | head -n1 | cut -d' ' -f2-
}

# Fetches and unpacks the source of the newest wanted StarPU that Debian
# offers into directory $1; prints its Debian version. Further arguments
# go to apt-get source (scripts/bundle.sh passes --download-only).
starpu_fetch() {
  local dest=$1 apt="$STARPU_CACHE/apt" s signed="" v
  shift
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] && signed=" [signed-by=$keyring]"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  for s in $STARPU_SUITES; do
    echo "deb-src$signed $STARPU_MIRROR $s main"
  done > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  apt-get -qq "${opts[@]}" update >&2 || return 1
  for v in $(apt-cache "${opts[@]}" showsrc starpu |
             sed -n 's/^Version: //p' | sort -u -V -r); do
    starpu_wanted "$v" || continue
    log "fetching the source of StarPU $v from Debian"
    rm -rf "$dest" && mkdir -p "$dest"
    if (cd "$dest" && apt-get -qq "${opts[@]}" source "$@" "starpu=$v") \
         >"$dest.log" 2>&1; then
      echo "$v"
      return 0
    fi
    log "could not fetch StarPU $v: $(grep -m1 '^E:' "$dest.log" || true)"
  done
  log "Debian offers no StarPU source that fits (${CAMBRIAN_STARPU_VERSION:-$STARPU_SERIES})"
  return 1
}

# Unpacks the bundle's StarPU source (Debian's source package, which
# scripts/bundle.sh fetched) into directory $1; prints its Debian version.
starpu_unpack() {
  local dest=$1 dsc v
  dsc=("$BUNDLE"/starpu/starpu_*.dsc)
  if [ ! -f "${dsc[0]}" ]; then
    log "the bundle has no StarPU source"
    return 1
  fi
  v=$(sed -n 's/^Version: //p' "${dsc[0]}")
  if ! starpu_wanted "$v"; then
    log "the bundle's StarPU $v is not one to use" \
      "(${CAMBRIAN_STARPU_VERSION:-$STARPU_SERIES})"
    return 1
  fi
  log "unpacking the source of StarPU $v from the bundle"
  rm -rf "$dest" && mkdir -p "$dest"
  if ! (cd "$dest" && dpkg-source -x "${dsc[0]}") >"$dest.log" 2>&1; then
    tail -n 5 "$dest.log" >&2
    log "could not unpack the bundle's StarPU source"
    return 1
  fi
  echo "$v"
}

# Puts StarPU's source into directory $1, from the bundle if there is
# one, else from Debian; prints its Debian version.
starpu_source() {
  if [ -n "$BUNDLE" ]; then starpu_unpack "$1"; else starpu_fetch "$1"; fi
}

# Builds and installs StarPU from source directory $1 into prefix $2,
# stripped of debugging information (a wheel copies the library), then
# adjusts its pkg-config files: programs linked through them find the
# library at run time (an rpath), and the STARPU_OPENCL_DATADIR macro,
# whose quotes are meant for make and break $(pkg-config --cflags) in a
# shell, is left out (only StarPU's own examples use it).
#
# StarPU 1.4 looks for the sample performance models of its installation
# directory at every start and, when they are gone (the library copied
# into a wheel, the prefix moved), warns whatever STARPU_SILENT says: the
# warning is made one that STARPU_SILENT silences.
starpu_install() {
  local src=$1 prefix=$2 build="$2.build" log="$2.log"
  rm -rf "$prefix" "$build" && mkdir -p "$build"
  sed -i -E 's/_STARPU_MSG(\("Warning: directory <%s> as set %s does not exist)/_STARPU_DISP\1/' \
    "$src/src/core/perfmodel/perfmodel.c"
  local p
  for p in "${STARPU_PATCHES[@]}"; do
    if patch -d "$src" -p1 --dry-run -s -f <"$p" >/dev/null 2>&1; then
      patch -d "$src" -p1 -s -f <"$p"
    else
      log "StarPU built without ${p##*/}: it does not apply to this source"
    fi
  done
  log "building StarPU into $prefix (log: $log)"
  # Word splitting is wanted: the options have no spaces.
  # shellcheck disable=SC2086
  if ! (cd "$build" && "$src/configure" --prefix="$prefix" $STARPU_OPTIONS &&
        make -j"$(nproc)" && make install-strip) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    log "the StarPU build failed (log: $log)"
    return 1
  fi
  rm -rf "$build"
  find "$prefix/lib" -name '*.la' -delete
  # shellcheck disable=SC2016
  sed -i -E -e 's/ *-DSTARPU_OPENCL_DATADIR=[^ ]*//' \
    -e 's/^(Libs:.*-L\$\{libdir\})/\1 -Wl,-rpath,${libdir}/' \
    "$prefix"/lib/pkgconfig/*.pc
}

# Makes a StarPU with the wanted cap available, if none is, and exports
# PKG_CONFIG_PATH for it and CAMBRIAN_STARPU_PREFIX.
ensure_starpu() {
  local prefix=${CAMBRIAN_STARPU_PREFIX:-} m lock
  if [ -z "$prefix" ]; then
    [ -z "${CAMBRIAN_STARPU_VERSION:-}" ] && m=$(starpu_module) &&
      [ "$(starpu_maxcpus "$m")" -ge "$STARPU_MIN_CPUS" ] && return 0
    prefix=$(starpu_cached)
  fi
  if [ -z "$prefix" ]; then
    mkdir -p "$STARPU_CACHE"
    # One build at a time; a set-up that waited finds the other's build.
    exec {lock}>"$STARPU_CACHE/starpu.lock"
    flock "$lock"
    prefix=$(starpu_cached)
    if [ -z "$prefix" ]; then
      local src="$STARPU_CACHE/starpu-source" v start=$SECONDS
      if v=$(starpu_source "$src"); then
        prefix="$STARPU_CACHE/starpu-$v-$STARPU_HASH"
        if starpu_install "$(echo "$src"/starpu-*/)" "$prefix"; then
          printf '%s\n%s\n' "$v" "$STARPU_RECIPE" > "$prefix/.cambrian-starpu"
          log "built StarPU $v in $((SECONDS - start)) s"
        else
          prefix=""
        fi
      fi
      rm -rf "$src" "$src.log"
    fi
    exec {lock}>&-
  fi
  if [ -z "$prefix" ]; then
    m=$(starpu_module) || { log "no StarPU to build cambrian with"; return 1; }
    log "warning: using the installed StarPU ($m), which runs at most" \
      "$(starpu_maxcpus "$m") CPU workers"
    return 0
  fi
  case ":${PKG_CONFIG_PATH:-}:" in
    *":$prefix/lib/pkgconfig:"*) ;;
    *) export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" ;;
  esac
  export CAMBRIAN_STARPU_PREFIX=$prefix
}

# A Python that satisfies requires-python (which is ">=X.Y"); one too old
# to have tomllib (3.11) cannot read it and is passed over too. With a
# bundle, only the Python version its wheels are for will do.
find_python() {
  local c candidates="python3.13 python3.12 python3.11 python3"
  [ -n "$BUNDLE" ] && candidates="python$BUNDLE_PYTHON python3"
  for c in $candidates; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" - "$ROOT/pyproject.toml" "$BUNDLE_PYTHON" 2>/dev/null <<'EOF'
import sys, tomllib, venv
with open(sys.argv[1], "rb") as f:
    spec = tomllib.load(f)["project"]["requires-python"]
assert spec.startswith(">=")
need = tuple(int(x) for x in spec[2:].split("."))
assert sys.version_info[:len(need)] >= need
assert sys.argv[2] in ("", "%d.%d" % sys.version_info[:2])
EOF
    then
      command -v "$c"; return 0
    fi
  done
  if [ -n "$BUNDLE" ]; then
    log "no Python $BUNDLE_PYTHON with venv, the version of the bundle's wheels"
  else
    log "no Python with venv that satisfies pyproject.toml's requires-python"
  fi
  return 1
}

# Prints the requirements of the named lists of pyproject.toml, one a line:
# "build" (build-system.requires), "project" (the package's dependencies),
# "extra:NAME" (an optional dependency list), "group:NAME" (a dependency
# group).
pyproject_requirements() {
  "$PY" - "$ROOT/pyproject.toml" "$@" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
for name in sys.argv[2:]:
    kind, _, key = name.partition(":")
    if kind == "build":
        reqs = meta["build-system"]["requires"]
    elif kind == "project":
        reqs = meta["project"]["dependencies"]
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
  if [ -n "$BUNDLE" ] && ! "$PY" -c "import sys
sys.exit('%d.%d' % sys.version_info[:2] != '$BUNDLE_PYTHON')"; then
    log "$VENV runs another Python than $BUNDLE_PYTHON, the version of the" \
      "bundle's wheels: remove it, or make a bundle for its version"
    return 1
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
  # A change of StarPU (another build, version or prefix) installs again,
  # which configures again: CMake then looks for StarPU afresh.
  local m
  m=$(starpu_module) &&
    key="$key $m $(pkg-config --modversion "$m") $(pkg-config --variable=libdir "$m")"
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

# scripts/bundle.sh reads the lists and functions above, and sets up
# nothing.
[ -n "${CAMBRIAN_SETUP_DEFINITIONS_ONLY:-}" ] && return 0

bundle_init
install_debs
ensure_starpu
make_venv
build_package
export PATH="$VENV/bin:$PATH"
