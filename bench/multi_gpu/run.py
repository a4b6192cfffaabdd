"""multi_gpu: the same work on one GPU and on every GPU of the machine,
cambrian beside CuPy, in one run.

    .venv/bin/python bench/multi_gpu/run.py [--quick] [--n 2**30]
        [--products 64] [--size 4096] [--steps 10] [--reps 3]

Two workloads (workloads.py): independent SGEMMs (64 of 4096 x 4096 by
default) and element-wise work over large arrays (10 x z = z * a + b over
2^30 float32). Each competitor file (cambrian_gpus.py, cupy_gpus.py)
exposes NAME, VARIANTS, available(), setup(work, variant) -> state (None:
the variant does not apply), run(state), check(state) and
teardown(state). For each workload and variant: setup, one warm-up run,
timed runs (the median is reported), a check of the results against
NumPy's, teardown.

"vs one GPU" divides the same competitor's one-GPU time by the variant's
(above 1: faster); "vs CuPy" divides CuPy's time on as many GPUs (one, or
every GPU by hand) by the variant's. Results:
bench/results/multi_gpu.{json,md}.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

import workloads  # noqa: E402

COMPETITORS = ["cambrian_gpus", "cupy_gpus"]


def measure(mod, work, variant, warmup, reps):
    row = {"workload": work.name, "label": work.label,
           "competitor": mod.NAME, "variant": variant}
    state = None
    try:
        with harness.Watchdog(1200, f"{mod.NAME} {variant}"):
            state = mod.setup(work, variant)
            if state is None:
                return None
            warm = row.setdefault("warmup_s", [])
            samples = harness.timed(mod.run, state, warmup, reps, warm)
            row["check"] = "ok" if mod.check(state) else "WRONG"
        row.update(harness.summary(samples))
    except Exception as e:  # report and go on
        row["error"] = f"{type(e).__name__}: {e}"
    finally:
        if state is not None:
            mod.teardown(state)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes (a smoke run)")
    p.add_argument("--n", default="2**30",
                   help="elements of the element-wise arrays")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--products", type=int, default=64)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--kind", default="opencl:gpu",
                   help="the devices for cambrian (default opencl:gpu; "
                   "opencl:cpu with POCL_DEVICES=\"pthread pthread\" "
                   "tries it on two pocl devices)")
    p.add_argument("--only", help="run only these workloads "
                   "(products, elementwise; comma-separated)")
    args = p.parse_args(argv)
    n = harness.parse_size(args.n)
    size, count = args.size, args.products
    if args.quick:
        n, size, count = 2**22, 512, 8
    works = [workloads.Products(size, count),
             workloads.Elementwise(n, args.steps)]
    if args.only:
        works = [w for w in works if w.name in args.only.split(",")]

    env = harness.environment()
    mods = [__import__(m) for m in COMPETITORS]
    mods[0].KIND = args.kind
    try:
        import cambrian as cb
        env["gpus"] = ", ".join(f"{d.filter_string} {d.name}"
                                for d in cb.devices(args.kind))
    except Exception:  # noqa: BLE001 - the table says "?"
        pass
    avail, skipped = harness.availability(mods)
    for line in skipped:
        print(line, file=sys.stderr)

    results = []
    for work in works:
        print(f"# {work.label}", file=sys.stderr)
        for m in mods:
            if not avail[m.NAME]:
                continue
            for v in m.VARIANTS:
                row = measure(m, work, v, 1, args.reps)
                if row is None:
                    continue
                results.append(row)
                if "median_s" in row:
                    print(f"  {m.NAME:9s} {v:28s} "
                          f"{row['median_s'] * 1e3:9.2f} ms  {row['check']}",
                          file=sys.stderr)
                else:
                    print(f"  {m.NAME:9s} {v:28s} FAILED {row['error']}",
                          file=sys.stderr)

    # Ratios: against the same competitor on one GPU, and against CuPy on
    # as many GPUs (its first variant is one GPU, its second every GPU).
    for work in works:
        rows = [r for r in results if r["workload"] == work.name
                and "median_s" in r]
        def time_of(comp, variant):
            return next((r["median_s"] for r in rows
                         if r["competitor"] == comp
                         and r["variant"] == variant), None)
        for r in rows:
            mod = next(m for m in mods if m.NAME == r["competitor"])
            one = time_of(r["competitor"], mod.VARIANTS[0])
            r["vs_one_gpu"] = one / r["median_s"] if one else None
            many = r["variant"] != mod.VARIANTS[0]
            peer = time_of("cupy", "every GPU, by hand" if many
                           else "one GPU")
            r["vs_cupy"] = peer / r["median_s"] if peer else None
            if work.name == "products":
                r["tflops"] = work.flops / r["median_s"] / 1e12
            else:
                r["gbps"] = work.bytes / r["median_s"] / 1e9

    gpus = env.get("gpus") or "?"
    md = ["# multi_gpu: one GPU and every GPU, cambrian beside CuPy\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; GPUs: {gpus}.\n"
          f"Measured build: git {env.get('git', '?')}.\n",
          "Median of the timed repetitions after one warm-up. vs one GPU: "
          "the same competitor's one-GPU time / this time. vs CuPy: CuPy's "
          "time on as many GPUs / this time (above 1: faster).\n"]
    for work in works:
        md.append(f"## {work.label}\n")
        rate = "TFLOPS" if work.name == "products" else "GB/s"
        rows = []
        for r in results:
            if r["workload"] != work.name:
                continue
            if "median_s" not in r:
                rows.append([r["competitor"], r["variant"],
                             "failed: " + r["error"][:60], "", "", "", ""])
                continue
            value = r.get("tflops", r.get("gbps"))
            rows.append([r["competitor"], r["variant"],
                         f"{r['median_s'] * 1e3:.2f}",
                         f"{value:.2f}",
                         "-" if r["vs_one_gpu"] is None
                         else f"{r['vs_one_gpu']:.2f}x",
                         "-" if r["vs_cupy"] is None
                         else f"{r['vs_cupy']:.2f}x", r["check"]])
        md.append(harness.markdown_table(
            ["competitor", "variant", "time (ms)", rate, "vs one GPU",
             "vs CuPy", "check"], rows, "llrrrrl") + "\n")
    md += [s + "\n" for s in skipped]
    text = "\n".join(md)
    print(text)
    harness.write_results("multi_gpu", {"env": env, "results": results},
                          text)
    return 0 if all(r.get("check") == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
