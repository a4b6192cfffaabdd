"""The rest of the Array API namespace against NumPy: dtype queries,
creation, clip, stacks of matrices, joining and splitting, and the
data-dependent functions computed on the host."""

import math

import numpy as np
import pytest

import cambrian as cb
from helpers import assert_same


def test_namespace_and_version():
    a = cb.ones(2)
    assert a.__array_namespace__() is cb
    for version in ("2022.12", "2023.12", "2024.12"):
        assert a.__array_namespace__(api_version=version) is cb
    with pytest.raises(ValueError, match="unsupported"):
        a.__array_namespace__(api_version="1999.01")
    assert cb.__array_api_version__ == "2024.12"
    assert cb.bool is np.bool_
    assert (cb.e, cb.pi, cb.newaxis) == (math.e, math.pi, None)
    assert math.isinf(cb.inf) and math.isnan(cb.nan)


def test_dtype_queries():
    assert cb.finfo(cb.float32).eps == np.finfo(np.float32).eps
    assert cb.finfo(cb.ones(1)).bits == 64
    assert cb.iinfo(cb.int64).min == np.iinfo(np.int64).min
    with pytest.raises(TypeError, match="float dtype"):
        cb.finfo(cb.int32)
    with pytest.raises(TypeError, match="integer dtype"):
        cb.iinfo(cb.float64)
    with pytest.raises(TypeError, match="no dtype"):
        cb.finfo(np.longdouble)
    for args in [(cb.int32, cb.float32), (cb.int32, 1), (cb.bool_, 1.0),
                 (cb.ones(1, dtype=cb.int32), cb.int64), (cb.float32, 1.0)]:
        assert cb.result_type(*args) == np.result_type(*args)
    with pytest.raises(TypeError):
        cb.result_type()
    with pytest.raises(TypeError):
        cb.result_type(1, 2.0)
    assert cb.can_cast(cb.int32, cb.float64)
    assert not cb.can_cast(cb.float64, cb.int64)
    assert cb.isdtype(cb.int32, "signed integer")
    assert cb.isdtype(cb.bool_, "bool")
    assert not cb.isdtype(cb.bool_, "numeric")
    assert cb.isdtype(cb.float32, ("integral", cb.float32))
    with pytest.raises(ValueError, match="unknown dtype kind"):
        cb.isdtype(cb.int32, "whole")
    a = cb.arange(3)
    assert cb.astype(a, cb.int64, copy=False) is a
    assert_same(cb.astype(a, cb.float32), np.arange(3, dtype=np.float32))


@pytest.mark.parametrize("num,endpoint", [(5, True), (5, False), (1, True),
                                          (0, True), (7, True)])
def test_linspace(num, endpoint, device):
    got = cb.linspace(-1, 2.5, num, endpoint=endpoint, device=device)
    assert_same(got, np.linspace(-1, 2.5, num, endpoint=endpoint),
                rtol=1e-15, atol=1e-15)
    assert cb.linspace(0, 1, 3, dtype=cb.float32).dtype == np.float32
    with pytest.raises(ValueError, match="non-negative"):
        cb.linspace(0, 1, -1)


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 4, 1), (4, 2, -1),
                                   (3, 3, 5), (0, None, 0)])
def test_eye(n, m, k, device):
    assert_same(cb.eye(n, m, k=k, device=device), np.eye(n, m, k=k))
    assert_same(cb.eye(n, m, k=k, dtype=cb.int32), np.eye(n, m, k=k,
                                                          dtype=np.int32))


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_triu(k, device):
    x = np.arange(24.0).reshape(2, 3, 4)
    a = cb.asarray(x, device=device)
    assert_same(cb.tril(a, k=k), np.tril(x, k=k))
    assert_same(cb.triu(a, k=k), np.triu(x, k=k))
    with pytest.raises(ValueError):
        cb.tril(cb.ones(3))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    xs = [np.arange(3), np.arange(2.0), np.arange(4)]
    for n in (1, 2, 3):
        got = cb.meshgrid(*(cb.asarray(x) for x in xs[:n]),
                          indexing=indexing)
        for g, w in zip(got, np.meshgrid(*xs[:n], indexing=indexing)):
            assert_same(g, w)
    with pytest.raises(ValueError):
        cb.meshgrid(cb.ones(2), indexing="yx")


