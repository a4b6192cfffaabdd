"""Device sets: a filter naming every OpenCL device of one type, when there
are several, spreads arrays over them (tests/gpu/check_device_sets.py,
run here on two pocl devices)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import cambrian as cb
from cambrian import _core

from helpers import NO_OPENCL, has_opencl

CHECK = pathlib.Path(__file__).parents[1] / "gpu" / "check_device_sets.py"


def test_two_pocl_devices_make_a_set():
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, POCL_DEVICES="pthread pthread",
               CAMBRIAN_DEVICES="cpu:cpu,opencl:cpu")
    env.pop("CAMBRIAN_DEVICE", None)
    done = subprocess.run([sys.executable, str(CHECK), "opencl:cpu"],
                          capture_output=True, text=True, timeout=600,
                          env=env)
    if done.returncode == 77:
        pytest.skip(done.stdout.strip())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "30 checks passed" in done.stdout


def test_a_device_is_not_a_set():
    for d in cb.devices():
        assert d.members == ()
        assert _core.device_set(d.filter_string) == d._id


def test_a_filter_of_one_device_or_of_mixed_types_gives_the_first():
    first = cb.devices("cpu")[0]
    assert cb.get_device("cpu") == first
    assert cb.asarray([1.0], device="cpu").device == first


def test_device_set_refuses_bad_filters():
    with pytest.raises(ValueError, match="bad device filter"):
        _core.device_set("nonsense")
    with pytest.raises(cb.DeviceNotFoundError, match="no device matches"):
        _core.device_set("gpu:9")
    with pytest.raises(TypeError):
        _core.device_set(5)


def test_info_lists_the_sets():
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, POCL_DEVICES="pthread pthread",
               CAMBRIAN_DEVICES="cpu:cpu,opencl:cpu")
    done = subprocess.run([sys.executable, "-m", "cambrian", "info",
                           "--json"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    sets = json.loads(done.stdout)["device_sets"]
    if not sets:
        pytest.skip("pocl did not make two devices")
    assert [(s["filter_string"], s["index"], s["members"]) for s in sets] \
        == [("opencl:cpu", -1, ["opencl:cpu:0", "opencl:cpu:1"])]
    text = subprocess.run([sys.executable, "-m", "cambrian", "info"],
                          capture_output=True, text=True, timeout=300,
                          env=env).stdout
    assert "opencl:cpu       device set: opencl:cpu:0, opencl:cpu:1" in text


SIBLINGS = """
import numpy as np
import cambrian as cb
import cambrian.testing as t

def lose_first(answer):
    d0, d1 = cb.devices("opencl")[:2]
    if answer:
        t.inject_fault("answer", device=d1, cl_status="CL_OUT_OF_RESOURCES")
    t.inject_fault("add", device=d0, lose_device=True)
    e = (cb.ones(1000, device=d0) + 1).future.exception(timeout=60)
    print("first:", type(e).__name__, cb.get_device(d0.filter_string).lost)
    d1 = cb.get_device(d1.filter_string)
    print("second lost:", d1.lost)
    if d1.lost:
        try:
            cb.ones(1000, device=d1)
        except cb.DeviceLostError as e:
            print("its work:", type(e).__name__, "|", e, "|",
                  type(e.__cause__).__name__, e.__cause__)
    # Work the scheduler places keeps away from lost devices.
    x = np.arange(1 << 16, dtype=np.float32)
    print("auto:", np.array_equal((cb.asarray(x) * 3).numpy(), x * 3))
    cb.shutdown()

lose_first(False)
lose_first(True)
"""


def test_a_loss_takes_the_devices_of_its_platform_that_stop_answering():
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    env = dict(os.environ, POCL_DEVICES="pthread pthread",
               CAMBRIAN_DEVICES="cpu:cpu,opencl:cpu")
    env.pop("CAMBRIAN_DEVICE", None)
    done = subprocess.run([sys.executable, "-c", SIBLINGS],
                          capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.splitlines()
    # A device that still answers stays; one that does not is lost with
    # the first, its work failing with the first fault as the cause.
    assert out[:3] == ["first: DeviceError True", "second lost: False",
                       "auto: True"]
    assert out[3:5] == ["first: DeviceError True", "second lost: True"]
    assert out[5].startswith("its work: DeviceLostError | ")
    assert ("opencl:cpu:1 no longer answers after the fault on "
            "opencl:cpu:0 (CL_OUT_OF_RESOURCES)") in out[5]
    assert out[5].endswith("| DeviceError add failed on opencl:cpu:0: "
                           "CL_OUT_OF_RESOURCES (injected fault that loses "
                           "the device)")
    assert out[6] == "auto: True"
