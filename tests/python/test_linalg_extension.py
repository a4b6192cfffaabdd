"""cambrian.linalg, the Array API's extension, against numpy.linalg: the
tasks (diagonal, trace, norms, outer, cross) and the LAPACK functions run
on the host."""

import math

import numpy as np
import pytest

import cambrian as cb
from helpers import assert_same

X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3, 9])
def test_diagonal_and_trace(offset, device):
    a = cb.asarray(X, device=device)
    assert_same(cb.linalg.diagonal(a, offset=offset),
                np.linalg.diagonal(X, offset=offset))
    assert_same(cb.linalg.trace(a, offset=offset),
                np.asarray(np.linalg.trace(X, offset=offset)))


@pytest.mark.parametrize("ord", [2, 1, math.inf, -math.inf, 0, 3])
@pytest.mark.parametrize("axis", [None, 1, (1, 2)], ids=str)
def test_vector_norm(ord, axis):
    got = cb.linalg.vector_norm(cb.asarray(X), axis=axis, ord=ord)
    assert_same(got, np.asarray(np.linalg.vector_norm(X, axis=axis,
                                                      ord=ord)),
                rtol=1e-12)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf, "nuc",
                                 2, -2])
def test_matrix_norm(ord):
    assert_same(cb.linalg.matrix_norm(cb.asarray(X), ord=ord,
                                      keepdims=True),
                np.linalg.matrix_norm(X, ord=ord, keepdims=True),
                rtol=1e-12)
    with pytest.raises(ValueError, match="unknown matrix norm"):
        cb.linalg.matrix_norm(cb.asarray(X), ord="max")


def test_products():
    assert_same(cb.linalg.outer(cb.arange(3), cb.arange(4)),
                np.outer(np.arange(3), np.arange(4)))
    u = np.arange(12).reshape(4, 3)
    v = np.arange(12)[::-1].reshape(4, 3).copy()
    assert_same(cb.linalg.cross(cb.asarray(u), cb.asarray(v)),
                np.cross(u, v))
    assert_same(cb.linalg.cross(cb.asarray(u.T.copy()), cb.asarray(
        v.T.copy()), axis=0), np.cross(u.T, v.T, axis=0))
    assert cb.linalg.matmul is cb.matmul
    with pytest.raises(ValueError):
        cb.linalg.cross(cb.ones(2), cb.ones(2))
    with pytest.raises(ValueError):
        cb.linalg.outer(cb.ones((2, 2)), cb.ones(2))


def test_lapack_on_the_host():
    m = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    a = cb.asarray(m)
    assert_same(cb.linalg.cholesky(a), np.linalg.cholesky(m), rtol=1e-12)
    assert_same(cb.linalg.det(a), np.asarray(np.linalg.det(m)), rtol=1e-12)
    assert_same(cb.linalg.inv(a), np.linalg.inv(m), rtol=1e-12)
    assert_same(cb.linalg.eigvalsh(a), np.linalg.eigvalsh(m), rtol=1e-12)
    assert_same(cb.linalg.svdvals(a), np.linalg.svdvals(m), rtol=1e-12)
    assert_same(cb.linalg.solve(a, cb.asarray([1.0, 2.0, 3.0])),
                np.linalg.solve(m, [1.0, 2.0, 3.0]), rtol=1e-12)
    assert_same(cb.linalg.matrix_power(a, 3),
                np.linalg.matrix_power(m, 3), rtol=1e-12)
    assert_same(cb.linalg.matrix_rank(a), np.asarray(3))
    assert_same(cb.linalg.pinv(a), np.linalg.pinv(m), rtol=1e-10)
    q, r = cb.linalg.qr(a)
    assert_same(q @ r, m, rtol=1e-12, atol=1e-14)
    s, ld = cb.linalg.slogdet(a)
    assert float(s) == 1.0
    u, sv, vh = cb.linalg.svd(a)
    assert_same(sv, np.linalg.svdvals(m), rtol=1e-12)
    w, v = cb.linalg.eigh(a)
    assert_same(w, np.linalg.eigvalsh(m), rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        cb.linalg.inv(cb.zeros((2, 2)))
