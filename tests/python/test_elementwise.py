"""Element-wise operations against NumPy 2: every operation x every dtype x
every device, with special values, NEP 50 scalars, 0-D arrays and mixed
dtypes. Result dtypes must equal NumPy's, float16 included (bool and
8-bit inputs to sqrt/exp/... give float16, as NumPy's)."""

import operator

import numpy as np
import pytest

import cambrian as cb
from helpers import (DTYPES, FLOAT_DTYPES, assert_same, dtype_id,
                     sample_pair)

# name: (cambrian function, NumPy function, Python operator or None)
BINARY = {
    "add": (cb.add, np.add, operator.add),
    "subtract": (cb.subtract, np.subtract, operator.sub),
    "multiply": (cb.multiply, np.multiply, operator.mul),
    "divide": (cb.divide, np.divide, operator.truediv),
    "power": (cb.power, np.power, operator.pow),
    "maximum": (cb.maximum, np.maximum, None),
    "minimum": (cb.minimum, np.minimum, None),
    "equal": (cb.equal, np.equal, operator.eq),
    "not_equal": (cb.not_equal, np.not_equal, operator.ne),
    "less": (cb.less, np.less, operator.lt),
    "less_equal": (cb.less_equal, np.less_equal, operator.le),
    "greater": (cb.greater, np.greater, operator.gt),
    "greater_equal": (cb.greater_equal, np.greater_equal, operator.ge),
    "logical_and": (cb.logical_and, np.logical_and, None),
    "logical_or": (cb.logical_or, np.logical_or, None),
    "logical_xor": (cb.logical_xor, np.logical_xor, None),
    "bitwise_and": (cb.bitwise_and, np.bitwise_and, operator.and_),
    "bitwise_or": (cb.bitwise_or, np.bitwise_or, operator.or_),
    "bitwise_xor": (cb.bitwise_xor, np.bitwise_xor, operator.xor),
    "arctan2": (cb.arctan2, np.arctan2, None),
    "hypot": (cb.hypot, np.hypot, None),
    "copysign": (cb.copysign, np.copysign, None),
    "logaddexp": (cb.logaddexp, np.logaddexp, None),
    "floor_divide": (cb.floor_divide, np.floor_divide, operator.floordiv),
    "remainder": (cb.remainder, np.remainder, operator.mod),
    "bitwise_left_shift": (cb.bitwise_left_shift, np.left_shift,
                           operator.lshift),
    "bitwise_right_shift": (cb.bitwise_right_shift, np.right_shift,
                            operator.rshift),
}
UNARY = {
    "negative": (cb.negative, np.negative, operator.neg),
    "absolute": (cb.absolute, np.absolute, abs),
    "sqrt": (cb.sqrt, np.sqrt, None),
    "exp": (cb.exp, np.exp, None),
    "log": (cb.log, np.log, None),
    "sin": (cb.sin, np.sin, None),
    "cos": (cb.cos, np.cos, None),
    "tanh": (cb.tanh, np.tanh, None),
    "tan": (cb.tan, np.tan, None),
    "arcsin": (cb.arcsin, np.arcsin, None),
    "arccos": (cb.arccos, np.arccos, None),
    "arctan": (cb.arctan, np.arctan, None),
    "sinh": (cb.sinh, np.sinh, None),
    "cosh": (cb.cosh, np.cosh, None),
    "arcsinh": (cb.arcsinh, np.arcsinh, None),
    "arccosh": (cb.arccosh, np.arccosh, None),
    "arctanh": (cb.arctanh, np.arctanh, None),
    "log2": (cb.log2, np.log2, None),
    "log10": (cb.log10, np.log10, None),
    "log1p": (cb.log1p, np.log1p, None),
    "expm1": (cb.expm1, np.expm1, None),
    "exp2": (cb.exp2, np.exp2, None),
    "sign": (cb.sign, np.sign, None),
    "floor": (cb.floor, np.floor, None),
    "ceil": (cb.ceil, np.ceil, None),
    "trunc": (cb.trunc, np.trunc, None),
    "round": (cb.round, np.round, None),
    "square": (cb.square, np.square, None),
    "positive": (cb.positive, np.positive, operator.pos),
    "bitwise_invert": (cb.bitwise_invert, np.invert, operator.invert),
    "isnan": (cb.isnan, np.isnan, None),
    "isinf": (cb.isinf, np.isinf, None),
    "isfinite": (cb.isfinite, np.isfinite, None),
    "signbit": (cb.signbit, np.signbit, None),
    "logical_not": (cb.logical_not, np.logical_not, None),
}
MATH = {"sqrt", "exp", "log", "sin", "cos", "tanh", "tan", "arcsin",
        "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
        "log2", "log10", "log1p", "expm1", "exp2", "arctan2", "hypot",
        "copysign", "logaddexp"}
