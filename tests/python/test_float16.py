"""float16 against NumPy 2 (values, bits and dtypes) on every device
under test: conversions and casts of every half, promotion with every
dtype, element-wise operations over every half, reductions, products,
creation, the namespace's dtype functions, tasks, kernels, graphs, and
what is still refused."""

import pickle
import warnings

import numpy as np
import pytest

import cambrian as cb
from helpers import DTYPES

F16 = np.dtype(np.float16)
COMPLEX = [np.dtype(np.complex64), np.dtype(np.complex128)]
# Every half, as its bits read as float16.
ALL_HALVES = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(
    np.float16)


def skip_without_fp64(dtype, device):
    if np.dtype(dtype) in (np.float64, np.complex128) and not all(
            d.fp64 for d in cb.devices(device)):
        pytest.skip(f"{device} has no float64")


def same_bits(got, want):
    """got equals want bit for bit, except that any NaN matches any NaN
    (NumPy and C keep NaN payloads alike only by convention)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
        return
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[want.itemsize]
    bad = np.flatnonzero(got[~nan].view(bits) != want[~nan].view(bits))
    assert bad.size == 0, (got[~nan][bad[:5]], want[~nan][bad[:5]])


def boundaries():
    """float64 values at, between and around every pair of neighbouring
    finite halves (ties included), and beyond the range of float16."""
    h = np.unique(ALL_HALVES[np.isfinite(ALL_HALVES)].astype(np.float64))
    mid = (h[1:] + h[:-1]) / 2
    far = [65519.99, 65520.0, 65520.01, 1e5, -1e5, 1e300, -1e300,
           2.0 ** -25, 2.0 ** -25 * (1 + 2 ** -40), 2.0 ** -26, 1e-300,
           -1e-300, np.nan, np.inf, -np.inf]
    return np.concatenate([h, mid, np.nextafter(mid, np.inf),
                           np.nextafter(mid, -np.inf), far])


# ---- conversions ----------------------------------------------------------

def test_round_trip(device):
    x = np.array([0.5, -0.0, np.inf, -np.inf, np.nan, 6e-8, 65504, -2.25],
                 dtype=np.float16)
    a = cb.asarray(x, device=device)
    assert a.dtype == F16 and cb.float16 is np.float16
    same_bits(a.numpy(), x)
    same_bits(np.asarray(a), x)
    assert memoryview(a).format == "e"
    same_bits(np.from_dlpack(a), x)
    same_bits(cb.from_dlpack(x).numpy(), x)
    assert a[7].item() == -2.25 and type(a[7].item()) is float
    assert float(a[0]) == 0.5
    assert a[:4].tolist() == [0.5, -0.0, np.inf, -np.inf]
    assert "float16" in repr(a)
    same_bits(pickle.loads(pickle.dumps(a)).numpy(), x)
    # Zero-copy: the array reads the buffer it was given.
    y = np.arange(4, dtype=np.float16)
    b = cb.asarray(y, device=device, copy=False)
    same_bits((b * 1).numpy(), y)


def test_scalars_and_lists(device):
    a = cb.asarray([1.5, 2], dtype=cb.float16, device=device)
    assert a.dtype == F16
    same_bits(a.numpy(), np.array([1.5, 2], np.float16))
    h = np.float16(0.1)
    same_bits((a + h).numpy(), np.array([1.5, 2], np.float16) + h)
    assert cb.asarray(h).dtype == F16


def test_every_half_widens_exactly(device):
    a = cb.asarray(ALL_HALVES, device=device)
    same_bits(a.astype(np.float32).numpy(), ALL_HALVES.astype(np.float32))
    skip_without_fp64(np.float64, device)
    same_bits(a.astype(np.float64).numpy(), ALL_HALVES.astype(np.float64))
    same_bits(a.astype(np.complex64).numpy(),
              ALL_HALVES.astype(np.complex64))


@pytest.mark.parametrize("source", [np.float32, np.float64, np.complex64,
                                    np.complex128], ids=lambda t: t.__name__)
def test_rounding_to_half_is_numpys(source, device):
    """Ties to even, overflow to infinity, underflow to signed zero and
    subnormals, NaN and infinities: every boundary between halves."""
    skip_without_fp64(source, device)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        x = boundaries().astype(source)
        want = x.astype(np.float16)
        got = cb.asarray(x, device=device).astype(np.float16).numpy()
    same_bits(got, want)


@pytest.mark.parametrize("dtype", [t for t in DTYPES if t.kind in "biu"],
                         ids=str)
def test_integers_to_half(dtype, device):
    skip_without_fp64(np.float64, device)
    info = np.iinfo(dtype) if dtype.kind != "b" else None
    vals = [0, 1, 7, 2047, 2049, 2051, 4095, 65503, 65504, 65519, 65520,
            65535] if dtype.kind != "b" else [0, 1]
    x = np.array([v for v in vals if info is None or v <= info.max],
                 dtype=np.int64)
    if info is not None and info.min < 0:
        x = np.concatenate([x, -x, [info.min]])
    if info is not None:
        x = np.concatenate([x, [info.max]])
    x = x.astype(dtype)
    with np.errstate(all="ignore"):
        want = x.astype(np.float16)
    same_bits(cb.asarray(x, device=device).astype(np.float16).numpy(), want)


@pytest.mark.parametrize("dtype", [t for t in DTYPES if t.kind in "biu"],
                         ids=str)
def test_half_to_integers(dtype, device):
    """Truncation towards zero, wrapping as NumPy's casts on x86-64, NaN
    and infinities as NumPy gives them (where its CPU defines them)."""
    x = np.array([0, -0.0, 0.5, 1.5, -1.5, 2.5, 127.9, 128, 255, 256, 300,
                  -300, 32767, 65504, -65504], dtype=np.float16)
    if dtype.kind != "u":
        x = np.concatenate([x, np.array([np.nan, -np.inf, np.inf],
                                        np.float16)])
    if dtype.kind == "b":
        x = np.concatenate([x, np.array([6e-8], np.float16)])
    with np.errstate(all="ignore"):
        want = x.astype(dtype)
    same_bits(cb.asarray(x, device=device).astype(dtype).numpy(), want)


def test_complex_to_half_warns(device):
    x = np.array([1.5 + 2j, -0.25 - 1j], np.complex64)
    a = cb.asarray(x, device=device)
    with pytest.warns(np.exceptions.ComplexWarning):
        got = a.astype(np.float16)
    same_bits(got.numpy(), x.real.astype(np.float16))


def test_indexing_assignment_and_layout(device):
    x = (np.arange(6, dtype=np.float16).reshape(2, 3) / 3).astype(
        np.float16)
    a = cb.asarray(x.copy(), device=device)
    a[0, 1] = 3.5
    a[1] = cb.asarray(np.array([7, 8, 9], np.float16), device=device)
    a[a > 2] = -1.25
    want = x.copy()
    want[0, 1] = 3.5
    want[1] = [7, 8, 9]
    want[want > 2] = -1.25
    same_bits(a.numpy(), want)
    same_bits(a[np.array([1, 0])].numpy(), want[[1, 0]])
    same_bits(a.T.numpy(), want.T)
    same_bits(cb.roll(a, 1).numpy(), np.roll(want, 1))
    same_bits(cb.concat([a, a]).numpy(), np.concatenate([want, want]))
    s = cb.stack([a, cb.asarray(x.astype(np.float32), device=device)])
    same_bits(s.numpy(), np.stack([want, x.astype(np.float32)]))
    same_bits(cb.sort(a, axis=1).numpy(), np.sort(want, axis=1))


# ---- promotion -------------------------------------------------------------

@pytest.mark.parametrize("other", DTYPES + COMPLEX, ids=str)
def test_promotion_with_every_dtype(other, device):
    want = np.result_type(F16, other)
    skip_without_fp64(want, device)
    assert cb.result_type(cb.float16, other) == want
    assert cb.result_type(other, cb.float16) == want
    x = np.array([0.5, -1.5, 3, 2049, 0.1], np.float16)
    y = (np.arange(5) % 3 + 1).astype(other)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    for got, expect in ((a + b, x + y), (b * a, y * x), (a - b, x - y)):
        assert got.dtype == want
        same_bits(got.numpy(), expect)


@pytest.mark.parametrize("scalar", [True, 3, -2, 2.5, 1e5, 0.1, 1 + 2j],
                         ids=repr)
def test_python_scalars_are_weak(scalar, device):
    x = np.array([0.5, -1.5, 3, 65504], np.float16)
    a = cb.asarray(x, device=device)
    with np.errstate(all="ignore"):
        want = x + scalar
    assert want.dtype == (np.complex64 if isinstance(scalar, complex)
                          else np.float16)
    got = a + scalar
    assert got.dtype == want.dtype
    same_bits(got.numpy(), want)
    assert cb.result_type(a, scalar) == want.dtype


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8],
                         ids=lambda t: t.__name__)
@pytest.mark.parametrize("op", ["sqrt", "exp", "log1p", "sin", "arctan"])
def test_math_of_small_types_is_float16(op, dtype, device):
    x = (np.arange(6) % 4).astype(dtype)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x)
    assert want.dtype == F16
    got = getattr(cb, op)(cb.asarray(x, device=device))
    assert got.dtype == F16
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-3)


def test_round_of_bool_is_float16(device):
    """NumPy rounds bools as rint, a math function: float16. Integers
    keep their dtype."""
    x = np.array([True, False, True])
    same_bits(cb.round(cb.asarray(x, device=device)).numpy(), np.round(x))
    i = np.arange(-3, 3, dtype=np.int8)
    same_bits(cb.round(cb.asarray(i, device=device)).numpy(), np.round(i))


def test_sign_of_bool_is_refused_as_numpy_does():
    with pytest.raises(TypeError):
        np.sign(np.array([True]))
    with pytest.raises(TypeError):
        cb.sign(cb.asarray(np.array([True])))


# ---- element-wise operations over every half --------------------------------

# Computed in float and rounded once: exactly NumPy's halves.
EXACT = ["negative", "positive", "absolute", "sqrt", "square", "floor",
         "ceil", "trunc", "round", "sign", "reciprocal"]
# Float functions, which may differ from NumPy's by an ulp of float and
# so move a half by one ulp where the float lands next to a tie.
CLOSE = ["exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos",
         "tan", "tanh", "arcsin", "arccos", "arctan", "sinh", "cosh",
         "arcsinh", "arccosh", "arctanh", "exp2"]
TESTS = ["isnan", "isinf", "isfinite", "signbit", "logical_not"]


def ulps(got, want):
    """How many halves apart got and want are (0 for two NaNs)."""
    def key(h):
        b = h.view(np.uint16).astype(np.int32)
        return np.where(b & 0x8000, 0x8000 - b, b)
    both = np.isnan(got) & np.isnan(want)
    d = np.abs(key(got) - key(want))
    return np.where(both, 0, np.where(np.isnan(got) != np.isnan(want),
                                      1 << 20, d))


@pytest.mark.parametrize("op", EXACT + TESTS)
def test_exact_unary_over_every_half(op, device):
    with np.errstate(all="ignore"):
        want = getattr(np, op)(ALL_HALVES)
    got = getattr(cb, op)(cb.asarray(ALL_HALVES, device=device))
    same_bits(got.numpy(), want)


@pytest.mark.parametrize("op", CLOSE)
def test_math_over_every_half(op, device):
    with np.errstate(all="ignore"):
        want = getattr(np, op)(ALL_HALVES)
    got = getattr(cb, op)(cb.asarray(ALL_HALVES, device=device)).numpy()
    assert got.dtype == F16
    off = ulps(got, want)
    assert off.max() <= 1, (ALL_HALVES[off > 1][:5], got[off > 1][:5],
                            want[off > 1][:5])
    assert (off == 0).mean() > 0.999


def random_halves(n, seed):
    """n random halves of every magnitude and sign, with NaN and
    infinities, as bits."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << 16, n).astype(np.uint16).view(np.float16)


