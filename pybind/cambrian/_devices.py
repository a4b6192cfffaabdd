"""Devices, filter strings and the default device."""

import contextlib
import contextvars
import dataclasses
import os

from . import _core
from .errors import DeviceNotFoundError


@dataclasses.dataclass(frozen=True)
class Device:
    """A place where tasks run: the CPU workers, or one OpenCL device."""

    backend: str
    type: str
    index: int
    name: str
    vendor: str
    version: str
    global_mem_bytes: int
    max_alloc_bytes: int
    local_mem_bytes: int
    compute_units: int
    nworkers: int
    fp64: bool
    filter_string: str
    _id: int = dataclasses.field(repr=False, compare=False)
    _gen: int = dataclasses.field(repr=False, compare=False)

    def __str__(self):
        return self.filter_string


def _device(i):
    info = _core.device_info(i)
    return Device(
        backend=info["backend"], type=info["type"], index=info["index"],
        name=info["name"], vendor=info["vendor"], version=info["version"],
        global_mem_bytes=info["global_mem_bytes"],
        max_alloc_bytes=info["max_alloc_bytes"],
        local_mem_bytes=info["local_mem_bytes"],
        compute_units=info["compute_units"], nworkers=info["nworkers"],
        fp64=info["fp64"], filter_string=info["filter_string"],
        _id=info["id"], _gen=info["generation"])


def devices(filter=None):
    """The devices matching a filter string ("opencl:gpu", "cpu", ...), in
    the filter's order; all of them when filter is None."""
    if filter is None:
        return [_device(i) for i in range(_core.device_count())]
    if not isinstance(filter, str):
        raise TypeError("a device filter is a string such as 'opencl:gpu'")
    return [_device(i) for i in _core.select_devices(filter)]


def get_device(filter):
    """The first device matching filter (a string), or filter itself when it
    is a Device. Raises DeviceNotFoundError listing the devices present."""
    if isinstance(filter, Device):
        return filter
    found = devices(filter)
    if not found:
        present = ", ".join(
            f"{d.filter_string} ({d.name})" for d in devices()) or "none"
        raise DeviceNotFoundError(
            f"no device matches '{filter}'; devices present: {present}")
    return found[0]


def _resolve(device):
    """None, "auto", a filter string or a Device -> a Device or None."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return None
    return get_device(device)


def _placement(device):
    """Where work asked to go to device goes: device itself (resolved),
    else the default device."""
    return default_device() if device is None else _resolve(device)


_scope = contextvars.ContextVar("cambrian_device", default=None)
_AUTO = object()  # a scope that asks for automatic placement explicitly


def _env_device():
    value = os.environ.get("CAMBRIAN_DEVICE", "").strip()
    if not value or value == "auto":
        return None
    # Errors name the variable: the filter does not come from the call.
    try:
        _core.check_filter(value)
        return get_device(value)
    except DeviceNotFoundError as e:
        raise DeviceNotFoundError(f"CAMBRIAN_DEVICE: {e}") from None
    except ValueError as e:
        raise ValueError(f"CAMBRIAN_DEVICE: {e}") from None


def default_device():
    """The device that creation functions use when given none: the
    innermost device_scope() of this thread or asyncio task, else the
    device named by CAMBRIAN_DEVICE, else None (the scheduler chooses)."""
    scoped = _scope.get()
    if scoped is _AUTO:
        return None
    if scoped is not None:
        return scoped
    return _env_device()


@contextlib.contextmanager
def device_scope(device):
    """Within the block, default_device() is device (a filter string, a
    Device, or None/"auto"). Per thread and per asyncio task."""
    resolved = _resolve(device)
    token = _scope.set(_AUTO if resolved is None else resolved)
    try:
        yield resolved
    finally:
        _scope.reset(token)
