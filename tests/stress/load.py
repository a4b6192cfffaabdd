"""Load: many operations at once from threads and from asyncio event
loops, on the CPU workers and the OpenCL device, every result checked
against NumPy's.

Each worker (a thread, or a coroutine in an event loop that runs in a
thread of its own) submits batches of random operations: element-wise
operations on arrays and scalars, chains that read earlier results of the
batch, reductions, matrix products, conversions, task functions, graph
runs, and now and then an array large enough to be cut into tiles. Then it
reads every result, by one of the ways a program waits (numpy(),
future.result(), cb.wait, cb.as_completed, await), and compares it with
what NumPy computes from the same inputs. One operation is one check.
"""

import asyncio
import concurrent.futures as cf
import threading

import numpy as np

import cambrian as cb

from harness import alive

# How much float results may differ from NumPy's: OpenCL's math functions
# are within a few ulps, and sums are added in another order.
RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}
ATOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
REDUCE_RTOL = {np.dtype(np.float32): 2e-4, np.dtype(np.float64): 1e-10}

DTYPES = [np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64)]

# pocl builds a kernel anew for each work-group size it meets, and it
# picks that size from the length of the array (a divisor of it): on its
# first use on a machine, every new length costs a build of a fraction of
# a second per kernel variant, minutes for a few hundred lengths. Streams
# on OpenCL devices therefore keep to these lengths and shapes
# (opencl_random_lengths=True takes random ones, and pays for that).
CL_LENGTHS = (1, 7, 64, 100, 256, 333)
CL_SHAPES = ((4, 4), (3, 7), (16, 8), (1, 5))
CL_BIG = 150_000

# Binary operations: cambrian's function and NumPy's.
BINARY = [(cb.add, np.add), (cb.subtract, np.subtract),
          (cb.multiply, np.multiply), (cb.maximum, np.maximum),
          (cb.minimum, np.minimum)]
FLOAT_BINARY = BINARY + [(cb.divide, np.divide)]
COMPARE = [(cb.less, np.less), (cb.greater_equal, np.greater_equal),
           (cb.equal, np.equal), (cb.not_equal, np.not_equal)]
UNARY = [(cb.sqrt, np.sqrt, "positive"), (cb.exp, np.exp, "small"),
         (cb.log, np.log, "positive"), (cb.sin, np.sin, None),
         (cb.cos, np.cos, None), (cb.tanh, np.tanh, None),
         (cb.abs, np.abs, None), (cb.negative, np.negative, None)]


@cb.task
def affine(x, out, a, b):
    np.multiply(x, a, out=out)
    out += b
    return float(out.sum()) if out.size else 0.0


def _sum_atol(x, axis, dtype):
    """How far a float sum of x may be from NumPy's, added in another
    order: a few units of the last place of the sum of magnitudes."""
    if np.dtype(dtype).kind != "f":
        return 0.0
    eps = 4e-6 if np.dtype(dtype) == np.float32 else 1e-13
    return float(eps * np.max(np.abs(np.asarray(x, np.float64)).sum(
        axis=axis), initial=0.0)) + 1e-6


