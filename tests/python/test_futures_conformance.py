"""The documented contract of concurrent.futures.Future, checked on the
cambrian.Future objects of real work: array operations and task calls,
pending, running, finished, failed and cancelled.

Every check here follows the library documentation of
concurrent.futures.Future, wait() and as_completed(), applied to futures
that cambrian made. Where the documentation leaves the choice to the
executor (set_running_or_notify_cancel, the thread callbacks run in),
cambrian's choice is checked and said so.
"""

import asyncio
import concurrent.futures as cf
import logging
import threading
import time

import numpy as np
import pytest

import cambrian as cb

from helpers import Held


@cb.task
def _fails(message):
    raise ValueError(message)


@cb.task
def _gate(started, go, value):
    started.set()
    go.wait(60)          # a test that fails before go.set() does not hang
    return value


def finished_future():
    f = (cb.asarray(np.arange(4.0), device="cpu") + 1).future
    f.result(timeout=30)
    return f


def failed_future():
    f = _fails("out of luck")
    f.exception(timeout=30)
    return f


@pytest.fixture
def hold():
    """hold() -> a Held: futures made from its array cannot start before
    its release() or the test's end. It holds a CPU worker (the one, in
    the default configuration of a small machine): futures that must end
    are made first."""
    made = []

    def make():
        made.append(Held("cpu"))
        return made[-1]
    yield make
    for h in made:
        h.release()


@pytest.fixture
def gate():
    """gate() -> a future whose task runs until the test ends, once it
    has started."""
    gos = []

    def make(value=5):
        started, go = threading.Event(), threading.Event()
        gos.append(go)
        f = _gate(started, go, value)
        assert started.wait(30), "the task never started"
        f.go = go
        return f
    yield make
    for go in gos:
        go.set()


# ---- the class --------------------------------------------------------------

def test_a_subclass_that_can_be_parametrized():
    assert issubclass(cb.Future, cf.Future)
    assert cb.Future[int].__origin__ is cb.Future


# ---- states: running(), done(), cancelled() ---------------------------------

def test_pending(hold):
    held = hold()
    f = (held.array * 2).future
    assert (f.running(), f.done(), f.cancelled()) == (False, False, False)
    assert "state=pending" in repr(f)


def test_running(gate):
    f = gate()
    assert (f.running(), f.done(), f.cancelled()) == (True, False, False)
    assert "state=running" in repr(f)
    f.go.set()
    assert f.result(timeout=30) == 5
    assert (f.running(), f.done(), f.cancelled()) == (False, True, False)


def test_finished():
    f = finished_future()
    assert (f.running(), f.done(), f.cancelled()) == (False, True, False)
    assert "state=finished" in repr(f)


def test_failed():
    f = failed_future()
    assert (f.running(), f.done(), f.cancelled()) == (False, True, False)
    assert "state=finished raised TaskError" in repr(f)


def test_cancelled(hold):
    held = hold()
    f = (held.array * 2).future
    assert f.cancel() is True
    assert (f.running(), f.done(), f.cancelled()) == (False, True, True)
    assert "state=cancelled" in repr(f)


# ---- result() and exception() -----------------------------------------------

def test_result_of_a_finished_future():
    a = cb.asarray(np.arange(4.0), device="cpu") * 3
    f = a.future
    assert f.result() is a
    assert f.result(timeout=0) is a
    assert f.exception() is None and f.exception(timeout=0) is None


def test_result_of_a_task_call_is_the_value_returned():
    @cb.task
    def answer():
        return {"answer": 42}
    assert answer().result(timeout=30) == {"answer": 42}


def test_result_raises_the_exception_that_exception_returns():
    f = failed_future()
    exc = f.exception()
    assert isinstance(exc, cb.TaskError)
    assert isinstance(exc.__cause__, ValueError)
    with pytest.raises(cb.TaskError) as info:
        f.result()
    assert info.value is exc
    assert f.exception(timeout=0) is exc


def test_result_without_a_timeout_waits_for_the_operation():
    go = threading.Event()
    f = _gate(threading.Event(), go, 9)
    timer = threading.Timer(0.2, go.set)
    timer.start()
    assert f.result() == 9
    assert f.exception() is None
    timer.join()


