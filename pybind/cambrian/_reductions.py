"""Reductions: sum, min, max, mean, norm over all elements or along axes,
any, all, std, var, argmax and argmin built on them, and the dot product
of two vectors.

Each returns at once a new Array (0-D when reducing everything) that tasks
write: one task per tile of the input computes partial results where the
tile lives (a CPU core or an OpenCL device), then one task combines them.
``float(x)``, ``x.numpy()`` and ``await x`` wait for it. Result dtypes and
the handling of NaN and of empty inputs follow NumPy. Given a graph's
values, they record nodes instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast, overload

from . import _core
from ._creation import as_array as _array
from ._graph import Value as _Value

if TYPE_CHECKING:
    from ._core import Array
    from ._typing import ArrayLike

__all__ = ["sum", "min", "max", "mean", "norm", "dot", "any", "all",
           "std", "var", "argmax", "argmin", "prod"]

_reduce = _core.reduce


class Reduction(Protocol):
    """A reduction over all elements or along an axis."""

    __name__: str

    @overload
    def __call__(self, x: _Value, axis: int | None = None) -> _Value: ...
    @overload
    def __call__(self, x: ArrayLike,
                 axis: int | tuple[int, ...] | None = None, *,
                 keepdims: bool = False, dtype: Any = None) -> Array: ...


_COMMON = """
Parameters
----------
x : Array or array_like
    The array to reduce.
axis : int or tuple of ints, optional
    None: every element, giving a 0-D array; else the axes reduced
    (negative counts from the end), which the result lacks.
keepdims : bool, optional
    Keep the reduced axes, with length 1.
dtype : dtype, optional
    Of the result; x is converted to it first.

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


def _axes_of(axis: object, ndim: int) -> tuple[int, ...]:
    """The axes a reduction's axis argument names, normalised and sorted
    (every axis for None)."""
    if axis is None:
        return tuple(range(ndim))
    from ._manipulation import _axes
    return tuple(sorted(_axes(axis, ndim)))


def _reduce_axes(name: str, x: Array, axis: object,
                 keepdims: bool) -> Array:
    """name over the axes axis names: one axis by the core's tasks; several
    by moving them last and merging them into one (copies) first. float16
    is reduced as float32 and the result rounded back to float16, as
    NumPy accumulates halves in floats."""
    from ._manipulation import permute_dims, reshape
    if x.dtype == "float16":
        if name == "norm":  # the sum of squares is a half, as NumPy's
            from ._elementwise import sqrt, square
            return sqrt(_reduce_axes("sum", square(x.astype("float32")),
                                     axis, keepdims).astype("float16"))
        return _reduce_axes(name, x.astype("float32"), axis,
                            keepdims).astype("float16")
    if isinstance(axis, tuple):
        axes = _axes_of(axis, x.ndim)
        kept = [d for d in range(x.ndim) if d not in axes]
        if len(axes) == x.ndim:
            out = _reduce(name, x, None)
        elif len(axes) == 1:
            out = _reduce(name, x, axes[0])
        else:
            merged = 1
            for d in axes:
                merged *= x.shape[d]
            y = reshape(permute_dims(x, kept + list(axes)),
                        tuple(x.shape[d] for d in kept) + (merged,))
            out = _reduce(name, y, len(kept))
    else:
        out = _reduce(name, x, cast("int | None", axis))
        axes = _axes_of(axis, x.ndim)
    if keepdims:
        out = reshape(out, tuple(1 if d in axes else n
                                 for d, n in enumerate(x.shape)))
    return out


_OPS = _core.OPS


def _complex_reduce(name: str, x: Array, axis: object,
                    keepdims: bool) -> Array:
    """name over a complex x: sum and mean of the real and the imaginary
    parts, put back together; norm of the magnitudes. Orderings do not
    exist for complex (TypeError)."""
    ewise = _core.ewise
    if name == "norm":
        return _reduce_axes(name, ewise(_OPS.index("absolute"), x), axis,
                            keepdims)
    if name not in ("sum", "mean"):
        raise TypeError(f"{name} is not supported for {x.dtype}")
    re = _reduce_axes(name, ewise(_OPS.index("real"), x), axis, keepdims)
    im = _reduce_axes(name, ewise(_OPS.index("imag"), x), axis, keepdims)
    out: Array = ewise(_OPS.index("complex"), re, im)
    return out


