"""Synchronous misuse raises ValueError/TypeError at the call, and the
process keeps working afterwards (each test ends with a correct operation
on every device, through the autouse fixture)."""

import ctypes

import numpy as np
import pytest

import cambrian as cb
from helpers import assert_alive, assert_same


@pytest.fixture(autouse=True)
def _still_working_afterwards():
    yield
    assert_alive()


# ---- shapes --------------------------------------------------------------------

@pytest.mark.parametrize("xs,ys", [((3,), (4,)), ((3, 4), (4, 3)),
                                   ((12,), (3, 4)), ((0,), (2,)),
                                   ((2, 1, 3), (4, 3, 1)), ((0, 5), (5, 0))],
                         ids=str)
def test_shape_mismatch(xs, ys, device):
    a = cb.ones(xs, device=device)
    b = cb.ones(ys, device=device)
    with pytest.raises(ValueError):
        a + b
    with pytest.raises(ValueError):
        cb.maximum(b, a)
    with pytest.raises(ValueError):
        a < b
    with pytest.raises(ValueError):
        cb.where(cb.ones(xs, dtype=bool, device=device), a, b)
    assert_same(a + a, np.full(xs, 2.0))


def test_shape_mismatch_with_numpy_operand():
    a = cb.ones(3)
    with pytest.raises(ValueError):
        a + np.ones(4)
    assert_same(a + np.ones(3), np.full(3, 2.0))


# ---- dtypes --------------------------------------------------------------------

@pytest.mark.parametrize("x", [np.arange(4, dtype=np.longdouble),
                               np.arange(4, dtype=">f8"),
                               np.arange(4, dtype=">i4"),
                               np.arange(4, dtype=">f2"),
                               np.ones(3, dtype=np.clongdouble),
                               np.ones(3, dtype=">c16"),
                               np.array(["a", "b"])],
                         ids=lambda x: x.dtype.name)
def test_unsupported_dtype(x, device):
    with pytest.raises(TypeError):
        cb.asarray(x, device=device)
    with pytest.raises(TypeError):
        cb.asarray(memoryview(x), device=device)
    with pytest.raises(TypeError):
        cb.asarray(x, device=device)


@pytest.mark.parametrize("dtype", [np.longdouble, np.clongdouble,
                                   "float128", "S3", object])
def test_unsupported_dtype_argument(dtype):
    with pytest.raises(TypeError):
        cb.zeros(3, dtype=dtype)
    with pytest.raises(TypeError):
        cb.empty(3, dtype=dtype)
    with pytest.raises(TypeError):
        cb.asarray(cb.ones(3)).astype(dtype)


def test_unsupported_numpy_operand():
    a = cb.ones(3)
    with pytest.raises(TypeError):
        a + np.ones(3, dtype=np.longdouble)
    with pytest.raises(TypeError):
        a + np.clongdouble(1j)


@pytest.mark.parametrize("op", ["sqrt", "exp", "log", "sin", "cos", "tanh",
                                "divide"])
def test_operation_type_errors(op):
    """bool - bool and -bool raise TypeError; bool ** bool is int8; math
    functions of bool give float16, as NumPy's."""
    b = cb.asarray(np.array([True, False]))
    with pytest.raises(TypeError):
        b - b
    with pytest.raises(TypeError):
        -b
    assert (b ** b).dtype == np.int8
    with pytest.raises(TypeError):
        cb.subtract(b, True)
    # ... while the rest is fine on bools:
    fn = getattr(cb, op)
    r = fn(b) if op != "divide" else fn(b, b)
    assert r.dtype == (np.float16 if op != "divide" else np.float64)


# ---- dimensions and layout -------------------------------------------------------

def test_nine_dimensions(device):
    """Arrays have up to 8 dimensions; a ninth is refused at every door."""
    x = np.zeros((1,) * 9)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.asarray(x, device=device)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.asarray(x, device=device, copy=True)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.asarray(x.tolist(), device=device)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.zeros((1,) * 9, device=device)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.empty((1,) * 9, device=device)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.full((1,) * 9, 1.0, device=device)
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.ones(1) + np.ones((1,) * 9)
    assert_same(cb.ones((1,) * 8, device=device) + 1, np.full((1,) * 8, 2.0))


class _CountedShape:
    """A sequence of n ones that counts the items read from it."""

    def __init__(self, n):
        self.n, self.read = n, 0

    def __len__(self):
        return self.n

    def __iter__(self):
        for _ in range(self.n):
            self.read += 1
            yield 1


@pytest.mark.parametrize("make", [
    lambda g, s: cb.zeros(s), lambda g, s: cb.empty(s),
    lambda g, s: cb.full(s, 2), lambda g, s: g.input("x", s)])
def test_a_long_shape_is_refused_before_its_items_are_read(make):
    """A shape of millions of items (an Array passed as a shape) is
    refused after reading at most one item more than arrays may have:
    reading them all made millions of objects first."""
    s = _CountedShape(10**7)
    g = cb.Graph()
    with pytest.raises(ValueError, match="at most 8 dimensions"), g:
        make(g, s)
    assert s.read <= 9
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.zeros(cb.full(10**6, 1, dtype=cb.int64))


