"""STREAM-like copy with numba prange (all cores): dst[i] = src[i]."""
import numpy as np

NAME = "copy: numba"
KIND = "copy"
VARIANTS = ["@njit(parallel=True) prange copy"]

_kernel = None


def available():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False, "numba is not installed (pip install numba)"
    return True, ""


def _compile():
    global _kernel
    if _kernel is None:
        from numba import njit, prange

        @njit(parallel=True)
        def copy(src, dst):
            for i in prange(src.shape[0]):
                dst[i] = src[i]

        _kernel = copy
    return _kernel


def setup(a, b, variant):
    k = _compile()
    dst = np.empty_like(a)
    k(a[:1024], dst[:1024])
    return {"src": a, "dst": dst, "k": k}


def run(state):
    state["k"](state["src"], state["dst"])


def result(state):
    return state["dst"]


def teardown(state):
    state.clear()
