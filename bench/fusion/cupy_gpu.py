"""CuPy on the first CUDA GPU, the GPU peer: the 9 operations as 9
kernels, and as one kernel with cupy.fuse. The input is copied to the
GPU once; each repetition computes and waits for the device."""
import harness
from workload import gelu

NAME = "cupy gpu"
VARIANTS = ["cupy.fuse", "9 kernels"]   # fused first, as run.py wants

try:
    import cupy as cp
except Exception:  # noqa: BLE001 - any import failure means "not here"
    cp = None


def available():
    return harness.cuda_available(cp)


def gelu_cupy(v):
    return gelu(v, cp.tanh)


def setup(x, variant):
    # cupy.fuse names its kernel after the function: not a lambda.
    fn = cp.fuse(gelu_cupy) if variant == VARIANTS[0] else gelu_cupy
    return {"x": cp.asarray(x), "fn": fn, "y": None}


def run(state):
    state["y"] = state["fn"](state["x"])
    cp.cuda.Device().synchronize()


def result(state):
    return cp.asnumpy(state["y"])


def teardown(state):
    state.clear()
    cp.get_default_memory_pool().free_all_blocks()
