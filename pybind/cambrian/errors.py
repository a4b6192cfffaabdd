"""The exceptions of cambrian, all under CambrianError.

Failures of work that runs asynchronously are raised where their result
is read: ``a.numpy()``, ``fut.result()``, ``await a``, ``float(r)``, or
:func:`cambrian.synchronize` for those nobody read. Misuse found at the
call (a shape or dtype that does not fit, a bad argument) raises
ValueError, TypeError or OverflowError before anything is submitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._devices import Device

__all__ = [
    "CambrianError",
    "DeviceError",
    "DeviceMemoryError",
    "DeviceAssertionError",
    "KernelBuildError",
    "TaskError",
    "DependencyError",
    "DeviceNotFoundError",
]


class CambrianError(Exception):
    """Base class of cambrian's errors.

    Examples
    --------
    >>> issubclass(cb.DeviceError, cb.CambrianError)
    True
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)


class DeviceError(CambrianError):
    """An OpenCL call or kernel failed on a device.

    Attributes
    ----------
    device : Device or None
        Where it failed.
    cl_status : str or None
        The OpenCL status by name, such as "CL_OUT_OF_RESOURCES".
    task : str or None
        The operation's name.

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.inject_fault("sqrt", nth=1)
    >>> r = cb.sqrt(cb.ones(4))
    >>> err = r.future.exception()
    >>> type(err).__name__, err.cl_status, err.task
    ('DeviceError', 'CL_OUT_OF_RESOURCES', 'sqrt')
    """

    device: Device | None = None
    cl_status: str | None = None
    task: str | None = None


class DeviceMemoryError(DeviceError, MemoryError):
    """A device allocation failed."""


class DeviceAssertionError(DeviceError):
    """A kernel's device-side assertion (``CB_ASSERT``) failed.

    Attributes
    ----------
    kernel : str or None
        The kernel's name.
    line : int or None
        The assertion's line in the kernel's source.
    work_item : tuple of int
        The first work-item that failed it.
    """

    kernel: str | None = None
    line: int | None = None
    work_item: tuple[int, ...] | None = None


class KernelBuildError(CambrianError):
    """OpenCL source failed to compile.

    Attributes
    ----------
    build_log : str
        The compiler's log.
    device : Device or None
        The device it was built for.

    Examples
    --------
    >>> cb.Kernel("__kernel void k(void) { oops; }", "k").build()
    Traceback (most recent call last):
      ...
    cambrian.errors.KernelBuildError: ...
    """

    build_log: str = ""
    device: Device | None = None
    cl_status: str | None = None
    task: str | None = None


class TaskError(CambrianError):
    """A task function raised; ``__cause__`` is the original exception,
    with its traceback.

    Examples
    --------
    >>> @cb.task
    ... def boom():
    ...     raise KeyError("x")
    >>> err = boom().exception()
    >>> type(err).__name__, type(err.__cause__).__name__
    ('TaskError', 'KeyError')
    """

    task: str | None = None


class DependencyError(CambrianError):
    """A task did not run because an input came from a failed task;
    ``__cause__`` is the first failure of the chain."""

    device: Device | None = None
    cl_status: str | None = None
    task: str | None = None


class DeviceNotFoundError(CambrianError, ValueError):
    """No device matches a filter string; the message lists the devices
    present. Also a ValueError."""
