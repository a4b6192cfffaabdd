"""concurrent.futures.ThreadPoolExecutor: `ops` times
executor.submit(np.add, a, b) over 16 float32, then wait for all the
futures. One worker thread per core (the pool is made in setup, so thread
start-up is not timed)."""
import concurrent.futures as cf
import os
import time

import numpy as np

NAME = "ThreadPoolExecutor"
VARIANTS = ["submit(np.add, a, b); wait(all)"]


def available():
    return True, ""


def setup(ops, variant):
    x = np.ones(16, np.float32)
    workers = len(os.sched_getaffinity(0))
    ex = cf.ThreadPoolExecutor(max_workers=workers)
    list(ex.map(np.add, [x] * workers, [x] * workers))  # start the threads
    return {"a": x, "b": x.copy(), "ops": ops, "ex": ex, "submit": [],
            "workers": workers}


def run(state):
    a, b, ex = state["a"], state["b"], state["ex"]
    t0 = time.perf_counter()
    fs = [ex.submit(np.add, a, b) for _ in range(state["ops"])]
    state["submit"].append(time.perf_counter() - t0)
    cf.wait(fs)
    state["last"] = fs[-1]


def check(state):
    np.testing.assert_allclose(state["last"].result(),
                               np.full(16, 2, np.float32))


def teardown(state):
    state["ex"].shutdown()
    state.clear()
