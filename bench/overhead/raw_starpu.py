"""Raw StarPU: the C program raw_starpu.c (tasks of a codelet whose CPU
function does nothing), built with CMake into build/bench when needed and
run as a subprocess. It times itself (clock_gettime around the submission
loop and starpu_task_wait_for_all) and prints the median per task of its
repetitions, one JSON line per mode; see raw_starpu.c for the modes.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "build", "bench")
EXE = os.path.join(BUILD, "bench", "overhead", "raw_starpu")

NAME = "raw StarPU"

MODE_LABELS = {
    "empty": "empty task, no buffer",
    "rw1": "1 vector(16) buffer, STARPU_RW (same handle: a chain)",
    "rwown": "1 vector(16) buffer, STARPU_RW (own handle per task)",
    "rrwown": "as cambrian without registration: R, R + own pre-registered "
              "W buffer, cl_arg, callback",
    "mirror": "as cambrian: R, R + new registered W buffer, cl_arg, "
              "callback, unregister",
}


def build(force=False):
    """Configures and builds target raw_starpu; returns the executable."""
    src = os.path.join(HERE, "raw_starpu.c")
    if (not force and os.path.exists(EXE)
            and os.path.getmtime(EXE) >= os.path.getmtime(src)):
        return EXE
    for cmd in (["cmake", "-S", REPO, "-B", BUILD, "-DCAMBRIAN_BENCH=ON",
                 "-DCAMBRIAN_PYTHON=OFF"],
                ["cmake", "--build", BUILD, "--target", "raw_starpu"]):
        print("+ " + " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return EXE


def measure(ops, reps, ncpus, nopencl=0, sched="eager", model=False,
            modes=("empty", "rw1", "rwown", "rrwown", "mirror")):
    """Runs the program once for one StarPU configuration; returns the
    list of per-mode dicts it printed."""
    exe = build()
    env = dict(os.environ)
    env.setdefault("STARPU_SILENT", "1")
    # Its own StarPU home: the bus calibration and the history of its
    # codelet stay out of the user's and cambrian's directories.
    env.setdefault("STARPU_HOME", os.path.join(BUILD, "starpu-home"))
    cmd = [exe, "--ntasks", str(ops), "--reps", str(reps), "--ncpus",
           str(ncpus), "--nopencl", str(nopencl), "--sched", sched,
           "--modes", ",".join(modes)] + (["--model"] if model else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=env, timeout=900)
    rows = [json.loads(line) for line in out.stdout.splitlines()
            if line.startswith("{")]
    for r in rows:
        r["command"] = " ".join(cmd[1:])
    return rows
