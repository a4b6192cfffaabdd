"""cb.Future, Array.future, await, cb.wait, cb.as_completed, synchronize,
from threads and event loops."""

import asyncio
import concurrent.futures as cf
import os
import threading

import numpy as np
import pytest

import cambrian as cb

from helpers import DEVICES, Held, skip_missing


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    return request.param


def test_future_is_a_concurrent_future(dev):
    a = cb.asarray(np.arange(1000.0), device=dev) * 2
    f = a.future
    assert isinstance(f, cf.Future) and isinstance(f, cb.Future)
    assert f.result(timeout=30) is a
    assert f.done() and f.exception() is None
    assert a.future is f  # made once
    np.testing.assert_array_equal(a.numpy(), np.arange(1000.0) * 2)


def test_future_of_an_array_without_tasks_is_done():
    x = np.arange(5)
    a = cb.asarray(x)
    assert a.future.result(timeout=5) is a


def test_concurrent_futures_wait_and_as_completed(dev):
    xs = [cb.asarray(np.arange(10.0), device=dev) + i for i in range(20)]
    done, not_done = cf.wait([x.future for x in xs], timeout=30)
    assert len(done) == 20 and not not_done
    got = sorted(float(f.result().numpy()[0])
                 for f in cf.as_completed([x.future for x in xs]))
    assert got == [float(i) for i in range(20)]


def test_cb_wait_and_as_completed_take_arrays(dev):
    xs = [cb.asarray(np.ones(7), device=dev) * i for i in range(5)]
    done, not_done = cb.wait(xs, timeout=30)
    assert len(done) == 5 and not not_done
    sizes = [f.result().size for f in cb.as_completed(xs, timeout=30)]
    assert sizes == [7] * 5


def test_add_done_callback_runs_and_errors_are_logged(dev, caplog):
    seen = threading.Event()
    a = cb.asarray(np.arange(4.0), device=dev) + 1
    a.future.add_done_callback(lambda f: seen.set())
    assert seen.wait(30)

    def boom(f):
        raise RuntimeError("callback failed")
    b = cb.asarray(np.arange(4.0), device=dev) + 2
    with caplog.at_level("ERROR"):
        b.future.add_done_callback(boom)
        b.future.result(timeout=30)
        cb.synchronize()
    assert (b.numpy() == np.arange(4.0) + 2).all()  # still usable


def test_await_array_and_future(dev):
    async def main():
        a = cb.asarray(np.arange(6.0), device=dev) * 3
        got = await a
        assert got is a
        b = a + 1
        assert (await b.future) is b
        return b.numpy()
    np.testing.assert_array_equal(asyncio.run(main()), np.arange(6.0) * 3 + 1)


def test_gather_ten_thousand_operations():
    async def main():
        a = cb.asarray(np.ones(16, np.float32), device="cpu")
        outs = await asyncio.gather(*[a + i for i in range(10_000)])
        return outs
    outs = asyncio.run(main())
    assert len(outs) == 10_000
    assert float(outs[-1].numpy()[0]) == 10_000.0


def test_uvloop(dev):
    uvloop = pytest.importorskip("uvloop")

    async def main():
        a = cb.asarray(np.arange(8.0), device=dev)
        b = await (a * 2)
        outs = await asyncio.gather(*[b + i for i in range(1000)])
        return b.numpy(), outs[-1].numpy()
    b, last = uvloop.run(main())
    np.testing.assert_array_equal(b, np.arange(8.0) * 2)
    np.testing.assert_array_equal(last, np.arange(8.0) * 2 + 999)


def test_several_loops_in_several_threads(dev):
    results = {}

    def worker(k):
        async def main():
            xs = [cb.asarray(np.full(8, k, np.int64), device=dev) + i
                  for i in range(50)]
            done = await asyncio.gather(*xs)
            return int(sum(x.numpy().sum() for x in done))
        results[k] = asyncio.run(main())
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {k: sum(8 * (k + i) for i in range(50))
                       for k in range(4)}


def test_cancelling_the_awaiting_task_leaves_the_graph_consistent(dev):
    async def main():
        a = cb.asarray(np.arange(1 << 18, dtype=np.float64), device=dev)
        b = cb.sqrt(a * a + 1.0)
        t = asyncio.ensure_future(b.future)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        return b
    b = asyncio.run(main())
    x = np.arange(1 << 18, dtype=np.float64)
    np.testing.assert_allclose(b.numpy(), np.sqrt(x * x + 1.0))


def test_cancel_before_start(dev):
    held = Held(dev)
    try:
        z = held.array * 2
        w = z + 1
        assert z.future.cancel() is True
        assert z.future.cancelled()
    finally:
        held.release()
    with pytest.raises(cf.CancelledError):
        z.future.result(timeout=30)
    with pytest.raises(cf.CancelledError):
        z.numpy()
    with pytest.raises(cb.DependencyError) as info:
        w.numpy()
    assert isinstance(info.value.__cause__, cf.CancelledError)
    cb.synchronize()  # a cancellation is not a failure to report