# Operations whose zero results must keep NumPy's sign.
SIGNED_ZEROS = {"add", "subtract", "multiply", "divide", "negative",
                "absolute", "sqrt"}


def tolerance(op, dtype):
    """(rtol, atol) for comparing op's results of dtype with NumPy's."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return 0.0, 0.0
    transcendental = op in MATH or op == "power"
    if dtype == np.float16:
        # Computed in float and rounded once, as NumPy's float16 loops:
        # exact, but for functions whose float results may differ from
        # NumPy's by an ulp of float, which can move the half by one ulp.
        return (1e-3, 6e-8) if transcendental else (0.0, 0.0)
    if dtype == np.float32:
        return (1e-5, 1e-6) if transcendental else (1e-6, 0.0)
    return (1e-12, 1e-14) if transcendental else (1e-12, 0.0)


def check(op, fn, cb_args, np_fn, np_args):
    """fn(*cb_args) against np_fn(*np_args): same dtype and values, or the
    same exception type where NumPy refuses (TypeError, OverflowError)."""
    try:
        with np.errstate(all="ignore"):
            expected = np.asarray(np_fn(*np_args))
    except (TypeError, OverflowError) as e:
        with pytest.raises(type(e) if isinstance(e, OverflowError)
                           else TypeError):
            fn(*cb_args)
        return
    got = fn(*cb_args)
    rtol, atol = tolerance(op, expected.dtype)
    assert_same(got, expected, rtol=rtol, atol=atol,
                signed_zeros=op in SIGNED_ZEROS)


def binary_inputs(op, dtype):
    x, y = sample_pair(dtype, seed=1)
    dtype = np.dtype(dtype)
    if op == "power" and dtype.kind == "i":
        y = (np.abs(y) % 5).astype(dtype)  # NumPy refuses negative powers
    elif op.startswith("bitwise_") and op.endswith("shift") and \
            dtype.kind == "i":
        y = (np.abs(y) % 70).astype(dtype)  # negative shifts: undefined
    elif op == "power" and dtype.kind == "f":
        y = (y / 8).astype(dtype)
    return x, y


def unary_inputs(op, dtype):
    dtype = np.dtype(dtype)
    if op in MATH and dtype.kind == "i":
        rng = np.random.default_rng(2)
        x = np.concatenate([np.arange(-7, 8), rng.integers(-100, 100, 50)])
        return x.astype(dtype)
    x, _ = sample_pair(dtype, seed=2)
    return x


# ---- the operation x dtype x device matrix -----------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary(op, dtype, device):
    fn, np_fn, pyop = BINARY[op]
    x, y = binary_inputs(op, dtype)
    a = cb.asarray(x, device=device)
    b = cb.asarray(y, device=device)
    check(op, fn, (a, b), np_fn, (x, y))
    if pyop is not None:
        check(op, pyop, (a, b), np_fn, (x, y))
    # 2-D operands.
    n = (x.size // 4) * 4
    x2, y2 = x[:n].reshape(4, -1), y[:n].reshape(4, -1)
    check(op, fn, (cb.asarray(x2, device=device),
                   cb.asarray(y2, device=device)), np_fn, (x2, y2))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", list(UNARY))
def test_unary(op, dtype, device):
    fn, np_fn, pyop = UNARY[op]
    x = unary_inputs(op, dtype)
    a = cb.asarray(x, device=device)
    check(op, fn, (a,), np_fn, (x,))
    if pyop is not None:
        check(op, pyop, (a,), np_fn, (x,))
    if op == "absolute":
        check(op, cb.abs, (a,), np_fn, (x,))


def test_abs_is_absolute():
    assert cb.abs is cb.absolute


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_where(dtype, device):
    x, y = sample_pair(dtype, seed=3)
    cond = np.random.default_rng(3).integers(0, 2, x.size).astype(bool)
    c = cb.asarray(cond, device=device)
    a = cb.asarray(x, device=device)
    b = cb.asarray(y, device=device)
    check("where", cb.where, (c, a, b), np.where, (cond, x, y))
    # A condition of another dtype counts by truth value.
    check("where", cb.where, (a, a, b), np.where, (x, x, y))
    # Scalars and 0-D arrays as the values or the condition.
    for s in (0, 1, True, -2.5):
        check("where", cb.where, (c, a, s), np.where, (cond, x, s))
        check("where", cb.where, (c, s, b), np.where, (cond, s, y))
    check("where", cb.where, (True, a, b), np.where, (True, x, y))
    for s1, s2 in ((1, 0), (1.5, 0), (True, False), (2, 0.5)):
        check("where", cb.where, (c, s1, s2), np.where, (cond, s1, s2))
    check("where", cb.where, (cb.asarray(np.False_), a, b), np.where,
          (np.False_, x, y))


@pytest.mark.parametrize("xt", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("yt", DTYPES, ids=dtype_id)
def test_where_mixed_dtypes(xt, yt, device):
    cond = np.array([True, False, True, False, True])
    x = np.array([1, 0, 3, 4, 1]).astype(xt)
    y = np.array([0, 1, 0, 1, 1]).astype(yt)
    check("where", cb.where,
          (cb.asarray(cond, device=device), cb.asarray(x, device=device),
           cb.asarray(y, device=device)), np.where, (cond, x, y))


# ---- special values ----------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_float_specials(dtype, device):
    t = np.dtype(dtype).type
    x = np.array([1.0, -1.0, 0.0, -0.0, np.inf, np.nan, 2.0], dtype=dtype)
    y = np.array([0.0, 0.0, 0.0, 1.0, np.inf, 1.0, np.nan], dtype=dtype)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    with np.errstate(all="ignore"):
        assert_same(a / b, x / y, signed_zeros=True)
        assert_same(b / a, y / x, signed_zeros=True)
        assert_same(cb.maximum(a, b), np.maximum(x, y))
        assert_same(cb.minimum(a, b), np.minimum(x, y))
        assert_same(-cb.asarray(np.array([0.0, -0.0], dtype), device=device),
                    np.array([-0.0, 0.0], dtype), signed_zeros=True)
        assert_same(cb.sqrt(a), np.sqrt(x), rtol=1e-6, signed_zeros=True)
        assert_same(cb.log(a), np.log(x), rtol=1e-6)
        assert_same(a - a, x - x, signed_zeros=True)
    # NaN propagates through maximum/minimum from either side.
    m = cb.maximum(a, cb.asarray(np.full(x.shape, np.nan, dtype),
                                 device=device)).numpy()
    assert np.isnan(m).all()
    assert np.isnan(cb.minimum(cb.asarray(t(np.nan)), a).numpy()).all()
    # Comparisons with NaN are false, except !=.
    n = cb.asarray(np.full(x.shape, np.nan, dtype), device=device)
    assert not (n == n).numpy().any()
    assert (n != n).numpy().all()
    assert not (n < a).numpy().any() and not (n >= a).numpy().any()


@pytest.mark.parametrize("dtype", [np.int32, np.int64], ids=dtype_id)
def test_integer_wrap_around(dtype, device):
    info = np.iinfo(dtype)
    x = np.array([info.max, info.min, info.max, info.min, -1], dtype=dtype)
    y = np.array([1, -1, info.max, 2, info.min], dtype=dtype)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    with np.errstate(all="ignore"):
        assert_same(a + b, x + y)
        assert_same(a - b, x - y)
        assert_same(a * b, x * y)
        assert_same(-a, -x)
        assert_same(abs(a), np.abs(x))
        assert_same(a + 1, x + 1)
        assert_same(a * 2, x * 2)
        assert_same(a ** 3, x ** 3)
    assert (a + 1).numpy()[0] == info.min


def test_integer_negative_power_documented(device):
    """NumPy refuses integers to negative integer powers; cambrian, which
    cannot raise from a task, gives the integer part of 1 / a**-b
    (codelets/ew_helpers.h)."""
    x = np.array([1, -1, -1, 2, -3, 7], dtype=np.int32)
    y = np.array([-3, -3, -2, -1, -2, -5], dtype=np.int32)
    r = cb.asarray(x, device=device) ** cb.asarray(y, device=device)
    assert_same(r, np.array([1, -1, 1, 0, 0, 0], dtype=np.int32))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_],
                         ids=dtype_id)
def test_integer_division_by_zero(dtype, device):
    x = np.array([1, -1, 0, 5], dtype=dtype)
    y = np.zeros(4, dtype=dtype)
    with np.errstate(all="ignore"):
        expected = x / y
    assert_same(cb.asarray(x, device=device) / cb.asarray(y, device=device),
                expected)


# ---- scalars: Python (weak), NumPy (strong), 0-D arrays -------------------------

SCALAR_OPS = ["add", "subtract", "multiply", "divide", "power", "maximum",
              "minimum", "equal", "less", "greater_equal"]
PY_SCALARS = [2, -3, 0, 2.5, -0.5, True, False]


def scalar_data(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.array([False, True, True, False, True])
    if dtype.kind == "i":
        return np.array([-3, -1, 0, 1, 2, 5, 7], dtype=dtype)
    if dtype.kind == "u":
        return np.array([0, 1, 2, 3, 5, 7, 100], dtype=dtype)
    return np.array([-3.5, -1.0, -0.0, 0.0, 0.5, 2.0, 7.25, np.inf, np.nan],
                    dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", SCALAR_OPS)
def test_python_scalars(op, dtype, device):
    """Python int/float/bool are weak (NEP 50), on either side."""
    fn, np_fn, pyop = BINARY[op]
    x = scalar_data(dtype)
    if op == "power" and x.dtype.kind == "i":
        x = np.abs(x)  # some scalars below are negative exponents
    a = cb.asarray(x, device=device)
    for s in PY_SCALARS:
        if op == "power" and x.dtype.kind in "ib" and s is not True \
                and isinstance(s, int) and s < 0:
            continue  # NumPy refuses negative integer powers
        check(op, fn, (a, s), np_fn, (x, s))
        check(op, fn, (s, a), np_fn, (s, x))
        if pyop is not None:
            check(op, pyop, (a, s), np_fn, (x, s))
            check(op, pyop, (s, a), np_fn, (s, x))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_reflected_operators(dtype, device):
    """2 - a, 2 / a, 2 ** a and friends, with the scalar on the left."""
    x = scalar_data(dtype)
    if x.dtype.kind == "i":
        x = np.abs(x)
    a = cb.asarray(x, device=device)
    cases = [
        ("subtract", lambda v: 2 - v), ("divide", lambda v: 2 / v),
        ("power", lambda v: 2 ** v), ("add", lambda v: 2 + v),
        ("multiply", lambda v: 2 * v), ("subtract", lambda v: 2.5 - v),
        ("divide", lambda v: 1.0 / v), ("power", lambda v: 0.5 ** v),
        ("less", lambda v: 2 < v), ("greater", lambda v: 2.5 > v),
        ("equal", lambda v: 0 == v),
    ]
    for op, f in cases:
        check(op, f, (a,), f, (x,))


NUMPY_SCALARS = [np.float32(2.0), np.float64(-1.5), np.int32(3),
                 np.int64(-2), np.bool_(True)]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide",
                                "maximum", "less"])
def test_numpy_scalars_are_strong(op, dtype, device):
    fn, np_fn, pyop = BINARY[op]
    x = scalar_data(dtype)
    a = cb.asarray(x, device=device)
    for s in NUMPY_SCALARS:
        check(op, fn, (a, s), np_fn, (x, s))
        check(op, fn, (s, a), np_fn, (s, x))
        if pyop is not None:
            check(op, pyop, (a, s), np_fn, (x, s))
            check(op, pyop, (s, a), np_fn, (s, x))


def test_numpy_scalar_examples():
    a = cb.asarray(np.array([1, 2, 3], dtype=np.int32))
    r = np.float32(2) * a
    assert r.dtype == np.float64  # strong float32 with int32
    assert_same(r, np.float32(2) * np.array([1, 2, 3], dtype=np.int32))
    f = cb.asarray(np.array([1.0, 2.0], dtype=np.float32))
    assert (f + np.float64(1)).dtype == np.float64
    assert (f + 1.0).dtype == np.float32
    assert (f + np.float32(1)).dtype == np.float32
    assert (a + np.int64(1)).dtype == np.int64
    assert (a + 1).dtype == np.int32


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("zt", DTYPES, ids=dtype_id)
def test_zero_d_arrays_are_strong(zt, dtype, device):
    x = scalar_data(dtype)
    z = np.asarray(2, dtype=zt)
    a = cb.asarray(x, device=device)
    for zdev in (device, None):
        za = cb.asarray(z, device=zdev)
        assert za.ndim == 0
        for op in ("add", "multiply", "maximum", "greater"):
            fn, np_fn, _ = BINARY[op]
            check(op, fn, (a, za), np_fn, (x, z))
            check(op, fn, (za, a), np_fn, (z, x))
    # 0-D with 0-D.
    za = cb.asarray(z, device=device)
    check("add", cb.add, (za, za), np.add, (z, z))
    check("add", cb.add, (za, 3), np.add, (z, 3))


@pytest.mark.parametrize("xt", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("yt", [np.int32, np.float32, np.float64],
                         ids=dtype_id)
def test_numpy_array_operands(xt, yt, device):
    """NumPy arrays (C-contiguous) are operands too, on either side; they
    take the device of the Array."""
    x = np.array([0, 1, 2, 3]).astype(xt)
    y = np.array([3, 1, 2, 0]).astype(yt)
    a = cb.asarray(x, device=device)
    for op in ("add", "multiply", "maximum", "less"):
        fn, np_fn, pyop = BINARY[op]
        check(op, fn, (a, y), np_fn, (x, y))
        check(op, fn, (y, a), np_fn, (y, x))
        if pyop is not None:
            check(op, pyop, (a, y), np_fn, (x, y))
            check(op, pyop, (y, a), np_fn, (y, x))
    assert (y + a).device == cb.get_device(device)


# ---- mixed dtypes ------------------------------------------------------------

@pytest.mark.parametrize("xt", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("yt", DTYPES, ids=dtype_id)
def test_mixed_dtypes(xt, yt, device):
    """Arrays of two dtypes promote as NumPy's do (int32 + float32 ->
    float64, bool + int32 -> int32, int32 + int64 -> int64, ...)."""
    x = np.array([0, 1, 2, 3, 1, 0, 5]).astype(xt)
    y = np.array([1, 1, 0, 2, 3, 0, 1]).astype(yt)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    for op in ("add", "subtract", "multiply", "divide", "maximum",
               "less_equal"):
        fn, np_fn, _ = BINARY[op]
        check(op, fn, (a, b), np_fn, (x, y))


def test_mixed_dtype_examples():
    i32 = cb.asarray(np.array([1, 2], dtype=np.int32))
    f32 = cb.asarray(np.array([0.5, 0.25], dtype=np.float32))
    i64 = cb.asarray(np.array([1, 2], dtype=np.int64))
    b = cb.asarray(np.array([True, False]))
    assert (i32 + f32).dtype == np.float64
    assert (i32 + i64).dtype == np.int64
    assert (b + i32).dtype == np.int32
    assert (b + f32).dtype == np.float32
    assert (i64 * f32).dtype == np.float64
    assert_same(i32 + f32, np.array([1.5, 2.25]))


# ---- overflow of weak Python ints ----------------------------------------------

@pytest.mark.parametrize("value", [2 ** 31, -2 ** 31 - 1, 2 ** 40],
                         ids=str)
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "maximum"])
def test_python_int_out_of_int32_range(op, value, device):
    fn, np_fn, pyop = BINARY[op]
    x = np.array([1, 2, 3], dtype=np.int32)
    a = cb.asarray(x, device=device)
    with pytest.raises(OverflowError):
        np_fn(x, value)  # NumPy 2 refuses too
    with pytest.raises(OverflowError):
        fn(a, value)
    with pytest.raises(OverflowError):
        fn(value, a)
    if pyop is not None:
        with pytest.raises(OverflowError):
            pyop(a, value)
    # The bounds themselves fit; other dtypes take the value.
    check(op, fn, (a, 2 ** 31 - 1), np_fn, (x, 2 ** 31 - 1))
    check(op, fn, (a, -2 ** 31), np_fn, (x, -2 ** 31))
    x64 = x.astype(np.int64)
    check(op, fn, (cb.asarray(x64, device=device), value), np_fn,
          (x64, value))
    xf = x.astype(np.float32)
    check(op, fn, (cb.asarray(xf, device=device), value), np_fn, (xf, value))


def test_python_int_beyond_int64_with_float_array(device):
    """A weak Python int takes a float array's dtype, whatever its size."""
    for dtype in (np.float32, np.float64):
        x = np.array([1.0, -2.0], dtype=dtype)
        a = cb.asarray(x, device=device)
        check("add", cb.add, (a, 2 ** 70), np.add, (x, 2 ** 70))
        check("multiply", operator.mul, (2 ** 64, a), np.multiply,
              (2 ** 64, x))


