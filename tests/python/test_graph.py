"""cb.Graph: capture, validation, replay, introspection, DOT, map."""

import gc
import re
import shutil
import subprocess
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults

from helpers import assert_same


def pipeline(x, y, c):
    z = cb.sqrt(x * x + y * y) + 1.0
    w = cb.where(z > 2.0, z, -z) * c
    return z, (w - 3).astype(cb.float64), abs(-w) >= 1.5


def make_graph(n, c, fuse=True):
    with cb.Graph(fuse=fuse) as g:
        x = g.input("x", (n,), cb.float32)
        y = g.input("y", (n,), cb.float32)
        z, w, m = pipeline(x, y, c)
        g.output("z", z)
        g.output("w", w)
        g.output("m", m)
    return g


def test_replay_equals_eager(device):
    n = 100_003  # several tiles, an odd end
    rng = np.random.default_rng(0)
    xs = rng.random(n, dtype=np.float32) * 3
    ys = rng.random(n, dtype=np.float32)
    c = cb.asarray(np.float32(0.5))  # a 0-D constant
    g = make_graph(n, c)
    x = cb.asarray(xs, device=device)
    y = cb.asarray(ys, device=device)
    want = pipeline(x, y, c)
    for _ in range(2):  # replays are independent
        got = g.run(x=x, y=y)
        for name, expected in zip(("z", "w", "m"), want):
            assert got[name].dtype == expected.dtype
            assert got[name].device == x.device
            assert_same(got[name], expected.numpy())


def chain(x):
    """Intermediates read by one node are written over in place."""
    v = x + 1.0
    v = v * v                       # one node reads v twice
    b = v > 3.0
    v = cb.where(b, v, 0.5 * v)     # v read by two nodes: not in place
    i = (v * 4).astype(cb.int32)    # a new dtype: a new array
    i = (i - 3) + i
    return v + 0.0, -i


def test_in_place_chains_equal_eager(device):
    n = 70_001
    xs = np.random.default_rng(1).random(n, dtype=np.float32) * 4 - 2
    with cb.Graph() as g:
        v, i = chain(g.input("x", (n,), cb.float32))
        g.output("v", v)
        g.output("i", i)
    x = cb.asarray(xs, device=device)
    want = [a.numpy() for a in chain(x)]
    for _ in range(3):
        got = g.run(x=x)
        assert_same(got["v"], want[0])
        assert_same(got["i"], want[1])


def model(x, w):
    """Reductions, products and transposes among element-wise nodes."""
    h = x @ w                            # (m, k) @ (k, n)
    col = cb.sum(h, axis=0) * 0.5        # (n,)
    row = cb.max(h - 1.0, axis=1)        # (m,)
    tt = cb.norm(h.T @ x, axis=-1)       # (n, k) -> (n,)
    return (h.mean() + cb.dot(col, col), row, tt + 1.0,
            cb.transpose(h.T) * 2.0, cb.min(x))


def test_reductions_and_products_replay_equal_eager(device):
    rng = np.random.default_rng(2)
    xs = rng.random((300, 6), dtype=np.float32)
    w = cb.asarray(rng.random((6, 4), dtype=np.float32))   # a constant
    with cb.Graph() as g:
        outs = model(g.input("x", (300, 6), cb.float32), w)
        for k, v in enumerate(outs):
            g.output(f"o{k}", v)
    assert [n["op"] for n in g.nodes][:3] == ["matmul", "sum", "multiply"]
    x = cb.asarray(xs, device=device)
    want = [a.numpy() for a in model(x, w)]
    for _ in range(2):
        got = g.run(x=x)
        for k, expected in enumerate(want):
            assert got[f"o{k}"].dtype == expected.dtype
            np.testing.assert_allclose(got[f"o{k}"].numpy(), expected,
                                       rtol=1e-5)


