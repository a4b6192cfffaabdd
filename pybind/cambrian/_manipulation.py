"""Shapes and indexing: reshape, permute_dims, broadcast_to, flip, concat,
stack and their kin, and ``a[key]`` / ``a[key] = value``, as NumPy and the
Array API standard define them.

Each is one or a few layout copies: a task reads the elements that a
strided layout of the source reaches (a transpose, a slice with steps, a
broadcast) and writes them into a new C-ordered array, or into part of an
existing one. The work is asynchronous and ordered after the earlier
writes of the arrays it reads; its failures come back on the result.

Basic indexing gives views (the C core's cb_view): ``a[1:3]`` holds what
``a`` holds there now, and writing through it (``v[...] = x``, ``v +=
1``) writes ``a``. The other results are new arrays, whose copy is put
off (cb_gather): element-wise work reads the source through the layout,
and the copy is made when something else needs it, or before the source
is written. Indexing with integer
arrays and boolean masks (advanced indexing) waits for the data and runs
on the host, except a boolean mask of the array's own shape in an
assignment, which is a task.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from . import _core

if TYPE_CHECKING:
    from ._core import Array

__all__ = ["reshape", "permute_dims", "broadcast_to", "broadcast_arrays",
           "broadcast_shapes", "expand_dims", "squeeze", "flip",
           "moveaxis", "swapaxes", "concat", "concatenate", "stack",
           "ravel", "roll"]

_Layout = tuple[tuple[int, ...], tuple[int, ...], int]


def _c_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """The strides, in elements, of a C-ordered array of shape."""
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _whole(x: Array) -> _Layout:
    return (tuple(x.shape), _c_strides(x.shape), 0)


def _array(x: object, name: str = "x") -> Array:
    """x as an Array (buffers and sequences are converted)."""
    if isinstance(x, _core.Array):
        return x
    from ._creation import asarray
    try:
        return asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array, not "
                        f"{type(x).__name__!r}") from e


def _axis(axis: object, ndim: int, name: str = "axis") -> int:
    """A normalised axis of an array of ndim dimensions (AxisError is a
    ValueError and an IndexError, as NumPy's)."""
    try:
        a = operator.index(axis)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, not "
                        f"{type(axis).__name__!r}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(
            f"{name} {a} is out of bounds for array of dimension {ndim}")
    return a % ndim if ndim else 0


def _axes(axis: object, ndim: int) -> tuple[int, ...]:
    """axis (an int or a tuple of them) normalised, without repeats."""
    items = axis if isinstance(axis, tuple) else (axis,)
    out = tuple(_axis(a, ndim) for a in items)
    if len(set(out)) != len(out):
        raise ValueError("repeated axis")
    return out


def _shape_arg(shape: object) -> tuple[int, ...]:
    if isinstance(shape, tuple | list):
        return tuple(operator.index(n) for n in shape)
    return (operator.index(shape),)  # type: ignore[arg-type]


# ---- shapes ---------------------------------------------------------------

