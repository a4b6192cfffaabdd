"""cambrian on its CPU workers (device "cpu").

The inputs are wrapped once with cb.asarray(x, device="cpu") (zero-copy);
each repetition submits the reduction (one task per tile, then a combine)
and waits for its 0-D or 1-D result with wait().
"""
import cambrian as cb

NAME = "cambrian cpu"
VARIANTS = ["r = cb.op(x); r.wait()"]
DEVICE = "cpu"


def available():
    return True, ""


def setup(x, y, variant):
    cb.shutdown()
    cb.init()
    dev = cb.get_device(DEVICE)
    st = {"device": dev}
    st["x"] = cb.asarray(x, device=dev)
    st["y"] = cb.asarray(y, device=dev)
    st["m"] = cb.asarray(x.reshape(-1, 1024), device=dev)
    return st


def compute(state, op):
    x = state["x"]
    if op == "sum":
        return cb.sum(x)
    if op == "max":
        return cb.max(x)
    if op == "dot":
        return cb.dot(x, state["y"])
    if op == "norm":
        return cb.norm(x)
    if op == "sum axis=0":
        return cb.sum(state["m"], axis=0)
    if op == "sum axis=1":
        return cb.sum(state["m"], axis=1)
    if op == "argmax":
        return cb.argmax(x)
    raise ValueError(op)


def run(state, op):
    compute(state, op).wait()


def result(state, op):
    return compute(state, op).numpy()


def teardown(state):
    state.clear()
    cb.shutdown()
