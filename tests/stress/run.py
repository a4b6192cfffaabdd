"""The stress runs of cambrian: probes that hunt for hangs, crashes and
wrong results under load, bad input, faults, interrupts, memory pressure,
fork and exit.

    .venv/bin/python tests/stress/run.py [--long] [--json PATH]
                                         [--probe NAME,...] [--jobs N]

Each probe family is a module of this directory (bad_inputs, load, faults,
interrupts, memory, fork_exit) whose scenarios(long) lists its scenarios.
Every scenario runs in a process of its own (harness.py) under a time
limit, so that a crash (the process killed by a signal) or a hang (past
the limit) is counted, and the next scenario runs. The table counts
checks: one operation compared with NumPy, one error checked for its class
and cause, one interrupt, one process's exit; a scenario that crashes or
hangs counts once more, in its column.

The short form (the default, which scripts/test.sh runs) makes about 10^5
checks in two or three minutes on two cores; the long form (--long, or
CAMBRIAN_STRESS=long) makes about 10^6 operations from 8 threads and 2
event loops, and more faults and interrupts. The exit status is 1 when a
check is wrong, crashed or hung, except for failures already known:
scenarios marked as known failures, and checks counted as known (the
table names both, and what they found).
"""

import argparse
import importlib
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROBES = ["bad_inputs", "load", "faults", "interrupts", "memory",
          "fork_exit"]
COLUMNS = ["tried", "clean", "wrong", "crash", "hang"]