BINARY_EXACT = ["add", "subtract", "multiply", "divide", "maximum",
                "minimum", "copysign", "floor_divide", "remainder",
                "equal", "less", "greater_equal", "not_equal",
                "logical_and"]
# hypot too: OpenCL's is not correctly rounded in float.
BINARY_CLOSE = ["power", "arctan2", "logaddexp", "hypot"]


@pytest.mark.parametrize("op", BINARY_EXACT + BINARY_CLOSE)
def test_binary_over_random_halves(op, device):
    x, y = random_halves(200_000, 1), random_halves(200_000, 2)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x, y)
    got = getattr(cb, op)(cb.asarray(x, device=device),
                          cb.asarray(y, device=device)).numpy()
    if op in BINARY_EXACT:
        same_bits(got, want)
    else:
        assert ulps(got, want).max() <= 1


def test_overflow_ties_and_subnormals(device):
    x = np.array([65504, 2048, 2048, 6e-8, 6e-8, -0.0, 1e-4],
                 np.float16)
    y = np.array([65504, 1, 3, 0.5, 1.5, 0.0, 1e-4], np.float16)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    with np.errstate(all="ignore"):
        for got, want in ((a + b, x + y), (a * b, x * y), (a - b, x - y),
                          (a / b, x / y), (a * 1e5, x * 1e5)):
            same_bits(got.numpy(), want)


