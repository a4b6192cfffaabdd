"""The exceptions of cambrian, all under CambrianError."""

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
    """Base class of cambrian's errors."""


class DeviceError(CambrianError):
    """An OpenCL call or kernel failed on a device.

    Attributes: ``device`` (a Device or None), ``cl_status`` (the OpenCL
    status by name, or None) and ``task`` (the operation's name).
    """

    device = None
    cl_status = None
    task = None


class DeviceMemoryError(DeviceError, MemoryError):
    """A device allocation failed."""


class DeviceAssertionError(DeviceError):
    """A kernel's device-side assertion failed."""

    kernel = None
    line = None


class KernelBuildError(CambrianError):
    """OpenCL source failed to compile; ``build_log`` holds the log."""

    build_log = ""
    device = None
    cl_status = None
    task = None


class TaskError(CambrianError):
    """A task function raised; ``__cause__`` is the original exception."""


class DependencyError(CambrianError):
    """A task did not run because an input came from a failed task."""

    device = None
    cl_status = None
    task = None


class DeviceNotFoundError(CambrianError, ValueError):
    """No device matches a filter string."""
