"""complex64 and complex128 against NumPy 2 (values and dtypes) on every
device under test: conversions, promotion, element-wise operations,
casts, creation, the namespace's dtype functions, and what is refused."""

import pickle
import warnings

import numpy as np
import pytest

import cambrian as cb
from helpers import DTYPES

COMPLEX = [np.dtype(np.complex64), np.dtype(np.complex128)]


def tol(dtype):
    """Relative tolerance of results of dtype, against NumPy's."""
    return 2e-6 if np.dtype(dtype) in (np.complex64, np.float32) else 1e-13


def values(dtype, n=64, offset=0.0):
    """Moderate values off both axes, so off every branch cut."""
    i = np.arange(n)
    re = (i % 17) / 13.0 - 0.6 + offset
    im = (i % 11) / 9.0 - 0.55 + offset / 2
    return (re + 1j * im).astype(dtype)


def check(got, want, dtype=None):
    """got (an Array) has want's dtype and shape and its values within
    the tolerance of that dtype (NaN where want has NaN)."""
    want = np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    g = got.numpy()
    assert g.shape == want.shape
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(g, want, rtol=tol(dtype or want.dtype),
                                   atol=tol(dtype or want.dtype),
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(g, want)


def skip_without_fp64(dtype, device):
    if np.dtype(dtype) == np.complex128 and not all(
            d.fp64 for d in cb.devices(device)):
        pytest.skip(f"{device} has no float64")


# ---- conversions --------------------------------------------------------------

@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_round_trip(dtype, device):
    skip_without_fp64(dtype, device)
    x = values(dtype)
    a = cb.asarray(x, device=device)
    assert a.dtype == dtype
    np.testing.assert_array_equal(a.numpy(), x)
    np.testing.assert_array_equal(np.asarray(a), x)
    assert memoryview(a).format == ("Zf" if dtype == np.complex64 else "Zd")
    np.testing.assert_array_equal(np.from_dlpack(a), x)
    np.testing.assert_array_equal(cb.from_dlpack(x).numpy(), x)
    assert a[3].item() == complex(x[3])
    assert a.tolist() == x.tolist()
    assert complex(a[5]) == complex(x[5])
    assert "j" in repr(a)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).numpy(), x)


def test_python_complex_scalars_and_lists(device):
    a = cb.asarray([1 + 2j, 3.5 - 1j], device=device)
    assert a.dtype == np.complex128
    assert cb.asarray(1j).dtype == np.complex128
    assert cb.asarray([1, 2j], dtype=cb.complex64).dtype == np.complex64
    np.testing.assert_array_equal(a.numpy(), [1 + 2j, 3.5 - 1j])


# ---- promotion ----------------------------------------------------------------

@pytest.mark.parametrize("other", DTYPES + COMPLEX, ids=str)
@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_promotion_with_arrays(dtype, other, device):
    want = np.result_type(dtype, other)
    skip_without_fp64(want, device)
    x = values(dtype, 8)
    y = (np.arange(8) % 3 + 1).astype(other)
    a = cb.asarray(x, device=device)
    b = cb.asarray(y, device=device)
    check(a + b, x + y)
    check(b * a, y * x)
    assert cb.result_type(a, b) == want
    assert cb.result_type(dtype, other) == want


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int64, np.uint64,
                                   np.float32, np.float64, np.complex64,
                                   np.complex128], ids=lambda t: t.__name__)
def test_python_complex_is_weak(dtype, device):
    """A Python complex keeps complex dtypes, makes float32 complex64 and
    the others complex128 (NEP 50)."""
    want = np.result_type(np.dtype(dtype), 1j)
    skip_without_fp64(want, device)
    y = (np.arange(5) % 2).astype(dtype)
    b = cb.asarray(y, device=device)
    check(b + (2 - 0.5j), y + (2 - 0.5j))
    check((2 - 0.5j) * b, (2 - 0.5j) * y)
    assert cb.result_type(b, 1j) == want


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_real_scalars_and_numpy_scalars(dtype, device):
    skip_without_fp64(np.complex128, device)
    x = values(dtype, 8)
    a = cb.asarray(x, device=device)
    check(a * 2.5, x * 2.5)
    check(a - 3, x - 3)
    check(a / True, x / True)
    check(a + np.complex128(1 - 1j), x + np.complex128(1 - 1j))
    check(a + np.float64(2), x + np.float64(2))
    check(np.complex64(2j) * a, np.complex64(2j) * x)


