"""The Array API's linalg extension: cambrian.linalg.

Products, transposes, norms, diagonals and traces are cambrian's tasks
(BLAS products, layout copies, reductions). The factorisations and solvers
(cholesky, det, eigh, eigvalsh, inv, matrix_power, matrix_rank, pinv, qr,
slogdet, solve, svd, svdvals) wait for their operands and run LAPACK on the
host through NumPy, then return Arrays placed as their first operand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._array_api import _host, matrix_transpose, tensordot, vecdot
from ._linalg import matmul
from ._manipulation import _array, _axis

if TYPE_CHECKING:
    from ._core import Array

__all__ = ["matmul", "matrix_transpose", "vecdot", "tensordot", "outer",
           "diagonal", "trace", "vector_norm", "matrix_norm", "cross",
           "cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_power",
           "matrix_rank", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals"]


def outer(x1: Array, x2: Array, /) -> Array:
    """The outer product of two vectors, by broadcasting (a task).

    Parameters
    ----------
    x1, x2 : Array
        1-D.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        An operand is not 1-D.

    Examples
    --------
    >>> cb.linalg.outer(cb.arange(2), cb.arange(3)).tolist()
    [[0, 0, 0], [0, 1, 2]]
    """
    from ._manipulation import reshape
    a, b = _array(x1), _array(x2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("outer takes two 1-D arrays")
    return reshape(a, (a.shape[0], 1)) * b


def diagonal(x: Array, /, *, offset: int = 0) -> Array:
    """The offset-th diagonals of the matrices of x (its last two axes),
    by one layout copy.

    Parameters
    ----------
    x : Array
        2 or more dimensions.
    offset : int, optional
        Positive: above the main diagonal.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        x has fewer than 2 dimensions.

    Examples
    --------
    >>> cb.linalg.diagonal(cb.reshape(cb.arange(9), (3, 3))).tolist()
    [0, 4, 8]
    """
    from . import _core
    from ._manipulation import _whole
    a = _array(x)
    if a.ndim < 2:
        raise ValueError("diagonal needs 2 or more dimensions")
    shape, strides, _ = _whole(a)
    n, m = shape[-2], shape[-1]
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n - row, m - col))
    start = row * strides[-2] + col * strides[-1] if length else 0
    return _core.gather(a, (tuple(shape[:-2]) + (length,),
                            tuple(strides[:-2]) + (strides[-2] +
                                                   strides[-1],), start))


def trace(x: Array, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """The sums of the offset-th diagonals of the matrices of x.

    Parameters
    ----------
    x : Array
        2 or more dimensions.
    offset : int, optional
    dtype : dtype, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> int(cb.linalg.trace(cb.reshape(cb.arange(9), (3, 3))))
    12
    """
    from ._reductions import sum
    return sum(diagonal(x, offset=offset), -1, dtype=dtype)


def vector_norm(x: Array, /, *, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False, ord: float = 2) -> Array:
    """Vector norms of x over axis: the ord-th root of the sum of the
    ord-th powers of the absolute values; the largest absolute value for
    inf, the smallest for -inf, the count of non-zeros for 0.

    Parameters
    ----------
    x : Array
    axis : int or tuple of ints, optional
        None: every element, as one vector.
    keepdims : bool, optional
    ord : int or float, optional

    Returns
    -------
    Array
        A float dtype.

    Examples
    --------
    >>> float(cb.linalg.vector_norm(cb.asarray([3.0, 4.0])))
    5.0
    """
    from ._elementwise import absolute
    from ._reductions import max, min, sum
    a = _array(x)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    m = absolute(a)   # of the parts' dtype for complex
    if ord == math.inf:
        return max(m, axis, keepdims=keepdims)
    if ord == -math.inf:
        return min(m, axis, keepdims=keepdims)
    if ord == 0:
        return sum((m != 0).astype(m.dtype), axis, keepdims=keepdims)
    if ord == 1:
        return sum(m, axis, keepdims=keepdims)
    if ord == 2:
        return sum(m * m, axis, keepdims=keepdims) ** 0.5
    return sum(m ** ord, axis, keepdims=keepdims) ** (1.0 / ord)


def matrix_norm(x: Array, /, *, keepdims: bool = False,
                ord: str | float = "fro") -> Array:
    """Matrix norms of the matrices of x: Frobenius ("fro") and the
    largest or smallest absolute row and column sums (inf, -inf, 1, -1)
    as tasks; nuclear and 2-norms through singular values on the host.

    Parameters
    ----------
    x : Array
        2 or more dimensions.
    keepdims : bool, optional
    ord : {"fro", "nuc", 1, -1, 2, -2, inf, -inf}, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        An unknown ord.

    Examples
    --------
    >>> float(cb.linalg.matrix_norm(cb.ones((2, 2))))
    2.0
    """
    from ._elementwise import absolute
    from ._reductions import max, min, sum
    a = _array(x)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    axes = (a.ndim - 2, a.ndim - 1)
    if ord == "fro":
        m = absolute(a)
        return sum(m * m, axes, keepdims=keepdims) ** 0.5
    if ord in (1, -1, math.inf, -math.inf):
        along = -2 if ord in (1, -1) else -1
        sums = sum(absolute(a), along, keepdims=True)
        pick = max if ord in (1, math.inf) else min
        return pick(sums, axes, keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        norm: Any = np.linalg.matrix_norm
        out: Array = _host(lambda v: norm(v, keepdims=keepdims, ord=ord), a)
        return out
    raise ValueError(f"unknown matrix norm order {ord!r}")


def cross(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """The cross products of 3-vectors along axis (element-wise tasks).

    Parameters
    ----------
    x1, x2 : Array
        Of length 3 along axis; the other axes broadcast.
    axis : int, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        A length along axis is not 3.

    Examples
    --------
    >>> cb.linalg.cross(cb.asarray([1, 0, 0]), cb.asarray([0, 1, 0])).tolist()
    [0, 0, 1]
    """
    from ._manipulation import moveaxis, stack
    a, b = _array(x1), _array(x2)
    if a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ValueError("cross needs vectors of length 3 along axis")
    u = moveaxis(a, _axis(axis, a.ndim), 0)
    v = moveaxis(b, _axis(axis, b.ndim), 0)
    parts = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
             u[0] * v[1] - u[1] * v[0]]
    out = stack(parts, axis=0)
    return moveaxis(out, 0, _axis(axis, out.ndim))


# ---- through LAPACK on the host ---------------------------------------------

class EighResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class QRResult(NamedTuple):
    Q: Array
    R: Array


class SlogdetResult(NamedTuple):
    sign: Array
    logabsdet: Array


class SVDResult(NamedTuple):
    U: Array
    S: Array
    Vh: Array


def _float(x: Array) -> Array:
    """x, converted to float64 unless it is float or complex."""
    a = _array(x)
    return a if a.dtype.kind in "fc" else a.astype(np.float64)


def cholesky(x: Array, /, *, upper: bool = False) -> Array:
    """The Cholesky factor of the symmetric positive-definite matrices of
    x. Waits and runs LAPACK on the host.

    Parameters
    ----------
    x : Array
    upper : bool, optional

    Returns
    -------
    Array

    Raises
    ------
    numpy.linalg.LinAlgError
        A matrix is not positive-definite.

    Examples
    --------
    >>> cb.linalg.cholesky(cb.eye(2) * 4.0).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    out: Array = _host(lambda v: np.linalg.cholesky(v, upper=upper),
                       _float(x))
    return out


