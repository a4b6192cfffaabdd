"""Indexing: a[key] and a[key] = value against NumPy, with keys drawn by
hypothesis (integers, slices with steps, Ellipsis, None), advanced
indexing on the host, iteration, and the refusals."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cambrian as cb
from helpers import assert_same, ramp, shape_and_key

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(shape_and_key())
def test_basic_getitem_matches_numpy(case):
    shape, key = case
    x = ramp(shape)
    got = cb.asarray(x)[key]
    want = np.asarray(x[key])
    assert isinstance(got, cb.Array)
    assert_same(got, want)


@SETTINGS
@given(shape_and_key(), st.integers(-100, 100))
def test_basic_setitem_of_a_scalar_matches_numpy(case, value):
    shape, key = case
    x = ramp(shape)
    a = cb.asarray(x.copy())
    a[key] = value
    x[key] = value
    assert_same(a, x)


@SETTINGS
@given(shape_and_key(), st.data())
def test_basic_setitem_of_an_array_matches_numpy(case, data):
    shape, key = case
    x = ramp(shape, np.float32)
    target = x[key].shape
    # A value of a shape that broadcasts to the target's.
    lead = data.draw(st.integers(0, len(target)))
    vshape = tuple(1 if data.draw(st.booleans()) else n
                   for n in target[lead:])
    v = np.arange(int(np.prod(vshape)), dtype=np.float32).reshape(vshape) - 7
    a = cb.asarray(x.copy())
    a[key] = cb.asarray(v)
    x[key] = v
    assert_same(a, x)


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.float64])
def test_indexing_on_every_device(dtype, device):
    x = ramp((4, 5, 6)).astype(dtype)
    a = cb.asarray(x, device=device, copy=True)
    assert_same(a[1], x[1])
    assert_same(a[:, ::-2, 1:5:3], x[:, ::-2, 1:5:3])
    assert_same(a[..., None, -1], x[..., None, -1])
    a[2, 1:3] = x[0, 0, 0]
    x[2, 1:3] = x[0, 0, 0]
    assert_same(a, x)
    assert a[1].device == a.device


def test_writes_are_ordered_with_the_work_around_them():
    a = cb.zeros(1000)
    seen = []
    for k in range(20):
        a[k] = k + 1.0
        seen.append(a[: k + 1].sum())
        a += 1
    x = np.zeros(1000)
    want = []
    for k in range(20):
        x[k] = k + 1.0
        want.append(x[: k + 1].sum())
        x += 1
    assert [float(s) for s in seen] == want
    assert_same(a, x)


def test_index_results_are_views():
    a = cb.arange(6)
    b = a[1:4]
    c = b.copy()
    a[2] = 100
    assert b.tolist() == [1, 100, 3]
    b[0] = -1
    assert a.tolist() == [0, -1, 100, 3, 4, 5]
    assert c.tolist() == [1, 2, 3]


def test_setitem_converts_as_numpy_does():
    a = cb.zeros(3, dtype=cb.int32)
    a[0] = 2.7
    a[1] = True
    a[2] = np.int64(-4)
    assert a.tolist() == [2, 1, -4]
    with pytest.raises(OverflowError):
        a[0] = 2**40
    f = cb.zeros(2)
    f[:] = cb.asarray(np.array([1, 2], dtype=np.int32))
    assert f.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="broadcast"):
        f[:] = cb.ones(3)


def test_advanced_indexing_on_the_host():
    x = ramp((4, 5))
    a = cb.asarray(x, copy=True)
    mask = x % 3 == 0
    assert_same(a[cb.asarray(mask)], x[mask])
    assert_same(a[mask], x[mask])
    assert_same(a[[0, 2, 3]], x[[0, 2, 3]])
    assert_same(a[cb.asarray(np.array([3, 1])), 1:], x[np.array([3, 1]), 1:])
    a[cb.asarray(mask)] = -1
    x[mask] = -1
    assert_same(a, x)
    a[[1, 2], [0, 4]] = 9
    x[[1, 2], [0, 4]] = 9
    assert_same(a, x)
    a[a > 10] = cb.asarray(np.arange(int((x > 10).sum())))
    x[x > 10] = np.arange(int((x > 10).sum()))
    assert_same(a, x)


def test_iteration():
    x = ramp((3, 2))
    rows = list(cb.asarray(x))
    assert len(rows) == 3
    for r, w in zip(rows, x):
        assert_same(r, w)
    assert [int(v) for v in cb.arange(4)] == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="0-d"):
        iter(cb.asarray(1.0))


def test_index_refusals():
    a = cb.ones((2, 3))
    with pytest.raises(IndexError, match="out of bounds for axis 1"):
        a[0, 3]
    with pytest.raises(IndexError, match="out of bounds for axis 0"):
        a[-3]
    with pytest.raises(IndexError, match="too many indices"):
        a[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        a[..., ...]
    with pytest.raises(IndexError, match="out of bounds"):
        a[5] = 1
    with pytest.raises(ValueError, match="cannot delete"):
        del a[0]
    with pytest.raises(IndexError):
        a["x"]
    assert a.tolist() == [[1.0] * 3] * 2
