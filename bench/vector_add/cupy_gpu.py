"""CuPy on the first CUDA GPU: the GPU peer of cambrian's OpenCL variants.

The inputs are copied to the GPU once (setup); the timed repetitions find
them there, as cambrian's do.

Variants:
  c = a + b; sync              one operation, then wait for the device
  20 x (c = a + b); sync       twenty operations, then one wait
  cp.asnumpy(a + b)            the result brought back to the host
"""
import harness

NAME = "cupy gpu"
KIND = "add"
VARIANTS = ["c = a + b; sync", "20 x (c = a + b); sync",
            "cp.asnumpy(a + b)"]
BATCH = 20

try:
    import cupy as cp
except Exception:  # noqa: BLE001 - any import failure means "not here"
    cp = None


def available():
    return harness.cuda_available(cp)


def setup(a, b, variant):
    return {"a": cp.asarray(a), "b": cp.asarray(b), "c": None,
            "variant": variant}


def run(state):
    v = state["variant"]
    if v == VARIANTS[2]:
        state["c"] = cp.asnumpy(state["a"] + state["b"])
        return
    for _ in range(BATCH if v == VARIANTS[1] else 1):
        state["c"] = state["a"] + state["b"]
    cp.cuda.Device().synchronize()


def result(state):
    return cp.asnumpy(state["a"] + state["b"])


def teardown(state):
    state.clear()
    cp.get_default_memory_pool().free_all_blocks()
