"""Fixtures of the cambrian pytest suite.

The runtime starts implicitly on first use and stays up for the whole
session (tests never call cb.shutdown(), so that OpenCL kernels built by
one test are reused by the next).
"""

import pytest

import cambrian as cb
from helpers import DEVICES, NO_OPENCL, has_opencl, skip_missing


@pytest.fixture(autouse=True)
def _clean_device_env(monkeypatch):
    """No test sees a CAMBRIAN_DEVICE set outside the suite."""
    monkeypatch.delenv("CAMBRIAN_DEVICE", raising=False)


@pytest.fixture(params=DEVICES)
def device(request):
    """A device filter string: each test using it runs on every device."""
    skip_missing(request.param)
    return request.param


@pytest.fixture
def opencl_device():
    """The OpenCL device that "opencl" names (pocl's CPU device here, a GPU
    elsewhere), as a cb.Device: the first, or the set of them where every
    OpenCL device is of one type and there are several (two GPUs, or
    POCL_DEVICES="pthread pthread"); tests that need one device take
    cb.devices("opencl")[0]."""
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    return cb.get_device("opencl")
