"""Custom OpenCL kernels as task-graph nodes.

    k = cambrian.Kernel(source, "scale")
    fut = k((n,), cambrian.In(a), cambrian.Out(b), np.float32(2.0))

The source is compiled for a device on first use there and cached; a
failed build raises KernelBuildError with the build log. Arguments follow
the kernel's parameters: Arrays for pointers (In by default, or wrapped
in In/Out/InOut), NumPy scalars of the parameter's type for scalars
(Python numbers are converted to it). Their number, kinds and types are
checked at the call.

Where it runs: on an OpenCL device. device= takes a filter and picks the
first OpenCL device it matches: "cpu" means the OpenCL device of type CPU
(pocl on the host), never the CPU workers. Without device=, the kernel
follows its arrays' device, then the default device, then the first GPU,
then any OpenCL device.

CB_ASSERT(condition) in a kernel function records the first failing
work-item; the launch then fails with DeviceAssertionError (.kernel,
.line, .work_item). Kernels that do not use it pay nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as _np

from . import _core
from ._devices import Device, default_device, devices, get_device
from ._futures import Future
from ._tasks import _Access, _IN
from .errors import DeviceNotFoundError

if TYPE_CHECKING:
    from ._core import Array

__all__ = ["Kernel", "Local"]

_CTYPES: dict[str, type[_np.generic]] = {
    "char": _np.int8, "uchar": _np.uint8, "bool": _np.bool_,
    "short": _np.int16, "ushort": _np.uint16, "half": _np.float16,
    "int": _np.int32, "uint": _np.uint32, "float": _np.float32,
    "long": _np.int64, "ulong": _np.uint64, "double": _np.float64,
}
_DTYPE_CODE = {name: i for i, name in enumerate(_core.DTYPES)}


class Local:
    """__local memory of nbytes bytes for a kernel's __local pointer
    parameter (shared by the work-items of a work-group).

    Parameters
    ----------
    nbytes : int
        The size in bytes, positive.

    Raises
    ------
    ValueError
        nbytes is not positive.

    Examples
    --------
    >>> cb.Local(256)
    cambrian.Local(256)
    """

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int) -> None:
        nbytes = int(nbytes)
        if nbytes <= 0:
            raise ValueError("local memory needs a positive size")
        self.nbytes = nbytes

    def __repr__(self) -> str:
        return f"cambrian.Local({self.nbytes})"


class _LaunchFuture(Future[None]):
    """The Future of a kernel launch: its result is None."""

    def _value(self) -> None:
        return None


def _opencl(devs: list[Device]) -> list[Device]:
    return [d for d in devs if d.backend == "opencl"]


def _choose_device(device: str | Device | None,
                   arrays: Sequence[Array]) -> Device:
    if device is not None:
        if not isinstance(device, str):
            device = device.filter_string
        found = _opencl(devices(device))
        if not found:
            raise DeviceNotFoundError(
                f"no OpenCL device matches '{device}' (kernels run on "
                f"OpenCL devices; present: "
                f"{[d.filter_string for d in devices()]})")
        # A device set: each launch runs on its next device.
        chosen = get_device(device)
        return chosen if chosen.members else found[0]
    for a in arrays:
        if a.device is not None and a.device.backend == "opencl":
            return a.device
    d = default_device()
    if d is not None and d.backend == "opencl":
        return d
    found = _opencl(devices("opencl:gpu")) or _opencl(devices("opencl"))
    if not found:
        raise DeviceNotFoundError("kernels need an OpenCL device; none is "
                                  "present")
    return found[0]


def _scalar(x: object, ctype: str, pname: str) -> tuple[bytes, int]:
    """The bytes of scalar x as the parameter's type, and its dtype code."""
    want = _CTYPES.get(ctype)
    if isinstance(x, _np.generic):
        if want is not None and x.dtype != want:
            raise TypeError(f"argument '{pname}' is {ctype} "
                            f"({_np.dtype(want).name}), got {x.dtype.name}")
        v: Any = x
    elif isinstance(x, (bool, int, float)) and want is not None:
        if isinstance(x, float) and _np.dtype(want).kind in "iub":
            raise TypeError(f"argument '{pname}' is {ctype}, got a float")
        try:
            v = _np.array(x, dtype=want)
        except OverflowError:
            raise OverflowError(f"argument '{pname}' is {ctype} "
                                f"({_np.dtype(want).name}): Python integer "
                                f"{x} is out of its range") from None
    else:
        raise TypeError(f"argument '{pname}' is a scalar of type {ctype}: "
                        f"pass a NumPy scalar, got {type(x).__name__}")
    v = _np.asarray(v)
    return v.tobytes(), _DTYPE_CODE.get(v.dtype.name, 0)


