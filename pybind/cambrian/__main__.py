"""python -m cambrian info: what cambrian sees on this machine.
python -m cambrian calibrate [--fresh]: fill the performance models.
python -m cambrian --version: the installed version."""

import os
import platform
import re
import subprocess
import sys
import sysconfig


def _gib(n):
    return f"{n / 2**30:.1f} GiB"


# ---- OpenCL drivers that no ICD file registers ------------------------------

def _ldconfig_dirs():
    """The folders of the drivers that the dynamic linker's cache lists."""
    for exe in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            out = subprocess.run([exe, "-p"], capture_output=True,
                                 text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        dirs = []
        for line in out.splitlines():
            name, _, path = line.strip().partition(" => ")
            name = name.split(" ", 1)[0]
            if path and _DRIVER_RE.match(name) and \
                    not _NOT_DRIVER_RE.match(name):
                d = os.path.dirname(path)
                if d not in dirs:
                    dirs.append(d)
        return dirs
    return []


def _opencl_lib_dirs():
    """Where OpenCL drivers are usually installed, after the directories of
    LD_LIBRARY_PATH; then those of drivers the linker's cache lists."""
    arch = sysconfig.get_config_var("MULTIARCH") or \
        f"{platform.machine()}-linux-gnu"
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    dirs += ["/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
             f"/usr/lib/{arch}", f"/lib/{arch}", "/usr/lib64", "/usr/lib",
             "/usr/local/lib", "/opt/rocm/lib", "/opt/rocm/opencl/lib",
             "/opt/amdgpu-pro/lib64", "/opt/intel/opencl/lib64",
             "/opt/intel/opencl"]
    return dirs + [d for d in _ldconfig_dirs() if d not in dirs]


# Folders searched for drivers; tests replace it.
OPENCL_LIB_DIRS = None

# Drivers: anything named lib*opencl*.so*, and AMD's, Intel's and pocl's
# libraries, whose names lack "opencl". The ICD loader (libOpenCL) and
# Intel's compiler front end (libopencl-clang) are no drivers.
_DRIVER_RE = re.compile(
    r"^lib(.*opencl.*|amdocl.*|intelocl.*|pocl)\.so(\.[0-9.]+)?$", re.I)
_NOT_DRIVER_RE = re.compile(r"^libopencl(\.so|-clang)", re.I)

# The word that names a driver's vendor, and the words its platform's name
# or vendor holds.
_VENDORS = [("nvidia", ("nvidia",)), ("amd", ("amd", "advanced micro")),
            ("intel", ("intel",)), ("pocl", ("pocl", "portable computing")),
            ("rusticl", ("rusticl",)), ("mesa", ("mesa", "clover"))]


def _vendor_of(name):
    """The vendor word of a driver's file name, e.g. nvidia for
    libnvidia-opencl.so.1."""
    low = name.lower()
    for word, _ in _VENDORS:
        if word in low:
            return word
    stem = re.sub(r"^lib|\.so.*$|opencl|ocl|[^a-z]", "", low)
    return stem or "opencl"


def _icd_entries():
    """The libraries that the ICD loader is told about: the lines of the
    .icd files it reads (those of OCL_ICD_VENDORS, a folder or one file,
    else those of /etc/OpenCL/vendors). OCL_ICD_FILENAMES does not count:
    ocl-icd, the loader of Debian and Ubuntu, does not read it."""
    files = []
    vendors = os.environ.get("OCL_ICD_VENDORS")
    if not vendors:
        vendors = "/etc/OpenCL/vendors"
    elif not os.path.isabs(vendors) and not os.path.exists(vendors):
        vendors = os.path.join("/etc/OpenCL/vendors", vendors)
    if os.path.isdir(vendors):
        try:
            names = sorted(os.listdir(vendors))
        except OSError:
            names = []
        files = [os.path.join(vendors, n) for n in names
                 if n.endswith(".icd")]
    elif os.path.isfile(vendors):
        files = [vendors]
    entries = []
    for f in files:
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                entries += [ln.strip() for ln in fh if ln.strip()]
        except OSError:
            pass
    return entries


def unregistered_opencl_drivers(platforms):
    """OpenCL drivers found on disk that no ICD file registers and whose
    vendor has no platform among platforms (dicts with 'name' and
    'vendor'), as (path, vendor word), one per vendor."""
    dirs = OPENCL_LIB_DIRS if OPENCL_LIB_DIRS is not None \
        else _opencl_lib_dirs()
    groups = {}   # real path -> paths naming that file, in search order
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if not _DRIVER_RE.match(n) or _NOT_DRIVER_RE.match(n):
                continue
            path = os.path.join(d, n)
            if not os.path.isfile(path):
                continue
            real = os.path.realpath(path)
            if path not in groups.setdefault(real, []):
                groups[real].append(path)
    registered = set()
    for e in _icd_entries():
        registered |= {e, os.path.basename(e)}
        if os.path.isabs(e):
            registered.add(os.path.realpath(e))
    present = " ".join(f"{p.get('name', '')} {p.get('vendor', '')}"
                       for p in platforms).lower()
    found, seen = [], set()
    for real, paths in groups.items():
        names = {real, os.path.basename(real)}
        for path in paths:
            names |= {path, os.path.basename(path)}
        if names & registered:
            continue
        vendor = _vendor_of(os.path.basename(real))
        words = dict(_VENDORS).get(vendor, (vendor,))
        if vendor in seen or any(w in present for w in words):
            continue
        seen.add(vendor)
        # The shortest name of the file (libX.so.1 rather than
        # libX.so.1.2.3), in the first folder that holds it.
        first = os.path.dirname(paths[0])
        short = min((p for p in paths if os.path.dirname(p) == first),
                    key=lambda p: (len(p), p))
        found.append((short, vendor))
    return found


def opencl_registration_notes(platforms):
    """Lines that name each unregistered driver and say how to register
    it; none when there is nothing to say."""
    import textwrap

    vendors = os.environ.get("OCL_ICD_VENDORS", "")
    lines = []
    for path, vendor in unregistered_opencl_drivers(platforms):
        icd = f"{vendor}.icd"
        text = (f"note: {path} is an OpenCL driver that no ICD file "
                "registers: its devices are not used.")
        named = re.split(r"[:;]", os.environ.get("OCL_ICD_FILENAMES", ""))
        if path in named or os.path.basename(path) in named:
            text += (" (OCL_ICD_FILENAMES names it, but the ICD loader in "
                     "use did not load it from there.)")
        if vendors and os.path.isdir(vendors):
            text += (f" OCL_ICD_VENDORS={vendors} is set, and the loader "
                     "reads .icd files there only: register the driver "
                     "with")
            how = [f"echo {path} > {os.path.join(vendors, icd)}"]
        elif vendors:
            text += (f" OCL_ICD_VENDORS={vendors} is set, and the loader "
                     "reads that .icd file only: point it at a folder that "
                     "holds this driver's .icd file and the others you use:")
            how = ["mkdir -p ~/.opencl-vendors",
                   f"echo {path} > ~/.opencl-vendors/{icd}"]
            if os.path.isfile(vendors):
                how.append(f"cp {vendors} ~/.opencl-vendors/")
            how.append("export OCL_ICD_VENDORS=~/.opencl-vendors")
        else:
            text += (" Register it with a file holding its path in "
                     "/etc/OpenCL/vendors (as root):")
            how = [f"echo {path} > /etc/OpenCL/vendors/{icd}"]
            if not os.path.isdir("/etc/OpenCL/vendors"):
                how.insert(0, "mkdir -p /etc/OpenCL/vendors")
        lines += ["", *textwrap.wrap(text, 78, subsequent_indent="  ",
                                     break_on_hyphens=False,
                                     break_long_words=False)]
        lines += [f"    {h}" for h in how]
        if not vendors:
            lines += textwrap.wrap(
                "or, without root, in a folder of your own that "
                "OCL_ICD_VENDORS names (the loader then reads that folder "
                "instead of /etc/OpenCL/vendors: copy there the .icd "
                "files you keep using):", 78, initial_indent="  ",
                subsequent_indent="  ", break_on_hyphens=False,
                break_long_words=False)
            lines += ["    mkdir -p ~/.opencl-vendors",
                      f"    echo {path} > ~/.opencl-vendors/{icd}",
                      "    export OCL_ICD_VENDORS=~/.opencl-vendors"]
    return lines


def info(out=sys.stdout):
    import numpy
    import cambrian as cb
    from cambrian import _core

    cfg = cb.config()
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"cambrian {cb.__version__}  StarPU {cfg['starpu_version']}  "
      f"numpy {numpy.__version__}  Python {sys.version.split()[0]}")
    p(f"scheduler: {cfg['scheduler']}   cores available: {cfg['ncores']}   "
      f"CPU workers: {cfg['ncpus']}   OpenCL workers: {cfg['nopencl']}")
    tile = cfg["tile_size"] or (
        f"automatic (at least {cfg['min_tile_size']} elements, at most "
        f"{cfg['max_tile_bytes'] // 2**20} MiB)")
    p(f"tile size: {tile}   cache: {cfg['cache_dir']}")
    p(f"pinned host memory: {cfg['pinned_bytes'] / 2**20:.0f} MiB in use, "
      f"at most {cfg['pinned_max_bytes'] / 2**30:.1f} GiB "
      "(CAMBRIAN_PINNED_MAX)")
    limit = cfg["memory_limit_bytes"]
    p(f"host memory in arrays: {cfg['memory_held_bytes'] / 2**20:.0f} MiB, "
      f"at most {limit / 2**30:.1f} GiB (CAMBRIAN_MEMORY_LIMIT)"
      if limit else
      f"host memory in arrays: {cfg['memory_held_bytes'] / 2**20:.0f} MiB")
    p("")
    p("devices:")
    for d in cb.devices():
        p(f"  {d.filter_string:<16} {d.name}  [{d.vendor}]")
        p(f"  {'':<16} {d.version}; {d.compute_units} compute units, "
          f"{_gib(d.global_mem_bytes)} memory, max allocation "
          f"{_gib(d.max_alloc_bytes)}, float64 "
          f"{'yes' if d.fp64 else 'no'}, {d.nworkers} StarPU worker(s)")
    p("")
    names = {d._id: d.filter_string for d in cb.devices()}
    p("StarPU workers:")
    for w in _core.workers():
        p(f"  {w['id']:>2}  {w['name']:<40} -> {names.get(w['device'], '?')}")
    p("")
    p("OpenCL platforms:")
    plats = _core.opencl_platforms()
    for plat in plats:
        p(f"  {plat['name']} ({plat['vendor']}): {plat['version']}, "
          f"{plat['devices']} device(s)")
    if not plats:
        p("  none (install an ICD, such as pocl-opencl-icd)")
    for line in opencl_registration_notes(plats):
        p(line)
    used = cfg["ncpus"] + cfg["nopencl"]
    if cfg["ncores"] > cfg["max_cpus"] + cfg["nopencl"]:
        p("")
        p(f"warning: this machine has {cfg['ncores']} cores but this StarPU "
          f"build runs at most {cfg['max_cpus']} CPU workers "
          f"(STARPU_MAXCPUS); {cfg['ncores'] - used} cores stay idle. "
          "Rebuild StarPU with --enable-maxcpus=256 (scripts/setup.sh does) to use them.")
    return 0


