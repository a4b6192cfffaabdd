"""concurrent.futures.ThreadPoolExecutor: ex.submit(np.add, x, y).result()
over 16 float32, one operation at a time, from a plain thread. One worker
thread per core (the pool is made and its threads started in setup)."""
import concurrent.futures as cf
import os

import numpy as np

import harness

NAME = "ThreadPoolExecutor"
USES_RUNTIME = False
VARIANTS = ["submit(np.add, x, y).result()"]


def available():
    return True, ""


def setup(variant, runtime=None):
    x = np.ones(16, np.float32)
    workers = len(os.sched_getaffinity(0))
    ex = cf.ThreadPoolExecutor(max_workers=workers)
    list(ex.map(np.add, [x] * workers, [x] * workers))  # start the threads
    return {"x": x, "y": x.copy(), "ex": ex}


def _one(st):
    st["last"] = st["ex"].submit(np.add, st["x"], st["y"]).result()


def samples(state, warmup, n):
    return harness.timed(_one, state, warmup, n)


def check(state):
    np.testing.assert_allclose(state["last"], np.full(16, 2, np.float32))


def teardown(state):
    state["ex"].shutdown()
    state.clear()
