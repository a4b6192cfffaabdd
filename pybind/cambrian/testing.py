"""Testing hooks.

inject_fault() makes the nth execution of an operation's task fail on a
device with an OpenCL status, exactly as a real device failure would: the
array it writes is marked failed, tasks reading it do not run and fail with
DependencyError, and futures and reads raise the exception::

    import cambrian.testing
    cambrian.testing.inject_fault("add", device="opencl:cpu", nth=1,
                                  cl_status="CL_OUT_OF_RESOURCES")

Faults are one-shot; clear_faults() removes those that have not fired.
When no fault is set, codelets pay a single predictable branch.

With ``lose_device=True`` the fault also loses the OpenCL device it fires
on, as a fault that leaves a context unusable does on a GPU: the failing
task raises DeviceError, every task that runs there afterwards raises
DeviceLostError (see :class:`cambrian.DeviceLostError`).
lost_device_ops() counts StarPU's data operations (copies, allocations,
releases) that were kept away from lost devices. staged_chunks() counts
the chunks of copies from pageable host memory (a zero-copy NumPy array)
to a GPU that went through pinned staging buffers; such copies count as
an operation named "stage" for inject_fault, and a fault there loses the
device. unfinished_events() counts the OpenCL user events (the ends of
asynchronous tasks and staged copies) that could not be completed, as on
a GPU whose context a fault poisoned; their completions count as an
operation named "complete", whose fault makes them fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _core
from ._devices import _resolve

if TYPE_CHECKING:
    from ._devices import Device

__all__ = ["inject_fault", "clear_faults", "lost_device_ops",
           "staged_chunks", "unfinished_events"]


def inject_fault(op: str = "*", device: str | Device | None = None,
                 nth: int = 1,
                 cl_status: str = "CL_OUT_OF_RESOURCES",
                 lose_device: bool = False,
                 context_unusable: bool = False) -> None:
    """Make the nth execution of an operation's task fail on a device.

    Parameters
    ----------
    op : str, optional
        An operation ("add", "sqrt", "matmul"...), a kernel, a task
        function's name, or "*" for any.
    device : str or Device, optional
        None: any device.
    nth : int, optional
        Counted from 1, per tile task.
    cl_status : str, optional
        An OpenCL status name.
    lose_device : bool, optional
        The fault also loses the OpenCL device it fires on (on the CPU
        workers it stays an ordinary fault).
    context_unusable : bool, optional
        As lose_device, and :func:`cambrian.shutdown` then finds the
        device's context unusable, as after a real fault on a GPU: StarPU
        is left running and the runtime cannot start again in this
        process (use it in a child process).

    Raises
    ------
    ValueError
        cl_status is not an OpenCL status, or nth is below 1.
    DeviceNotFoundError
        device matches no device.

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.inject_fault("add", cl_status="CL_OUT_OF_HOST_MEMORY")
    >>> type((cb.ones(2) + 1).future.exception()).__name__
    'DeviceMemoryError'
    """
    dev = _resolve(device)
    lose = 2 if context_unusable else 1 if lose_device else 0
    _core.inject_fault(op, -1 if dev is None else dev._id, nth, cl_status,
                       lose)


def clear_faults() -> None:
    """Remove every fault that has not fired yet.

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.inject_fault("exp")
    >>> cambrian.testing.clear_faults()
    >>> float(cb.exp(cb.zeros(1)).sum())
    1.0
    """
    _core.clear_faults()


def lost_device_ops() -> int:
    """How many of StarPU's data operations (copies, allocations, releases)
    were kept away from lost devices since the process started.

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.lost_device_ops() >= 0
    True
    """
    return _core.lost_device_ops()


def staged_chunks() -> int:
    """How many chunks of copies from pageable host memory to a device
    went through pinned staging buffers since the process started (8 MiB
    each at most; only copies of 4 MiB and more are staged, to GPUs, or to
    every OpenCL device with ``CAMBRIAN_PINNED=all``).

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.staged_chunks() >= 0
    True
    """
    return _core.staged_chunks()


def unfinished_events() -> int:
    """How many OpenCL user events that mark the end of an asynchronous
    task or of a staged copy could not be completed since the process
    started (as on a GPU whose context a fault poisoned). StarPU, which
    waits for them, is told that they ended instead, so that nothing
    waits for ever.

    Examples
    --------
    >>> import cambrian.testing
    >>> cambrian.testing.unfinished_events() >= 0
    True
    """
    return _core.unfinished_events()
