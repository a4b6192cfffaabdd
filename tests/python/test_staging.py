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

    def moved(make):
        # Chunks staged to make an array and bring it to the device.
        before = t.staged_chunks()
        a = make()
        a.to_device(dev)
        cb.synchronize()
        return a, t.staged_chunks() - before

    # 20 MiB and 7 elements, 1-D and 2-D, two dtypes, several tiles.
    x = rng.random((20 << 20) // 4 + 7, dtype=np.float32)
    m = rng.integers(-9, 9, (1024, 2048), dtype=np.int64)
    a, na = moved(lambda: cb.asarray(x, device=dev, tile_size=x.size))
    b, nb = moved(lambda: cb.asarray(m, device=dev, tile_size=512 * 2048))
    # An array with a pinned host copy, and a small one, go straight.
    p, np_ = moved(lambda: cb.asarray(x, device=dev, copy=True,
                                      tile_size=x.size))
    s, ns = moved(lambda: cb.asarray(x[:1000], device=dev))
    # A source on no alignment, of a length no multiple of 64 bytes.
    u = rng.integers(0, 255, (9 << 20) + 64, dtype=np.uint8)[3:]
    c, nc = moved(lambda: cb.asarray(u, device=dev, tile_size=u.size))
    print(na, nb, np_, ns, nc)
    # Results read back into pageable memory come through staging too.
    before = t.staged_chunks()
    out = np.empty_like(x)
    np.copyto(out, (a * 2).numpy())
    np.testing.assert_array_equal(out, x * 2)
    np.testing.assert_array_equal((b + 1).numpy(), m + 1)
    assert int(cb.sum(b)) == int(m.sum())
    np.testing.assert_array_equal((p - 1).numpy(), x - 1)
    np.testing.assert_array_equal((s - 1).numpy(), x[:1000] - 1)
    np.testing.assert_array_equal((c + 1).numpy(), u + 1)
    np.testing.assert_array_equal(cb.asarray(u, copy=True).numpy(), u)
    print(t.staged_chunks() - before)
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
    moved, results = run(CHILD).split("\n")[:2]
    # Chunks of 4 MiB (staging.c): 6 for the float32 array (20 MiB and
    # 28 bytes); a copy under 16 MiB is cut in four: each 8 MiB int64
    # tile, and the uint8 array (9 MiB and 61 bytes); none for pinned or
    # small arrays.
    assert list(map(int, moved.split())) == [6, 8, 0, 0, 4]
    # The first two results read back have no pinned buffer of their size
    # yet (reads ask for one, in the background): 6 and 8 chunks.
    assert int(results) >= 6 + 8


CONCURRENT = textwrap.dedent("""
    import threading
    import numpy as np
    import cambrian as cb
    import cambrian.testing as t
    devs = cb.devices("opencl")[:2]
    rng = np.random.default_rng(1)
    # Uploads of 5 MiB and some bytes to one device or the other, results
    # read back into pageable memory, and host copies of 9 MiB, all going
    # through the same stagers at once, from eight threads.
    xs = [rng.random((5 << 20) // 4 + 11 * i, dtype=np.float32)
          for i in range(8)]
    big = rng.integers(0, 255, (9 << 20) + 5, dtype=np.uint8)
    bad = []

    def work(i):
        for _ in range(3):
            a = cb.asarray(xs[i], device=devs[i % len(devs)],
                           tile_size=xs[i].size)
            out = np.empty_like(xs[i])
            np.copyto(out, (a * 2).numpy())
            if not np.array_equal(out, xs[i] * 2):
                bad.append(("upload", i))
            if not np.array_equal(cb.asarray(big, copy=True).numpy(), big):
                bad.append(("host copy", i))

    before = t.staged_chunks()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(bad, t.staged_chunks() - before)
""")


def test_concurrent_staged_copies_to_two_devices_all_arrive():
    # Two pocl devices where pocl is the OpenCL platform; otherwise the
    # first two OpenCL devices, or one for all.
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, CAMBRIAN_PINNED="all",
               POCL_DEVICES="pthread pthread")
    done = subprocess.run([sys.executable, "-c", CONCURRENT],
                          capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    bad, chunks = done.stdout.strip().rsplit(" ", 1)
    assert bad == "[]"
    # Each upload is cut into four chunks (results read back go through
    # staging until their host buffers are pinned, in the background).
    assert int(chunks) >= 8 * 3 * 4


def test_no_staging_when_pinning_is_off():
    moved, results = run(CHILD, pinned="none").split("\n")[:2]
    assert list(map(int, moved.split())) == [0, 0, 0, 0, 0]
    assert int(results) == 0


def test_a_failed_staged_copy_loses_the_device_and_keeps_the_host_copy():
    out = run(LOSS)
    assert "lost: " in out and "copying 12582912 bytes to" in out
    assert "CL_OUT_OF_RESOURCES" in out
    assert "device lost: True" in out
    assert f"cpu: {float(3 << 20)}" in out


UNFINISHED = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    import cambrian.testing as t
    dev = cb.get_device("opencl")
    x = np.arange(3 << 20, dtype=np.float32)
    # A task's end that cannot be completed (as on a poisoned context):
    # StarPU is told that it ended, and the result is right.
    a = cb.asarray(x, device=dev, copy=True, tile_size=x.size)
    t.inject_fault("complete", device=dev, nth=1)
    before = t.unfinished_events()
    print("task:", np.array_equal((a + 1).numpy(), x + 1),
          t.unfinished_events() - before)
    # A staged copy that fails and whose end cannot be completed either:
    # the device is lost, nothing waits for ever.
    t.inject_fault("stage", device=dev, nth=1, lose_device=True)
    t.inject_fault("complete", device=dev, nth=1)
    b = cb.asarray(x, device=dev, tile_size=x.size)
    try:
        (b * 2).numpy()
    except cb.DeviceLostError as e:
        print("lost:", e.__cause__)
    print("copy:", t.unfinished_events() - before)
    print("cpu:", float((b.to_device("cpu") * 2).max()))
    cb.shutdown()
    print("done")
""")


def test_events_that_cannot_complete_end_instead_of_hanging():
    import cambrian as cb
    if not cb.config()["opencl_async"]:
        pytest.skip("this StarPU build does not ask about such events")
    out = run(UNFINISHED)
    assert "task: True 1" in out
    assert "lost: " in out and "copying 12582912 bytes to" in out
    assert "copy: 2" in out
    assert f"cpu: {float(2 * ((3 << 20) - 1))}" in out
    assert "done" in out


CPU_RESULTS = textwrap.dedent("""
    import time
    import numpy as np
    import cambrian as cb
    x = np.ones(1 << 22, np.float32)
    a = cb.asarray(x, device="cpu")
    buffers = set()
    for _ in range(4):
        r = (a + 1).numpy()
        buffers.add(r.ctypes.data)
        del r
        cb.synchronize()  # the task's end may hold the last reference
    time.sleep(0.5)  # pinning runs in the background
    print(len(buffers), cb.config()["pinned_bytes"])
    g = cb.asarray(x, device="opencl")
    for _ in range(3):
        r = (g + 1).numpy()
        del r
    time.sleep(0.5)
    print(cb.config()["pinned_bytes"])
""")


def test_results_of_cpu_workers_keep_their_pooled_buffers():
    # Reading back a result of the CPU workers asks for no pinned memory,
    # so its buffer goes back to the pool and the next result takes it
    # (a fresh one would fault its pages in again); a result of a device
    # that wants pinned memory still asks for it.
    cpu, device = run(CPU_RESULTS).split("\n")[:2]
    assert cpu.split() == ["1", "0"]
    assert int(device) >= 4 << 22


EXPLICIT = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    dev = cb.get_device("opencl")
    x = np.ones(1 << 22, np.float32)
    pinned = []
    for k in range(6):
        a = cb.asarray(x, device=dev, copy=True)
        (a + k).wait()  # used: its tiles go to the pool when it dies
        del a
        cb.synchronize()  # its task lets it go as it ends
        pinned.append(cb.config()["pinned_bytes"])
    print(*pinned)
""")


def test_arrays_made_for_a_device_reuse_pinned_buffers_of_dead_ones():
    # An array made for a device that wants pinned memory takes the
    # pinned buffer of a dead one of its size, kept in the pool with its
    # tiles, instead of pinning another.
    pinned = list(map(int, run(EXPLICIT).split()))
    assert pinned[0] >= 1 << 24
    assert pinned[-1] == pinned[1], pinned
