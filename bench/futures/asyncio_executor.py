"""asyncio's default executor: `await loop.run_in_executor(None, np.add,
x, y)` over 16 float32 inside a running event loop, one operation at a
time (the loop's default ThreadPoolExecutor; its thread is started by the
warm-up). The reference of the latency table."""
import asyncio
import time

import numpy as np

NAME = "asyncio run_in_executor"
USES_RUNTIME = False
VARIANTS = ["await loop.run_in_executor(None, np.add, x, y)"]


def available():
    return True, ""


def setup(variant, runtime=None):
    x = np.ones(16, np.float32)
    return {"x": x, "y": x.copy()}


async def _loop(state, warmup, n):
    x, y = state["x"], state["y"]
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    for _ in range(warmup):
        await loop.run_in_executor(None, np.add, x, y)
    out = []
    for _ in range(n):
        t0 = clock()
        c = await loop.run_in_executor(None, np.add, x, y)
        out.append(clock() - t0)
    state["last"] = c
    return out


def samples(state, warmup, n):
    return asyncio.run(_loop(state, warmup, n))


def check(state):
    np.testing.assert_allclose(state["last"], np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
