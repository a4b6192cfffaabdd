"""Host and device memory limits: a call that cannot fit raises at once,
and work on an OpenCL device that shares the host's RAM (pocl) stays
within what the arrays leave free instead of failing inside the driver.

The limits are set in child processes (RLIMIT_AS, CAMBRIAN_MEMORY_LIMIT),
so that the suite's own process is not constrained."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cambrian as cb
from helpers import has_pocl

GIB = 2**30

# Runs in the child: starts the runtime, then caps the address space at
# what it uses now plus HEADROOM bytes.
CAPPED = """
import resource
import cambrian as cb
float(cb.sum(cb.ones(1000)))
def vm_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
cap = vm_bytes() + HEADROOM
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
"""


def run_child(body, headroom=None, env=None, timeout=300):
    prelude = CAPPED.replace("HEADROOM", str(headroom)) if headroom else (
        "import cambrian as cb\n")
    code = prelude + textwrap.dedent(body)
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=timeout, env=full_env)


def check(proc):
    assert proc.returncode == 0, (proc.returncode, proc.stdout,
                                  proc.stderr[-3000:])
    return proc.stdout


@pytest.mark.skipif(not has_pocl(), reason="needs pocl's CPU device")
def test_work_on_pocl_stays_within_the_address_space_limit():
    # A 2 GiB array under 3 GiB of headroom: pocl's own copies of its
    # tiles used to take the rest and abort inside pocl. They are held to
    # what the array leaves, so the sum runs. A second array of that size
    # cannot fit beside the first and raises at the call.
    out = check(run_child("""
        n = 2 * 2**30 // 8
        a = cb.zeros(n, device="opencl:cpu")
        print(float(cb.sum(a)))
        try:
            b = a + 1
            print(float(cb.sum(b)))
        except MemoryError as e:
            print("MemoryError")
        print(float(cb.sum(cb.ones(1000, device="opencl:cpu"))))
    """, headroom=3 * GIB))
    assert out.split() == ["0.0", "MemoryError", "1000.0"]


def test_an_array_beyond_the_address_space_limit_raises_memory_error():
    out = check(run_child("""
        try:
            cb.zeros(2 * 2**30 // 8)
        except MemoryError as e:
            print("MemoryError", e)
        print(float(cb.sum(cb.ones(1000))))
    """, headroom=GIB))
    assert "MemoryError cannot allocate 2147483648 bytes" in out
    assert "RLIMIT_AS" in out
    assert out.split()[-1] == "1000.0"


def test_results_that_cannot_fit_raise_at_the_call():
    out = check(run_child("""
        a = cb.ones(96 * 2**20 // 8)
        try:
            b = a + a
        except MemoryError as e:
            print("MemoryError", e)
        print(float(cb.sum(a)))
    """, env={"CAMBRIAN_MEMORY_LIMIT": "128M"}))
    assert "CAMBRIAN_MEMORY_LIMIT" in out
    assert out.split()[-1] == str(float(96 * 2**20 // 8))


def test_memory_limit_setting_is_checked_and_reported():
    out = check(run_child("""
        cfg = cb.config()
        print(cfg["memory_limit_bytes"])
        small = cb.zeros(1000)
        print(cb.config()["memory_held_bytes"] >= small.nbytes)
    """, env={"CAMBRIAN_MEMORY_LIMIT": "3G"}))
    assert out.split() == [str(3 * GIB), "True"]
    proc = run_child("""
        try:
            cb.zeros(10)
        except ValueError as e:
            print("ValueError", e)
    """, env={"CAMBRIAN_MEMORY_LIMIT": "lots"})
    assert "ValueError CAMBRIAN_MEMORY_LIMIT=lots" in check(proc)


def test_memory_held_follows_arrays():
    # Dropped arrays may wait in a pool for reuse until the runtime stops.
    out = check(run_child("""
        base = cb.config()["memory_held_bytes"]
        a = cb.zeros(8 * 2**20)
        print(cb.config()["memory_held_bytes"] - base >= a.nbytes)
        del a
        cb.shutdown()
        print(cb.config()["memory_held_bytes"] <= base)
    """))
    assert out.split() == ["True", "True"]


LOCAL_SUM = """
__kernel void group_sums(__global const float *x, __global float *out,
                         __local float *scratch) {
  size_t l = get_local_id(0);
  scratch[l] = x[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  if (l == 0) {
    float s = 0;
    for (size_t i = 0; i < get_local_size(0); i++)
      s += scratch[i];
    out[get_group_id(0)] = s;
  }
}
"""


def test_local_memory_beyond_the_device_raises(opencl_device):
    dev = opencl_device
    assert dev.local_mem_bytes > 0
    k = cb.Kernel(LOCAL_SUM, "group_sums")
    x = cb.asarray(np.ones(16, np.float32), device=dev)
    out = cb.empty(1, dtype=cb.float32, device=dev)
    with pytest.raises(cb.DeviceMemoryError, match="local memory"):
        k(16, x, cb.Out(out), cb.Local(dev.local_mem_bytes + 4),
          local_size=16)
    k(16, x, cb.Out(out), cb.Local(16 * 4), local_size=16).result(
        timeout=60)
    assert float(out.numpy()[0]) == 16.0
