"""cambrian: array operations and Python code as a StarPU task graph.

Every operation returns at once; StarPU runs it on CPU workers or OpenCL
devices as soon as its inputs are ready. Reading data (``numpy()``,
``np.asarray``, ``float()``, ``repr``) waits.
"""

import atexit as _atexit
import os as _os

import numpy as _np


def _name_blas_core():
    """OpenBLAS picks its kernels from the processor's model; virtual
    machines that hide it get generic kernels, several times slower. Name
    the core type from the instruction sets instead, unless the user did.
    (NumPy's own OpenBLAS is loaded already and keeps its choice.)"""
    if "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln.split(":", 1)[1].split() for ln in f
                          if ln.startswith("flags")), [])
    except OSError:
        return
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        _os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif {"avx2", "fma"} <= set(flags):
        _os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_name_blas_core()

from . import _core  # noqa: E402  (after the OpenBLAS core type)
from ._devices import (Device, default_device, device_scope, devices,
                       get_device)
from ._devices import _device, _resolve
from ._futures import Future, as_completed, wait, synchronize
from ._futures import array_future as _array_future, _stop as _stop_futures
from ._tasks import In, InOut, Out, task
from ._kernels import Kernel, Local
from ._trace import plot_trace, profiling, stats, trace
from ._graph import Graph
from ._graph import record as _record
from ._linalg import gemm, gemv, matmul, transpose
from .errors import (CambrianError, DependencyError, DeviceAssertionError,
                     DeviceError, DeviceMemoryError, DeviceNotFoundError,
                     KernelBuildError, TaskError)

from ._version import __version__  # noqa: E402  (written by the build)

Array = _core.Array

bool_ = _np.bool_
int32 = _np.int32
int64 = _np.int64
float32 = _np.float32
float64 = _np.float64


# ---- runtime -------------------------------------------------------------

def init(ncpus=None, devices=None, scheduler=None, tile_size=None):
    """Start the runtime. Optional: the first operation starts it with the
    settings of the environment (CAMBRIAN_NCPUS, CAMBRIAN_DEVICES,
    CAMBRIAN_SCHED, CAMBRIAN_TILE_SIZE), which these arguments override.

    ncpus: CPU workers (default: cores minus one per OpenCL device).
    devices: a filter choosing the OpenCL devices ("opencl:gpu", "none").
    scheduler: a StarPU policy ("dmda", "eager", "lws", ...).
    tile_size: elements per tile (default: automatic).
    Calling it while the runtime runs does nothing.
    """
    if devices is not None and devices != "none":
        _core.check_filter(devices)
    _core.init(ncpus, devices, scheduler, tile_size)


def shutdown():
    """Wait for every task, then stop the runtime. Arrays stay readable;
    using cambrian again starts a new runtime."""
    _core.shutdown()


def config():
    """The runtime's settings and its devices, as a dict."""
    info = _core.runtime_info()
    info["devices"] = [d.filter_string for d in devices()]
    return info


_atexit.register(_core.shutdown)
_atexit.register(_stop_futures)  # runs first: atexit is last in, first out


# ---- device plumbing used by the C module ----------------------------------

def _device_or_spec(x):
    return _device(x) if isinstance(x, int) else _resolve(x)


_core._configure(default_device, _device_or_spec, _array_future)


# ---- arrays ------------------------------------------------------------------

def _placement(device):
    return default_device() if device is None else _resolve(device)


def asarray(obj, dtype=None, device=None, copy=None):
    """An Array from obj, placed on device (default: default_device()).

    C-contiguous buffers (NumPy arrays, memoryviews, ...) of a supported
    dtype are used without copying unless copy=True; the buffer must then
    not be modified while tasks read it. Other objects go through
    numpy.asarray. copy=False raises ValueError where a copy is needed.
    """
    dev = _placement(device)
    if isinstance(obj, Array):
        out = obj
        if dtype is not None and _np.dtype(dtype) != obj.dtype:
            if copy is False:
                raise ValueError("copy=False, but the dtype differs")
            out = obj.astype(dtype)
        elif copy:
            out = obj.copy()
        if dev != out.device:
            out = out.to_device(dev)
        return out
    try:
        memoryview(obj)
    except TypeError:
        if copy is False:
            raise ValueError(
                f"copy=False, but {type(obj).__name__} has no buffer")
        obj = _np.asarray(obj, dtype=dtype)
        copy = None
    if isinstance(obj, _np.ndarray) and obj.dtype.name not in _core.DTYPES:
        if dtype is None:
            raise TypeError(
                f"unsupported dtype '{obj.dtype.name}' (cambrian has bool, "
                "int32, int64, float32 and float64): pass dtype=")
        if copy is False:
            raise ValueError("copy=False, but the dtype differs")
        obj, copy = obj.astype(dtype), None
    return _core.asarray_buffer(obj, dtype, dev, copy)


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)


