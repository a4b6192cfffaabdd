"""Graph fusion: chains of element-wise nodes run as one task per tile.
The plan (which nodes fuse), and the values: a fused run gives exactly
what the same graph gives unfused, on every test device."""

import threading

import numpy as np
import pytest

import cambrian as cb

from helpers import assert_same

N = 10_007  # several tiles with the tile sizes below, an odd end

FLOAT_OPS = ["add", "subtract", "multiply", "divide", "maximum", "minimum",
             "sqrt", "exp", "sin", "tanh", "negative", "abs", "floor",
             "square", "hypot", "arctan2", "logaddexp", "floor_divide",
             "remainder", "power", "where", "less", "isnan", "sign"]
INT_OPS = ["add", "subtract", "multiply", "maximum", "minimum", "negative",
           "abs", "floor_divide", "remainder", "power", "bitwise_and",
           "bitwise_xor", "bitwise_left_shift", "where", "greater_equal",
           "equal", "square", "sign"]
BOOL_OPS = ["logical_and", "logical_or", "logical_xor", "logical_not",
            "bitwise_and", "bitwise_or", "equal", "where", "add"]

UNARY = {"sqrt", "exp", "sin", "tanh", "negative", "abs", "floor",
         "square", "isnan", "sign", "logical_not"}


def apply(op, a, b, c):
    """op over graph values a and c, and b (a value or a scalar)."""
    if op == "abs":
        return abs(a)
    if op == "where":
        return cb.where(c > b, a, b)
    fn = getattr(cb, op)
    return fn(a) if op in UNARY else fn(a, b)


def random_chain(seed):
    """A chain of 3 to 12 operations over inputs x and y of one dtype,
    with scalars of Python's kinds, as a function of (x, y)."""
    rng = np.random.default_rng(seed)
    dtype = rng.choice(["float16", "float32", "float64", "int8", "int32",
                        "int64", "uint8", "uint32", "uint64", "bool"])
    kind = np.dtype(dtype).kind
    ops = FLOAT_OPS if kind == "f" else BOOL_OPS if kind == "b" else INT_OPS
    steps = [(ops[0], "y")]   # y is read
    for _ in range(rng.integers(2, 12)):
        op = str(rng.choice(ops))
        pick = rng.integers(0, 3)
        if op in ("power", "bitwise_left_shift"):
            other = int(rng.integers(0, 3))     # small, non-negative
        elif pick == 0:
            other = "y"
        elif kind == "b":
            other = bool(rng.integers(0, 2))
        elif kind == "f" and pick == 1:
            other = float(rng.uniform(-3, 3))
        else:
            other = int(rng.integers(0 if kind == "u" else -4, 5)) or 1
        steps.append((op, other))

    def chain(x, y):
        v = x
        for op, other in steps:
            b = y if isinstance(other, str) else other
            v = apply(op, v, b, x)
        return v
    return dtype, chain


def inputs(dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, (2, N)).astype(bool)
    if np.dtype(dtype).kind == "f":
        x = rng.uniform(-4, 4, (2, N)).astype(dtype)
        x[0, ::97] = np.nan
        x[1, ::89] = 0
        return x
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -50), min(info.max, 50),
                        (2, N)).astype(dtype)


def record(dtype, fn, fuse):
    with cb.Graph(fuse=fuse) as g:
        x = g.input("x", (N,), dtype)
        y = g.input("y", (N,), dtype)
        g.output("z", fn(x, y))
    return g


def same_values(got, expected):
    """Exactly equal, NaN where NaN, as arrays of one dtype and shape."""
    got, expected = got.numpy(), expected.numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", range(48))
