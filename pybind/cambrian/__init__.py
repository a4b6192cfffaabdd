"""cambrian: array operations and Python code as a StarPU task graph.

Every operation returns at once; StarPU runs it on CPU workers or OpenCL
devices as soon as its inputs are ready. Reading data (``numpy()``,
``np.asarray``, ``float()``) waits; ``repr`` never does.

>>> import cambrian as cb
>>> x = cb.arange(4, dtype=cb.float32)
>>> cb.sqrt(x * x).numpy()
array([0., 1., 2., 3.], dtype=float32)
"""

import atexit as _atexit
import os as _os

import numpy as _np


def _blas_core() -> str | None:
    """OpenBLAS picks its kernels from the processor's model; virtual
    machines that hide it get generic kernels, several times slower. The
    core type that the instruction sets call for, or None (the user named
    one, or the processor has neither)."""
    if "OPENBLAS_CORETYPE" in _os.environ:
        return None
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln.split(":", 1)[1].split() for ln in f
                          if ln.startswith("flags")), [])
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        return "SkylakeX"
    if {"avx2", "fma"} <= set(flags):
        return "Haswell"
    return None


def _load_core() -> None:
    """Imports the extension, which loads OpenBLAS: OpenBLAS reads its core
    type from the C environment as it loads, so the name is there for that
    moment only. os.environ never has it, and the environment that child
    processes inherit is the user's again afterwards. (NumPy's own
    OpenBLAS is loaded already and keeps its choice.)"""
    core = _blas_core()
    if core is None:
        from . import _core  # noqa: F401
        return
    _os.putenv("OPENBLAS_CORETYPE", core)
    try:
        from . import _core  # noqa: F401,F811
    finally:
        _os.unsetenv("OPENBLAS_CORETYPE")


_load_core()
from . import _core  # noqa: E402

from ._devices import (Device, default_device, device_scope, devices,
                       get_device)
from ._devices import _device, _resolve
from ._runtime import barrier, config, init, nranks, rank, shutdown
from . import _runtime
from ._futures import Future, as_completed, wait, synchronize
from ._futures import array_future as _array_future, _stop as _stop_futures
from ._creation import (arange, asarray, empty, empty_like, from_dlpack,
                        full, full_like, ones, ones_like, tile_size, zeros,
                        zeros_like)
from ._elementwise import (abs, absolute, acos, acosh, add, arccos,
                           arccosh, arcsin, arcsinh, arctan, arctan2,
                           arctanh, asin, asinh, atan, atan2, atanh,
                           bitwise_and, bitwise_invert, bitwise_left_shift,
                           bitwise_or, bitwise_right_shift, bitwise_xor,
                           ceil, conj, copysign, cos, cosh, divide, equal,
                           exp,
                           exp2, expm1, floor, floor_divide, greater,
                           greater_equal, hypot, invert, isfinite, isinf,
                           isnan, left_shift, less, less_equal, log, log1p,
                           log2, log10, logaddexp, logical_and, logical_not,
                           logical_or, logical_xor, maximum, minimum, mod,
                           multiply, negative, not_equal, positive, power,
                           remainder, right_shift, round, sign,
                           signbit, sin, sinh, sqrt, square, subtract, tan,
                           tanh, trunc, where, real, imag)
from ._tasks import In, InOut, Out, task
from ._kernels import Kernel, Local
from ._trace import plot_trace, profiling, stats, trace
from ._graph import Graph
from ._reductions import (argmax, argmin, dot, mean, norm, prod, std,
                          var)
from ._linalg import gemm, gemv, matmul, transpose
from ._array_api import (__array_namespace_info__, argsort, astype,
                         can_cast, clip, cumulative_sum,
                         cumulative_prod, count_nonzero, diff, nextafter,
                         reciprocal, take_along_axis,
                         e, eye, finfo, iinfo, inf, isdtype, linspace,
                         matrix_transpose, meshgrid, nan, newaxis, nonzero,
                         pi, repeat, result_type, searchsorted, sort, split,
                         take, tensordot, tile, tril, triu, unique_all,
                         unique_counts, unique_inverse, unique_values,
                         unstack, vecdot)
from ._manipulation import (broadcast_arrays, broadcast_shapes,
                            broadcast_to, concat, concatenate, expand_dims,
                            flip, moveaxis, permute_dims, ravel, reshape,
                            roll, squeeze, stack, swapaxes)
from .errors import (CambrianError, DependencyError, DeviceAssertionError,
                     DeviceError, DeviceLostError, DeviceMemoryError,
                     DeviceNotFoundError, KernelBuildError, RankLostError,
                     TaskError)

