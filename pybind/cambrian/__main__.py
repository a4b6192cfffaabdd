"""The command line: ``python -m cambrian COMMAND``.

    info [--json]          what cambrian sees on this machine
    calibrate [--fresh] [--blas [--seconds S] [--devices F]]
                           fill the performance models; tune CLBlast
    trace-view FILE [-o OUT]
                           draw a trace of cambrian.trace: an HTML
                           timeline, or a PNG Gantt chart (matplotlib)
    --version              the installed version
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import platform
import re
import subprocess
import sys
import sysconfig
from typing import IO, Any


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


# ---- OpenCL drivers that no ICD file registers ------------------------------

def _ldconfig_dirs() -> list[str]:
    """The folders of the drivers that the dynamic linker's cache lists."""
    for exe in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            out = subprocess.run([exe, "-p"], capture_output=True,
                                 text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        dirs: list[str] = []
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


def _opencl_lib_dirs() -> list[str]:
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
OPENCL_LIB_DIRS: list[str] | None = None

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


def _vendor_of(name: str) -> str:
    """The vendor word of a driver's file name, e.g. nvidia for
    libnvidia-opencl.so.1."""
    low = name.lower()
    for word, _ in _VENDORS:
        if word in low:
            return word
    stem = re.sub(r"^lib|\.so.*$|opencl|ocl|[^a-z]", "", low)
    return stem or "opencl"


def _icd_entries() -> list[str]:
    """The libraries that the ICD loader is told about: the lines of the
    .icd files it reads (those of OCL_ICD_VENDORS, a folder or one file,
    else those of /etc/OpenCL/vendors). OCL_ICD_FILENAMES does not count:
    ocl-icd, the loader of Debian and Ubuntu, does not read it."""
    files: list[str] = []
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
    entries: list[str] = []
    for f in files:
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                entries += [ln.strip() for ln in fh if ln.strip()]
        except OSError:
            pass
    return entries


def unregistered_opencl_drivers(platforms: list[dict[str, Any]]
                                 ) -> list[tuple[str, str]]:
    """OpenCL drivers found on disk that no ICD file registers and whose
    vendor has no platform among platforms (dicts with 'name' and
    'vendor'), as (path, vendor word), one per vendor."""
    dirs = OPENCL_LIB_DIRS if OPENCL_LIB_DIRS is not None \
        else _opencl_lib_dirs()
    # real path -> paths naming that file, in search order
    groups: dict[str, list[str]] = {}
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
    registered: set[str] = set()
    for e in _icd_entries():
        registered |= {e, os.path.basename(e)}
        if os.path.isabs(e):
            registered.add(os.path.realpath(e))
    present = " ".join(f"{p.get('name', '')} {p.get('vendor', '')}"
                       for p in platforms).lower()
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for real, paths in groups.items():
        known = {real, os.path.basename(real)}
        for path in paths:
            known |= {path, os.path.basename(path)}
        if known & registered:
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


def opencl_registration_notes(platforms: list[dict[str, Any]]
                              ) -> list[str]:
    """Lines that name each unregistered driver and say how to register
    it; none when there is nothing to say."""
    import textwrap

    vendors = os.environ.get("OCL_ICD_VENDORS", "")
    lines: list[str] = []
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


def info_dict() -> dict[str, Any]:
    """What ``info`` prints, as JSON-ready data."""
    import numpy
    import cambrian as cb
    from cambrian import _core

    from cambrian._devices import _device_sets

    def entry(d: cb.Device) -> dict[str, Any]:
        e = {f.name: getattr(d, f.name) for f in dataclasses.fields(d)
             if not f.name.startswith("_")}
        e["members"] = [m.filter_string for m in d.members]
        return e
    plats = _core.opencl_platforms()
    return {
        "versions": {"cambrian": cb.__version__, "numpy": numpy.__version__,
                     "python": sys.version.split()[0],
                     "starpu": cb.config()["starpu_version"]},
        "config": cb.config(),
        "devices": [entry(d) for d in cb.devices()],
        "device_sets": [entry(d) for d in _device_sets()],
        "workers": _core.workers(),
        "opencl_platforms": plats,
        "unregistered_opencl_drivers": [
            {"path": p, "vendor": v}
            for p, v in unregistered_opencl_drivers(plats)],
    }


def info(out: IO[str] | None = None, as_json: bool = False) -> int:
    """Prints what cambrian sees: versions, settings, devices, workers,
    OpenCL platforms (to out, by default sys.stdout); as JSON with
    as_json."""
    if out is None:
        out = sys.stdout
    import numpy
    import cambrian as cb
    from cambrian import _core

    if as_json:
        json.dump(info_dict(), out, indent=2)
        out.write("\n")
        return 0
    cfg = cb.config()

    def p(*a: object) -> None:
        print(*a, file=out)
    p(f"cambrian {cb.__version__}  StarPU {cfg['starpu_version']}  "
      f"numpy {numpy.__version__}  Python {sys.version.split()[0]}")
    p(f"scheduler: {cfg['scheduler']}   cores available: {cfg['ncores']}   "
      f"CPU workers: {cfg['ncpus']}   OpenCL workers: {cfg['nopencl']}")
    tile = cfg["tile_size"] or (
        f"automatic (at least {cfg['min_tile_size']} elements, at most "
        f"{cfg['max_tile_bytes'] // 2**20} MiB)")
    p(f"tile size: {tile}   cache: {cfg['cache_dir']}")
    p("OpenCL codelets: " + ("asynchronous" if cfg["opencl_async"]
                             else "synchronous") +
      "   StarPU's messages: " + ("the logger cambrian.starpu"
                                  if cfg["starpu_messages"] else "stderr"))
    if cfg["distributed"]:
        p(f"distributed: rank {cfg['rank']} of {cfg['nranks']} "
          f"({cfg['mpi_library']})")
    else:
        p("distributed: no (" + ("StarPU-MPI ready: run under mpirun or srun"
                                 if cfg["mpi_plugin"] else
                                 "this build has no StarPU-MPI") + ")")
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
        if d.lost:
            p(f"  {'':<16} LOST: a fault left its OpenCL context unusable; "
              "nothing runs there in this runtime")
        p(f"  {'':<16} {d.version}; {d.compute_units} compute units, "
          f"{_gib(d.global_mem_bytes)} memory, max allocation "
          f"{_gib(d.max_alloc_bytes)}, float64 "
          f"{'yes' if d.fp64 else 'no'}, {d.nworkers} StarPU worker(s)")
    from cambrian._devices import _device_sets
    for s in _device_sets():
        p(f"  {s.filter_string:<16} device set: "
          f"{', '.join(m.filter_string for m in s.members)} (arrays placed "
          f"there have their tiles spread over them)")
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


def _calibration_work(cb: Any, np: Any, dev: Any) -> None:
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


def calibrate(fresh: bool = False, out: IO[str] | None = None) -> int:
    """Runs a short workload on every device with calibration on, then
    stops the runtime, which writes the models to the cache directory."""
    if out is None:
        out = sys.stdout
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


def calibrate_blas(filter: str = "opencl:gpu", seconds: float = 300.0,
                   out: IO[str] | None = None) -> int:
    """Tunes CLBlast's GEMM for each OpenCL device that filter names
    (cambrian._blas_tune), then restarts the runtime, which hands the
    parameters to CLBlast."""
    if out is None:
        out = sys.stdout
    import cambrian as cb
    from cambrian import _core
    from cambrian._blas_tune import find_tuner, tune_device, tune_file

    if not find_tuner():
        print("calibrate --blas: clblast_tuner_xgemm was not found; install "
              "CLBlast's tuners (Debian: apt-get install clblast-utils) or "
              "name the program in CAMBRIAN_CLBLAST_TUNER", file=out)
        return 1
    cache = cb.config()["cache_dir"]
    devs = [d for d in cb.devices(filter) if d.backend == "opencl"]
    if not devs:
        print(f"calibrate --blas: no OpenCL device matches '{filter}'",
              file=out)
        return 1
    platforms = _core.opencl_platforms()
    names = [d.name for d in devs]
    # The tuner takes the device for its own: the runtime lets go first.
    cb.shutdown()
    status = 0
    for d in devs:
        print(f"tuning CLBlast on {d.filter_string} ({d.name}), at most "
              f"{seconds:.0f} s per precision", file=out)
        if not tune_device(d, cache, platforms, seconds=seconds, out=out):
            status = 1
    for d, name in zip(cb.devices(filter), names):
        if d.name == name and os.path.exists(tune_file(cache, name)):
            print(f"{d.filter_string}: {d.blas_tuned} CLBlast kernel(s) "
                  f"tuned ({tune_file(cache, name)})", file=out)
    return status


# ---- trace-view -------------------------------------------------------------

_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def trace_html(events: list[dict[str, Any]], title: str) -> str:
    """A trace's events (Chrome trace event JSON) as a self-contained HTML
    page: an SVG timeline, a row per worker, a bar per task (hover for its
    name, times and whether it failed), data fetches in grey."""
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    slices = [e for e in events if e.get("ph") == "X"]
    rows = sorted(threads) or sorted({(e["pid"], e["tid"]) for e in slices})
    index = {r: i for i, r in enumerate(rows)}
    t0 = min((e["ts"] for e in slices), default=0.0)
    t1 = max((e["ts"] + e["dur"] for e in slices), default=1.0)
    span = max(t1 - t0, 1e-3)
    ops = sorted({e["name"] for e in slices if e.get("cat") == "task"})
    colour = {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(ops)}
    left, width, row_h = 260, 1000, 22
    height = 40 + row_h * max(len(rows), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
             f'height="{height}" font-family="sans-serif" font-size="11">']
    for (pid, tid), i in index.items():
        y = 30 + i * row_h
        label = f"{procs.get(pid, '?')} / {threads.get((pid, tid), tid)}"
        parts.append(f'<text x="4" y="{y + 15}">{html.escape(label)}</text>')
        parts.append(f'<line x1="{left}" x2="{left + width}" y1="{y + row_h}" '
                     f'y2="{y + row_h}" stroke="#eee"/>')
    for k in range(11):
        x = left + width * k / 10
        parts.append(f'<text x="{x:.1f}" y="14" text-anchor="middle">'
                     f'{span * k / 10 / 1e3:.3g} ms</text>')
    for e in slices:
        row = index.get((e["pid"], e["tid"]))
        if row is None:
            continue
        x = left + width * (e["ts"] - t0) / span
        w = max(width * e["dur"] / span, 0.5)
        y = 30 + row * row_h
        args = e.get("args", {})
        failed = bool(args.get("failed"))
        tip = (f"{e['name']}: {e['dur'] / 1e3:.3f} ms at "
               f"{(e['ts'] - t0) / 1e3:.3f} ms"
               + (f", queued {args['queued_us'] / 1e3:.3f} ms"
                  if "queued_us" in args else "")
               + (" (failed)" if failed else ""))
        if e.get("cat") == "transfer":
            fill, h, dy = "#999", 6, 14
        else:
            fill, h, dy = colour.get(e["name"], "#888"), 16, 2
        stroke = ' stroke="#b00" stroke-width="2"' if failed else ""
        parts.append(f'<rect x="{x:.2f}" y="{y + dy}" width="{w:.2f}" '
                     f'height="{h}" fill="{fill}"{stroke}><title>'
                     f'{html.escape(tip)}</title></rect>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="background:{colour[n]};color:#fff;'
                      f'padding:1px 6px;margin:2px">{html.escape(n)}</span>'
                      for n in ops)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>"
            f"<body style=\"font-family: sans-serif\"><h3>"
            f"{html.escape(title)}</h3><p>{len(slices)} slices, "
            f"{span / 1e3:.3f} ms. Hover over a bar for its task; grey: "
            f"waiting for data.</p><p>{legend}</p>{''.join(parts)}"
            "</body></html>\n")


