"""STREAM-like copy, single thread: np.copyto(dst, src). The bandwidth
reference of the add results (2 arrays x N x itemsize bytes moved)."""
import numpy as np

NAME = "copy: numpy"
KIND = "copy"
VARIANTS = ["np.copyto(dst, src)"]


def available():
    return True, ""


def setup(a, b, variant):
    return {"src": a, "dst": np.empty_like(a)}


def run(state):
    np.copyto(state["dst"], state["src"])


def result(state):
    return state["dst"]


def teardown(state):
    state.clear()
