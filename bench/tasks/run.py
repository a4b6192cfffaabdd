"""tasks: Python functions as cambrian tasks (@cb.task) against
concurrent.futures.ThreadPoolExecutor with the same number of workers.

    .venv/bin/python bench/tasks/run.py [--n 5000] [--calls 8] [--size 1500]
                                        [--rounds 3] [--reps 3] [--quick]
                                        [--blas-threads 1]

1. Per-call overhead: N calls of a tiny function (i + 1), all submitted,
   then every future's result() in order; us per call = time / N. Rows:
   cambrian in its default runtime, with W CPU workers and no OpenCL
   device, and with 1; ThreadPoolExecutor with W threads and with 1; the
   plain calls in the calling thread (the floor).
2. GIL-releasing NumPy: K calls of np.dot on float64 matrices of
   size x size (BLAS on one thread each, see --blas-threads), all
   submitted, then every result; the same rows, the serial one being
   the one-core time.

W is the number of cores this process may use (at most the runtime's
max_cpus). Every row runs `rounds` times in turn (the rows take turns, so
that a slow spell of the machine is spread over them), each time after a
fresh setup (a fresh runtime for cambrian): 1 warm-up, then `reps` timed
repetitions; tables give the median over all of them. Competitors are
the files of this folder: NAME, USES_RUNTIME, available(),
setup(workload, runtime_or_workers, data) -> state, run(state),
check(state), teardown(state).

Targets (printed, never asserted):
  @cb.task per-call overhead no worse than ThreadPoolExecutor.submit with
  the same number of workers (ratio TPE / cambrian >= 1)
  GIL-releasing calls scale across workers: W CPU workers at least
  0.75 x W times as fast as 1 CPU worker
Results: bench/results/tasks.{json,md}.
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

COMPETITORS = ["serial", "threadpool", "cambrian_task"]
SCALING_TARGET = 0.75   # of the ideal W x


def make_data(workload, args):
    import numpy as np
    if workload == "overhead":
        return {"n": args.n}
    rng = np.random.default_rng(0)
    # Two left matrices and one right one, shared by the K calls.
    lefts = [rng.standard_normal((args.size, args.size)) for _ in range(2)]
    right = rng.standard_normal((args.size, args.size))
    products = [np.dot(m, right) for m in lefts]
    return {"pairs": [(lefts[i % 2], right) for i in range(args.calls)],
            "expected": [products[i % 2] for i in range(args.calls)]}


def plan_rows(workers):
    """(module, label, workers, setup argument) per row."""
    rows = []
    for name in COMPETITORS:
        m = __import__(name)
        ok, why = m.available()
        if not ok:
            print(f"  {m.NAME}: skipped ({why})", file=sys.stderr)
            continue
        if name == "serial":
            rows.append((m, "1 (caller)", 1, 1))
        elif m.USES_RUNTIME:
            rows.append((m, "default runtime", None, {}))
            rows.append((m, f"{workers} CPU workers, no OpenCL", workers,
                         {"ncpus": workers, "devices": "none"}))
            if workers > 1:
                rows.append((m, "1 CPU worker, no OpenCL", 1,
                             {"ncpus": 1, "devices": "none"}))
        else:
            rows.append((m, f"{workers} threads", workers, workers))
            if workers > 1:
                rows.append((m, "1 thread", 1, 1))
    return rows


def run_workload(workload, data, rows, rounds, reps, per_call):
    results = [{"workload": workload, "competitor": m.NAME, "config": label,
                "workers": w, "one_worker_row": label.startswith("1 "),
                "samples_s": [], "submit_s": [], "round_medians_s": [],
                "busy_others": []}
               for m, label, w, _ in rows]
    for rnd in range(rounds):
        busy = harness.busy_others(0.3)
        for (m, label, w, arg), res in zip(rows, results):
            if "error" in res:
                continue
            res["busy_others"] += [dict(b, round=rnd) for b in busy]
            state = None
            try:
                with harness.Watchdog(600, f"{m.NAME} {label}"):
                    state = m.setup(workload, arg, data)
                    got = harness.timed(m.run, state, 1, reps)
                    m.check(state)
                    res["samples_s"] += got
                    res["submit_s"] += state["submit_s"][1:]
                    res["round_medians_s"].append(statistics.median(got))
                    if "config" in state:
                        res["cambrian_config"] = state["config"]
                        if w is None:
                            res["workers"] = state["config"]["ncpus"]
            except Exception as e:
                res["error"] = f"{type(e).__name__}: {e}"
                print(f"  {m.NAME} [{label}]: FAILED {res['error']}",
                      file=sys.stderr)
            finally:
                if state is not None:
                    m.teardown(state)
    for res in results:
        if "error" in res:
            continue
        res.update(harness.summary(res.pop("samples_s")))
        res["submit_median_s"] = statistics.median(res["submit_s"])
        res["us_per_call"] = res["median_s"] / per_call * 1e6
        res["submit_us_per_call"] = res["submit_median_s"] / per_call * 1e6
        print(f"  {workload:8s} {res['competitor']:24s} {res['config']:28s}"
              f" {res['median_s'] * 1e3:10.2f} ms  {res['us_per_call']:10.2f}"
              f" us/call (rounds " + " ".join(
                  f"{x * 1e3:.1f}" for x in res["round_medians_s"]) + " ms)",
              file=sys.stderr)
    return results


def find(results, competitor_prefix, workers=None):
    """The first measured row of a competitor (with that many workers)."""
    for r in results:
        if "median_s" not in r or \
                not r["competitor"].startswith(competitor_prefix):
            continue
        if workers is not None and r["workers"] != workers:
            continue
        return r
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, help="calls of the tiny function per "
                   "repetition (default 5000; --quick 1000)")
    p.add_argument("--calls", type=int, help="np.dot calls per repetition "
                   "(default 8; --quick 4)")
    p.add_argument("--size", type=int, help="matrix size (default 1500; "
                   "--quick 600)")
    p.add_argument("--rounds", type=int, help="rounds (default 3; --quick 1)")
    p.add_argument("--reps", type=int, help="timed repetitions per round "
                   "(default 3; --quick 2)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads of each BLAS call (default 1, so that "
                   "the workers, not BLAS, share the cores)")
    p.add_argument("--quick", action="store_true", help="a smoke run")
    args = p.parse_args(argv)
    q = args.quick
    args.n = args.n or (1000 if q else 5000)
    args.calls = args.calls or (4 if q else 8)
    args.size = args.size or (600 if q else 1500)
    rounds = args.rounds or (1 if q else 3)
    reps = args.reps or (2 if q else 3)
    # Before NumPy (and the BLAS it loads) starts.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "MKL_NUM_THREADS"):
        os.environ[var] = str(args.blas_threads)

    import cambrian as cb
    env = harness.environment()
    cb.init()
    default_cfg = cb.config()
    cb.shutdown()
    env["cambrian"] = default_cfg
    env["blas_threads"] = args.blas_threads
    workers = min(len(os.sched_getaffinity(0)), default_cfg["max_cpus"])
    print(f"# W = {workers} workers; overhead: {args.n} calls; numpy: "
          f"{args.calls} x np.dot {args.size}x{args.size} float64, BLAS "
          f"threads {args.blas_threads}; {rounds} round(s) x (1 warm-up + "
          f"{reps} timed)", file=sys.stderr)

    rows = plan_rows(workers)
    over = run_workload("overhead", make_data("overhead", args), rows,
                        rounds, reps, args.n)
    nump = run_workload("numpy", make_data("numpy", args), rows, rounds,
                        reps, args.calls)

    # Ratios: ThreadPoolExecutor with the same worker count / this row
    # (above 1: faster than the pool); serial / this row (speed-up).
    for results in (over, nump):
        serial = find(results, "serial")
        for r in results:
            if "median_s" not in r:
                continue
            tpe = find(results, "ThreadPoolExecutor", r["workers"])
            if tpe:
                r["tpe_over_this"] = tpe["median_s"] / r["median_s"]
            if serial:
                r["serial_over_this"] = serial["median_s"] / r["median_s"]
            one = next((x for x in results if x["one_worker_row"] and
                        x["competitor"] == r["competitor"] and
                        "median_s" in x), None)
            if one and not r["one_worker_row"] and (r["workers"] or 0) > 1:
                r["vs_1_worker"] = one["median_s"] / r["median_s"]

    md = ["# tasks: @cb.task against ThreadPoolExecutor\n"]
    md.append(
        f"Machine: {env['cpu']}, {env['cores']} cores; cambrian default "
        f"runtime {default_cfg['ncpus']} CPU worker(s) + "
        f"{default_cfg['nopencl']} OpenCL worker(s), scheduler "
        f"{default_cfg['scheduler']}, StarPU {default_cfg['starpu_version']};"
        f" Python {env['python']}, NumPy {env['numpy']}; BLAS threads per "
        f"call: {args.blas_threads}.")
    if "cambrian_core" in env:
        md.append(f"Measured build: git {env.get('git', '?')}, _core sha256 "
                  f"{env['cambrian_core']['sha256']} (built "
                  f"{env['cambrian_core']['mtime']}).")
    md.append("")
    md.append(
        f"Every row: {rounds} round(s) in which the rows take turns, each "
        f"after a fresh setup (a fresh runtime for cambrian), 1 warm-up "
        f"then {reps} timed repetitions; median of all. W = {workers}. "
        "TPE / this: ThreadPoolExecutor's median with the same number of "
        "workers divided by this row's (above 1: this is faster). "
        "serial / this: speed-up over the calls made one after the other "
        "in the calling thread. vs 1 worker: speed-up over the same "
        "competitor with one worker. submit us/call: the submission loop "
        "alone.\n")
    headers = ["competitor", "workers", "config", "median ms", "us/call",
               "submit us/call", "round medians ms", "TPE / this",
               "serial / this", "vs 1 worker"]

    def table(results):
        out = []
        for r in results:
            if "median_s" not in r:
                out.append([r["competitor"], r["workers"] or "-",
                            r["config"], "FAILED", r.get("error", ""), "",
                            "", "", "", ""])
                continue
            star = " *" if r["busy_others"] else ""
            out.append([
                r["competitor"] + star, r["workers"], r["config"],
                f"{r['median_s'] * 1e3:.2f}", f"{r['us_per_call']:.2f}",
                f"{r['submit_us_per_call']:.2f}",
                " / ".join(f"{x * 1e3:.1f}" for x in r["round_medians_s"]),
                f"{r['tpe_over_this']:.2f}x" if "tpe_over_this" in r
                else "-",
                f"{r['serial_over_this']:.2f}x" if "serial_over_this" in r
                else "-",
                f"{r['vs_1_worker']:.2f}x" if "vs_1_worker" in r else "-"])
        return harness.markdown_table(headers, out, "lrlrrrrrrr")

    md.append(f"## 1. Per-call overhead: {args.n} calls of a tiny function "
              "(i + 1), submitted, then every result\n")
    md.append(table(over) + "\n")
    md.append(f"## 2. GIL-releasing NumPy: {args.calls} calls of np.dot on "
              f"{args.size}x{args.size} float64, submitted, then every "
              "result\n")
    md.append(table(nump) + "\n")
    if any(r.get("busy_others") for r in over + nump):
        md.append("\\* other processes were using the CPU around this "
                  "measurement (see busy_others in the JSON): its timing "
                  "may be disturbed.\n")

    targets = []
    md.append("## Targets\n")
    for r in over:
        if not r["competitor"].startswith("cambrian") or \
                "tpe_over_this" not in r:
            continue
        ok = r["tpe_over_this"] >= 1.0
        md.append(f"- overhead [{r['config']}]: {r['us_per_call']:.2f} "
                  f"us/call vs ThreadPoolExecutor({r['workers']}) "
                  f"{r['us_per_call'] * r['tpe_over_this']:.2f} us/call "
                  f"({r['tpe_over_this']:.2f}x); target >= 1x: "
                  f"**{'met' if ok else 'NOT met'}**")
        targets.append({"target": "overhead_vs_threadpool",
                        "config": r["config"], "value": r["tpe_over_this"],
                        "met": ok})
    for r in nump:
        if "vs_1_worker" not in r or \
                not r["competitor"].startswith("cambrian"):
            continue
        want = SCALING_TARGET * r["workers"]
        ok = r["vs_1_worker"] >= want
        line = (f"- numpy scaling [{r['config']}]: {r['vs_1_worker']:.2f}x "
                f"1 CPU worker; target >= {want:.2f}x: "
                f"**{'met' if ok else 'NOT met'}**")
        if "tpe_over_this" in r:
            line += (f" (ThreadPoolExecutor({r['workers']}) / this: "
                     f"{r['tpe_over_this']:.2f}x)")
        md.append(line)
        targets.append({"target": "numpy_scaling", "config": r["config"],
                        "value": r["vs_1_worker"], "wanted": want,
                        "met": ok})
    md.append("")
    text = "\n".join(md)
    print(text)
    jpath, mpath = harness.write_results(
        "tasks", {"workload": "tasks", "environment": env,
                  "params": {"n": args.n, "calls": args.calls,
                             "size": args.size, "rounds": rounds,
                             "reps": reps, "workers": workers,
                             "blas_threads": args.blas_threads},
                  "overhead": over, "numpy": nump, "targets": targets},
        text)
    print(f"wrote {os.path.relpath(jpath)} and {os.path.relpath(mpath)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
