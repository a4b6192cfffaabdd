"""Busy workers: an operation placed on the CPU workers goes to one that is
free, not behind a Python function that holds another one.

Each test holds one CPU worker with a @cb.task function blocked on a
threading.Event that the test sets only at its end, then submits small
operations on device "cpu" and waits for them: they can only complete
while the function is still blocked if they went to the other workers.
The timeout of that wait is far beyond what the operations take; on
failure the function is let go, so the runtime is left working.
"""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import cambrian as cb

WAIT_S = 10


def cpu_workers():
    n = cb.config()["ncpus"]
    if n < 2:
        pytest.skip("needs at least 2 CPU workers (CAMBRIAN_NCPUS)")
    return n


@pytest.fixture
def held_worker(request):
    """A @cb.task function running on a CPU worker until the test ends
    (placed as request.param says: None lets the scheduler choose);
    yields its future, once it runs."""
    started, release = threading.Event(), threading.Event()

    @cb.task(device=request.param)
    def hold():
        started.set()
        release.wait(2 * WAIT_S)
        return release.is_set()

    fut = hold()
    try:
        assert started.wait(WAIT_S), "the function never started"
        yield fut
        assert not fut.done(), "the function ended before the test did"
    finally:
        release.set()
    assert fut.result(timeout=WAIT_S) is True


@pytest.mark.parametrize("held_worker", [None, "cpu"], indirect=True,
                         ids=["function-auto", "function-on-cpu"])
def test_small_ops_pass_a_busy_worker(held_worker):
    n = cpu_workers()
    dev = cb.get_device("cpu")
    x = np.arange(16, dtype=np.float32)
    a = cb.asarray(x, device=dev)
    # One at a time: each in turn may go to any worker, the busy one too.
    for i in range(4 * n):
        c = a + float(i)
        c.future.result(timeout=WAIT_S)
        np.testing.assert_array_equal(c.numpy(), x + i)
    # All at once, waited for together.
    cs = [a * float(i) for i in range(4 * n)]
    done, pending = cb.wait(cs, timeout=WAIT_S)
    assert not pending
    for i, c in enumerate(cs):
        np.testing.assert_array_equal(c.numpy(), x * i)
    assert not held_worker.done()


@pytest.mark.parametrize("held_worker", [None], indirect=True)
def test_second_function_passes_a_busy_worker(held_worker):
    """A second function on device "cpu" runs beside the held one."""
    cpu_workers()

    @cb.task(device="cpu")
    def square(v):
        return v * v

    assert [square(i).result(timeout=WAIT_S) for i in range(8)] == \
        [i * i for i in range(8)]
    assert not held_worker.done()


def test_four_workers_in_a_fresh_process():
    """The same with four CPU workers, in a process of its own: on a
    small machine they share the cores, and the function holds one of
    them."""
    code = textwrap.dedent(f"""
        import threading
        import numpy as np
        import cambrian as cb
        cb.init(ncpus=4)
        started, release = threading.Event(), threading.Event()
        @cb.task
        def hold():
            started.set()
            release.wait({2 * WAIT_S})
        fut = hold()
        assert started.wait({WAIT_S})
        a = cb.asarray(np.ones(16, np.float32), device="cpu")
        try:
            for i in range(16):
                (a + i).future.result(timeout={WAIT_S})
            print("passed:", not fut.done())
        finally:
            release.set()
        fut.result(timeout={WAIT_S})
    """)
    env = dict(os.environ)
    env.pop("CAMBRIAN_NCPUS", None)
    # The child runs as this interpreter does, its flags too.
    done = subprocess.run(
        [sys.executable, *subprocess._args_from_interpreter_flags(), "-c",
         code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "passed: True" in done.stdout
