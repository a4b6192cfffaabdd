"""NumPy, one thread: each of the 9 operations a pass over memory."""
import numpy as np

from workload import gelu

NAME = "numpy"
VARIANTS = ["gelu(x)"]


def available():
    return True, ""


def setup(x, variant):
    return {"x": x, "y": None}


def run(state):
    state["y"] = gelu(state["x"], np.tanh)


def result(state):
    return state["y"]


def teardown(state):
    state.clear()