def reshape(x: Array, /, shape: int | Sequence[int], *,
            copy: bool | None = None) -> Array:
    """An array of x's elements, in C order, with another shape.

    Parameters
    ----------
    x : Array
    shape : int or tuple of ints
        One dimension may be -1: it is inferred from the others.
    copy : bool or None
        None and True copy (cambrian's arrays never share data); False
        raises ValueError, as a reshape without a copy cannot be made.

    Returns
    -------
    Array
        A new array, written by a task.

    Raises
    ------
    ValueError
        The sizes differ, more than one dimension is -1, or copy is
        False.

    Examples
    --------
    >>> cb.reshape(cb.arange(6), (2, -1)).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    x = _array(x)
    if copy is False:
        raise ValueError("reshape: cambrian's arrays never share data, so "
                         "a reshape without a copy (copy=False) is not "
                         "possible")
    new = list(_shape_arg(shape))
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension")
    if any(n < -1 for n in new):
        raise ValueError(f"negative dimensions not allowed in {tuple(new)}")
    if unknown:
        rest = 1
        for i, n in enumerate(new):
            if i != unknown[0]:
                rest *= n
        if rest == 0 or x.size % rest:
            raise ValueError(f"cannot reshape array of size {x.size} into "
                             f"shape {tuple(new)}")
        new[unknown[0]] = x.size // rest
    size = 1
    for n in new:
        size *= n
    if size != x.size:
        raise ValueError(f"cannot reshape array of size {x.size} into "
                         f"shape {tuple(new)}")
    shape_t = tuple(new)
    return _core.gather(x, (shape_t, _c_strides(shape_t), 0))


def ravel(x: Array, /) -> Array:
    """The elements of x as a 1-D array, in C order (a copy).

    Parameters
    ----------
    x : Array

    Returns
    -------
    Array
        A new 1-D array, written by a task.

    Examples
    --------
    >>> cb.ravel(cb.ones((2, 2))).shape
    (4,)
    """
    return reshape(x, -1)


def permute_dims(x: Array, /, axes: Sequence[int]) -> Array:
    """x with its axes in the order axes gives (a copy).

    Parameters
    ----------
    x : Array
    axes : tuple of ints
        A permutation of ``range(x.ndim)`` (negative axes count from the
        end).

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        axes is not a permutation of x's axes.

    Examples
    --------
    >>> cb.permute_dims(cb.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    x = _array(x)
    order = tuple(_axis(a, x.ndim) for a in axes)
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"axes {tuple(axes)} don't match array of "
                         f"dimension {x.ndim}")
    if x.ndim == 2 and order == (1, 0):
        return _core.transpose(x)  # row-block tasks, BLAS-backed
    shape, strides, _ = _whole(x)
    return _core.gather(x, (tuple(shape[a] for a in order),
                            tuple(strides[a] for a in order), 0))


def moveaxis(x: Array, source: int | Sequence[int],
             destination: int | Sequence[int], /) -> Array:
    """x with axes source moved to positions destination (a copy).

    Parameters
    ----------
    x : Array
    source : int or sequence of ints
        The axes to move.
    destination : int or sequence of ints
        Where they go, in the same order.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        source and destination differ in length, or repeat an axis.
    numpy.exceptions.AxisError
        An axis is out of bounds.

    Examples
    --------
    >>> cb.moveaxis(cb.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = _array(x)
    src = _axes(tuple(source) if isinstance(source, list) else source,
                x.ndim)
    dst = _axes(tuple(destination) if isinstance(destination, list)
                else destination, x.ndim)
    if len(src) != len(dst):
        raise ValueError("source and destination must have the same number "
                         "of elements")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(x, order)


def swapaxes(x: Array, axis1: int, axis2: int, /) -> Array:
    """x with two axes exchanged (a copy).

    Parameters
    ----------
    x : Array
    axis1, axis2 : int
        The axes exchanged.

    Returns
    -------
    Array

    Raises
    ------
    numpy.exceptions.AxisError
        An axis is out of bounds.

    Examples
    --------
    >>> cb.swapaxes(cb.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = _array(x)
    a, b = _axis(axis1, x.ndim), _axis(axis2, x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute_dims(x, order)


def expand_dims(x: Array, /, axis: int | tuple[int, ...] = 0) -> Array:
    """x with dimensions of length 1 inserted at axis (a copy).

    Parameters
    ----------
    x : Array
    axis : int or tuple of ints
        Positions of the new dimensions in the result.

    Returns
    -------
    Array

    Raises
    ------
    numpy.exceptions.AxisError
        An axis is out of bounds for the result.

    Examples
    --------
    >>> cb.expand_dims(cb.ones(3), axis=0).shape
    (1, 3)
    """
    x = _array(x)
    n = x.ndim + (len(axis) if isinstance(axis, tuple) else 1)
    new = _axes(axis, n)
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in new else next(dims)
                            for i in range(n)))