def trace_view(path: str, out_path: str | None = None,
               out: IO[str] | None = None) -> int:
    """Draws the trace at path into out_path: a PNG (matplotlib) when it
    ends in .png, else an HTML timeline (default: path with .html)."""
    if out is None:
        out = sys.stdout
    if out_path is None:
        out_path = os.path.splitext(path)[0] + ".html"
    if out_path.lower().endswith(".png"):
        from cambrian import plot_trace
        plot_trace(path, out_path)
    else:
        with open(path) as f:
            events = json.load(f)["traceEvents"]
        page = trace_html(events, os.path.basename(path))
        with open(out_path, "w") as f:
            f.write(page)
    print(f"wrote {out_path}", file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    from cambrian import __version__
    parser = argparse.ArgumentParser(
        prog="python -m cambrian",
        description="cambrian: array operations and Python code as a "
        "StarPU task graph on CPU workers and OpenCL devices.",
        epilog="Environment: CAMBRIAN_NCPUS, CAMBRIAN_DEVICES, "
        "CAMBRIAN_SCHED, CAMBRIAN_TILE_SIZE, CAMBRIAN_DEVICE, "
        "CAMBRIAN_VERBOSE (see the documentation).")
    parser.add_argument("--version", action="version",
                        version=f"cambrian {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="show versions, settings, devices, "
                       "StarPU workers and OpenCL platforms",
                       description="What cambrian sees on this machine.")
    p.add_argument("--json", action="store_true",
                   help="print it as JSON")
    p = sub.add_parser("calibrate", help="fill StarPU's performance models",
                       description="Run a short workload on every device "
                       "with calibration on; the models go to the cache "
                       "directory that info shows.")
    p.add_argument("--fresh", action="store_true",
                   help="start the models anew")
    p.add_argument("--blas", action="store_true",
                   help="tune CLBlast's GEMM for the OpenCL devices "
                   "instead (needs clblast_tuner_xgemm)")
    p.add_argument("--seconds", type=float, default=300.0,
                   help="with --blas: the most each precision may take "
                   "(default 300)")
    p.add_argument("--devices", default="opencl:gpu", metavar="FILTER",
                   help="with --blas: the devices to tune (default "
                   "opencl:gpu)")
    p = sub.add_parser("trace-view", help="draw a trace of cambrian.trace",
                       description="Draw a trace written by cambrian.trace: "
                       "an HTML timeline (the default), or a PNG Gantt "
                       "chart when OUT ends in .png (needs matplotlib).")
    p.add_argument("file", metavar="FILE", help="the trace (JSON)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="the file to write (default: FILE with .html)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "info":
        return info(as_json=args.json)
    if args.command == "calibrate" and args.blas:
        return calibrate_blas(args.devices, args.seconds)
    if args.command == "calibrate":
        return calibrate(fresh=args.fresh)
    if args.command == "trace-view":
        try:
            return trace_view(args.file, args.output)
        except (OSError, ValueError, KeyError, ImportError) as e:
            print(f"python -m cambrian trace-view: {e}", file=sys.stderr)
            return 1
    parser.print_help(sys.stderr)
    return 2


def _run() -> int:
    """main() for ``python -m cambrian``: a reader that goes away early
    (``python -m cambrian info | head``) ends the output quietly, as Unix
    tools do."""
    try:
        status = main()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Nothing more can be written; stdout is pointed at /dev/null so
        # that the interpreter's own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(_run())
