"""The rest of the Array API namespace: dtype queries, creation functions
(linspace, eye, tril, triu, meshgrid), clip, the linear algebra of
stacks of matrices, joining helpers, and the data-dependent functions.

Most are compositions of cambrian's tasks (layout copies, element-wise
operations, reductions, matrix products) and run where the data is. The
functions whose result's shape depends on the data (nonzero, unique_*,
sort, argsort, searchsorted, take, take_along_axis, cumulative_sum,
cumulative_prod, nextafter) wait for the data and
compute on the host with NumPy, then return an Array placed as the input:
their docstrings say so.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np
import numpy.typing as npt

from . import _core
from ._manipulation import (_array, _axis, broadcast_to, concat,
                            expand_dims, reshape, swapaxes)

if TYPE_CHECKING:
    from ._core import Array
    from ._devices import Device

__all__ = ["finfo", "iinfo", "result_type", "can_cast", "isdtype",
           "astype", "linspace", "eye", "tril", "triu", "meshgrid", "clip",
           "matrix_transpose", "vecdot", "tensordot", "tile", "repeat",
           "split", "unstack", "nonzero", "take", "take_along_axis",
           "cumulative_sum", "cumulative_prod", "nextafter", "reciprocal",
           "count_nonzero", "diff", "sort",
           "argsort", "searchsorted", "unique_values", "unique_counts",
           "unique_inverse", "unique_all", "__array_namespace_info__", "e", "pi", "inf", "nan", "newaxis"]

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None

_DTYPES = tuple(np.dtype(t) for t in
                (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64, np.complex64, np.complex128))


def _dtype(t: object, what: str = "dtype") -> np.dtype[Any]:
    """t as one of cambrian's dtypes (TypeError for another)."""
    if isinstance(t, _core.Array):
        return np.dtype(t.dtype)
    try:
        d: np.dtype[Any] = np.dtype(t)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{what} must be a dtype or an Array, not "
                        f"{type(t).__name__!r}") from None
    if d not in _DTYPES:
        raise TypeError(f"cambrian has no dtype {d} (it has bool, int8 to "
                        "int64, uint8 to uint64, float16, float32, "
                        "float64, complex64 and complex128)")
    return d


# ---- dtypes -----------------------------------------------------------------

class FInfo(NamedTuple):
    """Machine limits of a float dtype, as Python numbers."""
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype[Any]


class IInfo(NamedTuple):
    """Machine limits of an integer dtype, as Python ints."""
    bits: int
    max: int
    min: int
    dtype: np.dtype[Any]


def finfo(type: Any, /) -> FInfo:
    """Machine limits of a floating dtype (NumPy's finfo).

    Parameters
    ----------
    type : dtype or Array
        float16, float32, float64, complex64 or complex128, or an Array
        of one.
        A complex dtype gives the limits of its parts' dtype.

    Returns
    -------
    FInfo
        bits, eps, max, min, smallest_normal (Python floats), dtype
        (float16, float32 or float64).

    Raises
    ------
    TypeError
        Not a float or complex dtype of cambrian.

    Examples
    --------
    >>> cb.finfo(cb.float32).bits
    32
    >>> cb.finfo(cb.complex128).dtype
    dtype('float64')
    """
    d = _dtype(type, "type")
    if d.kind not in "fc":
        raise TypeError(f"finfo takes a float dtype or a complex one, not {d}")
    f = np.finfo(d)
    return FInfo(int(f.bits), float(f.eps), float(f.max), float(f.min),
                 float(f.smallest_normal), np.dtype(f.dtype))


def iinfo(type: Any, /) -> IInfo:
    """Machine limits of an integer dtype (NumPy's iinfo).

    Parameters
    ----------
    type : dtype or Array
        An integer dtype, or an Array of one.

    Returns
    -------
    IInfo
        bits, max, min (Python ints), dtype.

    Raises
    ------
    TypeError
        Not an integer dtype of cambrian.

    Examples
    --------
    >>> cb.iinfo(cb.int32).max
    2147483647
    """
    d = _dtype(type, "type")
    if d.kind not in "iu":
        raise TypeError(f"iinfo takes an integer dtype, not {d}")
    i = np.iinfo(d)
    return IInfo(int(i.bits), int(i.max), int(i.min), d)


