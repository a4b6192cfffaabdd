"""What users and their tools see of cambrian: dir() and __all__,
signatures, docstrings, reprs that never wait, HTML views for notebooks,
the typed usage sample and the logger."""

import concurrent.futures as cf
import inspect
import json
import logging
import os
import runpy
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest

import cambrian as cb
import cambrian._display as display
from cambrian import _core

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DTYPE_ALIASES = {"bool_", "bool", "int8", "int16", "int32", "int64", "uint8",
                 "uint16", "uint32", "uint64", "float16", "float32",
                 "float64", "complex64", "complex128"}
# The Array API's constants: plain numbers (and None), documented on the
# API page.
CONSTANTS = {"e", "pi", "inf", "nan", "newaxis"}


def public_names():
    return sorted(set(cb.__all__))


# ---- names --------------------------------------------------------------

def test_all_and_dir_agree():
    names = {n for n in dir(cb) if not n.startswith("_")
             and not isinstance(getattr(cb, n), types.ModuleType)}
    # The Array API names one public function with underscores.
    assert names | {"__array_namespace_info__"} == set(cb.__all__)
    assert len(cb.__all__) == len(set(cb.__all__))


@pytest.mark.parametrize("name", ["sum", "min", "max"])
def test_reductions_are_attributes(name):
    assert name in dir(cb) and name in vars(cb)
    assert getattr(cb, name).__module__ == "cambrian._reductions"
    assert float(getattr(cb, name)(cb.asarray([1.0, 2.0]))) == \
        {"sum": 3.0, "min": 1.0, "max": 2.0}[name]


def test_star_import_gives_every_name():
    ns = {}
    exec("from cambrian import *", ns)
    assert set(cb.__all__) <= set(ns)


# ---- signatures ------------------------------------------------------------

def callables():
    for name in public_names():
        obj = getattr(cb, name)
        if name in DTYPE_ALIASES or not callable(obj):
            continue
        yield f"cb.{name}", obj
    for name, obj in vars(cb.Array).items():
        if callable(obj) and (not name.startswith("_")
                              or name in ("__array__", "_repr_html_")):
            yield f"Array.{name}", obj
    for name, obj in vars(_core).items():
        if callable(obj) and not isinstance(obj, type):
            yield f"_core.{name}", obj
    for cls in (cb.Future, cb.Graph, cb.Kernel):
        for name, obj in vars(cls).items():
            if callable(obj) and not name.startswith("_"):
                yield f"{cls.__name__}.{name}", obj


@pytest.mark.parametrize("name,obj", list(callables()),
                         ids=[n for n, _ in callables()])
def test_signature(name, obj):
    sig = inspect.signature(obj)
    assert isinstance(sig, inspect.Signature)


def test_c_signatures_name_their_parameters():
    assert str(inspect.signature(cb.Array.sum)) == "(self, /, axis=None)"
    assert str(inspect.signature(cb.Array.to_device)) == \
        "(self, device, /, *, stream=None)"
    assert str(inspect.signature(_core.watch)) == \
        "(source, token, queue=0, /)"
    assert list(inspect.signature(cb.Array.__array__).parameters) == \
        ["self", "dtype", "copy"]
    # A bound method drops self, as for Python methods.
    assert str(inspect.signature(cb.ones(2).mean)) == "(axis=None)"


def test_signature_of_exceptions():
    assert list(inspect.signature(cb.DeviceError).parameters) == ["args"]


# ---- docstrings ------------------------------------------------------------

def documented():
    for name in public_names():
        obj = getattr(cb, name)
        if name in DTYPE_ALIASES or name in CONSTANTS:
            continue
        yield name, obj


@pytest.mark.parametrize("name,obj", list(documented()),
                         ids=[n for n, _ in documented()])
