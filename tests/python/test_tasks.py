"""@cb.task: Python functions as task-graph nodes on CPU workers.

The decorator's forms; arrays as NumPy views (read-only for In, writable
for Out and InOut, results visible afterwards); return values; futures as
arguments (values and ordering); exceptions as TaskError and their
dependents as DependencyError; functions that release the GIL running on
several workers at once; threads, asyncio, callbacks, cancellation, and
failures reported when nobody retrieved them.
"""

import asyncio
import concurrent.futures as cf
import gc
import threading

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults

from helpers import DEVICES, DTYPES, NO_OPENCL, assert_alive, assert_same, \
    dtype_id, has_opencl, skip_missing

needs_opencl = pytest.mark.skipif(not has_opencl(), reason=NO_OPENCL)


@pytest.fixture(autouse=True)
def _drain_failures():
    """Failures a test provoked and left unretrieved do not leak into the
    next test's cb.synchronize()."""
    yield
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception:
        pass


@pytest.fixture(params=DEVICES)
def dev(request):
    """Where the arrays live (the function always runs on a CPU worker)."""
    skip_missing(request.param)
    return request.param


# ---- functions used by many tests -----------------------------------------

@cb.task
def plus(x, n=1):
    return x + n


@cb.task
def total(*xs):
    return sum(xs)


@cb.task
def fail_with(exc):
    raise exc


@cb.task
def fill(out, value):
    out[...] = value


# ---- the decorator --------------------------------------------------------

def test_bare_decorator():
    @cb.task
    def double(x):
        """Twice x."""
        return 2 * x
    assert double.__name__ == "double" and double.__doc__ == "Twice x."
    assert "double" in double.name and "double" in repr(double)
    fut = double(21)
    assert isinstance(fut, cb.Future) and isinstance(fut, cf.Future)
    assert fut.result(timeout=30) == 42


def test_decorator_with_arguments():
    @cb.task(name="my_task", priority=3, device="cpu")
    def triple(x):
        return 3 * x
    assert triple.name == "my_task"
    assert triple.priority == 3
    assert triple.device == cb.get_device("cpu")
    assert triple(5).result(timeout=30) == 15
    assert cb.task(name="only_name")(lambda: 7)().result(timeout=30) == 7
    assert cb.task(priority=-2)(lambda: 8)().result(timeout=30) == 8


@pytest.mark.parametrize("thing", [42, "f", [print]],
                         ids=repr)
def test_only_callables_become_tasks(thing):
    with pytest.raises(TypeError, match="functions"):
        cb.task(thing)
    with pytest.raises(TypeError, match="functions"):
        cb.task(name="t")(thing)


@pytest.mark.parametrize("device", ["cpu", "cpu:cpu", "cpu:cpu:0",
                                    "device"])
def test_cpu_device_spellings(device):
    if device == "device":
        device = cb.get_device("cpu")
    assert cb.task(device=device)(lambda: 1)().result(timeout=30) == 1


@needs_opencl
@pytest.mark.parametrize("spelling", ["type", "opencl", "type_index",
                                      "device"])
def test_opencl_device_is_a_value_error_at_decoration(spelling):
    # "opencl" names a device set where several are alike (two GPUs): an
    # index names one of them.
    ocl, one = cb.get_device("opencl"), cb.devices("opencl")[0]
    device = {"type": f"opencl:{ocl.type}", "opencl": "opencl",
              "type_index": f"opencl:{one.type}:{one.index}",
              "device": ocl}[spelling]
    with pytest.raises(ValueError, match="CPU workers"):
        @cb.task(device=device)
        def f():
            return 1


@pytest.mark.skipif(bool(cb.devices("gpu")), reason="has a GPU")
def test_missing_device_is_device_not_found_at_decoration():
    with pytest.raises(cb.DeviceNotFoundError):
        cb.task(device="opencl:gpu")(lambda: 1)
    with pytest.raises(ValueError):
        cb.task(device="no such thing")(lambda: 1)