def result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    """The dtype that NumPy 2's promotion gives the arguments.

    Parameters
    ----------
    *arrays_and_dtypes : Array, dtype, or Python scalar
        Python scalars are weak, as in element-wise operations.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        An argument is of no dtype of cambrian, or there is none.

    Examples
    --------
    >>> cb.result_type(cb.int32, cb.float32)
    dtype('float64')
    """
    if not arrays_and_dtypes:
        raise TypeError("result_type needs at least one argument")
    args = [a if isinstance(a, builtins.bool | int | float | complex)
            else _dtype(a) for a in arrays_and_dtypes]
    if builtins.all(isinstance(a, builtins.bool | int | float | complex)
                    for a in args):
        raise TypeError("result_type needs at least one array or dtype")
    return _dtype(np.result_type(*args))


def can_cast(from_: Any, to: Any, /) -> bool:
    """Whether dtype ``from_`` converts to ``to`` without loss, by NumPy's
    "safe" rule.

    Parameters
    ----------
    from_ : dtype or Array
    to : dtype

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        Not dtypes of cambrian.

    Examples
    --------
    >>> cb.can_cast(cb.int32, cb.float64), cb.can_cast(cb.int64, cb.int32)
    (True, False)
    """
    return builtins.bool(np.can_cast(_dtype(from_), _dtype(to)))


_KINDS = {"bool": "b", "signed integer": "i", "unsigned integer": "u",
          "integral": "iu", "real floating": "f", "complex floating": "c",
          "numeric": "iufc"}


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether dtype is of kind: a dtype, a kind name ("bool", "signed
    integer", "unsigned integer", "integral", "real floating", "complex
    floating", "numeric"), or a tuple of these.

    Parameters
    ----------
    dtype : dtype
    kind : dtype, str or tuple

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        An unknown kind name.

    Examples
    --------
    >>> cb.isdtype(cb.int32, "integral"), cb.isdtype(cb.float32, "bool")
    (True, False)
    """
    d = _dtype(dtype)
    if isinstance(kind, tuple):
        return builtins.any(isdtype(d, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"unknown dtype kind {kind!r}")
        return d.kind in _KINDS[kind]
    return d == _dtype(kind)


def astype(x: Array, dtype: Any, /, *, copy: bool = True,
           device: Device | None = None) -> Array:
    """x converted to dtype, by tasks (as x.astype(dtype)).

    Parameters
    ----------
    x : Array
    dtype : dtype
    copy : bool, optional
        False returns x itself when it has dtype already.
    device : Device, optional
        Moves the result there.

    Returns
    -------
    Array

    Raises
    ------
    TypeError
        Not a dtype of cambrian.

    Examples
    --------
    >>> cb.astype(cb.arange(3), cb.float32).dtype
    dtype('float32')
    """
    x = _array(x)
    d = _dtype(dtype)
    out = x if (not copy and x.dtype == d) else x.astype(d)
    return out.to_device(device) if device is not None else out


# ---- creation ---------------------------------------------------------------

def linspace(start: int | float, stop: int | float, /, num: int, *,
             dtype: npt.DTypeLike | None = None,
             device: Device | str | None = None,
             endpoint: bool = True) -> Array:
    """num evenly spaced values from start to stop (stop included when
    endpoint), written by tasks.

    Parameters
    ----------
    start, stop : int or float
    num : int
        How many values; not negative.
    dtype : dtype, optional
        A float dtype; float64 by default.
    device : Device or str, optional
    endpoint : bool, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        num is negative.

    Examples
    --------
    >>> cb.linspace(0, 1, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    from ._creation import arange
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"number of samples, {num}, must be non-negative")
    d = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    out = arange(num, dtype=np.float64, device=device) * step + start
    if endpoint and num > 1:
        out[-1] = stop
    return out if d == np.float64 else out.astype(d)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0,
        dtype: npt.DTypeLike | None = None,
        device: Device | str | None = None) -> Array:
    """A matrix with ones on the k-th diagonal and zeros elsewhere.

    Parameters
    ----------
    n_rows : int
    n_cols : int, optional
        n_rows by default.
    k : int, optional
        0: the main diagonal; positive: above it.
    dtype : dtype, optional
        float64 by default.
    device : Device or str, optional

    Returns
    -------
    Array
        Written by a fill task and a layout copy along the diagonal.

    Examples
    --------
    >>> cb.eye(2, 3, k=1).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    from ._creation import ones, zeros
    m = n_rows if n_cols is None else n_cols
    d = np.dtype(dtype) if dtype is not None else np.dtype(np.float64)
    out = zeros((n_rows, m), dtype=d, device=device)
    first_row, first_col = (0, k) if k >= 0 else (-k, 0)
    length = builtins.max(0, builtins.min(n_rows - first_row,
                                          m - first_col))
    if length:
        _core.copy_layout(ones(length, dtype=d, device=device),
                          ((length,), (1,), 0), out,
                          ((length,), (m + 1,), first_row * m + first_col))
    return out


def _triangle(x: Array, k: int, lower: bool) -> Array:
    from ._creation import arange
    from ._elementwise import where
    x = _array(x)
    if x.ndim < 2:
        raise ValueError("tril and triu need an array of 2 or more "
                         "dimensions")
    n, m = x.shape[-2], x.shape[-1]
    rows = reshape(arange(n, dtype=np.int64, device=x.device), (n, 1))
    cols = arange(m, dtype=np.int64, device=x.device)
    keep = (cols - rows <= k) if lower else (cols - rows >= k)
    return where(keep, x, np.zeros((), dtype=x.dtype))


def tril(x: Array, /, *, k: int = 0) -> Array:
    """x with the elements above the k-th diagonal set to zero (of the
    last two axes).

    Parameters
    ----------
    x : Array
        2 or more dimensions.
    k : int, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        x has fewer than 2 dimensions.

    Examples
    --------
    >>> cb.tril(cb.ones((2, 2))).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle(x, k, True)


