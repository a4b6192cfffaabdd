"""Traces (Chrome trace event JSON), statistics and profiling."""

import json
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing



def read(path):
    with open(path) as f:
        return json.load(f)


def slices(doc, cat="task"):
    return [e for e in doc["traceEvents"]
            if e.get("ph") == "X" and e.get("cat") == cat]


def test_trace_has_chrome_fields_and_every_task(tmp_path, device):
    dev = cb.get_device(device)
    path = tmp_path / "run.json"
    a = cb.asarray(np.arange(1 << 18, dtype=np.float32), device=dev)
    a.numpy()
    with cb.trace(str(path)):
        b = a * 2
        c = b + 1
        c.numpy()
    doc = read(path)
    assert isinstance(doc["traceEvents"], list)
    tasks = slices(doc)
    ntiles = len([e for e in tasks if e["name"] == "multiply"])
    assert ntiles >= 1
    assert len([e for e in tasks if e["name"] == "add"]) == ntiles
    assert doc["otherData"]["tasks"] == len(tasks) == 2 * ntiles
    for e in tasks:
        for key in ("name", "ph", "ts", "dur", "pid", "tid"):
            assert key in e
        assert e["dur"] > 0 and e["ts"] >= 0
        assert e["args"]["queued_us"] >= 0
    names = {e["args"]["name"] for e in doc["traceEvents"]
             if e.get("ph") == "M" and e["name"] == "process_name"}
    # A row per device; a device set's are its members'.
    for d in dev.members or (dev,):
        assert d.filter_string in names
    # Each add read what a multiply wrote: flows start and finish.
    starts = [e for e in doc["traceEvents"] if e.get("ph") == "s"]
    ends = [e for e in doc["traceEvents"] if e.get("ph") == "f"]
    assert len(starts) == len(ends) >= ntiles
    np.testing.assert_array_equal(c.numpy(), np.arange(1 << 18) * 2.0 + 1)


def test_trace_records_tasks_and_kernels_of_threads(tmp_path):
    path = tmp_path / "threads.json"

    @cb.task(name="total")
    def total(x):
        return float(x.sum())

    results = []
    with cb.trace(str(path)):
        def work(k):
            x = cb.full(1000, k, dtype=cb.float64, device="cpu")
            results.append(total(x).result())
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [0.0, 1000.0, 2000.0, 3000.0]
    doc = read(path)
    ops = doc["otherData"]["operations"]
    assert ops["total"]["tasks"] == 4
    assert ops["fill"]["tasks"] == 4


def test_failed_tasks_are_marked(tmp_path):
    path = tmp_path / "failed.json"
    cb.testing.inject_fault("sqrt", nth=1)
    try:
        with cb.trace(str(path)):
            b = cb.sqrt(cb.asarray(np.ones(8)))
            with pytest.raises(cb.DeviceError):
                b.numpy()
    finally:
        cb.testing.clear_faults()
    (e,) = [e for e in slices(read(path)) if e["name"] == "sqrt"]
    assert e["args"]["failed"] is True


def test_stats_count_while_profiling():
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        a = cb.asarray(np.ones(1 << 16, np.float32), device="cpu")
        for _ in range(5):
            a = a + 1
        a.numpy()
        cb.synchronize()  # callbacks, which count, may end after reads
        s = cb.stats()
    finally:
        cb.profiling(was)
    assert s["profiling"] is True
    assert s["operations"]["add"]["tasks"] >= 5
    assert s["operations"]["add"]["busy_s"] > 0
    cpu = [w for w in s["workers"] if w["device"] == "cpu:cpu:0"]
    assert cpu and sum(w["tasks"] for w in cpu) >= 5
    for w in s["workers"]:
        assert set(w) >= {"worker", "name", "device", "tasks", "busy_s",
                          "sleeping_s", "total_s"}


def test_profiling_is_off_by_default():
    assert cb.profiling() is False
    s = cb.stats(reset=True)
    assert s["profiling"] is False


def test_plot_trace(tmp_path):
    pytest.importorskip("matplotlib")
    path, png = tmp_path / "p.json", tmp_path / "p.png"
    with cb.trace(str(path)):
        (cb.arange(100000, dtype=cb.float32) * 3).numpy()
    cb.plot_trace(str(path), str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_trace_leaves_matplotlib_alone(tmp_path):
    # The user's backend stays, and pyplot (global figures) is not used.
    pytest.importorskip("matplotlib")
    import subprocess
    import sys
    code = f"""
import sys
import matplotlib
matplotlib.use("svg")
import cambrian as cb
with cb.trace({str(tmp_path / "t.json")!r}):
    (cb.arange(1000, dtype=cb.float32) + 1).numpy()
cb.plot_trace({str(tmp_path / "t.json")!r}, {str(tmp_path / "t.png")!r})
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["svg", "False"]
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