def test_fault_injected_by_task_name():
    @cb.task(name="flaky_task")
    def flaky(x):
        return x * 2
    faults.inject_fault("flaky_task", nth=2,
                        cl_status="CL_OUT_OF_RESOURCES")
    assert flaky(1).result(timeout=30) == 2
    f = flaky(2)
    dependent = plus(f)
    with pytest.raises(cb.DeviceError) as info:
        f.result(timeout=30)
    assert info.value.cl_status == "CL_OUT_OF_RESOURCES"
    assert info.value.task == "flaky_task"
    with pytest.raises(cb.DependencyError) as dep:
        dependent.result(timeout=30)
    assert isinstance(dep.value.__cause__, cb.DeviceError)
    assert flaky(3).result(timeout=30) == 6     # faults are one-shot


# ---- arrays as views ------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (300_001,)], ids=str)
def test_views_have_the_arrays_data(dev, dtype, shape):
    rng = np.random.default_rng(3)
    x = (rng.integers(0, 2, shape).astype(bool) if dtype == np.bool_
         else rng.integers(-100, 100, shape).astype(dtype))
    a = cb.asarray(x, device=dev)

    @cb.task
    def inspect(v):
        return v.dtype, v.shape, v.flags.writeable, v.copy()
    dt, sh, writable, copy = inspect(a).result(timeout=60)
    assert (dt, sh, writable) == (np.dtype(dtype), shape, False)
    np.testing.assert_array_equal(copy, x)