def test_python_int_out_of_int64_range():
    a = cb.asarray(np.array([1, 2], dtype=np.int64))
    with pytest.raises(OverflowError):
        a + 2 ** 63
    with pytest.raises(OverflowError):
        2 ** 64 - a
    assert_same(a + (2 ** 63 - 1), np.array([1, 2], np.int64) + (2 ** 63 - 1))


# ---- tiling: arrays of several tiles ---------------------------------------------

@pytest.mark.parametrize("shape", [(1000003,), (1001, 1003)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.int64], ids=dtype_id)
def test_large_arrays(dtype, shape, device):
    n = int(np.prod(shape))
    rng = np.random.default_rng(5)
    if np.dtype(dtype).kind == "f":
        x = rng.uniform(-10, 10, n).astype(dtype).reshape(shape)
        y = rng.uniform(1, 10, n).astype(dtype).reshape(shape)
    else:
        x = rng.integers(-10 ** 6, 10 ** 6, n).astype(dtype).reshape(shape)
        y = rng.integers(1, 10 ** 6, n).astype(dtype).reshape(shape)
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    rtol = 1e-6 if np.dtype(dtype) == np.float32 else 1e-12
    assert_same(a + b, x + y, rtol=rtol)
    assert_same(a * 3 - b, x * 3 - y, rtol=rtol)
    assert_same(a / b, x / y, rtol=rtol)
    assert_same(cb.maximum(a, b), np.maximum(x, y))
    assert_same(a < b, x < y)
    assert_same(cb.where(a < b, a, b), np.where(x < y, x, y))
    z = cb.asarray(np.asarray(2, dtype=dtype), device=device)
    assert_same(a * z, x * np.asarray(2, dtype=dtype), rtol=rtol)
    assert_same(a.astype(np.float64), x.astype(np.float64))
    assert_same(-a, -x)
    if np.dtype(dtype).kind == "f":
        assert_same(cb.sqrt(b), np.sqrt(y), rtol=1e-5)
    else:
        assert_same(a.astype(np.int32) + b.astype(np.int32),
                    x.astype(np.int32) + y.astype(np.int32))


