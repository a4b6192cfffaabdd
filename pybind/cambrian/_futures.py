"""Futures: the Python side of the completion path.

A cambrian.Future is a concurrent.futures.Future (so concurrent.futures.wait,
as_completed and asyncio.wrap_future work on it) that is also awaitable.
The C core queues a token when an operation completes, in a StarPU worker
and without the GIL; one thread of cambrian's takes the tokens in batches
and resolves the futures, so add_done_callback callbacks run in that
thread (an exception raised in one is logged by concurrent.futures).

cancel() stops an operation none of whose tasks has started: they do not
run, the future is cancelled, reading the array raises CancelledError and
its dependents fail with DependencyError caused by the cancellation. Whoever
waits for the future learns it at once: threads in result() or exception()
(futures.c wakes them), concurrent.futures' wait() and as_completed() (the
future is notified as an executor would), callbacks and awaits. Once a task
has started, cancel() returns False and the operation completes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as _cf
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast
from weakref import ref as _weakref

from . import _core

if TYPE_CHECKING:
    from ._core import Array, Event

_T = TypeVar("_T")

__all__ = ["Future", "wait", "as_completed", "synchronize"]

_log = logging.getLogger("cambrian")
_PENDING, _CANCELLED, _FINISHED = (_cf._base.PENDING, _cf._base.CANCELLED,
                                   _cf._base.FINISHED)
_Array, _Event = _core.Array, _core.Event
_monotonic = time.monotonic
# Guards the making of futures' Conditions against their quiet resolution.
# Reentrant: the garbage collector may finalize a future (and log its
# failure) in a thread that holds it.
_cond_lock = threading.RLock()
_AWAIT_POLL_US = 20


class _Waiters(list):  # type: ignore[type-arg]
    """concurrent.futures.wait and as_completed append their waiters
    here: that is when the future needs the notifier. It refers to its
    future weakly, so that futures are not cyclic garbage."""

    __slots__ = ("future",)
    future: Callable[[], Future[Any] | None]

    def append(self, waiter: object) -> None:
        fut = self.future()
        if fut is not None:
            fut._watch()
        super().append(waiter)


class Future(_core.FutureBase, _cf.Future[_T]):
    """The future of an operation: a concurrent.futures.Future that is also
    awaitable.

    Its result is the array it writes (``Future[Array]``: ``a.future``),
    the value a task function returned (``Future[Any]``), or None for a
    kernel launch (``Future[None]``); a failure on a device is its
    exception (DeviceError, DependencyError, TaskError...). A failure
    nobody retrieved is logged when the future is collected.

    cambrian makes these futures and is their executor: Array.future, a
    call of a @cambrian.task function and a kernel launch each give one.
    Future() with no operation raises TypeError: a future that code
    resolves by hand is a concurrent.futures.Future.
    set_running_or_notify_cancel(), an executor's method, raises
    RuntimeError (cambrian notifies a cancelled future itself).

    running() is True while a task of the operation runs. cancel() stops
    an operation none of whose tasks has started; it wakes the threads
    waiting in result() or exception() and completes concurrent.futures'
    wait() and as_completed() at once. Timeouts are concurrent.futures':
    one of zero or less looks without waiting.

    result() and exception() wait on the operation itself. Only callbacks,
    asyncio and concurrent.futures.wait need cambrian's notifier thread, so
    a future asks for it on their first use.

    Examples
    --------
    >>> fut = (cb.arange(3) * 2).future
    >>> fut.result().numpy()
    array([0, 2, 4])
    >>> fut.done(), fut
    (True, <Future at 0x... state=finished returned Array>)
    >>> async def main():
    ...     return (await (cb.ones(2) + 1)).numpy()
    >>> asyncio.run(main())
    array([2., 2.])
    """

    _retrieved = False
    _array: Array | Event
    _watched = False
    _cond: threading.Condition | None = None  # made on first need
    # The done-callbacks and concurrent.futures' waiters, likewise.
    _callbacks: list[Callable[[_cf.Future[_T]], object]] | None = None
    _waiter_list: _Waiters | None = None
    _result: Any = None
    _exception: BaseException | None = None

    def __init__(self, source: Array | Event | None = None) -> None:
        # concurrent.futures.Future's state, but its Condition, its list
        # of callbacks and its list of waiters are made on first need:
        # most futures are resolved by the one thread that waits for them,
        # which needs none of them. _array is what the future waits for:
        # an Array (its writes) or an Event (a kernel launch, a task
        # call).
        if type(source) is not _Array and type(source) is not _Event:
            raise TypeError(
                "cambrian.Future stands for cambrian's own work (Array."
                "future, task calls, kernel launches); for a future set by "
                "hand, use concurrent.futures.Future")
        self._state = _PENDING
        self._array = source

    @property
    def _done_callbacks(
            self) -> list[Callable[[_cf.Future[_T]], object]]:
        cbs = self._callbacks
        if cbs is None:
            with _cond_lock:
                cbs = self._callbacks
                if cbs is None:
                    cbs = self._callbacks = []
        return cbs

    @_done_callbacks.setter
    def _done_callbacks(
            self, value: list[Callable[[_cf.Future[_T]], object]]) -> None:
        self._callbacks = value

    @property  # type: ignore[override]
    def _waiters(self) -> _Waiters:
        waiters = self._waiter_list
        if waiters is None:
            new = _Waiters()
            new.future = _weakref(self)
            with _cond_lock:
                waiters = self._waiter_list
                if waiters is None:
                    waiters = self._waiter_list = new
        return waiters

    @_waiters.setter
    def _waiters(self, value: _Waiters) -> None:
        self._waiter_list = value

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        # Plain attribute reads, never self.__dict__: making the dict of
        # an instance in a finalizer that the garbage collector runs at
        # interpreter exit crashes CPython 3.12.
        cond = self._cond
        if cond is None:
            new = threading.Condition()
            with _cond_lock:
                cond = self._cond
                if cond is None:
                    cond = self._cond = new
        return cond

    def _finish_quietly(self, value: Any,
                        exc: BaseException | None) -> bool:
        """Resolves the future if nobody has used its Condition yet (so no
        waiter or callback can be there); False if somebody has."""
        with _cond_lock:
            if self._cond is not None:
                return False
            if self._state == _PENDING:
                self._result, self._exception = value, exc
                self._state = _FINISHED
            return True

    def _value(self) -> Any:
        """The result once the operation succeeded."""
        return self._array

    def _watch(self) -> None:
        if self._watched:
            return
        self._watched = True
        token = next(_tokens)
        with _lock:
            _pending[token] = (self, self._array)
            _start()
        try:
            _core.watch(self._array, token)
        except BaseException:  # refused: in a child process after fork()
            with _lock:
                _pending.pop(token, None)
            self._watched = False
            raise

    def add_done_callback(self, fn: Callable[[Future[_T]], object]) -> None:
        """Call fn(future) once the future is done: at once when it is,
        else in cambrian's notifier thread (an exception fn raises is
        logged)."""
        self._watch()
        super().add_done_callback(
            cast(Callable[[_cf.Future[_T]], object], fn))

    def done(self) -> bool:
        """Whether the operation has ended (or was cancelled); never
        waits."""
        # Nobody may be watching: look at the operation itself.
        if self._state == _PENDING and _core.poll_writer(self._array, 0):
            _resolve(self, self._array)
        return self._state != _PENDING

    def running(self) -> bool:
        """Whether a task of the operation has started and the operation
        has not ended."""
        # A task has started and the operation is not done yet.
        return (self._state == _PENDING and _core.started(self._array)
                and not self.done())

    def cancel(self) -> bool:
        """Stop the operation if none of its tasks has started.

        Returns
        -------
        bool
            True when the future is cancelled (now or before): reading its
            array raises CancelledError and its dependents fail with
            DependencyError. False when a task has started or the
            operation ended.
        """
        if self.done():
            return self.cancelled()
        with self._condition:
            if self._state != _PENDING:
                return self._state != _FINISHED
            if not _core.cancel(self._array):
                return False       # started, or done meanwhile
            self._state = _CANCELLED
            self._condition.notify_all()
            # The executor's step: the work will not run, so the waiters
            # of concurrent.futures.wait and as_completed learn now that
            # the future is done.
            _cf.Future.set_running_or_notify_cancel(self)
        self._invoke_callbacks()  # type: ignore[attr-defined]
        _end_awaits(self)
        return True

    def set_running_or_notify_cancel(self) -> bool:
        raise RuntimeError(
            "cambrian runs the work of its futures and notifies them")

    def __repr__(self) -> str:
        # The state of the operation now, not of the last look at it: an
        # operation that has ended shows finished (returned or raised),
        # one that has started shows running. Never waits.
        if self.done():
            return super().__repr__()
        if self.running():
            return (f"<{type(self).__name__} at {id(self):#x} "
                    f"state=running>")
        return super().__repr__()

    def _wait_here(self, timeout: float | None) -> float | None:
        """Waits on the operation itself (one wake-up, not two through the
        notifier thread) and resolves the future; returns the timeout
        left for concurrent.futures' own wait, needed when the operation
        was cancelled."""
        if timeout is not None and timeout > 0:
            start = _monotonic()
        done = _core.wait_writer(self._array, timeout)
        if done:
            _resolve(self, self._array)
        elif done is None:
            # Cancelled: by our cancel(), which sets the state under the
            # Condition, or through another future of the same operation,
            # which then completes with its failure.
            self._watch()
            if timeout is not None and timeout > 0:
                return max(0.0, timeout - (_monotonic() - start))
        else:
            raise _cf.TimeoutError()
        return timeout

    def result(self, timeout: float | None = None) -> _T:
        """Wait for the operation (the GIL released, Ctrl-C works) and
        return its result.

        Parameters
        ----------
        timeout : float, optional
            Seconds; zero or less looks without waiting.

        Returns
        -------
        The array written, the task's value, or None (a kernel launch).

        Raises
        ------
        CambrianError
            The operation failed: DeviceError, DependencyError,
            TaskError...
        concurrent.futures.CancelledError
            The future was cancelled.
        TimeoutError
            The timeout passed first.
        """
        if self._state == _PENDING:
            timeout = self._wait_here(timeout)
        if self._state == _FINISHED:
            if self._exception is not None:
                self._retrieve()
                raise self._exception
            self._retrieved = True
            return cast(_T, self._result)
        self._retrieved = True
        return super().result(timeout)

    def exception(self, timeout: float | None = None
                  ) -> BaseException | None:
        """Wait as result() does; the exception the operation failed
        with, or None."""
        if self._state == _PENDING:
            timeout = self._wait_here(timeout)
        if self._state == _FINISHED:
            self._retrieve()
            return self._exception
        self._retrieved = True
        return super().exception(timeout)

    def _retrieve(self) -> None:
        # Somebody has the exception now: cb.synchronize() must not raise
        # it again, and neither this future nor those that failed because
        # of the same first failure log it as never retrieved.
        if not self._retrieved:
            self._retrieved = True
            if self._exception is not None:
                _core.failure_seen(self._exception)
                _note_raised(self._exception)

    def __await__(self) -> Generator[Any, None, _T]:
        # A tiny operation often ends within microseconds: poll briefly
        # before paying for a round of the event loop.
        if self.done() or _core.poll_writer(self._array, _AWAIT_POLL_US):
            return self.result()
            yield  # a generator, as __await__ must return an iterator
        queue = _loop_queue(asyncio.get_running_loop())
        if queue is None:
            value = yield from asyncio.wrap_future(self).__await__()
        else:
            value = yield from queue.wait(self).__await__()
        return cast(_T, value)

    __iter__ = __await__


# Failures somebody has seen (cb.synchronize() raised them, or a future's
# result gave them): futures that failed with them, or because of them,
# collected later, do not report them again. The most recent ones are kept
# (a dict keeps order).
_RAISED_KEPT = 1 << 16
_raised: dict[int, None] = {}
_raised_lock = threading.Lock()


def _note_raised(exc: BaseException) -> None:
    fid = getattr(exc, "_cb_failure", None)
    if fid is None:
        return
    with _raised_lock:
        _raised[fid] = None
        if len(_raised) > _RAISED_KEPT:
            del _raised[next(iter(_raised))]


def _report_unretrieved(exc: BaseException) -> None:
    """Logs the failure of a future collected without anybody retrieving
    it (its finalizer, _core.FutureBase's, calls this), once."""
    if not _raised_already(exc):
        _log.error("cambrian: exception of a future never retrieved",
                   exc_info=exc)
        _core.failure_seen(exc)  # reported once


def _raised_already(exc: BaseException) -> bool:
    """Whether synchronize() raised exc's failure, or the failure exc
    depends on."""
    for e in (exc, getattr(exc, "__cause__", None)):
        fid = getattr(e, "_cb_failure", None)
        if fid is not None and fid in _raised:
            return True
    return False


_lock = threading.Lock()
_pending: dict[int, tuple[Future[Any], Array | Event]] = {}  # by token
_tokens = itertools.count(1)
_thread: threading.Thread | None = None
_stopping = False


def _resolve(fut: Future[Any], array: Array | Event) -> None:
    """Sets a future from its finished operation, once, from whichever
    thread gets there first (the notifier, a waiter, an event loop, or a
    cancel()). Callbacks run here, so no lock may be held."""
    if fut._state != _PENDING:
        return
    exc = _core.array_failure(array, False)  # not retrieved: only known
    value = fut._value() if exc is None else None
    if exc is None:
        _core.settle_future(array, fut)  # no cycle with its array now
    if fut._finish_quietly(value, exc):
        return
    try:
        if exc is None:
            fut.set_result(value)
        else:
            fut.set_exception(exc)
    except _cf.InvalidStateError:  # another thread set it first
        pass


def _notifier() -> None:
    while not _stopping:
        for token in _core.wait_completions(100):
            with _lock:
                fut, array = _pending.pop(token)
            try:
                _resolve(fut, array)
            except Exception:  # keep resolving the others
                _log.exception("cambrian: resolving a future failed")
            del fut, array  # keep no future alive between batches


def _start() -> None:
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_notifier, name="cambrian-futures",
                                   daemon=True)
        _thread.start()