def det(x: Array, /) -> Array:
    """The determinants of the matrices of x. Waits and runs LAPACK on the
    host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array

    Examples
    --------
    >>> round(float(cb.linalg.det(cb.eye(3) * 2.0)), 6)
    8.0
    """
    out: Array = _host(np.linalg.det, _float(x))
    return out


def eigh(x: Array, /) -> EighResult:
    """Eigenvalues and eigenvectors of the symmetric matrices of x. Waits
    and runs LAPACK on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    EighResult
        eigenvalues, eigenvectors.

    Examples
    --------
    >>> cb.linalg.eigh(cb.eye(2)).eigenvalues.tolist()
    [1.0, 1.0]
    """
    w, v = _host(lambda m: tuple(np.linalg.eigh(m)), _float(x))
    return EighResult(w, v)


def eigvalsh(x: Array, /) -> Array:
    """Eigenvalues of the symmetric matrices of x. Waits and runs LAPACK
    on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.linalg.eigvalsh(cb.eye(2)).tolist()
    [1.0, 1.0]
    """
    out: Array = _host(np.linalg.eigvalsh, _float(x))
    return out


def inv(x: Array, /) -> Array:
    """The inverses of the matrices of x. Waits and runs LAPACK on the
    host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array

    Raises
    ------
    numpy.linalg.LinAlgError
        A matrix is singular.

    Examples
    --------
    >>> cb.linalg.inv(cb.eye(2) * 2.0).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    out: Array = _host(np.linalg.inv, _float(x))
    return out


def matrix_power(x: Array, n: int, /) -> Array:
    """The matrices of x to the integer power n. Waits and runs on the
    host.

    Parameters
    ----------
    x : Array
    n : int

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.linalg.matrix_power(cb.eye(2) * 2.0, 3).tolist()
    [[8.0, 0.0], [0.0, 8.0]]
    """
    out: Array = _host(lambda v: np.linalg.matrix_power(v, n), _array(x))
    return out


def matrix_rank(x: Array, /, *, rtol: float | Array | None = None) -> Array:
    """The ranks of the matrices of x. Waits and runs LAPACK on the host.

    Parameters
    ----------
    x : Array
    rtol : float or Array, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> int(cb.linalg.matrix_rank(cb.eye(3)))
    3
    """
    tol = None if rtol is None else np.asarray(rtol)
    out: Array = _host(lambda v: np.asarray(
        np.linalg.matrix_rank(v, rtol=tol)).astype(np.int64), _float(x))
    return out


def pinv(x: Array, /, *, rtol: float | Array | None = None) -> Array:
    """The pseudo-inverses of the matrices of x. Waits and runs LAPACK on
    the host.

    Parameters
    ----------
    x : Array
    rtol : float or Array, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.linalg.pinv(cb.eye(2) * 2.0).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    tol = None if rtol is None else np.asarray(rtol)
    fn: Any = np.linalg.pinv
    out: Array = _host(lambda v: fn(v, rtol=tol), _float(x))
    return out


