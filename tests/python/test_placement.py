"""Placement: compute follows data. Results live on their operands' device;
unplaced operands take the default device (device_scope, CAMBRIAN_DEVICE)
or let the scheduler choose; to_device migrates."""

import threading

import numpy as np
import pytest

import cambrian as cb
from helpers import DEVICES, NO_OPENCL, assert_same, has_opencl

needs_opencl = pytest.mark.skipif(not has_opencl(), reason=NO_OPENCL)


def test_result_follows_operands(device):
    dev = cb.get_device(device)
    x = np.arange(6.0).reshape(2, 3)
    a = cb.asarray(x, device=device)
    free = cb.asarray(x)  # unplaced
    assert free.device is None
    results = {
        "a+a": (a + a, x + x),
        "a+free": (a + free, x + x),
        "free*a": (free * a, x * x),
        "a+scalar": (a + 1.5, x + 1.5),
        "scalar-a": (2 - a, 2 - x),
        "a*0d": (a * cb.asarray(3.0), x * 3.0),
        "unary": (cb.sqrt(a), np.sqrt(x)),
        "where": (cb.where(free > 2, a, 0.0), np.where(x > 2, x, 0.0)),
        "astype": (a.astype(np.int32), x.astype(np.int32)),
        "copy": (a.copy(), x),
        "compare": (a < free, x < x),
    }
    for name, (r, expected) in results.items():
        assert r.device == dev, name
        assert_same(r, expected, rtol=1e-12)


def test_unplaced_stays_unplaced():
    x = np.arange(10, dtype=np.int32)
    a = cb.asarray(x)
    for r in (a + a, a * 2, -a, cb.maximum(a, 3), a.astype(np.float32),
              cb.where(a > 4, a, 0)):
        assert r.device is None
    assert_same((a + a) * 3, (x + x) * 3)


def test_unplaced_large_arrays_auto():
    """With several kinds of workers the scheduler may split tiles across
    devices: results stay right."""
    n = 1000003
    x = np.random.default_rng(7).uniform(-1, 1, n).astype(np.float32)
    a = cb.asarray(x)
    r = a
    expected = x
    for _ in range(5):
        r = r * 1.5 + a
        expected = expected * np.float32(1.5) + x
    assert r.device is None
    assert_same(r, expected, rtol=1e-5)


@needs_opencl
def test_scope_places_unplaced_operands():
    ocl = cb.get_device("opencl")
    x = np.arange(5.0)
    free = cb.asarray(x)
    with cb.device_scope(ocl):
        r = free + 1
        assert r.device == ocl
        placed_cpu = cb.asarray(x, device="cpu")
        s = placed_cpu + free  # data on the CPU wins over the scope
        assert s.device == cb.get_device("cpu")
        c = cb.asarray(x)
        assert c.device == ocl
    assert_same(r, x + 1)
    assert_same(s, x + x)
    assert (free + 1).device is None


@needs_opencl
def test_env_places_unplaced_operands(monkeypatch):
    ocl = cb.get_device("opencl")
    free = cb.asarray(np.arange(3.0))
    monkeypatch.setenv("CAMBRIAN_DEVICE", ocl.filter_string)
    assert (free * 2).device == ocl
    assert cb.arange(3).device == ocl
    assert cb.full(2, 1.0).device == ocl
    assert cb.asarray(np.arange(3.0), device="cpu").device == \
        cb.get_device("cpu")
    monkeypatch.setenv("CAMBRIAN_DEVICE", "auto")
    assert (free * 2).device is None


@needs_opencl
def test_same_data_on_two_devices():
    n = 300001
    x = np.linspace(0, 1, n)
    a = cb.asarray(x, device="cpu")
    b = a.to_device("opencl")
    r_cpu = cb.exp(a) + 1
    r_ocl = cb.exp(b) + 1
    assert r_cpu.device.backend == "cpu"
    assert r_ocl.device.backend == "opencl"
    assert_same(r_cpu, np.exp(x) + 1, rtol=1e-12)
    assert_same(r_ocl, np.exp(x) + 1, rtol=1e-12)
    # Both results meet on one device.
    assert_same(r_cpu - r_ocl.to_device("cpu"), np.zeros(n), atol=1e-14)


@needs_opencl
def test_to_device_accepts_device_objects_and_strings():
    x = np.arange(4, dtype=np.int64)
    a = cb.asarray(x)
    ocl = cb.get_device("opencl")
    for target in (ocl, ocl.filter_string, "opencl", f"opencl:{ocl.type}",
                   cb.get_device("cpu"), "cpu"):
        b = a.to_device(target)
        assert b.device == cb.get_device(target)
        assert_same(b * 2, x * 2)


def test_concurrent_threads_on_both_devices():
    devs = [d for d in DEVICES if cb.devices(d)]
    errors = []

    def work(i):
        try:
            dev = devs[i % len(devs)]
            x = np.arange(50001, dtype=np.float64) + i
            a = cb.asarray(x, device=dev)
            r = a
            for _ in range(10):
                r = r * 0.5 + a
            expected = x
            for _ in range(10):
                expected = expected * 0.5 + x
            assert r.device == cb.get_device(dev)
            np.testing.assert_allclose(r.numpy(), expected, rtol=1e-12)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors


def test_synchronize_and_wait(device):
    a = cb.asarray(np.arange(100000.0), device=device)
    rs = [a * i for i in range(10)]
    cb.synchronize()
    for i, r in enumerate(rs):
        r.wait()
        assert_same(r, np.arange(100000.0) * i)


def test_cpu_task_reading_data_left_on_an_opencl_device():
    """The OpenCL driver copies the data home even when the task runs on
    the CPU workers and the OpenCL device is otherwise idle."""
    import time
    if not cb.devices("opencl"):
        pytest.skip("no OpenCL device")
    x = cb.full(100_000, 2.0, dtype=np.float32, device="opencl")
    x.future.result(timeout=30)
    time.sleep(0.3)  # every driver goes to sleep
    y = x.to_device("auto") + cb.full(100_000, 1.0, dtype=np.float32,
                                      device="cpu")
    assert y.future.result(timeout=30) is y
    assert float(y.numpy()[0]) == 3.0


def test_shutdown_with_a_migration_in_flight():
    if not cb.devices("opencl"):
        pytest.skip("no OpenCL device")
    r = cb.full(1 << 20, 1.0, dtype=np.float32, device="opencl")
    r.future.result(timeout=30)
    x = cb.asarray(np.ones(1 << 20, np.float32), device="opencl")
    del x
    cb.shutdown()
    assert float(r.numpy()[0]) == 1.0