def test_chained_expression(device):
    x = np.linspace(-3, 3, 200001)
    a = cb.asarray(x, device=device)
    r = cb.tanh(a) * cb.exp(-(a * a)) + cb.where(a > 0, cb.sqrt(abs(a)), 0.5)
    with np.errstate(all="ignore"):
        expected = np.tanh(x) * np.exp(-(x * x)) + np.where(
            x > 0, np.sqrt(np.abs(x)), 0.5)
    assert_same(r, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=dtype_id)
def test_classification_gives_true_bools(dtype, device):
    """C's signbit and isinf may give any non-zero int (0x80000000 for a
    float's sign bit): the bools must still read true."""
    x = np.array([-1.0, -0.0, 0.0, -2.5, 1.0, -np.inf, np.inf, np.nan],
                 dtype=dtype)
    a = cb.asarray(x, device=device)
    for name in ("signbit", "isinf", "isnan", "isfinite"):
        got = getattr(cb, name)(a).numpy()
        np.testing.assert_array_equal(got, getattr(np, name)(x))
        assert got.view(np.uint8).max() <= 1


# ---- operands broadcast along the leading dimensions ----------------------

@pytest.mark.parametrize("big,small", [
    ((300, 256), (256,)), ((40, 30, 100), (30, 100)),
    ((40, 30, 100), (1, 1, 100)), ((300, 3), (3,)), ((7, 64), (1, 64))])