from ._version import __version__ as __version__  # written by the build
from ._core import Array
from . import errors
from ._logging import _configure_from_environment

_configure_from_environment()
from ._environ import guard_environment as _guard_environment

_guard_environment()

bool_ = _np.bool_
int8 = _np.int8
int16 = _np.int16
int32 = _np.int32
int64 = _np.int64
uint8 = _np.uint8
uint16 = _np.uint16
uint32 = _np.uint32
uint64 = _np.uint64
float16 = _np.float16
float32 = _np.float32
float64 = _np.float64
complex64 = _np.complex64
complex128 = _np.complex128
__array_api_version__ = "2024.12"

_atexit.register(_runtime._shutdown_at_exit)
_atexit.register(_stop_futures)  # runs first: atexit is last in, first out


# ---- device plumbing used by the C module ----------------------------------

def _device_or_spec(x: object) -> Device | None:
    return _device(x) if isinstance(x, int) else _resolve(x)


_core._configure(default_device, _device_or_spec, _array_future)


# Last: from here on, sum, min and max in this module's namespace are
# cambrian's reductions, not the builtins.
from ._reductions import all, any, max, min, sum  # noqa: E402,A004
bool = bool_  # noqa: A001  (the Array API's name of the dtype)
pow = power  # noqa: A001  (the Array API's name)

# NumPy's ufuncs and functions called on Arrays run as cambrian's.
from . import fft  # noqa: E402  (the Array API's fft extension)
from . import linalg  # noqa: E402  (the Array API's linalg extension)
from ._numpy_dispatch import array_function as _af  # noqa: E402
from ._numpy_dispatch import array_ufunc as _au  # noqa: E402

_core._numpy_protocols(_au, _af)
del _af, _au

__all__ = [
    # runtime and devices
    "init", "shutdown", "config", "synchronize", "Device", "devices",
    "get_device", "default_device", "device_scope", "rank", "nranks",
    "barrier",
    # arrays and their creation
    "Array", "asarray", "empty", "zeros", "ones", "full", "arange",
    "from_dlpack", "tile_size", "empty_like", "zeros_like", "ones_like",
    "full_like",
    "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "float16", "float32", "float64", "complex64",
    "complex128",
    # the rest of the Array API namespace
    "finfo", "iinfo", "result_type", "can_cast", "isdtype", "astype",
    "linspace", "eye", "tril", "triu", "meshgrid", "clip",
    "matrix_transpose", "vecdot", "tensordot", "tile", "repeat", "split",
    "unstack", "nonzero", "take", "take_along_axis", "cumulative_sum",
    "cumulative_prod", "nextafter", "reciprocal", "count_nonzero", "diff",
    "sort", "argsort",
    "searchsorted", "unique_values", "unique_counts", "unique_inverse",
    "unique_all", "conj", "real", "imag", "__array_namespace_info__", "pow",
    "e", "pi", "inf", "nan", "newaxis",
    # element-wise operations
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "negative", "abs", "absolute", "sqrt", "exp", "log", "sin", "cos",
    "tanh", "tan", "arcsin", "asin", "arccos", "acos", "arctan", "atan",
    "sinh", "cosh", "arcsinh", "asinh", "arccosh", "acosh", "arctanh",
    "atanh", "log2", "log10", "log1p", "expm1", "exp2", "logical_and",
    "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
    "arctan2", "atan2", "hypot", "copysign", "logaddexp", "floor_divide",
    "remainder", "mod", "bitwise_left_shift", "left_shift",
    "bitwise_right_shift", "right_shift", "sign", "floor", "ceil", "trunc",
    "round", "square", "positive", "bitwise_invert", "invert",
    "isnan", "isinf", "isfinite", "signbit", "logical_not", "where",
    # shapes
    "reshape", "ravel", "permute_dims", "moveaxis", "swapaxes",
    "expand_dims", "squeeze", "flip", "roll", "broadcast_to",
    "broadcast_arrays", "broadcast_shapes", "concat", "concatenate",
    "stack",
    # reductions and linear algebra
    "sum", "min", "max", "mean", "norm", "dot", "any", "all", "std", "var",
    "argmax", "argmin", "prod", "matmul", "gemm", "gemv",
    "transpose",
    # futures, tasks, kernels, graphs
    "Future", "wait", "as_completed", "task", "In", "Out", "InOut",
    "Kernel", "Local", "Graph",
    # observability
    "trace", "stats", "profiling", "plot_trace",
    # errors
    "CambrianError", "DependencyError", "DeviceAssertionError",
    "DeviceError", "DeviceLostError", "DeviceMemoryError",
    "DeviceNotFoundError", "KernelBuildError", "RankLostError",
    "TaskError",
]
