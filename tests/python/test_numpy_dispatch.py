"""NumPy's ufuncs and functions called on Arrays: cambrian's own where
it has them (Arrays come back, values as NumPy's), NumPy over the host
copies otherwise."""
import numpy as np
import pytest

import cambrian as cb
from helpers import DEVICES, skip_missing


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    return request.param


X = np.arange(1.0, 7.0).reshape(2, 3)


@pytest.mark.parametrize("ufunc", [np.sqrt, np.exp, np.log, np.sin, np.cos,
                                   np.tanh, np.negative, np.absolute])
def test_unary_ufuncs_run_as_tasks(dev, ufunc):
    a = cb.asarray(X, device=dev)
    r = ufunc(a)
    assert isinstance(r, cb.Array)
    np.testing.assert_allclose(r.numpy(), ufunc(X), rtol=1e-12)


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply,
                                   np.divide, np.power, np.maximum,
                                   np.minimum, np.equal, np.less,
                                   np.greater_equal])
def test_binary_ufuncs_with_scalars_and_numpy(dev, ufunc):
    a = cb.asarray(X, device=dev)
    for other in (2.0, 3, X[::-1].copy()):
        r = ufunc(a, other)
        assert isinstance(r, cb.Array)
        np.testing.assert_allclose(r.numpy(), ufunc(X, other), rtol=1e-12)
    r = ufunc(X, a)               # NumPy's array first
    assert isinstance(r, cb.Array)
    np.testing.assert_allclose(r.numpy(), ufunc(X, X), rtol=1e-12)


def test_reduce_and_functions(dev):
    a = cb.asarray(X, device=dev)
    for got, want in [(np.add.reduce(a, axis=0), np.add.reduce(X, axis=0)),
                      (np.maximum.reduce(a, axis=1), X.max(axis=1)),
                      (np.sum(a, axis=0), X.sum(axis=0)),
                      (np.sum(a), X.sum()), (np.mean(a, 1), X.mean(1)),
                      (np.min(a), X.min()), (np.max(a, axis=0), X.max(0)),
                      (np.where(a > 3, a, 0.0), np.where(X > 3, X, 0.0)),
                      (np.transpose(a), X.T), (np.matmul(a, a.T), X @ X.T)]:
        assert isinstance(got, cb.Array)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_the_rest_runs_in_numpy_on_the_host_copies(dev):
    a = cb.asarray(X, device=dev)
    got = np.rint(a)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, np.rint(X))
    np.testing.assert_array_equal(np.concatenate([a, a], dtype=np.float32),
                                  np.concatenate([X, X], dtype=np.float32))
    np.testing.assert_array_equal(np.cumsum(a), np.cumsum(X))
    np.testing.assert_allclose(np.sum(a, axis=0, keepdims=True),
                               X.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(np.add(a, 1, dtype=np.float32),
                               np.add(X, 1, dtype=np.float32))


def test_out_takes_numpy_arrays(dev):
    a = cb.asarray(X, device=dev)
    out = np.empty_like(X)
    assert np.multiply(a, 2, out=out) is out
    np.testing.assert_array_equal(out, X * 2)
    out = np.empty(3)
    assert np.add.reduce(a, axis=0, out=out) is out
    np.testing.assert_array_equal(out, X.sum(axis=0))
    with pytest.raises(TypeError, match="out="):
        np.cumsum(a, out=cb.ones(6))


def test_out_takes_arrays_for_element_wise_ufuncs(dev):
    a = cb.asarray(X, device=dev, copy=True)   # written in place below
    c = cb.zeros((2, 3), device=dev)
    assert np.multiply(a, 2, out=c) is c
    np.testing.assert_array_equal(c.numpy(), X * 2)
    assert np.add(a, 1, out=a) is a            # in place
    np.testing.assert_array_equal(a.numpy(), X + 1)
    m = cb.ones((2, 3), dtype=cb.bool_, device=dev)
    np.less(a, 4, out=m)
    np.testing.assert_array_equal(m.numpy(), X + 1 < 4)
    with pytest.raises(TypeError, match="int64"):
        np.add(a, 1, out=cb.zeros((2, 3), dtype=cb.int64, device=dev))
    with pytest.raises(ValueError, match="shape"):
        np.add(a, 1, out=cb.zeros(6, device=dev))
    with pytest.raises(TypeError, match="out="):
        np.matmul(a, a.T, out=cb.zeros((2, 2), device=dev))


def test_bad_input_raises_as_numpy_does(dev):
    a = cb.asarray(X, device=dev)
    with pytest.raises(ValueError):
        np.add(a, np.ones(4))
    with pytest.raises(np.exceptions.AxisError):
        np.sum(a, axis=5, keepdims=True)


def test_ufunc_at_writes_the_array_and_through_views():
    a = cb.arange(8.0)
    np.add.at(a, [0, 0, 7], 5.0)
    assert a.tolist() == [10.0, 1, 2, 3, 4, 5, 6, 12]
    v = a[2:6]
    np.multiply.at(v, [1, 1], 2.0)
    assert a.tolist() == [10.0, 1, 2, 12, 4, 5, 6, 12]
    assert v.tolist() == [2.0, 12, 4, 5]