class Worker:
    """One stream of batches: random operations on one device, each result
    checked against NumPy's."""

    def __init__(self, ck, ops, seed, device, big_every, dtypes=DTYPES,
                 lengths=None):
        self.ck = ck
        self.lengths = lengths
        self.ops = ops
        self.rng = np.random.default_rng(seed)
        self.device = device
        self.dtypes = [np.dtype(t) for t in dtypes]
        self.big_every = big_every
        self.done = 0
        self.name = f"worker {seed} on {device}"
        self.graphs = {}

    # ---- inputs ------------------------------------------------------------

    def data(self, dtype, shape, kind=None):
        rng = self.rng
        if dtype.kind == "f":
            if kind == "positive":
                x = rng.uniform(0.5, 8.0, shape)
            elif kind == "small":
                x = rng.uniform(-3.0, 3.0, shape)
            else:
                x = rng.uniform(-8.0, 8.0, shape)
        else:
            if kind == "positive":
                x = rng.integers(1, 60, shape)
            else:
                x = rng.integers(-1000, 1000, shape)
        return np.ascontiguousarray(x, dtype=dtype)

    def shape(self, big=False):
        rng = self.rng
        if self.lengths is not None:
            # A few lengths only: see CL_LENGTHS.
            if big:
                return (CL_BIG,)
            if rng.random() < 0.3:
                return CL_SHAPES[int(rng.integers(len(CL_SHAPES)))]
            return (self.lengths[int(rng.integers(len(self.lengths)))],)
        if big:
            return (int(rng.integers(140_000, 200_000)),)
        if rng.random() < 0.3:
            return (int(rng.integers(1, 24)), int(rng.integers(1, 24)))
        return (int(rng.integers(1, 400)),)

    def array(self, x):
        return cb.asarray(x, device=self.device)

    # ---- one operation --------------------------------------------------

    def operation(self, pool, big):
        """Submits one random operation; returns (what, result, expected,
        rtol, atol); result may be an Array, a Future or an (Array, Future)
        pair, expected a NumPy value or a function that makes one once the
        work is done. pool holds earlier Array results of the batch, which
        operands are taken from."""
        rng = self.rng
        r = rng.random()
        dtype = self.dtypes[int(rng.integers(len(self.dtypes)))]
        shape = self.shape(big)
        if pool and r < 0.35:
            # A chain: an earlier result of the batch as an operand. That
            # result is checked against NumPy on its own; this operation
            # is checked against NumPy's on the values it was given, so
            # that rounding differences of float32 functions do not pile
            # up along the chain.
            a = pool[int(rng.integers(len(pool)))]
            if np.dtype(a.dtype).kind not in "fi":
                a = a.astype(np.int32)
            b_np = self.data(np.dtype(a.dtype), a.shape)
            fn, ref = BINARY[int(rng.integers(len(BINARY)))]
            return (f"chain {fn.__name__}", fn(a, self.array(b_np)),
                    lambda: ref(a.numpy(), b_np), None, None)
        if r < 0.55:
            ops = FLOAT_BINARY if dtype.kind == "f" else BINARY
            fn, ref = ops[int(rng.integers(len(ops)))]
            kind = "positive" if fn is cb.divide else None
            x, y = self.data(dtype, shape), self.data(dtype, shape, kind)
            if rng.random() < 0.3:
                s = float(rng.uniform(0.5, 3.0)) if dtype.kind == "f" \
                    else int(rng.integers(1, 9))
                return (f"{fn.__name__} scalar", fn(self.array(x), s),
                        ref(x, dtype.type(s)), None, None)
            return (fn.__name__, fn(self.array(x), self.array(y)),
                    ref(x, y), None, None)
        if r < 0.65:
            fn, ref, kind = UNARY[int(rng.integers(len(UNARY)))]
            if dtype.kind != "f" and fn is cb.exp:
                dtype = np.dtype(np.float64)
            x = self.data(dtype, shape, kind)
            return (fn.__name__, fn(self.array(x)), ref(x), None, None)
        if r < 0.70:
            fn, ref = COMPARE[int(rng.integers(len(COMPARE)))]
            x, y = self.data(dtype, shape), self.data(dtype, shape)
            y.ravel()[::3] = x.ravel()[::3]
            ax, ay = self.array(x), self.array(y)
            if rng.random() < 0.5:
                return (fn.__name__, fn(ax, ay), ref(x, y), None, None)
            return ("where", cb.where(fn(ax, ay), ax, ay),
                    np.where(ref(x, y), x, y), None, None)
        if r < 0.80:
            return self.reduction(dtype, shape)
        if r < 0.85:
            floats = [t for t in self.dtypes if t.kind == "f"]
            t = floats[int(rng.integers(len(floats)))]
            m, k, n = (int(v) for v in rng.integers(1, 24, 3))
            x, y = self.data(t, (m, k), "small"), self.data(t, (k, n), "small")
            rtol = 1e-4 if t == np.float32 else 1e-10
            return ("matmul", self.array(x) @ self.array(y), x @ y, rtol,
                    1e-4 if t == np.float32 else 1e-10)
        if r < 0.88:
            to = self.dtypes[int(rng.integers(len(self.dtypes)))]
            x = self.data(dtype, shape)
            return (f"astype {to}", self.array(x).astype(to), x.astype(to),
                    None, None)
        if r < 0.94 and self.device == "cpu":
            x = self.data(np.dtype(np.float64), shape)
            out = cb.empty(shape, dtype=np.float64, device="cpu")
            a, b = float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2))
            fut = affine(self.array(x), cb.Out(out), a, b)
            return ("task", (out, fut), x * a + b, None, 1e-12)
        return self.graph_run(shape)

    def reduction(self, dtype, shape):
        rng = self.rng
        x = self.data(dtype, shape, "small")
        a = self.array(x)
        name = ["sum", "mean", "max", "min", "dot"][int(rng.integers(5))]
        axis = None
        if len(shape) == 2 and rng.random() < 0.5:
            axis = int(rng.integers(2))
        if name == "dot":
            v = x.ravel()
            w = self.data(dtype, v.shape, "small")
            got = cb.dot(cb.asarray(v, device=self.device), self.array(w))
            return ("dot", got, np.asarray(np.dot(v, w)),
                    REDUCE_RTOL.get(dtype), _sum_atol(v * w, None, dtype))
        got = getattr(cb, name)(a, axis=axis)
        expected = np.asarray(getattr(np, name)(x, axis=axis))
        atol = _sum_atol(x, axis, dtype)
        if name == "mean":
            atol /= max(1, x.size if axis is None else x.shape[axis])
        return (f"{name} axis={axis}", got, expected,
                REDUCE_RTOL.get(dtype), atol)

    def graph(self, shape):
        g = self.graphs.get(shape)
        if g is None:
            with cb.Graph() as g:
                x = g.input("x", shape, cb.float32)
                y = g.input("y", shape, cb.float32)
                g.output("z", cb.sqrt(x * x + 1.0) * y - x)
                g.output("s", (x + y).sum())
            self.graphs[shape] = g
        return g

    def graph_run(self, shape):
        shape = shape if len(shape) == 1 else (shape[0] * shape[1],)
        g = self.graph(shape)
        x = self.data(np.dtype(np.float32), shape)
        y = self.data(np.dtype(np.float32), shape)
        outs = g.run(x=self.array(x), y=self.array(y))
        # Both outputs are checked, as one result.
        return ("graph", outs, {"z": np.sqrt(x * x + 1.0) * y - x,
                                "s": np.asarray((x + y).sum())},
                2e-4, _sum_atol(x + y, None, x.dtype))

    # ---- checking -------------------------------------------------------

    def check(self, what, got, expected, rtol, atol):
        """One check of a result that is complete."""
        try:
            self._check(f"{self.name}: {what}", got, expected, rtol, atol)
        except Exception as e:  # noqa: BLE001 (reading it raised)
            self.ck.wrong(f"{self.name}: {what}: raised {e!r}")

    def _check(self, what, got, expected, rtol, atol):
        ck = self.ck
        if callable(expected):
            expected = np.asarray(expected())
        if isinstance(expected, dict):
            good = True
            for k, v in expected.items():
                good &= self._close(got[k], v, rtol, atol)
            ck.check(good, lambda: f"{what}: graph outputs differ")
            return
        if isinstance(got, tuple):            # a task call
            out, fut = got
            try:
                value = fut.result(timeout=60)
            except Exception as e:  # noqa: BLE001
                ck.wrong(f"{what}: the call raised {e!r}")
                return
            if not self._close(out, expected, rtol, atol):
                ck.wrong(f"{what}: the task's output differs")
                return
            ck.check(abs(value - float(expected.sum())) <=
                     1e-9 * max(1.0, abs(value)),
                     f"{what}: returned {value}, expected "
                     f"{float(expected.sum())}")
            return
        dt = expected.dtype
        ck.same(got, expected, what,
                rtol=rtol if rtol is not None else RTOL.get(dt, 0.0),
                atol=atol if atol is not None else ATOL.get(dt, 0.0))

    @staticmethod
    def _close(got, expected, rtol, atol):
        g = got.numpy()
        return (g.shape == expected.shape and g.dtype == expected.dtype and
                np.allclose(g, expected, rtol=rtol or 1e-12,
                            atol=atol or 0.0, equal_nan=True))

    def batch(self, size):
        """Submits a batch; returns its entries (what, result, expected,
        rtol, atol)."""
        pool, entries = [], []
        for _ in range(size):
            self.done += 1
            big = self.big_every and self.done % self.big_every == 0
            try:
                e = self.operation(pool, big)
            except Exception as exc:  # noqa: BLE001
                self.ck.wrong(f"{self.name}: submitting raised {exc!r}")
                continue
            entries.append(e)
            what, got, expected = e[:3]
            if isinstance(got, cb.Array) and not isinstance(expected, dict):
                pool.append(got)
        return entries

    def waitable(self, got):
        if isinstance(got, dict):
            return [a.future for a in got.values()]
        if isinstance(got, tuple):
            return [got[0].future, got[1]]
        return [got.future]

    def run_thread(self, batch):
        mode = 0
        while self.done < self.ops:
            entries = self.batch(min(batch, self.ops - self.done))
            mode = (mode + 1) % 4
            # Every way of waiting takes its turn.
            if mode == 1:
                cb.wait([f for e in entries for f in self.waitable(e[1])],
                        timeout=120)
            elif mode == 2:
                for _ in cb.as_completed(
                        [f for e in entries for f in self.waitable(e[1])],
                        timeout=120):
                    pass
            elif mode == 3:
                for e in entries:
                    for f in self.waitable(e[1]):
                        f.exception(timeout=120)
            for e in entries:
                self.check(*e)

    async def run_coroutine(self, batch):
        while self.done < self.ops:
            entries = self.batch(min(batch, self.ops - self.done))
            aw = []
            for e in entries:
                got = e[1]
                if isinstance(got, dict):
                    aw.extend(got.values())
                elif isinstance(got, tuple):
                    aw.extend(got)
                else:
                    aw.append(got)
            results = await asyncio.gather(*aw, return_exceptions=True)
            for e in entries:
                self.check(*e)
            del results