def run_scenario(probe, sc, tmpdir, timeout_scale):
    """Runs one scenario in a child; returns its record."""
    path = os.path.join(tmpdir, f"{probe}.{sc['name']}.json")
    timeout = sc.get("timeout", 120) * timeout_scale
    env = dict(os.environ)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "harness.py"), probe,
             sc["func"], json.dumps(sc.get("params", {})), path],
            stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        hung = False
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            hung = True
            # SIGABRT first: Python's fault handler prints the stack of
            # every thread, for the report. Then the whole group goes.
            for sig, wait in ((signal.SIGABRT, 10), (signal.SIGKILL, None)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    rc = proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    pass
        out.seek(0)
        output = out.read()
    seconds = time.monotonic() - start
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        report = {"counts": dict.fromkeys(COLUMNS + ["known"], 0),
                  "failures": [], "notes": [], "done": False}
    counts = report["counts"]
    counts.setdefault("known", 0)
    failures = list(report["failures"])
    # A hang's output ends with every thread's stack: keep more of it.
    tail = output.strip()[-(8000 if hung else 2500):]
    if hung:
        counts["tried"] += 1
        counts["hang"] += 1
        where = "after its checks, at exit" if report["done"] else \
            "during its checks"
        failures.append(f"hang: no exit within {timeout:.0f} s ({where}); "
                        f"output: {tail}")
    elif rc < 0:
        counts["tried"] += 1
        counts["crash"] += 1
        failures.append(f"crash: killed by {_signame(-rc)}; output: {tail}")
    elif rc != 0 or not report["done"]:
        counts["tried"] += 1
        counts["wrong"] += 1
        if not any("the scenario raised" in f for f in failures):
            failures.append(f"wrong: exit status {rc}; output: {tail}")
    elif failures and tail:
        failures.append(f"(output: {tail})")
    return {"probe": probe, "scenario": sc["name"], "counts": counts,
            "failures": failures, "notes": report.get("notes", []),
            "seconds": round(seconds, 2), "rc": rc, "known":
            sc.get("known")}


def _signame(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _seeded(module, sc, seed):
    """The scenario with its random draw moved by seed, for the functions
    that take one."""
    if not seed:
        return sc
    fn = getattr(module, sc["func"])
    if "seed" not in inspect.signature(fn).parameters:
        return sc
    params = dict(sc.get("params", {}))
    params["seed"] = params.get("seed", 0) + 1000 * seed
    return dict(sc, params=params)


def bad(rec):
    """Whether a scenario had a check that went wrong, crashed or hung."""
    c = rec["counts"]
    return c["wrong"] + c["crash"] + c["hang"] > 0


def unexpected(rec):
    """Whether it had one that is not a known failure."""
    c = rec["counts"]
    return not rec["known"] and \
        c["wrong"] + c["crash"] + c["hang"] - c.get("known", 0) > 0


def table(records, probes):
    lines = ["| probe | scenarios | " + " | ".join(COLUMNS) +
             " | seconds | note |",
             "|---|---:|" + "---:|" * len(COLUMNS) + "---:|---|"]
    total = dict.fromkeys(COLUMNS, 0)
    for probe in probes:
        recs = [r for r in records if r["probe"] == probe]
        if not recs:
            continue
        c = dict.fromkeys(COLUMNS, 0)
        for r in recs:
            for k in COLUMNS:
                c[k] += r["counts"][k]
                total[k] += r["counts"][k]
        texts = {}
        for r in recs:
            if r["known"] and bad(r):
                texts.setdefault(r["known"], []).append(r["scenario"])
        known = [f"KNOWN FAILURE ({', '.join(names)}): {text}"
                 for text, names in texts.items()]
        known += [f"{r['counts']['known']} known "
                  f"({r['scenario']}): " + next(
                      (f.split("known: ", 1)[1] for f in r["failures"]
                       if "known: " in f), "")
                  for r in recs if not r["known"] and
                  r["counts"].get("known")]
        note = "; ".join(known)
        lines.append(f"| {probe} | {len(recs)} | " +
                     " | ".join(str(c[k]) for k in COLUMNS) +
                     f" | {sum(r['seconds'] for r in recs):.1f} | {note} |")
    lines.append(f"| **all** | {len(records)} | " +
                 " | ".join(f"**{total[k]}**" for k in COLUMNS) +
                 f" | {sum(r['seconds'] for r in records):.1f} | |")
    return "\n".join(lines), total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--long", action="store_true",
                    default=os.environ.get("CAMBRIAN_STRESS") == "long",
                    help="the release form: about 10^6 operations")
    ap.add_argument("--json", metavar="PATH", help="write the results here")
    ap.add_argument("--probe", default=",".join(PROBES),
                    help="probe families to run, separated by commas")
    ap.add_argument("--scenario", default=None,
                    help="run only scenarios whose name contains this")
    ap.add_argument("--seed", type=int, default=int(
        os.environ.get("CAMBRIAN_STRESS_SEED", "0")),
        help="another draw of the random scenarios (default 0: the same "
             "every run)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="scenarios run at once (default 1)")
    ap.add_argument("--timeout-scale", type=float, default=float(
        os.environ.get("CAMBRIAN_STRESS_TIMEOUT_SCALE", "1")),
        help="multiply every time limit (slow machines, sanitizers)")
    ap.add_argument("--list", action="store_true",
                    help="list the scenarios and exit")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="one line per scenario as it ends")
    args = ap.parse_args(argv)
    probes = [p.strip() for p in args.probe.split(",") if p.strip()]
    for p in probes:
        if p not in PROBES:
            ap.error(f"no probe {p!r}; probes: {', '.join(PROBES)}")
    sys.path.insert(0, HERE)
    todo = []
    for p in probes:
        module = importlib.import_module(p)
        for sc in module.scenarios(args.long):
            if args.scenario is None or args.scenario in sc["name"]:
                todo.append((p, _seeded(module, sc, args.seed)))
    if args.list:
        for p, sc in todo:
            print(f"{p}: {sc['name']} {json.dumps(sc.get('params', {}))}")
        return 0

    form = "long" if args.long else "short"
    print(f"cambrian stress ({form} form, seed {args.seed}): {len(todo)} "
          f"scenarios, {args.jobs} at a time", flush=True)
    records = []
    lock = threading.Lock()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cambrian-stress-") as tmp:
        queue = list(todo)

        def worker():
            while True:
                with lock:
                    if not queue:
                        return
                    p, sc = queue.pop(0)
                rec = run_scenario(p, sc, tmp, args.timeout_scale)
                with lock:
                    records.append(rec)
                    if args.verbose or bad(rec):
                        c = rec["counts"]
                        print(f"  {p}/{sc['name']}: " + ", ".join(
                            f"{k} {c[k]}" for k in COLUMNS) +
                            f" ({rec['seconds']:.1f} s)", flush=True)
        threads = [threading.Thread(target=worker)
                   for _ in range(max(1, args.jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    order = {(p, sc["name"]): i for i, (p, sc) in enumerate(todo)}
    records.sort(key=lambda r: order[(r["probe"], r["scenario"])])
    text, total = table(records, probes)
    print()
    print(text)
    failed = [r for r in records if bad(r)]
    for r in failed:
        label = "FAILED" if unexpected(r) else "known failure"
        print(f"\n{label}: {r['probe']}/{r['scenario']} "
              f"(exit status {r['rc']}, {r['seconds']} s)")
        for f in r["failures"]:
            print("  - " + f.replace("\n", "\n    "))
    for r in records:
        if r["known"] and not bad(r):
            print(f"\nnote: {r['probe']}/{r['scenario']} is marked as a "
                  f"known failure but passed: {r['known']}")
    if args.verbose:
        for r in records:
            for n in r["notes"]:
                print(f"note: {r['probe']}/{r['scenario']}: {n}")
    elapsed = time.monotonic() - start
    print(f"\n{total['tried']} checks in {elapsed:.1f} s: "
          f"{total['wrong']} wrong, {total['crash']} crashed, "
          f"{total['hang']} hung")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"form": form, "seed": args.seed,
                       "seconds": round(elapsed, 2),
                       "totals": total, "scenarios": records}, f, indent=1)
    return 1 if any(unexpected(r) for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
