"""cambrian, eager calls: the same operations as the graph, called one by
one from Python on an input on device "cpu" (each call submits its task
and returns).

Part (a): a repetition drops the previous outputs, times the Python calls
("submit") and then cb.synchronize() ("total").

Part (b), in a process of its own per size: nothing to build; run = the
calls until every task is done; free = dropping the outputs (gc.collect(),
cb.synchronize()).
"""
import gc
import time

import cambrian as cb
import workload

NAME = "cambrian eager"
SCALE_VARIANTS = {"eager calls": {}}
MAX_REPS = None


def available():
    return True, ""


def _input():
    return cb.asarray(workload.data(), device=cb.get_device("cpu"))


# ---- part (a) ---------------------------------------------------------------

def setup(shape, nodes):
    """With the runtime started by the driver."""
    return {"x": _input(), "shape": shape, "nodes": nodes}


def submit(state):
    """One repetition: (submission seconds, seconds to all done)."""
    state.pop("outs", None)
    x, shape, nodes = state["x"], state["shape"], state["nodes"]
    t0 = time.perf_counter()
    outs = workload.build(shape, x, nodes)
    t1 = time.perf_counter()
    cb.synchronize()
    t2 = time.perf_counter()
    state["outs"] = outs
    return t1 - t0, t2 - t0


def results(state):
    return [y.numpy() for y in state["outs"]]


def teardown(state):
    state.clear()


# ---- part (b) ---------------------------------------------------------------

def scale_init(variant):
    cb.init()
    return {"x": _input(), "config": cb.config()}


def scale_build(ctx, st, shape, nodes):
    st["shape"], st["nodes"] = shape, nodes


def scale_run(ctx, st):
    """Returns the submission's seconds."""
    t0 = time.perf_counter()
    st["outs"] = workload.build(st["shape"], ctx["x"], st["nodes"])
    t1 = time.perf_counter()
    cb.synchronize()
    return t1 - t0


def scale_results(ctx, st):
    return results(st)


def scale_free(ctx, st):
    st.clear()
    gc.collect()
    cb.synchronize()


def scale_shutdown(ctx):
    ctx.clear()
    cb.shutdown()