def squeeze(x: Array, /, axis: int | tuple[int, ...] | None = None
            ) -> Array:
    """x without the dimensions of length 1 that axis names (a copy).

    Parameters
    ----------
    x : Array
    axis : int or tuple of ints, optional
        None: every dimension of length 1.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        A dimension named has another length than 1.

    Examples
    --------
    >>> cb.squeeze(cb.ones((1, 3, 1))).shape
    (3,)
    """
    x = _array(x)
    if axis is None:
        gone = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        gone = _axes(axis, x.ndim)
        for a in gone:
            if x.shape[a] != 1:
                raise ValueError("cannot select an axis to squeeze out "
                                 "which has size not equal to one")
    return reshape(x, tuple(n for i, n in enumerate(x.shape)
                            if i not in gone))


def flip(x: Array, /, *, axis: int | tuple[int, ...] | None = None
         ) -> Array:
    """x with the order of its elements along axis reversed (a copy).

    Parameters
    ----------
    x : Array
    axis : int or tuple of ints, optional
        None: every axis.

    Returns
    -------
    Array

    Raises
    ------
    numpy.exceptions.AxisError
        An axis is out of bounds.

    Examples
    --------
    >>> cb.flip(cb.arange(4)).tolist()
    [3, 2, 1, 0]
    """
    x = _array(x)
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim)
    shape, strides, offset = _whole(x)
    s = list(strides)
    for a in axes:
        if shape[a] > 0:
            offset += (shape[a] - 1) * s[a]
        s[a] = -s[a]
    return _core.gather(x, (shape, tuple(s), offset))


def roll(x: Array, /, shift: int | tuple[int, ...], *,
         axis: int | tuple[int, ...] | None = None) -> Array:
    """x with its elements shifted along axis, those past the end coming
    back at the start.

    Parameters
    ----------
    x : Array
    shift : int or tuple of ints
        Elements to shift by, per axis (negative: towards the start).
    axis : int or tuple of ints, optional
        None: the flattened array, shaped back afterwards.

    Returns
    -------
    Array
        A new array. Rolled along the first axis alone, it is tiled (and
        distributed) as x, each tile written by one task where it lives
        that reads only the rows coming from other tiles, copied out
        where those live: over the ranks of a distributed run only they
        travel (a stencil's halo exchange). Otherwise one copy task per
        moved block writes it.

    Raises
    ------
    ValueError
        shift and axis are tuples of different lengths.

    Examples
    --------
    >>> cb.roll(cb.arange(5), 2).tolist()
    [3, 4, 0, 1, 2]
    """
    x = _array(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, axis=0), x.shape)
    shifts = shift if isinstance(shift, tuple) else (shift,)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(shifts) != len(axes):
        if len(shifts) == 1:
            shifts = shifts * len(axes)
        elif len(axes) == 1:
            axes = axes * len(shifts)
        else:
            raise ValueError("shift and axis must have the same length")
    by = [0] * x.ndim
    for s, a in zip(shifts, axes):
        by[_axis(a, x.ndim)] += operator.index(s)
    if not any(by[1:]):
        # Along the first axis alone: tile by tile, reading from the other
        # tiles only the rows that cross (distributed: a halo exchange).
        return _core.roll_rows(x, by[0])
    out = _core.empty_result(tuple(x.shape), x.dtype, x.device)
    shape, strides, _ = _whole(x)
    # Each part of the result is one box of the source: along every
    # rolled axis, the head and the tail change places.
    boxes: list[tuple[list[int], list[int], list[int]]] = [([], [], [])]
    for d in range(x.ndim):
        n = shape[d]
        k = by[d] % n if n else 0
        parts = [(0, n, 0)] if k == 0 else [(n - k, k, 0), (0, n - k, k)]
        boxes = [(lo + [src], ln + [size], to + [dst])
                 for lo, ln, to in boxes for src, size, dst in parts]
    for lo, ln, to in boxes:
        src_off = sum(a * s for a, s in zip(lo, strides))
        dst_off = sum(a * s for a, s in zip(to, strides))
        _core.copy_layout(x, (tuple(ln), strides, src_off),
                          out, (tuple(ln), strides, dst_off))
    return out