def test_where_and_clip(device):
    x = random_halves(1000, 3)
    c = np.arange(1000) % 3 == 0
    a = cb.asarray(x, device=device)
    same_bits(cb.where(cb.asarray(c, device=device), a, 2.5).numpy(),
              np.where(c, x, np.float16(2.5)))
    with np.errstate(all="ignore"):
        same_bits(cb.clip(a, -1, 1).numpy(), np.clip(x, -1, 1))


# ---- reductions and products ------------------------------------------------

def halves(n, seed=0, scale=4.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-scale, scale, n).astype(np.float16)


@pytest.mark.parametrize("op", ["sum", "mean", "min", "max", "prod", "var",
                                "std", "argmin", "argmax", "any", "all",
                                "cumulative_sum", "cumulative_prod",
                                "count_nonzero"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reductions_give_numpys_dtype_and_values(op, axis, device):
    x = halves(600, 4).reshape(30, 20)
    x[3, 4] = 0
    if op in ("prod", "cumulative_prod"):
        x = (x / 4 + 1).astype(np.float16)
    if op.startswith("cumulative") and axis is None:
        x = x[0]
    np_op = {"cumulative_sum": np.cumsum, "cumulative_prod": np.cumprod
             }.get(op, getattr(np, op))
    kw = {} if x.ndim == 1 and op.startswith("cumulative") else \
        {"axis": axis}
    want = np.asarray(np_op(x, **kw))
    got = getattr(cb, op)(cb.asarray(x, device=device), **kw)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-3, atol=2e-3)


def test_sums_of_many_halves(device):
    x = halves(300_001, 5, 50)
    a = cb.asarray(x, device=device)
    s = cb.sum(a)
    assert s.dtype == F16
    np.testing.assert_allclose(float(s), float(np.sum(x)), rtol=1e-2,
                               atol=1.0)
    np.testing.assert_allclose(float(cb.mean(a)), float(np.mean(x)),
                               rtol=1e-2, atol=1e-3)
    # Halves that overflow when summed give inf, as NumPy's.
    big = np.full(10, 30000, np.float16)
    assert float(cb.sum(cb.asarray(big, device=device))) == np.sum(big)


def test_nan_and_infinities_in_reductions(device):
    x = np.array([1, np.nan, -np.inf, 3], np.float16)
    a = cb.asarray(x, device=device)
    for op in ("sum", "min", "max", "mean", "argmin", "argmax"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            same_bits(getattr(cb, op)(a).numpy(), getattr(np, op)(x))


def test_norms_and_dots(device):
    x, y = halves(100, 6), halves(100, 7)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    for got, want in ((cb.dot(a, b), np.dot(x, y)),
                      (cb.vecdot(a, b), np.vecdot(x, y)),
                      (cb.linalg.vector_norm(a), np.linalg.vector_norm(x)),
                      (cb.norm(a), np.linalg.norm(x))):
        assert got.dtype == F16
        np.testing.assert_allclose(float(got), float(want), rtol=2e-3)
    # A sum of squares beyond float16 is inf, as NumPy's norm gives.
    big = np.full(4, 300, np.float16)
    assert float(cb.norm(cb.asarray(big, device=device))) == np.inf


@pytest.mark.parametrize("sa,sb", [((7, 5), (5, 3)), ((6, 4), (4,)),
                                   ((4,), (4, 5)), ((9,), (9,)),
                                   ((2, 3, 4), (4, 2)), ((3, 0), (0, 2))],
                         ids=str)
def test_matmul(sa, sb, device):
    rng = np.random.default_rng(8)
    x = rng.uniform(-2, 2, sa).astype(np.float16)
    y = rng.uniform(-2, 2, sb).astype(np.float16)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    want = x @ y
    got = a @ b
    assert got.dtype == F16 and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("other", [np.bool_, np.int8, np.uint8, np.int16,
                                   np.float32], ids=lambda t: t.__name__)
def test_matmul_promotes_like_numpy(other, device):
    x = (np.arange(6).reshape(2, 3) / 4).astype(np.float16)
    y = (np.arange(6).reshape(3, 2) % 3).astype(other)
    want = x @ y
    got = cb.asarray(x, device=device) @ cb.asarray(y, device=device)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-3)


def test_blas_routines_refuse_float16():
    """gemm and gemv write BLAS results in place: float16 is refused with
    a message naming the dtypes they take."""
    a = cb.ones((2, 2), dtype=cb.float16)
    v = cb.ones(2, dtype=cb.float16)
    with pytest.raises(TypeError, match="float32, float64.*float16"):
        cb.gemm(1.0, a, a, 0.0, cb.zeros((2, 2), dtype=cb.float16))
    with pytest.raises(TypeError, match="float32, float64.*float16"):
        cb.gemv(1.0, a, v, 0.0, cb.zeros(2, dtype=cb.float16))


# ---- creation --------------------------------------------------------------

def test_creation(device):
    def check(got, want):
        assert got.dtype == F16
        same_bits(got.numpy(), want)
    check(cb.zeros((2, 3), dtype=cb.float16, device=device),
          np.zeros((2, 3), np.float16))
    check(cb.ones(4, dtype="float16", device=device), np.ones(4, np.float16))
    check(cb.full(3, 0.1, dtype=cb.float16, device=device),
          np.full(3, 0.1, np.float16))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(cb.full(2, 1e5, dtype=cb.float16, device=device),
              np.full(2, 1e5, np.float16))
    check(cb.full(2, np.nan, dtype=cb.float16, device=device),
          np.full(2, np.nan, np.float16))
    assert cb.empty(5, dtype=cb.float16, device=device).dtype == F16
    for args in [(10,), (1, 2, 0.1), (-5, 5, 0.7), (0, 100, 3.3)]:
        check(cb.arange(*args, dtype=cb.float16, device=device),
              np.arange(*args, dtype=np.float16))
    check(cb.linspace(0.1, 7, 13, dtype=cb.float16, device=device),
          np.linspace(0.1, 7, 13, dtype=np.float16))
    check(cb.eye(3, 4, k=1, dtype=cb.float16, device=device),
          np.eye(3, 4, k=1, dtype=np.float16))
    h = cb.ones(3, dtype=cb.float16, device=device)
    check(cb.zeros_like(h), np.zeros(3, np.float16))
    check(cb.full_like(h, 2.5), np.full(3, 2.5, np.float16))
    check(cb.ones_like(cb.zeros(2), dtype=cb.float16), np.ones(2, np.float16))
    assert cb.empty_like(h).dtype == F16


# ---- the namespace ---------------------------------------------------------

def test_dtype_functions():
    f, nf = cb.finfo(cb.float16), np.finfo(np.float16)
    assert (f.bits, f.eps, f.max, f.min, f.smallest_normal) == (
        nf.bits, nf.eps, nf.max, nf.min, nf.smallest_normal)
    assert f.dtype == F16
    assert cb.finfo(cb.asarray(np.zeros(1, np.float16))).bits == 16
    assert cb.isdtype(cb.float16, "real floating")
    assert cb.isdtype(cb.float16, "numeric")
    assert not cb.isdtype(cb.float16, "complex floating")
    assert cb.can_cast(cb.int8, cb.float16)
    assert not cb.can_cast(cb.int16, cb.float16)
    assert not cb.can_cast(cb.float32, cb.float16)
    # The Array API does not define float16: the namespace's dtypes()
    # leaves it out, as NumPy's does.
    info = cb.__array_namespace_info__()
    assert "float16" not in info.dtypes()
    assert "float16" not in info.dtypes(kind="real floating")
    assert set(info.dtypes()) == set(
        np.__array_namespace_info__().dtypes())


def test_numpy_functions_dispatch(device):
    x = halves(50, 9)
    a = cb.asarray(x, device=device)
    got = np.sqrt(np.abs(a)) + a
    assert isinstance(got, cb.Array) and got.dtype == F16
    same_bits(got.numpy(), np.sqrt(np.abs(x)) + x)


def test_fft_of_halves_is_numpys(device):
    """The transforms run through NumPy's pocketfft, which takes halves
    in single precision: complex64, as NumPy gives."""
    x = halves(16, 15)
    a = cb.asarray(x, device=device)
    for name in ("fft", "rfft"):
        want = getattr(np.fft, name)(x)
        got = getattr(cb.fft, name)(a)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5,
                                   atol=1e-5)


