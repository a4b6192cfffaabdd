"""Reductions (sum, min, max, mean, norm, dot) against NumPy: every
operation, dtype and device; over everything and along each axis; NaN,
empty inputs, bad arguments, and failures of the tasks that feed them."""

import warnings

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults

from helpers import DTYPES, assert_same, dtype_id, sample

OPS = ["sum", "min", "max", "mean", "norm"]


def expected(op, x, axis=None):
    """What NumPy 2 gives; norm as numpy.linalg.norm does (for float16,
    the sum of squares taken in float and rounded to a half)."""
    if op == "norm":
        if x.dtype.kind in "biu":
            x = x.astype(np.float64)
        if x.dtype == np.float16:
            sq = np.square(x.astype(np.float32))
            return np.asarray(np.sqrt(np.sum(sq, axis=axis).astype(x.dtype)))
        return np.asarray(np.sqrt(np.sum(x * x, axis=axis)))
    return np.asarray(getattr(np, op)(x, axis=axis))


def tolerance(op, dtype):
    if np.dtype(dtype) == np.float32:
        return 1e-4
    return 1e-9 if op in ("mean", "norm") or np.dtype(dtype).kind == "f" \
        else 0.0


def data(dtype, n, seed=0):
    """n values of dtype whose sums stay finite and exact enough."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(n) < 0.5
    if dtype.kind == "i":
        return rng.integers(-1000, 1000, n).astype(dtype)
    return rng.uniform(-50, 50, n).astype(dtype)


def check(op, x, dev, axis=None):
    a = cb.asarray(x, device=dev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = expected(op, x, axis)
        got = getattr(cb, op)(a, axis=axis)
        t = atol = tolerance(op, x.dtype)
        if x.dtype == np.float16 and x.size:
            # cambrian sums halves in float32 and rounds once; NumPy sums
            # them in floats too, but along a leading axis it rounds each
            # partial sum to a half: the results differ by an ulp of the
            # half, and by NumPy's rounding of the partial sums, at most
            # an ulp of the largest partial sum a step.
            x64 = x.astype(np.float64)
            mag = np.asarray(np.sum(np.abs(x64), axis=axis))
            if op == "mean":
                mag = mag / max(1, x.size // max(1, np.size(mag)))
            t, atol = 1e-3, 1e-3 * float(np.max(mag))
        if x.dtype == np.float32 and x.size:
            # float32 sums lose digits to cancellation, NumPy's too: the
            # reference is computed in float64, the tolerance scaled by
            # the magnitude of what is added.
            x64 = x.astype(np.float64)
            want = expected(op, x64, axis).astype(np.float32)
            mag = np.sum(np.abs(x64), axis=axis)
            if op == "mean":
                mag = mag / max(1, x.size // max(1, np.size(mag)))
            mag = np.asarray(mag)[np.isfinite(mag)]
            atol = 1e-6 * float(np.max(mag)) if np.size(mag) else 0.0
    assert_same(got, want, rtol=t, atol=atol)
    return got


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("n", [1, 7, 1000, 300_001])
def test_all_elements(device, op, dtype, n):
    check(op, data(dtype, n), device)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2])
@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (700, 300), (5000, 3)],
                         ids=str)
def test_along_axis(device, op, dtype, axis, shape):
    x = data(dtype, shape[0] * shape[1]).reshape(shape)
    got = check(op, x, device, axis)
    assert got.ndim == (0 if axis is None else 1)


@pytest.mark.parametrize("op", OPS)
def test_one_dimensional_axis_zero(device, op):
    x = data(np.float64, 100)
    check(op, x, device, 0)
    check(op, x, device, -1)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_dimensional(device, dtype):
    x = np.asarray(data(dtype, 1)[0])
    for op in OPS:
        check(op, x, device)


@pytest.mark.parametrize("dtype", [np.int32, np.int64], ids=dtype_id)
def test_integer_sums_wrap_like_numpy(device, dtype):
    info = np.iinfo(dtype)
    x = np.array([info.max, info.max, 1, info.min, info.max] * 1000,
                 dtype=dtype)
    assert_same(cb.sum(cb.asarray(x, device=device)), np.sum(x))
    assert_same(cb.sum(cb.asarray(x, device=device)).astype(np.int64),
                np.sum(x).astype(np.int64))
    # The mean of integers sums in float64, as NumPy's does.
    assert_same(cb.mean(cb.asarray(x, device=device)), np.mean(x),
                rtol=1e-12)


def test_sum_dtypes_are_numpy_2s(device):
    for t, want in [(np.bool_, np.int64), (np.int32, np.int64),
                    (np.int64, np.int64), (np.float32, np.float32),
                    (np.float64, np.float64)]:
        a = cb.asarray(np.ones(5, t), device=device)
        assert cb.sum(a).dtype == want
        assert cb.min(a).dtype == t
        assert cb.mean(a).dtype == (np.float32 if t == np.float32
                                    else np.float64)
        assert cb.norm(a).dtype == (np.float32 if t == np.float32
                                    else np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=dtype_id)
@pytest.mark.parametrize("op", OPS)
def test_nan_propagates(device, op, dtype):
    for where in (0, 12_345, 299_999):
        x = data(dtype, 300_000)
        x[where] = np.nan
        got = getattr(cb, op)(cb.asarray(x, device=device))
        assert np.isnan(float(got))
    m = data(dtype, 600).reshape(200, 3)
    m[150, 1] = np.nan
    for axis in (0, 1):
        check(op, m, device, axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=dtype_id)
def test_infinities(device, dtype):
    x = np.array([1.0, np.inf, -2.0], dtype=dtype)
    for op in ("sum", "min", "max", "mean"):
        check(op, x, device)
    y = np.array([np.inf, -np.inf], dtype=dtype)
    assert np.isnan(float(cb.sum(cb.asarray(y, device=device))))
    assert float(cb.max(cb.asarray(y, device=device))) == np.inf


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_empty(device, dtype):
    x = np.zeros(0, dtype)
    a = cb.asarray(x, device=device)
    assert_same(cb.sum(a), np.sum(x))
    assert_same(cb.norm(a), expected("norm", x))
    with pytest.warns(RuntimeWarning):
        got = cb.mean(a)
    assert np.isnan(float(got))
    for op in ("min", "max"):
        with pytest.raises(ValueError, match="zero-size"):
            getattr(cb, op)(a)


@pytest.mark.parametrize("shape,axis", [((0, 3), 0), ((3, 0), 1),
                                        ((0, 0), 0), ((0, 0), None)],
                         ids=str)
def test_empty_reduced_extent(device, shape, axis):
    x = np.zeros(shape)
    a = cb.asarray(x, device=device)
    assert_same(cb.sum(a, axis=axis), np.sum(x, axis=axis))
    for op in ("min", "max"):
        with pytest.raises(ValueError):
            getattr(np, op)(x, axis=axis)
        with pytest.raises(ValueError, match="zero-size"):
            getattr(cb, op)(a, axis=axis)


@pytest.mark.parametrize("shape,axis", [((0, 3), 1), ((3, 0), 0)], ids=str)
def test_empty_result(device, shape, axis):
    x = np.zeros(shape)
    a = cb.asarray(x, device=device)
    for op in ("sum", "min", "max"):
        assert_same(getattr(cb, op)(a, axis=axis),
                    getattr(np, op)(x, axis=axis))


@pytest.mark.parametrize("axis", [2, -3, 100])
def test_bad_axis(device, axis):
    a = cb.asarray(np.ones((3, 4)), device=device)
    for op in OPS:
        with pytest.raises(ValueError, match="out of bounds"):
            getattr(cb, op)(a, axis=axis)
    with pytest.raises(ValueError, match="out of bounds"):
        cb.sum(cb.asarray(np.ones(3), device=device), axis=1)
    with pytest.raises(ValueError, match="out of bounds"):
        cb.sum(cb.asarray(np.float64(2.0), device=device), axis=0)


def test_axis_type(device):
    a = cb.asarray(np.ones((3, 4)), device=device)
    with pytest.raises(TypeError):
        cb.sum(a, axis=1.0)
    with pytest.raises(TypeError):
        cb.sum(a, axis="0")


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("n", [0, 1, 33, 300_001])
def test_dot(device, dtype, n):
    x, y = data(dtype, n, 1), data(dtype, n, 2)
    got = cb.dot(cb.asarray(x, device=device), cb.asarray(y, device=device))
    t = 1e-4 if np.dtype(dtype) == np.float32 else 1e-9
    assert_same(got, np.asarray(np.dot(x, y)), rtol=t, atol=t)


@pytest.mark.parametrize("dtype", [np.int32, np.int64], ids=dtype_id)
def test_dot_wraps_like_numpy(device, dtype):
    x = sample(dtype)
    y = sample(dtype, seed=3)
    with np.errstate(over="ignore"):
        want = np.asarray(np.dot(x, y))
    assert_same(cb.dot(cb.asarray(x, device=device),
                       cb.asarray(y, device=device)), want)


def test_dot_promotes(device):
    x = np.arange(10, dtype=np.int32)
    y = np.linspace(0, 1, 10, dtype=np.float32)
    got = cb.dot(cb.asarray(x, device=device), cb.asarray(y, device=device))
    assert_same(got, np.asarray(np.dot(x, y)), rtol=1e-12)


def test_dot_bad_shapes(device):
    a = cb.asarray(np.ones(3), device=device)
    b = cb.asarray(np.ones(4), device=device)
    with pytest.raises(ValueError, match="not aligned"):
        cb.dot(a, b)
    with pytest.raises(ValueError, match="1-D"):
        cb.dot(cb.asarray(np.ones((2, 3)), device=device),
               cb.asarray(np.ones((3, 2)), device=device))


def test_dot_on_two_devices(opencl_device):
    a = cb.asarray(np.ones(3), device="cpu")
    b = cb.asarray(np.ones(3), device=opencl_device)
    with pytest.raises(ValueError, match="to_device"):
        cb.dot(a, b)


def test_array_methods(device):
    x = data(np.float64, 600).reshape(200, 3)
    a = cb.asarray(x, device=device)
    assert_same(a.sum(), np.asarray(x.sum()), rtol=1e-12)
    assert_same(a.sum(axis=0), x.sum(axis=0), rtol=1e-12)
    assert_same(a.min(1), x.min(1))
    assert_same(a.max(axis=-1), x.max(axis=-1))
    assert_same(a.mean(0), x.mean(0), rtol=1e-12)
    v = cb.asarray(x[:, 0].copy(), device=device)
    assert_same(v.dot(v), np.asarray(x[:, 0] @ x[:, 0]), rtol=1e-12)
    with pytest.raises(TypeError):
        a.sum(0, axis=1)
    with pytest.raises(TypeError):
        a.sum(keepdims=True)


def test_results_are_arrays_on_the_device(device):
    a = cb.asarray(np.arange(10.0), device=device)
    s = cb.sum(a)
    assert isinstance(s, cb.Array)
    assert s.shape == () and s.ndim == 0
    assert s.device == cb.get_device(device)
    assert float(s) == 45.0
    # A result feeds further operations, on the same device.
    np.testing.assert_allclose((a / cb.sum(a)).numpy(), np.arange(10) / 45)
    assert float(cb.sum(a - cb.mean(a))) == pytest.approx(0.0, abs=1e-12)


def test_default_placement_and_numpy_inputs():
    x = np.arange(12.0).reshape(3, 4)
    assert_same(cb.sum(x, axis=1), x.sum(axis=1))
    assert_same(cb.max([1, 5, 3]), np.asarray(5))
    with cb.device_scope("cpu"):
        assert cb.mean(x).device == cb.get_device("cpu")


def test_names_are_exported():
    import builtins
    for name in ("sum", "min", "max", "mean", "norm", "dot"):
        assert name in cb.__all__
        assert callable(getattr(cb, name))
    from cambrian import max as cbmax
    assert cbmax is cb.max and cb.max is not builtins.max
    # The package's own code still sees the builtins.
    assert cb.arange(5).shape == (5,)


def test_awaitable(device):
    import asyncio
    a = cb.asarray(np.arange(100.0), device=device)

    async def main():
        s = await cb.sum(a)
        return float(s)
    assert asyncio.run(main()) == 4950.0


def test_many_in_flight(device):
    a = cb.asarray(np.arange(100_000.0), device=device)
    results = [cb.sum(a * k) for k in range(20)]
    for k, r in enumerate(results):
        assert float(r) == pytest.approx(k * 4999950000.0)


# ---- failures ------------------------------------------------------------


@pytest.fixture
def dev(device):
    yield device
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception:
        pass


@pytest.mark.parametrize("op", OPS)
def test_fault_in_a_tile_fails_the_result(dev, op):
    faults.inject_fault(op, device=dev, nth=1)
    r = getattr(cb, op)(cb.asarray(np.ones(300_001), device=dev))
    with pytest.raises(cb.DeviceError) as info:
        float(r)
    assert info.value.task == op
    assert info.value.cl_status == "CL_OUT_OF_RESOURCES"
    with pytest.raises(cb.DeviceError):
        r.future.result(timeout=60)
    # Dependents of the failed result do not run.
    with pytest.raises(cb.DependencyError) as info:
        (r + 1).numpy()
    assert isinstance(info.value.__cause__, cb.DeviceError)


def test_fault_in_a_later_tile_and_along_an_axis(dev):
    x = np.ones((3000, 200))
    faults.inject_fault("max", device=dev, nth=2)
    r = cb.max(cb.asarray(x, device=dev), axis=0)
    with pytest.raises(cb.DeviceError):
        r.numpy()


def test_fault_in_dot(dev):
    faults.inject_fault("dot", device=dev, nth=1)
    a = cb.asarray(np.ones(1000), device=dev)
    with pytest.raises(cb.DeviceError):
        float(cb.dot(a, a))


@pytest.mark.parametrize("op", OPS + ["dot"])
def test_reduction_of_a_failed_input(dev, op):
    faults.inject_fault("add", device=dev, nth=1)
    b = cb.asarray(np.arange(1000.0), device=dev) + 1
    r = cb.dot(b, b) if op == "dot" else getattr(cb, op)(b, axis=None)
    with pytest.raises(cb.DependencyError) as info:
        float(r)
    cause = info.value.__cause__
    assert isinstance(cause, cb.DeviceError)
    assert cause.task == "add"
    # The runtime goes on.
    assert float(cb.sum(cb.asarray(np.arange(4.0), device=dev))) == 6.0


def test_mean_along_axis_of_failed_input(dev):
    faults.inject_fault("multiply", device=dev, nth=1)
    m = cb.asarray(np.ones((400, 300)), device=dev) * 2
    r = cb.mean(m, axis=1)
    with pytest.raises(cb.DependencyError):
        r.numpy()