def _reduction(name: str, doc: str, empty: str, example: str,
               result: str) -> Reduction:
    def op(x: object, axis: int | tuple[int, ...] | None = None, *,
           keepdims: bool = False, dtype: Any = None) -> object:
        if isinstance(x, _Value):
            if keepdims or isinstance(axis, tuple) or dtype is not None:
                raise TypeError(f"{name}: graphs record one axis or all, "
                                "without keepdims or dtype")
            if x.dtype == "float16":  # as _reduce_axes does
                from ._elementwise import sqrt
                if name == "norm":
                    y = x.astype("float32")
                    s = x._graph._apply("sum", (y * y,), axis)
                    return sqrt(s.astype("float16"))
                return x._graph._apply(name, (x.astype("float32"),),
                                       axis).astype("float16")
            return x._graph._apply(name, (x,), axis)
        a = _array(x)
        if dtype is not None and a.dtype != dtype:
            a = a.astype(dtype)
        out = _complex_reduce(name, a, axis, keepdims) \
            if a.dtype.kind == "c" else _reduce_axes(name, a, axis, keepdims)
        return out if dtype is None or out.dtype == dtype \
            else out.astype(dtype)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (doc + "\n" + _COMMON.format(empty=empty) +
                  f"\nExamples\n--------\n>>> {example}\n{result}\n")
    return cast(Reduction, op)


_EMPTY = ", or the reduced extent is empty"

sum = _reduction("sum", """The sum of the elements of x.

bool and integers sum into int64 (wrapping around as NumPy's do),
floats and complex in their own dtype. The sum of nothing is 0; NaN
propagates.""",
                 "", "cb.sum(cb.ones((2, 3)), axis=1).numpy()",
                 "array([3., 3.])")

min = _reduction("min", """The smallest element of x, of x's dtype.

NaN propagates; complex dtypes have no order (TypeError).""", _EMPTY, "int(cb.min(cb.arange(5)))", "0")

max = _reduction("max", """The largest element of x, of x's dtype.

NaN propagates; complex dtypes have no order (TypeError).""", _EMPTY, "int(cb.max(cb.arange(5)))", "4")

mean = _reduction("mean", """The arithmetic mean of x.

float64 for bool and integers (summed in float64), else x's dtype
(complex included). The mean of nothing is NaN, with a RuntimeWarning,
as in NumPy.""", "",
                  "float(cb.mean(cb.arange(5)))", "2.0")

norm = _reduction("norm", """The Euclidean (2-) norm of x, the square
root of the sum of its squares.

float64 for bool and integers, float32 for complex64 and float64 for
complex128 (the norm of the magnitudes), else x's dtype. The norm of
nothing is 0.""", "", "float(cb.norm(cb.asarray([3.0, 4.0])))", "5.0")


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
        wrap around). Complex operands are not conjugated (see
        :func:`vecdot`).

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
            return v._graph._product("dot", x, y)
    a, b = _array(x), _array(y)
    from ._array_api import result_type
    if result_type(a, b) == "float16":  # in float32, rounded back
        return dot(a.astype("float32"), b.astype("float32")).astype(
            "float16")
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
            raise ValueError(f"dot takes 1-D vectors of one length, not "
                             f"{a.shape} and {b.shape}")
        return sum(a * b)
    return _core.dot(a, b)


# ---- built on the reductions above ------------------------------------------

def _extent(x: Array, axes: tuple[int, ...]) -> int:
    n = 1
    for d in axes:
        n *= x.shape[d]
    return n


def _reduced_shape(x: Array, axes: tuple[int, ...],
                   keepdims: bool) -> tuple[int, ...]:
    return tuple(1 if d in axes else n for d, n in enumerate(x.shape)
                 if keepdims or d not in axes)


