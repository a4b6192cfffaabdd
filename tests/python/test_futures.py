"""cb.Future, Array.future, await, cb.wait, cb.as_completed, synchronize,
from threads and event loops."""

import asyncio
import concurrent.futures as cf
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
