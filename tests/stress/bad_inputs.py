"""Bad inputs: misuse of every public call, each expected to raise the
exception the contract names (ValueError, TypeError, OverflowError,
DeviceNotFoundError, KernelBuildError...) at the call, and never to crash,
hang or leave the runtime unable to compute. Each case is one check; each
group ends with a check that the runtime still gives NumPy's values.
"""

import concurrent.futures as cf
import threading

import numpy as np

import cambrian as cb
import cambrian.testing as faults

from harness import alive

# Misuse found at the call, where the contract does not say which of them.
MISUSE = (TypeError, ValueError, OverflowError)

UNSUPPORTED = [np.dtype(">f2"), np.clongdouble, np.longdouble,
               np.dtype(">f8"), np.dtype(">i4"), np.dtype(">c8")]


def _devices():
    return [d for d in ("cpu", "opencl") if cb.devices(d)]


def creation_cases():
    for dev in _devices():
        for t in UNSUPPORTED:
            x = np.ones(4, dtype=t)
            name = np.dtype(t).name
            yield (f"asarray({name}, {dev})",
                   lambda x=x, dev=dev: cb.asarray(x, device=dev), TypeError)
            yield (f"asarray(memoryview {name}, {dev})",
                   lambda x=x, dev=dev: cb.asarray(memoryview(x),
                                                   device=dev), TypeError)
            yield (f"asarray({name}, copy=True, {dev})",
                   lambda x=x, dev=dev: cb.asarray(x, device=dev, copy=True),
                   TypeError)
        for obj, exc in [(np.array(["a", "b"]), TypeError),
                         (np.array([b"ab"]), TypeError),
                         (np.array([object(), 1], dtype=object), TypeError),
                         (np.array(["2020-01-01"], dtype="datetime64[D]"),
                          MISUSE),
                         (None, TypeError), (object(), TypeError),
                         ({"a": 1}, TypeError),
                         ([[1, 2], [3]], ValueError),
                         ([1, "x"], MISUSE),
                         (np.ones(2, np.clongdouble), TypeError),
                         ([2 ** 70], (OverflowError, TypeError)),
                         (np.zeros((2,) * 9), ValueError),
                         (np.zeros((1,) * 10), ValueError),
                         ([[[[[[[[[1.0]]]]]]]]], ValueError)]:
            yield (f"asarray({type(obj).__name__} {obj!r:.30}, {dev})",
                   lambda obj=obj, dev=dev: cb.asarray(obj, device=dev), exc)
        for make, label in [(lambda: np.arange(20.0)[::2], "step"),
                            (lambda: np.arange(12, dtype=np.int32)
                             .reshape(3, 4).T, "transpose"),
                            (lambda: np.asfortranarray(
                                np.arange(12.0).reshape(3, 4)), "fortran"),
                            (lambda: np.arange(24.0).reshape(4, 6)[:, 1:3],
                             "columns"),
                            (lambda: np.arange(10, dtype=np.float32)[::-1],
                             "reversed")]:
            yield (f"asarray(non-contiguous {label}, {dev})",
                   lambda make=make, dev=dev: cb.asarray(make(), device=dev),
                   ValueError)
        for fn in (cb.zeros, cb.ones, cb.empty):
            for shape, exc in [((1,) * 9, ValueError), (-1, ValueError),
                               ((3, -2), ValueError), (2.5, TypeError),
                               ("3", TypeError), ((1, None), TypeError),
                               (2 ** 64, MISUSE + (MemoryError,))]:
                yield (f"{fn.__name__}({shape!r}, {dev})",
                       lambda fn=fn, shape=shape, dev=dev: fn(shape,
                                                              device=dev),
                       exc)
            for dt in ("float128", "S3", object, np.longdouble, np.clongdouble,
                       "no such type", 42):
                yield (f"{fn.__name__}(3, dtype={dt!r}, {dev})",
                       lambda fn=fn, dt=dt, dev=dev: fn(3, dtype=dt,
                                                         device=dev),
                       TypeError)
        yield (f"full((1,)*9, 1, {dev})",
               lambda dev=dev: cb.full((1,) * 9, 1.0, device=dev),
               ValueError)
        yield (f"full(3, 'x', {dev})",
               lambda dev=dev: cb.full(3, "x", device=dev), TypeError)
        yield (f"full(3, 1j, float64, {dev})",
               lambda dev=dev: cb.full(3, 1j, dtype=np.float64, device=dev),
               TypeError)
        yield (f"full(3, 2**70, int64, {dev})",
               lambda dev=dev: cb.full(3, 2 ** 70, dtype=np.int64,
                                       device=dev), OverflowError)
        yield (f"arange(0, 10, 0, {dev})",
               lambda dev=dev: cb.arange(0, 10, 0, device=dev), ValueError)
        yield (f"arange(5, longdouble, {dev})",
               lambda dev=dev: cb.arange(5, dtype=np.longdouble, device=dev),
               TypeError)
        yield (f"arange(5, bool, {dev})",
               lambda dev=dev: cb.arange(5, dtype=bool, device=dev),
               TypeError)


