"""What every rank of bench/distributed runs (started by run.py, under
mpirun or alone): a tiny operation's submit + result, and vector add
over a distributed array, timed between barriers. Rank 0 prints one JSON
line with medians."""

import json
import statistics
import sys
import time

import numpy as np

import cambrian as cb


def median_time(fn, reps):
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
    n, ops, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    spread = "block" if cb.nranks() > 1 else None
    one = cb.ones(1, device="cpu")

    def tiny():
        for _ in range(200):
            (one + 1).numpy()

    a = cb.asarray(np.ones(n, np.float32), distribution=spread)
    b = cb.asarray(np.ones(n, np.float32), distribution=spread)

    def add():
        c = a
        for _ in range(ops):
            c = c + b
        c.wait()

    tiny_s = median_time(tiny, reps) / 200
    add_s = median_time(add, reps)
    if cb.rank() == 0:
        print(json.dumps({"nranks": cb.nranks(),
                          "distributed": cb.config()["distributed"],
                          "ncpus": cb.config()["ncpus"],
                          "tiny_op_s": tiny_s, "vector_add_s": add_s}))


if __name__ == "__main__":
    main()
