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

from . import _core
from ._devices import _resolve

__all__ = ["inject_fault", "clear_faults"]


def inject_fault(op="*", device=None, nth=1,
                 cl_status="CL_OUT_OF_RESOURCES"):
    """Make the nth execution (counted from 1, per tile task) of operation
    op on device (None: any) fail with cl_status (an OpenCL status name).
    op names an operation ("add", "sqrt", "matmul"...), a kernel, a task
    function, or "*" for any."""
    dev = _resolve(device)
    _core.inject_fault(op, -1 if dev is None else dev._id, nth, cl_status)


def clear_faults():
    """Remove every fault that has not fired yet."""
    _core.clear_faults()
