#!/usr/bin/env bash
# Checks an offline installation end to end: scripts/bundle.sh makes a
# bundle (with network), then, where nothing outside the machine can be
# reached (a network namespace of its own, unshare --net, whose only
# interface is a loopback that is down):
#
#   1. every file of the bundle matches its MANIFEST;
#   2. apt, given the bundle's debs/ as its only source, plans the
#      installation of setup.sh's Debian packages on the minimal Debian
#      the bundle assumes (debs/base.status), without a package missing;
#   3. the bundle's source archive is unpacked into a new folder, where
#      CAMBRIAN_BUNDLE=DIR bash scripts/setup.sh creates the environment:
#      pip with no index and no other wheels, a pip cache of its own, and
#      a StarPU cache of its own, so that StarPU is built from the
#      bundle's source package (--quick: this machine's StarPU build is
#      used instead); with --reinstall PKG, Debian package PKG (one that
#      no installed package depends on, such as clinfo) is removed first
#      and setup.sh installs it again from the bundle;
#   4. every Python distribution of the new environment came from the
#      bundle's wheels (except what venv itself installs), pip check
#      passes, the extension links the StarPU built in step 3, cambrian
#      computes on its CPU workers and on an OpenCL device, and
#      tests/python/test_arrays.py passes.
#
# The Debian packages are already installed where the check runs, so
# step 2 only plans their installation, unless --reinstall names one.
#
#   bash tests/bundle/check_bundle.sh [DIR] [--quick] [--reinstall PKG]
#
# DIR keeps the bundle (made or brought up to date there); without it the
# bundle is made in a temporary folder and removed. Needs root (unshare,
# and apt for --reinstall). It takes several minutes: StarPU and cambrian
# are built from scratch.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log() { printf '[check_bundle] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# Whether a TCP connection to address:port $1 opens within 5 s.
probe() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
socket.create_connection((host, int(port)), 5).close()
EOF
}

