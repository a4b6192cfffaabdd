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
