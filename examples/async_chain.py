"""Asynchronous execution: operations return at once and run as StarPU
tasks while Python goes on; reading the result waits for it.

Run: python examples/async_chain.py
"""
import time

import numpy as np

import cambrian as cb

N = 1 << 22
x = np.linspace(0.0, 1.0, N, dtype=np.float32)

for where in ("cpu", "opencl"):
    dev = cb.get_device(where)
    a = cb.asarray(x, device=dev)
    t0 = time.perf_counter()
    # A chain of dependent operations: each task starts when its input is
    # written; nothing here waits.
    y = a * 2.0
    y = cb.sin(y) + 1.0
    y = cb.where(y > 1.5, y, 0.0)
    y = cb.sqrt(y * y + 1.0)
    t1 = time.perf_counter()
    busy = sum(i * i for i in range(20000))  # Python work meanwhile
    result = y.numpy()  # waits
    t2 = time.perf_counter()

    ref = np.sin(x * np.float32(2.0)) + np.float32(1.0)
    ref = np.where(ref > 1.5, ref, np.float32(0.0))
    ref = np.sqrt(ref * ref + np.float32(1.0))
    np.testing.assert_allclose(result, ref, rtol=1e-5)
    print(f"{dev.filter_string:<14} 4 operations on {N} floats: submitted in "
          f"{(t1 - t0) * 1e3:.2f} ms, done after {(t2 - t0) * 1e3:.1f} ms, "
          f"result matches NumPy")
