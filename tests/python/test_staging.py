"""Copies from pageable host memory (zero-copy NumPy arrays) to a device
through pinned staging buffers. GPUs stage by themselves; with
CAMBRIAN_PINNED=all pocl does too, which lets these tests run anywhere
(in child processes: the setting is read once)."""

import os
import subprocess
import sys
import textwrap

import pytest

from helpers import NO_OPENCL, has_opencl

CHILD = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    import cambrian.testing as t
    dev = cb.get_device("opencl")
    rng = np.random.default_rng(0)
    before = t.staged_chunks()
    # 20 MiB and 7 elements, 1-D and 2-D, two dtypes, several tiles.
    x = rng.random((20 << 20) // 4 + 7, dtype=np.float32)
    a = cb.asarray(x, device=dev, tile_size=x.size)
    np.testing.assert_array_equal((a * 2).numpy(), x * 2)
    m = rng.integers(-9, 9, (1024, 2048), dtype=np.int64)
    b = cb.asarray(m, device=dev, tile_size=512 * 2048)
    np.testing.assert_array_equal((b + 1).numpy(), m + 1)
    assert int(cb.sum(b)) == int(m.sum())
    staged = t.staged_chunks() - before
    # An array with a pinned host copy, and a small one, go straight.
    before = t.staged_chunks()
    p = cb.asarray(x, device=dev, copy=True, tile_size=x.size)
    np.testing.assert_array_equal((p - 1).numpy(), x - 1)
    s = cb.asarray(x[:1000], device=dev)
    np.testing.assert_array_equal((s - 1).numpy(), x[:1000] - 1)
    print(staged, t.staged_chunks() - before)
""")

LOSS = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    import cambrian.testing as t
    dev = cb.get_device("opencl")
    x = np.arange(3 << 20, dtype=np.float32)
    t.inject_fault("stage", device=dev, nth=1,
                   cl_status="CL_OUT_OF_RESOURCES",
                   lose_device=True)
    a = cb.asarray(x, device=dev, tile_size=x.size)
    try:
        (a + 1).numpy()
    except cb.DeviceLostError as e:
        print("lost:", e.__cause__)
    print("device lost:", cb.get_device("opencl").lost)
    # The host copy is intact: the CPU workers use it.
    print("cpu:", float((a.to_device("cpu") + 1).max()))
""")


def run(code, pinned="all"):
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, CAMBRIAN_PINNED=pinned)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_pageable_arrays_travel_through_staging():
    staged, straight = map(int, run(CHILD).split())
    # 3 chunks for the float32 array, 1 for each 8 MiB int64 tile.
    assert staged == 3 + 2
    assert straight == 0


def test_no_staging_when_pinning_is_off():
    staged, straight = map(int, run(CHILD, pinned="none").split())
    assert staged == straight == 0


def test_a_failed_staged_copy_loses_the_device_and_keeps_the_host_copy():
    out = run(LOSS)
    assert "lost: " in out and "copying 12582912 bytes to" in out
    assert "CL_OUT_OF_RESOURCES" in out
    assert "device lost: True" in out
    assert f"cpu: {float(3 << 20)}" in out