def operation_cases():
    for dev in _devices():
        f64 = cb.asarray(np.arange(3.0), device=dev)
        i32 = cb.asarray(np.arange(3, dtype=np.int32), device=dev)
        i64 = cb.asarray(np.arange(3, dtype=np.int64), device=dev)
        b = cb.asarray(np.array([True, False, True]), device=dev)
        shapes = [((3,), (4,)), ((3, 4), (4, 3)), ((12,), (3, 4)),
                  ((0,), (2,)), ((2, 1, 3), (4, 3, 1)), ((0, 5), (5, 0))]
        binary = [cb.add, cb.subtract, cb.multiply, cb.divide, cb.maximum,
                  cb.minimum, cb.less, cb.equal, cb.power]
        for xs, ys in shapes:
            x, y = cb.ones(xs, device=dev), cb.ones(ys, device=dev)
            for fn in binary:
                yield (f"{fn.__name__}{xs}{ys} on {dev}",
                       lambda fn=fn, x=x, y=y: fn(x, y), ValueError)
            yield (f"where{xs}{ys} on {dev}",
                   lambda x=x, y=y: cb.where(x > 0, x, y), ValueError)
            yield (f"numpy operand {xs}{ys} on {dev}",
                   lambda x=x, ys=ys: x + np.ones(ys), ValueError)
        for other in ["x", None, object(), {"a": 1}, b"ab", bytearray(b"ab"),
                      np.clongdouble(1j), [1, 2, 3],
                      np.ones(3, dtype=">f8"), np.ones(3, np.longdouble)]:
            for fn in (cb.add, cb.multiply, cb.maximum):
                # A list of numbers is an operand like an array.
                if isinstance(other, list):
                    continue
                yield (f"{fn.__name__}(array, {type(other).__name__}) "
                       f"on {dev}",
                       lambda fn=fn, other=other: fn(f64, other), TypeError)
            if not isinstance(other, list):
                yield (f"{type(other).__name__} * array on {dev}",
                       lambda other=other: other * f64, TypeError)
        for label, fn, exc in [
                ("int32 + 2**40", lambda: i32 + 2 ** 40, OverflowError),
                ("int32 - 2**33", lambda: i32 - 2 ** 33, OverflowError),
                ("int64 + 2**64", lambda: i64 + 2 ** 64, OverflowError),
                ("maximum(int32, 2**35)", lambda: cb.maximum(i32, 2 ** 35),
                 OverflowError),
                ("bool - bool", lambda: b - b, TypeError),
                ("-bool", lambda: -b, TypeError),
                ("-bool", lambda: -b, TypeError),
                ("subtract(bool, True)", lambda: cb.subtract(b, True),
                 TypeError),
                ("add(1, 2)", lambda: cb.add(1, 2), MISUSE),
                ("sqrt(2.0)", lambda: cb.sqrt(2.0), MISUSE),
                ("sqrt('x')", lambda: cb.sqrt("x"), TypeError),
                ("astype(clongdouble)", lambda: f64.astype(np.clongdouble),
                 TypeError),
                ("astype('float128')", lambda: f64.astype("float128"),
                 TypeError),
                ("array + 9-D ndarray",
                 lambda: cb.ones(3, device=dev) + np.ones((1,) * 9),
                 ValueError)]:
            yield (f"{label} on {dev}", fn, exc)


