"""Device loss, injected with cambrian.testing on the OpenCL device (pocl
here): the failing task raises DeviceError, pending and later work there
DeviceLostError caused by it, while the CPU workers, automatic placement
and arrays with a host copy keep working; a new runtime uses the device
again, unless its context no longer answers."""

import io
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults
from cambrian.__main__ import info, info_dict

from helpers import NO_OPENCL, has_opencl


@pytest.fixture
def pocl():
    """The first OpenCL device, lost by the test; the runtime is stopped
    after it, so that the next test finds the device usable again. One
    device: where several are alike (two GPUs), the filter "opencl"
    names the set of them."""
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    dev = cb.devices("opencl")[0]
    yield dev
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception:
        pass
    cb.shutdown()
    assert not cb.get_device(dev.filter_string).lost


def gate(a):
    """A task on a CPU worker that rewrites a once the returned event is
    set: work on a submitted meanwhile is pending until then."""
    go = threading.Event()

    @cb.task(name="gate")
    def wait(x):
        go.wait(30)

    wait(cb.InOut(a))
    return go


def lose(dev, x):
    """Loses dev through a fault in sqrt over x; returns the DeviceError."""
    faults.inject_fault("sqrt", device=dev, lose_device=True)
    err = cb.sqrt(x).future.exception(timeout=60)
    assert type(err) is cb.DeviceError
    assert cb.get_device(dev.filter_string).lost
    return err


def test_device_lost_error_is_a_device_error():
    assert issubclass(cb.DeviceLostError, cb.DeviceError)
    assert issubclass(cb.DeviceLostError, cb.CambrianError)
    assert "DeviceLostError" in cb.__all__
    assert "lost" in {f for f in cb.Device.__dataclass_fields__}


def test_pending_and_later_work_fails_with_the_first_fault(pocl):
    x = cb.asarray(np.arange(1, 9, dtype=np.float32), device=pocl)
    # Whichever of the pending tasks runs first on the device meets the
    # fault; the others run after it. Work of earlier tests still pending
    # there would meet it first: it ends before.
    cb.synchronize()
    faults.inject_fault("*", device=pocl, lose_device=True)
    go = gate(x)
    pending = [cb.sqrt(x), x * 3, x - 1, cb.exp(x)]
    go.set()
    errors = [p.future.exception(timeout=60) for p in pending]
    first = [e for e in errors if type(e) is cb.DeviceError]
    lost = [e for e in errors if type(e) is cb.DeviceLostError]
    assert len(first) == 1 and len(lost) == 3, errors
    fault = first[0]
    assert fault.device == pocl
    assert fault.cl_status == "CL_OUT_OF_RESOURCES"
    for e in lost:
        assert e.__cause__ is not None
        assert type(e.__cause__) is cb.DeviceError
        assert e.__cause__.task == fault.task
        assert e.device == pocl
        assert "was lost" in str(e)
    # Work elsewhere that reads what the lost work wrote does not run.
    with pytest.raises(cb.DependencyError) as dep:
        (pending[1].to_device("cpu") + 1).numpy()
    assert type(dep.value.__cause__) is cb.DeviceError
    # Later work placed there is refused at the call, with the cause.
    for call in (lambda: cb.exp(x), lambda: x + 1,
                 lambda: cb.ones(4, device=pocl),
                 lambda: cb.asarray(np.ones(4), device=pocl),
                 lambda: x.to_device(pocl), lambda: cb.sum(x)):
        with pytest.raises(cb.DeviceLostError) as info_:
            call()
        assert type(info_.value.__cause__) is cb.DeviceError
        assert info_.value.__cause__.task == fault.task
        assert info_.value.device == pocl
    # The failure is reported once: reads saw it.
    cb.synchronize()


def test_kernels_are_refused_on_a_lost_device(pocl):
    k = cb.Kernel("__kernel void twice(__global float *a) {"
                  "  a[get_global_id(0)] *= 2; }", "twice")
    x = cb.asarray(np.ones(4, dtype=np.float32), device=pocl)
    k((4,), cb.InOut(x)).result(timeout=60)
    lose(pocl, x)
    with pytest.raises(cb.DeviceLostError):
        k((4,), cb.InOut(x), device=pocl)


def test_cpu_workers_and_the_host_copy_keep_working(pocl):
    data = np.arange(16, dtype=np.float32)
    x = cb.asarray(data, device=pocl)
    on_device = x * 2                   # its only copy is on the device
    on_device.future.result(timeout=60)
    before = faults.lost_device_ops()
    fault = lose(pocl, x)
    # x has its host copy: readable, and usable on the CPU workers.
    np.testing.assert_array_equal(x.numpy(), data)
    moved = x.to_device("cpu")
    np.testing.assert_array_equal((moved + 1).numpy(), data + 1)
    np.testing.assert_array_equal(
        (cb.asarray(data, device="cpu") * 3).numpy(), data * 3)
    # Data left on the device is gone: reading it raises, caused by the
    # fault, and nothing was asked of the device to get it.
    with pytest.raises(cb.DeviceLostError) as e:
        on_device.numpy()
    assert type(e.value.__cause__) is cb.DeviceError
    assert e.value.__cause__.task == fault.task
    assert faults.lost_device_ops() > before
    # Work reading it does not run.
    with pytest.raises(cb.DependencyError):
        (on_device.to_device("cpu") + 1).numpy()


