"""Ctrl-C while blocked in result(), numpy() or synchronize() raises
KeyboardInterrupt, and the runtime stays usable."""

import os
import signal
import threading

import numpy as np
import pytest

import cambrian as cb

N = 1 << 25


def interrupt_soon():
    t = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    return t


def long_chain():
    x = cb.asarray(np.ones(N, np.float32), device="cpu")
    for _ in range(12):
        x = cb.sqrt(x * 1.0001 + 1.0)
    return x


@pytest.mark.parametrize("wait", ["numpy", "result", "synchronize"])
def test_ctrl_c_interrupts_waits(wait):
    x = long_chain()
    t = interrupt_soon()
    try:
        with pytest.raises(KeyboardInterrupt):
            if wait == "numpy":
                x.numpy()
            elif wait == "result":
                x.future.result()
            else:
                cb.synchronize()
    finally:
        t.join()
    cb.synchronize()
    np.testing.assert_array_equal((cb.asarray(np.arange(3.0)) + 1).numpy(),
                                  [1.0, 2.0, 3.0])