@pytest.mark.parametrize("make", [
    lambda: np.arange(20.0)[::2],
    lambda: np.arange(12, dtype=np.int32).reshape(3, 4).T,
    lambda: np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    lambda: np.arange(24.0).reshape(4, 6)[:, 1:3],
    lambda: np.arange(10, dtype=np.float32)[::-1],
], ids=["step", "transpose", "fortran", "columns", "reversed"])
def test_non_contiguous(make, device):
    x = make()
    with pytest.raises(ValueError, match="contiguous"):
        cb.asarray(x, device=device)
    with pytest.raises(ValueError):
        cb.asarray(memoryview(x), device=device)
    a = cb.asarray(x, device=device, copy=True)
    assert_same(a, np.ascontiguousarray(x))
    assert_same(a + a, x + x)
    # A NumPy operand of an operation follows the same rule.
    with pytest.raises(ValueError):
        a + x


# ---- devices -----------------------------------------------------------------------

def test_unknown_device():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.get_device("gpu")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.asarray(np.ones(3), device="gpu")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.zeros(3, device="opencl:gpu:0")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.arange(3, device="accelerator")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.ones(3).to_device("gpu")


def test_bad_device_filter():
    with pytest.raises(ValueError):
        cb.asarray(np.ones(3), device="warp-drive")
    with pytest.raises(ValueError):
        cb.zeros(3, device="opencl:cpu:0:1")


def test_arrays_on_two_devices(opencl_device):
    a = cb.asarray(np.arange(4.0), device="cpu")
    b = cb.asarray(np.arange(4.0), device=opencl_device)
    for f in (lambda: a + b, lambda: b * a, lambda: cb.maximum(a, b),
              lambda: a == b, lambda: cb.where(a > 1, a, b),
              lambda: cb.where(b > 1, a, 0.0)):
        with pytest.raises(ValueError, match="to_device"):
            f()
    # Moving one fixes it.
    assert_same(a + b.to_device("cpu"), np.arange(4.0) * 2)
    assert_same(a.to_device(opencl_device) + b, np.arange(4.0) * 2)


def test_zero_d_on_another_device(opencl_device):
    a = cb.asarray(np.arange(4.0), device="cpu")
    z = cb.asarray(2.0, device=opencl_device)
    with pytest.raises(ValueError, match="to_device"):
        a * z


# ---- operands ---------------------------------------------------------------------

@pytest.mark.parametrize("other", ["x", None, object(), {"a": 1}, b"ab",
                                   bytearray(b"ab")], ids=repr)
def test_unsupported_operand_type(other):
    a = cb.asarray(np.arange(3.0))
    with pytest.raises(TypeError):
        a + other
    with pytest.raises(TypeError):
        other * a
    with pytest.raises(TypeError):
        cb.add(a, other)
    with pytest.raises(TypeError):
        cb.where(a > 0, other, a)


def test_functions_need_an_array():
    # Operations over scalars only are not what cambrian is for.
    with pytest.raises((TypeError, ValueError)):
        cb.add(1, 2)
    with pytest.raises((TypeError, ValueError)):
        cb.sqrt(2.0)


def test_arange_arguments():
    with pytest.raises(ValueError):
        cb.arange(0, 10, 0)
    with pytest.raises(TypeError):
        cb.arange(5, dtype=np.longdouble)
    with pytest.raises(TypeError):
        cb.arange(5, dtype=bool)


# ---- read-only host views -------------------------------------------------------

def test_numpy_view_is_read_only(device):
    a = cb.asarray(np.arange(5.0), device=device) + 1
    v = a.numpy()
    with pytest.raises(ValueError):
        v[0] = 42.0
    with pytest.raises(ValueError):
        v += 1
    with pytest.raises(ValueError):
        v.setflags(write=True)
    w = np.asarray(a)
    with pytest.raises(ValueError):
        w[:] = 0
    with pytest.raises(ValueError):
        np.add(w, 1, out=w)
    assert_same(a, np.arange(5.0) + 1)


def test_writable_buffer_refused():
    a = cb.asarray(np.arange(5.0))
    m = memoryview(a)
    assert m.readonly
    with pytest.raises(TypeError):
        m[0] = 1.0
    with pytest.raises((BufferError, TypeError)):
        (ctypes.c_double * 5).from_buffer(a)
    with pytest.raises(ValueError):
        np.frombuffer(a, dtype=np.float64)[0] = 1.0
    assert_same(a, np.arange(5.0))


def test_runtime_survives_many_errors(device):
    a = cb.asarray(np.arange(4.0), device=device)
    for _ in range(200):
        with pytest.raises(ValueError):
            a + cb.ones(5, device=device)
        with pytest.raises(TypeError):
            a + "x"
        with pytest.raises(OverflowError):
            cb.asarray(np.arange(3, dtype=np.int32), device=device) + 2 ** 40
    assert_same(a * a, np.arange(4.0) ** 2)