# ---- element-wise operations -----------------------------------------------

UNARY = ["negative", "positive", "absolute", "conj", "real", "imag", "sqrt",
         "exp", "log", "expm1", "log1p", "log2", "log10", "sin", "cos",
         "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
         "arcsinh", "arccosh", "arctanh", "square", "sign", "isnan",
         "isinf", "isfinite", "logical_not", "reciprocal", "round"]


@pytest.mark.parametrize("op", UNARY)
@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_unary(dtype, op, device):
    skip_without_fp64(dtype, device)
    x = values(dtype)
    a = cb.asarray(x, device=device)
    check(getattr(cb, op)(a), getattr(np, op)(x), dtype)


BINARY = ["add", "subtract", "multiply", "divide", "power", "equal",
          "not_equal", "logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_binary(dtype, op, device):
    skip_without_fp64(dtype, device)
    x, y = values(dtype), values(dtype, offset=0.3)
    y[::5] = x[::5]   # some equal pairs
    y[1::7] = 0       # and some zeros, for the logical operations
    if op in ("divide", "power"):
        y[1::7] = 0.5 - 0.25j
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    check(getattr(cb, op)(a, b), getattr(np, op)(x, y), dtype)
    check(getattr(cb, op)(a, y[3].item()), getattr(np, op)(x, y[3].item()),
          dtype)


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_operators_and_powers(dtype, device):
    skip_without_fp64(dtype, device)
    x = values(dtype)
    a = cb.asarray(x, device=device)
    check(-a, -x)
    check(abs(a), abs(x))
    check(a ** 2, x ** 2)
    check(a ** -3, x ** -3)
    check(a ** 0, x ** 0)
    check(a ** 0.5, x ** 0.5)
    check(a ** (1 + 1j), x ** (1 + 1j))
    check(2 ** a, 2 ** x)
    check(a == a, x == x)
    check(a != 1j, x != 1j)
    c = a.copy()
    c *= 2j
    check(c, x * 2j)


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_special_values_classify_as_numpy(dtype, device):
    skip_without_fp64(dtype, device)
    inf, nan = np.inf, np.nan
    x = np.array([complex(inf, 0), complex(0, -inf), complex(nan, 1),
                  complex(1, nan), complex(inf, nan), 1 + 1j, 0j,
                  complex(inf, -inf), complex(-inf, inf)], dtype=dtype)
    a = cb.asarray(x, device=device)
    for op in ("isnan", "isinf", "isfinite"):
        check(getattr(cb, op)(a), getattr(np, op)(x))
    check(cb.real(a), np.real(x))
    check(cb.imag(a), np.imag(x))
    with np.errstate(all="ignore"):
        check(cb.sign(a), np.sign(x))
        e, want = cb.exp(a).numpy(), np.exp(x)
    for part in (np.real, np.imag):    # exp: C99's infinities and NaNs
        np.testing.assert_array_equal(np.isnan(part(e)),
                                      np.isnan(part(want)))
        np.testing.assert_array_equal(np.isinf(part(e)),
                                      np.isinf(part(want)))
    check(cb.sign(cb.asarray(np.array([0j, 3 + 4j], dtype=dtype),
                             device=device)),
          np.sign(np.array([0j, 3 + 4j], dtype=dtype)))


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_where(dtype, device):
    skip_without_fp64(np.complex128, device)
    x = values(dtype, 10)
    c = np.arange(10) % 3 == 0
    a = cb.asarray(x, device=device)
    check(cb.where(cb.asarray(c, device=device), a, 1j),
          np.where(c, x, np.array(1j, dtype=dtype)))
    check(cb.where(cb.asarray(c, device=device), a, 2.0), np.where(c, x, 2.0)
          .astype(dtype))


REFUSED = ["less", "less_equal", "greater", "greater_equal", "maximum",
           "minimum", "floor_divide", "remainder", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_left_shift", "arctan2",
           "hypot", "copysign", "logaddexp"]
REFUSED_UNARY = ["floor", "ceil", "trunc", "signbit",
                 "bitwise_invert", "exp2"]


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_refused_operations_raise_type_error(dtype, device):
    skip_without_fp64(dtype, device)
    a = cb.asarray(values(dtype, 4), device=device)
    for op in REFUSED:
        with pytest.raises(TypeError, match="not supported for complex"):
            getattr(cb, op)(a, a)
    for op in REFUSED_UNARY:
        with pytest.raises(TypeError, match="not supported for complex"):
            getattr(cb, op)(a)
    with pytest.raises(TypeError):
        a < a
    with pytest.raises(TypeError):
        a // 2
    with pytest.raises(TypeError):
        a % 2
    for n in (3, 4, 1000):  # not taken for an integer range on the way
        with pytest.raises(TypeError):
            cb.arange(n, dtype=dtype)
    # Real arrays refuse a complex operand where complex has no loop.
    with pytest.raises(TypeError):
        cb.maximum(cb.ones(3, device=device), 1j)


def test_complex128_refused_without_float64():
    """complex128 is refused at the call on a device without float64, as
    float64 is."""
    lacking = [d for d in cb.devices("opencl") if not d.fp64]
    if not lacking:
        pytest.skip("every OpenCL device here computes in float64")
    for d in lacking:
        with pytest.raises(TypeError, match="does not support complex128"):
            cb.asarray(values(np.complex64), device=d) + 1j + \
                cb.ones(64, dtype=cb.complex128, device=d)


# ---- casts and creation ---------------------------------------------------------

@pytest.mark.parametrize("target", DTYPES + COMPLEX, ids=str)
@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_astype_from_complex(dtype, target, device):
    skip_without_fp64(np.complex128, device)
    x = np.array([1.5 - 2j, -3.25 + 1j, 1j, 0, 7.75 + 0.5j], dtype=dtype)
    if np.dtype(target).kind == "u":
        x = x.real.astype(dtype)    # negative values to unsigned: NumPy
    a = cb.asarray(x, device=device)  # leaves them platform-defined
    if np.dtype(target).kind in "cb":     # nothing discarded: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check(a.astype(target), x.astype(target))
        return
    with pytest.warns(np.exceptions.ComplexWarning):
        got = a.astype(target)
    with pytest.warns(np.exceptions.ComplexWarning):  # as np.asarray does
        converted = cb.asarray(x, dtype=target, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = x.astype(target)
    check(got, want, target)
    check(converted, want, target)


@pytest.mark.parametrize("source", DTYPES, ids=str)
@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_astype_to_complex(dtype, source, device):
    skip_without_fp64(np.complex128, device)
    x = (np.arange(6) % 4).astype(source)
    a = cb.asarray(x, device=device)
    check(a.astype(dtype), x.astype(dtype))
    check(cb.astype(a, dtype), x.astype(dtype))


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_creation(dtype, device):
    skip_without_fp64(dtype, device)
    check(cb.zeros((2, 3), dtype=dtype, device=device),
          np.zeros((2, 3), dtype))
    check(cb.ones(4, dtype=dtype, device=device), np.ones(4, dtype))
    check(cb.full(3, 1.5 - 2j, dtype=dtype, device=device),
          np.full(3, 1.5 - 2j, dtype))
    check(cb.full(2, 3, dtype=dtype, device=device), np.full(2, 3, dtype))
    assert cb.empty(5, dtype=dtype, device=device).dtype == dtype
    check(cb.zeros_like(cb.ones(2, dtype=dtype, device=device)),
          np.zeros(2, dtype))
    check(cb.full(2, 2j, device=device), np.full(2, 2j))


def test_dtype_functions():
    assert cb.complex64 is np.complex64 and cb.complex128 is np.complex128
    for t in COMPLEX:
        f, nf = cb.finfo(t), np.finfo(t)
        assert (f.bits, f.eps, f.max, f.min, f.smallest_normal) == (
            nf.bits, nf.eps, nf.max, nf.min, nf.smallest_normal)
        assert f.dtype == nf.dtype
        assert cb.isdtype(t, "complex floating")
        assert cb.isdtype(t, "numeric")
        assert not cb.isdtype(t, "real floating")
    assert not cb.isdtype(cb.float64, "complex floating")
    assert cb.can_cast(cb.float32, cb.complex64)
    assert not cb.can_cast(cb.complex64, cb.float64)
    assert cb.result_type(cb.int64, cb.complex64) == np.complex128
    assert cb.result_type(cb.float32, cb.complex64) == np.complex64
    assert cb.result_type(cb.float64, cb.complex64) == np.complex128
    assert cb.result_type(cb.float32, 1j) == np.complex64


# ---- reductions and products ---------------------------------------------------

@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_reductions(dtype, device):
    skip_without_fp64(np.complex128, device)   # mean of parts: float64
    x = values(dtype, 60).reshape(3, 4, 5)
    a = cb.asarray(x, device=device)
    for name in ("sum", "prod", "mean"):
        for axis in (None, 0, 1, 2, (0, 2)):
            check(getattr(cb, name)(a, axis=axis),
                  getattr(np, name)(x, axis=axis), dtype)
        check(getattr(cb, name)(a, axis=1, keepdims=True),
              getattr(np, name)(x, axis=1, keepdims=True), dtype)
    check(cb.var(a), np.var(x), dtype)
    check(cb.std(a, axis=0), np.std(x, axis=0), dtype)
    check(cb.linalg.vector_norm(a), np.linalg.vector_norm(x), dtype)
    check(cb.linalg.vector_norm(a, ord=1, axis=2),
          np.linalg.vector_norm(x, ord=1, axis=2), dtype)
    check(cb.norm(a), np.linalg.norm(x.ravel()), dtype)
    check(cb.cumulative_sum(a, axis=1), np.cumulative_sum(x, axis=1), dtype)
    check(cb.sum(cb.asarray(np.zeros(0, dtype), device=device)),
          np.sum(np.zeros(0, dtype)))
    for name in ("min", "max", "argmax"):
        with pytest.raises(TypeError):
            getattr(cb, name)(a)
    # The Array methods take complex arrays the same way.
    check(a.sum(), x.sum(), dtype)
    check(a.mean(axis=1), x.mean(axis=1), dtype)
    with pytest.raises(TypeError):
        a.max()
    v, w = x[0, 0], x[1, 1]
    check(cb.asarray(v, device=device).dot(cb.asarray(w, device=device)),
          np.dot(v, w), dtype)
    check(cb.asarray(v.real.copy(), device=device).dot(
        cb.asarray(w, device=device)), np.dot(v.real, w), dtype)


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_infinite_parts_survive_sums(dtype, device):
    """The parts of a sum are put back as they are: an infinite imaginary
    sum leaves the real one alone."""
    skip_without_fp64(np.complex128, device)
    x = np.array([1 + 1j, complex(2, np.inf), 3 - 1j], dtype=dtype)
    check(cb.sum(cb.asarray(x, device=device)), np.sum(x))


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_products(dtype, device):
    skip_without_fp64(np.complex128, device)
    x, y = values(dtype, 12).reshape(3, 4), values(dtype, 20, 0.2)
    y = y.reshape(4, 5)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    check(a @ b, x @ y, dtype)
    check(cb.matmul(a, b[:, 0]), x @ y[:, 0], dtype)
    check(a.T, x.T)
    check(cb.matrix_transpose(b), y.T)
    check(cb.vecdot(a, a), np.vecdot(x, x), dtype)     # conjugates x1
    check(cb.vecdot(b, b, axis=0), np.vecdot(y, y, axis=0), dtype)
    check(cb.dot(a[0], b[:, 1]), np.dot(x[0], y[:, 1]), dtype)
    check(cb.tensordot(a, b, axes=1), np.tensordot(x, y, axes=1), dtype)
    s = x[:, :3] + 3 * np.eye(3, dtype=dtype)
    check(cb.linalg.inv(cb.asarray(s, device=device)), np.linalg.inv(s),
          np.complex64 if dtype == np.complex64 else None)
    check(cb.linalg.matrix_norm(a), np.linalg.matrix_norm(x), dtype)


def test_kernel_sees_complex_as_float2(opencl_device):
    """A custom kernel reads a complex64 array through float2 (x the real
    part, y the imaginary)."""
    k = cb.Kernel("""
__kernel void swap(__global const float2 *z, __global float2 *w) {
  size_t i = get_global_id(0);
  w[i] = (float2)(z[i].y, z[i].x);
}""", "swap")
    x = values(np.complex64, 16)
    a = cb.asarray(x, device=opencl_device)
    b = cb.empty(16, dtype=cb.complex64, device=opencl_device)
    k((16,), a, cb.Out(b)).result()
    np.testing.assert_array_equal(b.numpy(), x.imag + 1j * x.real)


def test_graphs_record_complex_element_wise_work():
    n = 8
    x = values(np.complex64, n)
    with cb.Graph() as g:
        v = g.input("x", (n,), cb.complex64)
        g.output("y", cb.exp(v) * (1 - 1j) + cb.conj(v) * 2)
    check(g.run(x=x)["y"], np.exp(x) * (1 - 1j) + np.conj(x) * 2)


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_large_and_signed_zero_arguments(dtype, device):
    """Inverse functions of large arguments do not overflow (z**2 would),
    and asinh is odd down to signed zeros, as NumPy's."""
    skip_without_fp64(dtype, device)
    x = np.array([1.8e19 + 3e16j, -3e6 - 2j, 1e5 + 1e5j, 0j,
                  complex(-0.0, 0.0)], dtype=dtype)
    a = cb.asarray(x, device=device)
    for op in ("arcsin", "arccos", "arcsinh", "arccosh", "arctan",
               "arctanh"):
        check(getattr(cb, op)(a), getattr(np, op)(x), dtype)
    got = cb.arcsinh(a).numpy()
    assert np.signbit(got[4].real) == np.signbit(np.arcsinh(x[4]).real)
    check(cb.expm1(cb.asarray(np.array([complex(np.inf, 0)], dtype),
                              device=device)),
          np.array([complex(np.inf, 0)], dtype))


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_blas_routines(dtype, device):
    """gemm and gemv of complex arrays, in place, with real alpha and beta
    (cblas_?gemm on CPU workers, CLBlast on OpenCL devices)."""
    skip_without_fp64(dtype, device)
    x, y = values(dtype, 40).reshape(8, 5), values(dtype, 30, 0.1)
    y = y.reshape(5, 6)
    c0 = values(dtype, 48, -0.2).reshape(8, 6)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    c = cb.asarray(c0.copy(), device=device)
    cb.gemm(2.0, a, b, -0.5, c)
    check(c, 2 * (x @ y) - 0.5 * c0, dtype)
    c = cb.asarray(c0[:5, :5].copy(), device=device)
    cb.gemm(1.0, a, cb.asarray(x, device=device), 0.0, c, trans_a=True)
    check(c, x.T @ x, dtype)
    v = cb.asarray(c0[:, 0].copy(), device=device)
    cb.gemv(1.5, a, b[:, 2], 1.0, v)
    check(v, 1.5 * (x @ y[:, 2]) + c0[:, 0], dtype)


def test_numpy_functions_dispatch_to_tasks(device):
    x = values(np.complex128, 6)
    a = cb.asarray(x, device=device)
    for fn in (np.conjugate, np.real, np.imag, np.sqrt, np.abs):
        got = fn(a)
        assert isinstance(got, cb.Array), fn.__name__
        check(got, fn(x))
    check(np.add(a, 1j), x + 1j)
    check(np.sum(a, axis=0), np.sum(x, axis=0))


WIDE = ["sqrt", "exp", "log", "expm1", "log1p", "log2", "log10", "sin",
        "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
        "arcsinh", "arccosh", "arctanh", "reciprocal", "square", "sign",
        "absolute"]


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_wide_range_within_a_few_ulp(dtype, device):
    """Finite arguments of magnitudes 1e-8 to 50 in both parts and every
    quadrant (no overflow): each result within 32 ulp of NumPy's,
    relative to its magnitude."""
    skip_without_fp64(dtype, device)
    rng = np.random.default_rng(7)
    n = 4000
    mag = 10 ** rng.uniform(-8, np.log10(50), (2, n))
    sign = rng.choice([-1.0, 1.0], (2, n))
    x = (sign[0] * mag[0] + 1j * sign[1] * mag[1]).astype(dtype)
    a = cb.asarray(x, device=device)
    eps = np.finfo(dtype).eps
    bad = {}
    for op in WIDE:
        got = getattr(cb, op)(a).numpy()
        with np.errstate(all="ignore"):
            want = getattr(np, op)(x)
        assert np.isfinite(got).all(), op
        # NumPy's log1p is log(1 + z): near 0 its own error is a few ulp
        # of 1, not of its result, so it is compared at that scale.
        scale = np.maximum(np.abs(want), 1) if op == "log1p" \
            else np.abs(want)
        ulps = (np.abs(got - want) / scale).max() / eps
        if ulps > 32:
            bad[op] = float(ulps)
    assert not bad, bad


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_arccos_near_one_keeps_its_digits(dtype, device):
    """Near 1, acos(z) is small: computed as pi/2 - asin(z), it would
    cancel down to a few right digits."""
    skip_without_fp64(dtype, device)
    digits = 7 if dtype == np.complex64 else 15
    d = 10.0 ** -np.arange(1, digits + 1)
    x = np.concatenate([1 - d, -1 + d, 1 - d + 1e-3j * d,
                        1 - d - 1e-3j * d]).astype(dtype)
    got = cb.arccos(cb.asarray(x, device=device)).numpy()
    want = np.arccos(x)
    err = np.abs(got - want) / np.abs(want)
    assert err.max() <= 32 * np.finfo(dtype).eps, err.max()


def test_truth_reductions(device):
    x = np.array([[1j, 0], [0, 0], [2, -1j]], dtype=np.complex64)
    a = cb.asarray(x, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(cb.any(a, axis=1), np.any(x, axis=1))
        check(cb.all(a, axis=0), np.all(x, axis=0))
        check(cb.count_nonzero(a), np.count_nonzero(x))


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_expm1_of_infinite_real_parts(dtype, device):
    """exp(z) - 1 where the real part is infinite: -1 from -inf, and exp's
    infinite result from +inf, whatever the imaginary part."""
    skip_without_fp64(dtype, device)
    inf, nan = np.inf, np.nan
    x = np.array([complex(-inf, inf), complex(-inf, nan), complex(-inf, 2),
                  complex(inf, 0), complex(inf, inf), complex(inf, nan)],
                 dtype=dtype)
    got = cb.expm1(cb.asarray(x, device=device)).numpy()
    np.testing.assert_array_equal(got[:3].real, -1)
    np.testing.assert_array_equal(got[:3].imag, 0)
    assert got[3] == complex(inf, 0)
    assert np.isinf(got[4:].real).all() and np.isnan(got[4:].imag).all()



@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_expm1_of_zeros_has_a_positive_zero_real_part(dtype, device):
    """exp(z) - 1 of +0 or -0 with a zero imaginary part is +0 with that
    imaginary part, as the Array API says (NumPy gives -0 from -0)."""
    skip_without_fp64(dtype, device)
    x = np.array([complex(-0.0, 0.0), complex(0.0, 0.0),
                  complex(-0.0, -0.0), complex(0.0, -0.0)], dtype=dtype)
    got = cb.expm1(cb.asarray(x, device=device)).numpy()
    np.testing.assert_array_equal(got, 0)
    assert not np.signbit(got.real).any(), got
    np.testing.assert_array_equal(np.signbit(got.imag),
                                  [False, False, True, True])

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, np.nan]
CLASSIFIED = ["sqrt", "exp", "log", "log1p", "log2", "log10", "sin", "cos",
              "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
              "arcsinh", "arccosh", "arctanh", "square", "sign",
              "absolute"]


def test_special_values_give_numpy_infinities_and_nans(device):
    """Over every pair of parts from 0, -0, 1, -1, 2.5, inf, -inf and NaN,
    each part of each result is NaN, infinite or finite where NumPy's is
    (expm1 follows the Array API instead, and reciprocal of 0 is 1 / 0)."""
    x = np.array([complex(r, i) for r in SPECIAL for i in SPECIAL])
    a = cb.asarray(x, device=device)
    for op in CLASSIFIED:
        got = getattr(cb, op)(a).numpy()
        with np.errstate(all="ignore"):
            want = getattr(np, op)(x)
        for part in (np.real, np.imag):
            for test in (np.isnan, np.isinf):
                bad = test(part(got)) != test(part(want))
                assert not bad.any(), (op, x[bad], got[bad], want[bad])


def _parts_match(got, want, rtol=1e-12):
    """Part by part: NaN where NumPy has NaN, else the same value (to
    rtol) and the same sign, zeros and infinities included."""
    bad = []
    for g, w in zip(got, want):
        for gp, wp in ((g.real, w.real), (g.imag, w.imag)):
            if np.isnan(wp) or np.isnan(gp):
                if np.isnan(wp) != np.isnan(gp):
                    bad.append((g, w))
            elif np.signbit(gp) != np.signbit(wp) or not (
                    gp == wp or abs(gp - wp) <= rtol * abs(wp)):
                bad.append((g, w))
    return bad


SPECIAL = [0.0, -0.0, 0.5, -2.0, 1000.0, -1000.0]


@pytest.mark.parametrize("name", ["tanh", "tan", "sinh", "cosh", "sin",
                                  "cos"])
def test_zero_parts_keep_their_sign_on_every_device(name, device):
    # A zero part keeps the sign of its product (sinh(+-0) cos(y)), and is
    # 0 where the other factor overflows (cos(1000j) is inf - 0j), on
    # OpenCL devices as in C99 and NumPy.
    x = np.array([complex(a, b) for a in SPECIAL for b in SPECIAL])
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x)
    got = getattr(cb, name)(cb.asarray(x, device=device)).numpy()
    assert _parts_match(got, want) == []


@pytest.mark.parametrize("name", ["tanh", "tan"])
def test_tanh_of_infinite_and_nan_parts_as_c99(name, device):
    # A finite real part with an infinite or NaN imaginary one is NaN +
    # NaN i (tan through tanh(iz)); an infinite real part gives +-1 and a
    # zero of the imaginary part's sign.
    vals = [0.0, -0.0, 2.0, -40.0, 7e15, np.inf, -np.inf, np.nan]
    x = np.array([complex(a, b) for a in vals for b in vals])
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x)
    got = getattr(cb, name)(cb.asarray(x, device=device)).numpy()
    assert _parts_match(got, want) == []


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arcsinh"])
def test_inverse_functions_take_the_side_of_a_signed_zero(name, device):
    # On a branch cut (asin(2 + 0j) against asin(2 - 0j)), the sign of the
    # zero part picks the side, on OpenCL devices as in NumPy.
    vals = [0.0, -0.0, 2.0, -2.0, 1000.0, -1000.0]
    x = np.array([complex(a, b) for a in vals for b in vals])
    want = getattr(np, name)(x)
    got = getattr(cb, name)(cb.asarray(x, device=device)).numpy()
    assert _parts_match(got, want, rtol=1e-9) == []
