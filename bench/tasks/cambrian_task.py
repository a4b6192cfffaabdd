"""cambrian: calls of @cb.task functions.

  overhead  N calls of a tiny function (returns its argument plus one),
            all submitted, then every future's result() taken in order
  numpy     K calls of np.dot on two float64 matrices (In arrays, their
            NumPy views arrive in the function; np.dot releases the GIL),
            all submitted, then every result taken

One runtime per configuration (cb.shutdown(), then cb.init(**runtime)):
the default one, and W CPU workers with no OpenCL device.
"""
import time

import numpy as np

import cambrian as cb

NAME = "cambrian @cb.task"
USES_RUNTIME = True


@cb.task
def tiny(i):
    return i + 1


@cb.task
def matmul(a, b):
    return np.dot(a, b)


def available():
    return True, ""


def setup(workload, runtime, data):
    cb.shutdown()
    cb.init(**runtime)
    state = {"workload": workload, "config": cb.config(), "submit_s": []}
    if workload == "overhead":
        state["n"] = data["n"]
    else:
        state["pairs"] = [(cb.asarray(a), cb.asarray(b))
                          for a, b in data["pairs"]]
        state["expected"] = data["expected"]
    return state


def run(state):
    t0 = time.perf_counter()
    if state["workload"] == "overhead":
        fs = [tiny(i) for i in range(state["n"])]
    else:
        fs = [matmul(a, b) for a, b in state["pairs"]]
    state["submit_s"].append(time.perf_counter() - t0)
    state["last"] = [f.result() for f in fs]


def check(state):
    if state["workload"] == "overhead":
        assert state["last"] == list(range(1, state["n"] + 1))
    else:
        for got, want in zip(state["last"], state["expected"]):
            np.testing.assert_allclose(got, want, rtol=1e-10)


def teardown(state):
    state.clear()
    cb.shutdown()
