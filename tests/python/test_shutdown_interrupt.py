"""Ctrl-C while cb.shutdown() or the exit of the process waits for pending
work ends the wait at once: cb.shutdown() raises KeyboardInterrupt with
the runtime still running its work, and a process that exits drops the
work instead of waiting for it."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import cambrian as cb

from helpers import Held, assert_alive


def test_ctrl_c_interrupts_shutdown():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    held = Held("cpu")
    y = held.array + 1
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            cb.shutdown()
        assert not y.future.done()     # interrupted, not drained
    finally:
        timer.cancel()
        held.release()
        signal.signal(signal.SIGINT, previous)
    np.testing.assert_array_equal(y.numpy(), np.full(1000, 2.0))
    cb.shutdown()
    assert_alive()


CHILD = textwrap.dedent("""
    import sys, threading, time
    import cambrian as cb
    marker = sys.argv[1]
    @cb.task
    def slow(out):
        threading.Event().wait(30)     # never set: the work outlasts exit
        open(marker, "w").close()
    slow(cb.Out(cb.empty(10, device="cpu")))
    time.sleep(0.2)                    # the task is running
    print("exiting", flush=True)
""")


def test_ctrl_c_at_exit_drops_pending_work(tmp_path):
    marker = tmp_path / "task-finished"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(marker)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "exiting"
        # Ctrl-C until the child has gone: one that comes before the
        # exit's wait has begun ends the script's last lines instead.
        for _ in range(120):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
    finally:
        if child.poll() is None:
            child.kill()
    # Had the exit waited for the task, the task would have finished.
    assert not marker.exists()
