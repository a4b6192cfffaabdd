"""Reductions: sum, min, max, mean, norm over all elements or along an
axis of a 2-D array, and the dot product of two vectors.

Each returns at once a new Array (0-D when reducing everything) that tasks
write: one task per tile of the input computes partial results where the
tile lives (a CPU core or an OpenCL device), then one task combines them.
``float(x)``, ``x.numpy()`` and ``await x`` wait for it. Result dtypes and
the handling of NaN and of empty inputs follow NumPy. Given a graph's
values, they record nodes instead.
"""

from . import _core
from ._creation import as_array as _array
from ._graph import Value as _Value

__all__ = ["sum", "min", "max", "mean", "norm", "dot"]

_reduce = _core.reduce


def _reduction(name, doc):
    def op(x, axis=None):
        if isinstance(x, _Value):
            return x._graph._apply(name, (x,), axis)
        return _reduce(name, _array(x), axis)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sum = _reduction("sum", """The sum of the elements of x, over all of them
(axis=None) or along axis. bool and integers sum into int64 (wrapping
around as NumPy's do), floats in their own dtype. The sum of nothing is
0; NaN propagates.""")

min = _reduction("min", """The smallest element of x, over all of them
(axis=None) or along axis, of x's dtype. NaN propagates. Raises
ValueError at the call when the reduced extent is empty.""")

max = _reduction("max", """The largest element of x, over all of them
(axis=None) or along axis, of x's dtype. NaN propagates. Raises
ValueError at the call when the reduced extent is empty.""")

mean = _reduction("mean", """The arithmetic mean of x, over all of its
elements (axis=None) or along axis: float64 for bool and integers (summed
in float64), else x's dtype. The mean of nothing is NaN, with a
RuntimeWarning, as in NumPy.""")

norm = _reduction("norm", """The Euclidean (2-) norm of x, sqrt of the sum
of its squares, over all elements (axis=None) or along axis: float64 for
bool and integers, else x's dtype. The norm of nothing is 0.""")


def dot(x, y):
    """The dot product of two 1-D arrays of equal length, as a 0-D Array of
    the dtype NumPy's promotion gives them (integers wrap around). Arrays
    on different devices raise ValueError; so do other shapes."""
    for v in (x, y):
        if isinstance(v, _Value):
            return v._graph._apply("dot", (x, y))
    return _core.dot(_array(x), _array(y))
