"""transfers: host->device and device->host bandwidth of one OpenCL device,
cambrian beside a raw OpenCL program (raw_opencl.c, built here with cc)
and CuPy where it is installed, in one run.

    .venv/bin/python bench/transfers/run.py [--mib 256] [--reps 5]
                                            [--device opencl:gpu]

cambrian cases (best of the repetitions, GB/s = 10^9 bytes a second):
  h2d zero-copy     cb.asarray(x, device=dev) over a NumPy array (pageable
                    memory), until the data is on the device
  h2d copy          cb.asarray(x, device=dev, copy=True): the host copy
                    (pinned for a GPU) is made, then moved
  h2d pinned        the move alone, from an array made for the device
  d2h               y.numpy() of a result computed on the device
The raw program gives the same copies from pageable and from pinned
memory; "vs raw pinned" divides cambrian's figure by the raw pinned one.
Targets (printed, never asserted): cambrian >= 0.8x raw pinned, both ways,
including from a zero-copy NumPy array.
Results: bench/results/transfers.{json,md}.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

import cambrian as cb  # noqa: E402

TARGET = 0.8


def raw(mib, reps, kind):
    """Builds and runs raw_opencl.c; returns its JSON, or None."""
    return harness.run_c(
        os.path.join(HERE, "raw_opencl.c"), [mib, reps, kind],
        "raw OpenCL reference",
        flags=["-O2", *os.environ.get("CFLAGS", "").split()],
        libs=[*os.environ.get("LDFLAGS", "").split(), "-lOpenCL"])


def best_gbs(fn, nbytes, reps):
    best = 0.0
    for _ in range(reps):
        t = fn()
        best = max(best, nbytes / t / 1e9)
    return best


def cambrian_cases(x, dev, reps):
    nbytes = x.nbytes

    def zero_copy():
        cb.synchronize()
        t0 = time.perf_counter()
        a = cb.asarray(x, device=dev)
        cb.synchronize()
        dt = time.perf_counter() - t0
        del a
        return dt

    def copy():
        cb.synchronize()
        t0 = time.perf_counter()
        a = cb.asarray(x, device=dev, copy=True)
        cb.synchronize()
        dt = time.perf_counter() - t0
        del a
        return dt

    host = cb.asarray(x, device=dev, copy=True)
    cb.synchronize()

    def pinned():
        # A new array made for the device, filled on the host, then moved.
        a = cb.empty(x.shape, dtype=cb.float32, device=dev)
        t0 = time.perf_counter()
        a.to_device(dev)
        cb.synchronize()
        return time.perf_counter() - t0

    def d2h():
        y = host * 1.0
        cb.synchronize()
        t0 = time.perf_counter()
        y.numpy()
        return time.perf_counter() - t0

    return {"h2d zero-copy": best_gbs(zero_copy, nbytes, reps),
            "h2d copy": best_gbs(copy, nbytes, reps),
            "h2d pinned": best_gbs(pinned, nbytes, reps),
            "d2h": best_gbs(d2h, nbytes, reps)}


def cupy_cases(x, reps):
    try:
        import cupy as cp
        import cupyx
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no CuPy, no CUDA device
        return None
    nbytes = x.nbytes
    pinned = cupyx.empty_pinned(x.shape, x.dtype)
    pinned[...] = x
    d = cp.asarray(x)

    def sync_time(fn):
        cp.cuda.Device().synchronize()
        t0 = time.perf_counter()
        fn()
        cp.cuda.Device().synchronize()
        return time.perf_counter() - t0

    return {"h2d pageable": best_gbs(lambda: sync_time(lambda: d.set(x)),
                                     nbytes, reps),
            "h2d pinned": best_gbs(lambda: sync_time(lambda: d.set(pinned)),
                                   nbytes, reps),
            "d2h pinned": best_gbs(
                lambda: sync_time(lambda: d.get(out=pinned)), nbytes, reps)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--device", default="opencl:gpu,opencl")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 64 MiB, 2 repetitions")
    args = p.parse_args(argv)
    if args.quick:
        args.mib, args.reps = 64, 2
    harness.warn_if_busy()
    dev = cb.get_device(args.device)
    kind = "gpu" if dev.type == "gpu" else "cpu"
    x = np.ones((args.mib << 20) // 4, dtype=np.float32)
    raw_res = raw(args.mib, args.reps, kind)
    cam = cambrian_cases(x, dev, args.reps)
    cup = cupy_cases(x, args.reps) if kind == "gpu" else None
    ref_h2d = raw_res and raw_res["h2d_pinned"]
    ref_d2h = raw_res and raw_res["d2h_pinned"]
    rows = []
    for case, gbs in cam.items():
        ref = ref_d2h if case.startswith("d2h") else ref_h2d
        ratio = gbs / ref if ref else None
        rows.append(["cambrian", case, f"{gbs:.2f}",
                     f"{ratio:.2f}x" if ratio else "-"])
    for name, res in (("raw OpenCL", raw_res), ("CuPy", cup)):
        for case, gbs in (res or {}).items():
            if isinstance(gbs, float) and not case.startswith("enqueue"):
                rows.append([name, case.replace("_", " "), f"{gbs:.2f}", ""])
    if raw_res:
        rows.append(["raw OpenCL", "non-blocking write returns after",
                     f"{raw_res['enqueue_ms_pageable']:.3f} ms pageable, "
                     f"{raw_res['enqueue_ms_pinned']:.3f} ms pinned", ""])
    md = (f"# transfers: {args.mib} MiB on {dev.filter_string} "
          f"({dev.name})\n\n" +
          harness.markdown_table(["who", "case", "GB/s", "vs raw pinned"],
                                 rows) +
          f"\nTarget: cambrian >= {TARGET}x raw pinned both ways.\n")
    print(md)
    harness.write_results("transfers", {"device": dev.filter_string,
                                        "mib": args.mib, "cambrian": cam,
                                        "raw": raw_res, "cupy": cup}, md)


if __name__ == "__main__":
    main()