def empty(shape, dtype=float64, device=None):
    """An uninitialised Array."""
    return _core.empty(_shape(shape), dtype, _placement(device))


def full(shape, fill_value, dtype=None, device=None):
    """An Array filled with fill_value, written by tasks on device."""
    if dtype is None:
        dtype = _np.asarray(fill_value).dtype
        if dtype.name not in _core.DTYPES:
            dtype = float64
    return _core.full(_shape(shape), dtype, fill_value, _placement(device))


def zeros(shape, dtype=float64, device=None):
    """An Array of zeros, written by tasks on device."""
    return full(shape, 0, dtype, device)


def ones(shape, dtype=float64, device=None):
    """An Array of ones, written by tasks on device."""
    return full(shape, 1, dtype, device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Evenly spaced values in [start, stop), as numpy.arange."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        dtype = _np.result_type(*(_np.asarray(v) for v in (start, stop, step)))
        if dtype.name not in _core.DTYPES:
            dtype = int64 if dtype.kind in "iub" else float64
    n = max(0, int(_np.ceil((stop - start) / step)))
    return _core.arange(n, start, step, dtype, _placement(device))


# ---- element-wise operations ---------------------------------------------

_OP = {name: i for i, name in enumerate(_core.OPS)}
_ewise = _core.ewise


def _binary(name, doc):
    code = _OP[name]

    def op(x1, x2):
        try:
            return _ewise(code, x1, x2)
        except TypeError:  # a graph's value records instead
            got = _record(name, (x1, x2))
            if got is None:
                raise
            return got
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _unary(name, doc):
    code = _OP[name]

    def op(x):
        try:
            return _ewise(code, x)
        except TypeError:  # a graph's value records instead
            got = _record(name, (x,))
            if got is None:
                raise
            return got
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


add = _binary("add", "x1 + x2, element-wise.")
subtract = _binary("subtract", "x1 - x2, element-wise.")
multiply = _binary("multiply", "x1 * x2, element-wise.")
divide = _binary("divide", "x1 / x2 (true division), element-wise.")
power = _binary("power", "x1 ** x2, element-wise.")
maximum = _binary("maximum", "Element-wise maximum; NaN propagates.")
minimum = _binary("minimum", "Element-wise minimum; NaN propagates.")
equal = _binary("equal", "x1 == x2, element-wise.")
not_equal = _binary("not_equal", "x1 != x2, element-wise.")
less = _binary("less", "x1 < x2, element-wise.")
less_equal = _binary("less_equal", "x1 <= x2, element-wise.")
greater = _binary("greater", "x1 > x2, element-wise.")
greater_equal = _binary("greater_equal", "x1 >= x2, element-wise.")
negative = _unary("negative", "-x, element-wise.")
abs = absolute = _unary("absolute", "|x|, element-wise.")
sqrt = _unary("sqrt", "Square root, element-wise.")
exp = _unary("exp", "Exponential, element-wise.")
log = _unary("log", "Natural logarithm, element-wise.")
sin = _unary("sin", "Sine, element-wise.")
cos = _unary("cos", "Cosine, element-wise.")
tanh = _unary("tanh", "Hyperbolic tangent, element-wise.")

_WHERE = _OP["where"]


def where(condition, x, y):
    """x where condition is true, else y, element-wise."""
    try:
        return _ewise(_WHERE, condition, x, y)
    except TypeError:  # a graph's value records instead
        got = _record("where", (condition, x, y))
        if got is None:
            raise
        return got


# ---- reductions ----------------------------------------------------------

from ._reductions import dot, mean, norm  # noqa: E402
from . import _reductions  # noqa: E402

# sum, min and max would hide the builtins inside this module: they are
# looked up here only when asked for (cambrian.sum, from cambrian import
# max).
_SHADOWING = {"sum", "min", "max"}


def __getattr__(name):
    if name in _SHADOWING:
        return getattr(_reductions, name)
    raise AttributeError(f"module 'cambrian' has no attribute '{name}'")


__all__ = [
    "Array", "Device", "Future", "wait", "as_completed", "task", "In",
    "Out", "InOut", "Kernel", "Local", "Graph", "trace", "stats", "profiling", "plot_trace",
    "sum", "min", "max", "mean", "norm", "dot", "CambrianError",
    "DependencyError",
    "DeviceAssertionError", "DeviceError", "DeviceMemoryError",
    "DeviceNotFoundError", "KernelBuildError", "TaskError",
    "init", "shutdown", "synchronize", "config", "devices", "get_device",
    "default_device", "device_scope", "asarray", "empty", "zeros", "ones",
    "full", "arange", "add", "subtract", "multiply", "divide", "power",
    "maximum", "minimum", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "negative", "abs", "absolute", "sqrt",
    "exp", "log", "sin", "cos", "tanh", "where", "matmul", "gemm", "gemv",
    "transpose", "bool_", "int32", "int64",
    "float32", "float64",
]