def test_docstring(name, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"cb.{name} has no docstring"
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return
    assert "Examples" in doc and ">>>" in doc, name
    if not isinstance(obj, type):
        params = [p for p in inspect.signature(obj).parameters]
        if params:
            assert "Parameters" in doc, name
            for p in params:
                assert p.lstrip("*") in doc, (name, p)


@pytest.mark.parametrize("name", ["numpy", "to_device", "astype", "copy",
                                  "wait", "sum", "min", "max", "mean",
                                  "dot"])
def test_array_method_docstrings(name):
    doc = getattr(cb.Array, name).__doc__
    for part in ("Returns", "Raises", "Examples", ">>>"):
        assert part in doc, (name, part)


# ---- reprs ---------------------------------------------------------------

@pytest.fixture
def held():
    """An array whose writer, a task, waits for the event given back."""
    gate = threading.Event()

    @cb.task
    def hold(out):
        gate.wait(30)
        out[:] = 1.0

    a = cb.empty(4)
    fut = hold(cb.Out(a))
    yield a, fut, gate
    gate.set()
    fut.result()


def test_array_repr_pending_does_not_wait(held):
    a, fut, gate = held
    t0 = time.monotonic()
    r = repr(a)
    assert time.monotonic() - t0 < 5
    assert r == ("cambrian.Array(<pending>, shape=(4,), dtype=float64, "
                 "device='auto')")
    assert not gate.is_set()
    gate.set()
    a.wait()
    assert repr(a).startswith("cambrian.Array([1., 1., 1., 1.], shape=(4,)")


def test_array_repr_ready_shows_data(device):
    a = cb.asarray(np.array([[1, 2], [3, 4]], dtype=np.int32), device=device)
    a.wait()
    r = repr(a)
    assert r.startswith("cambrian.Array([[1, 2],")
    assert "shape=(2, 2), dtype=int32" in r
    assert f"device='{cb.get_device(device).filter_string}'" in r


def test_array_repr_of_a_large_array_is_a_summary():
    a = cb.arange(100_000)
    a.wait()
    r = repr(a)
    assert "..." in r and len(r) < 300


def test_array_repr_failed_shows_the_error_not_retrieved():
    import cambrian.testing
    cambrian.testing.inject_fault("negative", nth=1)
    try:
        a = -cb.ones(8)
        cb.wait([a])
        r = repr(a)
        assert r.startswith("cambrian.Array(<failed: DeviceError: ")
        assert "CL_OUT_OF_RESOURCES" in r and "shape=(8,)" in r
        # Looking is not retrieving: synchronize() still reports it.
        with pytest.raises(cb.DeviceError):
            cb.synchronize()
    finally:
        cambrian.testing.clear_faults()


def test_array_repr_of_a_dependent_and_of_a_cancelled_array(held):
    a, fut, gate = held
    b = a + 1
    c = b * 2
    assert b.future.cancel()
    gate.set()
    c.future.exception()
    assert "<failed: CancelledError" in repr(b)
    assert "<failed: DependencyError" in repr(c)


def test_array_repr_html(held):
    a, fut, gate = held
    assert "pending" in a._repr_html_()
    gate.set()
    a.wait()
    html = a._repr_html_()
    assert "<table" in html and "float64" in html and "(4,)" in html
    assert "[1., 1., 1., 1.]" in html


def test_array_peek_states(held):
    a, fut, gate = held
    assert a._peek() == ("pending", None)
    gate.set()
    a.wait()
    state, data = a._peek()
    assert state == "ready" and list(data) == [1.0] * 4


def test_future_repr_tells_the_state(held):
    a, fut, gate = held
    deadline = time.monotonic() + 30
    while not fut.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "state=running" in repr(fut)
    b = a * 2
    assert "state=pending" in repr(b.future)
    c = b + 1
    assert c.future.cancel()
    assert "state=cancelled" in repr(c.future)
    gate.set()
    b.wait()
    # Done, though nobody has looked: the repr finds it out.
    assert "state=finished returned Array" in repr(b.future)


def test_future_repr_of_a_failure():
    @cb.task
    def boom():
        raise KeyError("x")
    f = boom()
    cb.wait([f])
    assert "state=finished raised TaskError" in repr(f)
    f.exception()


def test_future_is_generic():
    alias = cb.Future[cb.Array]
    assert alias.__origin__ is cb.Future
    assert isinstance(cb.ones(1).future, cf.Future)


def test_device_repr_html():
    html = cb.get_device("cpu")._repr_html_()
    assert "cpu:cpu:0" in html and "<table" in html


def graph():
    with cb.Graph() as g:
        x = g.input("x", (4,), cb.float32)
        g.output("y", cb.sqrt(x * x + 1.0))
    return g


def test_graph_repr():
    assert repr(graph()) == ("<cambrian.Graph: 1 input(s) ['x'], 3 node(s), "
                             "1 output(s) ['y']>")


def test_graph_repr_html_without_graphviz(monkeypatch):
    monkeypatch.setattr(display.shutil, "which", lambda name: None)
    html = graph()._repr_html_()
    assert "digraph cambrian" in html and "Graphviz" in html


def test_graph_repr_html_draws_svg_with_graphviz(tmp_path, monkeypatch):
    # A stand-in for Graphviz's dot that answers -Tsvg with an SVG.
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\ncat > /dev/null\n"
                    "echo '<?xml version=\"1.0\"?><svg id=\"drawn\"></svg>'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    html = graph()._repr_html_()
    assert '<svg id="drawn">' in html and "<?xml" not in html


def test_stats_repr_html():
    was = cb.profiling()
    cb.profiling(True)
    try:
        (cb.ones(1000) * 3).wait()
        st = cb.stats(reset=True)
    finally:
        cb.profiling(was)
    assert isinstance(st, dict)
    html = st._repr_html_()
    assert "multiply" in html and "<table" in html


# ---- the typed usage sample and the logger --------------------------------

def test_typed_usage_sample_runs():
    runpy.run_path(os.path.join(ROOT, "tests", "typing", "usage.py"),
                   run_name="__main__")


@pytest.mark.parametrize("value,level", [
    ("1", logging.INFO), ("info", logging.INFO), ("2", logging.DEBUG),
    ("DEBUG", logging.DEBUG), ("warning", logging.WARNING),
    ("yes", logging.INFO), ("0", logging.NOTSET), ("", logging.NOTSET)])
def test_cambrian_verbose_sets_the_level(value, level):
    code = ("import logging, cambrian; "
            "lg = logging.getLogger('cambrian'); "
            "print(lg.level, len(lg.handlers))")
    env = dict(os.environ, CAMBRIAN_VERBOSE=value)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    got, handlers = map(int, r.stdout.split())
    assert got == level
    assert handlers == (0 if level == logging.NOTSET else 1)


def test_cambrian_verbose_keeps_the_application_s_logging():
    code = ("import logging; logging.basicConfig(); import cambrian; "
            "print(len(logging.getLogger('cambrian').handlers))")
    env = dict(os.environ, CAMBRIAN_VERBOSE="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr


def test_starpu_messages_go_to_the_cambrian_starpu_logger(tmp_path):
    # A fresh cache makes StarPU calibrate the bus, and say so once it
    # is not silenced: the words reach logging, none reaches stderr raw.
    code = (
        "import logging, cambrian as cb\n"
        "got = []\n"
        "class Keep(logging.Handler):\n"
        "    def emit(self, record): got.append(record)\n"
        "logging.getLogger('cambrian.starpu').addHandler(Keep())\n"
        "cb.init(ncpus=1, devices='none')\n"
        "(cb.ones(10) + 1).numpy()\n"
        "cb.shutdown()\n"
        "print(len(got), all(r.name == 'cambrian.starpu' for r in got))\n"
        "print(' | '.join(r.levelname + ' ' + r.getMessage().strip()\n"
        "                 for r in got).replace('\\n', ' '))\n")
    env = dict(os.environ, CAMBRIAN_VERBOSE="1",
               XDG_CACHE_HOME=str(tmp_path))
    env.pop("STARPU_SILENT", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    if not cb.config()["starpu_messages"]:
        pytest.skip("this StarPU prints its messages itself")
    count, named = r.stdout.splitlines()[0].split()
    assert int(count) >= 1 and named == "True", r.stdout + r.stderr
    # Among them (a machine may have more to say first), the bus.
    assert "bus" in r.stdout.splitlines()[1], r.stdout
    raw = [ln for ln in r.stderr.splitlines() if ln.startswith("[starpu]")]
    assert raw == [], r.stderr


def test_config_says_what_starpu_can_do():
    cfg = cb.config()
    assert isinstance(cfg["opencl_async"], bool)
    assert isinstance(cfg["starpu_messages"], bool)
    import cambrian.__main__ as main
    import io
    out = io.StringIO()
    main.info(out=out)
    line = "OpenCL codelets: " + ("asynchronous" if cfg["opencl_async"]
                                  else "synchronous")
    assert line in out.getvalue()
