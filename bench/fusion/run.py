"""fusion: a chain of element-wise operations (GELU's 9, workload.py) as
one kernel against one kernel per operation, for cambrian's graphs on
its CPU workers and on an OpenCL device, against NumPy and, on a CUDA
GPU, CuPy with and without cupy.fuse, in one process.

    .venv/bin/python bench/fusion/run.py [--sizes 2**24] [--reps 7]
        [--warmup 2] [--opencl-device opencl:gpu] [--quick]

Each competitor file exposes NAME, VARIANTS (the fused one first, where
there are two), available(),
setup(x, variant) -> state, run(state), result(state) and teardown(state).
For each size the driver makes x (standard normal float32) once, then for
each competitor and variant: setup, warm-up runs, timed runs (the median
is reported) and a check against NumPy in float64.

"vs numpy" is NumPy's time over the row's; "fused / unfused" is, within a
competitor, the unfused variant's time over the fused one's (above 1:
fusion is faster).
Results: bench/results/fusion.{json,md}.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

from workload import OPS, gelu  # noqa: E402

# The baseline first: the ratios use it.
COMPETITORS = ["numpy_st", "cambrian_cpu", "cambrian_opencl", "cupy_gpu"]
BASELINE = "numpy"


def measure(m, v, x, want, warmup, reps):
    """One row: the competitor's variant over x, timed and checked."""
    row = {"n": x.size, "competitor": m.NAME, "variant": v,
           "busy_others": harness.busy_others(0.2)}
    state = None
    try:
        with harness.Watchdog(600, f"{m.NAME} {v}"):
            state = m.setup(x, v)
            warm = row.setdefault("warmup_s", [])
            samples = harness.timed(m.run, state, warmup, reps, warm)
            np.testing.assert_allclose(m.result(state), want, rtol=1e-4,
                                       atol=1e-5)
        row["check"] = "ok"
        row.update(harness.summary(samples))
        print(f"  {m.NAME:18s} {v:16s} {row['median_s'] * 1e3:9.3f} ms",
              file=sys.stderr)
    except Exception as e:  # report and go on
        row["error"] = f"{type(e).__name__}: {e}"
        print(f"  {m.NAME} {v}: FAILED {row['error']}", file=sys.stderr)
    finally:
        if state is not None:
            m.teardown(state)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated element counts "
                   "(default 2**24; --quick: 2**20)")
    p.add_argument("--quick", action="store_true", help="a smoke run")
    p.add_argument("--reps", type=int, help="timed repetitions")
    p.add_argument("--warmup", type=int, help="warm-up repetitions")
    p.add_argument("--opencl-device", default=None,
                   help="filter of the OpenCL device (default: the first "
                   "GPU, else the first OpenCL device)")
    args = p.parse_args(argv)
    sizes = ([harness.parse_size(s) for s in args.sizes.split(",")]
             if args.sizes else [2**20] if args.quick else [2**24])
    warmup = args.warmup if args.warmup is not None else 2
    reps = args.reps or (3 if args.quick else 7)

    import cambrian as cb
    env = harness.environment()
    cb.init()
    env["cambrian"] = cb.config()
    device = args.opencl_device or next(
        (f for f in ("opencl:gpu", "opencl") if cb.devices(f)), "opencl")
    cb.shutdown()
    import cambrian_opencl
    cambrian_opencl.bind(device)
    mods = [__import__(m) for m in COMPETITORS]
    avail, skipped = harness.availability(mods)

    results = []
    rng = np.random.default_rng(0)
    for n in sizes:
        x = rng.standard_normal(n, dtype=np.float32)
        want = gelu(x.astype(np.float64), np.tanh)
        print(f"# N = {harness.size_label(n)} float32; warm-up {warmup}, "
              f"{reps} timed repetitions", file=sys.stderr)
        for m in mods:
            if avail[m.NAME]:
                results += [measure(m, v, x, want, warmup, reps)
                            for v in m.VARIANTS]

    for r in results:
        base = next((b for b in results if b["n"] == r["n"] and
                     b["competitor"] == BASELINE and "median_s" in b), None)
        if base and "median_s" in r:
            r["vs_numpy"] = base["median_s"] / r["median_s"]
        peers = [b for b in results if b["n"] == r["n"] and
                 b["competitor"] == r["competitor"] and "median_s" in b]
        if len(peers) == 2 and r is peers[0] and "median_s" in r:
            r["fused_vs_unfused"] = peers[1]["median_s"] / r["median_s"]

    md = [f"# fusion: GELU's {OPS} element-wise operations, one kernel "
          "against one per operation\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; numpy "
          f"{env['numpy']}; cambrian {env['cambrian']['ncpus']} CPU "
          f"worker(s) + {env['cambrian']['nopencl']} OpenCL worker(s) "
          f"(OpenCL device: {device}), StarPU "
          f"{env['cambrian']['starpu_version']}. Measured build: git "
          f"{env.get('git', '?')}.\n",
          "Median of the timed repetitions after a warm-up, each waiting "
          "for its result (which stays on its device). vs numpy: NumPy's "
          "time / this time. fused / unfused: the competitor's unfused "
          "time / its fused time (cambrian: cb.Graph(fuse=False) against "
          "the default; CuPy: 9 kernels against cupy.fuse).\n"]
    headers = ["competitor", "variant", "time (ms)", "min (ms)",
               "vs numpy", "fused / unfused"]
    for n in sorted({r["n"] for r in results}):
        rows = []
        for r in results:
            if r["n"] != n:
                continue
            if "median_s" not in r:
                rows.append([r["competitor"], r["variant"],
                             "failed: " + r["error"][:60], "", "", ""])
                continue
            rows.append([r["competitor"] + (" *" if r["busy_others"]
                                            else ""), r["variant"],
                         f"{r['median_s'] * 1e3:.3f}",
                         f"{r['min_s'] * 1e3:.3f}",
                         f"{r['vs_numpy']:.2f}x" if "vs_numpy" in r
                         else "-",
                         f"{r['fused_vs_unfused']:.2f}x"
                         if "fused_vs_unfused" in r else ""])
        md.append(f"## N = {harness.size_label(n)} ({n} elements)\n")
        md.append(harness.markdown_table(headers, rows, "llrrrr") + "\n")
    harness.finish("fusion", md, {
        "environment": env, "sizes": sizes, "opencl_device": device,
        "skipped": skipped, "results": results})


if __name__ == "__main__":
    main()
