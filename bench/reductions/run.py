"""reductions: sum, max, dot, norm, axis sums and argmax of float32 data,
cambrian on its CPU workers and on an OpenCL device against NumPy, in one
process.

    .venv/bin/python bench/reductions/run.py [--sizes 2**24] [--quick]
        [--ops sum,dot] [--reps 7] [--warmup 2]

Each competitor file in this folder exposes NAME, VARIANTS, available(),
setup(x, y, variant) -> state, run(state, op), result(state, op) and
teardown(state). For each size the driver makes the inputs once (x, y
uniform in [0, 1); the axis sums view x as rows of 1024), then for each
competitor: setup, per operation warm-up runs, timed runs (the median is
reported) and a check against NumPy, then teardown.

GB/s counts the bytes read (N x 4, twice that for dot). "vs numpy" is
NumPy's time divided by the competitor's (above 1: faster than NumPy).
Results: bench/results/reductions.{json,md}.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

# The baseline first: the ratios use it.
COMPETITORS = ["numpy_st", "cambrian_cpu", "cambrian_opencl"]
BASELINE = "numpy"
OPS = ["sum", "max", "dot", "norm", "sum axis=0", "sum axis=1",
       "argmax"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated element counts, "
                   "multiples of 1024 (default 2**24)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, fewer repetitions (a smoke run)")
    p.add_argument("--ops", help="comma-separated operations of: "
                   + ", ".join(OPS))
    p.add_argument("--reps", type=int, help="timed repetitions")
    p.add_argument("--warmup", type=int, help="warm-up repetitions")
    p.add_argument("--opencl-device", default="opencl",
                   help="filter of the OpenCL device (default: the first)")
    args = p.parse_args(argv)

    if args.sizes:
        sizes = [harness.parse_size(s) for s in args.sizes.split(",")]
    else:
        sizes = [2**20] if args.quick else [2**24]
    ops = args.ops.split(",") if args.ops else OPS
    for op in ops:
        if op not in OPS:
            p.error(f"unknown operation {op!r}")
    warmup = args.warmup if args.warmup is not None else (1 if args.quick
                                                          else 2)
    reps = args.reps or (3 if args.quick else 7)

    import cambrian_opencl
    cambrian_opencl.DEVICE = args.opencl_device
    mods = [__import__(m) for m in COMPETITORS]
    env = harness.environment()
    import cambrian as cb
    cb.init()
    env["cambrian"] = cb.config()
    cb.shutdown()

    avail, skipped = harness.availability(mods)

    results = []
    rng = np.random.default_rng(0)
    for n in sizes:
        n -= n % 1024
        x = rng.random(n, dtype=np.float32)
        y = rng.random(n, dtype=np.float32)
        print(f"# N = {harness.size_label(n)} float32 ({x.nbytes / 2**20:.0f} MiB);"
              f" warm-up {warmup}, {reps} timed repetitions",
              file=sys.stderr)
        want = {op: np.asarray(mods[0].compute({"x": x.astype(np.float64),
                                                "y": y.astype(np.float64)},
                                               op)) for op in ops}
        for m in mods:
            if not avail[m.NAME]:
                continue
            for v in m.VARIANTS:
                state = None
                try:
                    with harness.Watchdog(600, f"{m.NAME} {v}"):
                        state = m.setup(x, y, v)
                        for op in ops:
                            row = {"n": n, "op": op, "competitor": m.NAME,
                                   "variant": v,
                                   "busy_others": harness.busy_others(0.2)}
                            try:
                                warm = row.setdefault("warmup_s", [])
                                samples = harness.timed(
                                    lambda s: m.run(s, op), state, warmup,
                                    reps, warm)
                                np.testing.assert_allclose(
                                    m.result(state, op), want[op],
                                    rtol=1e-3)
                                row["check"] = "ok"
                                row.update(harness.summary(samples))
                                row["bytes"] = (2 if op == "dot" else 1) \
                                    * n * 4
                                row["gbps"] = row["bytes"] / \
                                    row["median_s"] / 1e9
                                print(f"  {m.NAME:16s} {op:11s} "
                                      f"{row['median_s'] * 1e3:9.3f} ms "
                                      f"{row['gbps']:7.2f} GB/s",
                                      file=sys.stderr)
                            except Exception as e:  # report and go on
                                row["error"] = f"{type(e).__name__}: {e}"
                                print(f"  {m.NAME} {op}: FAILED "
                                      f"{row['error']}", file=sys.stderr)
                            results.append(row)
                finally:
                    if state is not None:
                        m.teardown(state)

    for r in results:
        base = next((b for b in results if b["n"] == r["n"]
                     and b["op"] == r["op"] and b["competitor"] == BASELINE
                     and "median_s" in b), None)
        if base and "median_s" in r:
            r["vs_numpy"] = base["median_s"] / r["median_s"]

    md = ["# reductions: float32, cambrian against NumPy\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; numpy "
          f"{env['numpy']}; cambrian {env['cambrian']['ncpus']} CPU "
          f"worker(s) + {env['cambrian']['nopencl']} OpenCL worker(s), "
          f"scheduler {env['cambrian']['scheduler']}, StarPU "
          f"{env['cambrian']['starpu_version']}. Measured build: git "
          f"{env.get('git', '?')}.\n",
          "Median of the timed repetitions after a warm-up, each waiting "
          "for its result. GB/s counts the bytes read. vs numpy: NumPy's "
          "time / this time (above 1 = faster than NumPy).\n"]
    headers = ["operation", "competitor", "time (ms)", "min (ms)", "GB/s",
               "vs numpy"]
    for n in sorted({r["n"] for r in results}):
        rows = []
        for r in results:
            if r["n"] != n:
                continue
            if "median_s" not in r:
                rows.append([r["op"], r["competitor"],
                             "failed: " + r["error"][:60], "", "", ""])
                continue
            rows.append([r["op"], r["competitor"] +
                         (" *" if r["busy_others"] else ""),
                         f"{r['median_s'] * 1e3:.3f}",
                         f"{r['min_s'] * 1e3:.3f}", f"{r['gbps']:.2f}",
                         f"{r['vs_numpy']:.2f}x" if "vs_numpy" in r
                         else "-"])
        rows.sort(key=lambda row: ops.index(row[0]))
        md.append(f"## N = {harness.size_label(n)} ({n} elements, "
                  f"{n * 4 / 2**20:.0f} MiB)\n")
        md.append(harness.markdown_table(headers, rows, "llrrrr") + "\n")
    harness.finish("reductions", md, {
        "environment": env, "sizes": sizes, "ops": ops, "skipped": skipped,
        "results": results})


if __name__ == "__main__":
    main()
