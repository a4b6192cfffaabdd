"""python -m cambrian info: what cambrian sees on this machine.
python -m cambrian calibrate [--fresh]: fill the performance models.
python -m cambrian --version: the installed version."""

import os
import sys


def _gib(n):
    return f"{n / 2**30:.1f} GiB"


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
    used = cfg["ncpus"] + cfg["nopencl"]
    if cfg["ncores"] > cfg["max_cpus"] + cfg["nopencl"]:
        p("")
        p(f"warning: this machine has {cfg['ncores']} cores but this StarPU "
          f"build runs at most {cfg['max_cpus']} CPU workers "
          f"(STARPU_MAXCPUS); {cfg['ncores'] - used} cores stay idle. "
          "Rebuild StarPU with --enable-maxcpus=64 to use them.")
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