# ---- broadcasting -----------------------------------------------------------

def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that arrays of shapes broadcast to, by NumPy's rules.

    Parameters
    ----------
    *shapes : tuples of ints

    Returns
    -------
    tuple of ints

    Raises
    ------
    ValueError
        The shapes do not broadcast together.

    Examples
    --------
    >>> cb.broadcast_shapes((4, 1), (3,))
    (4, 3)
    """
    shapes_t = [_shape_arg(s) for s in shapes]
    nd = max((len(s) for s in shapes_t), default=0)
    out = [1] * nd
    for s in shapes_t:
        for i, n in enumerate(s):
            d = i + nd - len(s)
            if n == out[d] or n == 1:
                continue
            if out[d] != 1:
                text = " ".join(str(tuple(t)).replace(" ", "")
                                for t in shapes_t)
                raise ValueError(f"shape mismatch: objects cannot be "
                                 f"broadcast to a single shape: {text}")
            out[d] = n
    return tuple(out)


def _broadcast_layout(x: Array, shape: tuple[int, ...]) -> _Layout:
    """The layout that reads x as an array of shape (which x's shape
    broadcasts to): stride 0 along the dimensions it repeats."""
    own, strides, _ = _whole(x)
    lead = len(shape) - len(own)
    if lead < 0:
        raise ValueError(f"cannot broadcast an array of shape {own} to "
                         f"the smaller number of dimensions of {shape}")
    out = []
    for d, n in enumerate(shape):
        k = d - lead
        if k < 0 or own[k] == 1 and n != 1:
            out.append(0)
        elif own[k] == n:
            out.append(strides[k])
        else:
            raise ValueError(f"cannot broadcast an array of shape {own} "
                             f"to shape {shape}")
    return (shape, tuple(out), 0)


def broadcast_to(x: Array, /, shape: int | Sequence[int]) -> Array:
    """x repeated along the dimensions it lacks or has of length 1, to
    shape (a copy).

    Parameters
    ----------
    x : Array
    shape : int or tuple of ints

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        x's shape does not broadcast to shape.

    Examples
    --------
    >>> cb.broadcast_to(cb.arange(3), (2, 3)).tolist()
    [[0, 1, 2], [0, 1, 2]]
    """
    x = _array(x)
    return _core.gather(x, _broadcast_layout(x, _shape_arg(shape)))


def broadcast_arrays(*arrays: Array) -> list[Array]:
    """The arrays, each broadcast to the shape they broadcast to together.

    Parameters
    ----------
    *arrays : Array

    Returns
    -------
    list of Array
        Arrays of that shape already are returned as they are.

    Raises
    ------
    ValueError
        The shapes do not broadcast together.

    Examples
    --------
    >>> [a.shape for a in cb.broadcast_arrays(cb.ones((2, 1)), cb.ones(3))]
    [(2, 3), (2, 3)]
    """
    xs = [_array(a) for a in arrays]
    shape = broadcast_shapes(*(a.shape for a in xs))
    return [a if a.shape == shape else broadcast_to(a, shape) for a in xs]


# ---- joining ----------------------------------------------------------------

def _joined(arrays: Sequence[Array], what: str) -> list[Array]:
    if isinstance(arrays, _core.Array) or not len(arrays):
        raise ValueError(f"{what} needs a non-empty sequence of arrays")
    xs = [_array(a, "arrays") for a in arrays]
    dtype = np.result_type(*(np.dtype(a.dtype) for a in xs))
    return [a if a.dtype == dtype else a.astype(dtype) for a in xs]


def concat(arrays: Sequence[Array], /, *, axis: int | None = 0) -> Array:
    """The arrays joined along an existing axis.

    Parameters
    ----------
    arrays : sequence of Array
        Their dtypes are promoted as NumPy does.
    axis : int or None
        None: the arrays are flattened first.

    Returns
    -------
    Array
        A new array, written by copy tasks, one per tile of the result
        that an input reaches.

    Raises
    ------
    ValueError
        The arrays differ in number of dimensions, or in a length other
        than along axis; or there are none.

    Examples
    --------
    >>> cb.concat([cb.zeros((1, 2)), cb.ones((2, 2))]).shape
    (3, 2)
    """
    xs = _joined(arrays, "concat")
    if axis is None:
        xs = [ravel(a) for a in xs]
        axis = 0
    nd = xs[0].ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = _axis(axis, nd)
    for a in xs:
        if a.ndim != nd:
            raise ValueError("all the input arrays must have the same "
                             "number of dimensions")
        if any(a.shape[d] != xs[0].shape[d] for d in range(nd) if d != ax):
            raise ValueError(f"all the input array dimensions except for "
                             f"the concatenation axis must match exactly "
                             f"(shapes {xs[0].shape} and {a.shape})")
    shape = list(xs[0].shape)
    shape[ax] = sum(a.shape[ax] for a in xs)
    device = next((a.device for a in xs if a.device is not None), None)
    out = _core.empty_result(tuple(shape), xs[0].dtype, device)
    strides = _c_strides(shape)
    at = 0
    for a in xs:
        _core.copy_layout(a, _whole(a), out,
                          (tuple(a.shape), strides, at * strides[ax]))
        at += a.shape[ax]
    return out


concatenate = concat


def stack(arrays: Sequence[Array], /, *, axis: int = 0) -> Array:
    """The arrays, all of one shape, joined along a new axis.

    Parameters
    ----------
    arrays : sequence of Array
    axis : int
        Position of the new axis in the result.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        The arrays differ in shape, or there are none.

    Examples
    --------
    >>> cb.stack([cb.zeros(3), cb.ones(3)], axis=1).shape
    (3, 2)
    """
    xs = _joined(arrays, "stack")
    shape = xs[0].shape
    if any(a.shape != shape for a in xs):
        raise ValueError("all input arrays must have the same shape")
    ax = _axis(axis, len(shape) + 1)
    return concat([expand_dims(a, axis=ax) for a in xs], axis=ax)


# ---- indexing ---------------------------------------------------------------

def _is_basic(key: tuple[Any, ...]) -> bool:
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            continue
        if isinstance(k, bool | np.bool_):
            return False
        try:
            operator.index(k)
        except TypeError:
            return False
    return True


def _index_layout(shape: tuple[int, ...], key: tuple[Any, ...],
                  within: _Layout | None = None) -> _Layout:
    """The layout of x[key] for basic indexing: integers, slices,
    Ellipsis and None, with NumPy's rules; of the array x views when x
    is a view through within (its layout there)."""
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(k is not None and k is not Ellipsis for k in key)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is "
                         f"{len(shape)}-dimensional, but {used} were "
                         f"indexed")
    if Ellipsis not in key:
        key = key + (Ellipsis,)
    strides = _c_strides(shape) if within is None else within[1]
    out_shape: list[int] = []
    out_strides: list[int] = []
    offset = 0 if within is None else within[2]
    d = 0
    for k in key:
        if k is None:
            out_shape.append(1)
            out_strides.append(0)
        elif k is Ellipsis:
            for _ in range(len(shape) - used):
                out_shape.append(shape[d])
                out_strides.append(strides[d])
                d += 1
        elif isinstance(k, slice):
            start, stop, step = k.indices(shape[d])
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(strides[d] * step)
            if out_shape[-1]:
                offset += start * strides[d]
            d += 1
        else:
            i = operator.index(k)
            if not -shape[d] <= i < shape[d]:
                raise IndexError(f"index {i} is out of bounds for axis {d} "
                                 f"with size {shape[d]}")
            offset += (i % shape[d]) * strides[d]
            d += 1
    return (tuple(out_shape), tuple(out_strides), offset)


def _key(key: object) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def _host_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """An advanced index with cambrian arrays replaced by NumPy's."""
    return tuple(k.numpy() if isinstance(k, _core.Array) else k
                 for k in key)


