"""overhead: the cost of one tiny operation (16 float32), in microseconds,
for cambrian, raw StarPU, ThreadPoolExecutor, dask and plain NumPy.

    .venv/bin/python bench/overhead/run.py [--ops 20000] [--quick]

Python competitors (files in this folder) expose NAME, VARIANTS,
available(), setup(ops, variant) -> state, run(state), check(state),
teardown(state); run() does `ops` operations and waits for all of them,
so cost per operation = time of run() / ops (median of the timed
repetitions after a warm-up). run() also records how long the submission
loop alone took ("submit" column). Raw StarPU is a C program
(raw_starpu.c, built with CMake into build/bench when needed) timing the
same thing in C.

Targets (printed, never asserted):
  cambrian <= 2x raw StarPU (1 RW buffer, same StarPU configuration)
  cambrian >= 5x cheaper than ThreadPoolExecutor
Results: bench/results/overhead.{json,md}.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)

import raw_starpu  # noqa: E402

PY_COMPETITORS = ["numpy_direct", "threadpool", "dask_threads",
                  "cambrian_ops"]
RAW_TARGET = 2.0
TPE_TARGET = 5.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ops", type=int, help="operations per repetition "
                   "(default 20000; --quick: 2000)")
    p.add_argument("--reps", type=int, help="timed repetitions (default 7)")
    p.add_argument("--quick", action="store_true", help="a smoke run")
    p.add_argument("--no-raw", action="store_true",
                   help="skip building and running raw_starpu")
    args = p.parse_args(argv)
    ops = args.ops or (2000 if args.quick else 20000)
    reps = args.reps or (3 if args.quick else 7)
    warmup = 1

    import cambrian as cb
    env = harness.environment()
    cb.init()
    cbcfg = cb.config()
    env["cambrian"] = cbcfg
    cb.shutdown()
    print(f"# {ops} operations per repetition, warm-up {warmup}, {reps} "
          f"timed repetitions; cambrian: {cbcfg['ncpus']} CPU worker(s), "
          f"{cbcfg['nopencl']} OpenCL, {cbcfg['scheduler']}",
          file=sys.stderr)

    rows, skipped = [], []

    # Raw StarPU, in cambrian's configuration and in a minimal one. No
    # cambrian runtime is running meanwhile (its idle workers poll).
    raw_configs = [
        ("as cambrian", dict(ncpus=cbcfg["ncpus"], nopencl=cbcfg["nopencl"],
                             sched=cbcfg["scheduler"], model=True)),
        # What cb.init(ncpus=1, devices="none") starts.
        ("1 CPU, no OpenCL", dict(ncpus=1, nopencl=0, sched="eager",
                                  model=False)),
    ]
    if not args.no_raw:
        for label, cfg in raw_configs:
            try:
                got = raw_starpu.measure(ops, reps, **cfg)
            except (OSError, subprocess_error()) as e:
                skipped.append(f"raw StarPU ({label}): {e}")
                print(f"  raw StarPU ({label}): FAILED {e}", file=sys.stderr)
                continue
            busy = harness.busy_others(0.3)
            for r in got:
                desc = (f"{label}: {r['ncpus']} CPU + {r['nopencl']} OpenCL,"
                        f" {r['sched']}{', model' if r['model'] else ''}")
                rows.append({
                    "competitor": "raw StarPU", "config": label,
                    "variant": f"{MODE_SHORT[r['mode']]} [{desc}]",
                    "mode": r["mode"], "us_per_op": r["us_per_task"],
                    "min_us": r["min_us"], "max_us": r["max_us"],
                    "submit_us": None, "raw": r, "busy_others": busy,
                    "mode_description": raw_starpu.MODE_LABELS[r["mode"]]})
                print(f"  raw StarPU {label:16s} {r['mode']:7s} "
                      f"{r['us_per_task']:8.2f} us/task", file=sys.stderr)

    for name in PY_COMPETITORS:
        m = __import__(name)
        ok, why = m.available()
        if not ok:
            skipped.append(f"{m.NAME}: {why}")
            continue
        for v in m.VARIANTS:
            row = {"competitor": m.NAME, "variant": v,
                   "busy_others": harness.busy_others(0.3)}
            state = None
            try:
                with harness.Watchdog(900, f"{m.NAME} {v}"):
                    state = m.setup(ops, v)
                    samples = harness.timed(m.run, state, warmup, reps)
                    m.check(state)
                    submit = sorted(state["submit"][warmup:])
                    n = state.get("ops", ops)
                    row["ops"] = n
                    if n != ops:
                        row["variant"] = v = f"{v} ({n} ops)"
                    row.update(harness.summary(samples))
                    row["us_per_op"] = row["median_s"] / n * 1e6
                    row["min_us"] = row["min_s"] / n * 1e6
                    row["max_us"] = row["max_s"] / n * 1e6
                    row["submit_us"] = submit[len(submit) // 2] / n * 1e6
                    if "config" in state:
                        row["cambrian_config"] = state["config"]
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"
                print(f"  {m.NAME} [{v}]: FAILED {row['error']}",
                      file=sys.stderr)
            finally:
                if state is not None:
                    m.teardown(state)
            if "us_per_op" in row:
                print(f"  {m.NAME:20s} {v:45s} {row['us_per_op']:8.2f} us/op"
                      f" (submit {row['submit_us']:.2f})", file=sys.stderr)
            rows.append(row)

    def find(comp, pred=lambda r: True):
        return next((r for r in rows if r["competitor"] == comp
                     and "us_per_op" in r and pred(r)), None)

    def raw_for(row, mode):
        """The raw StarPU row of a mode in the StarPU configuration of a
        cambrian row (default: cambrian's default configuration)."""
        cfg = row.get("cambrian_config", cbcfg)
        return find("raw StarPU", lambda r: r["mode"] == mode
                    and r["raw"]["ncpus"] == cfg["ncpus"]
                    and r["raw"]["nopencl"] == cfg["nopencl"]
                    and r["raw"]["sched"] == cfg["scheduler"])

    raw_ref = raw_for({}, "rw1")
    tpe = find("ThreadPoolExecutor")
    for r in rows:
        if "us_per_op" not in r:
            continue
        ref = raw_for(r, "rw1") if r["competitor"] == "cambrian" else raw_ref
        if ref:
            r["vs_raw"] = r["us_per_op"] / ref["us_per_op"]
            r["raw_ref"] = ref["variant"]
        if tpe:
            r["tpe_over_this"] = tpe["us_per_op"] / r["us_per_op"]

    md = ["# overhead: one tiny operation (16 float32)\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; cambrian "
          f"{cbcfg['ncpus']} CPU worker(s) + {cbcfg['nopencl']} OpenCL "
          f"worker(s), scheduler {cbcfg['scheduler']}, StarPU "
          f"{cbcfg['starpu_version']}; dask {env.get('dask')}; "
          f"{ops} operations per repetition, median of {reps} after "
          f"{warmup} warm-up.\n"
          f"Measured build: git {env.get('git', '?')}, _core sha256 "
          f"{env.get('cambrian_core', {}).get('sha256', '?')} (built "
          f"{env.get('cambrian_core', {}).get('mtime', '?')}).\n",
          "us/op: submission to completion of all, divided by the number "
          "of operations. submit: the submission loop alone. vs raw: "
          "us/op / raw StarPU with 1 RW buffer in the same StarPU "
          "configuration (cambrian's default one for non-cambrian rows). TPE / this: ThreadPoolExecutor's us/op divided by "
          "this one (above 1: cheaper than the thread pool).\n"]
    headers = ["competitor", "variant", "us/op", "min", "submit us/op",
               "vs raw", "TPE / this"]
    table = []
    for r in rows:
        if "us_per_op" not in r:
            table.append([r["competitor"], r["variant"],
                          "failed: " + r.get("error", "")[:60], "", "", "",
                          ""])
            continue
        table.append([
            r["competitor"] + (" *" if r.get("busy_others") else ""),
            r["variant"], f"{r['us_per_op']:.2f}",
            f"{r['min_us']:.2f}",
            "-" if r.get("submit_us") is None else f"{r['submit_us']:.2f}",
            "-" if r.get("vs_raw") is None else f"{r['vs_raw']:.2f}x",
            "-" if r.get("tpe_over_this") is None
            else f"{r['tpe_over_this']:.2f}x"])
    md.append(harness.markdown_table(headers, table, "llrrrrr") + "\n")
    if any(r.get("busy_others") for r in rows):
        md.append("\\* other processes were using the CPU around this "
                  "measurement (see busy_others in the JSON): its timing "
                  "may be disturbed.\n")

    targets = []
    md.append("## Targets\n")
    for r in rows:
        if r["competitor"] != "cambrian" or "us_per_op" not in r:
            continue
        ref, raw_mirror = raw_for(r, "rw1"), raw_for(r, "mirror")
        if ref:
            ok = r["vs_raw"] <= RAW_TARGET
            line = (f"- {r['variant']}: {r['us_per_op']:.2f} us/op = "
                    f"{r['vs_raw']:.2f}x raw StarPU 1-RW-buffer task in the "
                    f"same StarPU configuration ({ref['us_per_op']:.2f} us, "
                    f"{ref['config']}); target <= {RAW_TARGET:g}x: "
                    f"**{'met' if ok else 'NOT met'}**")
            if raw_mirror:
                line += (f" (vs raw StarPU doing what cambrian does per op, "
                         f"{raw_mirror['us_per_op']:.2f} us: "
                         f"{r['us_per_op'] / raw_mirror['us_per_op']:.2f}x)")
            md.append(line)
            targets.append({"variant": r["variant"], "target": "raw",
                            "ratio": r["vs_raw"], "met": ok})
        if tpe:
            ok = r["tpe_over_this"] >= TPE_TARGET
            md.append(f"- {r['variant']}: ThreadPoolExecutor "
                      f"{tpe['us_per_op']:.2f} us/op is "
                      f"{r['tpe_over_this']:.2f}x cambrian; target >= "
                      f"{TPE_TARGET:g}x: **{'met' if ok else 'NOT met'}**")
            targets.append({"variant": r["variant"], "target": "tpe",
                            "ratio": r["tpe_over_this"], "met": ok})
    md.append("")
    if skipped:
        md.append("Skipped: " + "; ".join(skipped) + "\n")
    text = "\n".join(md)
    print(text)
    jpath, mpath = harness.write_results(
        "overhead", {"workload": "overhead", "environment": env, "ops": ops,
                     "reps": reps, "results": rows, "targets": targets,
                     "skipped": skipped}, text)
    print(f"wrote {os.path.relpath(jpath)} and {os.path.relpath(mpath)}",
          file=sys.stderr)


MODE_SHORT = {
    "empty": "empty task",
    "rw1": "1 RW buffer (shared)",
    "rwown": "1 RW buffer (own)",
    "rrwown": "R, R, W (own, pre-registered)",
    "mirror": "as cambrian's c = a + b",
}


def subprocess_error():
    import subprocess
    return subprocess.SubprocessError


if __name__ == "__main__":
    main()
