#!/usr/bin/env bash
# Gathers into folder DIR, on a machine with network, what scripts/setup.sh
# needs on a machine without it, of the same Debian release and
# architecture:
#
#   bash scripts/bundle.sh DIR [--python X.Y]
#
# and there, in the source the bundle carries:
#
#   tar -xzf DIR/cambrian.tar.gz && cd cambrian
#   CAMBRIAN_BUNDLE=DIR bash scripts/setup.sh
#
# DIR then holds
#   debs/            the .deb files of the Debian packages setup.sh installs
#                    and of what apt would install with them on a minimal
#                    Debian (what debootstrap's minbase variant installs:
#                    the Essential and required packages and their
#                    dependencies), recommended packages included as setup.sh
#                    installs them; a Packages index makes the folder an apt
#                    source; base.status lists the minimal Debian assumed;
#   starpu/          Debian's source package of the StarPU setup.sh builds;
#   wheels/          wheels of everything pip installs into the repository's
#                    environment (the build requirement, the package's
#                    dependencies, the extras setup.sh installs, the wheel
#                    group of scripts/wheel.sh, pip) for Python X.Y, by default
#                    the version setup.sh would choose on this machine; what
#                    has no wheel is built into one from its source, with an
#                    interpreter of that version;
#   cambrian.tar.gz  the repository's committed tree (git archive HEAD);
#   MANIFEST         the Debian release, architecture, Python version and
#                    StarPU version the bundle is for, then the SHA-256 of
#                    every file (sha256sum -c reads them).
#
# Running it again on the same DIR brings the bundle up to date: files
# already there are not downloaded again, and ones no longer needed are
# removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The Debian packages, StarPU's versions and options and the Python
# requirements are those of setup.sh, read from it.
# shellcheck source=scripts/setup.sh
CAMBRIAN_SETUP_DEFINITIONS_ONLY=1 source "$ROOT/scripts/setup.sh"

log() { printf '[bundle] %s\n' "$*" >&2; }
usage() {
  echo "usage: bash scripts/bundle.sh DIR [--python X.Y]" >&2
  exit 2
}

DIR="" PYVER=""
while [ $# -gt 0 ]; do
  case $1 in
    --python) [ $# -ge 2 ] || usage; PYVER=$2; shift 2 ;;
    --python=*) PYVER=${1#--python=}; shift ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) [ -z "$DIR" ] || usage; DIR=$1; shift ;;
  esac
done
[ -n "$DIR" ] || usage
case $PYVER in "" | [0-9].[0-9] | [0-9].[0-9][0-9]) ;; *) usage ;; esac
for tool in apt-get apt-cache dpkg-deb git sha256sum; do
  command -v "$tool" >/dev/null || { log "$tool is needed"; exit 1; }
done

# The Debian packages. apt works on files of its own under WORK (the
# system's sources, its own lists and cache), so that the system's apt
# state is left as it is and what is installed on this machine changes
# nothing: apt first chooses a minimal Debian from an empty system, then,
# with that as the installed system, downloads what installing setup.sh's
# packages would bring.
bundle_debs() {
  local apt="$WORK/apt" debs="$DIR/debs" required base
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$debs"
  : > "$apt/state/status"
  local opts=(-o "Dir::State=$apt/state" -o "Dir::State::status=$apt/state/status"
    -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  log "reading Debian's package lists"
  apt-get -qq "${opts[@]}" update
  apt-cache "${opts[@]}" dumpavail > "$apt/avail"
  required=$(awk '/^Package: /{p=$2} /^(Priority: required|Essential: yes)$/{print p}' \
    "$apt/avail" | sort -u)
  # Word splitting is wanted: package names have no spaces.
  # shellcheck disable=SC2086
  base=$(apt-get "${opts[@]}" -s --no-install-recommends install $required |
    awk '/^Inst /{print $2}')
  # The minimal system as a dpkg status file: the chosen packages'
  # records, marked installed.
  awk -v list="$base" 'BEGIN { RS = ""; n = split(list, a, "\n")
                               for (i = 1; i <= n; i++) want[a[i]] = 1 }
    { split($0, l, "\n"); p = substr(l[1], 10)
      if (l[1] ~ /^Package: / && p in want)
        printf "%s\nStatus: install ok installed\n\n", $0 }' \
    "$apt/avail" > "$apt/state/status"
  cp "$apt/state/status" "$debs/base.status"
  # shellcheck disable=SC2086
  apt-get -qq "${opts[@]}" --print-uris install $DEB_PACKAGES |
    awk '{print $2}' | sort > "$apt/wanted"
  log "downloading $(wc -l < "$apt/wanted") Debian packages into $debs"
  # shellcheck disable=SC2086
  apt-get -qq -y "${opts[@]}" -o "Dir::Cache::archives=$debs/" \
    --download-only install $DEB_PACKAGES >/dev/null
  rm -rf "$debs/partial" "$debs/lock"
  local f
  for f in "$debs"/*.deb; do
    grep -qxF "${f##*/}" "$apt/wanted" || rm -f "$f"
  done
  # The index of a flat apt source, made with dpkg-deb alone, and a
  # Release file that names it, so that apt looks for no other index. They
  # are written again only when the packages change.
  for f in "$debs"/*.deb; do
    dpkg-deb -f "$f"
    echo "Filename: ./${f##*/}"
    echo "Size: $(stat -c %s "$f")"
    echo "SHA256: $(sha256sum "$f" | cut -d' ' -f1)"
    echo
  done > "$apt/Packages"
  if ! cmp -s "$apt/Packages" "$debs/Packages" || [ ! -f "$debs/Release" ]
  then
    mv "$apt/Packages" "$debs/Packages"
    {
      echo "Date: $(date -u -R)"
      echo "SHA256:"
      echo " $(sha256sum "$debs/Packages" | cut -d' ' -f1)" \
        "$(stat -c %s "$debs/Packages") Packages"
    } > "$debs/Release"
  fi
}

