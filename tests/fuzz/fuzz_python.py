"""The calls that fuzz_python.c makes: any bytes read as a few calls of
functions of cambrian._core, of Array methods and operators, and of
cambrian's public functions, with positional and keyword arguments of
several types built from the bytes.

plan(data) is a generator: it yields (function, args, kwargs) and is sent
back what the call returned (None when it raised), so that later calls
can take earlier results (an Array, a kernel, a graph). Once the calls
are made it yields calls that wait for the Arrays made, which brings the
failures of their tasks back. Nothing of one input is kept for the next.

The seeds in corpus/fuzz_python are read through the tables below, so a
change of them changes what the seeds call. Those named after a bug once
found are written by this file run as a program (python fuzz_python.py
DIRECTORY), from the calls they stand for (see NAMED_SEEDS).
"""

import math
import operator
import os
import struct
import sys
import types

import numpy as np

import cambrian as cb
from cambrian import _core

INTS = [0, 1, -1, 2, 3, 4, 7, 16, 100, 255, 2**31 - 1, 2**31, -2**31,
        -2**31 - 1, 2**32 + 1, 2**62, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
        2**64, 10**30, -10**30]
FLOATS = [0.0, -0.0, 0.5, 1.0, -1.5, 3.0, 1e308, -1e308, 5e-324, math.inf,
          -math.inf, math.nan, 2.0**31, -2.0**31 - 1, 2.0**63, -2.0**63,
          1e19]
WORDS = ["", "cpu", "gpu", "opencl", "opencl:cpu", "opencl:cpu:0", "cpu:0",
         "*", "*:*:*", "none", "auto", "accelerator", "cpu,gpu", "gpu:99",
         "float32", "float64", "int32", "int64", "bool", "float16",
         "complex128", "object", "uint8", "sum", "min", "max", "mean",
         "prod", "norm", "dot", "matmul", "transpose", "eager", "dmda",
         "lws", "\0", "cpu\0", "a\0b", "\u00e9", "\udcff", "x" * 300,
         "cpu," * 20, "axis", "dtype", "device",
         "__kernel void k(__global float *x) { CB_ASSERT(x[0] > 0); }",
         "kernel void k(void) { CB_ASSERT(1); }", "k", "-D N=1",
         "-cl-fast-relaxed-math"]
NP_DTYPES = ["?", "i4", "i8", "f4", "f8", ">f8", ">i4", "<i8", "u1", "i1",
             "u4", "u8", "f2", "c8", "i2", "=f4", "M8[s]"]
TYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_, np.int8,
         np.uint64, np.float16, np.complex64, np.dtype(">f8"),
         np.dtype("<f4"), np.dtype("O"), np.dtype([("a", "i4")]), float,
         int, bool, complex, object, str, "f8", "i", "<i4", None]
SCALARS = [np.float32, np.float64, np.int32, np.int64, np.bool_, np.int8,
           np.uint32, np.float16, np.complex128]
KEYWORDS = ["dtype", "device", "copy", "axis", "filter", "shape", "step",
            "stop", "fill_value", "local_size", "options", "trans",
            "trans_a", "name", "x", "\u00e9"]
# Operators and built-in functions, called only with an Array among the
# arguments: without one they would try Python's own types alone (and
# pow() of two large integers runs for ever).
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv,
             operator.pow, operator.matmul, operator.neg, operator.abs,
             operator.pos, operator.lt, operator.le, operator.eq,
             operator.ne, operator.gt, operator.ge, operator.truth,
             operator.index, operator.getitem, float, int, bool, complex,
             len, repr, hash, memoryview, np.asarray, pow]


