"""NumPy, single thread: the baseline of the ratios.

np.sum uses pairwise summation; np.max, np.dot (BLAS on vectors) and the
axis reductions run on the calling thread (np.dot may use BLAS threads).
"""
import numpy as np

NAME = "numpy"
VARIANTS = ["np"]


def available():
    return True, ""


def setup(x, y, variant):
    return {"x": x, "y": y}


def compute(state, op):
    x, y = state["x"], state["y"]
    if op == "sum":
        return np.sum(x)
    if op == "max":
        return np.max(x)
    if op == "dot":
        return np.dot(x, y)
    if op == "norm":
        return np.linalg.norm(x)
    if op == "sum axis=0":
        return np.sum(x.reshape(-1, 1024), axis=0)
    if op == "sum axis=1":
        return np.sum(x.reshape(-1, 1024), axis=1)
    if op == "argmax":
        return np.argmax(x)
    raise ValueError(op)


def run(state, op):
    state["r"] = compute(state, op)


def result(state, op):
    return np.asarray(compute(state, op))


def teardown(state):
    state.clear()
