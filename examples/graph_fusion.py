"""Graph fusion: a chain of element-wise operations as one task per tile.

Records the tanh approximation of GELU (9 element-wise operations) as a
graph, shows which nodes were fused, then runs it fused and unfused on
the device asked for (the first OpenCL device, a GPU first, by default)
and compares the values and the times.

    python examples/graph_fusion.py [--device opencl:gpu] [--n 4194304]
"""

import argparse
import time

import numpy as np

import cambrian as cb


def gelu(x, tanh=cb.tanh):
    """GELU, tanh form: 0.5 x (1 + tanh(0.79788456 (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


def record(n, fuse):
    with cb.Graph(fuse=fuse) as g:
        x = g.input("x", (n,), cb.float32)
        g.output("y", gelu(x))
    return g


def best_time(g, x, reps=7):
    g.run(x=x)["y"].numpy()   # kernels built, models warmed
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        g.run(x=x)["y"].future.result()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", help="device filter (default: the first "
                   "OpenCL device, a GPU first, else the CPU workers)")
    p.add_argument("--n", type=int, default=1 << 22)
    args = p.parse_args(argv)
    device = args.device or next(
        (f for f in ("opencl:gpu", "opencl") if cb.devices(f)), "cpu")

    fused, plain = record(args.n, True), record(args.n, False)
    print(f"{len(fused.fused_groups)} nodes, fused groups: "
          f"{fused.fused_groups}")
    data = np.random.default_rng(0).standard_normal(args.n, np.float32)
    x = cb.asarray(data, device=device)

    a = fused.run(x=x)["y"].numpy()
    b = plain.run(x=x)["y"].numpy()
    assert np.array_equal(a, b), "fused and unfused values differ"
    ref = gelu(data.astype(np.float64), np.tanh)
    print(f"same values fused and unfused; largest difference from "
          f"float64 NumPy: {np.abs(a - ref).max():.2e}")

    tf, tp = best_time(fused, x), best_time(plain, x)
    print(f"{args.n} float32 on {device}: fused {tf * 1e3:.2f} ms, "
          f"unfused {tp * 1e3:.2f} ms ({tp / tf:.1f}x)")


if __name__ == "__main__":
    main()
