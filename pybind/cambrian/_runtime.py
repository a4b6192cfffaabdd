"""The runtime: starting it with settings, stopping it, and what it runs
with."""

from __future__ import annotations

from typing import Any

from . import _core
from ._devices import devices as _devices

__all__ = ["init", "shutdown", "config", "rank", "nranks", "barrier"]


def init(ncpus: int | None = None, devices: str | None = None,
         scheduler: str | None = None, tile_size: int | None = None,
         distributed: bool | None = None) -> None:
    """Start the runtime.

    Optional: the first operation starts it with the settings of the
    environment (CAMBRIAN_NCPUS, CAMBRIAN_DEVICES, CAMBRIAN_SCHED,
    CAMBRIAN_TILE_SIZE, CAMBRIAN_DISTRIBUTED), which these arguments
    override.

    Parameters
    ----------
    ncpus : int, optional
        CPU workers (default: cores minus one per OpenCL device).
    devices : str, optional
        A filter choosing the OpenCL devices ("opencl:gpu", "none").
    scheduler : str, optional
        A StarPU policy ("dmda", "eager", "lws", ...).
    tile_size : int, optional
        Elements per tile (default: automatic).
    distributed : bool, optional
        Run over the ranks of an MPI launch with StarPU-MPI (default:
        when an MPI launcher such as ``mpirun`` or ``srun`` started the
        process; see :ref:`distributed`).

    Raises
    ------
    ValueError
        A setting is not valid (named in the message), or the scheduler
        is unknown (StarPU's are listed).
    TypeError
        An argument is of the wrong type.
    DeviceNotFoundError
        devices matches no device at all.

    Notes
    -----
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

    Examples
    --------
    >>> cb.shutdown()
    >>> cb.init(ncpus=1, devices="none")
    >>> cb.config()["ncpus"], cb.config()["nopencl"]
    (1, 0)
    >>> cb.shutdown()   # the next operation starts the default runtime
    """
    _core.init(ncpus, devices, scheduler, tile_size, distributed)


def shutdown() -> None:
    """Wait for every task, then stop the runtime.

    Arrays stay readable; using cambrian again starts a new runtime. Also
    run at exit.

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C interrupted the wait; the runtime then keeps running its
        work.
    CambrianError
        Called from inside a task, which must not wait.

    Examples
    --------
    >>> a = cb.ones(3) * 2
    >>> cb.shutdown()
    >>> a.numpy()
    array([2., 2., 2.])
    """
    while not _core.wait_idle(50):  # the GIL is released; signals checked
        pass
    _core.shutdown()


def _shutdown_at_exit() -> None:
    """At exit: the work is drained, then the runtime stops. Ctrl-C stops
    the wait (caught in C: Python runs no signal handler at exit), and the
    process exits without the work still pending."""
    if _core.drain_at_exit():
        _core.shutdown()


def config() -> dict[str, Any]:
    """The runtime's settings and its devices, as a dict.

    Starts the runtime if it is not running.

    Returns
    -------
    dict
        ncpus, nopencl (OpenCL workers), ncores, max_cpus (the StarPU
        build's limit), scheduler, tile_size (0: automatic),
        min_tile_size, max_tile_bytes, starpu_version, cache_dir,
        pinned_bytes, pinned_max_bytes, memory_held_bytes,
        memory_limit_bytes, starpu_messages (whether StarPU's messages
        reach the logger "cambrian.starpu" rather than stderr),
        opencl_async (whether OpenCL codelets run asynchronously),
        distributed (whether it runs over MPI ranks), rank, nranks,
        mpi_library (the MPI library's name when distributed),
        mpi_plugin (whether this build can run distributed), and
        devices (filter strings).

    Examples
    --------
    >>> "cpu:cpu:0" in cb.config()["devices"]
    True
    """
    info = _core.runtime_info()
    info["devices"] = [d.filter_string for d in _devices()]
    return info


def rank() -> int:
    """This process's rank among the ranks of a distributed runtime.

    Starts the runtime if needed (a distributed one when an MPI launcher
    started the process).

    Returns
    -------
    int
        0 to :func:`nranks` - 1; 0 when the runtime is not distributed.

    Examples
    --------
    >>> cb.rank(), cb.nranks()   # without mpirun
    (0, 1)
    """
    return int(_core.runtime_info()["rank"])


def nranks() -> int:
    """The number of ranks of a distributed runtime (1 when it is not).

    Returns
    -------
    int

    Examples
    --------
    >>> cb.nranks()
    1
    """
    return int(_core.runtime_info()["nranks"])


def barrier() -> None:
    """Wait for this rank's tasks and transfers, then for every rank.

    Every rank calls it. Without a distributed runtime it returns at once.
    The GIL is released while it waits.

    Raises
    ------
    CambrianError
        Called from inside a task, which must not wait.

    Examples
    --------
    >>> cb.barrier()
    """
    _core.barrier()
