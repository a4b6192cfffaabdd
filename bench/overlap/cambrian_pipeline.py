"""cambrian: the pipeline of examples/pipeline.py (a graph of 9
element-wise operations per chunk) streamed over chunks with Graph.map on
one OpenCL device, and its parts alone.

One repetition measures, in turn, over every chunk:

  h2d       cb.asarray(chunk, device=dev) for each chunk, then
            cb.synchronize(): host -> device alone (the arrays made here
            are the next part's inputs)
  compute   g.map(those device-resident inputs, in_flight, device=dev):
            the kernels alone, each result left on the device (and let go
            as it comes, as the pipeline does once it has read it)
  d2h       for each resident input: g.run on the device and wait for
            it (untimed), then .numpy() of its result (timed): device ->
            host alone, one result alive at a time as in the pipeline
  total     g.map(host chunks, in_flight, device=dev), reading each
            result with .numpy() as it comes: the whole pipeline, which
            moves chunk i + 1 in while chunk i computes
  total, in_flight=1 (diag.)  the same, one chunk at a time

transfers = h2d + d2h; run.py reports each part's best and median time
over the repetitions.
"""
import time

import cambrian as cb

import pipeline  # examples/pipeline.py

PARTS = ["h2d", "compute", "d2h", "total", "total_in_flight_1"]


def setup(device, chunks, n, in_flight, fuse=True):
    dev = pipeline.pick_device(device)
    g = pipeline.build(n, fuse=fuse)
    data = pipeline.make_chunks(chunks, n)
    refs = [pipeline.reference(c) for c in data]
    return {"dev": dev, "g": g, "chunks": data, "refs": refs,
            "in_flight": in_flight, "checked": False}


def _map(st, batches, in_flight, read, keep=True):
    out = []
    for i, outs in st["g"].map(batches, in_flight=in_flight,
                               device=st["dev"], progress=False):
        y = outs["y"]
        if read:
            y = y.numpy()
        if keep:
            out.append(y)
    return out


def one_rep(st):
    """Seconds of each part, for one repetition."""
    dev, chunks = st["dev"], st["chunks"]
    times = {}
    t0 = time.perf_counter()
    resident = [cb.asarray(c, device=dev) for c in chunks]
    cb.synchronize()
    t1 = time.perf_counter()
    _map(st, resident, st["in_flight"], read=False, keep=False)
    t2 = time.perf_counter()
    d2h, host = 0.0, []
    for a in resident:
        y = st["g"].run(x=a, device=dev)["y"]
        y.future.result()
        t3 = time.perf_counter()
        host.append(y.numpy())
        d2h += time.perf_counter() - t3
    del y
    times.update(h2d=t1 - t0, compute=t2 - t1, d2h=d2h)
    del resident
    cb.synchronize()
    t0 = time.perf_counter()
    streamed = _map(st, chunks, st["in_flight"], read=True)
    times["total"] = time.perf_counter() - t0
    st["max_in_flight"] = st["g"].max_in_flight
    t0 = time.perf_counter()
    _map(st, chunks, 1, read=True)
    times["total_in_flight_1"] = time.perf_counter() - t0
    if not st["checked"]:
        check(st, host)
        check(st, streamed)
        st["checked"] = True
    return times


def check(st, outs):
    import numpy as np
    assert len(outs) == len(st["refs"])
    for i, (y, r) in enumerate(zip(outs, st["refs"])):
        np.testing.assert_allclose(y, r, rtol=1e-5, atol=1e-5,
                                   err_msg=f"chunk {i}")


def teardown(st):
    st.clear()
    cb.synchronize()
