"""Devices, filter strings and the default device."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
from collections.abc import Iterator
from typing import Any

from . import _core
from .errors import DeviceNotFoundError

__all__ = ["Device", "devices", "get_device", "default_device",
           "device_scope"]


@dataclasses.dataclass(frozen=True)
class Device:
    """A place where tasks run: the CPU workers, one OpenCL device, or a
    device set.

    A device set stands for all the OpenCL devices of one type when there
    are several, as ``"gpu"`` does on a machine with two GPUs: an array
    placed there has its tiles spread over them in turn (tile *i* on
    member *i* mod *n*, and the same tile on the same member from one
    operation to the next), and work on it runs where its tiles are.

    Devices come from :func:`devices` and :func:`get_device`; they compare
    equal when they name the same device.

    Attributes
    ----------
    backend : str
        "cpu" (StarPU's CPU workers) or "opencl".
    type : str
        "cpu", "gpu" or "accelerator".
    index : int
        The device's number among those of its backend and type; -1 for
        a device set.
    name, vendor, version : str
        As the driver reports them.
    global_mem_bytes, max_alloc_bytes : int
        The device's memory, and its largest allocation.
    compute_units : int
        Cores (CPU workers) or compute units (OpenCL).
    nworkers : int
        The StarPU workers that run its tasks.
    fp64 : bool
        Whether it computes in float64.
    filter_string : str
        The filter that names exactly this device, as "opencl:cpu:0".
    lost : bool
        Whether a fault left the device's OpenCL context unusable, when
        this Device was obtained: nothing runs there any more in this
        runtime (see :class:`~cambrian.DeviceLostError`). Not compared.
    blas_tuned : int
        CLBlast kernels that run with parameters tuned for this device
        (``python -m cambrian calibrate --blas`` finds them; 0: CLBlast's
        own). Not compared.
    members : tuple of Device
        A device set's devices; empty for a device. A set's memory,
        compute units and workers are its members' together; its largest
        allocation, local memory and float64 support those that every
        member offers.

    Examples
    --------
    >>> d = cb.get_device("cpu")
    >>> d.backend, d.filter_string
    ('cpu', 'cpu:cpu:0')
    """

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
    lost: bool = dataclasses.field(compare=False)
    blas_tuned: int = dataclasses.field(compare=False)
    members: tuple[Device, ...] = dataclasses.field(repr=False,
                                                     compare=False)
    _id: int = dataclasses.field(repr=False, compare=False)
    _gen: int = dataclasses.field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.filter_string

    def _repr_html_(self) -> str:
        from ._display import device_html
        return device_html(self)


def _device(i: int) -> Device:
    info = _core.device_info(i)
    return Device(
        backend=info["backend"], type=info["type"], index=info["index"],
        name=info["name"], vendor=info["vendor"], version=info["version"],
        global_mem_bytes=info["global_mem_bytes"],
        max_alloc_bytes=info["max_alloc_bytes"],
        local_mem_bytes=info["local_mem_bytes"],
        compute_units=info["compute_units"], nworkers=info["nworkers"],
        fp64=info["fp64"], filter_string=info["filter_string"],
        lost=info["lost"], blas_tuned=info["blas_tuned"],
        members=tuple(_device(m) for m in info["members"]), _id=info["id"],
        _gen=info["generation"])


def devices(filter: str | None = None) -> list[Device]:
    """The devices matching a filter string, in the filter's order.

    Parameters
    ----------
    filter : str, optional
        ``backend:type:index``, each part optional or ``*``, alternatives
        separated by ``,``: "opencl:gpu:0", "gpu", "cpu", "opencl:cpu",
        "gpu,cpu". None: every device.

    Returns
    -------
    list of Device
        Possibly empty.

    Raises
    ------
    TypeError
        filter is not a string.
    ValueError
        filter does not parse.

    Examples
    --------
    >>> [d.filter_string for d in cb.devices("cpu:cpu")]
    ['cpu:cpu:0']
    >>> cb.devices("gpu:7")
    []
    """
    if filter is None:
        return [_device(i) for i in range(_core.device_count())]
    if not isinstance(filter, str):
        raise TypeError("a device filter is a string such as 'opencl:gpu'")
    return [_device(i) for i in _core.select_devices(filter)]


def get_device(filter: str | Device) -> Device:
    """The device a filter names, or the Device itself: where work asked
    to go to filter goes.

    A filter that names every OpenCL device of one type, when there are
    several (``"gpu"`` on a machine with two GPUs), gives their device set
    (see :class:`Device`); any other filter its first match.

    Parameters
    ----------
    filter : str or Device
        A filter string (see :func:`devices`) or a Device.

    Returns
    -------
    Device

    Raises
    ------
    DeviceNotFoundError
        Nothing matches; the message lists the devices present.

    Examples
    --------
    >>> cb.get_device("cpu").backend
    'cpu'
    >>> cb.get_device("opencl:gpu:9")
    Traceback (most recent call last):
      ...
    cambrian.errors.DeviceNotFoundError: no device matches 'opencl:gpu:9'; ...
    """
    if isinstance(filter, Device):
        return filter
    found = devices(filter)
    if not found:
        present = ", ".join(
            f"{d.filter_string} ({d.name})" for d in devices()) or "none"
        raise DeviceNotFoundError(
            f"no device matches '{filter}'; devices present: {present}")
    if len(found) > 1:
        return _device(_core.device_set(filter))
    return found[0]


def _resolve(device: Any) -> Device | None:
    """None, "auto", a filter string or a Device -> a Device (or device
    set, see get_device) or None."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return None
    return get_device(device)


def _device_sets() -> list[Device]:
    """The device sets of the running runtime: one for each type of
    OpenCL device present more than once."""
    found = (_resolve(f"opencl:{t}") for t in ("cpu", "gpu", "accelerator")
             if len(devices(f"opencl:{t}")) > 1)
    return [d for d in found if d is not None and d.members]


def _placement(device: Any) -> Device | None:
    """Where work asked to go to device goes: device itself (resolved),
    else the default device."""
    return default_device() if device is None else _resolve(device)


_scope: contextvars.ContextVar[object] = contextvars.ContextVar(
    "cambrian_device", default=None)
_AUTO = object()  # a scope that asks for automatic placement explicitly


def _env_device() -> Device | None:
    value = os.environ.get("CAMBRIAN_DEVICE", "").strip()
    if not value or value == "auto":
        return None
    # Errors name the variable: the filter does not come from the call.
    try:
        _core.check_filter(value)
        return _resolve(value)
    except DeviceNotFoundError as e:
        raise DeviceNotFoundError(f"CAMBRIAN_DEVICE: {e}") from None
    except ValueError as e:
        raise ValueError(f"CAMBRIAN_DEVICE: {e}") from None


def default_device() -> Device | None:
    """The device that creation functions use when given none.

    Returns
    -------
    Device or None
        The innermost :func:`device_scope` of this thread or asyncio task,
        else the device that CAMBRIAN_DEVICE names, else None (the
        scheduler chooses).

    Raises
    ------
    DeviceNotFoundError, ValueError
        CAMBRIAN_DEVICE names no device, or does not parse.

    Examples
    --------
    >>> with cb.device_scope("cpu"):
    ...     print(cb.default_device())
    cpu:cpu:0
    """
    scoped = _scope.get()
    if scoped is _AUTO:
        return None
    if isinstance(scoped, Device):
        return scoped
    return _env_device()


@contextlib.contextmanager
def device_scope(device: str | Device | None) -> Iterator[Device | None]:
    """Within the block, :func:`default_device` is device.

    The scope is per thread and per asyncio task (a context variable).

    Parameters
    ----------
    device : str or Device or None
        A filter string, a Device, or None or "auto" (the scheduler
        chooses, whatever CAMBRIAN_DEVICE says).

    Yields
    ------
    Device or None
        The device resolved.

    Raises
    ------
    DeviceNotFoundError
        The filter matches no device.

    Examples
    --------
    >>> with cb.device_scope("cpu") as dev:
    ...     a = cb.zeros(4)
    >>> a.device == dev
    True
    """
    resolved = _resolve(device)
    token = _scope.set(_AUTO if resolved is None else resolved)
    try:
        yield resolved
    finally:
        _scope.reset(token)
