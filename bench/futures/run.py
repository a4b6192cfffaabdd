"""futures: latency of one tiny operation to a resolved future, and
aggregate submission throughput from several Python threads.

    .venv/bin/python bench/futures/run.py [--n 2000] [--rounds 4]
                                          [--k 20000] [--quick]

1. Latency: 16 float32, c = a + b, one operation at a time (submit, wait
   for its future, repeat), median over `n` samples taken in `rounds`
   rounds in which the rows take turns (each after a warm-up), for
   cambrian ((a + b).future.result(); `await (a + b)` in asyncio; plus
   rows that take its path apart), asyncio's run_in_executor(None,
   np.add, x, y), ThreadPoolExecutor.submit(np.add, x, y).result() and
   dask.distributed futures on a local in-process cluster (skipped when
   distributed is missing). Ratios: run_in_executor's median / this one.
2. Throughput: 1, 2 and 4 Python threads each submit K times c = a + b
   (their own arrays on "cpu"), then one cb.synchronize(); aggregate
   ops/s, median over rounds (each with a fresh runtime and threads) of
   a few repetitions.

cambrian runs in two StarPU configurations: its default one, and one CPU
worker with no OpenCL device (cb.init(ncpus=1, devices="none")), which
leaves a core to Python. Competitors are files in this folder: NAME,
USES_RUNTIME, VARIANTS, available(), setup(variant, runtime) -> state,
samples(state, warmup, n) -> list of seconds, check(state),
teardown(state); cambrian_threads.py drives part 2.

Targets (printed, never asserted):
  cambrian submit + result() and submit + await <= 8 us each, and >= 6x
  faster than run_in_executor
  4 threads reach at least the aggregate throughput of 1 thread
Results: bench/results/futures.{json,md}.
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

LATENCY = ["cambrian_future", "cambrian_asyncio", "asyncio_executor",
           "threadpool", "dask_distributed"]
RUNTIMES = [("default", {}),
            ("1 CPU, no OpenCL", {"ncpus": 1, "devices": "none"})]
REF = "asyncio run_in_executor"
LATENCY_TARGET_US = 8.0
SPEEDUP_TARGET = 6.0
TARGET_ROWS = {("cambrian", "future.result()"),
               ("cambrian asyncio", "await (a + b)")}


def latency_summary(samples):
    """median, min, max and percentiles of per-operation seconds, in us
    (the samples themselves stay out of the JSON: thousands per row)."""
    us = [s * 1e6 for s in samples]
    q = statistics.quantiles(us, n=100) if len(us) > 1 else us * 99
    return {"n": len(us), "median_us": statistics.median(us),
            "min_us": min(us), "p10_us": q[9], "p90_us": q[89],
            "p99_us": q[98], "max_us": max(us)}


def run_latency(n, warmup, rounds, runtimes, skipped):
    """Every row, `rounds` times in turn (n // rounds samples each time,
    after `warmup` operations), so that a slow spell of the machine is
    spread over the rows rather than falling on one of them."""
    plan = []
    for name in LATENCY:
        m = __import__(name)
        ok, why = m.available()
        if not ok:
            skipped.append(f"{m.NAME}: {why}")
            print(f"  {m.NAME}: skipped ({why})", file=sys.stderr)
            continue
        for label, runtime in (runtimes if m.USES_RUNTIME else [("-", None)]):
            for v in m.VARIANTS:
                plan.append((m, v, label, runtime, {
                    "competitor": m.NAME, "variant": v, "runtime": label,
                    "busy_others": [], "round_medians_us": []}))
    got = {id(row): [] for *_, row in plan}
    per_round = max(1, n // rounds)
    for rnd in range(rounds):
        busy = harness.busy_others(0.3)  # stored with every row of the round
        for m, v, label, runtime, row in plan:
            if "error" in row:
                continue
            row["busy_others"] += [dict(b, round=rnd) for b in busy]
            state = None
            try:
                with harness.Watchdog(300, f"{m.NAME} {v}"):
                    state = m.setup(v, runtime)
                    s = m.samples(state, warmup, per_round)
                    m.check(state)
                    got[id(row)] += s
                    row["round_medians_us"].append(
                        statistics.median(s) * 1e6)
                    if "config" in state:
                        row["cambrian_config"] = state["config"]
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"
                print(f"  {m.NAME} [{v}, {label}]: FAILED "
                      f"{row['error']}", file=sys.stderr)
            finally:
                if state is not None:
                    m.teardown(state)
    rows = []
    for m, v, label, runtime, row in plan:
        if "error" not in row:
            row.update(latency_summary(got[id(row)]))
            print(f"  {m.NAME:24s} {v[:44]:44s} {label:17s} "
                  f"{row['median_us']:9.2f} us (n={row['n']}; rounds "
                  + " ".join(f"{x:.1f}" for x in row["round_medians_us"])
                  + ")", file=sys.stderr)
        rows.append(row)
    ref = next((r for r in rows if r["competitor"] == REF
                and "median_us" in r), None)
    for r in rows:
        if ref and "median_us" in r:
            r["ref_over_this"] = ref["median_us"] / r["median_us"]
    return rows, ref


def run_throughput(k, reps, rounds, threads, runtimes):
    """Every (runtime, thread count), `rounds` times in turn, each time
    with a fresh runtime and fresh threads: `reps` timed repetitions
    after 1 warm-up. Fresh runtimes matter: the rate of one runtime
    instance can differ from the next one's (see the round medians)."""
    import cambrian_threads as ct
    warmup = 1
    plan = [{"runtime": label, "threads": nt, "k": k, "ops": nt * k,
             "busy_others": [], "round_ops_per_s": [], "samples_s": [],
             "submit_s": [], "_init": runtime}
            for label, runtime in runtimes for nt in threads]
    for rnd in range(rounds):
        busy = harness.busy_others(0.3)
        for row in plan:
            if "error" in row:
                continue
            nt, label = row["threads"], row["runtime"]
            row["busy_others"] += [dict(b, round=rnd) for b in busy]
            state = None
            try:
                with harness.Watchdog(300, f"threads {nt} {label}"):
                    state = ct.setup(nt, k, row["_init"])
                    samples = harness.timed(ct.run, state, warmup, reps)
                    ct.check(state)
                    row["samples_s"] += samples
                    row["submit_s"] += ct.submit_seconds(state, warmup)
                    row["round_ops_per_s"].append(
                        nt * k / statistics.median(samples))
                    row["cambrian_config"] = state["config"]
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"
                print(f"  threads={nt} [{label}]: FAILED {row['error']}",
                      file=sys.stderr)
            finally:
                if state is not None:
                    ct.teardown(state)
    for row in plan:
        del row["_init"]
        if "error" in row:
            continue
        nt = row["threads"]
        row.update(harness.summary(row.pop("samples_s")))
        row["ops_per_s"] = nt * k / row["median_s"]
        row["submit_median_s"] = statistics.median(row["submit_s"])
        row["submit_ops_per_s"] = nt * k / row["submit_median_s"]
        row["us_per_op"] = row["median_s"] / (nt * k) * 1e6
        print(f"  cambrian {nt} thread(s) {row['runtime']:17s} "
              f"{row['ops_per_s']:12,.0f} ops/s (submit "
              f"{row['submit_ops_per_s']:,.0f}; rounds "
              + " ".join(f"{x:,.0f}" for x in row["round_ops_per_s"])
              + ")", file=sys.stderr)
    for r in plan:
        one = next((o for o in plan if o["runtime"] == r["runtime"]
                    and o["threads"] == 1 and "ops_per_s" in o), None)
        if one and "ops_per_s" in r:
            r["vs_1_thread"] = r["ops_per_s"] / one["ops_per_s"]
    return plan


