"""Devices: listing, filter strings, Device attributes, the default device
(environment and device_scope), and per-thread / per-task isolation."""

import asyncio
import re
import threading

import numpy as np
import pytest

import cambrian as cb
from helpers import NO_OPENCL, has_opencl, has_pocl

needs_opencl = pytest.mark.skipif(not has_opencl(), reason=NO_OPENCL)

FILTER_RE = re.compile(r"^(cpu|opencl):(cpu|gpu|accelerator):\d+$")


# ---- listing -------------------------------------------------------------

def test_devices_lists_device_objects():
    devs = cb.devices()
    assert isinstance(devs, list) and devs
    assert all(isinstance(d, cb.Device) for d in devs)
    names = [d.filter_string for d in devs]
    assert len(set(names)) == len(names), "filter strings must be unique"
    assert "cpu:cpu:0" in names


@pytest.mark.skipif(not has_pocl(), reason="pocl's platform is not "
                    "registered")
def test_devices_include_pocl():
    assert "opencl:cpu:0" in [d.filter_string for d in cb.devices()]


def test_device_attributes():
    for d in cb.devices():
        assert d.backend in ("cpu", "opencl")
        assert d.type in ("cpu", "gpu", "accelerator")
        assert isinstance(d.index, int) and d.index >= 0
        assert isinstance(d.name, str) and d.name
        assert isinstance(d.vendor, str)
        assert isinstance(d.global_mem_bytes, int) and d.global_mem_bytes > 0
        assert isinstance(d.compute_units, int) and d.compute_units >= 1
        assert FILTER_RE.match(d.filter_string), d.filter_string
        assert d.filter_string == f"{d.backend}:{d.type}:{d.index}"
        assert str(d) == d.filter_string


def test_get_device_cpu():
    d = cb.get_device("cpu")
    assert isinstance(d, cb.Device)
    assert (d.backend, d.type, d.index) == ("cpu", "cpu", 0)
    assert d.filter_string == "cpu:cpu:0"


@needs_opencl
@pytest.mark.parametrize("form", ["opencl:{}", "opencl:{}:0", "OpenCL:{}"])
def test_get_device_opencl_by_type(form):
    """The first OpenCL device of each type present (CPU for pocl, GPU
    ...), named by its type in either case; without an index, where
    there are several of the type (two GPUs), the set of them."""
    for t in sorted({d.type for d in cb.devices("opencl")}):
        flt = form.format(t.upper() if form.startswith("OpenCL") else t)
        d = cb.get_device(flt)
        alike = cb.devices(f"opencl:{t}")
        if len(alike) > 1 and not flt.endswith(":0"):
            assert (d.backend, d.type, d.index) == ("opencl", t, -1)
            assert d.filter_string == f"opencl:{t}"
            assert d.members == tuple(alike)
            continue
        assert (d.backend, d.type, d.index) == ("opencl", t, 0)
        assert d.filter_string == f"opencl:{t}:0"
        assert d.members == ()


@needs_opencl
@pytest.mark.parametrize("flt", ["opencl", "opencl:*:0"])
def test_get_device_opencl_first(flt):
    """The first OpenCL device in table order, whatever its type; where
    every OpenCL device is of one type and there are several (two GPUs),
    "opencl" names the set of them."""
    d = cb.get_device(flt)
    every = [x for x in cb.devices() if x.backend == "opencl"]
    if flt == "opencl" and len(every) > 1 and \
            len({x.type for x in every}) == 1:
        assert d.index == -1 and d.members == tuple(every)
        return
    assert d == every[0] and d.index == 0


@needs_opencl
def test_alternatives_keep_filter_order():
    every = {d.filter_string for d in cb.devices()}
    first = cb.devices("cpu,opencl")
    assert first[0].backend == "cpu"
    assert {d.filter_string for d in first} == every
    second = cb.devices("opencl,cpu")
    assert [d.backend for d in second][0] == "opencl"
    assert second[-1].backend == "cpu"
    assert {d.filter_string for d in second} == every
    assert cb.get_device("cpu,opencl").backend == "cpu"
    assert cb.get_device("opencl,cpu").backend == "opencl"
    # No device twice, even if two alternatives match it.
    assert len(cb.devices("cpu,cpu:cpu,*")) == len(cb.devices())


def test_get_device_round_trips_and_compares():
    for d in cb.devices():
        again = cb.get_device(d.filter_string)
        assert again == d
        assert hash(again) == hash(d)
        assert cb.get_device(d) is d


def test_get_device_gpu_not_found():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    assert cb.devices("gpu") == []
    with pytest.raises(cb.DeviceNotFoundError) as info:
        cb.get_device("gpu")
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, cb.CambrianError)
    msg = str(err)
    assert "gpu" in msg
    for d in cb.devices():
        assert d.filter_string in msg, (d.filter_string, msg)


def test_get_device_index_out_of_range():
    with pytest.raises(cb.DeviceNotFoundError):
        cb.get_device("cpu:cpu:7")


@pytest.mark.parametrize("bad", ["foo", "opencl:gpu:x", "cpu:cpu:0:0",
                                 "", ",", "cpu,", "gpu:cpu", "0", ":",
                                 "opencl::0"])