def test_fused_equals_unfused(seed, device):
    dtype, fn = random_chain(seed)
    try:
        plain = record(dtype, fn, False)
    except (TypeError, ValueError, OverflowError):   # as NumPy does
        pytest.skip("a chain of dtypes that do not go together")
    fused = record(dtype, fn, True)
    if "float64" in dtype or "int64" in dtype or dtype == "uint64":
        if device.startswith("opencl") and not all(
                d.fp64 for d in cb.devices(device)):
            pytest.skip("no float64 on this device")
    x, y = inputs(dtype, seed)
    with cb.tile_size(4096):
        xa = cb.asarray(x, device=device)
        ya = cb.asarray(y, device=device)
    assert max(fused.fused_groups) >= 0   # something fused
    same_values(fused.run(x=xa, y=ya)["z"], plain.run(x=xa, y=ya)["z"])


def pipeline(x):
    r = cb.sqrt(x * x + 1.0)
    return r * 0.5 + x * (x * 0.25 - 1.0) - 2.0


def test_one_task_per_tile_for_a_chain(device):
    with cb.Graph() as g:
        x = g.input("x", (N,), cb.float32)
        g.output("y", pipeline(x))
    assert g.fused_groups == (0,) * 9
    data = np.linspace(-4, 4, N, dtype=np.float32)
    with cb.tile_size(2048):
        a = cb.asarray(data, device=device)
    cb.synchronize()
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        y = g.run(x=a)["y"]
        cb.synchronize()
        ops = cb.stats()["operations"]
        # One per tile (of 2048, or of the device's own size).
        assert ops["fused"]["tasks"] == -(-N // a.tile_size)
        assert not set(ops) & {"multiply", "add", "sqrt", "subtract"}
    finally:
        cb.profiling(was)
    r = np.sqrt(data * data + np.float32(1.0))
    expected = r * np.float32(0.5) + data * (data * np.float32(0.25) -
                                             np.float32(1.0)) - np.float32(2)
    # A GPU's sqrt may be a few ulp off NumPy's, and the sum cancels.
    assert_same(y, expected, rtol=1e-5, atol=1e-5)


def test_plan_ends_chains_where_values_leave_them():
    with cb.Graph() as g:
        x = g.input("x", (8,), cb.float32)
        row = g.input("row", (1, 8), cb.float32)
        half = g.input("h", (8,), cb.float16)
        t = x * 2.0            # 0 } read by u alone
        u = t + 1.0            # 1 } an output: ends its chain
        g.output("u", u)
        v = u * u              # 2 } a new chain
        w = cb.exp(v)          # 3 }
        g.output("w", w)
        b = w + row            # 4: broadcasts, runs alone
        g.output("b", b)
        h = half * 2.0         # 5: a chain of one, runs alone
        g.output("h2", h)
    groups = g.fused_groups
    assert groups[0] == groups[1] != -1
    assert groups[2] == groups[3] != -1 and groups[2] != groups[0]
    assert groups[4] == -1 and groups[5] == -1
    x = np.arange(8, dtype=np.float32) / 8
    out = g.run(x=x, row=np.ones((1, 8), np.float32),
                h=np.ones(8, np.float16))
    u = x * 2 + 1
    w = np.exp(u * u)
    assert_same(out["u"], u)
    assert_same(out["w"], w, rtol=1e-6)
    assert_same(out["b"], (w + 1)[None, :], rtol=1e-6)
    assert_same(out["h2"], np.full(8, 2, np.float16))


def test_plan_limits():
    # Four arrays from outside: the fourth starts a new chain. A value
    # read by two nodes is made: the chain ends at it.
    with cb.Graph() as g:
        a, b, c, d = (g.input(k, (16,), cb.float32) for k in "abcd")
        s = ((a + b) * c) - d       # 0, 1 fused; 2 reads d: new chain
        t = s * s                   # 3 joins 2
        g.output("t", t + s)        # s read by 3 and 4
    groups = g.fused_groups
    assert groups[0] == groups[1] != -1
    assert groups[2] == -1 or groups[2] != groups[0]
    # 40 steps: at most 32 in a chain.
    with cb.Graph() as g:
        x = g.input("x", (16,), cb.float32)
        v = x
        for _ in range(40):
            v = v * 1.0001 + 0.5
        g.output("y", v)
    sizes = np.unique([k for k in g.fused_groups if k >= 0],
                      return_counts=True)[1]
    assert sizes.max() <= 32 and sizes.sum() >= 78
    data = np.linspace(0, 1, 16, dtype=np.float32)
    ref = data.copy()
    for _ in range(40):
        ref = ref * np.float32(1.0001) + np.float32(0.5)
    assert_same(g.run(x=data)["y"], ref)


def test_fuse_false_runs_every_node():
    with cb.Graph(fuse=False) as g:
        x = g.input("x", (8,), cb.float32)
        g.output("y", pipeline(x))
    assert g.fused_groups == (-1,) * 9
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.synchronize()
        cb.stats(reset=True)
        g.run(x=np.ones(8, np.float32))["y"].numpy()
        assert "fused" not in cb.stats()["operations"]
    finally:
        cb.profiling(was)


def test_views_and_promotions_as_inputs(device):
    # Inputs that are views (read through a copy) and scalars that widen
    # an integer chain to float64.
    with cb.Graph() as g:
        x = g.input("x", (50,), cb.int32)
        g.output("y", (x * 3 + 1) * 0.5 - x)
    base = np.arange(100, dtype=np.int32)
    a = cb.asarray(base, device=device)[::2]
    if device.startswith("opencl") and not all(
            d.fp64 for d in cb.devices(device)):
        pytest.skip("no float64 on this device")
    got = g.run(x=a)["y"]
    x = base[::2]
    assert_same(got, (x * 3 + 1) * 0.5 - x)


def test_runs_from_threads_share_programs(device):
    with cb.Graph() as g:
        x = g.input("x", (N,), cb.float32)
        g.output("y", pipeline(x))
    data = [np.full(N, k, np.float32) for k in range(8)]
    results = [None] * 8

    def work(k):
        results[k] = g.run(x=cb.asarray(data[k], device=device))["y"]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        v = np.float32(k)
        r = np.sqrt(v * v + np.float32(1))
        expected = r * np.float32(0.5) + v * (v * np.float32(0.25) -
                                              np.float32(1)) - np.float32(2)
        assert_same(results[k], np.full(N, expected, np.float32),
                    rtol=1e-6)


def test_zero_d_operands_fuse(device):
    # A 0-D array is read as one element by every work-item.
    def chain(x, s):
        return cb.maximum((x * s + 1.0) * s, s - x)
    graphs = []
    for fuse in (True, False):
        with cb.Graph(fuse=fuse) as g:
            x = g.input("x", (N,), cb.float32)
            s = g.input("s", (), cb.float32)
            g.output("y", chain(x, s))
        graphs.append(g)
    assert graphs[0].fused_groups == (0,) * 5
    x = np.linspace(-3, 3, N, dtype=np.float32)
    with cb.tile_size(4096):
        xa = cb.asarray(x, device=device)
    s = cb.asarray(np.float32(1.5), device=device)
    same_values(graphs[0].run(x=xa, s=s)["y"], graphs[1].run(x=xa, s=s)["y"])


@pytest.mark.parametrize("rows", [3, 700])
def test_rows_and_elements_fuse(device, rows):
    # (x - mean) * scale + bias over rows of 128: the row operands are
    # read in place, repeated along the rows (700 rows: several tiles);
    # a (1, 1) array is read as one element.
    def chain(x, mean, scale, one):
        return cb.maximum((x - mean) * scale + one, 0.0)
    graphs = []
    for fuse in (True, False):
        with cb.Graph(fuse=fuse) as g:
            x = g.input("x", (rows, 128), cb.float32)
            mean = g.input("mean", (128,), cb.float32)
            scale = g.input("scale", (1, 128), cb.float32)
            one = g.input("one", (1, 1), cb.float32)
            g.output("y", chain(x, mean, scale, one))
        graphs.append(g)
    # A fourth array from outside starts a new chain.
    assert graphs[0].fused_groups == (0, 0, 1, 1)
    rng = np.random.default_rng(rows)
    data = {"x": rng.standard_normal((rows, 128), np.float32),
            "mean": rng.standard_normal(128, np.float32),
            "scale": rng.standard_normal((1, 128), np.float32),
            "one": np.ones((1, 1), np.float32)}
    with cb.tile_size(128 * 64):
        arrays = {k: cb.asarray(v, device=device) for k, v in data.items()}
    same_values(graphs[0].run(**arrays)["y"], graphs[1].run(**arrays)["y"])
    x, m, s = data["x"], data["mean"], data["scale"]
    assert_same(graphs[0].run(**arrays)["y"],
                np.maximum((x - m) * s + np.float32(1), np.float32(0)),
                rtol=1e-6)


def test_float16_chains_round_at_each_step(device):
    # Each step's result is rounded to a half, as its store would round
    # it: 2049 + 1 rounds to 2048 in float16, then - 2048 gives 0 (in
    # float32 registers kept unrounded it would give 1). Casts from
    # float64 round once.
    with cb.Graph() as g:
        x = g.input("x", (N,), cb.float16)
        d = g.input("d", (N,), cb.float64)
        g.output("y", (x + 1.0) - 2048.0)
        g.output("z", d.astype(cb.float16) * 2.0)
    assert g.fused_groups == (0, 0, 1, 1)
    if device.startswith("opencl") and not all(
            d.fp64 for d in cb.devices(device)):
        pytest.skip("no float64 on this device")
    x = np.full(N, 2048, np.float16)
    d = np.full(N, 1 + 2.0 ** -11 + 2.0 ** -30, np.float64)
    out = g.run(x=cb.asarray(x, device=device),
                d=cb.asarray(d, device=device))
    assert_same(out["y"], (x + np.float16(1)) - np.float16(2048))
    assert_same(out["z"], d.astype(np.float16) * np.float16(2))


@pytest.mark.parametrize("order", ["short first", "long first"])
def test_rows_of_two_periods(device, order):
    # Rows of 64 and of 2 x 64 elements over a (3, 2, 64) result: one
    # period is read in place, the other copied out, in either order.
    def chain(x, y, z):
        return x * 2.0 + y + z
    shapes = {"x": (64,), "y": (2, 64), "z": (3, 2, 64)}
    if order == "long first":
        shapes["x"], shapes["y"] = shapes["y"], shapes["x"]
    rng = np.random.default_rng(1)
    data = {k: rng.standard_normal(s).astype(np.float32)
            for k, s in shapes.items()}
    for fuse in (True, False):
        with cb.Graph(fuse=fuse) as g:
            v = {k: g.input(k, s, cb.float32) for k, s in shapes.items()}
            g.output("o", chain(**v))
        got = g.run(**{k: cb.asarray(a, device=device)
                       for k, a in data.items()})["o"]
        assert_same(got, chain(**{k: a for k, a in data.items()}),
                    rtol=1e-6)


def test_where_over_rows_of_two_periods(device):
    rng = np.random.default_rng(2)
    c = rng.integers(0, 2, 64).astype(bool)
    a = rng.standard_normal((2, 64)).astype(np.float32)
    b = rng.standard_normal((3, 2, 64)).astype(np.float32)
    got = cb.where(cb.asarray(c, device=device), cb.asarray(a, device=device),
                   cb.asarray(b, device=device))
    assert_same(got, np.where(c, a, b))


def test_estimate_with_a_row_of_several_tiles():
    # A broadcast operand of several tiles is priced with its first one.
    with cb.tile_size(1024):
        with cb.Graph() as g:
            x = g.input("x", (4096,), cb.float32)
            y = g.input("y", (8, 4096), cb.float32)
            g.output("o", x * 2.0 + y)
        xa = cb.asarray(np.ones(4096, np.float32), device="cpu")
        ya = cb.asarray(np.ones((8, 4096), np.float32), device="cpu")
        e = g.estimate(device="cpu", x=xa, y=ya)
    assert len(e["node_us"]) == 2
    assert_same(g.run(x=xa, y=ya)["o"], np.full((8, 4096), 3, np.float32))
