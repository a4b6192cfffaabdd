"""vector_add: c = a + b over float32 vectors, every competitor side by side
in one process, with a STREAM-like copy as the bandwidth reference.

    .venv/bin/python bench/vector_add/run.py [--sizes 2**24,2**27] [--quick]

Each competitor file in this folder exposes NAME, KIND ("add" or "copy"),
VARIANTS, available(), setup(a, b, variant) -> state, run(state),
result(state) and teardown(state). For each size the driver makes the
inputs once, then for each competitor and variant: setup, warm-up runs,
timed runs (the median is reported), a correctness check, teardown.

Bytes counted: add 3 x N x 4 (read a, read b, write c), copy 2 x N x 4;
write-allocate traffic is not counted (as STREAM). "% of copy" compares
with the best copy bandwidth of the same size; "vs numpy" is the time of
np.add(a, b, out=c) divided by the competitor's time (above 1: faster).
Results: bench/results/vector_add.{json,md}.
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

# Order matters: the copy references first, then the single-thread NumPy
# baseline that the ratios use, then the others.
COMPETITORS = ["copy_numpy", "copy_numba", "numpy_st", "numba_prange",
               "cambrian_cpu", "cambrian_opencl", "cupy_gpu",
               "numpy_cambrian_idle"]
BASELINE = ("numpy", "np.add(a, b, out=c)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", help="comma-separated element counts "
                   "(2**24, 16M, 1000); default 2**24,2**27")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, fewer repetitions (a smoke run)")
    p.add_argument("--reps", type=int, help="timed repetitions")
    p.add_argument("--warmup", type=int, help="warm-up repetitions")
    p.add_argument("--only", help="run competitors whose name or variant "
                   "contains one of these comma-separated texts (the "
                   "baseline always runs)")
    p.add_argument("--opencl-device", default="opencl",
                   help="filter of the OpenCL device (default: the first)")
    args = p.parse_args(argv)

    if args.sizes:
        sizes = [harness.parse_size(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [2**20, 2**22]
    else:
        sizes = [2**24, 2**27]

    import cambrian_opencl
    cambrian_opencl.DEVICE = args.opencl_device

    mods = [__import__(m) for m in COMPETITORS]
    env = harness.environment()
    import cambrian as cb
    cb.init()
    env["cambrian"] = cb.config()
    cb.shutdown()
    try:
        import numba_prange
        env["numba_threads"] = numba_prange.threads()
    except ImportError:
        pass

    notes = []
    avail, skipped = harness.availability(mods)

    results = []
    rng = np.random.default_rng(0)
    for n in sizes:
        # Warm-up: the first repetitions on an OpenCL device allocate the
        # device buffers of the results (at 2^27 on pocl the first four
        # took 0.3-1.2 s each, then 40-50 ms); their times go to the JSON
        # as warmup_s.
        if args.quick:
            warmup, reps = 1, 3
        elif n <= 2**24:
            warmup, reps = 4, 10
        else:
            warmup, reps = 4, 7
        warmup = args.warmup if args.warmup is not None else warmup
        reps = args.reps or reps
        t0 = time.perf_counter()
        a = rng.random(n, dtype=np.float32)
        b = rng.random(n, dtype=np.float32)
        expect = a + b
        print(f"# N = {harness.size_label(n)} ({n} float32, "
              f"{a.nbytes / 2**20:.0f} MiB per array); warm-up {warmup}, "
              f"{reps} timed repetitions (inputs made in "
              f"{time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        for m in mods:
            if not avail[m.NAME]:
                continue
            for v in m.VARIANTS:
                if (args.only and (m.NAME, v) != BASELINE
                        and not any(t in m.NAME or t in v
                                    for t in args.only.split(","))):
                    continue
                row = {"n": n, "competitor": m.NAME, "variant": v,
                       "kind": m.KIND,
                       "busy_others": harness.busy_others(0.3)}
                state = None
                try:
                    with harness.Watchdog(900, f"{m.NAME} {v}"):
                        state = m.setup(a, b, v)
                        warm = row.setdefault("warmup_s", [])
                        samples = harness.timed(m.run, state, warmup, reps,
                                                warm)
                        got = m.result(state)
                        want = a if m.KIND == "copy" else expect
                        np.testing.assert_allclose(np.asarray(got), want,
                                                   rtol=1e-6)
                        row["check"] = "ok"
                    row.update(harness.summary(samples))
                except Exception as e:  # report and go on
                    row["error"] = f"{type(e).__name__}: {e}"
                    print(f"  {m.NAME} [{v}]: FAILED {row['error']}",
                          file=sys.stderr)
                finally:
                    if state is not None:
                        m.teardown(state)
                if "median_s" in row:
                    arrays = 2 if m.KIND == "copy" else 3
                    row["bytes"] = arrays * n * a.itemsize
                    row["gbps"] = row["bytes"] / row["median_s"] / 1e9
                    print(f"  {m.NAME:22s} {v:45s} "
                          f"{row['median_s'] * 1e3:9.2f} ms "
                          f"{row['gbps']:7.2f} GB/s", file=sys.stderr)
                results.append(row)
        del a, b, expect

    # Ratios per size.
    for n in sizes:
        rows = [r for r in results if r["n"] == n and "median_s" in r]
        copies = [r["gbps"] for r in rows if r["kind"] == "copy"]
        best_copy = max(copies) if copies else None
        base = next((r for r in rows
                     if (r["competitor"], r["variant"]) == BASELINE), None)
        for r in rows:
            r["pct_of_copy"] = (100 * r["gbps"] / best_copy
                                if best_copy else None)
            if base and r["kind"] == "add":
                r["vs_numpy"] = base["median_s"] / r["median_s"]

    md = ["# vector_add: c = a + b, float32\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; numpy "
          f"{env['numpy']}, numba {env.get('numba')}, cambrian "
          f"{env['cambrian']['ncpus']} CPU worker(s) + "
          f"{env['cambrian']['nopencl']} OpenCL worker(s), scheduler "
          f"{env['cambrian']['scheduler']}, StarPU "
          f"{env['cambrian']['starpu_version']}; numba threads "
          f"{env.get('numba_threads', '-')}.\n"
          f"Measured build: git {env.get('git', '?')}, _core sha256 "
          f"{env.get('cambrian_core', {}).get('sha256', '?')} (built "
          f"{env.get('cambrian_core', {}).get('mtime', '?')}).\n",
          "Median of the timed repetitions after a warm-up. GB/s counts "
          "3 x N x 4 bytes for add, 2 x N x 4 for copy. % of copy: of the "
          "best STREAM-like copy of the same size. vs numpy: time of "
          "np.add(a, b, out=c) / time (above 1 = faster than NumPy).\n"]
    headers = ["competitor", "variant", "time (ms)", "min (ms)", "GB/s",
               "% of copy", "vs numpy"]
    for n in sizes:
        rows = []
        for r in results:
            if r["n"] != n:
                continue
            if "median_s" not in r:
                rows.append([r["competitor"], r["variant"],
                             "failed: " + r["error"][:60], "", "", "", ""])
                continue
            rows.append([
                r["competitor"] + (" *" if r["busy_others"] else ""),
                r["variant"],
                f"{r['median_s'] * 1e3:.2f}", f"{r['min_s'] * 1e3:.2f}",
                f"{r['gbps']:.2f}",
                "-" if r.get("pct_of_copy") is None
                else f"{r['pct_of_copy']:.0f}%",
                "-" if r.get("vs_numpy") is None
                else f"{r['vs_numpy']:.2f}x"])
        md.append(f"## N = {harness.size_label(n)} ({n} elements, "
                  f"{n * 4 / 2**20:.0f} MiB per array)\n")
        md.append(harness.markdown_table(headers, rows, "llrrrrr") + "\n")
    if any(r["busy_others"] for r in results):
        md.append("\\* other processes were using the CPU just before this "
                  "row was measured (see busy_others in the JSON): its "
                  "timing may be disturbed.\n")
    if skipped:
        md.append("Skipped: " + "; ".join(skipped) + "\n")
    md.extend(notes)
    text = "\n".join(md)
    print(text)
    jpath, mpath = harness.write_results(
        "vector_add", {"workload": "vector_add", "environment": env,
                       "sizes": sizes, "skipped": skipped,
                       "results": results}, text)
    print(f"wrote {os.path.relpath(jpath)} and {os.path.relpath(mpath)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