def test_automatic_placement_avoids_the_lost_device(pocl):
    x = cb.asarray(np.ones(1 << 18, dtype=np.float32), device=pocl)
    lose(pocl, x)
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        host = np.arange(1 << 18, dtype=np.float32)
        results = [cb.asarray(host) * k + 1 for k in range(8)]
        for k, r in enumerate(results):
            np.testing.assert_array_equal(r.numpy(), host * k + 1)
        # float32 sums round by their order, which the tiles set.
        assert float(cb.sum(cb.asarray(host))) == pytest.approx(
            float(host.sum(dtype=np.float64)), rel=1e-5)
        st = cb.stats()
    finally:
        cb.profiling(was)
    on_pocl = sum(w["tasks"] for w in st["workers"]
                  if w["device"] == pocl.filter_string)
    elsewhere = sum(w["tasks"] for w in st["workers"]
                    if w["device"] != pocl.filter_string)
    assert on_pocl == 0
    assert elsewhere > 0


def test_devices_and_info_show_the_loss(pocl):
    x = cb.asarray(np.ones(4, dtype=np.float32), device=pocl)
    assert not pocl.lost
    lose(pocl, x)
    assert pocl.lost is False           # a Device is what it was when made
    now = cb.get_device(pocl.filter_string)
    assert now.lost is True
    assert now == pocl                  # lost is not compared
    assert [d.lost for d in cb.devices("cpu:cpu")] == [False]
    assert "lost=True" in repr(now)
    out = io.StringIO()
    info(out=out)
    text = out.getvalue()
    line = text.index(pocl.filter_string)
    assert "LOST" in text[line:line + 400]
    entry = [d for d in info_dict()["devices"]
             if d["filter_string"] == pocl.filter_string]
    assert entry[0]["lost"] is True
    assert ">yes</td>" in now._repr_html_().split(">lost<")[1][:80]


def test_a_new_runtime_uses_the_device_again(pocl):
    x = cb.asarray(np.full(8, 4, dtype=np.float32), device=pocl)
    lose(pocl, x)
    cb.shutdown()
    again = cb.get_device(pocl.filter_string)
    assert not again.lost
    y = cb.asarray(np.full(8, 4, dtype=np.float32), device=again)
    np.testing.assert_array_equal(cb.sqrt(y).numpy(), np.full(8, 2))


def test_injected_loss_on_the_cpu_workers_is_an_ordinary_fault():
    x = cb.asarray(np.ones(4), device="cpu")
    faults.inject_fault("sqrt", device="cpu", lose_device=True)
    assert type(cb.sqrt(x).future.exception(timeout=60)) is cb.DeviceError
    assert not cb.get_device("cpu").lost
    np.testing.assert_array_equal(cb.sqrt(x).numpy(), np.ones(4))
    try:
        cb.synchronize()
    except cb.DeviceError:
        pass


UNUSABLE = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    import cambrian.testing as faults
    dev = cb.get_device("opencl")
    x = cb.asarray(np.arange(4, dtype=np.float32), device=dev)
    faults.inject_fault("sqrt", device=dev, context_unusable=True)
    assert type(cb.sqrt(x).future.exception()) is cb.DeviceError
    try:
        cb.exp(x)
    except cb.DeviceLostError as e:
        assert type(e.__cause__) is cb.DeviceError
    np.testing.assert_array_equal((x.to_device("cpu") + 1).numpy(),
                                  np.arange(1, 5))
    cb.shutdown()               # StarPU is left as it is: no abort
    np.testing.assert_array_equal(x.numpy(), np.arange(4))
    try:
        cb.ones(2)
    except cb.DeviceLostError as e:
        print("refused:", e)
    else:
        raise AssertionError("the runtime started again")
    """)


def test_an_unusable_context_stops_the_runtime_for_good():
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ)
    done = subprocess.run([sys.executable, "-c", UNUSABLE],
                          capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused: the runtime cannot start again" in done.stdout


EAGER = textwrap.dedent("""
    import numpy as np
    import cambrian as cb
    import cambrian.testing as faults
    dev = cb.get_device("opencl")
    def tasks_on(work):
        cb.stats(reset=True)
        work()
        return {w["device"]: w["tasks"] for w in cb.stats()["workers"]}
    host = np.arange(1 << 20, dtype=np.float32)
    def work():
        rs = [cb.asarray(host) * k for k in range(16)]
        for k, r in enumerate(rs):
            np.testing.assert_array_equal(r.numpy(), host * k)
    cb.profiling(True)
    before = tasks_on(work)
    x = cb.asarray(np.ones(4, dtype=np.float32), device=dev)
    faults.inject_fault("sqrt", device=dev, lose_device=True)
    assert type(cb.sqrt(x).future.exception()) is cb.DeviceError
    after = tasks_on(work)
    print(before.get(dev.filter_string, 0), after.get(dev.filter_string, 0))
    """)


def test_eager_scheduling_stops_using_the_lost_device():
    """With eager scheduling every worker takes tasks from one queue, the
    OpenCL device's too; once it is lost it takes none."""
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, CAMBRIAN_SCHED="eager", CAMBRIAN_TILE_SIZE="65536")
    done = subprocess.run([sys.executable, "-c", EAGER],
                          capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    before, after = map(int, done.stdout.split())
    if before == 0:
        pytest.skip("eager gave the OpenCL device no task before the loss")
    assert after == 0