def star(r):
    return " *" if r.get("busy_others") else ""


def diag_variants():
    import cambrian_asyncio as ca_
    import cambrian_future as cf_
    return ({("cambrian", v) for v in cf_.VARIANTS[1:]}
            | {("cambrian asyncio", v) for v in ca_.VARIANTS[1:]})


def breakdown(lat, label):
    """cambrian's medians of one runtime, the pieces of its path."""
    import cambrian_asyncio as ca_
    import cambrian_future as cf_

    def med(comp, var):
        r = next((r for r in lat if r["competitor"] == comp
                  and r["variant"] == var and r["runtime"] == label
                  and "median_us" in r), None)
        return "?" if r is None else f"{r['median_us']:.1f}"
    res, c_wait, cf_wait, fut, sub = (med("cambrian", v)
                                      for v in cf_.VARIANTS)
    aw, wrap = (med("cambrian asyncio", v) for v in ca_.VARIANTS)
    return (f"- {label}: submit {sub} us; submit + making the Future {fut}"
            f" us; submit + c.wait() (waits in C, no Future) {c_wait} us; "
            f"submit + future.result() {res} us; submit + "
            f"concurrent.futures.wait (notifier thread) {cf_wait} us; "
            f"await (a + b) {aw} us; await asyncio.wrap_future(...) "
            f"(notifier thread, call_soon_threadsafe) {wrap} us.")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, help="latency samples per row "
                   "(default 2000; --quick: 300)")
    p.add_argument("--warmup", type=int, help="latency warm-up operations "
                   "(default 200; --quick: 50)")
    p.add_argument("--rounds", type=int, help="latency rounds, the rows "
                   "taking turns (default 4; --quick: 2)")
    p.add_argument("--k", type=int, help="operations per thread per "
                   "throughput repetition (default 20000; --quick: 2000)")
    p.add_argument("--reps", type=int, help="timed throughput repetitions "
                   "per round (default 3; --quick: 2)")
    p.add_argument("--throughput-rounds", type=int, help="throughput "
                   "rounds, each with fresh runtimes (default 3; --quick: 1)")
    p.add_argument("--threads", default="1,2,4",
                   help="thread counts of the throughput part")
    p.add_argument("--default-runtime-only", action="store_true",
                   help="skip the 1-CPU, no-OpenCL runtime")
    p.add_argument("--quick", action="store_true", help="a smoke run")
    args = p.parse_args(argv)
    n = args.n or (300 if args.quick else 2000)
    warmup = args.warmup or (50 if args.quick else 200)
    rounds = args.rounds or (2 if args.quick else 4)
    k = args.k or (2000 if args.quick else 20000)
    reps = args.reps or (2 if args.quick else 3)
    trounds = args.throughput_rounds or (1 if args.quick else 3)
    threads = [int(t) for t in args.threads.split(",")]
    runtimes = RUNTIMES[:1] if args.default_runtime_only else RUNTIMES

    import cambrian as cb
    env = harness.environment()
    # The installed distribution's version: a module of that name may
    # be another package's (one machine had such a namespace package).
    try:
        from importlib.metadata import PackageNotFoundError, version
        env["distributed"] = version("distributed")
    except PackageNotFoundError:
        env["distributed"] = None
    cb.init()
    cbcfg = cb.config()
    env["cambrian"] = cbcfg
    cb.shutdown()
    print(f"# latency: {n} samples in {rounds} rounds, each after {warmup} "
          f"warm-up; throughput: K={k} per thread, {trounds} rounds of "
          f"{reps} repetitions after 1 warm-up; cambrian "
          f"default: {cbcfg['ncpus']} CPU worker(s), {cbcfg['nopencl']} "
          f"OpenCL, {cbcfg['scheduler']}", file=sys.stderr)

    skipped = []
    lat, ref = run_latency(n, warmup, rounds, runtimes, skipped)
    thr = run_throughput(k, reps, trounds, threads, runtimes)

    md = ["# futures: latency to a resolved future, multi-thread "
          "submission\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; cambrian default "
          f"runtime {cbcfg['ncpus']} CPU worker(s) + {cbcfg['nopencl']} "
          f"OpenCL worker(s), scheduler {cbcfg['scheduler']}, StarPU "
          f"{cbcfg['starpu_version']}; Python {env['python']}, NumPy "
          f"{env['numpy']}, dask {env.get('dask')}, distributed "
          f"{env.get('distributed')}.\n"
          f"Measured build: git {env.get('git', '?')}, _core sha256 "
          f"{env.get('cambrian_core', {}).get('sha256', '?')} (built "
          f"{env.get('cambrian_core', {}).get('mtime', '?')}).\n",
          "## 1. Latency of one tiny operation (16 float32, c = a + b)\n",
          f"One at a time: submit, wait until its future is resolved, "
          f"repeat; median of {n} samples taken in {rounds} rounds in which"
          f" the rows take turns, each after {warmup} warm-up operations "
          f"(dask.distributed: fewer, see n). runtime: cambrian's StarPU configuration "
          f"(default, or cb.init(ncpus=1, devices='none')). "
          f"executor / this: run_in_executor's median divided by this one "
          f"(above 1: faster than run_in_executor). round medians: the "
          f"median of each round, in us. Rows marked (diag.) "
          f"are not targets: they show pieces of cambrian's path and other "
          f"ways to wait (see the competitor files).\n"]
    headers = ["competitor", "variant", "runtime", "n", "median us", "p10",
               "p90", "p99", "round medians", "executor / this"]
    table = []
    diag = diag_variants()
    for r in lat:
        v = r["variant"] + (" (diag.)" if (r["competitor"], r["variant"])
                            in diag else "")
        if "median_us" not in r:
            table.append([r["competitor"], v, r["runtime"], "",
                          "failed: " + r.get("error", "")[:60], "", "", "",
                          "", ""])
            continue
        table.append([
            r["competitor"] + star(r), v, r["runtime"], r["n"],
            f"{r['median_us']:.1f}", f"{r['p10_us']:.1f}",
            f"{r['p90_us']:.1f}", f"{r['p99_us']:.1f}",
            " / ".join(f"{x:.0f}" for x in r["round_medians_us"]),
            "-" if r.get("ref_over_this") is None
            else f"{r['ref_over_this']:.2f}x"])
    md.append(harness.markdown_table(headers, table, "lllrrrrrrr") + "\n")

    md.append("## 2. Aggregate submission throughput, cambrian "
              "(c = a + b, 16 float32, device 'cpu')\n")
    md.append(f"Each thread submits K = {k} operations on its own arrays, "
              f"then one cb.synchronize(); median of {trounds * reps} "
              f"repetitions: {trounds} round(s) in which the rows take turns,"
              f" each with a fresh runtime and fresh threads, {reps} "
              "repetitions after 1 warm-up. ops/s: threads x K / (release of the "
              "threads to the return of synchronize). submit ops/s: threads"
              " x K / the longest submission loop among the threads. vs 1: "
              "ops/s / that of 1 thread in the same runtime. round ops/s: the "
              "median of each round.\n")
    headers = ["runtime", "threads", "ops", "median s", "ops/s",
               "us/op", "submit ops/s", "round ops/s", "vs 1"]
    table = []
    for r in thr:
        if "ops_per_s" not in r:
            table.append([r["runtime"], r["threads"], r["ops"],
                          "failed: " + r.get("error", "")[:60], "", "", "",
                          "", ""])
            continue
        table.append([
            r["runtime"] + star(r), r["threads"], r["ops"],
            f"{r['median_s']:.3f}", f"{r['ops_per_s']:,.0f}",
            f"{r['us_per_op']:.2f}", f"{r['submit_ops_per_s']:,.0f}",
            " / ".join(f"{x / 1e3:.0f}k" for x in r["round_ops_per_s"]),
            "-" if r.get("vs_1_thread") is None
            else f"{r['vs_1_thread']:.2f}x"])
    md.append(harness.markdown_table(headers, table, "lrrrrrrrr") + "\n")
    if any(r.get("busy_others") for r in lat + thr):
        md.append("\\* other processes were using the CPU around this "
                  "measurement (see busy_others in the JSON): its timing "
                  "may be disturbed.\n")

    targets = []
    md.append("## Targets\n")
    for r in lat:
        if (r["competitor"], r["variant"]) not in TARGET_ROWS \
                or "median_us" not in r:
            continue
        ok = r["median_us"] <= LATENCY_TARGET_US
        md.append(f"- {r['competitor']} {r['variant']} [{r['runtime']}]: "
                  f"{r['median_us']:.1f} us; target <= "
                  f"{LATENCY_TARGET_US:g} us: **{'met' if ok else 'NOT met'}"
                  f"**")
        targets.append({"row": f"{r['competitor']} {r['variant']}",
                        "runtime": r["runtime"], "target": "latency_us",
                        "value": r["median_us"], "met": ok})
        if ref:
            ok = r["ref_over_this"] >= SPEEDUP_TARGET
            md.append(f"- {r['competitor']} {r['variant']} [{r['runtime']}]"
                      f": run_in_executor {ref['median_us']:.1f} us is "
                      f"{r['ref_over_this']:.2f}x this; target >= "
                      f"{SPEEDUP_TARGET:g}x: **{'met' if ok else 'NOT met'}"
                      f"**")
            targets.append({"row": f"{r['competitor']} {r['variant']}",
                            "runtime": r["runtime"],
                            "target": "vs_run_in_executor",
                            "value": r["ref_over_this"], "met": ok})
    for label, _ in runtimes:
        got = {r["threads"]: r for r in thr
               if r["runtime"] == label and "ops_per_s" in r}
        if 1 in got and 4 in got:
            ok = got[4]["ops_per_s"] >= got[1]["ops_per_s"]
            md.append(f"- throughput [{label}]: 4 threads "
                      f"{got[4]['ops_per_s']:,.0f} ops/s vs 1 thread "
                      f"{got[1]['ops_per_s']:,.0f} ops/s "
                      f"({got[4]['vs_1_thread']:.2f}x); target >= 1x: "
                      f"**{'met' if ok else 'NOT met'}**")
            targets.append({"runtime": label, "target": "4_threads_vs_1",
                            "value": got[4]["vs_1_thread"], "met": ok})
    md.append("")
    if any(r["competitor"] == "cambrian" for r in lat):
        md.append("## Where cambrian's latency goes (medians from the "
                  "rows above)\n")
        md.extend(breakdown(lat, label) for label, _ in runtimes)
        md.append("")
    if skipped:
        md.append("Skipped: " + "; ".join(skipped) + "\n")
    text = "\n".join(md)
    print(text)
    jpath, mpath = harness.write_results(
        "futures", {"workload": "futures", "environment": env,
                    "latency": {"n": n, "warmup": warmup, "rounds": rounds,
                                "results": lat},
                    "throughput": {"k": k, "reps": reps, "rounds": trounds,
                                   "threads": threads, "results": thr},
                    "targets": targets, "skipped": skipped}, text)
    print(f"wrote {os.path.relpath(jpath)} and {os.path.relpath(mpath)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
