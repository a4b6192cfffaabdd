"""Interference check: NumPy's np.add(a, b, out=c) while a cambrian
runtime is started but has nothing to do. StarPU 1.3's workers poll for
work when idle, so on a small machine they take cores away from the
Python thread."""
import numpy as np

import cambrian as cb

NAME = "numpy, cambrian idle"
KIND = "add"
VARIANTS = ["np.add(a, b, out=c) with cb.init() done"]


def available():
    return True, ""


def setup(a, b, variant):
    cb.shutdown()
    cb.init()
    return {"a": a, "b": b, "c": np.empty_like(a)}


def run(state):
    np.add(state["a"], state["b"], out=state["c"])


def result(state):
    return state["c"]


def teardown(state):
    state.clear()
    cb.shutdown()
