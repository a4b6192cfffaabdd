"""Helpers shared by the test files: devices and dtypes under test,
input data with special values, and comparisons against NumPy."""

import os
import threading

import numpy as np
import pytest

import cambrian as cb
from cambrian import _core

# Devices every placement-sensitive test runs on: the CPU workers and the
# first OpenCL device of whatever platforms are registered (pocl's CPU
# device, a GPU, ...). CAMBRIAN_TEST_DEVICES (filters separated by ";")
# replaces them, e.g. "cpu;opencl:gpu".
DEVICES = os.environ.get("CAMBRIAN_TEST_DEVICES", "cpu;opencl").split(";")

NO_OPENCL = "no OpenCL device: no OpenCL platform is registered, or none " \
    "has a device"

# The dtypes of cambrian, as NumPy dtypes.
DTYPES = [np.dtype(t) for t in
          (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
           np.uint16, np.uint32, np.uint64, np.float16, np.float32,
           np.float64)]
FLOAT_DTYPES = [np.dtype(np.float16), np.dtype(np.float32),
                np.dtype(np.float64)]
INT_DTYPES = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64,
                                    np.uint8, np.uint16, np.uint32,
                                    np.uint64)]


def dtype_id(t):
    return np.dtype(t).name


def has_opencl():
    return bool(cb.devices("opencl"))


def has_pocl():
    """Whether pocl's platform is registered (and so its CPU device is
    expected among the devices)."""
    return any("pocl" in (p["name"] + p["vendor"] + p["version"]).lower()
               for p in _core.opencl_platforms())


def skip_missing(dev):
    """Skips the test when no device matches the filter dev."""
    if cb.devices(dev):
        return
    if dev.startswith("opencl") and not has_opencl():
        pytest.skip(f"{NO_OPENCL} (wanted {dev!r})")
    pytest.skip(f"no device matches {dev!r}")


def assert_alive():
    """The runtime still works: a small computation on every device under
    test that is present."""
    for dev in DEVICES:
        if not cb.devices(dev):
            continue
        a = cb.asarray(np.array([1.0, 2.0, 3.0]), device=dev)
        np.testing.assert_array_equal((a * 2 + 1).numpy(), [3.0, 5.0, 7.0])


@cb.task
def _held(event, out):
    event.wait(60)    # a test that fails before release() does not hang
    out[:] = 1


class Held:
    """An array that a task function writes once release() is called:
    operations on it are queued and cannot start before then. The task
    holds a CPU worker meanwhile."""

    def __init__(self, dev):
        self.event = threading.Event()
        self.array = cb.empty(1000, dtype=np.float32, device=dev)
        self.call = _held(self.event, cb.Out(self.array))

    def release(self):
        self.event.set()


def assert_same(got, expected, rtol=0.0, atol=0.0, signed_zeros=False):
    """got (a cb.Array) equals expected (a NumPy array): same shape and
    dtype; exact for ints and bools, within rtol/atol for floats, NaN
    where NumPy has NaN, infinities of the same sign."""
    assert isinstance(got, cb.Array), type(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    g = got.numpy()
    assert g.dtype == expected.dtype
    assert g.shape == expected.shape
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol,
                                   equal_nan=True)
        if signed_zeros:
            zero = expected == 0
            np.testing.assert_array_equal(
                np.signbit(g[zero]), np.signbit(expected[zero]),
                err_msg="sign of zero differs")
    else:
        np.testing.assert_array_equal(g, expected)


# ---- input data -------------------------------------------------------------

FLOAT_SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 0.5, -2.5,
                  3.0, 7.25, 1e3]


def float_pair(dtype, seed=0, n_random=200):
    """Two float arrays of equal length whose pairs cover every combination
    of special values (NaN, +-inf, +-0) plus random ordinary values."""
    sp = np.array(FLOAT_SPECIALS, dtype=np.float64)
    x = np.repeat(sp, len(sp))
    y = np.tile(sp, len(sp))
    rng = np.random.default_rng(seed)
    rx = rng.uniform(-50, 50, n_random)
    ry = rng.uniform(-50, 50, n_random)
    return (np.concatenate([x, rx]).astype(dtype),
            np.concatenate([y, ry]).astype(dtype))


def int_pair(dtype, seed=0, n_random=200):
    """Two integer arrays: extremes (so that + - * wrap around), small values
    and random ones of the whole range."""
    info = np.iinfo(dtype)
    small = [-7, -1, 0, 1, 2, 7] if info.min < 0 else [0, 1, 2, 7, 9]
    sp = np.array([info.min, info.min + 1, *small, info.max - 1, info.max],
                  dtype=dtype)
    x = np.repeat(sp, len(sp))
    y = np.tile(sp, len(sp))
    rng = np.random.default_rng(seed)
    rx = rng.integers(info.min, info.max, n_random, dtype=dtype,
                      endpoint=True)
    ry = rng.integers(info.min, info.max, n_random, dtype=dtype,
                      endpoint=True)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    small_x = rng.integers(lo, hi, n_random, dtype=dtype)
    small_y = rng.integers(lo, hi, n_random, dtype=dtype)
    return (np.concatenate([x, rx, small_x]).astype(dtype),
            np.concatenate([y, ry, small_y]).astype(dtype))


def bool_pair():
    x = np.array([False, False, True, True] * 3)
    y = np.array([False, True, False, True] * 3)
    return x, y


def sample_pair(dtype, seed=0):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return float_pair(dtype, seed)
    if dtype.kind in "iu":
        return int_pair(dtype, seed)
    return bool_pair()


def sample(dtype, seed=0):
    return sample_pair(dtype, seed)[0]


def reserve(shape, dtype, device=None):
    """cb.empty for a test that needs a large array it never touches: the
    test is skipped when host memory cannot hold it (arrays are counted
    against what the process may allocate)."""
    try:
        return cb.empty(shape, dtype=dtype, device=device)
    except MemoryError as e:
        pytest.skip(f"the host cannot hold the array: {e}")


def ramp(shape, dtype=np.int64):
    """0, 1, 2, ... in shape."""
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def shape_and_key(min_dims=0, max_side=5):
    """A hypothesis strategy: an array shape and a basic index of it
    (integers, slices with steps, Ellipsis, None)."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @st.composite
    def draw_case(draw):
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4,
                                      min_side=0, max_side=max_side))
        key = draw(hnp.basic_indices(shape, allow_newaxis=True,
                                     allow_ellipsis=True))
        return shape, key
    return draw_case()
