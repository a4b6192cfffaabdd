"""overhead across processes: is the cost of a tiny operation the same in
every process?

    .venv/bin/python bench/overhead/processes.py [--procs 25] [--ops 5000]
                                                 [--rounds 7]

Starts `procs` fresh Python processes one after the other. Each starts
cambrian's default runtime and a ThreadPoolExecutor, then measures in
`rounds` interleaved rounds the cost of one tiny operation as
bench/overhead does (`ops` times c = a + b over 16 float32 on device
"cpu", then cb.synchronize(); the same with executor.submit(np.add, a, b)
and a wait for all): the time of a round divided by `ops`. A process
reports the median of its rounds, and the median over rounds of its
round divided by the executor's round beside it (what the machine's
other load does to both cancels out, mostly); this prints them for every
process, where its threads were allowed to run (CPU affinity), and the
spread across processes. A slow mode that lasts for a whole process
shows as a group of processes whose figures stand apart.

While a child runs, this process samples its threads (/proc, every 2
ms): in the samples where the child's main thread runs a cambrian round
and is running, how often another thread of the child runs on the same
CPU, and which (the submitting thread then shares its core, with a
worker say).

Nothing is asserted. Results: bench/results/overhead_processes.{json,md}.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

harness.add_repo_paths(HERE)


def fraction(sharing):
    f = sharing["shared_fraction"]
    return "-" if f is None else f"{f:.0%}"


def threads_info():
    """Each thread of this process: name, allowed CPUs, CPU time (s)."""
    out = []
    hz = os.sysconf("SC_CLK_TCK")
    for tid in sorted(os.listdir("/proc/self/task"), key=int):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            aff = sorted(os.sched_getaffinity(int(tid)))
        except OSError:
            continue
        out.append({"tid": int(tid), "name": comm, "cpus": aff,
                    "cpu_s": (int(fields[11]) + int(fields[12])) / hz,
                    "last_cpu": int(fields[36])})
    return out


def set_phase(name):
    """Names the calling thread (its comm, which /proc shows), so that the
    parent's sampler can tell the rounds apart."""
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def child(ops, rounds):
    import cambrian_ops
    import threadpool
    cam_variant = cambrian_ops.VARIANTS[0]   # device='cpu', default runtime
    cam = cambrian_ops.setup(ops, cam_variant)
    tpe = threadpool.setup(ops, threadpool.VARIANTS[0])
    cambrian_ops.run(cam)                     # warm-up
    threadpool.run(tpe)
    got = {"cambrian": [], "threadpool": []}
    for _ in range(rounds):
        for name, mod, st in (("cambrian", cambrian_ops, cam),
                              ("threadpool", threadpool, tpe)):
            set_phase(PHASES[name])
            s = harness.timed(mod.run, st, 0, 1)[0]
            set_phase("bench-idle")
            got[name].append(s / ops * 1e6)
    cambrian_ops.check(cam)
    threadpool.check(tpe)
    info = threads_info()
    config = cam["config"]
    threadpool.teardown(tpe)
    cambrian_ops.teardown(cam)
    return {"us": got, "threads": info, "config": config}


PHASES = {"cambrian": "bench-cambrian", "threadpool": "bench-executor"}


def read_tasks(pid):
    """(tid, name, state, cpu) of each thread of process pid."""
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        out.append((int(tid), name, fields[0], int(fields[36])))
    return out