def reduction_and_linalg_cases():
    for dev in _devices():
        v = cb.asarray(np.arange(6.0), device=dev)
        m = cb.asarray(np.arange(6.0).reshape(2, 3), device=dev)
        e = cb.asarray(np.zeros(0), device=dev)
        e2 = cb.asarray(np.zeros((0, 3)), device=dev)
        im = cb.asarray(np.arange(6, dtype=np.int32).reshape(2, 3),
                        device=dev)
        for name in ("sum", "mean", "min", "max", "norm"):
            fn = getattr(cb, name)
            for axis, exc in [(2, ValueError), (-3, ValueError),
                              (1.5, TypeError), ("0", TypeError)]:
                yield (f"{name}(matrix, axis={axis!r}) on {dev}",
                       lambda fn=fn, axis=axis: fn(m, axis=axis), exc)
            yield (f"{name}(vector, axis=1) on {dev}",
                   lambda fn=fn: fn(v, axis=1), ValueError)
        for name in ("min", "max"):
            fn = getattr(cb, name)
            yield (f"{name}(empty) on {dev}", lambda fn=fn: fn(e),
                   ValueError)
            yield (f"{name}(0x3, axis=0) on {dev}",
                   lambda fn=fn: fn(e2, axis=0), ValueError)
        yield (f"dot(6, 5) on {dev}",
               lambda: cb.dot(v, cb.ones(5, device=dev)), ValueError)
        yield (f"dot(matrix, matrix) on {dev}", lambda: cb.dot(m, m),
               ValueError)
        for a, bb, exc in [((2, 3), (2, 3), ValueError),
                           ((3,), (4,), ValueError),
                           ((2, 3), (4,), ValueError),
                           ((5,), (2, 3), ValueError)]:
            yield (f"matmul{a}{bb} on {dev}",
                   lambda a=a, bb=bb: cb.ones(a, device=dev) @
                   cb.ones(bb, device=dev), exc)
        yield (f"matmul(int32, longdouble) on {dev}",
               lambda: im @ np.ones((3, 2), np.longdouble), TypeError)
        h = cb.ones((2, 2), dtype=cb.float16, device=dev)
        yield (f"gemm(float16) on {dev}",
               lambda: cb.gemm(1.0, h, h, 0.0, h + 0), TypeError)
        yield (f"matmul(scalar) on {dev}", lambda: m @ 2.0, MISUSE)
        c = cb.zeros((2, 2), device=dev)
        yield (f"gemm(C is A) on {dev}",
               lambda: cb.gemm(1.0, c, c, 0.0, c), ValueError)
        yield (f"gemm(shapes) on {dev}",
               lambda: cb.gemm(1.0, m, m, 0.0, c), ValueError)
        yield (f"gemm(float32 into float64) on {dev}",
               lambda: cb.gemm(1.0, cb.ones((2, 2), dtype=np.float32,
                                            device=dev),
                               cb.ones((2, 2), dtype=np.float32, device=dev),
                               0.0, c), TypeError)
        yield (f"gemv(shapes) on {dev}",
               lambda: cb.gemv(1.0, m, cb.ones(2, device=dev), 0.0,
                               cb.zeros(2, device=dev)), ValueError)
    if len(_devices()) == 2:
        a = cb.asarray(np.arange(4.0), device="cpu")
        b = cb.asarray(np.arange(4.0), device="opencl")
        for label, fn in [("add", lambda: a + b), ("mul", lambda: b * a),
                          ("maximum", lambda: cb.maximum(a, b)),
                          ("eq", lambda: a == b),
                          ("where", lambda: cb.where(a > 1, a, b)),
                          ("dot", lambda: cb.dot(a, b)),
                          ("matmul", lambda: a @ b),
                          ("0-D", lambda: a * cb.asarray(2.0,
                                                         device="opencl"))]:
            yield (f"two devices: {label}", fn, ValueError)


