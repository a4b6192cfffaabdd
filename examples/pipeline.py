"""A streaming pipeline: a graph recorded once, replayed over 64 chunks.

Each chunk (2**18 float32) goes host -> device, through a chain of 9
element-wise operations (a polynomial and sqrt(x*x + 1), which the graph
fuses into one kernel), and device -> host, on an OpenCL device (pocl on
the CPU when there is no GPU). Graph.map keeps two chunks in flight:
chunk i + 1 is submitted, so its data moves, while chunk i computes.
Every result is checked against NumPy, and the run is traced.

    python examples/pipeline.py [out.json] [--device opencl:gpu]
                                [--chunks 64] [--n 262144]

Writes the trace (Chrome trace event JSON: chrome://tracing or
https://ui.perfetto.dev) to out.json (default: pipeline.json here), and a
PNG Gantt chart next to it when matplotlib is installed.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import cambrian as cb

N = 1 << 18
CHUNKS = 64
IN_FLIGHT = 2


def kernel(x, sqrt=cb.sqrt):
    """The per-chunk computation, written once for graph values (which
    record it) and for NumPy arrays (the reference, with np.sqrt): 9
    element-wise operations."""
    r = sqrt(x * x + 1.0)
    return r * 0.5 + x * (x * 0.25 - 1.0) - 2.0


def build(n=N, dtype=cb.float32, fuse=True):
    """The pipeline as a graph of one input "x" and one output "y" (its 9
    operations fused into one task per tile unless fuse is False)."""
    with cb.Graph(fuse=fuse) as g:
        x = g.input("x", (n,), dtype)
        g.output("y", kernel(x))
    return g


def reference(chunk):
    """NumPy's result for one chunk, in the chunk's dtype."""
    return kernel(chunk, np.sqrt).astype(chunk.dtype, copy=False)


def make_chunks(count=CHUNKS, n=N, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-4.0, 4.0, n).astype(dtype) for _ in range(count)]


def pick_device(spec=None):
    """The device asked for; else the first OpenCL device (a GPU first);
    else the CPU workers, with a note."""
    if spec:
        return cb.get_device(spec)
    for f in ("opencl:gpu", "opencl"):
        found = cb.devices(f)
        if found:
            return found[0]
    print("note: no OpenCL device; the pipeline runs on the CPU workers",
          file=sys.stderr)
    return cb.get_device("cpu")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", nargs="?", default="pipeline.json",
                   help="trace JSON path (default: pipeline.json)")
    p.add_argument("--device", help="device filter (default: the first "
                   "OpenCL device, a GPU first)")
    p.add_argument("--chunks", type=int, default=CHUNKS)
    p.add_argument("--n", type=int, default=N, help="float32 per chunk")
    args = p.parse_args(argv)

    dev = pick_device(args.device)
    g = build(args.n)
    chunks = make_chunks(args.chunks, args.n)
    g.run(x=chunks[0], device=dev)["y"].numpy()  # builds the kernels

    refs = [reference(c) for c in chunks]
    tol = 1e-5 * max(float(np.max(np.abs(r))) for r in refs)

    worst, done = 0.0, 0
    with cb.trace(args.out):
        t0 = time.perf_counter()
        for i, outs in g.map(chunks, in_flight=IN_FLIGHT, device=dev,
                             progress=False):
            y = outs["y"].numpy()                    # device -> host
            err = float(np.max(np.abs(y - refs[i])))
            if not err <= tol:
                raise AssertionError(f"chunk {i}: max |error| {err:g} "
                                     f"above {tol:g}")
            worst, done = max(worst, err), done + 1
        elapsed = time.perf_counter() - t0
    assert done == args.chunks, (done, args.chunks)

    with open(args.out) as f:
        other = json.load(f)["otherData"]
    mb = args.chunks * args.n * np.dtype(np.float32).itemsize / 1e6
    print(f"{args.chunks} chunks of {args.n} float32 through "
          f"{len(g.nodes)} operations on {dev.filter_string} "
          f"({dev.name}), in_flight={IN_FLIGHT}")
    print(f"time {elapsed * 1e3:.1f} ms: {args.chunks / elapsed:.1f} "
          f"chunks/s, {mb / elapsed:.0f} MB/s in (as much out); "
          f"max |error| vs NumPy {worst:.2e}")
    print(f"g.max_in_flight = {g.max_in_flight}; {other['tasks']} tasks "
          "traced")
    for link in other["links"]:
        print(f"  {link['src']} -> {link['dst']}: "
              f"{link['bytes'] / 1e6:.1f} MB in {link['transfers']} "
              "transfers")
    print(f"trace: {args.out}")
    try:
        png = os.path.splitext(args.out)[0] + ".png"
        cb.plot_trace(args.out, png, title=f"Graph.map over {args.chunks} "
                      f"chunks, in_flight={IN_FLIGHT}, {dev.filter_string}")
        print(f"chart: {png}")
    except ImportError:
        print("chart: skipped (matplotlib is not installed)")


if __name__ == "__main__":
    main()