def test_cancel_after_completion_returns_false(dev):
    a = cb.asarray(np.arange(10.0), device=dev) + 1
    assert a.future.result(timeout=30) is a
    assert a.future.cancel() is False
    assert cb.asarray(np.arange(3.0)).future.cancel() is False


def test_synchronize_waits_for_everything(dev):
    xs = [cb.asarray(np.arange(100.0), device=dev) * i for i in range(50)]
    cb.synchronize()
    assert all(x.future.result(5) is x for x in xs)
    with pytest.raises(TypeError):
        cb.synchronize(timeout="soon")


def test_result_timeout_is_honoured():
    held = Held("cpu")
    try:
        x = held.array + 1
        with pytest.raises(cf.TimeoutError):
            x.future.result(timeout=0.2)
        with pytest.raises(cf.TimeoutError):
            x.future.exception(timeout=0.05)
    finally:
        held.release()
    assert x.future.result(timeout=60) is x


def test_a_callback_may_wait_for_another_future(dev):
    first, second = Held("cpu"), Held(dev)
    try:
        fb = (second.array * 2).future
        started, seen = threading.Event(), threading.Event()

        def cb_waits(f):
            started.set()
            fb.result(timeout=60)
            seen.set()
        first.call.add_done_callback(cb_waits)
        first.release()
        assert started.wait(60)
        assert not fb.done()       # the callback waits for it
    finally:
        first.release()
        second.release()
    assert seen.wait(60)
    a = cb.asarray(np.arange(4.0), device=dev)
    assert (a + 2).future.result(timeout=30) is not None


def test_abandoned_awaits_release_their_loop():
    import gc
    import weakref

    held = Held("cpu")

    async def main():
        slow = held.array + 1
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow, 0.01)
        return asyncio.get_running_loop()
    loop = asyncio.new_event_loop()
    ref = weakref.ref(loop)
    try:
        loop.run_until_complete(main())
    finally:
        held.release()
    loop.close()
    del loop
    cb.synchronize()
    gc.collect()
    assert ref() is None


def test_done_turns_true_without_anyone_waiting(dev):
    import time
    f = (cb.asarray(np.arange(8.0), device=dev) + 1).future
    deadline = time.monotonic() + 30
    while not f.done() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert f.done() and f.result(0).size == 8


