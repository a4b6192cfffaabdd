"""Linear algebra: matrix products as tasks, one per row block of the
result, with OpenBLAS on CPU workers and CLBlast on OpenCL devices.

Operands are cambrian Arrays or C-contiguous buffers (NumPy arrays, used
without a copy) of 1 or 2 dimensions. Shapes and dtypes are checked at the
call (ValueError, TypeError); the work runs asynchronously and its
failures come back on the result, as for any operation. Tasks are named
"matmul", "gemm", "gemv" and "transpose" (cambrian.testing.inject_fault
takes these names).

Dtypes: float32 and float64. matmul promotes as NumPy does when the result
is a float dtype (float32 @ float64 and int32 @ float32 are float64);
products whose result would be an integer or bool raise TypeError, since
BLAS has no integer products. gemm and gemv take operands of C's (y's)
dtype only. matmul and transpose given a graph's values record nodes.
"""

from . import _core
from ._graph import Value as _Value

__all__ = ["matmul", "gemm", "gemv", "transpose"]


def matmul(x1, x2):
    """The matrix product x1 @ x2, with NumPy's rules for 1-D and 2-D
    operands: (m, k) @ (k, n) is (m, n); a 1-D operand is a row on the left
    and a column on the right, and its dimension is dropped from the result
    ((k,) @ (k,) is a 0-D array). Returns a new Array placed where the
    operands are (or on the default device)."""
    for v in (x1, x2):
        if isinstance(v, _Value):
            return v._graph._apply("matmul", (x1, x2))
    return _core.matmul(x1, x2)


def gemm(alpha, A, B, beta, C, trans_a=False, trans_b=False):
    """C = alpha * op(A) @ op(B) + beta * C, in place (BLAS's gemm), where
    op(X) is X, or X.T when trans_X is true. A and B are 2-D, of C's dtype.
    C must be a cambrian Array, distinct from A and B; it is read even when
    beta is 0 (a failure of its former writer reaches its readers; its
    values are then ignored). Returns C, written asynchronously."""
    return _core.gemm(alpha, A, B, beta, C, trans_a, trans_b)


def gemv(alpha, A, x, beta, y, trans=False):
    """y = alpha * op(A) @ x + beta * y, in place (BLAS's gemv), where op(A)
    is A, or A.T when trans is true. A is 2-D, x and y 1-D, all of y's
    dtype. y must be a cambrian Array, distinct from A and x. Returns y,
    written asynchronously."""
    return _core.gemv(alpha, A, x, beta, y, trans)


def transpose(a):
    """a.T: for a 2-D array a new Array written by a task (not a view: the
    data is copied, in row blocks); 0-D and 1-D arrays are returned as
    they are. float32 and float64 transposes also run on OpenCL devices,
    other dtypes on CPU workers."""
    if isinstance(a, _Value):
        return a.T
    return _core.transpose(a)
