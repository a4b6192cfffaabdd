"""cambrian: array operations and Python code as a StarPU task graph.

Every operation returns at once; StarPU runs it on CPU workers or OpenCL
devices as soon as its inputs are ready. Reading data (``numpy()``,
``np.asarray``, ``float()``, ``repr``) waits.
"""

import atexit as _atexit
import os as _os

import numpy as _np


def _blas_core():
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


def _import_core():
    """Imports the extension, which loads OpenBLAS: OpenBLAS reads its core
    type from the C environment as it loads, so the name is there for that
    moment only. os.environ never has it, and the environment that child
    processes inherit is the user's again afterwards. (NumPy's own
    OpenBLAS is loaded already and keeps its choice.)"""
    core = _blas_core()
    if core is None:
        from . import _core
        return _core
    _os.putenv("OPENBLAS_CORETYPE", core)
    try:
        from . import _core
    finally:
        _os.unsetenv("OPENBLAS_CORETYPE")
    return _core


_core = _import_core()

from ._devices import (Device, default_device, device_scope, devices,
                       get_device)
from ._devices import _device, _resolve
from ._runtime import config, init, shutdown
from . import _runtime
from ._futures import Future, as_completed, wait, synchronize
from ._futures import array_future as _array_future, _stop as _stop_futures
from ._creation import arange, asarray, empty, full, ones, zeros
from ._elementwise import (abs, absolute, add, cos, divide, equal, exp,
                           greater, greater_equal, less, less_equal, log,
                           maximum, minimum, multiply, negative, not_equal,
                           power, sin, sqrt, subtract, tanh, where)
from ._tasks import In, InOut, Out, task
from ._kernels import Kernel, Local
from ._trace import plot_trace, profiling, stats, trace
from ._graph import Graph
from ._reductions import dot, mean, norm
from . import _reductions
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

_atexit.register(_runtime._shutdown_at_exit)
_atexit.register(_stop_futures)  # runs first: atexit is last in, first out


# ---- device plumbing used by the C module ----------------------------------

def _device_or_spec(x):
    return _device(x) if isinstance(x, int) else _resolve(x)


_core._configure(default_device, _device_or_spec, _array_future)


# sum, min and max would hide the builtins inside this module: they are
# looked up here only when asked for (cambrian.sum, from cambrian import
# max).
_SHADOWING = {"sum", "min", "max"}


def __getattr__(name):
    if name in _SHADOWING:
        return getattr(_reductions, name)
    raise AttributeError(f"module 'cambrian' has no attribute '{name}'")


__all__ = [
    "Array", "Device", "Future", "wait", "as_completed", "task", "In", "Out",
    "InOut", "Kernel", "Local", "Graph", "trace", "stats", "profiling",
    "plot_trace", "sum", "min", "max", "mean", "norm", "dot", "CambrianError",
    "DependencyError", "DeviceAssertionError", "DeviceError",
    "DeviceMemoryError", "DeviceNotFoundError", "KernelBuildError",
    "TaskError", "init", "shutdown", "synchronize", "config", "devices",
    "get_device", "default_device", "device_scope", "asarray", "empty",
    "zeros", "ones", "full", "arange", "add", "subtract", "multiply", "divide",
    "power", "maximum", "minimum", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "negative", "abs", "absolute", "sqrt", "exp",
    "log", "sin", "cos", "tanh", "where", "matmul", "gemm", "gemv",
    "transpose", "bool_", "int32", "int64", "float32", "float64",
]