def test_products_convert_their_operands_as_eager_calls_do():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.ones((4, 2))
    with cb.Graph() as g:
        x = g.input("x", (3, 4), cb.float32)
        y = g.input("y", (4, 2), cb.float64)
        g.output("p", x @ y)                 # float32 @ float64: float64
        g.output("v", cb.matmul(x, cb.sum(y, 1)))
    assert [n["op"] for n in g.nodes] == ["cast", "matmul", "sum", "cast",
                                          "matmul"]
    got = g.run(x=a, y=b)
    assert got["p"].dtype == np.float64
    assert_same(got["p"], a @ b)
    np.testing.assert_allclose(got["v"].numpy(), a @ b.sum(1))


def test_reduction_and_product_record_errors():
    with cb.Graph() as g:
        x = g.input("x", (4, 3), cb.float32)
        v = g.input("v", (5,), cb.float32)
        i = g.input("i", (3, 3), cb.int32)
        with pytest.raises(ValueError, match="out of bounds"):
            x.sum(axis=2)
        with pytest.raises(TypeError, match="axis must be"):
            x.sum(axis=1.0)
        with pytest.raises(ValueError, match="inner dimension"):
            x @ x
        with pytest.raises(TypeError, match="BLAS"):
            i @ i
        with pytest.raises(ValueError, match="not aligned"):
            cb.dot(v, cb.sum(x, 0))
        with pytest.raises(ValueError, match="1-D"):
            cb.dot(x, x)
        with pytest.raises(ValueError, match="scalars"):
            x @ 2.0
        e = g.input("e", (0,), cb.float32)
        with pytest.raises(ValueError, match="no identity"):
            cb.min(e)
        g.output("y", x.sum() + v.sum() + i.sum() + e.sum())


def test_a_run_that_fails_midway_leaves_the_graph_usable(opencl_device):
    with cb.Graph() as g:
        x = g.input("x", (4, 4), cb.float32)
        y = g.input("y", (4, 4), cb.float32)
        g.output("z", (x * 2.0) @ (y + 1.0) + 1.0)
    ones = np.ones((4, 4), np.float32)
    a = cb.asarray(ones, device="cpu")
    b = cb.asarray(ones, device=opencl_device)
    with pytest.raises(ValueError, match="move one with to_device"):
        g.run(x=a, y=b)                   # the product finds two devices
    assert_same(g.run(x=a, y=cb.asarray(ones, device="cpu"))["z"],
                np.full((4, 4), 17.0, np.float32))
    cb.synchronize()


def test_failures_flow_through_reductions_in_a_replay():
    with cb.Graph() as g:
        x = g.input("x", (64, 8), cb.float32)
        s = cb.sum(x * 2.0, axis=0)
        g.output("y", s @ cb.asarray(np.ones((8, 2), np.float32)))
    faults.inject_fault("sum", nth=1)
    try:
        out = g.run(x=np.ones((64, 8), np.float32))
        with pytest.raises(cb.DependencyError) as info:
            out["y"].numpy()
        assert info.value.__cause__.task == "sum"
    finally:
        faults.clear_faults()
    assert_same(g.run(x=np.ones((64, 8), np.float32))["y"],
                np.full(2, 128 * 8, np.float32))


def test_runs_overlap_and_come_from_threads():
    g = make_graph(1000, 2.0)
    xs = [np.full(1000, k, np.float32) for k in range(8)]
    ys = np.zeros(1000, np.float32)
    outs = [g.run(x=x, y=ys) for x in xs]        # all in flight
    results = {}

    def worker(k):
        results[k] = g.run(x=xs[k], y=ys)["z"].numpy()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for k in range(8):
        np.testing.assert_allclose(outs[k]["z"].numpy(), k + 1.0)
        np.testing.assert_allclose(results[k], k + 1.0)


def test_scalar_kinds_follow_the_eager_rules():
    with cb.Graph() as g:
        i = g.input("i", (4,), cb.int32)
        g.output("a", i + 1)                 # weak int: int32
        g.output("b", i + np.int64(1))       # strong: int64
        g.output("c", i / 2)                 # true division: float64
        g.output("d", i * 1.5)               # weak float: float64
    data = np.arange(4, dtype=np.int32)
    out = g.run(i=data)
    a = cb.asarray(data)
    for name, eager in (("a", a + 1), ("b", a + np.int64(1)), ("c", a / 2),
                        ("d", a * 1.5)):
        assert out[name].dtype == eager.dtype
        assert_same(out[name], eager.numpy())