class Kernel:
    """An OpenCL C kernel, called as a task of the graph.

    Parameters
    ----------
    source : str
        OpenCL C source holding the ``__kernel`` function named name;
        ``CB_ASSERT(condition)`` may be used in it.
    name : str
        The kernel function's name.
    options : str, optional
        Options for the OpenCL compiler ("-cl-fast-relaxed-math").

    Raises
    ------
    TypeError, ValueError
        source, name or options is not a string, or holds NUL.

    Notes
    -----
    The source is compiled for a device on its first call there (or
    :meth:`build`) and cached per runtime; a failed build raises
    KernelBuildError (``.build_log``) at the call.

    Examples
    --------
    >>> k = cb.Kernel(
    ...     "__kernel void scale(__global const float *x,"
    ...     "                    __global float *y, float a) {"
    ...     "  size_t i = get_global_id(0);"
    ...     "  y[i] = a * x[i];"
    ...     "}", "scale")
    >>> x = cb.arange(4, dtype=cb.float32)
    >>> y = cb.empty(4, dtype=cb.float32)
    >>> k(4, x, cb.Out(y), np.float32(2.0)).result()
    >>> y.numpy()
    array([0., 2., 4., 6.], dtype=float32)
    """

    def __init__(self, source: str, name: str,
                 options: str | None = None) -> None:
        self._cap = _core.kernel_new(source, name, options)
        self.source = source
        self.name = name
        self.options = options
        self._params: dict[tuple[int, int], list[tuple[str, str, str]]] = {}

    def __repr__(self) -> str:
        return f"<cambrian.Kernel {self.name}>"

    def build(self, device: str | Device | None = None) -> Device:
        """Compile for a device now, rather than at the first call.

        Parameters
        ----------
        device : str or Device, optional
            An OpenCL device; by default the one a call without arrays
            would use (the default device, the first GPU, any OpenCL
            device).

        Returns
        -------
        Device
            The device it was built for.

        Raises
        ------
        KernelBuildError
            The source failed to compile (``.build_log``).
        DeviceNotFoundError
            No OpenCL device matches.

        Examples
        --------
        >>> cb.Kernel("__kernel void nop(void) {}", "nop").build().backend
        'opencl'
        """
        dev = _choose_device(device, ())
        self._params_on(dev)
        return dev

    def _params_on(self, dev: Device) -> list[tuple[str, str, str]]:
        key = (dev._id, dev._gen)
        params = self._params.get(key)
        if params is None:
            _core.kernel_build(self._cap, dev._id)
            params = self._params[key] = _core.kernel_params(self._cap,
                                                             dev._id)
        return params

    def __call__(self, global_size: int | Sequence[int], *args: Any,
                 local_size: int | Sequence[int] | None = None,
                 device: str | Device | None = None) -> Future[None]:
        """Launch the kernel as a task; returns at once.

        Parameters
        ----------
        global_size : int or sequence of int
            Work-items, in up to 3 dimensions.
        *args
            One per kernel parameter: Arrays for pointers (read by
            default, or wrapped in In, Out or InOut), Local(nbytes) for
            ``__local`` pointers, and scalars of the parameter's type
            (NumPy scalars must match it; Python numbers are converted).
        local_size : int or sequence of int, optional
            The work-group size (None: the driver's choice).
        device : str or Device, optional
            An OpenCL device. By default the arrays' device, then the
            default device, then the first GPU, then any OpenCL device.

        Returns
        -------
        Future
            Its result is None; it fails with DeviceError (a launch
            error), DeviceAssertionError (a CB_ASSERT failed) or
            DependencyError.

        Raises
        ------
        TypeError
            The arguments do not fit the kernel's parameters.
        KernelBuildError
            The source failed to compile for the device.
        DeviceMemoryError
            An array is larger than the device's largest allocation.
        DeviceNotFoundError
            No OpenCL device matches.
        """
        if isinstance(global_size, int):
            global_size = (global_size,)
        if isinstance(local_size, int):
            local_size = (local_size,)
        arrays = [x.array if isinstance(x, _Access) else x for x in args
                  if isinstance(x, (_Access, _core.Array))]
        dev = _choose_device(device, arrays)
        params = self._params_on(dev)
        if len(args) != len(params):
            names = ", ".join(p[2] for p in params)
            raise TypeError(f"kernel {self.name}({names}) takes "
                            f"{len(params)} arguments, got {len(args)}")
        pairs: list[tuple[Any, Any]] = []
        for (kind, ctype, pname), x in zip(params, args):
            if kind == "local" or isinstance(x, Local):
                if kind != "local" or not isinstance(x, Local):
                    raise TypeError(f"argument '{pname}' is {kind} "
                                    f"({ctype}), got {type(x).__name__}: "
                                    "pass cb.Local(nbytes) exactly for "
                                    "__local pointers")
                pairs.append((None, x.nbytes))
            elif kind == "buffer":
                if isinstance(x, _Access):
                    pairs.append((x.array, x.mode))
                elif isinstance(x, _core.Array):
                    pairs.append((x, _IN))
                else:
                    raise TypeError(f"argument '{pname}' is a buffer "
                                    f"({ctype}): pass an Array, got "
                                    f"{type(x).__name__}")
            elif isinstance(x, (_Access, _core.Array)):
                raise TypeError(f"argument '{pname}' is a scalar "
                                f"({ctype}), got an Array")
            else:
                pairs.append(_scalar(x, ctype, pname))
        # The sizes as given: the core reads at most 4 items of each, so
        # that a long sequence is refused before its items are made.
        event = _core.kernel_launch(self._cap, dev._id, global_size,
                                    local_size, pairs)
        return _LaunchFuture(event)