def qr(x: Array, /, *, mode: str = "reduced") -> QRResult:
    """The QR factorisations of the matrices of x. Waits and runs LAPACK
    on the host.

    Parameters
    ----------
    x : Array
    mode : {"reduced", "complete"}, optional

    Returns
    -------
    QRResult
        Q, R.

    Examples
    --------
    >>> cb.linalg.qr(cb.eye(2)).R.shape
    (2, 2)
    """
    fn: Any = np.linalg.qr
    q, r = _host(lambda v: tuple(fn(v, mode=mode)), _float(x))
    return QRResult(q, r)


def slogdet(x: Array, /) -> SlogdetResult:
    """The signs and logarithms of the absolute determinants of the
    matrices of x. Waits and runs LAPACK on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    SlogdetResult
        sign, logabsdet.

    Examples
    --------
    >>> float(cb.linalg.slogdet(cb.eye(2)).sign)
    1.0
    """
    s, ld = _host(lambda v: tuple(np.linalg.slogdet(v)), _float(x))
    return SlogdetResult(s, ld)


def solve(x1: Array, x2: Array, /) -> Array:
    """The solutions X of x1 @ X = x2. Waits and runs LAPACK on the host.

    Parameters
    ----------
    x1 : Array
        Square matrices.
    x2 : Array
        A vector, or matrices.

    Returns
    -------
    Array

    Raises
    ------
    numpy.linalg.LinAlgError
        A matrix is singular.

    Examples
    --------
    >>> cb.linalg.solve(cb.eye(2) * 2.0, cb.asarray([2.0, 4.0])).tolist()
    [1.0, 2.0]
    """
    b = np.asarray(_float(x2))
    out: Array = _host(lambda a: np.linalg.solve(a, b), _float(x1))
    return out


def svd(x: Array, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decompositions of the matrices of x. Waits and
    runs LAPACK on the host.

    Parameters
    ----------
    x : Array
    full_matrices : bool, optional

    Returns
    -------
    SVDResult
        U, S, Vh.

    Examples
    --------
    >>> cb.linalg.svd(cb.eye(2)).S.tolist()
    [1.0, 1.0]
    """
    u, s, vh = _host(lambda v: tuple(np.linalg.svd(
        v, full_matrices=full_matrices)), _float(x))
    return SVDResult(u, s, vh)


def svdvals(x: Array, /) -> Array:
    """The singular values of the matrices of x. Waits and runs LAPACK on
    the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.linalg.svdvals(cb.eye(2)).tolist()
    [1.0, 1.0]
    """
    out: Array = _host(np.linalg.svdvals, _float(x))
    return out