def test_rows_broadcast_along_leading_dimensions(device, big, small):
    # On CPU workers a row of 64 elements or more is read in place, once
    # for each period of the result; elsewhere it is copied out first.
    rng = np.random.default_rng(3)
    x = rng.standard_normal(big).astype(np.float32)
    r = rng.standard_normal(small).astype(np.float32)
    tile = int(np.prod(big[1:])) * 7  # several tiles
    a = cb.asarray(x, device=device, tile_size=tile)
    b = cb.asarray(r, device=device)
    np.testing.assert_allclose((a + b).numpy(), x + r, rtol=1e-6)
    np.testing.assert_allclose((b - a).numpy(), r - x, rtol=1e-6)
    np.testing.assert_array_equal((a > b).numpy(), x > r)
    np.testing.assert_allclose(cb.where(a > 0, b, a).numpy(),
                               np.where(x > 0, r, x), rtol=1e-6)
    c = cb.asarray(x.copy(), device=device, tile_size=tile)
    c += b
    np.testing.assert_allclose(c.numpy(), x + r, rtol=1e-6)
    xi = rng.integers(-9, 9, big)
    ri = rng.integers(-9, 9, small)
    np.testing.assert_array_equal(
        (cb.asarray(xi, device=device) * cb.asarray(ri, device=device))
        .numpy(), xi * ri)
    # A row of another dtype is cast first, then broadcast.
    np.testing.assert_allclose(
        (a * cb.asarray(ri, device=device)).numpy(), x * ri, rtol=1e-6)