# ---- tasks, kernels and graphs ----------------------------------------------

def test_task_sees_float16_views(device):
    seen = []

    @cb.task
    def double(x, out):
        seen.append((x.dtype, out.dtype))
        out[:] = x * 2

    x = halves(64, 10)
    a = cb.asarray(x, device=device)
    b = cb.empty(64, dtype=cb.float16, device=device)
    double(a, cb.Out(b)).result()
    assert seen == [(F16, F16)]
    same_bits(b.numpy(), x * 2)


def test_kernel_sees_halves(opencl_device):
    """A kernel reads float16 through half pointers with vload_half and
    writes with vstore_half_rte (core OpenCL C, no cl_khr_fp16), or sees
    the bits through ushort pointers."""
    k = cb.Kernel("""
__kernel void twice(__global const half *x, __global half *y) {
  size_t i = get_global_id(0);
  vstore_half_rte(2.0f * vload_half(i, x), i, y);
}""", "twice")
    x = halves(32, 11)
    a = cb.asarray(x, device=opencl_device)
    b = cb.empty(32, dtype=cb.float16, device=opencl_device)
    k((32,), a, cb.Out(b)).result()
    same_bits(b.numpy(), x * 2)
    bits = cb.Kernel("""
__kernel void flip(__global const ushort *x, __global ushort *y) {
  size_t i = get_global_id(0);
  y[i] = x[i] ^ (ushort)0x8000;
}""", "flip")
    bits((32,), a, cb.Out(b)).result()
    same_bits(b.numpy(), -x)