def test_record_time_errors():
    with pytest.raises(ValueError, match="could not be broadcast"):
        with cb.Graph() as g:
            x = g.input("x", (4,), cb.float32)
            y = g.input("y", (5,), cb.float32)
            x + y
    with pytest.raises(TypeError):
        with cb.Graph() as g:
            b = g.input("b", (4,), cb.bool_)
            b - b                            # bool subtract: NumPy refuses
    with pytest.raises(ValueError, match="reach no output"):
        with cb.Graph() as g:
            x = g.input("x", (4,), cb.float32)
            g.input("unused", (4,), cb.float32)
            g.output("y", x + 1)
    with pytest.raises(ValueError, match="no output"):
        with cb.Graph() as g:
            g.input("x", (4,), cb.float32)
    with pytest.raises(ValueError, match="named"):
        with cb.Graph() as g:
            g.input("x", (4,), cb.float32)
            g.input("x", (4,), cb.float32)
    with pytest.raises(RuntimeError):
        cb.Graph().input("x", (4,), cb.float32)   # not recording
    with cb.Graph() as g1:
        a = g1.input("a", (4,), cb.float32)
        g1.output("a2", a * 2)
    with pytest.raises(ValueError, match="another graph"):
        with cb.Graph() as g2:
            b = g2.input("b", (4,), cb.float32)
            b + a
    with pytest.raises(RuntimeError, match="record inside"):
        a + 1                                 # g1 is recorded already
    with cb.Graph() as g4:
        c = g4.input("c", (4,), cb.float32)
        with pytest.raises(TypeError, match="truth value"):
            bool(c > 1)
        g4.output("c", c)
    with pytest.raises(TypeError, match="value of this graph"):
        with cb.Graph() as g3:
            g3.input("x", (4,), cb.float32)
            g3.output("y", cb.ones(4))


def test_run_errors():
    g = make_graph(8, 1.0)
    ones = np.ones(8, np.float32)
    with pytest.raises(TypeError, match="missing"):
        g.run(x=ones)
    with pytest.raises(TypeError, match="unknown"):
        g.run(x=ones, y=ones, q=ones)
    with pytest.raises(ValueError, match="takes float32"):
        g.run(x=np.ones(9, np.float32), y=ones)
    with pytest.raises(ValueError, match="takes float32"):
        g.run(x=cb.asarray(np.ones(8)), y=ones)      # float64 Array
    assert_same(g.run(x=ones, y=ones)["m"], np.ones(8, bool))  # still fine


@pytest.mark.parametrize("fuse", [False, True])
def test_failures_flow_through_a_replay(fuse):
    # Fused, the sqrt runs in the task of its chain, x * x + y * y first.
    g = make_graph(64, 1.0, fuse)
    task = "fused" if fuse else "sqrt"
    assert (g.fused_groups[:5] == (0,) * 5) == fuse
    faults.inject_fault(task, nth=1)
    try:
        out = g.run(x=np.ones(64, np.float32), y=np.ones(64, np.float32))
        if fuse:   # z is the fused task's own result
            with pytest.raises(cb.DeviceError) as info:
                out["z"].numpy()
            assert info.value.task == task
        for name in ("w", "m") if fuse else ("z", "w", "m"):
            # all downstream of the sqrt
            with pytest.raises(cb.DependencyError) as info:
                out[name].numpy()
            assert isinstance(info.value.__cause__, cb.DeviceError)
            assert info.value.__cause__.task == task
    finally:
        faults.clear_faults()
    assert_same(g.run(x=np.zeros(64, np.float32),
                      y=np.zeros(64, np.float32))["z"],
                np.ones(64, np.float32))


