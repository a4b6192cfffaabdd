"""What every rank of bench/distributed runs (started by run.py, under
mpirun or alone): a tiny operation's submit + result, vector add over a
distributed array, a product by rows of a distributed matrix and a
stencil over the rows of a distributed plate, timed between barriers.
Rank 0 prints one JSON line with medians.

The stencil: STEPS steps of u = u + 0.25 * (up - 2 * u + down) over a
plate of N / 1024 rows of 1024 float32 (--stencil-tiles=K: in K tiles
a rank), up and down the plate rolled by
one row each way (cb.roll along the rows: a halo exchange between
neighbouring ranks). Timed also without the rolls (u in their place: the
compute alone) and the rolls alone (the exchange alone), for its
overlap: (compute + exchange - stencil) / min(compute, exchange).

    workload.py N OPS REPS K [DEVICE] [--gpu-per-rank] [--weak]
                [--stencil-tiles=K]

N elements a vector, OPS adds, K the side of the product's matrices.
--weak: N elements and K rows of the product for each rank (weak
scaling) instead of in all (strong scaling).

DEVICE places the arrays ("opencl:gpu"; default: the scheduler chooses).
--gpu-per-rank gives each rank of a machine its own GPU (the local rank's
index) before the runtime starts.
"""

import json
import os
import statistics
import sys
import time

import numpy as np

STEPS = 10


def median_time(cb, fn, reps):
    fn()
    out = []
    for _ in range(reps):
        cb.barrier()
        t0 = time.perf_counter()
        fn()
        cb.barrier()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--gpu-per-rank" in sys.argv:
        local = os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK",
                               os.environ.get("SLURM_LOCALID", "0"))
        os.environ["CAMBRIAN_DEVICES"] = f"opencl:gpu:{local}"
    import cambrian as cb

    n, ops, reps, k = (int(x) for x in args[:4])
    device = args[4] if len(args) > 4 else None
    rows = k * (cb.nranks() if "--weak" in sys.argv else 1)
    n *= cb.nranks() if "--weak" in sys.argv else 1
    spread = "block" if cb.nranks() > 1 else None
    one = cb.ones(1, device="cpu")

    def tiny():
        for _ in range(200):
            (one + 1).numpy()

    a = cb.asarray(np.ones(n, np.float32), distribution=spread,
                   device=device)
    b = cb.asarray(np.ones(n, np.float32), distribution=spread,
                   device=device)

    # Waiting for this rank's work leaves results where they are (on the
    # GPUs): no copy back to the host is timed.
    def add():
        c = a
        for _ in range(ops):
            c = c + b
        cb.synchronize()

    # A product (rows x k) @ (k x k): its rows are spread, the right
    # operand is whole on every rank.
    rng = np.random.default_rng(0)
    m = cb.asarray(rng.standard_normal((rows, k), np.float32),
                   distribution=spread, device=device)
    w = cb.asarray(rng.standard_normal((k, k), np.float32), device=device)

    def product():
        p = m @ w  # noqa: F841 (kept until the wait)
        cb.synchronize()

    # The stencil over a plate of n / 1024 rows of 1024, in TILES tiles a
    # rank (--stencil-tiles=TILES; 0: the device's choice): the tiles
    # inside a rank's band need no rows from another rank, so their work
    # may go on while the boundary rows travel.
    cols = 1024
    prows = max(n // cols, 1)
    tiles = next((int(x.split("=")[1]) for x in sys.argv
                  if x.startswith("--stencil-tiles=")), 0)
    plate = cb.asarray(np.ones((prows, cols), np.float32),
                       distribution=spread, device=device,
                       tile_size=(max(prows // (tiles * cb.nranks()), 1)
                                  * cols if tiles else None))

    def stencil(roll=True, compute=True):
        u = plate
        for _ in range(STEPS):
            up = cb.roll(u, 1, axis=0) if roll else u
            down = cb.roll(u, -1, axis=0) if roll else u
            u = u + 0.25 * (up - 2 * u + down) if compute else up + down
        cb.synchronize()

    tiny_s = median_time(cb, tiny, reps) / 200
    barrier_s = median_time(cb, lambda: None, reps)
    add_s = median_time(cb, add, reps)
    matmul_s = median_time(cb, product, reps)
    stencil_s = median_time(cb, stencil, reps)
    compute_s = median_time(cb, lambda: stencil(roll=False), reps)
    halo_s = median_time(cb, lambda: stencil(compute=False), reps)
    if cb.rank() == 0:
        print(json.dumps({"nranks": cb.nranks(),
                          "distributed": cb.config()["distributed"],
                          "ncpus": cb.config()["ncpus"],
                          "devices": os.environ.get("CAMBRIAN_DEVICES", ""),
                          "matmul_n": k, "tiny_op_s": tiny_s,
                          "barrier_s": barrier_s,
                          "vector_add_s": add_s, "matmul_s": matmul_s,
                          "stencil_s": stencil_s,
                          "stencil_compute_s": compute_s,
                          "stencil_halo_s": halo_s}))


if __name__ == "__main__":
    main()