class Reader:
    """The input, read a byte or a few at a time; zeros once it ends."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n):
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk

    def choice(self, seq):
        return seq[self.byte() % len(seq)]

    def more(self):
        return self.pos < len(self.data)


class Runner:
    """A task runner as task_submit calls it: run(views), failed(id)."""

    def __init__(self, outcome):
        self.outcome = outcome

    def run(self, views):
        for v in views:
            if len(v) and not v.readonly:
                v[0] = 1
        return self.outcome

    def failed(self, failure_id):
        return None


class Tidy:
    """An int, float and truth whose conversions raise an exception and
    catch it: run while another exception is pending (which the C API
    forbids), they may clear that one."""

    def __init__(self, value):
        self.value = value

    def _tidy(self):
        try:
            {}[self.value]
        except KeyError:
            pass

    def __index__(self):
        self._tidy()
        return self.value

    def __float__(self):
        self._tidy()
        return float(self.value)

    def __bool__(self):
        self._tidy()
        return bool(self.value)


RUNNERS = [Runner(None), Runner("task failed"), Runner(3), None, len,
           object()]


def ndarray(r):
    """A NumPy array of any dtype, 0-D to 3-D, with any layout."""
    dtype = np.dtype(r.choice(NP_DTYPES))
    shape = tuple(r.choice([0, 1, 2, 3, 5]) for _ in range(r.byte() % 4))
    count = math.prod(shape)
    raw = r.take(count * dtype.itemsize)
    raw += bytes(count * dtype.itemsize - len(raw))
    a = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    layout = r.byte() % 5
    if layout == 1:
        a = a.T
    elif layout == 2 and a.ndim:
        a = a[..., ::2]
    elif layout == 3:
        a = np.asfortranarray(a)
    elif layout == 4:
        a.flags.writeable = False
    return a


def device(r):
    """None, a filter, a Device, or a Device whose fields are made up."""
    kind = r.byte() % 5
    if kind == 0:
        return None
    if kind == 1:
        return r.choice(WORDS)
    found = cb.devices()
    real = found[r.byte() % len(found)] if found else None
    if kind == 2 or real is None:
        return real
    gen = r.byte() % 3
    fields = {"_id": r.choice(INTS),
              "_gen": real._gen + gen if gen < 2 else r.choice(INTS),
              "filter_string": r.choice(WORDS)}
    if kind == 3:
        return cb.Device(**{**real.__dict__, **fields})
    return types.SimpleNamespace(**fields)


def cambrian_array(r):
    """An Array made from a NumPy array of a dtype cambrian has."""
    a = ndarray(r)
    if a.dtype.name not in _core.DTYPES or a.dtype.byteorder == ">":
        a = a.astype(r.choice(["?", "i4", "i8", "f4", "f8"]))
    return cb.asarray(a, copy=bool(r.byte() & 1))


def value(r, pool, depth=0):
    """One argument, of a type the input chooses."""
    tag = r.byte() % 25
    if tag == 0:
        return None
    if tag == 1:
        return bool(r.byte() & 1)
    if tag == 2:
        return r.byte() - 128
    if tag == 3:
        return r.choice(INTS)
    if tag == 4:
        return r.choice(FLOATS)
    if tag == 5:
        return r.take(r.byte() % 48).decode("latin-1")
    if tag == 6:
        return r.choice(WORDS)
    if tag == 7:
        return r.take(r.byte() % 48)
    if tag in (8, 9) and depth < 2:
        items = tuple(value(r, pool, depth + 1) for _ in range(r.byte() % 4))
        return items if tag == 8 else list(items)
    if tag == 10:
        return ndarray(r)
    if tag == 11:
        return r.choice(SCALARS)(r.choice(INTS[:12] + FLOATS[:12]))
    if tag in (12, 13):
        return cambrian_array(r)
    if tag == 14 and pool:
        return pool[r.byte() % len(pool)]
    if tag == 15:
        return r.choice(TYPES)
    if tag == 16:
        return device(r)
    if tag == 17:
        a = ndarray(r)
        return memoryview(a) if a.flags.c_contiguous else a
    if tag == 18:
        return tuple(r.choice(INTS[:9] + [2**31, 2**62, -2**63])
                     for _ in range(r.byte() % 4))
    if tag == 19:
        return r.choice(RUNNERS)
    if tag == 20 and depth < 2:
        return {r.choice(KEYWORDS): value(r, pool, depth + 1)
                for _ in range(r.byte() % 3)}
    if tag == 21:
        return r.byte() % 4
    if tag == 22:
        return r.choice(_core.DTYPES)
    if tag == 23:
        return Tidy(r.choice(INTS))
    return r.choice(INTS[:8])


def core(name, arity):
    return (getattr(_core, name), arity)


def method(name, arity):
    return (lambda x, *args, **kwargs:
            getattr(x, name)(*args, **kwargs), arity)


def public(name, arity):
    return (getattr(cb, name), arity)


# The functions called, with the number of arguments they take. The
# first argument of a method is the object it is called on.
CALLS = [
    core("init", 4), core("device_count", 0), core("device_info", 1),
    core("select_devices", 1), core("check_filter", 1),
    core("runtime_info", 0), core("workers", 0), core("empty", 3),
    core("full", 4), core("arange", 5), core("asarray_buffer", 4),
    core("ewise", 3), core("reduce", 3), core("dot", 2), core("matmul", 2),
    core("gemm", 7), core("gemv", 6), core("transpose", 1),
    core("kernel_new", 3), core("kernel_build", 2),
    core("kernel_params", 2), core("kernel_launch", 5),
    core("graph_new", 0), core("graph_input", 3), core("graph_constant", 2),
    core("graph_ewise", 4), core("graph_apply", 4), core("graph_output", 2),
    core("graph_value", 2), core("graph_info", 1), core("graph_run", 4),
    core("graph_estimate", 3), core("task_submit", 6), core("cancel", 1),
    core("started", 1), core("poll_writer", 2), core("wait_writer", 2),
    core("array_failure", 2), core("failure_seen", 1),
    core("profiling", 1), core("stats", 1), core("wait_idle", 1),
    method("astype", 2), method("to_device", 2), method("copy", 1),
    method("wait", 1), method("dot", 2), method("numpy", 1),
    method("__array__", 1), method("sum", 2), method("min", 1),
    method("max", 2), method("mean", 2), method("__await__", 1),
    public("asarray", 1), public("empty", 1), public("zeros", 2),
    public("full", 2), public("arange", 3), public("devices", 1),
    public("get_device", 1), public("where", 3), public("matmul", 2),
    public("Kernel", 2), public("add", 2), public("sqrt", 1),
    public("maximum", 2), public("mean", 1), public("norm", 1),
    public("gemm", 5), public("gemv", 5), public("config", 0),
] + [(op, 2) for op in OPERATORS]


def plan(data):
    r = Reader(data)
    pool = []
    for _ in range(1 + r.byte() % 4):
        if not r.more():
            break
        fn, arity = r.choice(CALLS)
        n = arity if r.byte() % 8 else r.byte() % 8
        try:
            args = tuple(value(r, pool) for _ in range(n))
            kwargs = {r.choice(KEYWORDS): value(r, pool)
                      for _ in range(r.byte() % 3 if r.byte() % 4 == 0
                                     else 0)}
        except (SystemError, NameError):
            raise  # the makings of an argument show a bug
        except Exception:
            continue  # the arguments themselves could not be made
        if fn in OPERATORS and not any(isinstance(x, cb.Array)
                                       for x in args + tuple(kwargs.values())):
            continue
        result = yield fn, args, kwargs
        if result is not None:
            pool.append(result)
    for x in pool:
        if isinstance(x, cb.Array):
            yield x.numpy, (), {}


# ---- seeds that stand for given calls --------------------------------------

def _call(fn):
    """The bytes that choose fn, with its usual number of arguments."""
    return [next(i for i, (f, _) in enumerate(CALLS) if f is fn), 1]


def _pick(seq, v):
    return next(i for i, x in enumerate(seq)
                if x is v or (type(x) is type(v) and x == v))


def _ndarray(dtype, shape, data):
    """The bytes of ndarray(): dtype, shape, data, C-contiguous layout."""
    return ([_pick(NP_DTYPES, dtype), len(shape)] +
            [_pick([0, 1, 2, 3, 5], d) for d in shape] + list(data) + [0])


_NONE, _INT, _FLOAT, _WORD, _NDARRAY, _ARRAY, _DEVICE = 0, 3, 4, 6, 10, 12, 16
_NO_KEYWORDS = [1]

# name: the bytes of one call (the first byte says one call), as plan()
# reads them; the comments say what they stand for.
NAMED_SEEDS = {
    # _core.arange(2, -1, 1, None, None): a value read for no dtype.
    "arange-without-dtype":
        [1] + _call(_core.arange) + [_INT, _pick(INTS, 2), _INT,
                                     _pick(INTS, -1), _INT, _pick(INTS, 1),
                                     _NONE, _NONE] + _NO_KEYWORDS,
    # Array([1.5]) - 1e19: a float scalar beyond int64.
    "float-scalar-beyond-int64":
        [1] + _call(operator.sub) + [_ARRAY] +
        _ndarray("f8", [1], struct.pack("<d", 1.5)) + [0] +
        [_FLOAT, _pick(FLOATS, 1e19)] + _NO_KEYWORDS,
    # _core.asarray_buffer(float32([-2.2e23]), "int32", None, None): a
    # cast beyond int32.
    "cast-float-beyond-int32":
        [1] + _call(_core.asarray_buffer) + [_NDARRAY] +
        _ndarray("f4", [1], struct.pack("<f", -2.2e23)) +
        [_WORD, _pick(WORDS, "int32"), _NONE, _NONE] + _NO_KEYWORDS,
    # _core.array_failure(Array([0.0]), bool array of 3): a seen flag
    # whose truth raises.
    "failure-seen-truth-raises":
        [1] + _call(_core.array_failure) + [_ARRAY] +
        _ndarray("f8", [1], struct.pack("<d", 0.0)) + [0] + [_NDARRAY] +
        _ndarray("?", [3], bytes(3)) + _NO_KEYWORDS,
    # _core.empty(3, "float64", a Device with _id -2**31): a device id
    # below -1.
    "device-id-out-of-range":
        [1] + _call(_core.empty) + [_INT, _pick(INTS, 3), _WORD,
                                    _pick(WORDS, "float64"), _DEVICE, 3, 0,
                                    0, _pick(INTS, -2**31),
                                    _pick(WORDS, "cpu")] + _NO_KEYWORDS,
}

if __name__ == "__main__":
    for name, data in NAMED_SEEDS.items():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(bytes(data))
