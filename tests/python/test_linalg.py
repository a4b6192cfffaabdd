"""Linear algebra against NumPy: matmul (@), gemm, gemv and .T on every
device and float dtype; promotion and refusals at the call; failures of
the tasks and of their inputs.

Sizes stay small: CLBlast compiles its kernels on first use, which pocl
does slowly. A second runtime-independent pass uses shapes that span
several tiles (the automatic tile size keeps small matrices in one)."""

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults
from helpers import FLOAT_DTYPES, assert_alive, assert_same, dtype_id

RTOL = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-4,
        np.dtype(np.float64): 1e-11}
# The dtypes BLAS multiplies: gemm and gemv take these only; matmul also
# takes float16 (multiplied as float32, rounded back).
BLAS_DTYPES = [d for d in FLOAT_DTYPES if d != np.float16]


@pytest.fixture(params=BLAS_DTYPES, ids=dtype_id)
def dtype(request):
    return request.param


@pytest.fixture(autouse=True)
def _no_faults_left():
    yield
    faults.clear_faults()


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, shape).astype(dtype)


def close(got, expected, dtype):
    assert_same(got, expected, rtol=RTOL[np.dtype(dtype)],
                atol=RTOL[np.dtype(dtype)] * 10)


# ---- matmul ------------------------------------------------------------------

SHAPES = [((7, 5), (5, 3)),     # 2-D @ 2-D
          ((1, 4), (4, 1)),
          ((6, 4), (4,)),       # 2-D @ 1-D
          ((4,), (4, 5)),       # 1-D @ 2-D
          ((9,), (9,)),         # 1-D @ 1-D: a 0-D result
          ((3, 0), (0, 2)),     # empty inner dimension: zeros
          ((0, 3), (3, 2))]     # empty result


@pytest.mark.parametrize("sa,sb", SHAPES, ids=str)
def test_matmul(device, dtype, sa, sb):
    a, b = rand(sa, dtype, 1), rand(sb, dtype, 2)
    x, y = cb.asarray(a, device=device), cb.asarray(b, device=device)
    close(x @ y, a @ b, dtype)
    close(cb.matmul(x, y), np.matmul(a, b), dtype)


def test_matmul_places_result(device, dtype):
    x = cb.asarray(rand((3, 3), dtype), device=device)
    r = x @ x
    assert r.device == cb.get_device(device)
    close(r, rand((3, 3), dtype) @ rand((3, 3), dtype), dtype)


def test_matmul_with_numpy_operands(dtype):
    a, b = rand((4, 3), dtype), rand((3, 2), dtype)
    close(cb.asarray(a) @ b, a @ b, dtype)
    close(a @ cb.asarray(b), a @ b, dtype)      # __rmatmul__
    close(cb.matmul(a, b), a @ b, dtype)


def test_matmul_chain(device, dtype):
    a = rand((8, 8), dtype)
    x = cb.asarray(a, device=device)
    close((x @ x) @ x + 1, a @ a @ a + 1, dtype)


@pytest.mark.parametrize("ta,tb,expected", [
    ("float32", "float64", "float64"),
    ("int32", "float32", "float64"),
    ("bool", "float32", "float32"),
    ("int64", "float64", "float64")])
def test_matmul_promotes_like_numpy(ta, tb, expected):
    a = np.arange(6).reshape(2, 3).astype(ta)
    b = np.arange(6).reshape(3, 2).astype(tb)
    assert np.result_type(a, b) == np.dtype(expected)
    assert_same(cb.asarray(a) @ cb.asarray(b), a @ b, rtol=1e-6)


@pytest.mark.parametrize("t", ["int32", "int64", "bool", "uint8"])
def test_matmul_integers_are_exact(t):
    """BLAS has no integer products: they are summed products, exact and
    wrapping around as NumPy's."""
    x = (np.arange(12) * 977).reshape(3, 4).astype(t)
    a = cb.asarray(x)
    got = (a @ a.T).numpy()
    assert got.dtype == (x @ x.T).dtype
    np.testing.assert_array_equal(got, x @ x.T)


@pytest.mark.parametrize("sa,sb", [((2, 3), (2, 3)), ((3,), (4,)),
                                   ((2, 3), (4,)), ((5,), (4, 2))],
                         ids=str)
def test_matmul_shape_mismatch(sa, sb):
    with pytest.raises(ValueError, match="inner dimension"):
        cb.asarray(np.ones(sa)) @ cb.asarray(np.ones(sb))


