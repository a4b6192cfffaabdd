"""cambrian: the cost of one tiny operation. Each repetition submits
`ops` times c = a + b over 16 float32 (one task each, a new output array
each time, the previous one released), then cb.synchronize(); the cost
per operation is the total divided by `ops`.

Variants: a and b placed on device "cpu" (tasks go to the CPU workers),
and a and b without a device (auto placement: the scheduler, dmda when
there are CPU and OpenCL workers, chooses), both with the default
runtime; then device "cpu" with a runtime of one CPU worker and no OpenCL
device (cb.init(ncpus=1, devices="none")), which leaves a core to the
Python thread: StarPU 1.3's idle workers poll, and with one worker per
core the submitting thread competes with them.
"""
import time

import numpy as np

import cambrian as cb

NAME = "cambrian"
VARIANTS = ["c = a + b, device='cpu'", "c = a + b, auto placement",
            "c = a + b, device='cpu' [ncpus=1, no OpenCL: a core left "
            "to Python]"]


def available():
    return True, ""


def setup(ops, variant):
    cb.shutdown()
    if "ncpus=1" in variant:
        cb.init(ncpus=1, devices="none")
    else:
        cb.init()
    dev = cb.get_device("cpu") if "cpu" in variant else None
    x = np.ones(16, np.float32)
    return {"a": cb.asarray(x, device=dev), "b": cb.asarray(x, device=dev),
            "ops": ops, "submit": [], "config": cb.config()}


def run(state):
    a, b = state["a"], state["b"]
    t0 = time.perf_counter()
    for _ in range(state["ops"]):
        c = a + b
    state["submit"].append(time.perf_counter() - t0)
    del c
    cb.synchronize()


def check(state):
    np.testing.assert_allclose((state["a"] + state["b"]).numpy(),
                               np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
    cb.shutdown()