# StarPU's source package, as setup.sh would fetch it.
bundle_starpu() {
  local lock v
  mkdir -p "$STARPU_CACHE"
  # starpu_fetch uses apt files of the cache, which setup.sh may be using.
  exec {lock}>"$STARPU_CACHE/starpu.lock"
  flock "$lock"
  v=$(starpu_fetch "$WORK/starpu" --download-only) || exit 1
  exec {lock}>&-
  rm -rf "$DIR/starpu" "$WORK/starpu.log"
  mv "$WORK/starpu" "$DIR/starpu"
  STARPU_VERSION=$v
}

# The Python that makes the wheels, PY (setup.sh's functions read
# pyproject.toml with it), and the version they are for, PYVER. An
# interpreter of that version builds into wheels what has only a source
# distribution; without one, pip downloads wheels for that version, and
# fails if one is missing.
choose_python() {
  local c
  for c in ${PYVER:+python$PYVER}; do
    if command -v "$c" >/dev/null 2>&1 &&
       [ "$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
            2>/dev/null)" = "$PYVER" ]; then
      PY=$(command -v "$c")
      NATIVE=1
      return 0
    fi
  done
  PY=$(find_python)
  local own
  own=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  NATIVE=""
  if [ -z "$PYVER" ] || [ "$PYVER" = "$own" ]; then
    PYVER=$own
    NATIVE=1
  fi
  if ! "$PY" - "$ROOT/pyproject.toml" "$PYVER" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    spec = tomllib.load(f)["project"]["requires-python"]
need = tuple(int(x) for x in spec[2:].split("."))
sys.exit(tuple(int(x) for x in sys.argv[2].split(".")) < need)
EOF
  then
    log "cambrian needs Python $(sed -n 's/^requires-python = "\(.*\)"/\1/p' \
      "$ROOT/pyproject.toml"), not $PYVER"
    exit 1
  fi
}

bundle_wheels() {
  local new="$DIR/wheels.new" kinds=(build project group:wheel) e reqs
  for e in ${SETUP_EXTRAS//,/ }; do kinds+=("extra:$e"); done
  reqs="pip $(pyproject_requirements "${kinds[@]}" | tr '\n' ' ')"
  rm -rf "$new" && mkdir -p "$new"
  log "gathering wheels for Python $PYVER into $DIR/wheels"
  # Word splitting is wanted: requirements have no spaces.
  # shellcheck disable=SC2086
  if [ -n "$NATIVE" ]; then
    "$PY" -m pip wheel -q --prefer-binary -w "$new" $reqs
  else
    local platforms
    # The platforms this machine's wheels may be built for, newest first;
    # they do not depend on the Python version.
    platforms=$("$PY" -c '
from pip._vendor.packaging.tags import platform_tags
print(" ".join("--platform=" + p for p in platform_tags()))')
    # shellcheck disable=SC2086
    if ! "$PY" -m pip download -q --only-binary=:all: --implementation=cp \
         --python-version="$PYVER" $platforms -d "$new" $reqs; then
      log "a requirement has no wheel for Python $PYVER: with a" \
        "python$PYVER on PATH, what has none is built from its source"
      exit 1
    fi
  fi
  rm -rf "$DIR/wheels"
  mv "$new" "$DIR/wheels"
}

# The source, as committed.
bundle_source() {
  local dirty
  dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no)
  [ -z "$dirty" ] ||
    log "warning: changes not committed are not in cambrian.tar.gz"
  git -C "$ROOT" archive --format=tar.gz --prefix=cambrian/ \
    -o "$DIR/cambrian.tar.gz" HEAD
}

write_manifest() {
  local version
  version=$(sed -nE 's/^project\(cambrian +VERSION +([0-9.]+).*/\1/p' \
    "$ROOT/CMakeLists.txt")
  {
    echo "# What scripts/setup.sh needs without network, for a machine of"
    echo "# this Debian release and architecture with this Python version:"
    echo "# CAMBRIAN_BUNDLE=<this folder> bash scripts/setup.sh"
    echo "debian: $(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")"
    echo "debian-version: $(cat /etc/debian_version)"
    echo "arch: $(dpkg --print-architecture)"
    echo "python: $PYVER"
    echo "starpu: $STARPU_VERSION"
    echo "cambrian: $version $(git -C "$ROOT" rev-parse HEAD)"
    # shellcheck disable=SC2086,SC2116
    echo "debian-packages: $(echo $DEB_PACKAGES)"
    echo "extras: $SETUP_EXTRAS"
    echo
    (cd "$DIR" && find . -type f ! -name MANIFEST -printf '%P\n' | sort |
       xargs -d '\n' sha256sum)
  } > "$DIR/MANIFEST"
}

start=$SECONDS
choose_python
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
bundle_debs
bundle_starpu
bundle_wheels
bundle_source
write_manifest
log "$DIR: $(du -sh "$DIR" | cut -f1), made in $((SECONDS - start)) s" \
  "(Debian $(sed -n 's/^debian: //p' "$DIR/MANIFEST")," \
  "$(dpkg --print-architecture), Python $PYVER, StarPU $STARPU_VERSION)"
