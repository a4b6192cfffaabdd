"""cb.Kernel: custom OpenCL kernels as tasks, on every OpenCL device present.

Global sizes of 1 to 3 dimensions with and without local sizes; In, Out and
InOut; an array passed twice; arrays of several tiles (gathered into one
buffer for the kernel) and 2-D arrays; every dtype as a buffer and every
scalar type as an argument; argument checks at the call; build failures;
launch failures and device assertions on the right future, on the arrays
written and on their dependents; device choice; threads and asyncio.
"""

import asyncio
import concurrent.futures as cf
import os
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults

from helpers import assert_alive, assert_same, has_opencl, reserve


def _opencl_devices():
    """Every OpenCL device present (pocl here; GPUs where there are some)."""
    if not has_opencl():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="no OpenCL device"))]
    return [d.filter_string for d in cb.devices("opencl")]


@pytest.fixture(params=_opencl_devices())
def kdev(request):
    """An OpenCL device, as a cb.Device; faults left over are cleared and
    failures nobody retrieved are dropped after the test."""
    yield cb.get_device(request.param)
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception:  # a failure a test provoked on purpose
        pass


needs_pocl = pytest.mark.skipif(not cb.devices("opencl:cpu"),
                                reason="no OpenCL device of type CPU")


def line_of(source, text):
    """The line number (from 1) of the first line of source holding text."""
    for i, line in enumerate(source.splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(f"{text!r} not in the source")


def names(param):
    """A pattern matching an error message that names a parameter, as
    'x' or (x)."""
    return rf"'{param}'|\({param}\)"


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


# ---- kernels shared by the tests (built once per device) ------------------

SCALE_SRC = """
__kernel void scale(__global const float *x, __global float *y,
                    const float a, const int n) {
  int i = get_global_id(0);
  if (i < n)
    y[i] = a * x[i];
}
"""
SCALE = cb.Kernel(SCALE_SRC, "scale")

INDEX2D = cb.Kernel("""
__kernel void index2d(__global int *out) {
  size_t x = get_global_id(0), y = get_global_id(1);
  out[y * get_global_size(0) + x] = (int)(x + 1000 * y);
}
""", "index2d")

INDEX3D = cb.Kernel("""
__kernel void index3d(__global long *out) {
  size_t x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  size_t nx = get_global_size(0), ny = get_global_size(1);
  out[(z * ny + y) * nx + x] = (long)(x + 100 * y + 10000 * z);
}
""", "index3d")

INC = cb.Kernel("""
__kernel void inc(__global float *a, const float by) {
  a[get_global_id(0)] += by;
}
""", "inc")

ADD2 = cb.Kernel("""
__kernel void add2(__global const float *a, __global const float *b,
                   __global float *c) {
  size_t i = get_global_id(0);
  c[i] = a[i] + b[i];
}
""", "add2")

SAXPY = cb.Kernel("""
__kernel void saxpy(const float a, __global const float *x,
                    __global float *y, const int n) {
  int i = get_global_id(0);
  if (i < n)
    y[i] = a * x[i] + y[i];
}
""", "saxpy")

TRANSPOSE = cb.Kernel("""
__kernel void transpose(__global const float *in, __global float *out,
                        const int rows, const int cols) {
  int c = get_global_id(0), r = get_global_id(1);
  if (r < rows && c < cols)
    out[c * rows + r] = in[r * cols + c];
}
""", "transpose")


# ---- global and local sizes -----------------------------------------------

@pytest.mark.parametrize("local", [None, 64, (32,)])
def test_scale_1d(kdev, local):
    n = 1000
    x = np.arange(n, dtype=np.float32) - 300.5
    a = cb.asarray(x, device=kdev)
    y = cb.empty(n, dtype=cb.float32, device=kdev)
    # A launch rounded up to a multiple of the local size: the kernel's
    # bound check keeps the extra work-items out.
    gsize = n if local is None else 1024
    fut = SCALE(gsize, cb.In(a), cb.Out(y), np.float32(-2.5), n,
                local_size=local, device=kdev)
    assert fut.result(timeout=60) is None
    assert_same(y, x * np.float32(-2.5))
    np.testing.assert_array_equal(a.numpy(), x)  # In is left alone


def test_result_is_none_and_the_future_is_a_future(kdev):
    x = cb.asarray(np.ones(8, np.float32), device=kdev)
    y = cb.empty(8, dtype=cb.float32, device=kdev)
    fut = SCALE(8, x, cb.Out(y), np.float32(3), 8)
    assert isinstance(fut, cb.Future) and isinstance(fut, cf.Future)
    assert fut.result(timeout=60) is None
    assert fut.done() and fut.exception() is None and not fut.cancelled()
    assert_same(y, np.full(8, 3, np.float32))


@pytest.mark.parametrize("local", [None, (4, 5)], ids=["nolocal", "local"])
def test_global_size_2d(kdev, local):
    nx, ny = 16, 25
    out = cb.empty((ny, nx), dtype=cb.int32, device=kdev)
    INDEX2D((nx, ny), cb.Out(out), local_size=local).result(timeout=60)
    y, x = np.mgrid[0:ny, 0:nx]
    assert_same(out, (x + 1000 * y).astype(np.int32))


@pytest.mark.parametrize("local", [None, (2, 3, 1), (4, 1, 5)],
                         ids=["nolocal", "local231", "local415"])
def test_global_size_3d(kdev, local):
    nx, ny, nz = 8, 6, 5
    out = cb.empty(nx * ny * nz, dtype=cb.int64, device=kdev)
    INDEX3D((nx, ny, nz), cb.Out(out), local_size=local).result(timeout=60)
    z, y, x = np.mgrid[0:nz, 0:ny, 0:nx]
    assert_same(out, (x + 100 * y + 10000 * z).astype(np.int64).ravel())


@pytest.mark.parametrize("gsize,local", [
    (0, None), (-4, None), ((1, 2, 3, 4), None), ((), None),
    ((4, 4), 2), ((8,), (0,)), ((8,), (2, 2))])
def test_bad_sizes_raise_at_the_call(kdev, gsize, local):
    y = cb.empty(64, dtype=cb.int32, device=kdev)
    with pytest.raises(ValueError):
        INDEX2D(gsize, cb.Out(y), local_size=local)


# ---- access modes ---------------------------------------------------------

def test_inout_accumulates_in_order(kdev):
    x = np.linspace(-1, 1, 257, dtype=np.float32)
    a = cb.asarray(x.copy(), device=kdev)
    for by in (1.0, 2.0, 0.5):
        INC(a.size, cb.InOut(a), by)     # Python floats become float
    fut = INC(a.size, cb.InOut(a), np.float32(-0.25))
    fut.result(timeout=60)
    assert_same(a, x + np.float32(3.25), rtol=1e-6)


def test_same_array_in_and_out(kdev):
    x = np.arange(100, dtype=np.float32)
    a = cb.asarray(x.copy(), device=kdev)
    SCALE(100, cb.In(a), cb.Out(a), np.float32(2), 100).result(timeout=60)
    assert_same(a, x * 2)


def test_same_array_as_two_inputs(kdev):
    x = np.arange(50, dtype=np.float32) * 0.5
    a = cb.asarray(x, device=kdev)
    c = cb.empty(50, dtype=cb.float32, device=kdev)
    ADD2(50, a, a, cb.Out(c)).result(timeout=60)
    assert_same(c, x + x)


def test_same_array_as_input_and_output(kdev):
    x = np.arange(64, dtype=np.float32)
    b = np.full(64, 10, np.float32)
    a = cb.asarray(x.copy(), device=kdev)
    ADD2(64, a, cb.asarray(b, device=kdev), cb.Out(a)).result(timeout=60)
    assert_same(a, x + b)


def test_bare_arrays_are_inputs(kdev):
    x = np.arange(32, dtype=np.float32)
    a = cb.asarray(x.copy(), device=kdev)
    b = cb.asarray(x.copy(), device=kdev)
    c = cb.empty(32, dtype=cb.float32, device=kdev)
    ADD2(32, a, b, cb.Out(c)).result(timeout=60)
    assert_same(c, 2 * x)
    assert_same(a, x)
    assert_same(b, x)


def test_in_with_a_numpy_array(kdev):
    x = np.arange(16, dtype=np.float32)
    y = cb.empty(16, dtype=cb.float32, device=kdev)
    SCALE(16, cb.In(x), cb.Out(y), np.float32(4), 16,
          device=kdev).result(timeout=60)
    assert_same(y, x * 4)


def test_a_numpy_array_where_a_buffer_is_expected_needs_a_wrapper(kdev):
    y = cb.empty(16, dtype=cb.float32, device=kdev)
    with pytest.raises(TypeError, match=names("x")):
        SCALE(16, np.ones(16, np.float32), cb.Out(y), np.float32(1), 16,
              device=kdev)


def test_out_with_a_numpy_array_receives_the_result(kdev):
    out = np.zeros(16, np.float32)
    x = cb.asarray(np.arange(16, dtype=np.float32), device=kdev)
    SCALE(16, x, cb.Out(out), np.float32(2), 16).result(timeout=60)
    cb.synchronize()
    np.testing.assert_array_equal(out, np.arange(16, dtype=np.float32) * 2)


def test_synchronize_waits_for_out_arrays_to_come_home(kdev):
    # The wrapped NumPy array is unregistered by the reclaim thread after
    # the launch's future resolves; cb.synchronize() must wait for the
    # data it brings home. It often did not (a few % of the launches).
    x = cb.asarray(np.arange(4096, dtype=np.float32), device=kdev)
    want = np.arange(4096, dtype=np.float32) * 2
    late = 0
    for _ in range(100):
        out = np.zeros(4096, np.float32)
        SCALE(4096, x, cb.Out(out), np.float32(2), 4096).result(timeout=60)
        cb.synchronize()
        late += not np.array_equal(out, want)
    assert late == 0, f"{late} of 100 results came home after synchronize()"


def test_results_feed_element_wise_operations(kdev):
    x = np.arange(1000, dtype=np.float32)
    a = cb.asarray(x, device=kdev)
    y = cb.empty(1000, dtype=cb.float32, device=kdev)
    SCALE(1000, a, cb.Out(y), np.float32(0.5), 1000)
    z = cb.sqrt(y + 1.0)          # ordered after the kernel by its data
    assert_same(z, np.sqrt(x * np.float32(0.5) + np.float32(1)), rtol=1e-6)
    w = (a * 2.0).astype(cb.float32)  # an element-wise result into a kernel
    INC(1000, cb.InOut(w), np.float32(1))
    assert_same(w, x * 2 + 1)


# ---- large and 2-D arrays (several tiles) ---------------------------------

def test_several_tiles_gathered_and_scattered(kdev):
    n = 3_000_000                   # several tiles per array
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float32)
    y0 = rng.standard_normal(n).astype(np.float32)
    a = cb.asarray(x, device=kdev)
    y = cb.asarray(y0.copy(), device=kdev)
    SAXPY(n, np.float32(3), a, cb.InOut(y), n).result(timeout=120)
    assert_same(y, np.float32(3) * x + y0, rtol=1e-6, atol=1e-6)
    # Tiles written by element-wise tasks on the device, then a kernel
    # reading them and writing a fresh array of several tiles.
    b = a * 2.0
    out = cb.empty(n, dtype=cb.float32, device=kdev)
    SCALE(n, b, cb.Out(out), np.float32(-1), n).result(timeout=120)
    assert_same(out, -(x * 2), rtol=1e-6)
    np.testing.assert_allclose((out + 1).numpy()[-5:], 1 - x[-5:] * 2,
                               rtol=1e-6)