def device_cases():
    for bad in ["warp-drive", "opencl:cpu:0:1", "opencl:-1", "::::",
                "cpu:gpu:x", "opencl:cpu:1e9", "opencl,,warp"]:
        yield (f"get_device({bad!r})", lambda bad=bad: cb.get_device(bad),
               ValueError)
        yield (f"asarray(device={bad!r})",
               lambda bad=bad: cb.asarray(np.ones(3), device=bad),
               ValueError)
        yield (f"zeros(device={bad!r})",
               lambda bad=bad: cb.zeros(3, device=bad), ValueError)
        yield (f"to_device({bad!r})",
               lambda bad=bad: cb.ones(3).to_device(bad), ValueError)
    for missing in (["gpu", "opencl:gpu:0", "accelerator", "cpu:cpu:9",
                     "opencl:cpu:7"]
                    if not cb.devices("gpu") else ["opencl:cpu:7"]):
        yield (f"get_device({missing!r})",
               lambda m=missing: cb.get_device(m), cb.DeviceNotFoundError)
        yield (f"ones(device={missing!r})",
               lambda m=missing: cb.ones(3, device=m),
               cb.DeviceNotFoundError)
    for bad in (42, 1.5, object(), b"cpu"):
        yield (f"zeros(device={bad!r})", lambda bad=bad: cb.zeros(
            3, device=bad), (TypeError, ValueError))
    yield ("device_scope('warp')",
           lambda: cb.device_scope("warp").__enter__(), ValueError)


@cb.task
def _noop(x):
    return 0


def task_kernel_future_cases():
    yield ("task(device='opencl')",
           lambda: cb.task(device="opencl")(lambda: 1), ValueError)
    yield ("task(device='warp')",
           lambda: cb.task(device="warp")(lambda: 1), ValueError)
    yield ("task(device='cpu:cpu:9')",
           lambda: cb.task(device="cpu:cpu:9")(lambda: 1),
           cb.DeviceNotFoundError)
    yield ("task(42)", lambda: cb.task(42), TypeError)
    # (A number or a list is converted to an Array, as asarray() does.)
    for bad in ("x", None, object(), {"a": 1}, np.ones(3, np.longdouble)):
        yield (f"Out({bad!r})", lambda bad=bad: _noop(cb.Out(bad)),
               TypeError)
        yield (f"InOut({bad!r})", lambda bad=bad: _noop(cb.InOut(bad)),
               TypeError)
    yield ("Future()", lambda: cb.Future(), TypeError)
    fut = (cb.ones(3) + 1).future
    yield ("set_running_or_notify_cancel()",
           fut.set_running_or_notify_cancel, RuntimeError)
    for bad in (3, "x", [3], [None], [object()]):
        yield (f"wait({bad!r})", lambda bad=bad: cb.wait(bad, timeout=1),
               TypeError)
        yield (f"as_completed({bad!r})",
               lambda bad=bad: list(cb.as_completed(bad, timeout=1)),
               TypeError)
    yield ("inject_fault(long name)", lambda: faults.inject_fault("x" * 100),
           ValueError)
    yield ("inject_fault(bad status)",
           lambda: faults.inject_fault("add", cl_status="CL_NOT_ONE"),
           ValueError)
    yield ("inject_fault(nth=0)", lambda: faults.inject_fault("add", nth=0),
           ValueError)
    yield ("inject_fault(nth=-5)",
           lambda: faults.inject_fault("add", nth=-5), ValueError)
    yield ("inject_fault(no device)",
           lambda: faults.inject_fault("add", device="opencl:cpu:7"),
           cb.DeviceNotFoundError)
    if not cb.devices("opencl"):
        return
    src = """
    __kernel void scale(__global const float *x, __global float *y,
                        const float a, const int n) {
      int i = get_global_id(0);
      if (i < n) y[i] = a * x[i];
    }"""
    k = cb.Kernel(src, "scale")
    x = cb.asarray(np.ones(8, np.float32), device="opencl")
    y = cb.empty(8, dtype=cb.float32, device="opencl")
    yi = cb.empty(8, dtype=cb.int32, device="opencl")
    for nargs in (0, 1, 3, 5):
        args = [x, cb.Out(y), np.float32(1), 8, 9][:nargs]
        yield (f"kernel with {nargs} arguments",
               lambda args=args: k(8, *args), TypeError)
    for label, args, exc in [
            ("float64 for float", [x, cb.Out(y), np.float64(1), 8],
             TypeError),
            ("str for float", [x, cb.Out(y), "1", 8], TypeError),
            ("None for float", [x, cb.Out(y), None, 8], TypeError),
            ("float for int", [x, cb.Out(y), np.float32(1), 8.5], TypeError),
            ("int overflow", [x, cb.Out(y), np.float32(1), 2 ** 40],
             OverflowError),
            ("int32 array for float*", [x, cb.Out(yi), np.float32(1), 8],
             TypeError),
            ("scalar for buffer", [1.0, cb.Out(y), np.float32(1), 8],
             TypeError),
            ("array for scalar", [x, cb.Out(y), x, 8], TypeError)]:
        yield (f"kernel: {label}", lambda args=args: k(8, *args), exc)
    for gsize, local in [(0, None), (-4, None), ((1, 2, 3, 4), None),
                         ((), None), ((4, 4), 2), ((8,), (0,)),
                         ((8,), (2, 2))]:
        yield (f"kernel sizes {gsize!r} {local!r}",
               lambda g=gsize, lo=local: k(g, x, cb.Out(y), np.float32(1),
                                           8, local_size=lo), ValueError)
    yield ("kernel on the CPU workers' device",
           lambda: k(8, cb.asarray(np.ones(8, np.float32)),
                     cb.Out(cb.empty(8, dtype=cb.float32)),
                     np.float32(1), 8, device="cpu:cpu:0"), MISUSE)
    bad = cb.Kernel("__kernel void bad(__global float *x) "
                    "{ x[0] = undefined_thing; }", "bad")
    yield ("kernel that does not build",
           lambda: bad(1, cb.Out(y)), cb.KernelBuildError)
    yield ("kernel name not in the source",
           lambda: cb.Kernel(src, "nothere")(8, x, cb.Out(y),
                                             np.float32(1), 8),
           cb.KernelBuildError)