def _target(x: Array, key: tuple[Any, ...]) -> tuple[Array, _Layout]:
    """The array that x[key] (basic) reaches into, and its layout there:
    x's own source when x is a view."""
    seen = _core.view_source(x)
    if seen is None:
        return x, _index_layout(tuple(x.shape), key)
    src, within = seen
    return src, _index_layout(tuple(x.shape), key, within)


def getitem(x: Array, key: object) -> Array:
    """x[key]: basic indexing gives a view of x (of x's source when x is
    a view); advanced indexing waits for the data and indexes on the
    host (see the module's docstring)."""
    k = _key(key)
    if _is_basic(k):
        return _core.view(*_target(x, k))
    from ._creation import asarray
    return asarray(np.asarray(x)[_host_key(k)], device=x.device)


def _value_for(x: Array, value: object) -> Array:
    """value as an Array of x's dtype, placed with x: converted as NumPy
    converts what is assigned into an array."""
    from ._creation import asarray
    if isinstance(value, _core.Array):
        return value if value.dtype == x.dtype else value.astype(x.dtype)
    return asarray(np.array(value, dtype=x.dtype), device=x.device)


def setitem(x: Array, key: object, value: object) -> None:
    """x[key] = value: a task that writes the elements key selects,
    after the earlier work on x (see the module's docstring)."""
    k = _key(key)
    if _is_basic(k):
        dst, target = _target(x, k)
        v = _value_for(x, value)
        _core.copy_layout(v, _broadcast_layout(v, target[0]), dst, target)
        return
    if _core.view_source(x) is not None:
        # Through a copy: what it holds then goes back where x views.
        whole = x.copy()
        setitem(whole, key, value)
        setitem(x, Ellipsis, whole)
        return
    if (len(k) == 1 and isinstance(k[0], _core.Array)
            and k[0].dtype == np.bool_ and k[0].shape == x.shape
            and np.ndim(value) == 0):  # type: ignore[arg-type]
        from ._elementwise import where
        v = _value_for(x, value)
        _core.copy_layout(where(k[0], v, x).astype(x.dtype), _whole(x), x,
                          _whole(x))
        return
    host = np.array(x)
    host[_host_key(k)] = np.asarray(value)
    from ._creation import asarray
    _core.copy_layout(asarray(host, device=x.device), _whole(x), x,
                      _whole(x))


