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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _core
from ._devices import _resolve

if TYPE_CHECKING:
    from ._devices import Device

__all__ = ["inject_fault", "clear_faults"]


def inject_fault(op: str = "*", device: str | Device | None = None,
                 nth: int = 1,
                 cl_status: str = "CL_OUT_OF_RESOURCES") -> None:
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
    _core.inject_fault(op, -1 if dev is None else dev._id, nth, cl_status)


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
