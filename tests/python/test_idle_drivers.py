"""Idle drivers sleep: while results stream back from an OpenCL device,
only that device's driver carries the copies, and the CPU workers'
drivers, which have no part in them, take no core.

A graph streams host chunks through the OpenCL device with Graph.map,
whose results come home as soon as they are written: copies home are
pending nearly all the time, while the device's tasks begin and end. The
test reads the CPU time of the threads named cb-cpu* (Linux names them
in /proc) over the run. Drivers that polled for those copies took a good
part of it (on a 16-core GPU machine, 15 of them kept the cores of the
threads that move the data, and the pipeline ran up to five times
slower).
"""

import glob
import os
import time

import numpy as np
import pytest

import cambrian as cb

from helpers import has_opencl, NO_OPENCL

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_driver_seconds():
    """CPU time of the CPU workers' drivers so far, in seconds."""
    ticks = 0
    for task in glob.glob("/proc/self/task/*"):
        try:
            with open(task + "/comm") as f:
                if not f.read().startswith("cb-cpu"):
                    continue
            with open(task + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * TICK_S


@pytest.mark.skipif(not os.path.exists("/proc/self/task"),
                    reason="needs Linux's /proc")
def test_cpu_drivers_sleep_while_results_stream_home():
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    if cb.config()["ncpus"] < 1:
        pytest.skip("needs a CPU worker")
    dev = cb.get_device("opencl")
    n = 1 << 16
    with cb.Graph() as g:
        x = g.input("x", (n,), cb.float32)
        g.output("y", cb.sqrt(x * x + 1.0) * 0.5 - x)
    rng = np.random.default_rng(0)
    chunks = [rng.standard_normal(n).astype(np.float32) for _ in range(64)]
    for _, outs in g.map(chunks[:4], device=dev):  # kernels built
        outs["y"].numpy()
    cb.synchronize()
    time.sleep(0.05)  # the drivers' short linger ends
    before = cpu_driver_seconds()
    t0 = time.perf_counter()
    while True:  # long enough for the clock ticks to count
        got = [outs["y"].numpy() for _, outs in g.map(chunks, device=dev)]
        cb.synchronize()
        took = time.perf_counter() - t0
        if took >= 0.5:
            break
    spent = cpu_driver_seconds() - before
    # A few ticks at most: a driver may linger a moment before it sleeps.
    # Polling drivers took half the time and more here (2 cores).
    assert spent <= 0.1 * took + 2 * TICK_S, (
        f"CPU drivers took {spent:.2f} s of CPU in {took:.2f} s")
    for c, y in zip(chunks, got):
        np.testing.assert_allclose(y, np.sqrt(c * c + 1) * 0.5 - c,
                                   rtol=1e-5, atol=1e-5)
