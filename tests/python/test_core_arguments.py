"""Arguments of the extension module's functions that cannot be read: the
error raised while reading one reaches the caller, and no function
returns a result with an exception left set (CPython then raises
SystemError)."""

import dataclasses
import types

import numpy as np
import pytest

import cambrian as cb
from cambrian import _core


class Untruthful:
    """An object whose truth cannot be told."""

    def __bool__(self):
        raise ZeroDivisionError("no truth here")


def test_array_failure_seen_flag_that_raises():
    a = cb.asarray(np.zeros(3))
    with pytest.raises(ZeroDivisionError, match="no truth here"):
        _core.array_failure(a, Untruthful())
    assert _core.array_failure(a, False) is None


class Watched:
    """A number and a truth that records being converted. Conversions run
    Python code, which must not run while an exception is pending: it
    may clear that exception, or stand in for it."""

    def __init__(self):
        self.converted = False

    def __index__(self):
        self.converted = True
        return 1

    def __float__(self):
        self.converted = True
        return 1.0

    def __bool__(self):
        self.converted = True
        return True


def calls_after_a_bad_argument(w):
    """Calls whose first bad argument (None or a str where a number goes)
    comes before w."""
    a = cb.asarray(np.ones((2, 2)))
    x = cb.asarray(np.ones(2))
    return {
        "gemm": lambda: _core.gemm(None, a, a, w, a, w, w),
        "gemv": lambda: _core.gemv(None, a, x, w, x, w),
        "task_submit": lambda: _core.task_submit(None, [], [], None, w, w),
        "task_submit priority": lambda: _core.task_submit(
            None, [], [], "t", None, w),
        "empty": lambda: _core.empty(("a", w), "float64", None),
        "graph_input": lambda: _core.graph_input(_core.graph_new(),
                                                 "float64", ["a", w]),
        "graph_apply": lambda: _core.graph_apply(_core.graph_new(), "sum",
                                                 ("a",), w),
        "watch": lambda: _core.watch(x, "a", w),
        "device": lambda: _core.empty(
            2, "float64", types.SimpleNamespace(_id="a", _gen=w)),
    }


@pytest.mark.parametrize("name", sorted(calls_after_a_bad_argument(None)))
def test_first_bad_argument_is_reported(name):
    w = Watched()
    with pytest.raises(TypeError) as info:
        calls_after_a_bad_argument(w)[name]()
    assert not isinstance(info.value, SystemError)
    assert not w.converted


@pytest.mark.parametrize("offset", [-5, -2**31, 2**32])
def test_device_whose_id_is_out_of_range(offset):
    """A Device whose id is no device's is found by its filter string."""
    dev = cb.devices()[0]
    fake = dataclasses.replace(dev, _id=dev._id + offset)
    a = cb.empty(3, device=fake)
    assert a.shape == (3,)
    assert a.device.filter_string == dev.filter_string


class CountedItems:
    """An iterable of n ones that counts the ones read, with or without a
    length."""

    def __init__(self, n, sized):
        self.n, self.read = n, 0
        if sized:
            self.__class__ = SizedItems

    def __iter__(self):
        for _ in range(self.n):
            self.read += 1
            yield 1


class SizedItems(CountedItems):
    def __len__(self):
        return self.n


@pytest.mark.parametrize("sized", [True, False], ids=["sized", "unsized"])
@pytest.mark.parametrize("call", ["empty", "full", "graph_input"])
def test_a_long_shape_is_refused_at_the_core(call, sized):
    """The core reads a shape item by item and refuses it after at most
    one item too many: an Array of millions of elements given as a shape
    made as many objects first (found by fuzz_python)."""
    items = CountedItems(10**7, sized)
    make = {"empty": lambda s: _core.empty(s, "float64", None),
            "full": lambda s: _core.full(s, "float64", 1.0, None),
            "graph_input": lambda s: _core.graph_input(_core.graph_new(),
                                                       "float64", s)}[call]
    got = r"\(got 10000000\)" if sized else r"\(got more than 8\)"
    with pytest.raises(ValueError, match=r"at most 8 dimensions " + got):
        make(items)
    assert items.read <= 9
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        make(cb.ones(10**6, dtype=cb.int64))


def test_long_kernel_sizes_are_refused_after_few_items(opencl_device):
    k = cb.Kernel("__kernel void k(__global float *x) { x[0] = 1; }", "k")
    a = cb.zeros(4, dtype=cb.float32, device=opencl_device)
    a.wait()  # no work of this test left for the next one to meet
    for sized in (True, False):
        items = CountedItems(10**7, sized)
        with pytest.raises(ValueError, match="1 to 3 dimensions"):
            k(items, cb.Out(a))
        assert items.read <= 4
