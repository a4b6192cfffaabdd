"""Linear algebra: matrix products as tasks, one per row block of the
result, with OpenBLAS on CPU workers and CLBlast on OpenCL devices.

Operands are cambrian Arrays or C-contiguous buffers (NumPy arrays, used
without a copy); matmul also multiplies stacks of matrices, one product
each. Shapes and dtypes are checked at the
call (ValueError, TypeError); the work runs asynchronously and its
failures come back on the result, as for any operation. Tasks are named
"matmul", "gemm", "gemv" and "transpose" (cambrian.testing.inject_fault
takes these names).

Dtypes: BLAS multiplies float32, float64, complex64 and complex128 (alpha
and beta of gemm and gemv are real). matmul promotes as NumPy does
(float32 @ float64 and int32 @ float32 are float64); integer and bool
products, which BLAS lacks, are element-wise products summed; float16
multiplies as float32 and rounds the result back. gemm and gemv take
operands of C's (y's) dtype only (not float16). matmul and transpose
given a graph's values record nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence, SupportsFloat, overload

import numpy.typing as npt

from . import _core
from ._graph import Value as _Value

if TYPE_CHECKING:
    from ._core import Array

__all__ = ["matmul", "gemm", "gemv", "transpose"]

@overload
def matmul(x1: _Value, x2: Array | npt.NDArray[Any] | _Value) -> _Value:
    ...
@overload
def matmul(x1: Array | npt.NDArray[Any], x2: _Value) -> _Value: ...
@overload
def matmul(x1: Array | npt.NDArray[Any],
           x2: Array | npt.NDArray[Any]) -> Array: ...


def matmul(x1: object, x2: object) -> object:
    """The matrix product x1 @ x2, with NumPy's rules.

    (m, k) @ (k, n) is (m, n); a 1-D operand is a row on the left and a
    column on the right, and its dimension is dropped from the result
    ((k,) @ (k,) is a 0-D array). Operands of more dimensions are stacks
    of matrices, whose leading dimensions broadcast: each product is a
    matrix product of its own.

    Parameters
    ----------
    x1, x2 : Array or numpy.ndarray
        float32 or float64 (or promoting to them).

    Returns
    -------
    Array
        A new array placed where the operands are (or on the default
        device), one task per row block.

    Integers and bools (which BLAS lacks) multiply by broadcasting and
    summing: m * k * n elements a matrix are held meanwhile, and the
    result wraps around as NumPy's does. float16 multiplies as float32
    and the result is rounded back to float16.

    Raises
    ------
    ValueError
        The inner dimensions differ, or the operands are on two devices.
    TypeError
        float64 on a device without it.

    Examples
    --------
    >>> a = cb.asarray([[1.0, 2.0], [3.0, 4.0]])
    >>> (a @ cb.asarray([1.0, 1.0])).numpy()
    array([3., 7.])
    """
    for v in (x1, x2):
        if isinstance(v, _Value):
            return v._graph._product("matmul", x1, x2)
    return _core.matmul(x1, x2)


def _integer_matmul(a: Array, b: Array) -> Array:
    """a @ b of integers or bools, which BLAS lacks: every product of the
    inner dimension made by broadcasting, then summed, wrapping around as
    NumPy's do. It holds m * k * n elements a matrix meanwhile."""
    from ._array_api import result_type
    from ._manipulation import expand_dims, reshape
    from ._reductions import any, sum
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = reshape(a, (1, a.shape[0]))
    if vb:
        b = reshape(b, (b.shape[0], 1))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have 1 or more dimensions")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: operands do not match in their inner "
                         f"dimension: {a.shape[-1]} (a) and "
                         f"{b.shape[-2]} (b)")
    want = result_type(a, b)
    terms = expand_dims(a, axis=-1) * expand_dims(b, axis=-3)
    out = any(terms, axis=-2) if want == bool else sum(terms, axis=-2)
    if out.dtype != want:
        out = out.astype(want)
    if va and vb:
        out = reshape(out, out.shape[:-2])
    elif va:
        out = reshape(out, out.shape[:-2] + (out.shape[-1],))
    elif vb:
        out = reshape(out, out.shape[:-1])
    return out


def _half_matmul(a: Array, b: Array) -> Array:
    """a @ b of float16 (with bool or 8-bit integers): multiplied by
    float32 BLAS, the result rounded back to float16, as NumPy's matmul of
    halves sums in floats."""
    out: Array = _core.matmul(a.astype("float32"), b.astype("float32"))
    return out.astype("float16")


