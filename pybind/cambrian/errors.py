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
    "DeviceLostError",
    "KernelBuildError",
    "TaskError",
    "DependencyError",
    "DeviceNotFoundError",
    "RankLostError",
]


class CambrianError(Exception):
    """Base class of cambrian's errors.

    Attributes
    ----------
    rank : int
        For a failure a task recorded: the rank it happened on (0 unless
        the run is distributed). A failure that came from another rank
        has ``device`` None and names its device in its message.

    Examples
    --------
    >>> issubclass(cb.DeviceError, cb.CambrianError)
    True
    """

    rank: int = 0

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


class DeviceLostError(DeviceError):
    """The device's OpenCL context is unusable after a fault.

    The task that met the fault fails with :class:`DeviceError`; every
    task that was pending on the device, and all work placed there
    afterwards, fails with DeviceLostError, whose ``__cause__`` is that
    first fault. Work that the scheduler places goes to the other
    workers; an array whose only copy was on the device fails with it,
    one with a host copy stays readable. ``Device.lost`` tells a lost
    device, and ``python -m cambrian info`` shows it. A new runtime
    (:func:`cambrian.shutdown`, then new work) uses the device again
    when its context still answers; when it does not (a real fault on a
    GPU), the runtime cannot start again in this process and raises
    DeviceLostError.

    Attributes
    ----------
    device : Device or None
        The device that was lost.
    cl_status : str or None
        The OpenCL status of the first fault.
    task : str or None
        The operation that could not run ("" for data that were lost).

    Examples
    --------
    >>> import cambrian.testing
    >>> pocl = cb.get_device("opencl:cpu")
    >>> cambrian.testing.inject_fault("sqrt", device=pocl, lose_device=True)
    >>> x = cb.asarray(np.ones(4, np.float32), device=pocl)
    >>> type(cb.sqrt(x).future.exception()).__name__
    'DeviceError'
    >>> cb.get_device("opencl:cpu").lost
    True
    >>> try:
    ...     cb.exp(x)
    ... except cb.DeviceLostError as e:
    ...     print(type(e.__cause__).__name__, e.__cause__.task)
    DeviceError sqrt
    >>> x.numpy()  # its host copy
    array([1., 1., 1., 1.], dtype=float32)
    >>> cb.shutdown()   # the next runtime uses pocl again
    >>> cb.get_device("opencl:cpu").lost
    False
    """


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


class RankLostError(CambrianError):
    """Another rank of a distributed run died or hung.

    While a rank has work pending that needs other ranks (data they own,
    a reduction's parts, a barrier), and none of it moves for
    ``CAMBRIAN_RANK_TIMEOUT`` seconds (300 by default; 0 waits forever),
    the rank takes another to be lost: every wait for unfinished work
    raises RankLostError from then on, on every rank that waits for the
    lost one. The runtime then cannot stop cleanly (StarPU-MPI and MPI
    would wait for the lost rank): at exit it leaves them as they are,
    and it cannot start again in the process. Set the timeout above the
    longest task a rank runs. See :ref:`distributed`.
    """
