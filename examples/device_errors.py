"""Asynchronous device errors come back as Python exceptions on the right
array and future, and on everything computed from it. A fault is injected
with cambrian.testing, as a failing kernel would.

Run: python examples/device_errors.py
"""
import numpy as np

import cambrian as cb
import cambrian.testing

device = "opencl" if cb.devices("opencl") else "cpu"
cambrian.testing.inject_fault("multiply", device=device, nth=1,
                              cl_status="CL_OUT_OF_RESOURCES")

a = cb.asarray(np.arange(8.0), device=device)
b = a * 2            # this task fails on the device
c = b + 1            # depends on b: does not run
d = a + 1            # independent: runs

try:
    b.numpy()
except cb.DeviceError as e:
    print(f"b: {type(e).__name__} on {e.device}, {e.cl_status}, task {e.task}")

try:
    c.future.result()
except cb.DependencyError as e:
    print(f"c: {type(e).__name__}, caused by {type(e.__cause__).__name__}")

print("d:", d.numpy())
cb.synchronize()     # every failure above was retrieved: nothing to raise
