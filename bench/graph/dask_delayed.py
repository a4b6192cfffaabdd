"""dask.delayed on dask's threaded scheduler, part (b) only: the same
graph written with the operators of Delayed objects (each makes one task,
with a pure token) over dask.delayed(x); run = dask.compute(*outputs,
scheduler="threads", num_workers=<cores>); free = dropping the Delayed
objects and the results (gc.collect()).

Building is the costly part for dask: each Delayed carries the graph of
everything before it, and an operation merges its operands' graphs, so a
chain costs more per node the longer it gets. One repetition per size;
the driver stops dask at its time budget.
"""
import gc
import os
import time

import workload

NAME = "dask.delayed"
SCALE_VARIANTS = {"delayed operators; compute(scheduler='threads')": {}}
MAX_REPS = 1


def available():
    try:
        import dask  # noqa: F401
    except ImportError:
        return False, "dask is not installed (pip install dask)"
    return True, ""


def scale_init(variant):
    import dask
    return {"dask": dask, "workers": len(os.sched_getaffinity(0))}


def scale_build(ctx, st, shape, nodes):
    dask = ctx["dask"]
    x = dask.delayed(workload.data(), name="x")
    st["outs"] = workload.build(shape, x, nodes)


def scale_run(ctx, st):
    """Returns the submission's seconds (None: dask has no separate
    submission)."""
    st["results"] = ctx["dask"].compute(*st["outs"], scheduler="threads",
                                        num_workers=ctx["workers"])
    return None


def scale_results(ctx, st):
    return list(st["results"])


def scale_free(ctx, st):
    st.clear()
    gc.collect()


def scale_shutdown(ctx):
    ctx.clear()
