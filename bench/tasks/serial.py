"""The same calls made one after the other in the calling thread: the
floor of the overhead workload (a plain Python call of i + 1) and the
one-core time of the NumPy workload."""
import time

import numpy as np

NAME = "serial (calling thread)"
USES_RUNTIME = False


def tiny(i):
    return i + 1


def available():
    return True, ""


def setup(workload, workers, data):
    state = {"workload": workload, "submit_s": []}
    state.update(data)
    return state


def run(state):
    t0 = time.perf_counter()
    if state["workload"] == "overhead":
        state["last"] = [tiny(i) for i in range(state["n"])]
    else:
        state["last"] = [np.dot(a, b) for a, b in state["pairs"]]
    state["submit_s"].append(time.perf_counter() - t0)


def check(state):
    if state["workload"] == "overhead":
        assert state["last"] == list(range(1, state["n"] + 1))
    else:
        for got, want in zip(state["last"], state["expected"]):
            np.testing.assert_allclose(got, want, rtol=1e-10)


def teardown(state):
    state.clear()
