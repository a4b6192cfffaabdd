"""concurrent.futures.ThreadPoolExecutor with the same number of workers:
ex.submit(fn, ...) for every call, then every future's result() in order.
The same two workloads as cambrian_task.py (the functions are plain
Python: i + 1, and np.dot(a, b) on the NumPy matrices). The pool is made
and its threads started in setup."""
import concurrent.futures as cf
import time

import numpy as np

NAME = "ThreadPoolExecutor"
USES_RUNTIME = False


def tiny(i):
    return i + 1


def available():
    return True, ""


def setup(workload, workers, data):
    ex = cf.ThreadPoolExecutor(max_workers=workers)
    list(ex.map(tiny, range(4 * workers)))  # start the threads
    state = {"workload": workload, "ex": ex, "workers": workers,
             "submit_s": []}
    if workload == "overhead":
        state["n"] = data["n"]
    else:
        state["pairs"] = data["pairs"]
        state["expected"] = data["expected"]
    return state


def run(state):
    ex = state["ex"]
    t0 = time.perf_counter()
    if state["workload"] == "overhead":
        fs = [ex.submit(tiny, i) for i in range(state["n"])]
    else:
        fs = [ex.submit(np.dot, a, b) for a, b in state["pairs"]]
    state["submit_s"].append(time.perf_counter() - t0)
    state["last"] = [f.result() for f in fs]


def check(state):
    if state["workload"] == "overhead":
        assert state["last"] == list(range(1, state["n"] + 1))
    else:
        for got, want in zip(state["last"], state["expected"]):
            np.testing.assert_allclose(got, want, rtol=1e-10)


def teardown(state):
    state["ex"].shutdown()
    state.clear()
