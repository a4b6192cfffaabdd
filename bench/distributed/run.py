"""Distributed runs (StarPU-MPI) against the same program without MPI.

    python bench/distributed/run.py [--n 2^24] [--ops 20] [--k 1024]
                                    [--ranks 1,2,4]
    python bench/distributed/run.py --gpus    # a 2-GPU machine: 2^27, 8192
    python bench/distributed/run.py --weak    # weak scaling (either)

Rows: the program alone (no MPI), then under mpirun with each number of
ranks. With --gpus: one GPU alone, both GPUs in one process (the arrays'
tiles spread over them), and 1 and 2 ranks under mpirun with a GPU each,
the arrays placed on the GPUs. Columns: a tiny operation's submit +
result (the per-task overhead; ratio to the program alone), 20 vector
adds over a distributed float32 array, a square product whose rows are
distributed and 10 steps of a stencil over the rows of a distributed
plate, exchanging boundary rows between ranks (strong scaling: the same
arrays for every row; speed-up over the first row), with the share of
the exchange hidden behind the compute (overlap, see workload.py). --weak gives each rank as many elements and rows
(weak scaling): the speed-up then counts the ranks' work. Each timing
runs between two barriers and includes the second: the barrier column is
that cost alone. On a machine with few cores the ranks share them:
scaling is measured on the GPU machines.
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


def launch(nranks, args, devices=None):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    if devices:
        env["CAMBRIAN_DEVICES"] = devices
    cmd = [sys.executable, WORKLOAD, *args]
    if nranks:
        # Open MPI binds each of one or two ranks to a single core unless
        # told not to: the ranks share the machine's cores instead.
        cmd = [shutil.which("mpirun") or "mpirun", "--bind-to", "none",
               "-n", str(nranks), *cmd]
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
    ap.add_argument("--n", default=None, help="elements (2^24; --gpus 2^27)")
    ap.add_argument("--ops", type=int, default=20)
    ap.add_argument("--k", type=int, default=None,
                    help="side of the product's matrices (1024; --gpus "
                    "8192)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--gpus", action="store_true",
                    help="1 GPU, 2 GPUs in one process, 2 ranks x 1 GPU")
    ap.add_argument("--weak", action="store_true",
                    help="weak scaling: N elements and K product rows for "
                    "each rank")
    ap.add_argument("--stencil-tiles", type=int, default=0,
                    help="tiles a rank of the stencil's plate (default: "
                    "the device's choice)")
    ap.add_argument("--quick", action="store_true",
                    help="2^20 elements, 2 repetitions")
    a = ap.parse_args()
    size = a.n or ("2^27" if a.gpus else "2^24")
    if a.quick:
        size, a.reps = "2^20", 2
    n = harness.parse_size(size)
    k = a.k or (8192 if a.gpus else 256 if a.quick else 1024)
    args = [str(n), str(a.ops), str(a.reps), str(k)] + (
        ["--weak"] if a.weak else []) + (
        [f"--stencil-tiles={a.stencil_tiles}"] if a.stencil_tiles else [])
    if a.gpus:
        gpu = [*args, "opencl:gpu"]
        rows = [("1 GPU, no MPI", launch(0, gpu, "opencl:gpu:0")),
                ("2 GPUs, 1 process, no MPI", launch(0, gpu, "opencl:gpu")),
                ("mpirun -n 1, 1 GPU", launch(1, [*gpu, "--gpu-per-rank"])),
                ("mpirun -n 2, 1 GPU each",
                 launch(2, [*gpu, "--gpu-per-rank"]))]
    else:
        rows = [("alone (no MPI)", launch(0, args))]
        for nr in (int(x) for x in a.ranks.split(",")):
            rows.append((f"mpirun -n {nr}", launch(nr, args)))
    first = rows[0][1]

    def scale(t1, t, r):
        """Speed-up (strong scaling); weak: the work grows with the ranks,
        so the speed-up is the ranks' work over the time ratio."""
        work = r["nranks"] if a.weak and r["distributed"] else 1
        return f"{work * t1 / t:.2f}x"

    def overlap(r):
        """How much of the stencil's exchange hides behind its compute:
        (compute + exchange - stencil) / min(compute, exchange)."""
        c, h = r["stencil_compute_s"], r["stencil_halo_s"]
        return (c + h - r["stencil_s"]) / min(c, h)

    table = []
    for name, r in rows:
        table.append([name, str(r["ncpus"]),
                      f"{r['tiny_op_s'] * 1e6:.1f}",
                      f"{r['tiny_op_s'] / first['tiny_op_s']:.2f}x",
                      f"{r['barrier_s'] * 1e3:.2f}",
                      f"{r['vector_add_s'] * 1e3:.2f}",
                      f"{scale(first['vector_add_s'], r['vector_add_s'], r)}",
                      f"{r['matmul_s'] * 1e3:.2f}",
                      f"{scale(first['matmul_s'], r['matmul_s'], r)}",
                      f"{r['stencil_s'] * 1e3:.2f}",
                      f"{scale(first['stencil_s'], r['stencil_s'], r)}",
                      f"{overlap(r):.2f}"])
    per = " a rank" if a.weak else ""
    md = (f"{a.ops} vector adds of {harness.size_label(n)} float32{per} and "
          f"a product of {k} rows{per} by a {k}x{k} float32 matrix, "
          f"10 steps of a stencil over {harness.size_label(n)} float32"
          f"{per} in rows of 1024, "
          "distributed by block when ranks > 1"
          + (", placed on the GPUs" if a.gpus else "") + "\n\n" +
          harness.markdown_table(
              ["run", "CPU workers a rank", "tiny op (us)",
               "vs first", "barrier (ms)", f"{a.ops} adds (ms)", "speed-up",
               "product (ms)", "speed-up", "stencil (ms)", "speed-up",
               "overlap"], table))
    print(md)
    name = "distributed" + ("_gpus" if a.gpus else "") + (
        "_weak" if a.weak else "")
    harness.write_results(name, {
        "environment": harness.environment(), "n": n, "ops": a.ops,
        "runs": [{"name": name, **r} for name, r in rows]}, md)


if __name__ == "__main__":
    main()
