"""Distributed runs (StarPU-MPI) against the same program without MPI.

    python bench/distributed/run.py [--n 2^24] [--ops 20] [--ranks 1,2,4]

Rows: the program alone (no MPI), then under mpirun with each number of
ranks. Columns: a tiny operation's submit + result (the per-task
overhead; ratio to the program alone), and 20 vector adds over a
distributed float32 array (strong scaling: the same array for every
count of ranks; speed-up over one rank under MPI). On a machine with few
cores the ranks share them: scaling is measured on the GPU machines.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

WORKLOAD = os.path.join(HERE, "workload.py")


def launch(nranks, args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    cmd = [sys.executable, WORKLOAD, *args]
    if nranks:
        cmd = [shutil.which("mpirun") or "mpirun", "-n", str(nranks), *cmd]
    else:
        env = {k: v for k, v in env.items()
               if not k.startswith(("OMPI_COMM", "PMI", "PMIX"))}
        env["CAMBRIAN_DISTRIBUTED"] = "0"
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=900)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return json.loads([ln for ln in p.stdout.splitlines()
                       if ln.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="2^24")
    ap.add_argument("--ops", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--quick", action="store_true",
                    help="2^20 elements, 2 repetitions")
    a = ap.parse_args()
    if a.quick:
        a.n, a.reps = "2^20", 2
    n = harness.parse_size(a.n)
    args = [str(n), str(a.ops), str(a.reps)]
    rows = [("alone (no MPI)", launch(0, args))]
    for k in (int(x) for x in a.ranks.split(",")):
        rows.append((f"mpirun -n {k}", launch(k, args)))
    base_tiny = rows[0][1]["tiny_op_s"]
    one_rank = next((r for name, r in rows if r["nranks"] == 1 and
                     r["distributed"]), rows[0][1])
    table = []
    for name, r in rows:
        table.append([name, str(r["ncpus"]),
                      f"{r['tiny_op_s'] * 1e6:.1f}",
                      f"{r['tiny_op_s'] / base_tiny:.2f}x",
                      f"{r['vector_add_s'] * 1e3:.2f}",
                      f"{one_rank['vector_add_s'] / r['vector_add_s']:.2f}x"])
    md = (f"{a.ops} vector adds of {harness.size_label(n)} float32, "
          "distributed by block when ranks > 1\n\n" +
          harness.markdown_table(
              ["run", "CPU workers a rank", "tiny op (us)",
               "vs alone", f"{a.ops} adds (ms)", "speed-up vs 1 rank"],
              table))
    print(md)
    harness.write_results("distributed", {
        "environment": harness.environment(), "n": n, "ops": a.ops,
        "runs": [{"name": name, **r} for name, r in rows]}, md)


if __name__ == "__main__":
    main()
