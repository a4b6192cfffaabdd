"""Ctrl-C while blocked in numpy(), result() or synchronize() raises
KeyboardInterrupt at once, and the runtime stays usable.

The pending work is a task function that blocks until the test releases
it, and element-wise operations queued behind it: it cannot finish before
the interrupt, and finishes at once afterwards. That the work is still
pending when KeyboardInterrupt arrives proves that the wait was
interrupted rather than completed.
"""

import os
import signal
import threading
import time

import numpy as np
import pytest

import cambrian as cb
from helpers import assert_alive

# How long the blocked task waits for its release at most: only a wait that
# ignores Ctrl-C lets it run that long, and the test then fails.
GIVE_UP_S = 60.0


@cb.task
def blocked(started, release, out):
    started.set()
    release.wait(GIVE_UP_S)
    out[:] = 1.0
    return release.is_set()


WAITS = {
    "numpy": lambda y, call: y.numpy(),
    # NumPy drops the error of a failed buffer export and falls back to
    # __array__: the interrupt must survive that.
    "np_asarray": lambda y, call: np.asarray(y),
    "array_result": lambda y, call: y.future.result(),
    "task_result": lambda y, call: call.result(),
    "synchronize": lambda y, call: cb.synchronize(),
}


@pytest.fixture
def default_sigint():
    """Ctrl-C as a program starts with it: Python's own handler, the
    signal not blocked in this thread. Says what it found otherwise, so
    that a test or library that left another behind is named."""
    found = (signal.getsignal(signal.SIGINT),
             signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    yield found
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("wait", sorted(WAITS))
def test_ctrl_c_interrupts_waits(wait, default_sigint):
    started, release, waiting = (threading.Event(), threading.Event(),
                                 threading.Event())
    a = cb.empty(1000, dtype=np.float32, device="cpu")
    call = blocked(started, release, cb.Out(a))
    y = cb.sqrt(a * 3.0 + 1.0)   # queued behind the task, not started

    def interrupt():
        # Once the task runs and the main thread is about to wait.
        if started.wait(GIVE_UP_S) and waiting.wait(GIVE_UP_S):
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=interrupt)
    sender.start()
    pending = None
    try:
        assert started.wait(GIVE_UP_S), "the task never started"
        try:
            with pytest.raises(KeyboardInterrupt):
                waiting.set()
                try:
                    WAITS[wait](y, call)
                except KeyboardInterrupt:
                    pending = (call.done(), y.future.done())
                    raise
        except pytest.fail.Exception:
            handler, blocked_before = default_sigint
            pytest.fail(f"the wait was not interrupted (before this test "
                        f"SIGINT's handler was {handler!r}, blocked: "
                        f"{blocked_before})")
    finally:
        waiting.set()
        sender.join()
        release.set()
    assert pending == (False, False), "the wait ended with the work"
    # The work finishes as soon as it is released, with its values.
    assert call.result() is True
    np.testing.assert_allclose(y.numpy(), np.full(1000, 2.0, np.float32))
    cb.synchronize()
    assert_alive()
