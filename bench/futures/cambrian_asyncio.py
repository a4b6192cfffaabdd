"""cambrian, awaited in asyncio: `await (a + b)` over 16 float32 on device
"cpu" inside a running event loop, one operation at a time (the target
row). Diagnostic variant: `await asyncio.wrap_future((a + b).future)`,
the generic bridge from a concurrent.futures.Future (cambrian's notifier
thread resolves the future, whose done-callback wakes the loop with
call_soon_threadsafe), to compare with cambrian's own awaiting."""
import asyncio
import time

import numpy as np

import cambrian as cb

NAME = "cambrian asyncio"
USES_RUNTIME = True
VARIANTS = ["await (a + b)",
            "await asyncio.wrap_future((a + b).future)"]


def available():
    return True, ""


def setup(variant, runtime):
    cb.shutdown()
    cb.init(**runtime)
    dev = cb.get_device("cpu")
    x = np.ones(16, np.float32)
    return {"a": cb.asarray(x, device=dev), "b": cb.asarray(x, device=dev),
            "variant": variant, "config": cb.config()}


async def _loop(state, warmup, n):
    a, b = state["a"], state["b"]
    clock = time.perf_counter
    wrap = state["variant"] != VARIANTS[0]
    for _ in range(warmup):
        if wrap:
            await asyncio.wrap_future((a + b).future)
        else:
            await (a + b)
    out = []
    if wrap:
        for _ in range(n):
            t0 = clock()
            c = await asyncio.wrap_future((a + b).future)
            out.append(clock() - t0)
    else:
        for _ in range(n):
            t0 = clock()
            c = await (a + b)
            out.append(clock() - t0)
    state["last"] = c
    return out


def samples(state, warmup, n):
    return asyncio.run(_loop(state, warmup, n))


def check(state):
    np.testing.assert_allclose(state["last"].numpy(),
                               np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
    cb.shutdown()
