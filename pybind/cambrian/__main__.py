"""python -m cambrian info: what cambrian sees on this machine."""

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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] != "info":
        print("usage: python -m cambrian info", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return info()


if __name__ == "__main__":
    sys.exit(main())
