"""Device failures (injected with cambrian.testing) come back as the right
exception: direct, on dependents, on poisoned reads, awaited, from threads,
and from synchronize()."""

import asyncio
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults

from helpers import DEVICES, skip_missing

KINDS = [("CL_OUT_OF_RESOURCES", cb.DeviceError),
         ("CL_MEM_OBJECT_ALLOCATION_FAILURE", cb.DeviceMemoryError),
         ("CL_INVALID_KERNEL_ARGS", cb.DeviceError)]


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    yield request.param
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception:
        pass


def check_device_error(e, status, dev):
    assert e.cl_status == status
    assert e.task == "add"
    # On a device set (several GPUs), the member the task ran on.
    where = cb.get_device(dev)
    assert e.device == where or e.device in where.members


@pytest.mark.parametrize("status,exc", KINDS)
def test_direct_failure(dev, status, exc):
    faults.inject_fault("add", device=dev, nth=1, cl_status=status)
    b = cb.asarray(np.arange(10.0), device=dev) + 1
    with pytest.raises(exc) as info:
        b.numpy()
    check_device_error(info.value, status, dev)
    with pytest.raises(exc):
        b.future.result(timeout=30)
    with pytest.raises(exc):
        np.asarray(b)
    if exc is cb.DeviceMemoryError:
        assert isinstance(info.value, MemoryError)


@pytest.mark.parametrize("status,exc", KINDS)
def test_dependents_do_not_run(dev, status, exc):
    faults.inject_fault("add", device=dev, nth=1, cl_status=status)
    a = cb.asarray(np.arange(10.0), device=dev)
    b = a + 1
    c = cb.sqrt(b * 2)       # two levels down
    with pytest.raises(cb.DependencyError) as info:
        c.numpy()
    cause = info.value.__cause__
    assert isinstance(cause, exc)
    check_device_error(cause, status, dev)
    with pytest.raises(cb.DependencyError):
        c.future.result(timeout=30)
    # Unrelated work is unaffected.
    np.testing.assert_array_equal((a * 2).numpy(), np.arange(10.0) * 2)


def test_failure_in_one_tile_poisons_the_array(dev):
    # Several tiles everywhere: a GPU takes tiles of up to 256 MiB (of
    # 8-byte elements), CPU workers and pocl far smaller ones.
    gpu = any(d.type == "gpu" for d in cb.devices(dev))
    n = (256 << 20) // 8 + 1 if gpu else 1 << 20
    faults.inject_fault("multiply", device=dev, nth=2)
    b = cb.asarray(np.ones(n), device=dev) * 3
    with pytest.raises(cb.DeviceError):
        b.numpy()


def test_awaited_failure(dev):
    faults.inject_fault("add", device=dev, nth=1)

    async def main():
        b = cb.asarray(np.arange(4.0), device=dev) + 1
        await b
    with pytest.raises(cb.DeviceError):
        asyncio.run(main())


def test_failures_from_threads(dev):
    errors = []
    faults.inject_fault("add", device=dev, nth=3)

    def worker():
        try:
            for _ in range(4):
                (cb.asarray(np.arange(4.0), device=dev) + 1).numpy()
        except cb.DeviceError as e:
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(errors) == 1


def test_synchronize_reports_what_nobody_retrieved(dev):
    faults.inject_fault("add", device=dev, nth=1)
    b = cb.asarray(np.arange(4.0), device=dev) + 1
    with pytest.raises(cb.DeviceError):
        cb.synchronize()
    cb.synchronize()           # reported once
    del b


def test_synchronize_groups_several_failures(dev):
    faults.inject_fault("add", device=dev, nth=1)
    faults.inject_fault("subtract", device=dev, nth=1)
    a = cb.asarray(np.arange(4.0), device=dev)
    b, c = a + 1, a - 1
    with pytest.raises(ExceptionGroup) as info:
        cb.synchronize()
    assert len(info.value.exceptions) == 2
    assert all(isinstance(e, cb.DeviceError) for e in info.value.exceptions)
    del b, c


def test_retrieved_failures_are_not_reported_again(dev):
    faults.inject_fault("add", device=dev, nth=1)
    b = cb.asarray(np.arange(4.0), device=dev) + 1
    with pytest.raises(cb.DeviceError):
        b.numpy()
    cb.synchronize()           # nothing left to report


def test_bad_fault_arguments():
    with pytest.raises(ValueError):
        faults.inject_fault("x" * 100)  # no name is that long
    with pytest.raises(ValueError):
        faults.inject_fault("add", cl_status="CL_NOT_A_STATUS")
    with pytest.raises(ValueError):
        faults.inject_fault("add", nth=0)
    with pytest.raises(cb.DeviceNotFoundError):
        faults.inject_fault("add", device="opencl:accelerator:7")


def test_unretrieved_future_failure_is_logged(dev, caplog):
    import gc
    faults.inject_fault("add", device=dev, nth=1)
    b = cb.asarray(np.arange(4.0), device=dev) + 1
    f = b.future
    cb.wait([f], timeout=30)
    with caplog.at_level("ERROR", logger="cambrian"):
        del f, b
        gc.collect()
    assert "never retrieved" in caplog.text


# ---- one tile of an update in place fails ------------------------------------

def test_a_failed_tile_of_a_product_in_place_fails_the_product(device):
    # gemm updates C in place, one task per tile of C: the other tile's
    # task must compute its rows, not fail as a dependent of its sibling.
    faults.inject_fault("gemm", device=cb.get_device(device), nth=1,
                        cl_status="CL_OUT_OF_RESOURCES")
    a = cb.asarray(np.eye(4), device=device, tile_size=8)
    c = cb.zeros((4, 4), device=device, tile_size=8)
    r = cb.gemm(1.0, a, a, 0.0, c)
    with pytest.raises(cb.DeviceError) as info:
        r.numpy()
    assert type(info.value) is cb.DeviceError
    assert info.value.cl_status == "CL_OUT_OF_RESOURCES"


def test_a_failed_tile_of_an_update_in_place_fails_the_update(device):
    faults.inject_fault("add", device=cb.get_device(device), nth=1,
                        cl_status="CL_OUT_OF_RESOURCES")
    x = cb.ones(16, device=device, tile_size=8)
    x += 1
    with pytest.raises(cb.DeviceError) as info:
        x.numpy()
    assert type(info.value) is cb.DeviceError
    # Its readers fail as its dependents.
    with pytest.raises(cb.DependencyError):
        (x * 2).numpy()