def test_clip(device):
    x = np.arange(-3.0, 4.0)
    a = cb.asarray(x, device=device)
    assert_same(cb.clip(a, -1, 2), np.clip(x, -1, 2))
    assert_same(cb.clip(a, max=0.5), np.clip(x, None, 0.5))
    assert_same(cb.clip(a), x)
    i = np.arange(5, dtype=np.int32)
    assert_same(cb.clip(cb.asarray(i), 1, 3), np.clip(i, 1, 3))


def test_stacks_of_matrices():
    x = np.arange(24.0).reshape(2, 3, 4)
    a = cb.asarray(x)
    assert_same(cb.matrix_transpose(a), np.swapaxes(x, -1, -2))
    y = np.arange(12.0).reshape(3, 4)
    assert_same(cb.vecdot(a, cb.asarray(y)), np.vecdot(x, y))
    assert_same(cb.vecdot(a, cb.asarray(x), axis=0),
                np.vecdot(x, x, axis=0))
    with pytest.raises(ValueError):
        cb.vecdot(cb.ones(3), cb.ones(4))
    z = np.arange(60.0).reshape(3, 4, 5)
    for axes in (1, 2, ([1, 2], [0, 1]), ([2], [0])):
        if axes == ([2], [0]):
            assert_same(cb.tensordot(cb.asarray(x), cb.asarray(
                np.ones((4, 2))), axes=axes),
                np.tensordot(x, np.ones((4, 2)), axes=axes), rtol=1e-12)
        elif axes == 1:
            assert_same(cb.tensordot(a, cb.asarray(np.ones((4, 5))),
                                     axes=1),
                        np.tensordot(x, np.ones((4, 5)), axes=1),
                        rtol=1e-12)
        else:
            assert_same(cb.tensordot(a, cb.asarray(z), axes=axes),
                        np.tensordot(x, z, axes=axes), rtol=1e-12)
    with pytest.raises(ValueError, match="shape mismatch"):
        cb.tensordot(a, a, axes=1)
    with pytest.raises(ValueError):
        cb.matrix_transpose(cb.ones(2))


def test_tile_repeat_split_unstack(device):
    x = np.arange(6).reshape(2, 3)
    a = cb.asarray(x, device=device)
    for reps in [(2,), (2, 1), (1, 3), (2, 2, 2)]:
        assert_same(cb.tile(a, reps), np.tile(x, reps))
    for r, axis in [(2, None), (3, 0), (2, 1), (0, 1)]:
        assert_same(cb.repeat(a, r, axis=axis), np.repeat(x, r, axis=axis))
    counts = np.array([1, 0, 2])
    assert_same(cb.repeat(a, cb.asarray(counts), axis=1),
                np.repeat(x, counts, axis=1))
    for got, want in zip(cb.split(a, 3, axis=1), np.split(x, 3, axis=1)):
        assert_same(got, want)
    for got, want in zip(cb.split(a, [1, 2], axis=1),
                         np.split(x, [1, 2], axis=1)):
        assert_same(got, want)
    with pytest.raises(ValueError, match="equal division"):
        cb.split(a, 2, axis=1)
    for got, want in zip(cb.unstack(a, axis=1), np.unstack(x, axis=1)):
        assert_same(got, want)


