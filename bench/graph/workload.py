"""The graphs of bench/graph, written once for anything with +, - and *
by Python floats: cambrian graph values (which record nodes), cambrian
Arrays (eager calls), dask.delayed objects, NumPy arrays (the reference).

Every node is one tiny element-wise operation over 16 float32.

  chain  v = v * 0.5; v = v + 0.25; ... one output: a chain, each node
         reading the one before.
  lanes  LANES chains ("lanes") from the one input (a fan-out of LANES),
         each a run of segments of SEGMENT nodes:
             a = v + c_k; b = v * 0.5; c = v - 0.25    (v fans out to 3)
             v = ((a + b) + c) * 0.25                   (and back in)
         c_k differs per lane (so no two nodes compute the same thing, and
         dask's pure tokens cannot merge lanes); one output per lane. The
         values stay bounded (v -> 0.625 v + (c_k - 0.25) / 4).
"""
import numpy as np

SHAPES = ("chain", "lanes")
LANES = 8
SEGMENT = 6
N = 16


def nodes_of(shape, nodes):
    """The number of nodes the shape really has for a requested count."""
    if shape == "chain":
        return 2 * (nodes // 2)
    return LANES * SEGMENT * (nodes // (LANES * SEGMENT))


def build(shape, x, nodes):
    """The outputs (a list) of the shape over x, with nodes_of(shape,
    nodes) operations."""
    if shape == "chain":
        v = x
        for _ in range(nodes // 2):
            v = v * 0.5
            v = v + 0.25
        return [v]
    if shape != "lanes":
        raise ValueError(f"unknown shape {shape!r}")
    segments = nodes // (LANES * SEGMENT)
    outs = []
    for k in range(LANES):
        ck = 1.0 + k / LANES
        v = x
        for _ in range(segments):
            a = v + ck
            b = v * 0.5
            c = v - 0.25
            v = ((a + b) + c) * 0.25
        outs.append(v)
    return outs


def data():
    """The input: 16 float32."""
    return np.linspace(-1.0, 1.0, N, dtype=np.float32)


def check(shape, nodes, got):
    """Compares a list of NumPy outputs with NumPy's own run."""
    want = build(shape, data(), nodes)
    if len(got) != len(want):
        raise AssertionError(f"{len(got)} outputs, expected {len(want)}")
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-6)
