"""cambrian on the first OpenCL device (pocl's "opencl:cpu" here; a GPU
where there is one, when asked with --opencl-device).

Inputs are wrapped once with cb.asarray(x, device=dev), which starts
their transfer to the device; the warm-up repetitions complete it, so the
timed repetitions find a and b on the device.

Variants:
  (a + b).wait()               wait() brings c back to the host: the
                               timing includes the device->host copy of c
  c = a + b; c.wait()          the same, c kept until the next repetition
  c = a + b; cb.synchronize()  c stays on the device: compute only
  20 x (c = a + b); cb.synchronize()
                               twenty operations, then one wait
"""
import cambrian as cb
import harness

NAME = "cambrian opencl"
KIND = "add"
VARIANTS = ["(a + b).wait()", "c = a + b; c.wait()",
            "c = a + b; cb.synchronize()",
            "20 x (c = a + b); cb.synchronize()"]
BATCH = 20

DEVICE = "opencl"


def available():
    return harness.cambrian_has(DEVICE)


def setup(a, b, variant):
    cb.shutdown()
    cb.init()
    dev = cb.get_device(DEVICE)
    need = 3 * a.nbytes
    if need > 0.9 * dev.global_mem_bytes:
        raise MemoryError(
            f"{need / 2**30:.1f} GiB do not fit {dev.filter_string} "
            f"({dev.global_mem_bytes / 2**30:.1f} GiB)")
    return {"a": cb.asarray(a, device=dev), "b": cb.asarray(b, device=dev),
            "c": None, "variant": variant, "device": dev}


def run(state):
    v = state["variant"]
    if v == VARIANTS[0]:
        (state["a"] + state["b"]).wait()
    elif v == VARIANTS[1]:
        state["c"] = state["a"] + state["b"]
        state["c"].wait()
    else:
        for _ in range(BATCH if v == VARIANTS[3] else 1):
            state["c"] = state["a"] + state["b"]
        cb.synchronize()


def result(state):
    return (state["a"] + state["b"]).numpy()


def teardown(state):
    state.clear()
    cb.shutdown()
