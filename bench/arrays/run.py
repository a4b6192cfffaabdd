"""arrays: views, broadcasts, indexing, sort, a keepdims reduction and a
concatenation of float32 data, cambrian on its CPU workers and on an
OpenCL device against NumPy, in one process.

    .venv/bin/python bench/arrays/run.py [--size 2**24] [--quick]
        [--reps 7] [--warmup 2]

Data: x and y of shape (N / 1024, 1024); xh and yh, contiguous, of the
shape of x[:, ::2]; row of shape (1024,); flat, x's N elements in one
vector; idx, N / 16 random indices; cube, x as (N / 32768, 32, 1024).

Each competitor file in this folder exposes NAME, VARIANTS, available(),
setup(data, variant) -> state, run(state, op), result(state, op) and
teardown(state). The median of the timed repetitions is reported, each
waiting for its result, after a check against NumPy.

"vs numpy" is NumPy's time divided by the competitor's. "vs contiguous"
is, for the same competitor, the time of the contiguous addition of as
many elements divided by the time of the strided (x[:, ::2] + y[:, ::2],
every other element; x[:, :512] + y[:, :512], half of each row) or
broadcast (x + row) one: 1 means views cost nothing extra. c_loops.c
runs the same additions as plain C loops (cc -O3, OpenMP) on as many
threads as cambrian has CPU workers: its ratios are what the memory
gives views on this machine. A view with a
step reads whole cache lines: x[:, ::2] + y[:, ::2] reads all of x and y,
twice the bytes of its elements. Where memory bounds the addition, it
moves 4 + 2 (the result written, and read before) halves of x's bytes
where the contiguous one moves 2 + 2: 0.67x at best.
Results: bench/results/arrays.{json,md}.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

COMPETITORS = ["numpy_st", "cambrian_cpu", "cambrian_opencl"]
BASELINE = "numpy"
OPS = ["add contiguous, half", "add strided", "add strided rows",
       "add contiguous",
       "add broadcast", "take", "mask", "sort",
       "sum middle axis, keepdims", "concat"]
# The contiguous operation each view operation is compared with.
REFERENCE = {"add strided": "add contiguous, half",
             "add strided rows": "add contiguous, half",
             "add broadcast": "add contiguous"}


def make_data(n, rng):
    x = rng.random(n, dtype=np.float32).reshape(-1, 1024)
    y = rng.random(n, dtype=np.float32).reshape(-1, 1024)
    return {"x": x, "y": y,
            "xh": np.ascontiguousarray(x[:, ::2]),
            "yh": np.ascontiguousarray(y[:, ::2]),
            "row": rng.random(1024, dtype=np.float32),
            "flat": x.reshape(-1),
            "idx": rng.integers(0, n, n // 16),
            "cube": x.reshape(-1, 32, 1024)}


def c_loops(n, threads, reps):
    """Builds and runs c_loops.c (the additions as plain C loops on
    threads threads); returns {op: median seconds}, or {} without a C
    compiler with OpenMP."""
    return harness.run_c(os.path.join(HERE, "c_loops.c"), [n, threads, reps],
                         "C loops", flags=["-O3", "-fopenmp"]) or {}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", help="elements, a multiple of 32768 "
                   "(default 2**24)")
    p.add_argument("--quick", action="store_true",
                   help="a small size, fewer repetitions (a smoke run)")
    p.add_argument("--reps", type=int, help="timed repetitions")
    p.add_argument("--warmup", type=int, help="warm-up repetitions")
    p.add_argument("--opencl-device", default="opencl",
                   help="filter of the OpenCL device (default: the first)")
    args = p.parse_args(argv)
    n = harness.parse_size(args.size) if args.size else (2**20 if args.quick
                                                 else 2**24)
    n -= n % 32768
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

    data = make_data(n, np.random.default_rng(0))
    want = {op: np.asarray(mods[0].compute(dict(data), op)) for op in OPS}
    print(f"# N = {n} float32; warm-up {warmup}, {reps} timed repetitions",
          file=sys.stderr)
    results, skipped = [], []
    for m in mods:
        ok, why = m.available()
        if not ok:
            skipped.append(f"{m.NAME}: skipped ({why})")
            continue
        for v in m.VARIANTS:
            state = None
            try:
                with harness.Watchdog(600, f"{m.NAME} {v}"):
                    state = m.setup(data, v)
                    for op in OPS:
                        row = {"n": n, "op": op, "competitor": m.NAME,
                               "variant": v,
                               "busy_others": harness.busy_others(0.2)}
                        try:
                            samples = harness.timed(
                                lambda s: m.run(s, op), state, warmup, reps,
                                row.setdefault("warmup_s", []))
                            np.testing.assert_allclose(m.result(state, op),
                                                       want[op], rtol=1e-6)
                            row["check"] = "ok"
                            row.update(harness.summary(samples))
                            print(f"  {m.NAME:16s} {op:26s} "
                                  f"{row['median_s'] * 1e3:9.3f} ms",
                                  file=sys.stderr)
                        except Exception as e:  # report and go on
                            row["error"] = f"{type(e).__name__}: {e}"
                            print(f"  {m.NAME} {op}: FAILED {row['error']}",
                                  file=sys.stderr)
                        results.append(row)
            finally:
                if state is not None:
                    m.teardown(state)
    # The memory's own cost of each view: the same additions as plain C
    # loops, on as many threads as cambrian has CPU workers.
    threads = env["cambrian"]["ncpus"]
    c_name = f"C loops, {threads} threads"
    for op, sec in c_loops(n, threads, reps).items():
        results.append({"n": n, "op": op, "competitor": c_name,
                        "variant": "c", "busy_others": False,
                        "check": "not compared", "median_s": sec})
        print(f"  {c_name:16s} {op:26s} {sec * 1e3:9.3f} ms",
              file=sys.stderr)

    def find(competitor, op):
        return next((r for r in results if r["competitor"] == competitor
                     and r["op"] == op and "median_s" in r), None)

    for r in results:
        base = find(BASELINE, r["op"])
        # C loops write into memory of their own: no time to allocate.
        if base and "median_s" in r and r["variant"] != "c":
            r["vs_numpy"] = base["median_s"] / r["median_s"]
        ref = find(r["competitor"], REFERENCE.get(r["op"], ""))
        if ref and "median_s" in r:
            r["vs_contiguous"] = ref["median_s"] / r["median_s"]

    md = ["# arrays: views, broadcasts, indexing, sort and concat of "
          "float32, cambrian against NumPy\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; numpy "
          f"{env['numpy']}; cambrian {env['cambrian']['ncpus']} CPU "
          f"worker(s) + {env['cambrian']['nopencl']} OpenCL worker(s). "
          f"Measured build: git {env.get('git', '?')}. N = {n}.\n",
          "Median of the timed repetitions after a warm-up, each waiting "
          "for its result. vs numpy: NumPy's time / this time. vs "
          "contiguous: the same competitor's contiguous addition of as "
          "many elements / this time (1 = the view costs nothing).\n"]
    rows = []
    for r in results:
        if "median_s" not in r:
            rows.append([r["op"], r["competitor"],
                         "failed: " + r["error"][:60], "", ""])
            continue
        rows.append([r["op"], r["competitor"] +
                     (" *" if r["busy_others"] else ""),
                     f"{r['median_s'] * 1e3:.3f}",
                     f"{r['vs_numpy']:.2f}x" if "vs_numpy" in r else "-",
                     f"{r['vs_contiguous']:.2f}x" if "vs_contiguous" in r
                     else "-"])
    rows.sort(key=lambda row: OPS.index(row[0]))
    md.append(harness.markdown_table(
        ["operation", "competitor", "time (ms)", "vs numpy",
         "vs contiguous"], rows, "llrrr") + "\n")
    harness.finish("arrays", md, {
        "environment": env, "n": n, "ops": OPS, "skipped": skipped,
        "results": results})


if __name__ == "__main__":
    main()
