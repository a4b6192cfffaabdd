"""Shared helpers of the benchmark drivers (bench/<workload>/run.py).

Timing: a warm-up, then several repetitions; the median is what tables
report (min and max go to the JSON too). Nothing here asserts a timing.
Results go to bench/results/<workload>.json and .md (git-ignored).
"""

import datetime
import faulthandler
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")


def add_repo_paths(workload_dir):
    """Lets a driver import its competitor files and this module."""
    for p in (workload_dir, BENCH_DIR):
        if p not in sys.path:
            sys.path.insert(0, p)


def timed(fn, state, warmup, reps, warm_times=None):
    """Runs fn(state) warmup times, then reps times timed; returns the
    list of wall-clock seconds of the timed runs. The warm-up runs are
    timed too and appended to warm_times when it is a list (first-use
    costs: kernel builds, transfers, allocations)."""
    for _ in range(warmup):
        t0 = time.perf_counter()
        fn(state)
        if warm_times is not None:
            warm_times.append(time.perf_counter() - t0)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(state)
        out.append(time.perf_counter() - t0)
    return out


def summary(samples):
    """median, min, max of a list of seconds, as a dict."""
    return {"median_s": statistics.median(samples), "min_s": min(samples),
            "max_s": max(samples), "reps": len(samples),
            "samples_s": samples}


class Watchdog:
    """Dumps every thread's stack and exits if a block runs too long (a
    task that can never run makes StarPU wait forever)."""

    def __init__(self, seconds, what):
        self.seconds, self.what = seconds, what

    def __enter__(self):
        faulthandler.dump_traceback_later(self.seconds, exit=True)
        return self

    def __exit__(self, *exc):
        faulthandler.cancel_dump_traceback_later()
        return False


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def busy_others(seconds=0.5, threshold=0.1):
    """Other processes using more than threshold of a core over a short
    sample: their timings would share the cores with ours."""
    def snap():
        out = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            name = s[s.index("(") + 1:s.rindex(")")]
            fields = s[s.rindex(")") + 2:].split()
            out[pid] = (name, int(fields[11]) + int(fields[12]))
        return out
    a = snap()
    time.sleep(seconds)
    b = snap()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (name, t) in b.items():
        if pid in a:
            use = (t - a[pid][1]) / hz / seconds
            if use > threshold:
                busy.append({"pid": int(pid), "name": name,
                             "cores": round(use, 2)})
    return busy


def warn_if_busy():
    """Prints a warning when other processes are using the CPU; returns
    what it found (stored with the results)."""
    busy = busy_others()
    if busy:
        what = ", ".join(f"{b['name']} (pid {b['pid']}, {b['cores']} cores)"
                         for b in busy)
        print(f"WARNING: other processes are busy: {what}; timings will be "
              "noisy", file=sys.stderr)
    return busy


def environment():
    """Facts about the machine and the software, for the results."""
    import numpy as np
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "loadavg": os.getloadavg(),
        "busy_others": warn_if_busy(),
    }
    try:
        info["git"] = subprocess.run(
            ["git", "-C", REPO, "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:  # which build of cambrian was measured
        import hashlib
        import cambrian
        so = cambrian._core.__file__
        with open(so, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        info["cambrian_core"] = {
            "path": so, "sha256": digest,
            "mtime": datetime.datetime.fromtimestamp(
                os.path.getmtime(so)).isoformat(timespec="seconds")}
    except (ImportError, OSError):
        pass
    for mod in ("numba", "dask"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    return info


def availability(mods):
    """Asks each competitor module whether it can run here: a dict from
    its NAME to a bool, and the lines "NAME: skipped (why)" of those that
    cannot."""
    avail, skipped = {}, []
    for m in mods:
        ok, why = m.available()
        avail[m.NAME] = ok
        if not ok:
            skipped.append(f"{m.NAME}: skipped ({why})")
    return avail, skipped


def cuda_available(cp):
    """Whether CuPy (the module, or None when it failed to import) has a
    CUDA device: (True, "") or (False, why), as competitors' available()
    return it."""
    if cp is None:
        return False, "CuPy is not installed"
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - no driver, no device...
        return False, f"no CUDA device: {e}"
    return (n > 0, "" if n else "no CUDA device")


def parse_size(s):
    """An element count as a command line writes it: 1000, 16M, 2**24
    or 2^24."""
    s = s.strip().replace("^", "**")
    if "**" in s:
        base, exp = s.split("**")
        return int(base) ** int(exp)
    mult = {"k": 2**10, "m": 2**20, "g": 2**30}.get(s[-1].lower())
    return int(s[:-1]) * mult if mult else int(s)


def size_label(n):
    """n as tables show it: "2^24" for a power of two."""
    k = n.bit_length() - 1
    return f"2^{k}" if n == 1 << k else str(n)


def markdown_table(headers, rows, align=None):
    """A Markdown table; align is a string of 'l'/'r' per column."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]

    def line(vals):
        out = []
        for v, w, a in zip(vals, widths, align):
            out.append(v.rjust(w) if a == "r" else v.ljust(w))
        return "| " + " | ".join(out) + " |"

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
        for w, a in zip(widths, align)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def write_results(workload, data, markdown):
    os.makedirs(RESULTS_DIR, exist_ok=True)
    jpath = os.path.join(RESULTS_DIR, f"{workload}.json")
    mpath = os.path.join(RESULTS_DIR, f"{workload}.md")
    with open(jpath, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
    with open(mpath, "w") as f:
        f.write(markdown)
        if not markdown.endswith("\n"):
            f.write("\n")
    return jpath, mpath


def finish(workload, md, data):
    """Ends a driver's report: md (a list of Markdown paragraphs) gets the
    footnote of rows measured while other processes were busy and the
    competitors skipped (data's "results" and "skipped"), is printed, and
    written with data to bench/results/<workload>.{json,md}."""
    results, skipped = data.get("results", []), data.get("skipped", [])
    if any(r.get("busy_others") for r in results):
        md.append("\\* other processes were using the CPU just before this "
                  "row was measured: its timing may be disturbed.\n")
    if skipped:
        md.append("Skipped: " + "; ".join(skipped) + "\n")
    text = "\n".join(md)
    print(text)
    jpath, mpath = write_results(workload, {"workload": workload, **data},
                                 text)
    print(f"wrote {os.path.relpath(jpath)} and {os.path.relpath(mpath)}",
          file=sys.stderr)


def cambrian_has(device):
    """Whether cambrian starts and finds a device matching the filter
    device: (True, "") or (False, why), as competitors' available()
    return it."""
    import cambrian as cb
    try:
        cb.init()
        found = cb.devices(device)
    except cb.CambrianError as e:
        return False, f"cambrian failed to start: {e}"
    finally:
        cb.shutdown()
    if not found:
        return False, f"no device matches '{device}'"
    return True, ""


def run_c(src, args, what, flags=(), libs=()):
    """Builds the C program src (with $CC, else cc) into build/bench and
    runs it with args; returns the JSON it prints, or None (having said
    why, naming it what) when it cannot be built or run."""
    exe = os.path.join(REPO, "build", "bench",
                       os.path.splitext(os.path.basename(src))[0])
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    try:
        subprocess.run([cc, *flags, "-o", exe, src, *libs], check=True)
        out = subprocess.run([exe, *map(str, args)], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"{what} unavailable: {e}", file=sys.stderr)
        return None
    return json.loads(out)
