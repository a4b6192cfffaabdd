"""dask.distributed futures on a local in-process cluster
(Client(processes=False, n_workers=1, threads_per_worker=1)):
client.submit(np.add, x, y, pure=False).result() over 16 float32, one
operation at a time. Each round trip goes through the scheduler and the
worker on distributed's event loop thread, and the client batches what
it sends to the scheduler every 10 ms (BatchedSend(interval="10ms") in
distributed/client.py), so it costs about 10 ms: each call of samples()
takes at most MAX_SAMPLES samples and stops after MAX_SECONDS (the table
says how many it took in all)."""
import logging
import time

import numpy as np

NAME = "dask.distributed"
USES_RUNTIME = False
VARIANTS = ["client.submit(np.add, x, y, pure=False).result()"]
MAX_SAMPLES = 250
MAX_SECONDS = 3.0


def available():
    try:
        from distributed import Client, LocalCluster  # noqa: F401
    except ImportError:
        return False, ("distributed is not installed (pip install "
                       "distributed)")
    return True, ""


def setup(variant, runtime=None):
    from distributed import Client
    client = Client(processes=False, n_workers=1, threads_per_worker=1,
                    dashboard_address=None, silence_logs=logging.ERROR)
    x = np.ones(16, np.float32)
    return {"x": x, "y": x.copy(), "client": client}


def samples(state, warmup, n):
    client, x, y = state["client"], state["x"], state["y"]
    for _ in range(min(warmup, 20)):
        client.submit(np.add, x, y, pure=False).result()
    out = []
    clock = time.perf_counter
    stop = clock() + MAX_SECONDS
    for _ in range(min(n, MAX_SAMPLES)):
        t0 = clock()
        c = client.submit(np.add, x, y, pure=False).result()
        t1 = clock()
        out.append(t1 - t0)
        if t1 > stop:
            break
    state["last"] = c
    return out


def check(state):
    np.testing.assert_allclose(state["last"], np.full(16, 2, np.float32))


def teardown(state):
    state["client"].close()
    state.clear()
