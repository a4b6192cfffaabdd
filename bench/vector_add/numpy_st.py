"""NumPy, single thread: c = a + b, into a preallocated output and plain.

NumPy's element-wise loops run on the calling thread only.
"""
import numpy as np

NAME = "numpy"
KIND = "add"
VARIANTS = ["np.add(a, b, out=c)", "c = a + b"]


def available():
    return True, ""


def setup(a, b, variant):
    return {"a": a, "b": b, "c": np.empty_like(a), "variant": variant}


def run(state):
    if state["variant"] == VARIANTS[0]:
        np.add(state["a"], state["b"], out=state["c"])
    else:
        # A fresh output each time, as a + b in user code: the allocation
        # and the page faults of its first touch are part of the cost.
        state["c"] = state["a"] + state["b"]


def result(state):
    return state["c"]


def teardown(state):
    state.clear()
