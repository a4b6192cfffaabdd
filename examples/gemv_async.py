"""Several matrix-vector products in flight at once, awaited together.

Each gemv is a set of tasks (one per row block of its matrix) that StarPU
spreads over the workers; the coroutine submits them all, then awaits the
results together with asyncio.gather. Checked against NumPy.

    python examples/gemv_async.py
"""

import asyncio
import time

import numpy as np

import cambrian as cb


async def main():
    rng = np.random.default_rng(0)
    n, count = 2048, 8
    mats = [cb.asarray(rng.standard_normal((n, n)).astype(np.float32),
                       device="cpu")
            for _ in range(count)]
    x = cb.asarray(rng.standard_normal(n).astype(np.float32), device="cpu")

    t0 = time.perf_counter()
    ys = [cb.gemv(1.0, A, x, 0.0, cb.zeros(n, dtype=cb.float32))
          for A in mats]                       # all submitted, none waited
    submitted = time.perf_counter() - t0
    done = await asyncio.gather(*ys)           # Arrays are awaitable
    elapsed = time.perf_counter() - t0

    xs = x.numpy()
    err = max(float(np.abs(y.numpy() - A.numpy() @ xs).max())
              for y, A in zip(done, mats))
    print(f"{count} gemv of {n}x{n} float32: submitted in "
          f"{submitted * 1e3:.1f} ms, all done in {elapsed * 1e3:.1f} ms; "
          f"largest difference from NumPy {err:.1e}")
    assert err < 1e-2


asyncio.run(main())