def _truth(name: str, x: object, axis: int | tuple[int, ...] | None,
           keepdims: bool) -> Array:
    from ._creation import full
    a = _array(x)
    axes = _axes_of(axis, a.ndim)
    if _extent(a, axes) == 0:  # all of nothing is True, any of it False
        return full(_reduced_shape(a, axes, keepdims), name == "min",
                    dtype=bool, device=a.device)
    b = a if a.dtype == bool else a.astype(bool)
    return _reduce_axes(name, b, axis, keepdims)


def any(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False) -> Array:
    """Whether any element of x is true (non-zero), over axis.

    Parameters
    ----------
    x : Array or array_like
    axis : int or tuple of ints, optional
        None: every element.
    keepdims : bool, optional
        Keep the reduced axes, with length 1.

    Returns
    -------
    Array
        bool; False over nothing.

    Raises
    ------
    ValueError
        An axis is out of range.

    Examples
    --------
    >>> bool(cb.any(cb.arange(3) > 1))
    True
    """
    return _truth("max", x, axis, keepdims)


def all(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False) -> Array:
    """Whether every element of x is true (non-zero), over axis.

    Parameters
    ----------
    x : Array or array_like
    axis : int or tuple of ints, optional
        None: every element.
    keepdims : bool, optional
        Keep the reduced axes, with length 1.

    Returns
    -------
    Array
        bool; True over nothing.

    Raises
    ------
    ValueError
        An axis is out of range.

    Examples
    --------
    >>> bool(cb.all(cb.arange(3) > 1))
    False
    """
    return _truth("min", x, axis, keepdims)


def var(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None,
        correction: int | float = 0.0, keepdims: bool = False) -> Array:
    """The variance of x over axis: the mean squared deviation from the
    mean, with the count lessened by correction.

    Parameters
    ----------
    x : Array or array_like
    axis : int or tuple of ints, optional
        None: every element.
    correction : int or float, optional
        1 gives the sample variance.
    keepdims : bool, optional
        Keep the reduced axes, with length 1.

    Returns
    -------
    Array
        float64 for bool and integers, the parts' dtype for complex (the
        mean squared magnitude), else x's dtype; NaN when the count less
        correction is not positive.

    Raises
    ------
    ValueError
        An axis is out of range.

    Examples
    --------
    >>> float(cb.var(cb.asarray([1.0, 3.0])))
    1.0
    """
    a = _array(x)
    if a.dtype.kind not in "fc":
        a = a.astype("float64")
    axes = _axes_of(axis, a.ndim)
    d = a - mean(a, axes, keepdims=True)
    if d.dtype.kind == "c":   # squared magnitudes, of the parts' dtype
        d = _core.ewise(_OPS.index("absolute"), d)
    n = _extent(a, axes) - correction
    s = sum(d * d, axes, keepdims=keepdims)
    return s / n if n > 0 else s * float("nan")


def std(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None,
        correction: int | float = 0.0, keepdims: bool = False) -> Array:
    """The standard deviation of x over axis: the square root of var().

    Parameters
    ----------
    x : Array or array_like
    axis : int or tuple of ints, optional
        None: every element.
    correction : int or float, optional
        1 gives the sample standard deviation.
    keepdims : bool, optional
        Keep the reduced axes, with length 1.

    Returns
    -------
    Array
        float64 for bool and integers, else x's dtype.

    Raises
    ------
    ValueError
        An axis is out of range.

    Examples
    --------
    >>> float(cb.std(cb.asarray([1.0, 3.0])))
    1.0
    """
    from ._elementwise import sqrt
    return sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims))