def test_matmul_scalars_refused():
    a = cb.asarray(np.ones((2, 2)))
    with pytest.raises(ValueError):
        a @ 2.0
    with pytest.raises(ValueError):
        cb.matmul(a, cb.asarray(np.float64(2.0)))
    with pytest.raises(TypeError):
        a @ "x"


def test_matmul_different_devices(opencl_device):
    a = cb.asarray(np.ones((2, 2)), device="cpu")
    b = cb.asarray(np.ones((2, 2)), device=opencl_device)
    with pytest.raises(ValueError, match="to_device"):
        a @ b


# ---- gemm and gemv ------------------------------------------------------------

@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm(device, dtype, ta, tb):
    m, n, k = 6, 5, 4
    a = rand((k, m) if ta else (m, k), dtype, 1)
    b = rand((n, k) if tb else (k, n), dtype, 2)
    c0 = rand((m, n), dtype, 3)
    c = cb.asarray(c0, device=device, copy=True)
    r = cb.gemm(1.5, cb.asarray(a, device=device), cb.asarray(b, device=device),
                -0.5, c, trans_a=ta, trans_b=tb)
    assert r is c
    opa = a.T if ta else a
    opb = b.T if tb else b
    close(c, (1.5 * (opa @ opb) + -0.5 * c0).astype(dtype), dtype)


def test_gemm_beta_zero_ignores_nan(device, dtype):
    a, b = rand((3, 4), dtype, 1), rand((4, 2), dtype, 2)
    c = cb.asarray(np.full((3, 2), np.nan, dtype), device=device, copy=True)
    cb.gemm(1.0, cb.asarray(a, device=device), cb.asarray(b, device=device),
            0.0, c)
    close(c, a @ b, dtype)


def test_gemm_orders_with_other_writes(device, dtype):
    a = rand((4, 4), dtype, 1)
    x = cb.asarray(a, device=device)
    c = cb.zeros((4, 4), dtype=dtype, device=device)
    for _ in range(3):
        cb.gemm(1.0, x, x, 1.0, c)
    close(c + 0, 3 * (a @ a), dtype)


@pytest.mark.parametrize("trans", [False, True])
def test_gemv(device, dtype, trans):
    a = rand((5, 7), dtype, 1)
    x = rand(5 if trans else 7, dtype, 2)
    y0 = rand(7 if trans else 5, dtype, 3)
    y = cb.asarray(y0, device=device, copy=True)
    r = cb.gemv(2.0, cb.asarray(a, device=device),
                cb.asarray(x, device=device), 0.25, y, trans=trans)
    assert r is y
    opa = a.T if trans else a
    close(y, (2.0 * (opa @ x) + 0.25 * y0).astype(dtype), dtype)


def test_gemm_refusals():
    f64 = cb.asarray(np.ones((2, 2)))
    f32 = cb.asarray(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="gemm"):
        cb.gemm(1.0, f64, f64, 0.0, cb.asarray(np.ones((2, 3))))
    with pytest.raises(ValueError, match="gemm"):
        cb.gemm(1.0, f64, cb.asarray(np.ones((3, 2))), 0.0, f64 + 0)
    with pytest.raises(TypeError, match="astype"):
        cb.gemm(1.0, f32, f64, 0.0, f64 + 0)
    with pytest.raises(TypeError):
        i = cb.asarray(np.ones((2, 2), np.int64))
        cb.gemm(1.0, i, i, 0.0, i + 0)
    with pytest.raises(TypeError, match="cambrian.Array"):
        cb.gemm(1.0, f64, f64, 0.0, np.ones((2, 2)))
    with pytest.raises(ValueError, match="operand"):
        cb.gemm(1.0, f64, f64, 0.0, f64)
    with pytest.raises(ValueError, match="2-D"):
        cb.gemm(1.0, cb.asarray(np.ones(2)), f64, 0.0, f64 + 0)


def test_gemv_refusals():
    a = cb.asarray(np.ones((2, 3)))
    with pytest.raises(ValueError, match="gemv"):
        cb.gemv(1.0, a, cb.asarray(np.ones(2)), 0.0, cb.zeros(2))
    with pytest.raises(ValueError, match="gemv"):
        cb.gemv(1.0, a, cb.asarray(np.ones(3)), 0.0, cb.zeros(3))
    with pytest.raises(ValueError, match="gemv"):
        cb.gemv(1.0, a, a, 0.0, cb.zeros(2))
    with pytest.raises(TypeError):
        cb.gemv(1.0, a, cb.asarray(np.ones(3, np.float32)), 0.0, cb.zeros(2))


