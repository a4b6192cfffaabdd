"""dask, threaded scheduler (one worker per core), `ops` independent tasks
np.add(a, b) over 16 float32. Two variants:

  delayed  dask.delayed(np.add, pure=False) called `ops` times, then one
           dask.compute(list, scheduler="threads"): the user-level API.
           Its graph optimisation (culling, one layer per call) grows
           faster than linearly with the number of tasks, so this variant
           runs at most DELAYED_MAX_OPS tasks per repetition (the table
           says how many); at 20000 it costs over 1 ms per task.
  graph    a task graph written as a dict {key: (np.add, "a", "b")} run by
           dask.threaded.get(dsk, keys): the scheduler alone, nothing
           built per call, closest to a runtime submitting tasks.

Why not dask.array: a cambrian `c = a + b` is one task, and so is one
delayed call. With dask.array, `x + y` repeated gives the same
deterministic key each time, so dask.compute would merge the expressions
into one task and measure nothing; distinct keys need distinct inputs or
chains, which is no longer the same workload.
"""
import os
import time

import numpy as np

NAME = "dask"
DELAYED_MAX_OPS = 2000
VARIANTS = ["delayed(np.add, pure=False); compute(scheduler='threads')",
            "dict graph; dask.threaded.get"]


def available():
    try:
        import dask  # noqa: F401
    except ImportError:
        return False, "dask is not installed (pip install dask)"
    return True, ""


def setup(ops, variant):
    import dask
    import dask.threaded
    x = np.ones(16, np.float32)
    st = {"a": x, "b": x.copy(), "ops": ops, "dask": dask, "submit": [],
          "workers": len(os.sched_getaffinity(0)), "variant": variant}
    if variant.startswith("delayed"):
        st["ops"] = min(ops, DELAYED_MAX_OPS)
    return st


def run(state):
    dask, a, b, n = state["dask"], state["a"], state["b"], state["ops"]
    t0 = time.perf_counter()
    if state["variant"].startswith("delayed"):
        add = dask.delayed(np.add, pure=False)
        tasks = [add(a, b) for _ in range(n)]
        state["submit"].append(time.perf_counter() - t0)
        (out,) = dask.compute(tasks, scheduler="threads",
                              num_workers=state["workers"])
    else:
        dsk = {("add", i): (np.add, "a", "b") for i in range(n)}
        dsk["a"], dsk["b"] = a, b
        keys = [("add", i) for i in range(n)]
        state["submit"].append(time.perf_counter() - t0)
        out = dask.threaded.get(dsk, keys, num_workers=state["workers"])
    state["last"] = out[-1]


def check(state):
    np.testing.assert_allclose(state["last"], np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