def test_nodes_and_edges():
    g = make_graph(8, 1.0)
    nodes = g.nodes
    assert [n["op"] for n in nodes[:4]] == ["multiply", "multiply", "add",
                                           "sqrt"]
    assert all(n["shape"] == (8,) for n in nodes)
    assert {n["dtype"] for n in nodes} >= {"float32", "float64", "bool"}
    edges = g.edges
    assert ("x", 0, 0) in edges and ("y", 1, 1) in edges
    for src, dst, value in edges:
        assert isinstance(src, str) or src < dst   # recorded order
        assert value in nodes[dst]["inputs"]


def test_to_dot_is_valid(tmp_path):
    g = make_graph(8, 1.0)
    path = tmp_path / "g.dot"
    text = g.to_dot(str(path), device="cpu")
    assert path.read_text() == text
    assert text.startswith("digraph") and text.rstrip().endswith("}")
    declared = set(re.findall(r"^\s+(\w+) \[", text, re.M))
    for a, b in re.findall(r"^\s+(\w+) -> (\w+)", text, re.M):
        assert a in declared and b in declared
    assert "sqrt\\nfloat32 (8,)\\ncpu" in text
    # The fused chains as clusters of their nodes.
    clusters = re.findall(r"subgraph cluster_fused(\d+) \{[^}]*\}", text)
    assert sorted(map(int, clusters)) == sorted(
        {k for k in g.fused_groups if k >= 0})
    assert "cluster" not in make_graph(8, 1.0, fuse=False).to_dot()
    if shutil.which("dot"):
        r = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True)
        assert r.returncode == 0, r.stderr


def chunk_graph(n=4096):
    with cb.Graph() as g:
        x = g.input("x", (n,), cb.float32)
        g.output("y", x * 2 + 1)
    return g


@pytest.mark.parametrize("in_flight", [1, 2, 3])
def test_map_keeps_order_and_bounds_in_flight(in_flight):
    g = chunk_graph()
    batches = [np.full(4096, k, np.float32) for k in range(10)]
    seen = []
    for i, outs in g.map(batches, in_flight=in_flight, progress=False):
        assert_same(outs["y"], batches[i] * 2 + 1)
        seen.append(i)
    assert seen == list(range(10))
    assert 1 <= g.max_in_flight <= in_flight


def test_map_unordered_yields_every_batch():
    g = chunk_graph()
    batches = [{"x": np.full(4096, k, np.float32)} for k in range(12)]
    got = dict(g.map(batches, in_flight=3, ordered=False, progress=False))
    assert sorted(got) == list(range(12))
    for i, outs in got.items():
        assert_same(outs["y"], np.full(4096, 2 * i + 1, np.float32))


def test_map_failures_name_their_batch():
    g = chunk_graph()
    batches = [np.full(4096, k, np.float32) for k in range(6)]
    faults.inject_fault("fused", nth=3)      # the third batch's task
    try:
        done = []
        with pytest.raises(ExceptionGroup) as info:
            for i, outs in g.map(batches, in_flight=1, progress=False):
                done.append(i)
        assert done == [0, 1, 3, 4, 5]
        (exc,) = info.value.exceptions
        assert isinstance(exc, cb.DeviceError) and exc.batch_index == 2
        assert any("batch 2" in note for note in exc.__notes__)
        faults.inject_fault("fused", nth=2)
        with pytest.raises(cb.DeviceError):
            for _ in g.map(batches, in_flight=1, progress=False,
                           stop_on_error=True):
                pass
    finally:
        faults.clear_faults()


def test_map_progress_on_stderr(capsys):
    g = chunk_graph()
    list(g.map([np.ones(4096, np.float32)] * 3, progress=True))
    err = capsys.readouterr().err
    assert "3/3" in err and "batch" in err


