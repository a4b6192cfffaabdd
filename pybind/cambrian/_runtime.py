"""The runtime: starting it with settings, stopping it, and what it runs
with."""

from . import _core
from ._devices import devices as _devices

__all__ = ["init", "shutdown", "config"]


def init(ncpus=None, devices=None, scheduler=None, tile_size=None):
    """Start the runtime. Optional: the first operation starts it with the
    settings of the environment (CAMBRIAN_NCPUS, CAMBRIAN_DEVICES,
    CAMBRIAN_SCHED, CAMBRIAN_TILE_SIZE), which these arguments override.

    ncpus: CPU workers (default: cores minus one per OpenCL device).
    devices: a filter choosing the OpenCL devices ("opencl:gpu", "none").
    scheduler: a StarPU policy ("dmda", "eager", "lws", ...).
    tile_size: elements per tile (default: automatic).
    Calling it while the runtime runs does nothing.
    """
    if devices is not None and devices != "none":
        _core.check_filter(devices)
    _core.init(ncpus, devices, scheduler, tile_size)


def shutdown():
    """Wait for every task, then stop the runtime. Arrays stay readable;
    using cambrian again starts a new runtime."""
    _core.shutdown()


def config():
    """The runtime's settings and its devices, as a dict."""
    info = _core.runtime_info()
    info["devices"] = [d.filter_string for d in _devices()]
    return info