def graph_cases():
    def record(body):
        def fn():
            with cb.Graph() as g:
                body(g)
        return fn

    def unreached(g):
        x = g.input("x", (4,), cb.float32)
        g.input("unused", (4,), cb.float32)
        g.output("y", x + 1.0)

    yield ("graph input 9-D",
           record(lambda g: g.input("x", (1,) * 9, cb.float32)), ValueError)
    yield ("graph input bad dtype",
           record(lambda g: g.input("x", (2,), np.longdouble)), TypeError)
    yield ("graph input reaches no output", record(unreached), ValueError)
    yield ("graph shape mismatch",
           record(lambda g: g.output("y", g.input("x", (3,), cb.float32) +
                                     g.input("z", (4,), cb.float32))),
           ValueError)
    yield ("graph output of a non-value",
           record(lambda g: g.output("y", 3)), (TypeError, ValueError))
    yield ("graph bool - bool",
           record(lambda g: g.output("y", g.input("x", (3,), bool) -
                                     g.input("z", (3,), bool))), TypeError)
    yield ("graph min of nothing",
           record(lambda g: g.output("y", cb.min(g.input("e", (0,),
                                                        cb.float32)))),
           ValueError)
    with cb.Graph() as g:
        x = g.input("x", (8,), cb.float32)
        g.output("y", x * 2.0)
    ones = np.ones(8, np.float32)
    yield ("run: missing input", lambda: g.run(), TypeError)
    yield ("run: unknown input", lambda: g.run(x=ones, q=ones), TypeError)
    yield ("run: wrong shape", lambda: g.run(x=np.ones(9, np.float32)),
           ValueError)
    yield ("run: strings", lambda: g.run(x=["a"] * 8), MISUSE)
    yield ("run: wrong Array dtype",
           lambda: g.run(x=cb.asarray(np.ones(8))), ValueError)
    yield ("run: a string", lambda: g.run(x="eight"), MISUSE)
    yield ("map: in_flight=0",
           lambda: list(g.map([{"x": ones}], in_flight=0)), ValueError)
    yield ("map: in_flight=-1",
           lambda: list(g.map([{"x": ones}], in_flight=-1)), ValueError)
    yield ("map: a bad batch",
           lambda: list(g.map([{"x": np.ones(3, np.float32)}])),
           (ValueError, ExceptionGroup))


