"""cambrian, a Graph recorded once and replayed: g.run(x=x) submits every
node in one call, with the GIL released.

Part (a): the graph of the shape, recorded once over an input on device
"cpu"; a repetition drops the previous outputs, times g.run(x=x) (the
submission: "submit") and then cb.synchronize() ("total").

Part (b), in a process of its own per size: build = recording the graph
(with cambrian.Graph() ...), run = g.run(x=x) until every task is done,
free = dropping the outputs and the graph (gc.collect(), and
cb.synchronize() so that the runtime's reclaim thread has unregistered
what it was given). Variants are environments of that process: the
default one, and one where StarPU bounds the tasks submitted and not yet
done (STARPU_LIMIT_MAX_SUBMITTED_TASKS: a submission past the bound waits
until the count falls to STARPU_LIMIT_MIN_SUBMITTED_TASKS), a diagnostic
of where the time and the memory of large runs go.
"""
import gc
import time

import cambrian as cb
import workload

NAME = "cambrian Graph"
SCALE_VARIANTS = {
    "g.run(x=x)": {},
    "g.run(x=x), StarPU bounds tasks in flight to 20000 (diag.)": {
        "STARPU_LIMIT_MAX_SUBMITTED_TASKS": "20000",
        "STARPU_LIMIT_MIN_SUBMITTED_TASKS": "15000"},
}
MAX_REPS = None


def available():
    return True, ""


def record(shape, nodes):
    with cb.Graph() as g:
        x = g.input("x", (workload.N,), cb.float32)
        for i, y in enumerate(workload.build(shape, x, nodes)):
            g.output(f"y{i}", y)
    return g


def _input():
    return cb.asarray(workload.data(), device=cb.get_device("cpu"))


# ---- part (a) ---------------------------------------------------------------

def setup(shape, nodes):
    """With the runtime started by the driver."""
    return {"x": _input(), "g": record(shape, nodes), "shape": shape,
            "nodes": nodes}


def submit(state):
    """One repetition: (submission seconds, seconds to all done)."""
    state.pop("outs", None)
    g, x = state["g"], state["x"]
    t0 = time.perf_counter()
    outs = g.run(x=x)
    t1 = time.perf_counter()
    cb.synchronize()
    t2 = time.perf_counter()
    state["outs"] = outs
    return t1 - t0, t2 - t0


def results(state):
    outs = state["outs"]
    return [outs[f"y{i}"].numpy() for i in range(len(outs))]


def teardown(state):
    state.clear()


# ---- part (b) ---------------------------------------------------------------

def scale_init(variant):
    cb.init()
    return {"x": _input(), "config": cb.config()}


def scale_build(ctx, st, shape, nodes):
    st["g"] = record(shape, nodes)


def scale_run(ctx, st):
    """Returns the submission's seconds."""
    t0 = time.perf_counter()
    st["outs"] = st["g"].run(x=ctx["x"])
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