@pytest.mark.parametrize("shape", [(7, 5), (600, 500)], ids=str)
def test_2d_arrays(kdev, shape):
    rows, cols = shape
    x = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    a = cb.asarray(x, device=kdev)
    t = cb.empty((cols, rows), dtype=cb.float32, device=kdev)
    local = (16, 16) if rows >= 16 else None
    gx = -(-cols // 16) * 16 if local else cols
    gy = -(-rows // 16) * 16 if local else rows
    TRANSPOSE((gx, gy), a, cb.Out(t), rows, cols,
              local_size=local).result(timeout=60)
    assert_same(t, x.T.copy())
    assert t.shape == (cols, rows)


# ---- dtypes of buffers and scalars ----------------------------------------

FP64 = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
BUFFER_TYPES = {
    # dtype: (OpenCL type, expression of x[i] and s)
    "bool": ("uchar", "x[i] ^ s"),
    "int32": ("int", "x[i] * 3 + s"),
    "int64": ("long", "x[i] * 3 + s"),
    "float32": ("float", "x[i] * 3 + s"),
    "float64": ("double", "x[i] * 3 + s"),
}
_typed = {}


def typed_kernel(dtype):
    ctype, expr = BUFFER_TYPES[dtype]
    if dtype not in _typed:
        src = (FP64 if ctype == "double" else "") + f"""
__kernel void op_{dtype}(__global const {ctype} *x, __global {ctype} *y,
                         const {ctype} s) {{
  size_t i = get_global_id(0);
  y[i] = {expr};
}}"""
        _typed[dtype] = cb.Kernel(src, f"op_{dtype}")
    return _typed[dtype]


def typed_input(dtype, n=1000):
    rng = np.random.default_rng(2)
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool)
    if dtype.startswith("int"):
        return rng.integers(-10**6, 10**6, n).astype(dtype)
    return rng.uniform(-1e3, 1e3, n).astype(dtype)


def skip_without_fp64(dev, dtype):
    if np.dtype(dtype) == np.float64 and not dev.fp64:
        pytest.skip(f"{dev} has no float64")


@pytest.mark.parametrize("dtype", list(BUFFER_TYPES))
@pytest.mark.parametrize("scalar_kind", ["numpy", "python"])
def test_buffer_dtypes(kdev, dtype, scalar_kind):
    skip_without_fp64(kdev, dtype)
    k = typed_kernel(dtype)
    x = typed_input(dtype)
    a = cb.asarray(x, device=kdev)
    y = cb.empty(x.size, dtype=x.dtype, device=kdev)
    if dtype == "bool":
        s = np.uint8(1) if scalar_kind == "numpy" else 1
        expected = ~x
    else:
        s = np.dtype(dtype).type(7) if scalar_kind == "numpy" else 7
        if scalar_kind == "python" and dtype.startswith("float"):
            s = 7.0
        expected = x * x.dtype.type(3) + x.dtype.type(7)
    k(x.size, a, cb.Out(y), s).result(timeout=60)
    assert_same(y, expected, rtol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", list(BUFFER_TYPES))
def test_array_of_the_wrong_dtype_raises_at_the_call(kdev, dtype):
    skip_without_fp64(kdev, dtype)
    k = typed_kernel(dtype)
    other = "float32" if dtype != "float32" else "int32"
    x = cb.asarray(typed_input(other, 10), device=kdev)
    y = cb.empty(10, dtype=np.dtype(dtype), device=kdev)
    s = np.uint8(1) if dtype == "bool" else np.dtype(dtype).type(1)
    with pytest.raises(TypeError, match=names("x")):
        k(10, x, cb.Out(y), s)
    k(10, cb.asarray(typed_input(dtype, 10), device=kdev), cb.Out(y),
      s).result(timeout=60)  # the kernel still works


INT_PARAMS = [("c", "char", np.int8), ("uc", "uchar", np.uint8),
              ("s", "short", np.int16), ("us", "ushort", np.uint16),
              ("i", "int", np.int32), ("ui", "uint", np.uint32),
              ("l", "long", np.int64), ("ul", "ulong", np.uint64)]
INTS = cb.Kernel("""
__kernel void ints(__global long *o, char c, uchar uc, short s, ushort us,
                   int i, uint ui, long l, ulong ul) {
  o[0] = c; o[1] = uc; o[2] = s; o[3] = us;
  o[4] = i; o[5] = ui; o[6] = l; o[7] = (long)ul;
}
""", "ints")
FLOATS = cb.Kernel("""
__kernel void floats(__global float *o, float f, int i) {
  o[0] = f; o[1] = (float)i;
}
""", "floats")
DOUBLES = cb.Kernel(FP64 + """
__kernel void doubles(__global double *o, double d, float f) {
  o[0] = d; o[1] = (double)f;
}
""", "doubles")


def int_extremes(which):
    return [getattr(np.iinfo(t), which) for _, _, t in INT_PARAMS]


@pytest.mark.parametrize("which", ["min", "max"])
@pytest.mark.parametrize("kind", ["numpy", "python"])
def test_integer_scalars_of_every_type(kdev, which, kind):
    values = int_extremes(which)
    args = ([t(v) for (_, _, t), v in zip(INT_PARAMS, values)]
            if kind == "numpy" else [int(v) for v in values])
    o = cb.empty(8, dtype=cb.int64, device=kdev)
    INTS(1, cb.Out(o), *args).result(timeout=60)
    expected = np.array(values[:7] + [np.uint64(values[7]).astype(np.int64)],
                        dtype=np.int64)
    assert_same(o, expected)


def test_python_bools_are_integers(kdev):
    o = cb.empty(8, dtype=cb.int64, device=kdev)
    INTS(1, cb.Out(o), True, False, 1, 2, 3, 4, 5, 6).result(timeout=60)
    assert_same(o, np.array([1, 0, 1, 2, 3, 4, 5, 6], np.int64))


@pytest.mark.parametrize("f,i", [(np.float32(1.5), np.int32(-3)),
                                 (1.5, -3), (2, 7), (-np.inf, 0)],
                         ids=["numpy", "python", "int_for_float", "inf"])
def test_float_scalars(kdev, f, i):
    o = cb.empty(2, dtype=cb.float32, device=kdev)
    FLOATS(1, cb.Out(o), f, i).result(timeout=60)
    assert_same(o, np.array([f, i], dtype=np.float32))


def test_double_scalars(kdev):
    if not kdev.fp64:
        pytest.skip(f"{kdev} has no float64")
    o = cb.empty(2, dtype=cb.float64, device=kdev)
    DOUBLES(1, cb.Out(o), np.float64(1 / 3), np.float32(0.1)).result(60)
    assert_same(o, np.array([1 / 3, np.float32(0.1)], np.float64))
    DOUBLES(1, cb.Out(o), 1e300, 0.25).result(60)  # Python floats
    assert_same(o, np.array([1e300, 0.25], np.float64))


def _int_args(**change):
    args = {name: t(1) for name, _, t in INT_PARAMS}
    args.update(change)
    return list(args.values())


WRONG_NUMPY_TYPE = {"c": np.int16(1), "uc": np.int8(1), "s": np.int32(1),
                    "us": np.int16(1), "i": np.int64(1), "ui": np.int32(1),
                    "l": np.int32(1), "ul": np.int64(1)}


@pytest.mark.parametrize("name", [p[0] for p in INT_PARAMS])
def test_numpy_scalar_of_another_type_is_a_type_error(kdev, name):
    o = cb.empty(8, dtype=cb.int64, device=kdev)
    with pytest.raises(TypeError, match=names(name)):
        INTS(1, cb.Out(o), *_int_args(**{name: WRONG_NUMPY_TYPE[name]}))
    with pytest.raises(TypeError, match=names(name)):
        INTS(1, cb.Out(o), *_int_args(**{name: np.float32(1)}))


@pytest.mark.parametrize("name", [p[0] for p in INT_PARAMS])
@pytest.mark.parametrize("value", [1.0, 2.5, float("nan")])
def test_float_for_an_integer_parameter_is_a_type_error(kdev, name, value):
    o = cb.empty(8, dtype=cb.int64, device=kdev)
    with pytest.raises(TypeError, match=names(name)):
        INTS(1, cb.Out(o), *_int_args(**{name: value}))


@pytest.mark.parametrize("name", [p[0] for p in INT_PARAMS])
@pytest.mark.parametrize("side", ["below", "above"])
def test_out_of_range_integer_is_an_overflow_error(kdev, name, side):
    t = dict((p[0], p[2]) for p in INT_PARAMS)[name]
    info = np.iinfo(t)
    value = int(info.min) - 1 if side == "below" else int(info.max) + 1
    o = cb.empty(8, dtype=cb.int64, device=kdev)
    with pytest.raises(OverflowError):
        INTS(1, cb.Out(o), *_int_args(**{name: value}))


@pytest.mark.parametrize("bad", [np.float64(1.0), np.int32(1), "1", None,
                                 [1.0], np.array([1.0], np.float32)],
                         ids=["float64", "int32", "str", "None", "list",
                              "ndarray"])
def test_wrong_scalar_for_a_float_parameter(kdev, bad):
    o = cb.empty(2, dtype=cb.float32, device=kdev)
    with pytest.raises(TypeError, match=names("f")):
        FLOATS(1, cb.Out(o), bad, 0)


# ---- argument checks at the call ------------------------------------------

@pytest.mark.parametrize("nargs", [0, 1, 3, 5])
def test_wrong_argument_count_names_the_parameters(kdev, nargs):
    x = cb.asarray(np.ones(4, np.float32), device=kdev)
    y = cb.empty(4, dtype=cb.float32, device=kdev)
    args = [x, cb.Out(y), np.float32(1), 4, 5][:nargs]
    with pytest.raises(TypeError) as info:
        SCALE(4, *args)
    msg = str(info.value)
    assert "scale(x, y, a, n)" in msg, msg
    assert "4 arguments" in msg and f"got {nargs}" in msg


def test_array_where_a_scalar_is_expected(kdev):
    x = cb.asarray(np.ones(4, np.float32), device=kdev)
    y = cb.empty(4, dtype=cb.float32, device=kdev)
    for a in (cb.asarray(np.ones(1, np.float32), device=kdev),
              cb.In(np.ones(1, np.float32))):
        with pytest.raises(TypeError, match=names("a")):
            SCALE(4, x, cb.Out(y), a, 4)


def test_scalar_where_a_buffer_is_expected(kdev):
    y = cb.empty(4, dtype=cb.float32, device=kdev)
    for x in (np.float32(1), 1.0, None):
        with pytest.raises(TypeError, match=names("x")):
            SCALE(4, x, cb.Out(y), np.float32(1), 4)
    with pytest.raises(TypeError, match=names("y")):
        SCALE(4, cb.asarray(np.ones(4, np.float32)), 3, np.float32(1), 4,
              device=kdev)


def test_misuse_submits_nothing(kdev):
    y = cb.asarray(np.full(4, 9, np.float32), device=kdev)
    with pytest.raises(TypeError):
        SCALE(4, y, cb.Out(y), np.float64(1), 4)
    assert y.future.done()
    assert_same(y, np.full(4, 9, np.float32))


# ---- build failures -------------------------------------------------------

BAD_SRC = """
__kernel void bad(__global float *x) {
  x[get_global_id(0)] = undefined_thing;
}
"""


def test_build_failure_raises_at_the_call_with_the_log(kdev):
    k = cb.Kernel(BAD_SRC, "bad")     # nothing is built yet
    y = cb.empty(4, dtype=cb.float32, device=kdev)
    with pytest.raises(cb.KernelBuildError) as info:
        k(4, cb.Out(y), device=kdev)
    e = info.value
    assert isinstance(e, cb.CambrianError)
    assert isinstance(e.build_log, str) and e.build_log
    assert "undefined_thing" in e.build_log
    assert e.device == kdev
    with pytest.raises(cb.KernelBuildError):   # again, from the cache
        k.build(kdev)
    # The process and the runtime go on.
    y2 = cb.empty(4, dtype=cb.float32, device=kdev)
    SCALE(4, cb.asarray(np.ones(4, np.float32), device=kdev), cb.Out(y2),
          np.float32(2), 4).result(timeout=60)
    assert_same(y2, np.full(4, 2, np.float32))
    assert_alive()


@pytest.mark.parametrize("src", [
    "__kernel void one(__global float *x) { x[0] = 1.0f; }",
    "__kernel void one(__global float *x) { x[0] = 1.0f; CB_ASSERT(1); }",
], ids=["plain", "with_assert"])
def test_a_source_without_the_named_kernel(kdev, src):
    y = cb.empty(1, dtype=cb.float32, device=kdev)
    with pytest.raises(cb.KernelBuildError, match="two"):
        cb.Kernel(src, "two")(1, cb.Out(y), device=kdev)
    k = cb.Kernel(src, "one")     # the kernel that is there works
    k(1, cb.Out(y), device=kdev).result(timeout=60)
    assert_same(y, np.ones(1, np.float32))


def test_missing_kernel_with_assertions_has_a_build_log(kdev):
    src = "__kernel void one(__global float *x) { CB_ASSERT(x[0] > 0); }"
    with pytest.raises(cb.KernelBuildError) as info:
        cb.Kernel(src, "two").build(kdev)
    assert info.value.build_log and info.value.device == kdev


def test_build_options(kdev):
    k = cb.Kernel("__kernel void opt(__global int *x) "
                  "{ x[get_global_id(0)] = SCALE * 2; }", "opt",
                  options="-DSCALE=21")
    y = cb.empty(5, dtype=cb.int32, device=kdev)
    k(5, cb.Out(y), device=kdev).result(timeout=60)
    assert_same(y, np.full(5, 42, np.int32))


def test_build_returns_the_device(kdev):
    k = cb.Kernel(SCALE_SRC, "scale")
    dev = k.build(kdev)
    assert isinstance(dev, cb.Device) and dev == kdev
    assert k.build(kdev.filter_string) == kdev


def test_build_without_a_device_picks_an_opencl_device():
    if not has_opencl():
        pytest.skip("no OpenCL device")
    dev = cb.Kernel(SCALE_SRC, "scale").build()
    assert dev.backend == "opencl"
    gpus = cb.devices("opencl:gpu")
    if gpus:
        assert dev == gpus[0]


# ---- launch failures: the future, the arrays written, the dependents ------

def test_invalid_local_size_fails_the_future_and_poisons(kdev):
    n = 1000
    x = cb.asarray(np.arange(n, dtype=np.float32), device=kdev)
    y = cb.empty(n, dtype=cb.float32, device=kdev)
    fut = SCALE(n, x, cb.Out(y), np.float32(2), n, local_size=7)
    with pytest.raises(cb.DeviceError) as info:
        fut.result(timeout=60)
    e = info.value
    assert e.cl_status == "CL_INVALID_WORK_GROUP_SIZE"
    assert e.device == kdev and e.task == "scale"
    assert not isinstance(e, (cb.DeviceMemoryError, cb.DeviceAssertionError))
    assert isinstance(fut.exception(), cb.DeviceError)
    # The array written is poisoned.
    with pytest.raises(cb.DeviceError) as read:
        y.numpy()
    assert read.value.cl_status == "CL_INVALID_WORK_GROUP_SIZE"
    # Dependents do not run: an element-wise operation, a second kernel.
    z = y + 1
    with pytest.raises(cb.DependencyError) as dep:
        z.numpy()
    assert isinstance(dep.value.__cause__, cb.DeviceError)
    assert dep.value.__cause__.cl_status == "CL_INVALID_WORK_GROUP_SIZE"
    w = cb.empty(n, dtype=cb.float32, device=kdev)
    fut2 = SCALE(n, y, cb.Out(w), np.float32(1), n)
    with pytest.raises(cb.DependencyError) as dep2:
        fut2.result(timeout=60)
    assert isinstance(dep2.value.__cause__, cb.DeviceError)
    assert dep2.value.__cause__.task == "scale"
    with pytest.raises(cb.DependencyError):
        w.numpy()
    # The input is intact, and the same kernel works with a valid launch.
    assert_same(x, np.arange(n, dtype=np.float32))
    SCALE(n, x, cb.Out(y), np.float32(2), n).result(timeout=60)
    assert_same(y, np.arange(n, dtype=np.float32) * 2)


@pytest.mark.parametrize("status,exc", [
    ("CL_OUT_OF_RESOURCES", cb.DeviceError),
    ("CL_MEM_OBJECT_ALLOCATION_FAILURE", cb.DeviceMemoryError)])
def test_fault_injected_by_kernel_name(kdev, status, exc):
    k = cb.Kernel(SCALE_SRC.replace("scale", "faulty_scale"),
                  "faulty_scale")
    x = cb.asarray(np.ones(16, np.float32), device=kdev)
    y = cb.empty(16, dtype=cb.float32, device=kdev)
    faults.inject_fault("faulty_scale", device=kdev, nth=2,
                        cl_status=status)
    k(16, x, cb.Out(y), np.float32(2), 16).result(timeout=60)  # the 1st
    assert_same(y, np.full(16, 2, np.float32))
    fut = k(16, x, cb.Out(y), np.float32(3), 16)               # the 2nd
    with pytest.raises(exc) as info:
        fut.result(timeout=60)
    assert info.value.cl_status == status
    assert info.value.task == "faulty_scale"
    assert info.value.device == kdev
    with pytest.raises(exc):
        y.numpy()
    with pytest.raises(cb.DependencyError):
        (y * 2).numpy()
    k(16, x, cb.Out(y), np.float32(4), 16).result(timeout=60)  # one-shot
    assert_same(y, np.full(16, 4, np.float32))


def test_synchronize_reports_an_unretrieved_launch_failure(kdev):
    x = cb.asarray(np.ones(10, np.float32), device=kdev)
    y = cb.empty(10, dtype=cb.float32, device=kdev)
    fut = SCALE(10, x, cb.Out(y), np.float32(2), 10, local_size=3)
    with pytest.raises(cb.DeviceError) as info:
        cb.synchronize()
    assert info.value.cl_status == "CL_INVALID_WORK_GROUP_SIZE"
    cb.synchronize()                 # reported once
    assert isinstance(fut.exception(), cb.DeviceError)


# ---- device-side assertions -----------------------------------------------

CHECK_SRC = """
__kernel void check_below(__global const float *x, __global float *y,
                          const float limit) {
  size_t i = get_global_id(0);
  float v = x[i];
  CB_ASSERT(v < limit);
  y[i] = v + 1.0f;
}
"""
CHECK = cb.Kernel(CHECK_SRC, "check_below")


def test_failing_assertion(kdev):
    n = 1000
    x = np.arange(n, dtype=np.float32)
    a = cb.asarray(x, device=kdev)
    y = cb.empty(n, dtype=cb.float32, device=kdev)
    fut = CHECK(n, a, cb.Out(y), np.float32(n - 1))  # item n-1 fails
    with pytest.raises(cb.DeviceAssertionError) as info:
        fut.result(timeout=60)
    e = info.value
    assert isinstance(e, cb.DeviceError)
    assert e.kernel == "check_below"
    assert e.line == line_of(CHECK_SRC, "CB_ASSERT")
    assert e.work_item == (n - 1, 0, 0)
    assert e.device == kdev
    assert "check_below" in str(e) and str(e.line) in str(e)
    with pytest.raises(cb.DeviceAssertionError):
        y.numpy()                          # poisoned
    with pytest.raises(cb.DependencyError) as dep:
        (y * 2).numpy()
    assert isinstance(dep.value.__cause__, cb.DeviceAssertionError)
    assert dep.value.__cause__.work_item == (n - 1, 0, 0)


def test_passing_assertion_gives_the_result(kdev):
    x = np.linspace(-5, 5, 999, dtype=np.float32)
    y = cb.empty(999, dtype=cb.float32, device=kdev)
    CHECK(999, cb.asarray(x, device=kdev), cb.Out(y),
          np.float32(6)).result(timeout=60)
    assert_same(y, x + np.float32(1))


def test_assertion_record_is_reset_between_launches(kdev):
    x = cb.asarray(np.arange(64, dtype=np.float32), device=kdev)
    y = cb.empty(64, dtype=cb.float32, device=kdev)
    for limit in (10, 100, 3, 1000):
        fut = CHECK(64, x, cb.Out(y), np.float32(limit))
        if limit <= 64:
            with pytest.raises(cb.DeviceAssertionError) as info:
                fut.result(timeout=60)
            assert info.value.work_item[0] >= limit
        else:
            fut.result(timeout=60)
            assert_same(y, np.arange(64, dtype=np.float32) + 1)


def test_assertion_over_several_tiles(kdev):
    n = 3_000_000
    x = np.zeros(n, np.float32)
    x[2_500_001] = 5.0                      # in a late tile
    y = cb.empty(n, dtype=cb.float32, device=kdev)
    with pytest.raises(cb.DeviceAssertionError) as info:
        CHECK(n, cb.asarray(x, device=kdev), cb.Out(y),
              np.float32(1)).result(timeout=120)
    assert info.value.work_item == (2_500_001, 0, 0)


ASSERT2D_SRC = """
__kernel void check2d(__global const int *m, const int cols) {
  int c = get_global_id(0);
  int r = get_global_id(1);

  CB_ASSERT(m[r * cols + c] >= 0);
}
"""


@pytest.mark.parametrize("local", [None, (4, 2)], ids=["nolocal", "local"])
def test_assertion_work_item_in_2d(kdev, local):
    k = cb.Kernel(ASSERT2D_SRC, "check2d")
    m = np.arange(8 * 12, dtype=np.int32).reshape(8, 12)  # 8 rows, 12 cols
    m[5, 7] = -1
    with pytest.raises(cb.DeviceAssertionError) as info:
        k((12, 8), cb.asarray(m, device=kdev), 12,
          local_size=local).result(timeout=60)
    assert info.value.work_item == (7, 5, 0)
    assert info.value.line == line_of(ASSERT2D_SRC, "CB_ASSERT")
    m[5, 7] = 0
    k((12, 8), cb.asarray(m, device=kdev), 12).result(timeout=60)


@pytest.mark.parametrize("params", ["void", "", " void "])
def test_assertion_in_a_kernel_without_parameters(kdev, params):
    src = f"""__kernel void lonely({params})
{{
  CB_ASSERT(get_global_id(0) != 5);
}}"""
    k = cb.Kernel(src, "lonely")
    with pytest.raises(cb.DeviceAssertionError) as info:
        k(10, device=kdev).result(timeout=60)
    assert info.value.work_item == (5, 0, 0)
    assert info.value.line == 3 and info.value.kernel == "lonely"
    assert k(5, device=kdev).result(timeout=60) is None
    with pytest.raises(TypeError, match="0 arguments"):
        k(5, 1, device=kdev)


def test_assertion_with_other_kernels_and_helpers_in_the_source(kdev):
    src = """
float twice(float v) { return 2.0f * v; }

__kernel void other(__global float *x) { x[get_global_id(0)] = 0.0f; }

__kernel void main_one(__global const float *x, __global float *y) {
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] != 3.0f);
  y[i] = twice(x[i]);
}
"""
    k = cb.Kernel(src, "main_one")
    x = np.arange(8, dtype=np.float32)
    y = cb.empty(8, dtype=cb.float32, device=kdev)
    with pytest.raises(cb.DeviceAssertionError) as info:
        k(8, cb.asarray(x, device=kdev), cb.Out(y)).result(timeout=60)
    assert info.value.line == line_of(src, "CB_ASSERT")
    assert info.value.work_item == (3, 0, 0)
    x[3] = 30
    k(8, cb.asarray(x, device=kdev), cb.Out(y)).result(timeout=60)
    assert_same(y, 2 * x)


TWO_CHECKS_SRC = """
__kernel void positive(__global const float *x) {
  CB_ASSERT(x[get_global_id(0)] > 0.0f);
}
__kernel void negative(__global const float *x) {
  CB_ASSERT(x[get_global_id(0)] < 0.0f);
}
"""


@pytest.mark.parametrize("name", ["positive", "negative"])
def test_assertions_in_two_kernels_of_one_source(kdev, name):
    k = cb.Kernel(TWO_CHECKS_SRC, name)
    x = np.ones(4, np.float32) * (1 if name == "positive" else -1)
    k(4, cb.asarray(x, device=kdev)).result(timeout=60)
    with pytest.raises(cb.DeviceAssertionError) as info:
        k(4, cb.asarray(-x, device=kdev)).result(timeout=60)
    assert info.value.line == line_of(TWO_CHECKS_SRC, name) + 1


@pytest.mark.parametrize("comment", [
    "// kernel check(x, n): every x is below n",
    "/* kernel check(x, n): every x is below n */"], ids=["line", "block"])
def test_assertion_with_the_kernel_named_in_a_comment(kdev, comment):
    src = comment + """
__kernel void check(__global const float *x, const float n) {
  CB_ASSERT(x[get_global_id(0)] < n);
}
"""
    k = cb.Kernel(src, "check")
    x = cb.asarray(np.arange(4, dtype=np.float32), device=kdev)
    k(4, x, np.float32(10)).result(timeout=60)
    with pytest.raises(cb.DeviceAssertionError) as info:
        k(4, x, np.float32(2)).result(timeout=60)
    assert info.value.line == 3 and info.value.work_item == (2, 0, 0)


# Sources that put the word "kernel" or an attribute where the hidden
# assertion parameter must not go.
TRICKY_ASSERT_SOURCES = {
    "helper_after_a_comment": """
// a helper for the kernel below
float twice(float v) { return 2.0f * v; }
__kernel void tricky(__global const float *x, __global float *y) {
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] >= 0.0f);
  y[i] = twice(x[i]);
}
""",
    "comment_in_the_body": """
__kernel void tricky(__global const float *x, __global float *y) {
  // each work-item of this kernel handles one element
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] >= 0.0f);
  y[i] = 2.0f * x[i];
}
""",
    "attribute": """
__kernel __attribute__((reqd_work_group_size(4, 1, 1)))
void tricky(__global const float *x, __global float *y) {
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] >= 0.0f);
  y[i] = 2.0f * x[i];
}
""",
}


@pytest.mark.parametrize("which", list(TRICKY_ASSERT_SOURCES))
def test_assertions_in_tricky_sources(kdev, which):
    src = TRICKY_ASSERT_SOURCES[which]
    k = cb.Kernel(src, "tricky")
    x = np.arange(8, dtype=np.float32)
    y = cb.empty(8, dtype=cb.float32, device=kdev)
    # reqd_work_group_size(4, 1, 1) requires that local size.
    local = 4 if which == "attribute" else None
    k(8, cb.asarray(x, device=kdev), cb.Out(y),
      local_size=local).result(timeout=60)
    assert_same(y, 2 * x)
    x[6] = -1
    with pytest.raises(cb.DeviceAssertionError) as info:
        k(8, cb.asarray(x, device=kdev), cb.Out(y),
          local_size=local).result(timeout=60)
    assert info.value.work_item == (6, 0, 0)
    assert info.value.line == line_of(src, "CB_ASSERT")


# ---- device memory --------------------------------------------------------

def test_argument_larger_than_the_device_allocates(kdev):
    n = kdev.max_alloc_bytes // 4 + 1024
    before = resident_bytes()
    huge = reserve((n,), cb.float32)   # host memory left untouched
    y = cb.empty(16, dtype=cb.float32, device=kdev)
    with pytest.raises(cb.DeviceMemoryError) as info:
        SCALE(16, huge, cb.Out(y), np.float32(1), 16, device=kdev)
    assert isinstance(info.value, MemoryError)
    assert isinstance(info.value, cb.DeviceError)
    assert resident_bytes() - before < 256 << 20
    del huge
    assert_alive()


def test_arguments_larger_than_the_device_together(kdev):
    # Each fits one allocation, all of them (with their gather buffers)
    # do not fit the device's memory.
    count = kdev.global_mem_bytes // (2 * kdev.max_alloc_bytes) + 1
    if count > 4:
        pytest.skip("the device allows small allocations only")
    n = kdev.max_alloc_bytes // 4
    try:
        arrays = [cb.empty((n,), dtype=cb.float32) for _ in range(count)]
    except MemoryError:
        pytest.skip("the host cannot reserve that much address space")
    src = "__kernel void many(" + ", ".join(
        f"__global float *a{i}" for i in range(count)) + ") { }"
    with pytest.raises(cb.DeviceMemoryError):
        cb.Kernel(src, "many")(1, *[cb.InOut(a) for a in arrays],
                               device=kdev)
    del arrays
    assert_alive()


# ---- where kernels run ----------------------------------------------------

def test_kernel_follows_its_arrays(kdev):
    k = cb.Kernel(SCALE_SRC.replace("scale", "follow"), "follow")
    x = cb.asarray(np.ones(8, np.float32), device=kdev)
    y = cb.empty(8, dtype=cb.float32, device=kdev)
    # A fault armed for that device only proves where it ran.
    faults.inject_fault("follow", device=kdev, nth=1)
    with pytest.raises(cb.DeviceError) as info:
        k(8, x, cb.Out(y), np.float32(2), 8).result(timeout=60)
    assert info.value.device == kdev
    k(8, x, cb.Out(y), np.float32(2), 8).result(timeout=60)
    assert_same(y, np.full(8, 2, np.float32))


@needs_pocl
def test_device_cpu_means_the_opencl_cpu_device():
    # The first OpenCL CPU device: where pocl makes several, "opencl:cpu"
    # names the set of them, and "cpu" (a filter of mixed backends) the
    # first that can run a kernel.
    pocl = cb.devices("opencl:cpu")[0]
    k = cb.Kernel(SCALE_SRC.replace("scale", "on_cpu"), "on_cpu")
    assert k.build("cpu") == pocl
    x = cb.asarray(np.arange(8, dtype=np.float32), device="cpu")
    y = cb.empty(8, dtype=cb.float32, device="cpu")
    try:
        faults.inject_fault("on_cpu", device=pocl, nth=1)
        with pytest.raises(cb.DeviceError) as info:
            k(8, x, cb.Out(y), np.float32(2), 8,
              device="cpu").result(timeout=60)
        assert info.value.device == pocl
    finally:
        faults.clear_faults()
    k(8, x, cb.Out(y), np.float32(2), 8, device="cpu").result(timeout=60)
    assert_same(y, np.arange(8, dtype=np.float32) * 2)
    k(8, x, cb.Out(y), np.float32(3), 8, device=pocl).result(timeout=60)
    assert_same(y, np.arange(8, dtype=np.float32) * 3)


@pytest.mark.skipif(bool(cb.devices("opencl:gpu")), reason="has a GPU")
def test_no_gpu_is_device_not_found():
    y = cb.empty(4, dtype=cb.float32)
    with pytest.raises(cb.DeviceNotFoundError) as info:
        SCALE(4, y, cb.Out(y), np.float32(1), 4, device="opencl:gpu")
    assert isinstance(info.value, ValueError)
    assert "opencl:gpu" in str(info.value)
    with pytest.raises(cb.DeviceNotFoundError):
        SCALE.build("opencl:gpu")
    with pytest.raises(cb.DeviceNotFoundError):
        SCALE.build("gpu")


@pytest.mark.parametrize("dev", ["cpu:cpu", "cpu:cpu:0", "device"])
def test_a_device_without_opencl_is_device_not_found(dev):
    if dev == "device":
        dev = cb.get_device("cpu:cpu:0")
    y = cb.empty(4, dtype=cb.float32)
    with pytest.raises(cb.DeviceNotFoundError):
        SCALE(4, y, cb.Out(y), np.float32(1), 4, device=dev)
    with pytest.raises(cb.DeviceNotFoundError):
        SCALE.build(dev)


def test_no_such_filter_is_device_not_found():
    with pytest.raises(cb.DeviceNotFoundError):
        SCALE.build("opencl:accelerator:7")


# ---- threads and asyncio --------------------------------------------------

def test_kernels_from_eight_threads(kdev):
    errors, done = [], []
    k = cb.Kernel(SCALE_SRC, "scale")       # built by whichever comes first

    def worker(t):
        try:
            x = np.arange(1000, dtype=np.float32) + t
            a = cb.asarray(x, device=kdev)
            for rep in range(5):
                y = cb.empty(1000, dtype=cb.float32, device=kdev)
                f = k(1000, a, cb.Out(y), np.float32(rep), 1000)
                f.result(timeout=60)
                np.testing.assert_array_equal(y.numpy(), x * rep)
            done.append(t)
        except BaseException as e:   # reported below
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(done) == list(range(8))


def test_await_a_kernel_future(kdev):
    x = np.arange(100, dtype=np.float32)

    async def main():
        a = cb.asarray(x, device=kdev)
        y = cb.empty(100, dtype=cb.float32, device=kdev)
        got = await SCALE(100, a, cb.Out(y), np.float32(2), 100)
        assert got is None
        outs = [cb.empty(100, dtype=cb.float32, device=kdev)
                for _ in range(20)]
        results = await asyncio.gather(*[
            SCALE(100, a, cb.Out(o), np.float32(i), 100)
            for i, o in enumerate(outs)])
        assert results == [None] * 20
        return y, outs
    y, outs = asyncio.run(main())
    assert_same(y, x * 2)
    for i, o in enumerate(outs):
        assert_same(o, x * np.float32(i))


def test_awaited_assertion_raises(kdev):
    async def main():
        y = cb.empty(4, dtype=cb.float32, device=kdev)
        await CHECK(4, cb.asarray(np.ones(4, np.float32), device=kdev),
                    cb.Out(y), np.float32(0))
    with pytest.raises(cb.DeviceAssertionError):
        asyncio.run(main())


def test_done_callback_of_a_launch(kdev):
    seen = []
    ev = threading.Event()
    y = cb.empty(8, dtype=cb.float32, device=kdev)
    f = SCALE(8, cb.asarray(np.ones(8, np.float32), device=kdev),
              cb.Out(y), np.float32(5), 8)
    f.add_done_callback(lambda fut: (seen.append(fut.result()), ev.set()))
    assert ev.wait(60)
    assert seen == [None]
    assert_same(y, np.full(8, 5, np.float32))


# ---- __local memory ------------------------------------------------------

LOCAL_SUM = """
__kernel void group_sums(__global const float *x, __global float *out,
                         __local float *scratch) {
  const size_t l = get_local_id(0), n = get_local_size(0);
  scratch[l] = x[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  for (size_t s = n / 2; s > 0; s /= 2) {
    if (l < s) scratch[l] += scratch[l + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) out[get_group_id(0)] = scratch[0];
}
"""


def test_local_memory(kdev):
    k = cb.Kernel(LOCAL_SUM, "group_sums")
    x = np.arange(256, dtype=np.float32)
    out = cb.empty(16, dtype=cb.float32, device=kdev)
    k(256, cb.asarray(x, device=kdev), cb.Out(out), cb.Local(16 * 4),
      local_size=16).result(timeout=60)
    assert_same(out, x.reshape(16, 16).sum(axis=1))


def test_local_memory_arguments_are_checked(kdev):
    k = cb.Kernel(LOCAL_SUM, "group_sums")
    x = cb.asarray(np.ones(16, np.float32), device=kdev)
    out = cb.empty(1, dtype=cb.float32, device=kdev)
    with pytest.raises(TypeError, match="Local"):
        k(16, x, cb.Out(out), np.float32(1), local_size=16)
    with pytest.raises(TypeError, match="Local"):
        k(16, cb.Local(64), cb.Out(out), cb.Local(64), local_size=16)
    with pytest.raises(ValueError):
        cb.Local(0)
