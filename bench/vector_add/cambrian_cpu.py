"""cambrian on its CPU workers (device "cpu").

Inputs are wrapped once with cb.asarray(x, device="cpu") (zero-copy);
each repetition submits c = a + b (one task per tile of c, a new output
array each time) and waits for it. The runtime starts in setup() and is
shut down in teardown() so that its idle workers do not run during the
other competitors.

Variants:
  (a + b).wait()            the result is dropped right after the wait
  c = a + b; c.wait()       the result lives until the next repetition
  ... [ncpus=cores, no OpenCL]  the runtime started without the OpenCL
                            device, so every core gets a CPU worker (the
                            default keeps one core for each GPU driver)
"""
import os

import cambrian as cb

NAME = "cambrian cpu"
KIND = "add"
VARIANTS = ["(a + b).wait()", "c = a + b; c.wait()",
            "(a + b).wait() [ncpus=cores, no OpenCL]"]


def available():
    return True, ""


def setup(a, b, variant):
    cb.shutdown()
    if "no OpenCL" in variant:
        cb.init(ncpus=len(os.sched_getaffinity(0)), devices="none")
    else:
        cb.init()
    dev = cb.get_device("cpu")
    st = {"a": cb.asarray(a, device=dev), "b": cb.asarray(b, device=dev),
          "c": None, "keep": variant.startswith("c = ")}
    st["config"] = cb.config()
    return st


def run(state):
    if state["keep"]:
        state["c"] = state["a"] + state["b"]
        state["c"].wait()
    else:
        (state["a"] + state["b"]).wait()


def result(state):
    return (state["a"] + state["b"]).numpy()


def teardown(state):
    state.clear()
    cb.shutdown()