def test_in_views_are_read_only():
    @cb.task
    def scribble(x):
        x[0] = 1

    a = cb.asarray(np.zeros(4))
    f = scribble(a)
    g = scribble(cb.In(a))
    for fut in (f, g):
        with pytest.raises(cb.TaskError) as info:
            fut.result(timeout=30)
        assert isinstance(info.value.__cause__, ValueError)
        assert "read-only" in str(info.value.__cause__)
    assert_same(a, np.zeros(4))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_out_and_inout_are_written(dev, dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    a = cb.asarray(x, device=dev)
    out = cb.empty((3, 4), dtype=dtype, device=dev)
    acc = cb.asarray(x.copy(), device=dev)

    @cb.task
    def work(src, dst, both):
        assert dst.flags.writeable and both.flags.writeable
        if dst.dtype == np.bool_:
            dst[...] = ~src
            both[...] = src & both
        else:
            dst[...] = src * 2
            both += src
    work(a, cb.Out(out), cb.InOut(acc)).result(timeout=30)
    if dtype == np.bool_:
        assert_same(out, ~x)
        assert_same(acc, x)
    else:
        assert_same(out, x * 2)
        assert_same(acc, x + x)
    assert_same(a, x)


def test_results_flow_to_element_wise_operations_on_the_device(dev):
    n = 300_001                           # several tiles
    x = np.linspace(0, 1, n)
    a = cb.asarray(x, device=dev) * 2.0   # written on the device
    out = cb.empty(n, dtype=cb.float64, device=dev)

    @cb.task
    def shift(src, dst):
        dst[:] = src + 1

    shift(a, cb.Out(out))
    b = cb.sqrt(out)                      # ordered after the task
    assert_same(b, np.sqrt(x * 2 + 1), rtol=1e-15)
    fill(cb.InOut(out), 4.0)
    assert_same(out + 1, np.full(n, 5.0))


def test_arrays_as_keyword_arguments():
    @cb.task
    def kw(*, src, dst, k=3):
        dst[:] = src * k
        return k
    a = cb.asarray(np.arange(5.0))
    out = cb.zeros(5)
    assert kw(src=a, dst=cb.Out(out), k=4).result(timeout=30) == 4
    assert_same(out, np.arange(5.0) * 4)


def test_out_with_a_numpy_array_writes_into_it():
    target = np.zeros(6)
    fill(cb.Out(target), 2.5).result(timeout=30)
    np.testing.assert_array_equal(target, np.full(6, 2.5))
    acc = np.arange(6.0)

    @cb.task
    def bump(v):
        v += 10
    bump(cb.InOut(acc)).result(timeout=30)
    np.testing.assert_array_equal(acc, np.arange(6.0) + 10)


def test_in_with_a_numpy_array():
    src = np.arange(4.0)

    @cb.task
    def peek(v):
        return v.sum(), v.flags.writeable
    assert peek(cb.In(src)).result(timeout=30) == (6.0, False)
    assert src.flags.writeable          # the caller's array is unchanged


def test_other_arguments_pass_through_unchanged():
    obj = {"k": [1, 2]}
    arr = np.arange(3)

    @cb.task
    def same(a, b, c=None):
        return a, b, c
    got = same(obj, arr, c="x").result(timeout=30)
    assert got[0] is obj and got[1] is arr and got[2] == "x"


def test_no_arguments():
    @cb.task
    def nothing():
        return None
    assert nothing().result(timeout=30) is None


# ---- return values --------------------------------------------------------

@pytest.mark.parametrize("value", [0, -7, 2**70, 3.25, float("nan"), "s",
                                   None, (1, "a"), np.float32(1.5),
                                   np.arange(4)],
                         ids=lambda v: type(v).__name__)
def test_return_values(value):
    @cb.task
    def give(v):
        return v
    got = give(value).result(timeout=30)
    if isinstance(value, np.ndarray):
        assert got is value
    elif isinstance(value, float) and value != value:
        assert got != got
    else:
        assert got == value and type(got) is type(value)


def test_returned_arrays_computed_from_views():
    x = np.arange(1000.0)

    @cb.task
    def stats(v):
        return v.mean(), v * 2, np.cumsum(v)
    mean, doubled, cums = stats(cb.asarray(x)).result(timeout=30)
    assert mean == x.mean()
    np.testing.assert_array_equal(doubled, x * 2)
    np.testing.assert_array_equal(cums, np.cumsum(x))


def test_returned_view_is_a_value():
    a = cb.asarray(np.zeros(10))

    @cb.task
    def same(v):
        return v
    got = same(a).result(timeout=30)
    fill(cb.Out(a), 42.0).result(timeout=30)
    np.testing.assert_array_equal(got, np.zeros(10))


# ---- futures as arguments -------------------------------------------------

def test_chain_of_a_hundred_calls():
    f = plus(0)
    for _ in range(99):
        f = plus(f)
    assert f.result(timeout=60) == 100


def test_chain_keeps_its_order():
    seen = []

    @cb.task
    def record(prev, i):
        seen.append(i)
        return i
    f = None
    for i in range(100):
        f = record(f, i)
    assert f.result(timeout=60) == 99
    assert seen == list(range(100))


def test_fan_in_of_many_futures():
    parts = [plus(i, n=i) for i in range(300)]       # 2 * i each
    assert total(*parts).result(timeout=60) == sum(2 * i for i in range(300))
    half = total(*parts[:150])
    rest = total(*parts[150:])
    assert total(half, rest).result(timeout=60) == 89700


def test_futures_as_keyword_arguments():
    a, b = plus(1), plus(10)
    assert plus(a, n=b).result(timeout=30) == 13


def test_fan_out_then_fan_in():
    root = plus(0, n=5)
    leaves = [plus(root, n=i) for i in range(50)]
    assert total(*leaves).result(timeout=60) == 50 * 5 + sum(range(50))


def test_array_future_as_argument(dev):
    a = cb.asarray(np.arange(5.0), device=dev) * 3

    @cb.task
    def got(v):
        return v.copy()
    np.testing.assert_array_equal(got(a.future).result(timeout=30),
                                  np.arange(5.0) * 3)


@needs_opencl
def test_kernel_future_as_argument():
    k = cb.Kernel("__kernel void k1(__global float *x) "
                  "{ x[get_global_id(0)] = 1.0f; }", "k1")
    y = cb.empty(4, dtype=cb.float32, device="opencl")
    launch = k(4, cb.Out(y))

    @cb.task
    def after(v):
        return v
    assert after(launch).result(timeout=30) is None


# ---- exceptions -----------------------------------------------------------

def test_exception_becomes_task_error_with_its_cause():
    @cb.task
    def divide(a, b):
        return a / b
    f = divide(1, 0)
    with pytest.raises(cb.TaskError) as info:
        f.result(timeout=30)
    e = info.value
    assert isinstance(e, cb.CambrianError)
    assert isinstance(e.__cause__, ZeroDivisionError)
    assert e.__cause__.__traceback__ is not None
    # The traceback reaches the line of the function that raised.
    tb = e.__cause__.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "divide"
    assert "divide" in str(e) and "ZeroDivisionError" in str(e)
    assert isinstance(f.exception(), cb.TaskError)
    assert f.exception().__cause__ is e.__cause__


@pytest.mark.parametrize("exc", [KeyError("k"), RuntimeError("r"),
                                 SystemExit(3), KeyboardInterrupt()],
                         ids=lambda e: type(e).__name__)
def test_any_exception_stays_in_its_task(exc):
    f = fail_with(exc)
    with pytest.raises(cb.TaskError) as info:
        f.result(timeout=30)
    assert info.value.__cause__ is exc
    assert plus(1).result(timeout=30) == 2       # workers carry on


def test_dependent_task_fails_with_dependency_error():
    f = fail_with(ValueError("first"))
    g = plus(f)
    h = plus(g)                                   # two levels down
    for dep in (g, h):
        with pytest.raises(cb.DependencyError) as info:
            dep.result(timeout=30)
        cause = info.value.__cause__
        assert isinstance(cause, cb.TaskError)
        assert isinstance(cause.__cause__, ValueError)
        assert str(cause.__cause__) == "first"
    with pytest.raises(cb.TaskError):
        f.result(timeout=30)


def test_dependent_element_wise_operation_and_kernel(dev):
    @cb.task
    def broken(out):
        out[:2] = 1.0
        raise RuntimeError("half done")

    out = cb.zeros(8, dtype=cb.float32, device=dev)
    f = broken(cb.Out(out))
    y = out * 2
    with pytest.raises(cb.DependencyError) as info:
        y.numpy()
    assert isinstance(info.value.__cause__, cb.TaskError)
    assert isinstance(info.value.__cause__.__cause__, RuntimeError)
    with pytest.raises(cb.TaskError):
        out.numpy()                               # poisoned
    if has_opencl():
        k = cb.Kernel("__kernel void twice_k(__global float *x) "
                      "{ x[get_global_id(0)] *= 2.0f; }", "twice_k")
        launch = k(8, cb.InOut(out))
        with pytest.raises(cb.DependencyError) as kinfo:
            launch.result(timeout=30)
        assert isinstance(kinfo.value.__cause__, cb.TaskError)
    with pytest.raises(cb.TaskError):
        f.result(timeout=30)
    # Written again by a call that succeeds, the array is good.
    fill(cb.Out(out), 3.0)
    assert_same(out * 2, np.full(8, 6, np.float32))


def test_failed_element_wise_input_is_a_dependency_error(dev):
    faults.inject_fault("add", device=dev, nth=1)
    bad = cb.asarray(np.arange(4.0), device=dev) + 1

    @cb.task
    def use(v):
        return v.sum()
    f = use(bad)
    with pytest.raises(cb.DependencyError) as info:
        f.result(timeout=30)
    assert isinstance(info.value.__cause__, cb.DeviceError)
    g = use(bad.future)
    with pytest.raises(cb.DependencyError):
        g.result(timeout=30)


def test_unretrieved_task_error_is_logged(caplog):
    f = fail_with(ValueError("nobody looks"))
    while not f.done():           # resolved here: no other thread holds it
        pass
    with caplog.at_level("ERROR", logger="cambrian"):
        del f
        gc.collect()
    assert "never retrieved" in caplog.text
    assert "nobody looks" in caplog.text


def test_retrieved_task_error_is_not_logged(caplog):
    f = fail_with(ValueError("seen"))
    with pytest.raises(cb.TaskError):
        f.result(timeout=30)
    with caplog.at_level("ERROR", logger="cambrian"):
        del f
        gc.collect()
    assert "never retrieved" not in caplog.text


def test_synchronize_raises_unretrieved_task_errors():
    f = fail_with(KeyError("lost"))
    with pytest.raises(cb.TaskError) as info:
        cb.synchronize()
    assert isinstance(info.value.__cause__, KeyError)
    cb.synchronize()                               # reported once
    assert f.exception() is info.value
    futs = [fail_with(ValueError(str(i))) for i in range(2)]
    with pytest.raises(ExceptionGroup) as group:
        cb.synchronize()
    assert len(group.value.exceptions) == 2
    assert all(isinstance(e, cb.TaskError) for e in group.value.exceptions)
    assert sorted(str(e.__cause__) for e in group.value.exceptions) == \
        ["0", "1"]
    del futs


@pytest.mark.parametrize("how", ["done", "wait", "callback"])
def test_synchronize_raises_failures_only_resolved(how):
    f = fail_with(ValueError("resolved, not retrieved"))
    if how == "done":
        while not f.done():
            pass
    elif how == "wait":
        cf.wait([f], timeout=30)
    else:
        ev = threading.Event()
        f.add_done_callback(lambda _: ev.set())
        assert ev.wait(30)
    try:
        with pytest.raises(cb.TaskError):
            cb.synchronize()
    finally:
        f.exception()


def test_synchronize_skips_retrieved_task_errors():
    f = fail_with(ValueError("x"))
    with pytest.raises(cb.TaskError):
        f.result(timeout=30)
    cb.synchronize()


# ---- several workers ------------------------------------------------------

@pytest.fixture
def two_cpu_workers():
    """A runtime of two CPU workers and no OpenCL device; the usual one
    afterwards."""
    try:
        cb.synchronize()
    except Exception:
        pass
    cb.shutdown()
    cb.init(ncpus=2, devices="none")
    try:
        assert cb.config()["ncpus"] == 2
        yield
    finally:
        cb.shutdown()
        cb.init()
        assert_alive()


def test_gil_releasing_functions_run_at_once(two_cpu_workers):
    # Each call waits (GIL released) until the other one has started: they
    # can only both finish if two workers run them at the same time.
    meet = threading.Barrier(2)

    @cb.task
    def together(i):
        meet.wait(timeout=60)
        return i, threading.get_ident()
    fs = [together(i) for i in range(2)]
    got = [f.result(timeout=120) for f in fs]
    assert [i for i, _ in got] == [0, 1]
    assert got[0][1] != got[1][1]                  # two worker threads


def test_numpy_on_several_workers(two_cpu_workers):
    rng = np.random.default_rng(4)
    m = [rng.standard_normal((1000, 1000)) for _ in range(2)]
    meet = threading.Barrier(2)

    @cb.task
    def dot(a, b):
        meet.wait(timeout=60)
        return np.dot(a, b)
    fs = [dot(cb.asarray(m[i]), cb.asarray(m[1 - i])) for i in range(2)]
    for i, f in enumerate(fs):
        np.testing.assert_allclose(f.result(timeout=120),
                                   np.dot(m[i], m[1 - i]), rtol=1e-10)

    @cb.task
    def nap(x):
        import time
        time.sleep(0.05)
        return x
    assert total(*[nap(i) for i in range(8)]).result(timeout=60) == 28


# ---- threads, asyncio, callbacks, cancellation ----------------------------

def test_calls_from_eight_threads():
    errors, sums = [], {}

    @cb.task
    def scaled(v, k):
        return float(v.sum()) * k

    def worker(t):
        try:
            a = cb.asarray(np.full(100, float(t)))
            fs = [scaled(a, k) for k in range(30)]
            chain = plus(0)
            for _ in range(20):
                chain = plus(chain)
            sums[t] = (sum(f.result(timeout=60) for f in fs),
                       chain.result(timeout=60))
        except BaseException as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    assert sums == {t: (100.0 * t * sum(range(30)), 21) for t in range(8)}


def test_await_a_call():
    async def main():
        assert await plus(41) == 42
        x = await plus(plus(1), n=plus(2))
        with pytest.raises(cb.TaskError) as info:
            await fail_with(OSError("awaited"))
        assert isinstance(info.value.__cause__, OSError)
        return x
    assert asyncio.run(main()) == 5


def test_gather_a_thousand_calls():
    async def main():
        return await asyncio.gather(*[plus(i, n=i) for i in range(1000)])
    assert asyncio.run(main()) == [2 * i for i in range(1000)]


def test_add_done_callback():
    done = threading.Event()
    seen = []

    def callback(f):
        seen.append((f.result(), f.done()))
        done.set()
    f = plus(9)
    f.add_done_callback(callback)
    assert done.wait(30)
    assert seen == [(10, True)]
    failed = threading.Event()
    errs = []
    g = fail_with(ValueError("cb"))
    g.add_done_callback(lambda fut: (errs.append(fut.exception()),
                                     failed.set()))
    assert failed.wait(30)
    assert isinstance(errs[0], cb.TaskError)
    late = []
    f.add_done_callback(late.append)               # already done: at once
    assert late == [f]


def test_cancel_a_call_waiting_behind_a_slow_one():
    gate, started = threading.Event(), threading.Event()

    @cb.task
    def slow():
        started.set()
        gate.wait(60)
        return 1

    out = cb.zeros(4)
    try:
        s = slow()
        w = plus(s)                  # waits for slow
        waits_too = fill(cb.Out(out), 7.0)
        w2 = plus(w)
        assert started.wait(60)
        assert s.cancel() is False   # already running
        assert w.cancel() is True and w.cancelled()
        assert w.done()
    finally:
        gate.set()
    assert s.result(timeout=60) == 1
    with pytest.raises(cf.CancelledError):
        w.result(timeout=60)
    with pytest.raises(cb.DependencyError) as info:
        w2.result(timeout=60)
    assert isinstance(info.value.__cause__, cf.CancelledError)
    assert waits_too.result(timeout=60) is None
    assert_same(out, np.full(4, 7.0))
    assert w.cancel() is True        # still cancelled
    assert plus(1).cancel() in (True, False)
    cb.synchronize()                 # a cancellation is not a failure


def test_cancel_poisons_what_the_call_writes():
    gate = threading.Event()

    @cb.task
    def hold():
        gate.wait(60)

    out = cb.zeros(4)
    try:
        h = hold()
        c = fill(cb.Out(out), h)     # waits for hold
        assert c.cancel() is True
    finally:
        gate.set()
    h.result(timeout=60)
    with pytest.raises(cf.CancelledError):
        out.numpy()
    with pytest.raises(cb.DependencyError) as info:
        (out + 1).numpy()
    assert isinstance(info.value.__cause__, cf.CancelledError)
    fill(cb.Out(out), 1.0)           # written again: good again
    assert_same(out, np.ones(4))


def test_cancel_after_completion_returns_false():
    f = plus(1)
    assert f.result(timeout=30) == 2
    assert f.cancel() is False and not f.cancelled()


@needs_opencl
def test_arrays_on_an_opencl_device_in_scope():
    with cb.device_scope("opencl"):
        a = cb.asarray(np.arange(6.0)) + 1        # on the OpenCL device
        out = cb.empty(6)

        @cb.task
        def copy_twice(src, dst):
            dst[:] = src * 2
        copy_twice(a, cb.Out(out)).result(timeout=30)
        b = out - 1                                # back on the device
    assert_same(b, (np.arange(6.0) + 1) * 2 - 1)