def _arg(name: str, x: object, axis: int | None, keepdims: bool) -> Array:
    """argmax or argmin by the core's tasks: each tile's task keeps the
    best value and its index, one more picks the first best of them.
    float16 is compared as float32 (the same order); complex has none."""
    from ._manipulation import _axis, reshape
    a = _array(x)
    if a.dtype.kind == "c":
        raise TypeError(f"{name} is not supported for {a.dtype}")
    if a.dtype == "float16":
        a = a.astype("float32")
    if a.ndim == 0:
        if axis is not None:
            _axis(axis, 0)
        return _reduce(name, reshape(a, (1,)), None)
    ax = None if axis is None else _axis(axis, a.ndim)
    out = _reduce(name, a, ax if a.ndim > 1 else None)
    if keepdims:
        out = reshape(out, tuple(1 if ax is None or d == ax else n
                                 for d, n in enumerate(a.shape)))
    return out


def argmax(x: ArrayLike, /, *, axis: int | None = None,
           keepdims: bool = False) -> Array:
    """The index of the largest element of x along axis (of the flattened
    array when None); the first one on ties, and the first NaN if any.

    Parameters
    ----------
    x : Array or array_like
    axis : int, optional
    keepdims : bool, optional
        Keep the reduced axis, with length 1.

    Returns
    -------
    Array
        int64.

    Raises
    ------
    ValueError
        The extent is empty, or axis is out of range.

    Examples
    --------
    >>> int(cb.argmax(cb.asarray([1, 5, 5, 2])))
    1
    """
    return _arg("argmax", x, axis, keepdims)


def argmin(x: ArrayLike, /, *, axis: int | None = None,
           keepdims: bool = False) -> Array:
    """The index of the smallest element of x along axis (of the flattened
    array when None); the first one on ties, and the first NaN if any.

    Parameters
    ----------
    x : Array or array_like
    axis : int, optional
    keepdims : bool, optional
        Keep the reduced axis, with length 1.

    Returns
    -------
    Array
        int64.

    Raises
    ------
    ValueError
        The extent is empty, or axis is out of range.

    Examples
    --------
    >>> int(cb.argmin(cb.asarray([3, 1, 1, 2])))
    1
    """
    return _arg("argmin", x, axis, keepdims)


def prod(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None,
         dtype: Any = None, keepdims: bool = False) -> Array:
    """The product of the elements of x over axis.

    Computed by halving: each step multiplies the first half of the
    extent by the second, element-wise, so log2(n) steps of tasks.
    bool and signed integers multiply into int64, unsigned ones into
    uint64 (wrapping around), floats in their own dtype, as NumPy's.

    Parameters
    ----------
    x : Array or array_like
    axis : int or tuple of ints, optional
        None: every element.
    dtype : dtype, optional
        Of the result; x is converted to it first.
    keepdims : bool, optional
        Keep the reduced axes, with length 1.

    Returns
    -------
    Array
        1 over nothing.

    Raises
    ------
    ValueError
        An axis is out of range.

    Examples
    --------
    >>> int(cb.prod(cb.arange(1, 5)))
    24
    """
    import numpy as np

    from ._creation import ones
    from ._manipulation import permute_dims, reshape
    a = _array(x)
    if dtype is None:
        kind = np.dtype(a.dtype).kind
        dtype = ("int64" if kind in "bi" else "uint64" if kind == "u"
                 else a.dtype)
    if a.dtype != dtype:
        a = a.astype(dtype)
    if a.dtype == "float16":  # multiplied in float32, rounded back
        return prod(a.astype("float32"), axis=axis,
                    keepdims=keepdims).astype("float16")
    axes = _axes_of(axis, a.ndim)
    kept = [d for d in range(a.ndim) if d not in axes]
    shape = _reduced_shape(a, axes, keepdims)
    n = _extent(a, axes)
    if n == 0 or a.ndim == 0:
        return ones(shape, dtype=a.dtype, device=a.device) if n == 0 \
            else reshape(a, shape)
    # The reduced axes first, as one: (n, rest...).
    m = reshape(permute_dims(a, list(axes) + kept),
                (n,) + tuple(a.shape[d] for d in kept))
    while m.shape[0] > 1:
        half = m.shape[0] // 2
        rest = m[2 * half:]
        m2 = m[:half] * m[half:2 * half]
        if rest.shape[0]:
            from ._manipulation import concat
            m2 = concat([m2, rest])
        m = m2
    return reshape(m, shape)
