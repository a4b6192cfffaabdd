"""Numba: @njit(parallel=True) with prange over the elements, output
preallocated; uses numba's default thread count (one per core)."""
import numpy as np

NAME = "numba"
KIND = "add"
VARIANTS = ["@njit(parallel=True) prange, out= preallocated"]

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

        @njit(parallel=True, fastmath=False, cache=False)
        def add(a, b, c):
            for i in prange(a.shape[0]):
                c[i] = a[i] + b[i]

        _kernel = add
    return _kernel


def setup(a, b, variant):
    k = _compile()
    c = np.empty_like(a)
    k(a[:1024], b[:1024], c[:1024])  # compile outside the timing
    return {"a": a, "b": b, "c": c, "k": k}


def run(state):
    state["k"](state["a"], state["b"], state["c"])


def result(state):
    return state["c"]


def teardown(state):
    state.clear()


def threads():
    import numba
    return numba.get_num_threads()
