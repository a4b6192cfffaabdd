"""Futures: the Python side of the completion path.

A cambrian.Future is a concurrent.futures.Future (so concurrent.futures.wait,
as_completed and asyncio.wrap_future work on it) that is also awaitable.
The C core queues a token when an operation completes, in a StarPU worker
and without the GIL; one thread of cambrian's takes the tokens in batches
and resolves the futures, so add_done_callback callbacks run in that
thread (an exception raised in one is logged by concurrent.futures).

cancel() stops an operation none of whose tasks has started: they do not
run, the future is cancelled, reading the array raises CancelledError and
its dependents fail with DependencyError caused by the cancellation. Once a
task has started, cancel() returns False and the operation completes.
"""

import asyncio
import concurrent.futures as _cf
import itertools
import logging
import threading

from . import _core

__all__ = ["Future", "wait", "as_completed", "synchronize"]

_log = logging.getLogger("cambrian")


class Future(_cf.Future):
    """The future of an operation: its result is the array it writes;
    a failure on a device is its exception (DeviceError, DependencyError...).
    A failure nobody retrieved is logged when the future is collected."""

    _retrieved = False
    _array = None

    def cancel(self):
        if self.done():
            return self.cancelled()
        if self._array is None or not _core.cancel(self._array):
            return False
        return super().cancel()

    def result(self, timeout=None):
        self._retrieved = True
        return super().result(timeout)

    def exception(self, timeout=None):
        self._retrieved = True
        return super().exception(timeout)

    def __await__(self):
        return asyncio.wrap_future(self).__await__()

    __iter__ = __await__

    def __del__(self):
        try:
            if (not self._retrieved and self.done()
                    and not self.cancelled()
                    and super().exception(0) is not None):
                _log.error("cambrian: exception of a future never retrieved",
                           exc_info=super().exception(0))
        except Exception:  # interpreter shutting down
            pass


_lock = threading.Lock()
_pending = {}             # token -> (future, array)
_tokens = itertools.count(1)
_thread = None
_stopping = False


def _notifier():
    while not _stopping:
        for token in _core.wait_completions(100):
            with _lock:
                fut, array = _pending.pop(token)
            exc = _core.array_failure(array)
            if fut.cancelled():
                pass
            elif exc is None:
                fut.set_result(array)
            else:
                fut.set_exception(exc)
            del fut, array, exc  # keep no future alive between batches


def _start():
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_notifier, name="cambrian-futures",
                                   daemon=True)
        _thread.start()


def _stop():
    global _stopping
    _stopping = True
    if _thread is not None:
        _thread.join(1.0)


def array_future(array):
    """A new Future for the pending writes of array (used by Array.future)."""
    fut = Future()
    fut._array = array
    token = next(_tokens)
    with _lock:
        _pending[token] = (fut, array)
        _start()
    _core.watch(array, token)
    return fut


def _as_future(x):
    return x.future if isinstance(x, _core.Array) else x


def wait(fs, timeout=None, return_when=_cf.ALL_COMPLETED):
    """concurrent.futures.wait over Futures and Arrays (their .future)."""
    return _cf.wait([_as_future(f) for f in fs], timeout, return_when)


def as_completed(fs, timeout=None):
    """concurrent.futures.as_completed over Futures and Arrays."""
    return _cf.as_completed([_as_future(f) for f in fs], timeout)


def synchronize(timeout=None):
    """Block until every submitted task has finished (Ctrl-C interrupts the
    wait). Then raise the failures that nobody has retrieved: the one
    exception, or an ExceptionGroup of them."""
    import time
    deadline = None if timeout is None else time.monotonic() + timeout
    while not _core.wait_idle(50):
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("cambrian.synchronize timed out")
    failures = _core.take_failures()
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup(
            f"{len(failures)} cambrian operations failed", failures)