def test_graphs_record_float16_work():
    n = 16
    x = halves(n, 12)
    with cb.Graph() as g:
        v = g.input("x", (n,), cb.float16)
        g.output("y", cb.exp(v) * 2 + v.astype(cb.float32))
        g.output("z", v * v - 1)
    out = g.run(x=x)
    want = np.exp(x) * 2 + x.astype(np.float32)
    assert out["y"].dtype == np.float32
    np.testing.assert_allclose(out["y"].numpy(), want, rtol=1e-3)
    same_bits(out["z"].numpy(), x * x - 1)


def test_graphs_record_float16_reductions():
    """Reductions of halves in graphs go through float32 as outside."""
    x = halves(12, 13).reshape(3, 4)
    ops = ["sum", "mean", "min", "max", "norm"]
    with cb.Graph() as g:
        v = g.input("x", (3, 4), cb.float16)
        for op in ops:
            g.output(op, getattr(cb, op)(v, axis=1))
    out = g.run(x=x)
    for op in ops:
        want = np.linalg.norm(x, axis=1) if op == "norm" else \
            getattr(np, op)(x, axis=1)
        assert out[op].dtype == F16, op
        np.testing.assert_allclose(out[op].numpy(), want, rtol=2e-3,
                                   err_msg=op)


def test_graphs_record_float16_products():
    x = halves(12, 14).reshape(3, 4)
    with cb.Graph() as g:
        v = g.input("x", (3, 4), cb.float16)
        w = g.input("w", (4, 3), cb.float16)
        g.output("p", v @ w)
    out = g.run(x=x, w=x.T.copy())
    assert out["p"].dtype == F16
    np.testing.assert_allclose(out["p"].numpy(), x @ x.T, rtol=2e-3,
                               atol=2e-3)