def _stacked_matmul(a: Array, b: Array) -> Array:
    """a @ b where an operand has more than 2 dimensions: the leading
    dimensions broadcast, and each pair of matrices is multiplied apart."""
    import itertools

    from ._manipulation import (broadcast_shapes, broadcast_to, reshape,
                                stack)
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = reshape(a, (1, a.shape[0]))
    if vb:
        b = reshape(b, (b.shape[0], 1))
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: operands do not match in their inner "
                         f"dimension: {a.shape[-1]} (a) and "
                         f"{b.shape[-2]} (b)")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, n = a.shape[-2], b.shape[-1]
    a = broadcast_to(a, batch + a.shape[-2:]) if a.shape[:-2] != batch \
        else a
    b = broadcast_to(b, batch + b.shape[-2:]) if b.shape[:-2] != batch \
        else b
    parts = [_core.matmul(a[i], b[i])
             for i in itertools.product(*(range(d) for d in batch))]
    if parts:
        out = reshape(stack(parts), batch + (m, n))
    else:
        from ._creation import zeros
        out = zeros(batch + (m, n), dtype=a.dtype, device=a.device)
    if va:
        out = reshape(out, out.shape[:-2] + (n,))
    elif vb:
        out = reshape(out, out.shape[:-1])
    return out


def gemm(alpha: SupportsFloat, A: Array | npt.NDArray[Any],
         B: Array | npt.NDArray[Any], beta: SupportsFloat, C: Array,
         trans_a: bool = False, trans_b: bool = False) -> Array:
    """C = alpha * op(A) @ op(B) + beta * C, in place (BLAS's gemm).

    Parameters
    ----------
    alpha, beta : float
        The scale factors.
    A, B : Array or numpy.ndarray
        2-D, of C's dtype.
    C : Array
        2-D, distinct from A and B. It is read even when beta is 0 (its
        values are then ignored, but a failure of its former writer
        reaches its readers).
    trans_a, trans_b : bool, optional
        Use the transpose of A (of B): op(X) is X or X.T.

    Returns
    -------
    Array
        C, written asynchronously.

    Raises
    ------
    ValueError
        The shapes do not fit, or C is A or B.
    TypeError
        A dtype differs from C's, or is not float32 or float64.

    Examples
    --------
    >>> C = cb.zeros((2, 2))
    >>> I = np.eye(2)
    >>> cb.gemm(2.0, I, I, 1.0, C).numpy()
    array([[2., 0.],
           [0., 2.]])
    """
    return _core.gemm(alpha, A, B, beta, C, trans_a, trans_b)


def gemv(alpha: SupportsFloat, A: Array | npt.NDArray[Any],
         x: Array | npt.NDArray[Any], beta: SupportsFloat, y: Array,
         trans: bool = False) -> Array:
    """y = alpha * op(A) @ x + beta * y, in place (BLAS's gemv).

    Parameters
    ----------
    alpha, beta : float
        The scale factors.
    A : Array or numpy.ndarray
        2-D, of y's dtype.
    x : Array or numpy.ndarray
        1-D, of y's dtype.
    y : Array
        1-D, distinct from A and x.
    trans : bool, optional
        Use A.T instead of A.

    Returns
    -------
    Array
        y, written asynchronously.

    Raises
    ------
    ValueError
        The shapes do not fit, or y is A or x.
    TypeError
        A dtype differs from y's, or is not float32 or float64.

    Examples
    --------
    >>> y = cb.ones(2)
    >>> cb.gemv(1.0, np.eye(2), np.array([3.0, 4.0]), 1.0, y).numpy()
    array([4., 5.])
    """
    return _core.gemv(alpha, A, x, beta, y, trans)


@overload
def transpose(a: _Value, axes: None = None) -> _Value: ...
@overload
def transpose(a: Array | npt.NDArray[Any],
              axes: Sequence[int] | None = None) -> Array: ...


def transpose(a: object, axes: Sequence[int] | None = None) -> object:
    """The transpose, as a new Array written by tasks: the axes reversed,
    or in the order axes gives.

    Not a view: the data is copied; a matrix in row blocks, an N-D array
    by a layout copy (see permute_dims). 0-D and 1-D arrays are returned
    as they are. Float and complex matrix transposes also run on OpenCL
    devices, other dtypes on CPU workers.

    Parameters
    ----------
    a : Array or numpy.ndarray
    axes : sequence of ints, optional
        A permutation of ``range(a.ndim)``.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        axes is not a permutation of a's axes.

    Examples
    --------
    >>> cb.transpose(cb.asarray([[1, 2, 3]])).shape
    (3, 1)
    >>> cb.transpose(cb.zeros((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    if isinstance(a, _Value):
        if axes is not None:
            raise TypeError("transpose with axes is not recorded in graphs")
        return a.T
    if axes is None and (not hasattr(a, "ndim") or a.ndim <= 2):
        return _core.transpose(a)
    from ._manipulation import _array, _reversed_axes, permute_dims
    x = _array(a, "a")
    return _reversed_axes(x) if axes is None else permute_dims(x, axes)
