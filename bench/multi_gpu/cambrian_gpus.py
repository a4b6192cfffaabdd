"""cambrian on the GPUs: one GPU, the device set of every GPU ("gpu"), and
the products placed on the GPUs in turn by hand.

Variants:
  one GPU (opencl:gpu:0)   every array on the first GPU
  device set (gpu)         every array on the set: its tiles spread over
                           the GPUs, the work where its tiles are
  by hand, in turn         products only: pair j on GPU j mod n
"""
import numpy as np

NAME = "cambrian"
VARIANTS = ["one GPU (opencl:gpu:0)", "device set (gpu)", "by hand, in turn"]
# The devices: GPUs, or with run.py --kind opencl:cpu two pocl devices
# (POCL_DEVICES="pthread pthread"), to try the benchmark without GPUs.
KIND = "opencl:gpu"

try:
    import cambrian as cb
except Exception:  # noqa: BLE001
    cb = None


def available():
    if cb is None:
        return False, "cambrian is not importable"
    n = len(cb.devices(KIND))
    return (n >= 2, "" if n >= 2 else f"{n} devices of {KIND}, 2 needed")


def _places(variant, count):
    if variant == VARIANTS[0]:
        return [f"{KIND}:0"] * count
    if variant == VARIANTS[1]:
        return [KIND] * count
    gpus = [d.filter_string for d in cb.devices(KIND)]
    return [gpus[j % len(gpus)] for j in range(count)]


def setup(work, variant):
    if work.name == "products":
        places = _places(variant, work.count)
        # Operands computed on their devices (+ 0), as data that work
        # made there: the host holds no current copy of them.
        ops = []
        for j, dev in enumerate(places):
            a = cb.asarray(work.a[j % 2], device=dev) + 0
            b = cb.asarray(work.b[j % 2], device=dev) + 0
            ops.append((a, b))
        cb.synchronize()
        return {"work": work, "ops": ops, "c": None}
    if variant == VARIANTS[2]:
        return None
    dev = _places(variant, 1)[0]
    a = cb.full(work.n, work.A, dtype=cb.float32, device=dev)
    b = cb.full(work.n, work.B, dtype=cb.float32, device=dev)
    cb.synchronize()
    return {"work": work, "a": a, "b": b, "dev": dev, "z": None}


def run(state):
    work = state["work"]
    if work.name == "products":
        state["c"] = [a @ b for a, b in state["ops"]]
    else:
        z = cb.zeros(work.n, dtype=cb.float32, device=state["dev"])
        for _ in range(work.steps):
            z = z * state["a"] + state["b"]
        state["z"] = z
    cb.synchronize()


def check(state):
    work = state["work"]
    if work.name == "products":
        return work.check([state["c"][0].numpy(), state["c"][1].numpy()])
    z = state["z"]
    k = 4096
    return work.check(z[:k].numpy(), z[work.n - k:].numpy())


def teardown(state):
    state.clear()
    cb.synchronize()