def _calibration_work(cb, np, dev):
    """Operations of several sizes placed on dev, each repeated enough for
    StarPU's history models (10 samples per size and kind of worker)."""
    dtypes = [np.float32] + ([np.float64] if dev.fp64 else [])
    for dtype in dtypes:
        for n in (1 << 12, 1 << 16, 1 << 20):
            a = cb.arange(n, dtype=dtype, device=dev)
            b = cb.full(n, 1.5, dtype=dtype, device=dev)
            for _ in range(11):
                c = a * b + a
                d = cb.sqrt(c) - cb.exp(b)
                e = d / b
                cb.sum(e)
                cb.max(e, axis=0)
            e.numpy()


def calibrate(fresh=False, out=sys.stdout):
    """Runs a short workload on every device with calibration on, then
    stops the runtime, which writes the models to the cache directory."""
    os.environ["CAMBRIAN_CALIBRATE"] = "2" if fresh else "1"
    import time

    import numpy as np
    import cambrian as cb

    cb.shutdown()  # the next start reads CAMBRIAN_CALIBRATE
    cache = cb.config()["cache_dir"]
    for dev in cb.devices():
        t0 = time.perf_counter()
        _calibration_work(cb, np, dev)
        cb.synchronize()
        print(f"calibrated {dev.filter_string:<16} in "
              f"{time.perf_counter() - t0:.1f} s", file=out)
    cb.shutdown()
    models = os.path.join(cache, "sampling", "codelets")
    count = sum(len(files) for _, _, files in os.walk(models))
    print(f"{count} model files under {models}", file=out)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    usage = ("usage: python -m cambrian "
             "{info | calibrate [--fresh] | --version}")
    if not argv or argv[0] in ("-h", "--help"):
        print(usage, file=sys.stderr)
        return 0 if argv else 2
    if argv == ["--version"]:
        from cambrian import __version__
        print(f"cambrian {__version__}")
        return 0
    if argv[0] == "info" and len(argv) == 1:
        return info()
    if argv[0] == "calibrate" and argv[1:] in ([], ["--fresh"]):
        return calibrate(fresh=argv[1:] == ["--fresh"])
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