def run_child(cmd, interval=0.002):
    """Runs the child, sampling its threads meanwhile: in the samples
    where its main thread runs a cambrian round and is running, how often
    another of its threads is running on the same CPU (they share a core),
    and which threads those are."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    running = shared = 0
    sharers = {}
    while proc.poll() is None:
        tasks = read_tasks(proc.pid)
        main = next((t for t in tasks if t[0] == proc.pid), None)
        if main and main[1] == PHASES["cambrian"] and main[2] == "R":
            running += 1
            others = [t[1] for t in tasks
                      if t[0] != proc.pid and t[2] == "R" and t[3] == main[3]]
            if others:
                shared += 1
                for n in others:
                    sharers[n] = sharers.get(n, 0) + 1
        time.sleep(interval)
    out, err = proc.communicate()
    return proc.returncode, out, err, {
        "samples": running, "shared": shared, "sharers": sharers,
        "shared_fraction": shared / running if running else None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--procs", type=int, default=25)
    p.add_argument("--ops", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        json.dump(child(args.ops, args.rounds), sys.stdout)
        return
    env = harness.environment()
    procs = []
    for i in range(args.procs):
        # The children run as this interpreter does (its flags too).
        rc, out, err, sharing = run_child(
            [sys.executable, *subprocess._args_from_interpreter_flags(),
             __file__, "--child", "--ops", str(args.ops), "--rounds",
             str(args.rounds)])
        if rc:
            print(f"  process {i}: FAILED\n{err}", file=sys.stderr)
            procs.append({"error": err[-2000:]})
            continue
        got = json.loads(out)
        got["sharing"] = sharing
        got["median_us"] = {k: statistics.median(v)
                            for k, v in got["us"].items()}
        # Each round against the executor's round next to it: what the
        # machine's other load does to both cancels out, mostly.
        got["vs_threadpool"] = statistics.median(
            c / t for c, t in zip(got["us"]["cambrian"],
                                  got["us"]["threadpool"]))
        procs.append(got)
        binds = ", ".join(f"{t['name']}:{','.join(map(str, t['cpus']))}"
                          for t in got["threads"]
                          if len(t["cpus"]) < env["cores"])
        print(f"  process {i:2d}: cambrian "
              f"{got['median_us']['cambrian']:6.2f} us, ThreadPoolExecutor "
              f"{got['median_us']['threadpool']:6.2f} us, ratio "
              f"{got['vs_threadpool']:.3f} (rounds "
              + " ".join(f"{x:.1f}" for x in got["us"]["cambrian"])
              + f"); bound: {binds or 'none'}; main thread shared its "
              f"core in {fraction(sharing)} of {sharing['samples']} samples"
              + (" (with " + ", ".join(
                  f"{n} {c}" for n, c in sorted(
                      sharing["sharers"].items(), key=lambda x: -x[1]))
                 + ")" if sharing["sharers"] else ""), file=sys.stderr)
    ok = [p_ for p_ in procs if "median_us" in p_]
    md = ["# overhead across processes\n",
          f"{len(ok)} processes, each {args.rounds} interleaved rounds of "
          f"{args.ops} tiny operations (c = a + b, 16 float32, device "
          f"'cpu', default runtime) against ThreadPoolExecutor; per "
          f"process the median of its rounds, in us per operation; "
          f"cambrian / threadpool: per process the median over rounds of "
          f"cambrian's round divided by the executor's round beside it. "
          f"Machine: {env['cpu']}, {env['cores']} cores.\n"]
    rows = []
    for name in ("cambrian", "threadpool", "cambrian / threadpool"):
        meds = sorted(p_["vs_threadpool"] if "/" in name
                      else p_["median_us"][name] for p_ in ok)
        if not meds:
            continue
        rows.append([name, len(meds), f"{meds[0]:.2f}",
                     f"{statistics.median(meds):.2f}", f"{meds[-1]:.2f}",
                     f"{meds[-1] / meds[0]:.2f}x",
                     " ".join(f"{m:.2f}" if "/" in name else f"{m:.1f}"
                              for m in meds)])
    md.append(harness.markdown_table(
        ["competitor", "processes", "min", "median", "max", "max / min",
         "per-process medians, sorted"], rows, "lrrrrrl") + "\n")
    text = "\n".join(md)
    print(text)
    shares = sorted(p_["sharing"]["shared_fraction"] for p_ in ok
                    if p_["sharing"]["shared_fraction"] is not None)
    if shares:
        text += ("\nWhile a cambrian round ran, the submitting thread "
                 "shared its core with another thread of its process in "
                 "these fractions of the samples (per process, sorted): "
                 + " ".join(f"{x:.2f}" for x in shares) + "\n")
        print(text[text.rindex("\nWhile"):])
    harness.write_results("overhead_processes",
                          {"workload": "overhead_processes",
                           "environment": env, "ops": args.ops,
                           "rounds": args.rounds, "processes": procs}, text)


if __name__ == "__main__":
    main()