def test_data_dependent_functions_on_the_host(device):
    x = np.array([3, 0, 2, 0, 5, 2, 2], dtype=np.int64)
    a = cb.asarray(x, device=device)
    (nz,) = cb.nonzero(a)
    assert_same(nz, np.nonzero(x)[0])
    assert nz.device == a.device
    assert_same(cb.take(a, cb.asarray([6, 0])), x[[6, 0]])
    assert_same(cb.cumulative_sum(a), np.cumsum(x))
    assert_same(cb.cumulative_sum(a, include_initial=True),
                np.concatenate([[0], np.cumsum(x)]))
    assert_same(cb.sort(a), np.sort(x))
    assert_same(cb.sort(a, descending=True), np.sort(x)[::-1])
    assert_same(cb.argsort(a), np.argsort(x, kind="stable"))
    got = cb.argsort(a, descending=True).numpy()
    assert list(x[got]) == sorted(x, reverse=True)
    for i in range(len(x) - 1):  # ties keep their order
        if x[got[i]] == x[got[i + 1]]:
            assert got[i] < got[i + 1]
    s = np.sort(x)
    assert_same(cb.searchsorted(cb.asarray(s), cb.asarray([2, 4]),
                                side="right"),
                np.searchsorted(s, [2, 4], side="right"))
    assert_same(cb.unique_values(a), np.unique(x))
    u = cb.unique_all(a)
    v, i, inv, c = np.unique(x, return_index=True, return_inverse=True,
                             return_counts=True)
    for got, want in zip(u, (v, i, inv, c)):
        assert_same(got, want)
    assert_same(cb.unique_counts(a).counts, c)
    assert_same(cb.unique_inverse(a).inverse_indices, inv)
    with pytest.raises(ValueError):
        cb.nonzero(cb.asarray(1))
    with pytest.raises(ValueError, match="needs an axis"):
        cb.take(cb.ones((2, 2)), cb.asarray([0]))


def test_more_of_the_namespace():
    a = cb.arange(4)
    assert cb.pow is cb.power
    assert_same(cb.pow(a, 2), np.arange(4) ** 2)
    f = cb.asarray([1.5, -2.0])
    assert_same(cb.conj(f), np.array([1.5, -2.0]))
    assert_same(cb.real(f), np.array([1.5, -2.0]))
    assert_same(cb.imag(f), np.zeros(2))
    assert complex(cb.asarray(2.5)) == 2.5 + 0j
    info = cb.__array_namespace_info__()
    assert info.capabilities()["boolean indexing"] is True
    assert set(info.dtypes()) == {"bool", "int8", "int16", "int32", "int64",
                                  "uint8", "uint16", "uint32", "uint64",
                                  "float32", "float64", "complex64",
                                  "complex128"}
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert set(info.dtypes(kind="complex floating")) == {"complex64",
                                                         "complex128"}
    assert info.default_dtypes()["complex floating"] == np.complex128
    assert info.default_dtypes()["integral"] == np.int64
    assert info.devices() == cb.devices()
    fi = cb.finfo(cb.float32)
    assert type(fi.eps) is float and fi.bits == 32
    ii = cb.iinfo(cb.uint16)
    assert (ii.min, ii.max) == (0, 65535) and type(ii.max) is int
    assert cb.isdtype(dtype=cb.int8, kind="signed integer")


def test_prod_and_sum_dtypes(device):
    x = np.arange(1, 25, dtype=np.int32).reshape(2, 3, 4)
    a = cb.asarray(x, device=device)
    for axis in (None, 0, 1, 2, (0, 2)):
        assert_same(cb.prod(a, axis=axis), np.asarray(np.prod(x, axis=axis)))
    u = np.arange(1, 6, dtype=np.uint8)
    assert_same(cb.prod(cb.asarray(u)), np.asarray(np.prod(u)))
    f = np.random.default_rng(0).uniform(0.5, 1.5, (7, 5))
    assert_same(cb.prod(cb.asarray(f), axis=0, keepdims=True),
                np.prod(f, axis=0, keepdims=True), rtol=1e-13)
    assert_same(cb.prod(cb.zeros((0, 3)), axis=0), np.ones(3))
    assert_same(cb.sum(a, dtype=cb.int32), np.asarray(np.sum(x,
                                                            dtype=np.int32)))
    assert_same(cb.sum(a, axis=1, dtype=cb.float32),
                np.sum(x, axis=1, dtype=np.float32))


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4,)),
                                   ((4,), (3, 4, 2)), ((1, 3, 4), (5, 4, 2)),
                                   ((0, 0, 0), (0,)), ((3, 4), (4, 2))],
                         ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8,
                                   np.bool_], ids=str)