def test_collecting_futures_while_making_conditions_does_not_hang():
    # A future in a reference cycle is resolved by its __del__ when the
    # garbage collector runs, which may be while this thread makes
    # another future's Condition. Run in a child: a hang must not stall
    # the suite.
    import subprocess
    import sys
    code = """
import gc
import numpy as np
import cambrian as cb
a = cb.asarray(np.arange(4.0), device="cpu")
gc.set_threshold(1, 1, 1)
for i in range(3000):
    f = (a + i).future
    f.cycle = f                      # garbage only the collector frees
    del f
    g = (a + 1).future
    g.add_done_callback(lambda fut: None)   # makes g's Condition
    g.result(timeout=30)
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


# ---- departures from concurrent.futures.Future, each fixed ------------------

def _blocked_reader(fut, method, out):
    """Calls fut.method(timeout=30) in a thread; out gets what it raised
    or returned, and how long it took."""
    import time

    def run():
        t0 = time.monotonic()
        try:
            out["value"] = getattr(fut, method)(timeout=30)
        except BaseException as e:
            out["error"] = e
        out["seconds"] = time.monotonic() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_cancel_wakes_threads_waiting_for_the_result():
    held = Held("cpu")
    try:
        z = held.array * 2
        got = [{}, {}]
        threads = [_blocked_reader(z.future, "result", got[0]),
                   _blocked_reader(z.future, "exception", got[1])]
        for t in threads:
            t.join(0.3)                       # both are waiting now
        assert all(t.is_alive() for t in threads)
        assert z.future.cancel() is True
        for t in threads:
            t.join(5)                         # the inputs are still held
        assert not any(t.is_alive() for t in threads)
    finally:
        held.release()
    for g in got:
        assert isinstance(g.get("error"), cf.CancelledError), g


def test_cancelled_future_completes_wait_and_as_completed():
    held = Held("cpu")
    try:
        y = held.array + 1
        f = y.future
        seen = {}
        waiting = threading.Thread(
            target=lambda: seen.update(w=cf.wait([f], timeout=30)),
            daemon=True)
        waiting.start()
        waiting.join(0.2)                     # its waiter is in place
        assert f.cancel() is True
        done, not_done = cf.wait([f], timeout=5)
        assert done == {f} and not not_done
        assert list(cf.as_completed([f], timeout=5)) == [f]
        waiting.join(5)
        assert not waiting.is_alive() and seen["w"].done == {f}
        # cambrian ran the executor's step: the future is notified.
        with pytest.raises(RuntimeError):
            f.set_running_or_notify_cancel()
    finally:
        held.release()


def test_running_while_a_task_runs():
    held = Held("cpu")
    started, go = threading.Event(), threading.Event()

    @cb.task
    def slow(x, started, go):
        started.set()
        go.wait(60)
        return 7

    try:
        f = slow(held.array, started, go)     # cannot start before release
        assert not f.running() and not f.done()
        held.release()
        assert started.wait(30)
        assert f.running() and not f.done()
        assert f.cancel() is False            # it runs: too late
    finally:
        held.release()
        go.set()
    assert f.result(timeout=30) == 7
    assert not f.running() and f.done()


@pytest.mark.parametrize("timeout", [-1, -0.001, -1e9])
def test_negative_timeouts_behave_as_concurrent_futures(timeout):
    import time
    plain = cf.Future()
    with pytest.raises(cf.TimeoutError):      # the reference behaviour
        plain.result(timeout=timeout)
    held = Held("cpu")
    try:
        x = held.array + 1
        t0 = time.monotonic()
        with pytest.raises(cf.TimeoutError):
            x.future.result(timeout=timeout)
        with pytest.raises(cf.TimeoutError):
            x.future.exception(timeout=timeout)
        assert time.monotonic() - t0 < 5
    finally:
        held.release()
    assert x.future.result(timeout=30) is x
    assert x.future.result(timeout=timeout) is x      # done: no wait
    assert x.future.exception(timeout=timeout) is None


def test_future_cannot_be_made_without_an_operation():
    with pytest.raises(TypeError, match="concurrent.futures.Future"):
        cb.Future()
    with pytest.raises(TypeError, match="concurrent.futures.Future"):
        cb.Future(42)
    with pytest.raises(TypeError):
        cb.Future(np.arange(3))
    assert "concurrent.futures.Future" in cb.Future.__doc__


@pytest.mark.parametrize("early", [False, True])
def test_done_once_numpy_has_returned(early):
    a = cb.asarray(np.ones(4, np.float32), device="cpu")
    not_done = 0
    for i in range(300):
        b = a + i
        if early:
            b.future               # made before numpy(), looked at after
        assert b.numpy()[0] == 1 + i
        not_done += not b.future.done()
    assert not_done == 0


def test_cancel_ends_awaits_at_once():
    held = Held("cpu")
    y = held.array + 1

    async def main():
        asyncio.get_running_loop().call_later(0.2, y.future.cancel)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.ensure_future(_await(y)), 10)
        # Ended by the cancellation, not by the input's release.
        return held.call.done()

    async def _await(x):
        return await x

    try:
        input_done = asyncio.run(main())
    finally:
        held.release()
    assert input_done is False
    with pytest.raises(cf.CancelledError):
        y.numpy()


def test_an_array_and_its_future_are_freed_without_the_collector(dev):
    # The future holds its array; the array must not hold the future back,
    # or both wait for the garbage collector (and the array's buffers stay
    # out of the pool until then).
    import gc
    import weakref
    a = cb.asarray(np.arange(100.0), device=dev)
    gc.disable()
    try:
        c = a + 1
        f = c.future
        assert c.future is f  # the same one while it is held
        assert f.result(timeout=30) is c
        arrays, futures = weakref.ref(c), weakref.ref(f)
        del c, f
        assert arrays() is None and futures() is None
        # Asked for again after it went: a new one, of the same operation.
        d = a * 2
        d.future.result(timeout=30)
        g = d.future
        assert g.done() and g.result() is d
    finally:
        gc.enable()


def test_a_later_write_keeps_its_own_future(dev):
    # The first write's future settles when that write succeeds; the
    # future of a later write, whose operation may still fail, stays with
    # the array all the same.
    import gc
    import weakref
    held = Held(dev)
    try:
        d = held.array + 1
        first = d.future
        settled = threading.Event()
        first.add_done_callback(lambda f: settled.set())
        d += 1  # a new write: a new future
        later = d.future
        assert later is not first
    finally:
        held.release()
    assert settled.wait(30)
    gc.disable()
    try:
        ref = weakref.ref(later)
        del later
        assert ref() is not None  # the array still holds it
        assert d.future is ref()
        d.future.result(timeout=30)
    finally:
        gc.enable()


def test_queues_of_gone_event_loops_are_closed():
    # Each event loop that awaits gets an eventfd queue; once the loop is
    # gone, the next await closes it (no finalizer does, where a Ctrl-C
    # would be lost).
    import gc

    def eventfds():
        n = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                n += "eventfd" in os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        return n

    async def one():
        return float(await cb.sum(cb.asarray(np.arange(4.0)) + 1))

    asyncio.run(one())
    gc.collect()
    asyncio.run(one())
    before = eventfds()
    for _ in range(30):
        assert asyncio.run(one()) == 10.0
        gc.collect()
    asyncio.run(one())
    assert eventfds() <= before + 1