def triu(x: Array, /, *, k: int = 0) -> Array:
    """x with the elements below the k-th diagonal set to zero (of the
    last two axes).

    Parameters
    ----------
    x : Array
        2 or more dimensions.
    k : int, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        x has fewer than 2 dimensions.

    Examples
    --------
    >>> cb.triu(cb.ones((2, 2))).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle(x, k, False)


def meshgrid(*arrays: Array, indexing: str = "xy") -> list[Array]:
    """Coordinate matrices from 1-D coordinate arrays.

    Parameters
    ----------
    *arrays : Array
        1-D.
    indexing : {"xy", "ij"}, optional
        "xy": Cartesian (the first two axes swapped), "ij": matrix.

    Returns
    -------
    list of Array

    Raises
    ------
    ValueError
        An unknown indexing.

    Examples
    --------
    >>> [g.shape for g in cb.meshgrid(cb.arange(3), cb.arange(2))]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing must be 'xy' or 'ij'")
    xs = [_array(a) for a in arrays]
    sizes = [a.size for a in xs]
    if indexing == "xy" and len(xs) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(xs):
        pos = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * len(xs)
        shape[pos] = a.size
        out.append(broadcast_to(reshape(a, tuple(shape)), tuple(sizes)))
    return out


def clip(x: Array, /, min: Any = None, max: Any = None) -> Array:
    """x with its elements limited to [min, max], element-wise.

    Parameters
    ----------
    x : Array
    min, max : Array or scalar, optional
        None: no limit on that side.

    Returns
    -------
    Array
        Of x's dtype.

    Examples
    --------
    >>> cb.clip(cb.arange(5), 1, 3).tolist()
    [1, 1, 2, 3, 3]
    """
    from ._elementwise import maximum, minimum
    x = _array(x)
    out = x
    if min is not None:
        out = maximum(out, min)
    if max is not None:
        out = minimum(out, max)
    if out is x:
        return x.copy()
    return out if out.dtype == x.dtype else out.astype(x.dtype)


# ---- linear algebra over stacks ---------------------------------------------

def matrix_transpose(x: Array, /) -> Array:
    """x with its last two axes exchanged (a copy).

    Parameters
    ----------
    x : Array
        2 or more dimensions.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        x has fewer than 2 dimensions.

    Examples
    --------
    >>> cb.matrix_transpose(cb.zeros((4, 2, 3))).shape
    (4, 3, 2)
    """
    x = _array(x)
    if x.ndim < 2:
        raise ValueError("matrix_transpose needs 2 or more dimensions")
    return swapaxes(x, -1, -2)


