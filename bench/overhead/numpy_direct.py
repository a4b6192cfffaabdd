"""NumPy called directly: c = a + b over 16 float32, no runtime at all.
What the work itself costs from Python (the floor)."""
import time

import numpy as np

NAME = "numpy, direct call"
VARIANTS = ["c = a + b (synchronous)"]


def available():
    return True, ""


def setup(ops, variant):
    x = np.ones(16, np.float32)
    return {"a": x, "b": x.copy(), "ops": ops, "submit": []}


def run(state):
    a, b = state["a"], state["b"]
    t0 = time.perf_counter()
    for _ in range(state["ops"]):
        c = a + b
    state["submit"].append(time.perf_counter() - t0)
    state["c"] = c


def check(state):
    np.testing.assert_allclose(state["c"], np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