def test_map_is_quiet_by_default(capsys):
    g = chunk_graph()
    assert len(list(g.map([np.ones(4096, np.float32)] * 3))) == 3
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def _map_bytes_back(device, batches, to_host):
    """The outputs of g.map over batches on device, and the bytes that
    came back to RAM from device (from any of its members, where device
    is a set of alike devices) before any was read."""
    g = chunk_graph()
    # Copies to the host that earlier work started (those of an earlier
    # test's g.map, or of a wrapped NumPy array a task wrote, freed when
    # the collector breaks its cycle) end before the count starts.
    gc.collect()
    cb.synchronize()
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        outs = [o["y"] for _, o in g.map(batches, device=device,
                                         to_host=to_host)]
        cb.synchronize()
        links = cb.stats()["links"]
    finally:
        cb.profiling(was)
    # Links name single devices: a set's transfers come from its members.
    sources = {d.filter_string for d in device.members or (device,)}
    back = sum(link["bytes"] for link in links
               if link["src"] in sources and link["dst"] == "RAM")
    return outs, back


def test_map_brings_outputs_of_host_batches_back(opencl_device):
    batches = [np.full(4096, k, np.float32) for k in range(4)]
    resident = [cb.asarray(b, device=opencl_device) for b in batches]
    out_bytes = 4 * 4096 * 4
    # Host batches: each output is on its way back once submitted.
    outs, back = _map_bytes_back(opencl_device, batches, None)
    assert back == out_bytes
    for k, y in enumerate(outs):
        assert_same(y, batches[k] * 2 + 1)
    # Batches of Arrays: outputs stay on the device unless asked for.
    assert _map_bytes_back(opencl_device, resident, None)[1] == 0
    assert _map_bytes_back(opencl_device, batches, False)[1] == 0
    outs, back = _map_bytes_back(opencl_device, resident, True)
    assert back == out_bytes
    for k, y in enumerate(outs):
        assert_same(y, batches[k] * 2 + 1)


def test_map_bad_arguments():
    g = chunk_graph()
    with pytest.raises(ValueError):
        list(g.map([], in_flight=0))
    two = make_graph(8, 1.0)
    with pytest.raises(TypeError, match="dicts"):
        list(two.map([np.ones(8, np.float32)], progress=False))


def test_a_hundred_thousand_nodes():
    n = 100_000
    a = cb.asarray(np.zeros(8, np.float32), device="cpu")
    with cb.Graph() as g:
        v = g.input("v", (8,), cb.float32)
        fan = [v + float(k) for k in range(4)]   # a fan-out
        w = fan[0] + fan[1] + fan[2] + fan[3]    # 6
        for _ in range(n):
            w = w + 1.0
        g.output("w", w)
    assert len(g.nodes) == n + 7
    assert_same(g.run(v=a)["w"], np.full(8, n + 6.0, np.float32))


@pytest.mark.parametrize("fuse", [False, True])
def test_estimate_from_the_performance_models(fuse):
    n = 1 << 16
    with cb.Graph(fuse=fuse) as g:
        x = g.input("x", (n,), cb.float32)
        a = x * 2.0
        b = x + 1.0
        g.output("y", cb.sqrt(a * b))
    data = cb.asarray(np.ones(n, np.float32), device="cpu")
    for _ in range(100):   # until the history models have their samples
        g.run(x=data)["y"].numpy()
        cb.synchronize()
        e = g.estimate(device="cpu", x=data)
        if e["unknown_nodes"] == 0:
            break
    assert e["unknown_nodes"] == 0
    t = e["node_us"]
    if fuse:   # one task per tile runs all four, priced at the last
        assert g.fused_groups == (0, 0, 0, 0)
        assert t[:3] == [0, 0, 0] and t[3] > 0
        assert e["critical_path_us"] == pytest.approx(t[3])
    else:
        assert len(t) == 4 and all(v > 0 for v in t)
        # a and b are independent; a * b waits for both, sqrt for a * b.
        assert e["critical_path_us"] == pytest.approx(
            max(t[0], t[1]) + t[2] + t[3])
    assert e["total_work_us"] >= e["critical_path_us"] * 0.999
    with pytest.raises(ValueError):
        g.estimate(x=np.ones(3, np.float32))