def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """The dot products of the vectors along axis (broadcast first); a
    complex x1 is conjugated first, as the Array API says.

    Parameters
    ----------
    x1, x2 : Array
    axis : int, optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        The lengths along axis differ, or the shapes do not broadcast.

    Examples
    --------
    >>> cb.vecdot(cb.ones((2, 3)), cb.arange(3.0)).tolist()
    [3.0, 3.0]
    """
    from ._reductions import sum
    a, b = _array(x1), _array(x2)
    if not a.ndim or not b.ndim:
        raise ValueError("vecdot needs arrays of 1 or more dimensions")
    if a.shape[axis] != b.shape[axis]:
        raise ValueError("vecdot: the vectors differ in length")
    if a.dtype.kind == "c":
        from ._elementwise import conj
        a = conj(a)
    out = sum(a * b, axis)
    want = result_type(a, b)
    return out if out.dtype == want else out.astype(want)


def tensordot(x1: Array, x2: Array, /, *,
              axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Array:
    """Sums of products over the axes given: the last axes of x1 with the
    first of x2 (an int), or the pairs given; as one matrix product.

    Parameters
    ----------
    x1, x2 : Array
    axes : int or (sequence, sequence), optional

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        The paired axes differ in length.

    Examples
    --------
    >>> cb.tensordot(cb.ones((2, 3)), cb.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    from ._linalg import matmul
    from ._manipulation import permute_dims
    a, b = _array(x1), _array(x2)
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError("axes must not be negative")
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a = [_axis(i, a.ndim) for i in axes[0]]
        ax_b = [_axis(i, b.ndim) for i in axes[1]]
    if len(ax_a) != len(ax_b) or builtins.any(
            a.shape[i] != b.shape[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError("tensordot: shape mismatch for sum")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    k = math.prod(a.shape[d] for d in ax_a)
    m = math.prod(a.shape[d] for d in free_a)
    n = math.prod(b.shape[d] for d in free_b)
    am = reshape(permute_dims(a, free_a + ax_a), (m, k))
    bm = reshape(permute_dims(b, ax_b + free_b), (k, n))
    return reshape(matmul(am, bm), tuple(a.shape[d] for d in free_a) +
                   tuple(b.shape[d] for d in free_b))


# ---- joining and splitting --------------------------------------------------

def tile(x: Array, repetitions: Sequence[int], /) -> Array:
    """x repeated along each axis as repetitions says.

    Parameters
    ----------
    x : Array
    repetitions : tuple of ints

    Returns
    -------
    Array
        Written by one broadcast copy and one reshape.

    Examples
    --------
    >>> cb.tile(cb.arange(2), (2,)).tolist()
    [0, 1, 0, 1]
    """
    x = _array(x)
    reps = tuple(operator.index(r) for r in repetitions)
    nd = builtins.max(len(reps), x.ndim)
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + tuple(x.shape)
    wide = broadcast_to(reshape(x, tuple(v for n in shape for v in (1, n))),
                        tuple(v for r, n in zip(reps, shape)
                              for v in (r, n)))
    return reshape(wide, tuple(r * n for r, n in zip(reps, shape)))


def repeat(x: Array, repeats: int | Array, /, *,
           axis: int | None = None) -> Array:
    """Each element of x repeated, along axis (the flattened x when None).

    Parameters
    ----------
    x : Array
    repeats : int or 1-D Array of ints
        An Array gives each element's count: the result's length depends
        on the data, so that case waits and computes on the host.
    axis : int, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.repeat(cb.arange(3), 2).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    from ._manipulation import ravel
    x = _array(x)
    if not isinstance(repeats, int | np.integer):
        out: Array = _host(lambda a, r: np.repeat(a, r, axis=axis), x,
                           np.asarray(repeats))
        return out
    if axis is None:
        x, axis = ravel(x), 0
    ax = _axis(axis, x.ndim)
    r = operator.index(repeats)
    if r < 0:
        raise ValueError("repeats may not be negative")
    shape = tuple(x.shape)
    wide = broadcast_to(expand_dims(x, axis=ax + 1),
                        shape[:ax + 1] + (r,) + shape[ax + 1:])
    return reshape(wide, shape[:ax] + (shape[ax] * r,) + shape[ax + 1:])


def split(x: Array, indices_or_sections: int | Sequence[int], /, *,
          axis: int = 0) -> list[Array]:
    """x cut along axis into equal sections, or at the indices given.

    Parameters
    ----------
    x : Array
    indices_or_sections : int or sequence of ints
    axis : int, optional

    Returns
    -------
    list of Array
        Copies.

    Raises
    ------
    ValueError
        The sections do not divide the axis equally.

    Examples
    --------
    >>> [p.tolist() for p in cb.split(cb.arange(4), 2)]
    [[0, 1], [2, 3]]
    """
    x = _array(x)
    ax = _axis(axis, x.ndim)
    n = x.shape[ax]
    if isinstance(indices_or_sections, int | np.integer):
        k = operator.index(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError("array split does not result in an equal "
                             "division")
        cuts = [n // k * i for i in range(1, k)]
    else:
        cuts = [operator.index(i) for i in indices_or_sections]
    bounds = [0] + cuts + [n]
    lead = (slice(None),) * ax
    return [x[lead + (slice(lo, hi),)] for lo, hi in zip(bounds, bounds[1:])]


def unstack(x: Array, /, *, axis: int = 0) -> tuple[Array, ...]:
    """The sub-arrays of x along axis.

    Parameters
    ----------
    x : Array
    axis : int, optional

    Returns
    -------
    tuple of Array

    Examples
    --------
    >>> [u.tolist() for u in cb.unstack(cb.eye(2))]
    [[1.0, 0.0], [0.0, 1.0]]
    """
    x = _array(x)
    ax = _axis(axis, x.ndim)
    lead = (slice(None),) * ax
    return tuple(x[lead + (i,)] for i in range(x.shape[ax]))


# ---- data-dependent: on the host --------------------------------------------

def _host(fn: Any, x: Array, *args: Any) -> Any:  # Array or tuple
    """fn over x's host data (waiting for it); Arrays back, placed as x."""
    from ._creation import asarray
    out = fn(np.asarray(x), *args)
    if isinstance(out, tuple):
        return tuple(asarray(np.asarray(o, order="C"), device=x.device)
                     for o in out)
    return asarray(np.asarray(out, order="C"), device=x.device)


def nonzero(x: Array, /) -> tuple[Array, ...]:
    """The indices of x's non-zero elements, one int64 Array per axis.
    Waits for x and computes on the host.

    Parameters
    ----------
    x : Array
        At least 1-D.

    Returns
    -------
    tuple of Array

    Raises
    ------
    ValueError
        x is 0-D.

    Examples
    --------
    >>> cb.nonzero(cb.asarray([0, 3, 0, 4]))[0].tolist()
    [1, 3]
    """
    x = _array(x)
    if x.ndim == 0:
        raise ValueError("nonzero is not defined for 0-D arrays")
    out: tuple[Array, ...] = _host(
        lambda a: tuple(i.astype(np.int64) for i in np.nonzero(a)), x)
    return out


def take(x: Array, indices: Array, /, *, axis: int | None = None) -> Array:
    """The elements of x at indices along axis. Waits for both and
    computes on the host.

    Parameters
    ----------
    x : Array
    indices : Array of ints
    axis : int, optional
        Needed when x has more than one dimension.

    Returns
    -------
    Array

    Raises
    ------
    IndexError
        An index is out of bounds.

    Examples
    --------
    >>> cb.take(cb.arange(5) * 10, cb.asarray([4, 0])).tolist()
    [40, 0]
    """
    x = _array(x)
    if axis is None and x.ndim != 1:
        raise ValueError("take needs an axis for arrays of more than one "
                         "dimension")
    return _host(lambda a, i: np.take(a, i, axis=axis), x,  # type: ignore
                 np.asarray(indices))


def cumulative_sum(x: Array, /, *, axis: int | None = None,
                   dtype: npt.DTypeLike | None = None,
                   include_initial: bool = False) -> Array:
    """Running sums along axis. Waits for x and computes on the host.

    Parameters
    ----------
    x : Array
    axis : int, optional
        Needed when x has more than one dimension.
    dtype : dtype, optional
    include_initial : bool, optional
        Start with a 0.

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.cumulative_sum(cb.arange(4)).tolist()
    [0, 1, 3, 6]
    """
    return _cumulative("cumulative_sum", np.cumulative_sum, x, axis, dtype,
                       include_initial)


def _cumulative(name: str, fn: Any, x: Array, axis: int | None,
                dtype: npt.DTypeLike | None, include_initial: bool) -> Array:
    """fn (NumPy's cumulative_sum or cumulative_prod) over x on the host."""
    x = _array(x)
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"{name} needs an axis for arrays of more "
                             "than one dimension")
        axis = 0
    out: Array = _host(lambda a: fn(a, axis=axis, dtype=dtype,
                                    include_initial=include_initial), x)
    return out


def cumulative_prod(x: Array, /, *, axis: int | None = None,
                    dtype: npt.DTypeLike | None = None,
                    include_initial: bool = False) -> Array:
    """Running products along axis. Waits for x and computes on the host.

    Parameters
    ----------
    x : Array
    axis : int, optional
        Needed when x has more than one dimension.
    dtype : dtype, optional
    include_initial : bool, optional
        Start with a 1.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        No axis for an array of more than one dimension.

    Examples
    --------
    >>> cb.cumulative_prod(cb.arange(1, 5)).tolist()
    [1, 2, 6, 24]
    """
    return _cumulative("cumulative_prod", np.cumulative_prod, x, axis,
                       dtype, include_initial)


def take_along_axis(x: Array, indices: Array, /, *,
                    axis: int = -1) -> Array:
    """The elements of x at indices along axis (indices broadcast with x
    on the other axes). Waits for the data and computes on the host.

    Parameters
    ----------
    x : Array
    indices : Array
        Integers, with as many dimensions as x.
    axis : int, optional

    Returns
    -------
    Array

    Raises
    ------
    IndexError
        An index out of range.

    Examples
    --------
    >>> x = cb.asarray([[10, 30, 20]])
    >>> cb.take_along_axis(x, cb.argsort(x), axis=1).tolist()
    [[10, 20, 30]]
    """
    x = _array(x)
    idx = np.asarray(_array(indices))
    out: Array = _host(lambda a: np.take_along_axis(a, idx, axis=axis), x)
    return out


def nextafter(x1: Array | float, x2: Array | float, /) -> Array:
    """The next floating-point value after x1 towards x2, element-wise,
    with NumPy's broadcasting and dtypes. Waits for the data and computes
    on the host.

    Parameters
    ----------
    x1, x2 : Array or float
        Floating-point; one at least an Array.

    Returns
    -------
    Array

    Raises
    ------
    TypeError
        An operand that is not floating-point.

    Examples
    --------
    >>> float(cb.nextafter(cb.asarray([1.0]), 2.0)[0]) > 1.0
    True
    """
    a = x1 if isinstance(x1, _core.Array) else x2
    if not isinstance(a, _core.Array):
        raise TypeError("nextafter needs an Array operand")
    for v in (x1, x2):
        if isinstance(v, _core.Array):
            kind = v.dtype.kind
        else:  # a Python int or float is weak, as in NumPy 2
            kind = ("f" if isinstance(v, (int, float)) and
                    not isinstance(v, bool) else np.asarray(v).dtype.kind)
        if kind != "f":
            raise TypeError("nextafter needs floating-point operands")
    h1 = np.asarray(x1) if isinstance(x1, _core.Array) else x1
    h2 = np.asarray(x2) if isinstance(x2, _core.Array) else x2
    out: Array = _host(lambda _: np.nextafter(h1, h2), a)
    return out


def reciprocal(x: Array, /) -> Array:
    """1 / x, element-wise, as tasks where x is.

    Parameters
    ----------
    x : Array
        Floating-point or complex.

    Returns
    -------
    Array
        Of x's dtype.

    Raises
    ------
    TypeError
        x is neither floating-point nor complex.

    Examples
    --------
    >>> cb.reciprocal(cb.asarray([2.0, 4.0])).tolist()
    [0.5, 0.25]
    """
    x = _array(x)
    if x.dtype.kind not in "fc":
        raise TypeError("reciprocal needs a floating-point or complex array")
    out: Array = 1 / x
    return out


def count_nonzero(x: Array, /, *, axis: int | tuple[int, ...] | None = None,
                  keepdims: bool = False) -> Array:
    """How many elements of x are not zero (along axis), as a reduction
    where x is.

    Parameters
    ----------
    x : Array
    axis : int or tuple of int, optional
        None: all of them.
    keepdims : bool, optional

    Returns
    -------
    Array
        int64.

    Examples
    --------
    >>> int(cb.count_nonzero(cb.asarray([0, 3, 0, 1])))
    2
    """
    from ._reductions import sum as _sum
    x = _array(x)
    out: Array = _sum(x != 0, axis=axis, keepdims=keepdims)
    return out


def diff(x: Array, /, *, axis: int = -1, n: int = 1,
         prepend: Array | None = None, append: Array | None = None) -> Array:
    """The n-th differences along axis (x[i + 1] - x[i]; for bool, !=),
    as tasks where x is.

    Parameters
    ----------
    x : Array
        At least 1-D.
    axis : int, optional
    n : int, optional
        How many times to take differences (0: x itself).
    prepend, append : Array, optional
        Joined to x along axis first.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        n is negative, or x is 0-D.

    Examples
    --------
    >>> cb.diff(cb.asarray([1, 4, 9, 16])).tolist()
    [3, 5, 7]
    """
    x = _array(x)
    if x.ndim == 0:
        raise ValueError("diff needs an array of at least one dimension")
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: n must be at least 0 (got {n})")
    ax = _axis(axis, x.ndim)
    parts = [p for p in (prepend, x, append) if p is not None]
    y = concat([_array(p) for p in parts], axis=ax) if len(parts) > 1 else x
    head = (slice(None),) * ax
    for _ in range(n):
        later, earlier = y[head + (slice(1, None),)], y[head + (slice(-1),)]
        y = later != earlier if y.dtype == np.bool_ else later - earlier
    return y


def sort(x: Array, /, *, axis: int = -1, descending: bool = False,
         stable: bool = True) -> Array:
    """x sorted along axis (NaN last). Waits for x and computes on the
    host.

    Parameters
    ----------
    x : Array
    axis : int, optional
    descending : bool, optional
    stable : bool, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.sort(cb.asarray([3, 1, 2])).tolist()
    [1, 2, 3]
    """
    x = _array(x)

    def run(a: Any) -> Any:
        # Sorted values are the same whatever the order of equal ones,
        # except -0.0 and 0.0: only then does stability take a stable
        # (slower) sort.
        kind: Any = "stable" if (stable and a.dtype.kind == "f" and np.any(
            (a == 0) & np.signbit(a))) else None
        if descending:
            return np.flip(np.sort(np.flip(a, axis), axis=axis, kind=kind),
                           axis)
        return np.sort(a, axis=axis, kind=kind)
    return _host(run, x)  # type: ignore[no-any-return]


def argsort(x: Array, /, *, axis: int = -1, descending: bool = False,
            stable: bool = True) -> Array:
    """The indices that sort x along axis (int64). Waits for x and
    computes on the host.

    Parameters
    ----------
    x : Array
    axis : int, optional
    descending : bool, optional
        Equal elements keep their order all the same.
    stable : bool, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.argsort(cb.asarray([3, 1, 2])).tolist()
    [1, 2, 0]
    """
    x = _array(x)

    def run(a: Any) -> Any:
        if descending:
            n = a.shape[axis]
            rev = np.flip(np.argsort(np.flip(a, axis), axis=axis,
                                     kind="stable"), axis)
            return (n - 1 - rev).astype(np.int64)
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64)
    return _host(run, x)  # type: ignore[no-any-return]


def searchsorted(x1: Array, x2: Array, /, *, side: str = "left",
                 sorter: Array | None = None) -> Array:
    """Where the elements of x2 would go in the sorted 1-D x1 (int64).
    Waits for the data and computes on the host.

    Parameters
    ----------
    x1 : Array
        1-D, sorted (or sorted by sorter).
    x2 : Array
    side : {"left", "right"}, optional
    sorter : Array, optional

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.searchsorted(cb.asarray([1, 3, 5]), cb.asarray([4])).tolist()
    [2]
    """
    a = _array(x1)
    s = None if sorter is None else np.asarray(sorter)
    search: Any = np.searchsorted
    out: Array = _host(lambda v, w: search(
        v, w, side=side, sorter=s).astype(np.int64), a, np.asarray(x2))
    return out


class UniqueAll(NamedTuple):
    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCounts(NamedTuple):
    values: Array
    counts: Array


class UniqueInverse(NamedTuple):
    values: Array
    inverse_indices: Array


def _unique(x: Array, **kw: Any) -> Any:
    unique: Any = np.unique
    return _host(lambda a: unique(a, equal_nan=False, **kw), _array(x))


def unique_values(x: Array, /) -> Array:
    """The distinct elements of x, sorted (each NaN distinct). Waits for x
    and computes on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array

    Examples
    --------
    >>> cb.unique_values(cb.asarray([2, 1, 2])).tolist()
    [1, 2]
    """
    return _unique(x)  # type: ignore[no-any-return]


def unique_counts(x: Array, /) -> UniqueCounts:
    """The distinct elements of x and how often each occurs. Waits for x
    and computes on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    UniqueCounts
        values, counts.

    Examples
    --------
    >>> cb.unique_counts(cb.asarray([2, 1, 2])).counts.tolist()
    [1, 2]
    """
    return UniqueCounts(*_unique(x, return_counts=True))


def unique_inverse(x: Array, /) -> UniqueInverse:
    """The distinct elements of x, and where each element of x is among
    them (of x's shape). Waits for x and computes on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    UniqueInverse
        values, inverse_indices.

    Examples
    --------
    >>> cb.unique_inverse(cb.asarray([2, 1, 2])).inverse_indices.tolist()
    [1, 0, 1]
    """
    a = _array(x)
    values, inverse = _unique(a, return_inverse=True)
    return UniqueInverse(values, reshape(inverse, a.shape))


def unique_all(x: Array, /) -> UniqueAll:
    """The distinct elements of x, the first index of each, where each
    element of x is among them, and the counts. Waits for x and computes
    on the host.

    Parameters
    ----------
    x : Array

    Returns
    -------
    UniqueAll
        values, indices, inverse_indices, counts.

    Examples
    --------
    >>> cb.unique_all(cb.asarray([2, 1, 2])).indices.tolist()
    [1, 0]
    """
    a = _array(x)
    values, index, inverse, counts = _unique(
        a, return_index=True, return_inverse=True, return_counts=True)
    return UniqueAll(values, index, reshape(inverse, a.shape), counts)


def namespace(x: Array, /, *, api_version: str | None = None) -> Any:
    """Array.__array_namespace__: the cambrian module."""
    if api_version is not None and api_version not in ("2022.12",
                                                       "2023.12",
                                                       "2024.12"):
        raise ValueError(f"unsupported Array API version {api_version!r}")
    import cambrian
    return cambrian


# ---- the namespace's inspection -------------------------------------------

class Info:
    """What the namespace offers (the Array API's inspection): its
    capabilities, devices and dtypes."""

    def capabilities(self) -> dict[str, Any]:
        """boolean indexing (on the host) and data-dependent shapes are
        supported; cambrian arrays have at most 8 dimensions."""
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 8}

    def default_device(self) -> Any:
        """The device work without a placement goes to (None: the
        scheduler chooses)."""
        from ._devices import default_device
        return default_device()

    def devices(self) -> list[Any]:
        """Every device of the running runtime."""
        from ._devices import devices
        return devices()

    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        """float64 for real floats, complex128 for complex ones, int64
        for integers and indices."""
        return {"real floating": np.dtype(np.float64),
                "complex floating": np.dtype(np.complex128),
                "integral": np.dtype(np.int64),
                "indexing": np.dtype(np.int64)}

    def dtypes(self, *, device: Any = None,
               kind: str | tuple[str, ...] | None = None
               ) -> dict[str, np.dtype[Any]]:
        """The Array API's dtypes of a kind (all when None), by name.
        float16, which the standard does not define, is left out, as
        NumPy leaves it out of its own."""
        return {d.name: d for d in _DTYPES
                if d != np.float16 and (kind is None or isdtype(d, kind))}


def __array_namespace_info__() -> Info:
    """The Array API's inspection object of the namespace.

    Returns
    -------
    Info
        capabilities(), default_device(), devices(), default_dtypes() and
        dtypes().

    Examples
    --------
    >>> sorted(cb.__array_namespace_info__().dtypes(kind="bool"))
    ['bool']
    """
    return Info()