def test_matmul_of_stacks_and_integers(sa, sb, dtype):
    x = (np.arange(int(np.prod(sa))) % 7).reshape(sa).astype(dtype)
    y = (np.arange(int(np.prod(sb))) % 5).reshape(sb).astype(dtype)
    got = cb.asarray(x) @ cb.asarray(y)
    assert_same(got, np.asarray(x @ y), rtol=1e-12)
    assert_same(cb.matmul(cb.asarray(x), cb.asarray(y)), np.asarray(x @ y),
                rtol=1e-12)


def test_empty_in_place_and_default_dtypes():
    m = cb.zeros((0,))
    m += cb.zeros((0,))
    assert m.shape == (0,)
    b = cb.zeros((0, 3), dtype=bool)
    b |= cb.zeros((0, 3), dtype=bool)
    assert b.shape == (0, 3)
    assert cb.zeros(3, dtype=None).dtype == np.float64
    assert cb.ones((), dtype=None).dtype == np.float64
    assert cb.empty((), dtype=None).dtype == np.float64
    assert cb.ones(2).to_device("cpu", stream=None).device.type == "cpu"
    with pytest.raises(ValueError, match="stream"):
        cb.ones(2).to_device("cpu", stream=1)


def test_functions_of_the_2024_standard(device):
    rng = np.random.default_rng(3)
    m = rng.integers(-3, 4, (4, 5)).astype(np.int64)
    a = cb.asarray(m, device=device)
    for axis in (0, 1, -1):
        assert_same(cb.diff(a, axis=axis), np.diff(m, axis=axis))
        assert_same(cb.diff(a, axis=axis, n=2), np.diff(m, axis=axis, n=2))
        assert_same(cb.count_nonzero(a, axis=axis),
                    np.count_nonzero(m, axis=axis).astype(np.int64))
        assert_same(cb.cumulative_prod(a, axis=axis),
                    np.cumulative_prod(m, axis=axis))
    assert_same(cb.diff(a, n=0), m)
    edge = cb.asarray(np.zeros((4, 1), np.int64), device=device)
    assert_same(cb.diff(a, prepend=edge, append=edge),
                np.diff(m, prepend=np.zeros((4, 1), np.int64),
                        append=np.zeros((4, 1), np.int64)))
    b = np.array([True, True, False, True])
    assert_same(cb.diff(cb.asarray(b, device=device)), np.diff(b))
    assert int(cb.count_nonzero(a)) == np.count_nonzero(m)
    assert_same(cb.count_nonzero(a, axis=1, keepdims=True),
                np.count_nonzero(m, axis=1, keepdims=True).astype(np.int64))
    assert_same(cb.cumulative_prod(cb.asarray(m[0], device=device),
                                   include_initial=True),
                np.cumulative_prod(m[0], include_initial=True))
    order = np.argsort(m, axis=1)
    got = cb.take_along_axis(a, cb.asarray(order), axis=1)
    assert_same(got, np.take_along_axis(m, order, axis=1))
    assert got.device == a.device
    f = rng.standard_normal(7).astype(np.float32)
    x = cb.asarray(f, device=device)
    assert_same(cb.reciprocal(x), np.reciprocal(f))
    assert_same(cb.nextafter(x, np.float32(np.inf)),
                np.nextafter(f, np.float32(np.inf)))
    assert_same(cb.nextafter(x, cb.asarray(-f, device=device)),
                np.nextafter(f, -f))
    assert_same(cb.nextafter(x, 0), np.nextafter(f, 0))
    with pytest.raises(TypeError, match="floating-point"):
        cb.reciprocal(a)
    with pytest.raises(TypeError, match="floating-point"):
        cb.nextafter(a, 1.0)
    with pytest.raises(ValueError, match="n must be at least 0"):
        cb.diff(a, n=-1)
    with pytest.raises(ValueError, match="at least one dimension"):
        cb.diff(cb.asarray(1.0))
    with pytest.raises(ValueError, match="needs an axis"):
        cb.cumulative_prod(a)
