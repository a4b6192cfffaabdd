"""Reductions: sum, min, max, mean, norm over all elements or along an
axis of a 2-D array, and the dot product of two vectors.

Each returns at once a new Array (0-D when reducing everything) that tasks
write: one task per tile of the input computes partial results where the
tile lives (a CPU core or an OpenCL device), then one task combines them.
``float(x)``, ``x.numpy()`` and ``await x`` wait for it. Result dtypes and
the handling of NaN and of empty inputs follow NumPy. Given a graph's
values, they record nodes instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast, overload

from . import _core
from ._creation import as_array as _array
from ._graph import Value as _Value

if TYPE_CHECKING:
    from ._core import Array
    from ._typing import ArrayLike

__all__ = ["sum", "min", "max", "mean", "norm", "dot"]

_reduce = _core.reduce


class Reduction(Protocol):
    """A reduction over all elements or along an axis."""

    __name__: str

    @overload
    def __call__(self, x: _Value, axis: int | None = None) -> _Value: ...
    @overload
    def __call__(self, x: ArrayLike, axis: int | None = None) -> Array: ...


_COMMON = """
Parameters
----------
x : Array or array_like
    The array to reduce.
axis : int, optional
    None: every element, giving a 0-D array; 0 or 1 (negative counts
    from the end): along that axis of a 2-D array.

Returns
-------
Array
    Written by tasks: one per tile of x where the tile lives, then one
    combining them. ``float()`` of a 0-D result waits for it.

Raises
------
ValueError
    axis is out of range{empty}.
TypeError
    axis is not an integer.
"""


def _reduction(name: str, doc: str, empty: str, example: str,
               result: str) -> Reduction:
    def op(x: object, axis: int | None = None) -> object:
        if isinstance(x, _Value):
            return x._graph._apply(name, (x,), axis)
        return _reduce(name, _array(x), axis)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (doc + "\n" + _COMMON.format(empty=empty) +
                  f"\nExamples\n--------\n>>> {example}\n{result}\n")
    return cast(Reduction, op)


_EMPTY = ", or the reduced extent is empty"

sum = _reduction("sum", """The sum of the elements of x.

bool and integers sum into int64 (wrapping around as NumPy's do),
floats in their own dtype. The sum of nothing is 0; NaN propagates.""",
                 "", "cb.sum(cb.ones((2, 3)), axis=1).numpy()",
                 "array([3., 3.])")

min = _reduction("min", """The smallest element of x, of x's dtype.

NaN propagates.""", _EMPTY, "int(cb.min(cb.arange(5)))", "0")

max = _reduction("max", """The largest element of x, of x's dtype.

NaN propagates.""", _EMPTY, "int(cb.max(cb.arange(5)))", "4")

mean = _reduction("mean", """The arithmetic mean of x.

float64 for bool and integers (summed in float64), else x's dtype. The
mean of nothing is NaN, with a RuntimeWarning, as in NumPy.""", "",
                  "float(cb.mean(cb.arange(5)))", "2.0")

norm = _reduction("norm", """The Euclidean (2-) norm of x, the square
root of the sum of its squares.

float64 for bool and integers, else x's dtype. The norm of nothing is
0.""", "", "float(cb.norm(cb.asarray([3.0, 4.0])))", "5.0")


@overload
def dot(x: _Value, y: ArrayLike | _Value) -> _Value: ...
@overload
def dot(x: ArrayLike, y: _Value) -> _Value: ...
@overload
def dot(x: ArrayLike, y: ArrayLike) -> Array: ...


def dot(x: object, y: object) -> object:
    """The dot product of two 1-D arrays of equal length.

    Parameters
    ----------
    x, y : Array or array_like
        1-D, of equal lengths.

    Returns
    -------
    Array
        0-D, of the dtype NumPy's promotion gives the operands (integers
        wrap around).

    Raises
    ------
    ValueError
        The lengths differ, an operand is not 1-D, or the operands are on
        two devices.

    Examples
    --------
    >>> float(cb.dot(cb.arange(3.0), cb.asarray([1.0, 1.0, 1.0])))
    3.0
    """
    for v in (x, y):
        if isinstance(v, _Value):
            return v._graph._apply("dot", (x, y))
    return _core.dot(_array(x), _array(y))