def test_bad_filter_strings(bad):
    with pytest.raises(ValueError):
        cb.devices(bad)
    with pytest.raises(ValueError):
        cb.get_device(bad)
    with pytest.raises(ValueError):
        with cb.device_scope(bad):
            pass
    # Still working afterwards.
    assert cb.get_device("cpu").backend == "cpu"


def test_filter_must_be_a_string():
    with pytest.raises(TypeError):
        cb.devices(0)


def test_config_lists_devices():
    cfg = cb.config()
    assert cfg["devices"] == [d.filter_string for d in cb.devices()]


# ---- default device ------------------------------------------------------

def test_default_device_none_without_env():
    assert cb.default_device() is None
    assert cb.zeros(3).device is None


@needs_opencl
def test_default_device_from_env(monkeypatch):
    monkeypatch.setenv("CAMBRIAN_DEVICE", "opencl")
    d = cb.default_device()
    assert d == cb.get_device("opencl") and d.backend == "opencl"
    assert cb.zeros(3).device == d
    assert cb.asarray(np.arange(3.0)).device == d
    monkeypatch.setenv("CAMBRIAN_DEVICE", "cpu")
    assert cb.default_device() == cb.get_device("cpu")


@pytest.mark.parametrize("value", ["auto", "", "  "])
def test_default_device_env_auto(monkeypatch, value):
    monkeypatch.setenv("CAMBRIAN_DEVICE", value)
    assert cb.default_device() is None


def test_default_device_env_errors(monkeypatch):
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("CAMBRIAN_DEVICE", "gpu")
    with pytest.raises(cb.DeviceNotFoundError):
        cb.default_device()
    monkeypatch.setenv("CAMBRIAN_DEVICE", "nonsense")
    with pytest.raises(ValueError):
        cb.default_device()
    monkeypatch.delenv("CAMBRIAN_DEVICE")
    assert cb.default_device() is None


# ---- device_scope --------------------------------------------------------

@needs_opencl
def test_device_scope_nested():
    cpu, ocl = cb.get_device("cpu"), cb.get_device("opencl")
    assert cb.default_device() is None
    with cb.device_scope(ocl.filter_string) as d1:
        assert d1 == ocl
        assert cb.default_device() == ocl
        assert cb.zeros(2).device == ocl
        with cb.device_scope("cpu") as d2:
            assert d2 == cpu
            assert cb.default_device() == cpu
            assert cb.ones(2).device == cpu
            with cb.device_scope("auto") as d3:
                assert d3 is None
                assert cb.default_device() is None
            assert cb.default_device() == cpu
        assert cb.default_device() == ocl
    assert cb.default_device() is None


@needs_opencl
def test_device_scope_accepts_device_object():
    ocl = cb.get_device("opencl")
    with cb.device_scope(ocl) as d:
        assert d is ocl
        assert cb.default_device() is ocl


@needs_opencl
def test_device_scope_overrides_env(monkeypatch):
    ocl = cb.get_device("opencl")
    monkeypatch.setenv("CAMBRIAN_DEVICE", ocl.filter_string)
    with cb.device_scope("cpu"):
        assert cb.default_device() == cb.get_device("cpu")
    with cb.device_scope(None):
        assert cb.default_device() is None
    assert cb.default_device() == ocl


def test_device_scope_restored_after_exception():
    with pytest.raises(RuntimeError):
        with cb.device_scope("cpu"):
            raise RuntimeError("boom")
    assert cb.default_device() is None


def test_device_scope_unknown_device():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(cb.DeviceNotFoundError):
        with cb.device_scope("gpu"):
            pass
    assert cb.default_device() is None


@needs_opencl
def test_device_scope_per_thread():
    filters = ["cpu", cb.get_device("opencl").filter_string] * 4
    barrier = threading.Barrier(len(filters) + 1, timeout=60)
    seen, errors = {}, []

    def worker(i, flt):
        try:
            with cb.device_scope(flt):
                barrier.wait()  # every thread is inside its scope now
                devs = []
                for _ in range(20):
                    devs.append(cb.default_device())
                a = cb.arange(10, dtype=cb.float32)
                b = a * 2
                devs.append(a.device)
                devs.append(b.device)
                np.testing.assert_array_equal(b.numpy(),
                                              np.arange(10) * 2)
                barrier.wait()  # nobody leaves before all have looked
            seen[i] = devs
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i, f))
               for i, f in enumerate(filters)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
        # The main thread, with no scope, is not affected by the others.
        assert cb.default_device() is None
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(60)
    assert not errors, errors
    for i, flt in enumerate(filters):
        want = cb.get_device(flt)
        assert all(d == want for d in seen[i]), (flt, seen[i])


@needs_opencl
def test_device_scope_per_asyncio_task():
    async def in_scope(flt):
        with cb.device_scope(flt):
            await asyncio.sleep(0.01)
            first = cb.default_device()
            await asyncio.sleep(0.01)
            return first, cb.default_device()

    ocl = cb.get_device("opencl").filter_string

    async def main():
        return await asyncio.gather(in_scope("cpu"), in_scope(ocl),
                                    in_scope("cpu"))

    results = asyncio.run(main())
    want = ["cpu:cpu:0", ocl, "cpu:cpu:0"]
    for (a, b), w in zip(results, want):
        assert a.filter_string == b.filter_string == w
    assert cb.default_device() is None