def _loop_thread(ck, workers, batch, uvloop_ok):
    async def main():
        await asyncio.gather(*(w.run_coroutine(batch) for w in workers))
    try:
        if uvloop_ok:
            import uvloop
            uvloop.run(main())
        else:
            asyncio.run(main())
    except Exception as e:  # noqa: BLE001
        ck.wrong(f"an event loop raised {e!r}")


def threads_and_loops(ck, ops=20000, threads=2, loops=1, coroutines=3,
                      batch=64, seed=0, big_every=400, opencl_share=0.3,
                      opencl_dtypes=("float32", "int32"),
                      opencl_random_lengths=False):
    """ops operations in all, shared among threads threads and loops event
    loops (each in a thread of its own, running coroutines coroutines);
    opencl_share of the streams run on the OpenCL device when there is
    one, with opencl_dtypes and CL_LENGTHS only (unless
    opencl_random_lengths): pocl builds each variant of a kernel for each
    work-group size the first time a machine meets it, a fraction of a
    second each on a small machine, so the short form keeps to two dtypes
    there (the long form takes all four)."""
    from harness import opencl_present
    has_cl = opencl_present()
    streams = threads + loops * coroutines
    per = max(1, ops // streams)
    ncl = round(streams * opencl_share) if has_cl else 0
    devs = ["opencl" if i < ncl else "cpu" for i in range(streams)]
    # Spread the OpenCL streams over threads and loops alike.
    devs = devs[::2] + devs[1::2]
    workers = [Worker(ck, per, seed * 1000 + i, devs[i], big_every,
                      DTYPES if devs[i] == "cpu" else opencl_dtypes,
                      None if devs[i] == "cpu" or opencl_random_lengths
                      else CL_LENGTHS)
               for i in range(streams)]
    try:
        import uvloop  # noqa: F401
        have_uvloop = True
    except ImportError:
        have_uvloop = False
    pool = []
    for i in range(threads):
        w = workers[i]
        pool.append(threading.Thread(target=_guard,
                                     args=(ck, w.run_thread, batch)))
    for j in range(loops):
        ws = workers[threads + j * coroutines:threads + (j + 1) * coroutines]
        pool.append(threading.Thread(
            target=_loop_thread, args=(ck, ws, batch,
                                       have_uvloop and j % 2 == 1)))
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    alive(ck)
    cb.synchronize()


def _guard(ck, fn, *args):
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        import traceback
        ck.wrong(f"a thread raised {e!r}: {traceback.format_exc()[-800:]}")


def executor_fanout(ck, ops=2000, threads=8, seed=0):
    """Many threads of a concurrent.futures pool, each submitting one small
    chain and waiting for it: short waits from many threads at once."""
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-4, 4, int(rng.integers(1, 300)))
              for _ in range(64)]

    def one(i):
        x = inputs[i % len(inputs)]
        a = cb.asarray(x, device="cpu")
        r = cb.tanh(a * float(i % 7) - 1.0) + a
        return r.numpy(), np.tanh(x * float(i % 7) - 1.0) + x

    with cf.ThreadPoolExecutor(threads) as ex:
        for i, f in enumerate([ex.submit(one, i) for i in range(ops)]):
            try:
                got, expected = f.result(timeout=120)
            except Exception as e:  # noqa: BLE001
                ck.wrong(f"fan-out {i}: raised {e!r}")
                continue
            ck.check(np.allclose(got, expected, rtol=1e-12, atol=1e-12),
                     f"fan-out {i}: values differ")
    alive(ck)


def scenarios(long):
    if long:
        # 10^6 checked operations: 8 threads and 2 event loops (one asyncio,
        # one uvloop), in 10 processes of 10^5 each, then a fan-out.
        runs = [{"name": f"threads_and_loops#{k}", "func":
                 "threads_and_loops",
                 "params": {"ops": 100_000, "threads": 8, "loops": 2,
                            "coroutines": 3, "seed": k,
                            "opencl_dtypes": [t.name for t in DTYPES]},
                 "timeout": 600} for k in range(10)]
        return runs + [{"name": "executor_fanout", "func": "executor_fanout",
                        "params": {"ops": 20_000, "threads": 16},
                        "timeout": 600}]
    return [{"name": f"threads_and_loops#{k}", "func": "threads_and_loops",
             "params": {"ops": 22_000, "threads": 4, "loops": 2,
                        "coroutines": 2, "seed": k}, "timeout": 240}
            for k in range(4)] + [
        {"name": "executor_fanout", "func": "executor_fanout",
         "params": {"ops": 3000, "threads": 8}, "timeout": 180}]
