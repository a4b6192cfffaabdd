#!/usr/bin/env bash
# Builds a wheel of cambrian and checks it as a user would get it:
#  1. pip wheel builds it (build directory build/wheel);
#  2. auditwheel repairs it: StarPU, hwloc, OpenBLAS, CLBlast and what they
#     link to are copied into the wheel (cambrian.libs/), while the OpenCL
#     ICD loader, libOpenCL.so.1, is left to the system, which also
#     provides the drivers it loads; the platform tag is the most
#     compatible manylinux tag that auditwheel show finds for this machine;
#  3. the repaired wheel is installed into its own virtual environment,
#     build/wheel-venv, with its test and plot extras;
#  4. from outside the source tree, that environment checks that cambrian
#     and StarPU load from the installed wheel and that the versions
#     agree, then runs the Python test suite.
# The repaired wheel is left in build/wheelhouse.
#
# usage: bash scripts/wheel.sh [--quick] [pytest arguments]
# --quick runs tests/python/test_arrays.py instead of the whole suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
install_requirements wheel group:wheel

tests="$ROOT/tests/python"
if [ "${1:-}" = --quick ]; then
  tests="$ROOT/tests/python/test_arrays.py"
  shift
fi

start=$SECONDS
step() { printf '[wheel] %s (%d s)\n' "$*" $((SECONDS - start)) >&2; }
fail() { printf '[wheel] %s\n' "$*" >&2; exit 1; }

DIST="$ROOT/build/dist"
HOUSE="$ROOT/build/wheelhouse"
WVENV="$ROOT/build/wheel-venv"
WPY="$WVENV/bin/python"

# 1. A release build: the sanitizers stay off whatever CAMBRIAN_SANITIZE
#    says; warnings are errors as in the other builds.
werror=OFF
[ -n "${CAMBRIAN_WERROR:-}" ] && werror=ON
rm -rf "$DIST"
step "building"
"$PY" -m pip wheel -q --no-build-isolation --no-deps -w "$DIST" \
  -Cbuild-dir="$ROOT/build/wheel" \
  -Ccmake.define.CAMBRIAN_WERROR=$werror \
  -Ccmake.define.CAMBRIAN_SANITIZE=OFF .
raw=$(echo "$DIST"/cambrian-*.whl)

# 2. Repairing is skipped when its inputs are those of the last repair: the
#    files of the wheel, the libraries its extension links to (path, size,
#    time) and auditwheel's version.
key=$("$PY" - "$raw" <<'EOF'
import hashlib, importlib.metadata, os, re, subprocess, sys, tempfile, zipfile
h = hashlib.sha256(importlib.metadata.version("auditwheel").encode())
with zipfile.ZipFile(sys.argv[1]) as z, tempfile.TemporaryDirectory() as d:
    for name in sorted(z.namelist()):
        if not name.endswith(".dist-info/RECORD"):
            h.update(name.encode() + b"\0" + z.read(name))
        if re.fullmatch(r"cambrian/_core\..*\.so", name):
            ldd = subprocess.run(["ldd", z.extract(name, d)], check=True,
                                 capture_output=True, text=True).stdout
            for path in sorted(re.findall(r"=> (/\S+)", ldd)):
                st = os.stat(path)
                h.update(f"{path} {st.st_size} {st.st_mtime_ns}".encode())
print(h.hexdigest())
EOF
)
whl=$(ls "$HOUSE"/cambrian-*.whl 2>/dev/null || true)
if [ -n "$whl" ] && [ "$(cat "$HOUSE/.inputs" 2>/dev/null)" = "$key" ]; then
  step "unchanged since the last repair: $(basename "$whl")"
else
  rm -rf "$HOUSE"
  # auditwheel show names the most compatible tag the wheel allows.
  plat=$(auditwheel show "$raw" 2>/dev/null | tr '\n' ' ' |
    sed -nE 's/.*constrains the platform tag to "([^"]+)".*/\1/p') || plat=""
  [ -n "$plat" ] || fail "auditwheel show named no platform tag for $raw"
  step "repairing for $plat"
  auditwheel repair -w "$HOUSE" --plat "$plat" --exclude libOpenCL.so.1 \
    "$raw" 2>&1 | sed '/^INFO:/d' >&2
  whl=$(echo "$HOUSE"/cambrian-*-"$plat".whl)
  "$PY" - "$whl" <<'EOF'
import re, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
libs = [n.split("/", 1)[1] for n in names if n.startswith("cambrian.libs/")]
missing = [lib for lib in ("starpu", "hwloc", "openblas", "clblast")
           if not any(n.startswith(f"lib{lib}") for n in libs)]
if missing or any(n.startswith("libOpenCL") for n in libs):
    sys.exit(f"[wheel] vendored libraries are wrong: {libs}")
EOF
  echo "$key" > "$HOUSE/.inputs"
fi

# 3. Its own environment; the package is installed again whenever it was
#    repaired again, its dependencies only when missing.
if [ "$(cat "$WVENV/.cambrian-wheel" 2>/dev/null)" != "$key" ]; then
  step "installing into $WVENV"
  [ -x "$WPY" ] || "$PY" -m venv "$WVENV"
  rm -f "$WVENV/.cambrian-wheel"
  "$WPY" -m pip install -q --force-reinstall --no-deps "$whl"
  "$WPY" -m pip install -q "$whl[$SETUP_EXTRAS]"
  echo "$key" > "$WVENV/.cambrian-wheel"
fi

# 4. From a directory outside the source tree, with nothing added to the
#    module path: cambrian must come from the environment, StarPU from the
#    wheel's copy. The check and the tests share one process, so the tests
#    use the module that was checked.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl/kcache}"
export XDG_CACHE_HOME="$ROOT/build/cache"
unset PYTHONPATH
step "testing from $WVENV"
cd "$WVENV"
version=$(sed -nE 's/^project\(cambrian +VERSION +([0-9.]+).*/\1/p' \
  "$ROOT/CMakeLists.txt")
cli=$("$WPY" -m cambrian --version)
status=0
"$WPY" - "$WVENV" "$version" "$cli" "$whl" "$tests" "$@" <<'EOF' || status=1
import importlib.metadata, os, sys

venv, version, cli, whl, *args = sys.argv[1:]
import cambrian
import cambrian._core


def fail(msg):
    sys.exit(f"[wheel] {msg}")


where = os.path.realpath(os.path.dirname(cambrian.__file__))
if not where.startswith(os.path.realpath(venv) + os.sep):
    fail(f"cambrian was imported from {where}, not from {venv}")
found = {"metadata": importlib.metadata.version("cambrian"),
         "cambrian.__version__": cambrian.__version__,
         "python -m cambrian --version": cli.split()[-1],
         "wheel name": os.path.basename(whl).split("-")[1],
         "CMakeLists.txt": version}
if len(set(found.values())) != 1:
    fail(f"versions disagree: {found}")
with open("/proc/self/maps") as f:
    maps = {line.split()[-1] for line in f if "/" in line}
starpu = [m for m in maps if "libstarpu" in m]
if not starpu or not all("/cambrian.libs/" in m for m in starpu):
    fail(f"StarPU was not loaded from the wheel: {starpu}")
print(f"[wheel] cambrian {cambrian.__version__} from {where}, "
      f"StarPU from {os.path.dirname(starpu[0])}")

import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *args]))
EOF
result=passed
[ $status = 0 ] || result=FAILED
step "$result: $(basename "$whl"), $(du -h "$whl" | cut -f1)"
exit $status
