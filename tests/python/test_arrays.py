"""Arrays: cb.asarray from every kind of input, creation functions against
NumPy, attributes, host views, conversions, copies and migration."""

import array
import gc
import time
import weakref

import numpy as np
import pytest

import cambrian as cb
from helpers import DTYPES, assert_same, dtype_id, sample

SHAPES = [(), (0,), (1,), (7,), (1000003,), (0, 5), (3, 4), (513, 257)]


def data(shape, dtype, seed=0):
    """Deterministic values of dtype with the given shape."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        x = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind == "i":
        x = rng.integers(-1000, 1000, n).astype(dtype)
    else:
        x = rng.uniform(-100, 100, n).astype(dtype)
    return x.reshape(shape)


# ---- asarray --------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_asarray_round_trip(dtype, shape, device):
    x = data(shape, dtype)
    a = cb.asarray(x, device=device)
    assert a.shape == shape
    assert a.dtype == dtype
    assert a.ndim == len(shape)
    assert a.size == x.size
    assert a.device == cb.get_device(device)
    assert_same(a, x)
    # An operation over the whole array (several tiles for the big shape).
    assert_same(cb.where(a == a, a, a), x)


@pytest.mark.parametrize("shape", [(7,), (1000003,), (3, 4)], ids=str)
@pytest.mark.parametrize("dtype", [np.int32, np.float64], ids=dtype_id)
def test_asarray_auto_placement(dtype, shape):
    x = data(shape, dtype)
    a = cb.asarray(x)
    assert a.device is None
    assert_same(a, x)
    assert_same(a + a, x + x)


def test_asarray_is_zero_copy():
    x = np.arange(10.0)
    a = cb.asarray(x, device="cpu")
    assert np.shares_memory(a.numpy(), x)
    b = cb.asarray(x, device="cpu", copy=False)
    assert np.shares_memory(b.numpy(), x)


def test_asarray_copy_true_does_not_share():
    x = np.arange(10.0)
    a = cb.asarray(x, copy=True)
    assert not np.shares_memory(a.numpy(), x)
    np.testing.assert_array_equal(a.numpy(), np.arange(10.0))


@pytest.mark.parametrize("kwargs", [{"copy": True}, {"dtype": np.float32}],
                         ids=["copy", "dtype"])
def test_asarray_copy_is_a_snapshot(kwargs, device):
    """A copy (asked for, or needed by a dtype conversion) holds the values
    of the call: writing the source afterwards does not change it."""
    n = 1 << 21
    x = np.arange(n, dtype=np.float64)
    a = cb.asarray(x, device=device, **kwargs)
    x[:] = -1.0
    np.testing.assert_array_equal(a.numpy(), np.arange(n, dtype=a.dtype))


def test_asarray_copy_false():
    x = np.arange(5, dtype=np.int64)
    assert np.shares_memory(cb.asarray(x, copy=False).numpy(), x)
    with pytest.raises(ValueError):
        cb.asarray(x, dtype=np.float64, copy=False)
    with pytest.raises(ValueError):
        cb.asarray([1, 2, 3], copy=False)
    with pytest.raises(ValueError):
        cb.asarray(np.arange(10.0)[::2], copy=False)


def test_asarray_keeps_source_alive(device):
    n = 1000003
    x = np.arange(n, dtype=np.float64)
    ref = weakref.ref(x)
    a = cb.asarray(x, device=device)
    results = [a * 2.0 + 1.0 for _ in range(4)]
    results.append(cb.sqrt(a))
    del x, a
    gc.collect()
    expected = np.arange(n, dtype=np.float64)
    for r in results[:4]:
        assert_same(r, expected * 2.0 + 1.0)
    assert_same(results[4], np.sqrt(expected), rtol=1e-12)
    del results
    cb.synchronize()
    # Arrays are reclaimed by a housekeeping thread: give it a while.
    deadline = time.monotonic() + 10
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert ref() is None, "the source buffer was never released"


def test_asarray_numpy_source_deleted_while_tasks_run(device):
    n = 1000003
    x = np.linspace(0.0, 1.0, n)
    expected = np.exp(x) * 3.0
    r = cb.exp(cb.asarray(x, device=device)) * 3.0
    del x
    gc.collect()
    assert_same(r, expected, rtol=1e-12)


@pytest.mark.parametrize("src,dtype", [
    (np.arange(5, dtype=np.int64), np.float32),
    (np.arange(5, dtype=np.float64) + 0.75, np.int32),
    (np.array([0.0, 1.5, -2.0]), np.bool_),
    (np.array([True, False]), np.int64),
    (np.arange(6, dtype=np.int32).reshape(2, 3), np.float64),
], ids=["i64-f32", "f64-i32", "f64-bool", "bool-i64", "2d-i32-f64"])
def test_asarray_dtype_conversion(src, dtype, device):
    a = cb.asarray(src, dtype=dtype, device=device)
    assert a.device == cb.get_device(device)
    assert_same(a, src.astype(dtype))


def test_asarray_unsupported_dtype_with_dtype_argument():
    x = np.arange(5, dtype=np.uint8)
    assert_same(cb.asarray(x, dtype=np.int32), x.astype(np.int32))
    assert_same(cb.asarray(np.arange(4, dtype=np.longdouble),
                           dtype="float32"),
                np.arange(4, dtype=np.float32))


def test_asarray_from_memoryview(device):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = cb.asarray(memoryview(x), device=device)
    assert_same(a, x)
    assert_same(cb.asarray(memoryview(np.arange(4, dtype=np.int32))),
                np.arange(4, dtype=np.int32))


@pytest.mark.parametrize("code,dtype", [("d", np.float64), ("f", np.float32),
                                        ("i", np.int32), ("q", np.int64),
                                        ("l", np.int64)])
def test_asarray_from_array_module(code, dtype):
    src = array.array(code, [3, 1, 4, 1, 5])
    a = cb.asarray(src)
    assert_same(a, np.array([3, 1, 4, 1, 5], dtype=dtype))
    assert_same(a * 2, np.array([6, 2, 8, 2, 10], dtype=dtype))


@pytest.mark.parametrize("obj", [
    [1, 2, 3], [1.0, 2, 3], [True, False], [], [[1, 2], [3, 4], [5, 6]],
    [[1.5, -2.0]], [[True], [False]],
], ids=str)
def test_asarray_from_lists(obj, device):
    a = cb.asarray(obj, device=device)
    assert_same(a, np.asarray(obj))


@pytest.mark.parametrize("obj", [3, -2.5, True, False, 2 ** 40,
                                 np.float32(1.5), np.int32(-4),
                                 np.float64(np.inf), np.bool_(True)],
                         ids=repr)
def test_asarray_from_scalars(obj, device):
    a = cb.asarray(obj, device=device)
    expected = np.asarray(obj)
    assert a.shape == () and a.ndim == 0 and a.size == 1
    assert_same(a, expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_asarray_list_with_dtype(dtype):
    assert_same(cb.asarray([0, 1, 2], dtype=dtype),
                np.asarray([0, 1, 2], dtype=dtype))


def test_asarray_of_array_returns_it_or_a_copy(opencl_device):
    a = cb.asarray(np.arange(4.0))
    assert cb.asarray(a) is a
    c = cb.asarray(a, copy=True)
    assert c is not a
    assert_same(c, np.arange(4.0))
    d = cb.asarray(a, dtype=np.int32)
    assert_same(d, np.arange(4, dtype=np.int32))
    e = cb.asarray(a, device=opencl_device)
    assert e.device == opencl_device
    assert_same(e, np.arange(4.0))


# ---- creation functions ------------------------------------------------------

CREATION_SHAPES = [(), 0, 5, (7,), (1000003,), (0, 5), (3, 4)]


@pytest.mark.parametrize("shape", CREATION_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zeros_ones(dtype, shape, device):
    z = cb.zeros(shape, dtype=dtype, device=device)
    o = cb.ones(shape, dtype=dtype, device=device)
    assert z.device == o.device == cb.get_device(device)
    assert_same(z, np.zeros(shape, dtype=dtype))
    assert_same(o, np.ones(shape, dtype=dtype))


@pytest.mark.parametrize("shape", [(), 4, (2, 3), (0,)], ids=str)
def test_empty(shape, device):
    e = cb.empty(shape, device=device)
    expected = np.empty(shape)
    assert e.shape == expected.shape
    assert e.dtype == np.float64
    assert e.device == cb.get_device(device)
    e32 = cb.empty(shape, dtype=np.int32)
    assert e32.dtype == np.int32
    # Writing over an empty array through an operation is fine.
    assert_same(cb.where(True, 1, e32), np.ones(shape, dtype=np.int32))


def test_default_dtypes():
    assert cb.zeros(3).dtype == np.float64
    assert cb.ones(3).dtype == np.float64
    assert cb.empty(3).dtype == np.float64


@pytest.mark.parametrize("shape,value,dtype", [
    ((3, 4), 2.5, None), (5, 7, None), (5, True, None), ((), -1.0, None),
    (6, 3, np.float32), (4, -2, np.int32), (4, 2 ** 40, np.int64),
    (3, 0.0, np.bool_), (3, 2.0, np.bool_), ((2, 2), np.nan, np.float64),
    (3, -np.inf, np.float32), (1000003, 0.5, np.float32),
    (5, np.float32(1.25), None), (5, np.int32(9), None),
    (3, 1.5, np.int32), (3, -2.7, np.int64),
], ids=lambda v: v.__name__ if isinstance(v, type) else repr(v))
def test_full(shape, value, dtype, device):
    a = cb.full(shape, value, dtype=dtype, device=device)
    assert_same(a, np.full(shape, value, dtype=dtype))


@pytest.mark.parametrize("args,kwargs", [
    ((10,), {}), ((0,), {}), ((1, 10, 2), {}), ((10, 0, -3), {}),
    ((5, 2), {}), ((2, 5, -1), {}), ((0, 1, 0.1), {}), ((-1.5, 2.0, 0.25), {}),
    ((1.0, -1.0, -0.3), {}), ((2.5,), {}), ((1, 5.5), {}),
    ((0, 5, 1.0), {}), ((5,), {"dtype": np.int32}),
    ((5,), {"dtype": np.float32}), ((0, 10, 3), {"dtype": np.float64}),
    ((-3, 3), {"dtype": np.int64}), ((1000003,), {}),
    ((0.0, 1000003.0, 1.0), {"dtype": np.float32}),
    ((-1000003, 0), {"dtype": np.int32}),
], ids=str)
def test_arange(args, kwargs, device):
    a = cb.arange(*args, device=device, **kwargs)
    expected = np.arange(*args, **kwargs)
    assert a.device == cb.get_device(device)
    assert_same(a, expected, rtol=1e-6 if expected.dtype == np.float32
                else 1e-12, atol=1e-12)


def test_full_int_out_of_range():
    """NumPy refuses a Python int that does not fit the integer dtype."""
    with pytest.raises(OverflowError):
        np.full(3, 2 ** 40, dtype=np.int32)
    with pytest.raises(OverflowError):
        cb.full(3, 2 ** 40, dtype=np.int32)
    with pytest.raises(OverflowError):
        cb.full(3, -2 ** 31 - 1, dtype=np.int32)
    assert_same(cb.full(3, -2 ** 31, dtype=np.int32),
                np.full(3, -2 ** 31, dtype=np.int32))


def test_arange_int_out_of_range():
    with pytest.raises(OverflowError):
        np.arange(2 ** 31 + 5, 2 ** 31 + 8, dtype=np.int32)
    with pytest.raises(OverflowError):
        cb.arange(2 ** 31 + 5, 2 ** 31 + 8, dtype=np.int32)


def test_arange_zero_step():
    with pytest.raises(ValueError):
        cb.arange(0, 10, 0)


def test_creation_ignores_unplaced_default():
    a = cb.arange(4)
    assert a.device is None
    assert_same(a + 1, np.arange(4) + 1)


# ---- attributes, views, conversions ----------------------------------------

def test_attributes():
    a = cb.asarray(np.zeros((3, 4), dtype=np.float32))
    assert a.shape == (3, 4) and isinstance(a.shape, tuple)
    assert a.dtype == np.dtype(np.float32)
    assert isinstance(a.dtype, np.dtype)
    assert a.ndim == 2
    assert a.size == 12
    assert a.device is None
    assert isinstance(a, cb.Array)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_numpy_and_asarray_are_read_only(dtype, device):
    x = sample(dtype).reshape(-1, 4) if sample(dtype).size % 4 == 0 \
        else sample(dtype)
    a = cb.asarray(x, device=device) * True  # a computed array
    for v in (a.numpy(), np.asarray(a), np.array(a, copy=False)):
        assert isinstance(v, np.ndarray)
        assert not v.flags.writeable
        assert v.dtype == (x * True).dtype
        np.testing.assert_array_equal(v, x * True)
    c = np.array(a)  # an explicit copy is writable
    assert c.flags.writeable
    c[...] = 0
    np.testing.assert_array_equal(a.numpy(), x * True)


def test_host_view_outlives_the_array(device):
    v = (cb.asarray(np.arange(1000.0), device=device) + 1).numpy()
    gc.collect()
    np.testing.assert_array_equal(v, np.arange(1000.0) + 1)


def test_arrays_hash_by_identity():
    """== is element-wise, so hashing is by identity (as awaitables need)."""
    a, b = cb.zeros(2), cb.zeros(2)
    assert hash(a) == hash(a) and len({a, b, a}) == 2


def test_dunder_array_dtype_and_copy():
    a = cb.asarray(np.arange(4, dtype=np.int32))
    v = np.asarray(a, dtype=np.float64)
    assert v.dtype == np.float64
    np.testing.assert_array_equal(v, [0.0, 1.0, 2.0, 3.0])
    c = np.array(a, copy=True)
    assert c.flags.writeable and not np.shares_memory(c, a.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_repr(dtype, device):
    x = np.array([1, 0, 1], dtype=dtype)
    a = cb.asarray(x, device=device)
    a.wait()
    r = repr(a)
    assert r.startswith("cambrian.Array(")
    assert "shape=(3,)" in r
    assert f"dtype={np.dtype(dtype).name}" in r
    assert cb.get_device(device).filter_string in r
    assert np.array2string(x, separator=", ") in r
    assert "auto" in repr(cb.asarray(x))
    assert "cambrian.Array(" in repr(cb.zeros((0, 5)))
    assert "cambrian.Array(" in repr(cb.asarray(2.5))


@pytest.mark.parametrize("value", [2.5, -3, True, False, 0, np.float32(1.5),
                                   np.int32(7)], ids=repr)
def test_scalar_conversions_0d(value):
    a = cb.asarray(value)
    x = np.asarray(value)
    assert float(a) == float(x)
    assert int(a) == int(x)
    assert bool(a) == bool(x)
    assert isinstance(float(a), float)
    assert isinstance(int(a), int)


def test_scalar_conversions_of_computed_0d(device):
    a = cb.asarray(np.float64(2.0), device=device)
    assert float(a * 3.5) == 7.0
    assert int(a * 3.5) == 7
    assert bool(a - 2.0) is False


@pytest.mark.parametrize("conv", [float, int, bool])
@pytest.mark.parametrize("x", [np.array([2.5]), np.array([[3]]),
                               np.array([1.0, 2.0]), np.array([], float)],
                         ids=["1d-1", "2d-1", "1d-2", "empty"])
def test_scalar_conversions_follow_numpy(conv, x):
    """Size-1 arrays of ndim > 0 and other sizes convert as NumPy's do:
    same value, or same exception type."""
    a = cb.asarray(x)
    try:
        expected = conv(x)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        with pytest.raises(type(e)):
            conv(a)
    else:
        assert conv(a) == expected


def test_len():
    assert len(cb.asarray(np.zeros(7))) == 7
    assert len(cb.asarray(np.zeros((3, 4)))) == 3
    assert len(cb.asarray(np.zeros((0, 5)))) == 0
    with pytest.raises(TypeError):
        len(cb.asarray(1.0))


@pytest.mark.parametrize("to", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("src", DTYPES, ids=dtype_id)
def test_astype(src, to, device):
    if np.dtype(src).kind == "f":
        x = np.array([0.0, -0.0, 1.75, -2.5, 3.0, 100.25, -7.9], dtype=src)
    else:
        x = sample(src)
    a = cb.asarray(x, device=device)
    b = a.astype(to)
    assert b.device == a.device
    assert_same(b, x.astype(to))


def test_astype_accepts_names_and_types():
    a = cb.asarray(np.arange(3))
    assert a.astype("float32").dtype == np.float32
    assert a.astype(float).dtype == np.float64
    assert a.astype(bool).dtype == np.bool_
    assert a.astype(np.dtype("int32")).dtype == np.int32


def test_astype_same_dtype_is_a_copy():
    x = np.arange(4.0)
    a = cb.asarray(x, device="cpu")
    b = a.astype(np.float64)
    assert b is not a
    assert not np.shares_memory(b.numpy(), x)
    assert_same(b, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_copy(dtype, device):
    x = sample(dtype)
    a = cb.asarray(x, device=device)
    b = a.copy()
    assert b is not a
    assert b.device == a.device
    assert_same(b, x)
    assert not np.shares_memory(b.numpy(), x)


# ---- migration ----------------------------------------------------------------

@pytest.mark.parametrize("shape", [(7,), (1000003,), (3, 4)], ids=str)
def test_to_device_round_trip(shape, opencl_device):
    cpu = cb.get_device("cpu")
    x = data(shape, np.float32)
    a = cb.asarray(x, device="cpu")
    b = a.to_device(opencl_device.filter_string)
    assert b.device == opencl_device
    assert a.device == cpu, "to_device must not move the original handle"
    assert_same(b, x)
    c = b * 2
    assert c.device == opencl_device
    assert_same(c, x * 2)
    d = c.to_device(cpu)
    assert d.device == cpu
    e = d + 1
    assert e.device == cpu
    assert_same(e, x * 2 + 1)
    # From automatic placement, and back to it.
    f = cb.asarray(x).to_device(opencl_device)
    assert f.device == opencl_device
    assert_same(f - a.to_device(opencl_device), np.zeros(shape, np.float32))
    g = f.to_device("auto")
    assert g.device is None
    assert_same(g, x)


def test_to_device_unknown():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    a = cb.asarray(np.arange(3.0))
    with pytest.raises(cb.DeviceNotFoundError):
        a.to_device("gpu")
    assert_same(a + 1, np.arange(3.0) + 1)