@pytest.mark.parametrize("method", ["result", "exception"])
def test_timeout_on_a_pending_future(hold, method):
    held = hold()
    f = (held.array + 1).future
    t0 = time.monotonic()
    with pytest.raises(cf.TimeoutError):
        getattr(f, method)(timeout=0.2)
    assert 0.15 <= time.monotonic() - t0 < 10
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):     # the same class since 3.11
        getattr(f, method)(timeout=0)
    assert time.monotonic() - t0 < 1


@pytest.mark.parametrize("method", ["result", "exception"])
def test_cancelled_future_raises_cancelled_error(hold, method):
    held = hold()
    f = (held.array + 1).future
    f.cancel()
    with pytest.raises(cf.CancelledError):
        getattr(f, method)()
    with pytest.raises(cf.CancelledError):
        getattr(f, method)(timeout=0)


# ---- cancel() ---------------------------------------------------------------

def test_cancel_pending(hold):
    held = hold()
    f = (held.array + 1).future
    assert f.cancel() is True
    assert f.cancel() is True          # cancelled already: True again
    assert f.cancelled()


def test_cancel_running_fails(gate):
    f = gate(value=3)
    assert f.cancel() is False
    assert not f.cancelled() and f.running()
    f.go.set()
    assert f.result(timeout=30) == 3


def test_cancel_finished_fails():
    for f in (finished_future(), failed_future()):
        assert f.cancel() is False
        assert not f.cancelled() and f.done()


def test_cancel_wakes_waiting_threads(hold):
    held = hold()
    f = (held.array + 1).future
    errors = []

    def wait(method):
        try:
            getattr(f, method)(timeout=60)
        except cf.CancelledError as e:
            errors.append(e)
    threads = [threading.Thread(target=wait, args=(m,), daemon=True)
               for m in ("result", "exception", "result")]
    for t in threads:
        t.start()
    time.sleep(0.2)
    assert f.cancel()
    for t in threads:
        t.join(10)
    assert len(errors) == 3


# ---- add_done_callback() ----------------------------------------------------

def test_callbacks_get_the_future_in_the_order_added(hold):
    held = hold()
    f = (held.array + 1).future
    calls, all_done = [], threading.Event()
    f.add_done_callback(lambda fut: calls.append(("first", fut)))
    f.add_done_callback(lambda fut: calls.append(("second", fut)))
    f.add_done_callback(lambda fut: all_done.set())
    assert calls == []
    held.release()
    assert all_done.wait(30)
    assert calls == [("first", f), ("second", f)]


def test_callback_on_a_done_future_runs_at_once_in_the_caller():
    for f in (finished_future(), failed_future()):
        seen = []
        f.add_done_callback(
            lambda fut: seen.append((fut, threading.get_ident())))
        assert seen == [(f, threading.get_ident())]


def test_callbacks_run_when_a_future_is_cancelled(hold):
    held = hold()
    f = (held.array + 1).future
    seen = []
    f.add_done_callback(seen.append)
    assert f.cancel()
    assert seen == [f]
    f.add_done_callback(seen.append)
    assert seen == [f, f]


def test_a_failing_callback_is_logged_and_the_others_run(hold, caplog):
    held = hold()
    f = (held.array + 1).future
    later = threading.Event()

    def boom(fut):
        raise RuntimeError("callback failed")
    f.add_done_callback(boom)
    f.add_done_callback(lambda fut: later.set())
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        held.release()
        assert later.wait(30)
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError)
               for r in caplog.records)
    assert f.result(timeout=30) is not None


def test_callbacks_of_a_failed_future_see_its_exception():
    f = _fails("bad")
    seen = threading.Event()
    got = []
    f.add_done_callback(lambda fut: (got.append(fut.exception()),
                                     seen.set()))
    assert seen.wait(30)
    assert isinstance(got[0], cb.TaskError)


# ---- the executor's side ----------------------------------------------------

def test_set_result_and_set_exception_on_a_done_future_raise():
    for f in (finished_future(), failed_future()):
        with pytest.raises(cf.InvalidStateError):
            f.set_result(1)
        with pytest.raises(cf.InvalidStateError):
            f.set_exception(ValueError())


def test_set_result_on_a_cancelled_future_raises(hold):
    held = hold()
    f = (held.array + 1).future
    f.cancel()
    with pytest.raises(cf.InvalidStateError):
        f.set_result(1)
    with pytest.raises(cf.InvalidStateError):
        f.set_exception(ValueError())


