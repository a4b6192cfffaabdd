"""Reductions over N-D arrays: several axes, keepdims, and any, all, std,
var, argmax and argmin, each against NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cambrian as cb
from helpers import DEVICES, DTYPES, assert_same, skip_missing

X = np.random.default_rng(5).normal(size=(3, 4, 5))

AXES = [None, 0, 1, 2, -1, (0, 1), (0, 2), (1, 2), (0, 1, 2), (2, 0)]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_axes_and_keepdims(axis, keepdims, device):
    a = cb.asarray(X, device=device)
    for name in ("sum", "min", "max", "mean"):
        got = getattr(cb, name)(a, axis, keepdims=keepdims)
        want = getattr(np, name)(X, axis=axis, keepdims=keepdims)
        assert_same(got, np.asarray(want), rtol=1e-12)


@pytest.mark.parametrize("axis", AXES, ids=str)
def test_any_all(axis, device):
    x = X > 1.0
    a = cb.asarray(x, device=device)
    assert_same(cb.any(a, axis=axis), np.asarray(np.any(x, axis=axis)))
    assert_same(cb.all(a, axis=axis), np.asarray(np.all(x, axis=axis)))
    i = (X * 3).astype(np.int32)
    assert_same(cb.all(cb.asarray(i), axis=axis, keepdims=True),
                np.asarray(np.all(i, axis=axis, keepdims=True)))


def test_any_all_of_nothing():
    e = cb.zeros((0, 3))
    assert_same(cb.all(e), np.asarray(True))
    assert_same(cb.any(e), np.asarray(False))
    assert_same(cb.all(e, axis=0), np.ones(3, dtype=bool))
    assert_same(cb.any(e, axis=1), np.zeros(0, dtype=bool))


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("correction", [0, 1])
def test_std_var(axis, correction, device):
    a = cb.asarray(X, device=device)
    assert_same(cb.var(a, axis=axis, correction=correction),
                np.asarray(np.var(X, axis=axis, ddof=correction)),
                rtol=1e-12, atol=1e-15)
    assert_same(cb.std(a, axis=axis, correction=correction, keepdims=True),
                np.asarray(np.std(X, axis=axis, ddof=correction,
                                  keepdims=True)), rtol=1e-12, atol=1e-15)
    i = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert_same(cb.var(cb.asarray(i), axis=0), np.var(i, axis=0),
                rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
def test_argmax_argmin(axis, device):
    x = np.round(X, 1)  # ties
    x[1, 2, 3] = np.nan
    for data in (x, (X * 2).astype(np.int64), X > 0):
        a = cb.asarray(data, device=device)
        assert_same(cb.argmax(a, axis=axis),
                    np.asarray(np.argmax(data, axis=axis)))
        assert_same(cb.argmin(a, axis=axis, keepdims=True),
                    np.asarray(np.argmin(data, axis=axis, keepdims=True)))


@pytest.mark.parametrize("dtype", [t for t in DTYPES if t.kind != "c"],
                         ids=str)
def test_argmax_argmin_across_tiles(dtype, device):
    # Few distinct values (ties in every tile) and, for floats, NaNs: the
    # first best of the whole array, of each row and of each column,
    # with tiles of 3 rows (each tile's task keeps its best and where).
    rng = np.random.default_rng(7)
    x = rng.integers(0, 5, (40, 33)).astype(dtype)
    if dtype.kind == "f":
        x[rng.integers(0, 40, 3), rng.integers(0, 33, 3)] = np.nan
    with cb.tile_size(3 * 33):
        a = cb.asarray(x, device=device)
    was = cb.profiling()
    cb.profiling(True)
    try:
        for name in ("argmax", "argmin"):
            for axis in (None, 0, 1):
                cb.synchronize()
                cb.stats(reset=True)
                got = getattr(cb, name)(a, axis=axis)
                assert got.dtype == np.int64
                assert_same(got, np.asarray(getattr(np, name)(x, axis=axis)))
                # A task per tile (14) and the one that combines them.
                cb.synchronize()
                assert cb.stats()["operations"][name]["tasks"] == 15
    finally:
        cb.profiling(was)


def test_refusals():
    with pytest.raises(ValueError, match="empty sequence"):
        cb.argmax(cb.zeros(0))
    with pytest.raises(ValueError):
        cb.sum(cb.ones((2, 2)), axis=(0, 0))
    with pytest.raises(np.exceptions.AxisError):
        cb.sum(cb.ones((2, 2)), axis=(0, 2))
    with pytest.raises(ValueError):
        cb.sum(cb.ones((2, 2)), axis=2)


@pytest.mark.parametrize("where", DEVICES)
@settings(max_examples=80, deadline=None)
@given(hnp.array_shapes(min_dims=3, max_dims=5, min_side=1, max_side=6),
       st.data(), st.sampled_from([np.float32, np.float64, np.int32]),
       st.integers(1, 60))
def test_middle_axes_over_tiles_match_numpy(where, shape, data, dtype,
                                            tile):
    # Along an axis between the first and the last, each tile's slabs are
    # reduced by columns where the tile is: tiles of any whole number of
    # rows, on CPU workers and OpenCL devices.
    skip_missing(where)
    if dtype == np.float64 and not cb.get_device(where).fp64:
        return
    axis = data.draw(st.integers(1, len(shape) - 2))
    x = np.random.default_rng(len(shape)).normal(size=shape) * 10
    x = x.astype(dtype)
    if dtype == np.float64:
        x.flat[::7] = np.nan
    a = cb.asarray(x, device=where, tile_size=tile)
    for name in ("sum", "mean", "min", "max"):
        got = getattr(cb, name)(a, axis=axis, keepdims=bool(tile % 2))
        want = getattr(np, name)(x, axis=axis, keepdims=bool(tile % 2))
        assert_same(got, np.asarray(want), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("tile", [None, 1 << 22, 3_000_000])
def test_rows_longer_than_a_tile(tile, device):
    # Rows of more than 2^23 elements are cut by tiles: reductions along
    # an axis first copy them into tiles of whole rows, or slabs.
    x = np.random.default_rng(3).integers(0, 3, (2, 2, (1 << 22) + 1),
                                           dtype=np.uint8)
    a = cb.asarray(x, device=device, tile_size=tile)
    for axis in (1, 2, -1):
        assert_same(cb.sum(a, axis=axis), x.sum(axis=axis))
        assert_same(cb.max(a, axis=axis, keepdims=True),
                    x.max(axis=axis, keepdims=True))