# The steps that run without network, in folder $2: the script runs
# itself again inside the namespace with --offline.
offline() {
  local bundle=$1 work=$2 quick=$3 reinstall=$4 probe=$5 t
  cd "$work"
  if probe "$probe"; then
    fail "$probe can be reached"
  fi
  log "$probe, reachable outside the namespace, cannot be reached"
  # Caches of its own, but pocl's compiled kernels, as scripts/test.sh.
  local machine_cache="${XDG_CACHE_HOME:-$HOME/.cache}"
  export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$machine_cache/pocl/kcache}"
  export XDG_CACHE_HOME="$work/cache"

  (cd "$bundle" && sed '1,/^$/d' MANIFEST | sha256sum -c --quiet) ||
    fail "the bundle's files do not match its MANIFEST"
  log "1. $(sed '1,/^$/d' "$bundle/MANIFEST" | wc -l) files match MANIFEST"

  local apt="$work/apt"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial"
  cp "$bundle/debs/base.status" "$apt/state/status"
  echo "deb [trusted=yes] file:$bundle/debs ./" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null -o "Dir::State=$apt/state"
    -o "Dir::State::status=$apt/state/status" -o "Dir::Cache=$apt/cache"
    -o APT::Sandbox::User=root)
  apt-get -qq "${opts[@]}" update
  local packages
  packages=$(sed -n 's/^debian-packages: //p' "$bundle/MANIFEST")
  # shellcheck disable=SC2086
  apt-get -s "${opts[@]}" install $packages > "$work/apt.plan" 2>&1 ||
    { cat "$work/apt.plan" >&2; fail "apt cannot install from the bundle"; }
  local planned
  planned=$(grep -c '^Inst ' "$work/apt.plan")
  [ "$planned" -eq "$(find "$bundle/debs" -name '*.deb' | wc -l)" ] ||
    fail "apt plans $planned packages, the bundle has others"
  log "2. apt plans to install $planned packages, all from the bundle," \
    "on a minimal Debian"

  t=$SECONDS
  mkdir -p "$work/src" "$work/cache"
  tar -xzf "$bundle/cambrian.tar.gz" -C "$work/src"
  local starpu_cache="$work/cache/cambrian"
  [ -n "$quick" ] && starpu_cache="$machine_cache/cambrian"
  (cd "$work/src/cambrian" &&
     env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
       -u CAMBRIAN_STARPU_PREFIX -u PKG_CONFIG_PATH \
       PIP_CONFIG_FILE=/dev/null PIP_CACHE_DIR="$work/cache/pip" \
       CAMBRIAN_STARPU_CACHE="$starpu_cache" CAMBRIAN_BUNDLE="$bundle" \
       bash scripts/setup.sh) 2>&1 | tee "$work/setup.log" >&2 ||
    fail "setup.sh failed"
  log "3. setup.sh set the new folder up in $((SECONDS - t)) s"
  if [ -n "$reinstall" ]; then
    dpkg-query -W -f='${Status}' "$reinstall" | grep -q "ok installed" ||
      fail "setup.sh did not install $reinstall again"
    grep -q "installing Debian packages: $reinstall (from $bundle/debs)" \
      "$work/setup.log" || fail "setup.sh did not install $reinstall"
    log "   it installed $reinstall from the bundle"
  fi
  if [ -z "$quick" ]; then
    grep -q "built StarPU .* in [0-9]* s" "$work/setup.log" ||
      fail "setup.sh did not build StarPU"
    log "   it $(grep -o "built StarPU .* in [0-9]* s" "$work/setup.log")" \
      "from the bundle's source"
  fi

  local py="$work/src/cambrian/.venv/bin/python" n
  n=$("$py" - "$bundle/wheels" <<'EOF'
import importlib.metadata as md, os, re, sys
def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()
wheels = {tuple(f.split("-")[:2]) for f in os.listdir(sys.argv[1])}
wheels = {(norm(n), v) for n, v in wheels}
# venv installs pip (replaced from the bundle) and, before Python 3.12,
# setuptools; cambrian itself is built from the source.
own = {"cambrian", "setuptools"}
missing = [f"{d.name} {d.version}" for d in md.distributions()
           if norm(d.name) not in own
           and (norm(d.name), d.version) not in wheels]
if missing:
    sys.exit("not from the bundle: " + ", ".join(sorted(missing)))
print(sum(1 for d in md.distributions() if norm(d.name) not in own))
EOF
  ) || fail "a distribution is not the bundle's"
  "$py" -m pip check >/dev/null || fail "pip check"
  log "4. the environment's $n distributions are the bundle's wheels;" \
    "pip check passes"
  local core lib
  core=$("$py" -c 'import cambrian._core as c; print(c.__file__)')
  lib=$(ldd "$core" | awk '/libstarpu-/{print $3}')
  case $lib in
    "$starpu_cache"/*) log "   the extension links $lib" ;;
    *) fail "the extension links StarPU from $lib, not $starpu_cache" ;;
  esac
  (cd / && "$py" - <<'EOF') || fail "cambrian does not compute"
import numpy as np
import cambrian as cb
x = np.arange(100000, dtype=np.float32)
y = cb.sqrt(cb.asarray(x) * 2.0 + 1.0).numpy()
assert np.allclose(y, np.sqrt(x * 2 + 1)), "CPU workers"
devs = cb.devices("opencl")
assert devs, "no OpenCL device"
z = (cb.asarray(x, device=devs[0]) * 3.0).numpy()
assert np.allclose(z, x * 3), "OpenCL"
print("[check_bundle]    computed on the CPU workers and on",
      devs[0].name, "with StarPU", cb.config()["starpu_version"])
EOF
  (cd "$work/src/cambrian" && "$py" -m pytest -q -p no:cacheprovider \
     tests/python/test_arrays.py | tail -n1 >&2) ||
    fail "tests/python/test_arrays.py"
  log "   tests/python/test_arrays.py passes"
}

if [ "${1:-}" = --offline ]; then
  shift
  offline "$@"
  exit 0
fi

DIR="" QUICK="" REINSTALL=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --reinstall) [ $# -ge 2 ] || exit 2; REINSTALL=$2; shift 2 ;;
    -*) echo "usage: $0 [DIR] [--quick] [--reinstall PKG]" >&2; exit 2 ;;
    *) DIR=$1; shift ;;
  esac
done
[ "$(id -u)" -eq 0 ] || fail "needs root (unshare --net, apt)"
unshare --net true 2>/dev/null || fail "unshare --net does not work here"

WORK=$(mktemp -d)
KEEP=$DIR
[ -n "$DIR" ] || DIR="$WORK/bundle"
cleanup() {
  # A package the check removed is put back from the bundle if the
  # set-up did not.
  if [ -n "$REINSTALL" ] &&
     ! dpkg-query -W -f='${Status}' "$REINSTALL" 2>/dev/null |
       grep -q "ok installed"; then
    log "installing $REINSTALL again"
    dpkg -i "$DIR"/debs/"${REINSTALL}"_*.deb >/dev/null
  fi
  rm -rf "$WORK"
  [ -n "$KEEP" ] || rm -rf "$DIR"
}
trap cleanup EXIT

start=$SECONDS
bash "$ROOT/scripts/bundle.sh" "$DIR"
made=$((SECONDS - start))
log "bundle: $(du -sh "$DIR" | cut -f1)" \
  "($(find "$DIR/debs" -name '*.deb' | wc -l) debs," \
  "$(find "$DIR/wheels" -type f | wc -l) wheels), made in $made s"

if [ -n "$REINSTALL" ]; then
  grep -qw -- "$REINSTALL" <(sed -n 's/^debian-packages: //p' "$DIR/MANIFEST") ||
    fail "$REINSTALL is not one of setup.sh's Debian packages"
  log "removing $REINSTALL, for setup.sh to install from the bundle"
  dpkg -r "$REINSTALL" >/dev/null
fi

# An address of the Python package index that answers here, which the
# offline steps must not reach.
PROBE="$(python3 -c 'import socket; print(socket.gethostbyname("pypi.org"))'):443"
probe "$PROBE" || fail "$PROBE cannot be reached even with network"

start=$SECONDS
mkdir -p "$WORK/offline"
unshare --net bash "$ROOT/tests/bundle/check_bundle.sh" --offline "$DIR" \
  "$WORK/offline" "$QUICK" "$REINSTALL" "$PROBE"
log "passed: bundle made in $made s, offline steps in $((SECONDS - start)) s"