# ---- transpose -----------------------------------------------------------------

@pytest.mark.parametrize("t", ["float32", "float64", "int32", "int64",
                               "bool"])
def test_transpose(device, t):
    a = (np.arange(35).reshape(5, 7) % 3).astype(t)
    x = cb.asarray(a, device=device)
    assert_same(x.T, a.T)
    assert_same(cb.transpose(x), a.T)
    assert_same(x.T.T, a)


def test_transpose_of_vectors_is_itself():
    v = cb.asarray(np.arange(3.0))
    assert v.T is v
    s = cb.asarray(np.float64(2.0))
    assert s.T is s


def test_transpose_feeds_matmul(device, dtype):
    a = rand((4, 6), dtype)
    x = cb.asarray(a, device=device)
    close(x.T @ x, a.T @ a, dtype)


# ---- several tiles -------------------------------------------------------------

def test_multi_tile(device, dtype):
    """Matrices over the minimum tile size split into row blocks: A's rows
    for a block of C span A's tiles, B is gathered on OpenCL."""
    m, k, n = 700, 300, 250          # A, B and C: several tiles each
    a, b = rand((m, k), dtype, 1), rand((k, n), dtype, 2)
    x, y = cb.asarray(a, device=device), cb.asarray(b, device=device)
    close(x @ y, a @ b, dtype)
    v = rand(k, dtype, 3)
    close(x @ cb.asarray(v, device=device), a @ v, dtype)
    w = rand(m, dtype, 4)
    close(cb.asarray(w, device=device) @ x, w @ a, dtype)
    assert_same(x.T, a.T)


def test_products_reuse_the_scratch_of_their_device(device, dtype):
    """Products one after the other, growing, shrinking and gathering:
    each device keeps its scratch buffers (gathered operands, CLBlast's
    temporary matrices) from one task to the next and grows them when a
    product needs more; every result stays NumPy's."""
    shapes = [(96, 64, 80), (700, 300, 250), (33, 17, 5), (700, 300, 250),
              (1100, 300, 260)]
    results = []
    for i, (m, k, n) in enumerate(shapes):
        a, b = rand((m, k), dtype, 10 + i), rand((k, n), dtype, 20 + i)
        x, y = cb.asarray(a, device=device), cb.asarray(b, device=device)
        results.append((x @ y, a @ b))
        results.append((x.T.T @ y, a @ b))
    for got, want in results:  # submitted together, checked after
        close(got, want, dtype)


# ---- failures ---------------------------------------------------------------------

@pytest.mark.parametrize("op", ["matmul", "gemm", "gemv", "transpose"])
def test_fault_marks_result_and_dependents(device, op):
    dev = cb.get_device(device)
    faults.inject_fault(op, device=dev, nth=1,
                        cl_status="CL_OUT_OF_RESOURCES")
    a = cb.asarray(rand((4, 4), np.float64), device=device)
    if op == "matmul":
        r = a @ a
    elif op == "gemm":
        r = cb.gemm(1.0, a, a, 0.0, cb.zeros((4, 4), device=device))
    elif op == "gemv":
        r = cb.gemv(1.0, a, cb.asarray(np.ones(4), device=device), 0.0,
                    cb.zeros(4, device=device))
    else:
        r = a.T
    with pytest.raises(cb.DeviceError) as info:
        r.numpy()
    assert info.value.cl_status == "CL_OUT_OF_RESOURCES"
    d = cb.sqrt(r * 2)
    with pytest.raises(cb.DependencyError) as info:
        d.numpy()
    assert isinstance(info.value.__cause__, cb.DeviceError)
    assert_alive()


def test_failed_input_is_a_dependency_error(device, dtype):
    faults.inject_fault("add", device=cb.get_device(device), nth=1)
    a = cb.asarray(rand((3, 3), dtype), device=device) + 1
    with pytest.raises(cb.DependencyError) as info:
        (a @ a).numpy()
    assert isinstance(info.value.__cause__, cb.DeviceError)
    c = cb.zeros((3, 3), dtype=dtype, device=device)
    cb.gemm(1.0, a, a, 1.0, c)
    with pytest.raises(cb.DependencyError):
        c.numpy()
    with pytest.raises(cb.DependencyError):
        c.future.result(timeout=60)


def test_failed_matmul_future(device):
    faults.inject_fault("matmul", device=cb.get_device(device), nth=1)
    a = cb.asarray(np.ones((2, 2)), device=device)
    with pytest.raises(cb.DeviceError):
        (a @ a).future.result(timeout=60)