@pytest.mark.parametrize("src", [np.float32, np.float64])
@pytest.mark.parametrize("dst", [np.int8, np.int16, np.int32, np.int64,
                                 np.uint8, np.uint16])
def test_floats_beyond_an_integer_range_cast_as_numpy(device, src, dst):
    # NumPy on x86-64: truncated through int64 (int64) or int32 (the
    # others, their low bits kept), the minimum beyond that range (NaN
    # too). GPUs saturate unless told otherwise.
    x = np.array([300.7, -300.7, 70000.5, -70000.5, 3e9, -3e9, 1e19, -1e19,
                  np.nan, np.inf, -np.inf], dtype=src)
    with np.errstate(all="ignore"):
        want = x.astype(dst)
    got = cb.asarray(x, device=device).astype(dst).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dst", [np.uint32, np.uint64])
def test_floats_to_wide_unsigned_integers_agree_on_every_device(device,
                                                                dst):
    # Beyond their range NumPy's answers depend on its compiler's code;
    # cambrian gives every device the CPU workers' answers (see README).
    x = np.array([3e9, -1.5, -3e9, 5e9, 1e19, 3e19, np.nan, np.inf, -np.inf,
                  12.7], dtype=np.float64)
    want = cb.asarray(x, device="cpu").astype(dst).numpy()
    got = cb.asarray(x, device=device).astype(dst).numpy()
    np.testing.assert_array_equal(got, want)
    assert got[0] == 3000000000 and got[1] == np.iinfo(dst).max
    assert got[-1] == 12
