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

    Settings are checked when the runtime starts, whether they come from
    here or from the environment: a bad one raises ValueError (TypeError
    for an argument of the wrong type) naming it, an unknown scheduler
    lists StarPU's, and a devices filter that matches no device at all
    raises DeviceNotFoundError listing those present. ncpus beyond the
    StarPU build's limit (config()["max_cpus"]) is capped to it.

    While the runtime runs it keeps its settings: init() with none, or
    with the ones it runs with, does nothing; settings that differ are
    ignored with a RuntimeWarning that names them (shutdown() first to
    change them).
    """
    _core.init(ncpus, devices, scheduler, tile_size)


def shutdown():
    """Wait for every task, then stop the runtime. Arrays stay readable;
    using cambrian again starts a new runtime. Ctrl-C interrupts the wait
    (KeyboardInterrupt); the runtime then keeps running its work."""
    while not _core.wait_idle(50):  # the GIL is released; signals checked
        pass
    _core.shutdown()


def _shutdown_at_exit():
    """At exit: the work is drained, then the runtime stops. Ctrl-C stops
    the wait (caught in C: Python runs no signal handler at exit), and the
    process exits without the work still pending."""
    if _core.drain_at_exit():
        _core.shutdown()


def config():
    """The runtime's settings and its devices, as a dict."""
    info = _core.runtime_info()
    info["devices"] = [d.filter_string for d in _devices()]
    return info