def test_set_running_or_notify_cancel_is_cambrians(hold):
    held = hold()
    # cambrian is the executor of its futures: it notifies a cancelled
    # future itself, and the method, which may be called only once, is
    # not the caller's to call.
    f = (held.array + 1).future
    with pytest.raises(RuntimeError):
        f.set_running_or_notify_cancel()
    assert not f.running() and not f.done()
    assert f.cancel()
    with pytest.raises(RuntimeError):
        f.set_running_or_notify_cancel()
    assert cf.wait([f], timeout=5).done == {f}


# ---- wait() -----------------------------------------------------------------

def test_wait_all_completed_counts_every_end(hold):
    finished, failed = finished_future(), failed_future()
    held = hold()
    cancelled = (held.array + 1).future
    cancelled.cancel()
    fs = [finished, failed, cancelled]
    done, not_done = cf.wait(fs, timeout=30)
    assert done == set(fs) and not_done == set()


def test_wait_first_completed(hold):
    finished = finished_future()
    held = hold()
    pending = (held.array + 1).future
    t0 = time.monotonic()
    done, not_done = cf.wait([pending, finished], timeout=30,
                             return_when=cf.FIRST_COMPLETED)
    assert done == {finished} and not_done == {pending}
    assert time.monotonic() - t0 < 5


def test_wait_first_completed_is_woken_by_a_completion(hold):
    held = hold()
    pending = (held.array + 1).future
    threading.Timer(0.2, held.release).start()
    done, not_done = cf.wait([pending], timeout=30,
                             return_when=cf.FIRST_COMPLETED)
    assert done == {pending} and not not_done


def test_wait_first_completed_is_woken_by_a_cancellation(hold):
    held = hold()
    pending = (held.array + 1).future
    threading.Timer(0.2, pending.cancel).start()
    t0 = time.monotonic()
    done, not_done = cf.wait([pending], timeout=30,
                             return_when=cf.FIRST_COMPLETED)
    assert done == {pending} and not not_done
    assert time.monotonic() - t0 < 10


def test_wait_first_exception(hold):
    failed = failed_future()
    held = hold()
    pending = (held.array + 1).future
    done, not_done = cf.wait([pending, failed], timeout=30,
                             return_when=cf.FIRST_EXCEPTION)
    assert done == {failed} and not_done == {pending}


def test_wait_first_exception_without_one_waits_for_all(hold):
    finished = finished_future()
    held = hold()
    pending = (held.array + 1).future
    threading.Timer(0.2, held.release).start()
    done, not_done = cf.wait([pending, finished], timeout=30,
                             return_when=cf.FIRST_EXCEPTION)
    assert done == {pending, finished} and not not_done


def test_wait_times_out(hold):
    finished = finished_future()
    held = hold()
    pending = (held.array + 1).future
    t0 = time.monotonic()
    done, not_done = cf.wait([pending, finished], timeout=0.2)
    assert done == {finished} and not_done == {pending}
    assert 0.15 <= time.monotonic() - t0 < 10


# ---- as_completed() ---------------------------------------------------------

def test_as_completed_yields_done_futures_then_the_others(hold):
    finished = finished_future()
    held = hold()
    pending = (held.array + 1).future
    cancelled = (held.array + 2).future
    cancelled.cancel()
    it = cf.as_completed([pending, finished, cancelled, finished],
                         timeout=30)
    first = {next(it), next(it)}
    assert first == {finished, cancelled}   # duplicates come once
    held.release()
    assert next(it) is pending
    with pytest.raises(StopIteration):
        next(it)


def test_as_completed_times_out(hold):
    finished = finished_future()
    held = hold()
    pending = (held.array + 1).future
    it = cf.as_completed([pending, finished], timeout=0.2)
    assert next(it) is finished
    with pytest.raises(cf.TimeoutError):
        next(it)


# ---- asyncio ----------------------------------------------------------------

def test_asyncio_wrap_future():
    a = cb.asarray(np.arange(5.0), device="cpu") + 1

    async def main():
        got = await asyncio.wrap_future(a.future)
        with pytest.raises(cb.TaskError):
            await asyncio.wrap_future(_fails("async"))
        return got
    assert asyncio.run(main()) is a


def test_asyncio_wrap_future_of_a_cancelled_future(hold):
    held = hold()
    f = (held.array + 1).future

    async def main():
        wrapped = asyncio.wrap_future(f)
        f.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(wrapped, 10)
    asyncio.run(main())
