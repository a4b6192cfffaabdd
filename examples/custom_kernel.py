"""Custom OpenCL kernels: cb.Kernel compiles OpenCL C for a device on first
use; a call launches it as a task over the Arrays it is given, ordered with
the other operations on them, and returns a future. CB_ASSERT(condition)
in the kernel turns a failing work-item into a DeviceAssertionError that
names the line and the work-item.

Run: python examples/custom_kernel.py
"""
import numpy as np

import cambrian as cb

SAXPY = cb.Kernel("""
__kernel void saxpy(const float a, __global const float *x,
                    __global float *y, const int n) {
  int i = get_global_id(0);
  if (i < n)
    y[i] = a * x[i] + y[i];
}
""", "saxpy")

SAFE_LOG_SOURCE = """
__kernel void safe_log(__global const float *x, __global float *y) {
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] > 0.0f);            /* a logarithm of a positive number */
  y[i] = log(x[i]);
}
"""
SAFE_LOG = cb.Kernel(SAFE_LOG_SOURCE, "safe_log")

if not cb.devices("opencl"):
    raise SystemExit("custom kernels need an OpenCL device; none is present")
device = SAXPY.build()  # compiles now; otherwise the first call does
print(f"kernels built for {device.filter_string} ({device.name})")

n = 1_000_000
x = np.linspace(0.5, 2.0, n, dtype=np.float32)
a = cb.asarray(x, device=device)
y = cb.ones(n, dtype=cb.float32, device=device)

# Pointers take Arrays (cb.In by default, cb.Out, cb.InOut), scalars take
# NumPy scalars of the parameter's type or Python numbers that fit it.
fut = SAXPY(n, np.float32(3.0), a, cb.InOut(y), n)
z = cb.sqrt(y)          # an array operation, runs after the kernel
fut.result()            # a launch's future resolves to None
np.testing.assert_allclose(z.numpy(), np.sqrt(3 * x + 1), rtol=1e-6)
print(f"saxpy over {n} floats, then sqrt: equal to NumPy")

# Local sizes: 2-D or 3-D launches take tuples.
logs = cb.empty(n, dtype=cb.float32, device=device)
SAFE_LOG(n, a, cb.Out(logs), local_size=64).result()
np.testing.assert_allclose(logs.numpy(), np.log(x), rtol=1e-6)
print("safe_log with local size 64: equal to NumPy")

# A device-side assertion fails: the launch's future, and the array it
# writes, raise DeviceAssertionError with the kernel, line and work-item.
bad = x.copy()
bad[123_456] = -1.0
out = cb.empty(n, dtype=cb.float32, device=device)
launch = SAFE_LOG(n, cb.asarray(bad, device=device), cb.Out(out))
try:
    launch.result()
except cb.DeviceAssertionError as e:
    print(f"assertion: kernel {e.kernel}, line {e.line}, work-item "
          f"{e.work_item} on {e.device}")
    assert e.line is not None
    print("   ", SAFE_LOG_SOURCE.splitlines()[e.line - 1].strip())
try:
    (out + 1).numpy()
except cb.DependencyError as e:
    print(f"an operation on its output: {type(e).__name__} caused by "
          f"{type(e.__cause__).__name__}")

# Mistakes in the arguments are caught at the call, before anything runs.
try:
    SAXPY(n, 3.0, a, y)
except TypeError as e:
    print(f"wrong call: {e}")
cb.synchronize()