def inplace_view(x: Array, y: object, name: str) -> Array:
    """x op= y for a view x (which cannot be written itself): the update
    made on a copy, with NumPy's rules, written back where x views."""
    whole = x.copy()
    got = getattr(whole, name)(y)
    if got is NotImplemented:
        return got  # type: ignore[no-any-return]
    setitem(x, Ellipsis, whole)
    return x


def iterate(x: Array) -> Iterator[Array]:
    """iter(x): the sub-arrays along the first axis, in order."""
    if x.ndim == 0:
        raise TypeError("iteration over a 0-d array")
    return (getitem(x, i) for i in range(x.shape[0]))


# ---- the Array methods that come here (pybind/array_type.c) ----------------

def _method_reshape(x: Array, /, *shape: Any, copy: bool | None = None
                    ) -> Array:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        return reshape(x, shape[0], copy=copy)
    return reshape(x, shape, copy=copy)


def _method_transpose(x: Array, /, *axes: Any) -> Array:
    if not axes or axes == (None,):
        return _reversed_axes(x)
    if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
        axes = tuple(axes[0])
    return permute_dims(x, axes)


def _reversed_axes(x: Array) -> Array:
    if x.ndim < 2:
        return x
    return permute_dims(x, tuple(range(x.ndim - 1, -1, -1)))


def _matrix_transpose(x: Array) -> Array:
    return swapaxes(x, -1, -2)
