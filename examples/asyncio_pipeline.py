"""An asynchronous pipeline with asyncio: several independent requests
each run a chain of operations; awaiting an array suspends only its own
coroutine while StarPU runs every chain at once.

Run: python examples/asyncio_pipeline.py
"""
import asyncio
import time

import numpy as np

import cambrian as cb


async def handle(request_id, x, device):
    a = cb.asarray(x, device=device)
    y = cb.tanh(a * 0.5) + 1.0          # submitted at once, runs later
    z = await cb.where(y > 1.2, y, 0.0)  # suspends this coroutine only
    return request_id, float(cb.sqrt(z * z).numpy().sum())


async def main():
    device = cb.get_device("opencl") if cb.devices("opencl") else None
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(1 << 18).astype(np.float32)
              for _ in range(16)]
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(handle(i, x, device if i % 2 else "cpu")
          for i, x in enumerate(inputs)))
    elapsed = time.perf_counter() - t0
    for (i, total), x in zip(results, inputs):
        y = np.tanh(x * np.float32(0.5)) + np.float32(1.0)
        ref = np.where(y > 1.2, y, np.float32(0.0)).sum(dtype=np.float64)
        assert abs(total - ref) <= 1e-4 * abs(ref), (i, total, ref)
    where = device.filter_string if device else "cpu"
    print(f"16 requests (cpu and {where}) served in {elapsed * 1e3:.1f} ms, "
          "all equal to NumPy")


asyncio.run(main())