def runtime_cases():
    yield ("init(ncpus='abc')", lambda: cb.init(ncpus="abc"), TypeError)
    yield ("init(ncpus=-1)", lambda: cb.init(ncpus=-1), ValueError)
    yield ("init(scheduler='nope')", lambda: cb.init(scheduler="nope"),
           ValueError)
    yield ("init(tile_size=0)", lambda: cb.init(tile_size=0), ValueError)
    yield ("init(tile_size=-3)", lambda: cb.init(tile_size=-3), ValueError)
    yield ("init(devices='warp')", lambda: cb.init(devices="warp"),
           ValueError)
    if not cb.devices("gpu"):
        yield ("init(devices='gpu')", lambda: cb.init(devices="gpu"),
               cb.DeviceNotFoundError)


GROUPS = {"creation": creation_cases, "operations": operation_cases,
          "reductions_linalg": reduction_and_linalg_cases,
          "devices": device_cases, "tasks_kernels_futures":
          task_kernel_future_cases, "graphs": graph_cases}


def _run_cases(ck, cases, prefix=""):
    n = 0
    for what, fn, exc in cases:
        ck.raises(exc, fn, prefix + what)
        n += 1
    return n


def groups(ck, names=None, rounds=1):
    """Every case of the named groups (all by default), rounds times; the
    runtime is checked after each group."""
    for _ in range(rounds):
        for name in names or GROUPS:
            _run_cases(ck, GROUPS[name](), f"{name}: ")
            alive(ck, f"after the {name} cases")
    faults.clear_faults()
    try:
        cb.synchronize()
    except Exception as e:  # noqa: BLE001
        ck.wrong(f"synchronize after bad inputs raised {e!r}")


def settings(ck):
    """Bad settings of a stopped runtime raise at init(); the runtime then
    starts with good ones."""
    (cb.ones(3) + 1).numpy()
    cb.shutdown()
    _run_cases(ck, runtime_cases(), "settings: ")
    alive(ck, "after bad settings")


def environment(ck):
    """Bad settings from the environment raise ValueError naming the
    variable at the first operation, in a fresh process each."""
    code = """
        import numpy as np, cambrian as cb, sys
        try:
            cb.ones(3) + 1
        except ValueError as e:
            print("ValueError", sys.argv[1] in str(e))
        else:
            print("nothing raised")
    """
    for var, value in [("CAMBRIAN_NCPUS", "abc"), ("CAMBRIAN_NCPUS", "-2"),
                       ("CAMBRIAN_TILE_SIZE", "0"),
                       ("CAMBRIAN_TILE_SIZE", "x"),
                       ("CAMBRIAN_SCHED", "no-such-policy"),
                       ("CAMBRIAN_DEVICES", "warp-drive")]:
        ck.python(code, f"{var}={value}", args=[var], env={var: value},
                  expect_out="ValueError True")


def concurrent(ck, threads=4, rounds=2):
    """Every case from several threads at once, with correct work beside
    them: misuse in one thread does not disturb another."""
    cases = [c for name in GROUPS if name != "devices"
             for c in GROUPS[name]()]
    stop = threading.Event()

    def good_work():
        x = np.arange(100.0)
        a = cb.asarray(x)
        k = 0
        while not stop.is_set():
            k += 1
            ck.same(cb.sqrt(a * float(k)), np.sqrt(x * float(k)),
                    f"good work beside misuse #{k}")

    def misuse(seed):
        rng = np.random.default_rng(seed)
        for _ in range(rounds):
            for i in rng.permutation(len(cases)):
                what, fn, exc = cases[i]
                ck.raises(exc, fn, f"thread {seed}: {what}")

    worker = threading.Thread(target=good_work)
    worker.start()
    try:
        with cf.ThreadPoolExecutor(threads) as ex:
            list(ex.map(misuse, range(threads)))
    finally:
        stop.set()
        worker.join()
    faults.clear_faults()
    alive(ck, "after misuse from threads")


def scenarios(long):
    out = [{"name": f"group_{g}", "func": "groups",
            "params": {"names": [g], "rounds": 3 if long else 1},
            "timeout": 180} for g in GROUPS]
    out.append({"name": "settings", "func": "settings", "timeout": 120})
    out.append({"name": "environment", "func": "environment",
                "timeout": 240})
    out.append({"name": "concurrent", "func": "concurrent",
                "params": {"threads": 8 if long else 3,
                           "rounds": 4 if long else 1}, "timeout": 300})
    return out