def _stop() -> None:
    global _stopping
    _stopping = True
    if _thread is not None:
        _thread.join(1.0)


class _LoopQueue:
    """Completions for one asyncio event loop: the workers write an eventfd
    that the loop watches, so an awaited operation resumes its coroutine
    after a single wake-up, with no thread in between."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.qid = _core.queue_open(self.fd)
        # token -> (loop future, cambrian Future)
        self.waiting: dict[int, tuple[asyncio.Future[Any], Future[Any]]] = {}
        if self.qid is not None:
            loop.add_reader(self.fd, self._drain)

    def close(self) -> None:
        if self.qid is not None:
            _core.queue_close(self.qid)
        os.close(self.fd)

    def wait(self, fut: Future[Any]) -> asyncio.Future[Any]:
        waiter = asyncio.get_running_loop().create_future()
        token = next(_tokens)
        self.waiting[token] = (waiter, fut)
        # An abandoned await (cancelled, timed out) lets go of its waiter,
        # and with it of the loop.
        waiter.add_done_callback(
            lambda w: w.cancelled() and self.waiting.pop(token, None))
        assert self.qid is not None
        _core.watch(fut._array, token, self.qid)
        return waiter

    def _cancelled(self, fut: Future[Any]) -> None:
        # In the loop's thread: fut was cancelled, its awaits end now
        # rather than when its operation's skipped tasks are reached.
        for token, (waiter, f) in list(self.waiting.items()):
            if f is fut:
                del self.waiting[token]
                waiter.cancel()

    def _drain(self) -> None:
        assert self.qid is not None
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            pass
        for token in _core.queue_drain(self.qid):
            entry = self.waiting.pop(token, None)
            if entry is None:  # the awaiting task went away
                continue
            waiter, fut = entry
            try:
                _resolve(fut, fut._array)
                if waiter.done():
                    continue
                if fut.cancelled():
                    waiter.cancel()
                    continue
                exc = fut.exception(0)
                if exc is not None:
                    waiter.set_exception(exc)
                else:
                    waiter.set_result(fut.result(0))
            except Exception:  # keep resolving the others
                _log.exception("cambrian: resolving an await failed")


# Loop -> its queue, through weak references without callbacks: the queues
# of loops that are gone are closed by the next call of _loop_queue, never
# by a finalizer, where CPython would drop a Ctrl-C that lands in it.
_loop_queues: dict[weakref.ref[asyncio.AbstractEventLoop], _LoopQueue] = {}


def _loop_queue(loop: asyncio.AbstractEventLoop) -> _LoopQueue | None:
    """The loop's completion queue; None where there is none to be had
    (no eventfd on this system, or too many loops)."""
    with _lock:
        gone = [_loop_queues.pop(k) for k in list(_loop_queues)
                if k() is None]
    for q in gone:
        q.close()
    key = weakref.ref(loop)
    queue = _loop_queues.get(key)
    if queue is None and hasattr(os, "eventfd"):
        queue = _LoopQueue(loop)
        with _lock:
            _loop_queues[key] = queue
    return queue if queue is not None and queue.qid is not None else None


def _end_awaits(fut: Future[Any]) -> None:
    """fut was cancelled: the loops awaiting it through their queues are
    told to end those awaits."""
    with _lock:
        queues = [(k(), q) for k, q in _loop_queues.items()]
    for loop, queue in queues:
        if loop is not None and queue.waiting:
            try:
                loop.call_soon_threadsafe(queue._cancelled, fut)
            except RuntimeError:  # the loop is closed
                pass


def array_future(array: Array) -> Future[Array]:
    """A new Future for the pending writes of array (used by Array.future)."""
    return Future(array)


def _as_future(x: Future[Any] | Array | _cf.Future[Any]) -> _cf.Future[Any]:
    if isinstance(x, _core.Array):
        return x.future
    if not isinstance(x, _cf.Future):
        raise TypeError(f"expected futures or arrays, got "
                        f"{type(x).__name__} {x!r:.60}")
    return x


def wait(fs: Iterable[_cf.Future[Any] | Array], timeout: float | None = None,
         return_when: str = _cf.ALL_COMPLETED
         ) -> _cf._base.DoneAndNotDoneFutures[Any]:
    """concurrent.futures.wait over Futures and Arrays (their .future).

    Parameters
    ----------
    fs : iterable of Future or Array
        What to wait for; other concurrent.futures futures too.
    timeout : float, optional
        Seconds; None waits as long as needed.
    return_when : str, optional
        FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED (default).

    Returns
    -------
    (done, not_done)
        Two sets of futures (an Array stands for its .future).

    Raises
    ------
    TypeError
        An item is neither a future nor an Array.

    Examples
    --------
    >>> done, not_done = cb.wait([cb.ones(3) * 2, cb.zeros(2) + 1])
    >>> len(done), len(not_done)
    (2, 0)
    """
    return _cf.wait([_as_future(f) for f in fs], timeout, return_when)


def as_completed(fs: Iterable[_cf.Future[Any] | Array],
                 timeout: float | None = None) -> Iterator[_cf.Future[Any]]:
    """concurrent.futures.as_completed over Futures and Arrays.

    Parameters
    ----------
    fs : iterable of Future or Array
        What to wait for.
    timeout : float, optional
        Seconds for the whole iteration.

    Returns
    -------
    iterator of Future
        The futures as they complete (an Array stands for its .future).

    Raises
    ------
    TypeError
        An item is neither a future nor an Array.
    TimeoutError
        The timeout passed before every future completed.

    Examples
    --------
    >>> sums = [float(f.result()) for f in cb.as_completed(
    ...     [cb.sum(cb.ones(n)) for n in (1, 2, 3)])]
    >>> sorted(sums)
    [1.0, 2.0, 3.0]
    """
    return _cf.as_completed([_as_future(f) for f in fs], timeout)


def synchronize(timeout: float | None = None) -> None:
    """Block until every submitted task has finished, then raise the
    failures nobody has retrieved.

    Ctrl-C interrupts the wait.

    Parameters
    ----------
    timeout : float, optional
        Seconds; None waits as long as needed.

    Raises
    ------
    CambrianError
        The one failure nobody retrieved.
    ExceptionGroup
        Several of them.
    TimeoutError
        The timeout passed first.

    Examples
    --------
    >>> a = cb.arange(1000) * 3
    >>> cb.synchronize()
    >>> a.future.done()
    True
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while not _core.wait_idle(50):
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("cambrian.synchronize timed out")
    failures = _core.take_failures()
    for f in failures:
        _note_raised(f)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup(
            f"{len(failures)} cambrian operations failed", failures)
