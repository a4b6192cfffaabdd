"""Array creation: asarray (without a copy where it can), empty, full,
zeros, ones and arange. Values are written by tasks on the device the
array is placed on."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex

import numpy as _np
import numpy.typing as npt

from . import _core
from ._devices import _placement

if TYPE_CHECKING:
    from ._core import Array
    from ._devices import Device

ShapeLike = SupportsIndex | Sequence[SupportsIndex]

__all__ = ["asarray", "as_array", "empty", "full", "zeros", "ones", "tile_size",
           "from_dlpack", "empty_like", "zeros_like", "ones_like",
           "full_like",
           "arange"]


def asarray(obj: Any, dtype: npt.DTypeLike | None = None,
            device: str | Device | None = None,
            copy: bool | None = None, *,
            tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """An Array from obj, placed on device.

    C-contiguous buffers (NumPy arrays, memoryviews, ...) of a supported
    dtype are used without copying unless copy=True; the buffer must then
    not be modified while tasks read it. Other objects go through
    numpy.asarray.

    Parameters
    ----------
    obj : array_like
        An Array, a buffer, a scalar or nested sequences.
    dtype : dtype, optional
        bool, int8 to int64, uint8 to uint64, float16, float32, float64,
        complex64 or complex128 (default: obj's).
    device : str or Device, optional
        Where the array's work runs (default: :func:`default_device`);
        "auto": the scheduler chooses.
    copy : bool, optional
        True: always copy; False: never (ValueError where a copy is
        needed); None: copy only where needed.
    tile_size : int, optional
        Elements per tile of the array made (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`. An Array
        given without a copy keeps its tiles.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array

    Raises
    ------
    TypeError
        obj's dtype is not one of cambrian's and no dtype is given.
    ValueError
        copy=False but a copy is needed, or obj has more than 2
        dimensions.
    DeviceNotFoundError
        device matches no device.

    Examples
    --------
    >>> x = np.arange(4, dtype=np.float32)
    >>> a = cb.asarray(x)            # no copy: x must stay unchanged
    >>> (a + 1).numpy()
    array([1., 2., 3., 4.], dtype=float32)
    >>> cb.asarray([1, 2], dtype="float64", device="cpu").device.backend
    'cpu'
    """
    if (distribution is not None and isinstance(obj, _core.Array)
            and obj.distribution != distribution):
        if copy is False:
            raise ValueError("copy=False, but the distribution differs")
        copy = True
    with _tiles(tile_size), _spread(distribution):
        return _asarray(obj, dtype, device, copy)


def _asarray(obj: Any, dtype: npt.DTypeLike | None,
             device: str | Device | None, copy: bool | None) -> Array:
    dev = _placement(device)
    if isinstance(obj, _core.Array):
        out = obj
        if dtype is not None and _np.dtype(dtype) != obj.dtype:
            if copy is False:
                raise ValueError("copy=False, but the dtype differs")
            out = obj.astype(dtype)
        elif copy:
            out = obj.copy()
        if dev != out.device:
            out = out.to_device(dev)
        return out
    try:
        memoryview(obj)
    except TypeError:
        if copy is False:
            raise ValueError(
                f"copy=False, but {type(obj).__name__} has no buffer")
        obj = _np.asarray(obj, dtype=dtype)
        copy = None
    if isinstance(obj, _np.ndarray) and obj.dtype.name not in _core.DTYPES:
        if dtype is None:
            raise TypeError(
                f"unsupported dtype '{obj.dtype.name}' (cambrian has bool, "
                "int8 to int64, uint8 to uint64, float16, float32, float64, "
                "complex64 and complex128): "
                "pass dtype=")
        if copy is False:
            raise ValueError("copy=False, but the dtype differs")
        obj, copy = obj.astype(dtype), None
    return _core.asarray_buffer(obj, dtype, dev, copy)


def as_array(x: Any) -> Array:
    """x itself when it is an Array (where it is placed), else asarray(x)."""
    return x if isinstance(x, _core.Array) else asarray(x)


def _shape(shape: ShapeLike) -> tuple[int, ...]:
    """shape as a tuple, read as the core reads it (cbp_int_items) for a
    caller that keeps it: a long sequence (an Array of millions of
    elements passed as a shape) is refused before its items are read."""
    if isinstance(shape, int):
        return (shape,)
    items: tuple[int, ...] = tuple(itertools.islice(
        shape, _core.MAX_NDIM + 1))  # type: ignore[arg-type]
    if len(items) > _core.MAX_NDIM:
        try:
            got = str(len(shape))  # type: ignore[arg-type]
        except TypeError:
            got = f"more than {_core.MAX_NDIM}"
        raise ValueError(f"arrays have at most {_core.MAX_NDIM} "
                         f"dimensions (got {got})")
    return items  # C checks the items


def empty(shape: ShapeLike, dtype: npt.DTypeLike = _np.float64,
          device: str | Device | None = None, *,
          tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """An uninitialised Array.

    Parameters
    ----------
    shape : int or tuple of int
        Up to 8 dimensions.
    dtype : dtype, optional
        Default float64.
    device : str or Device, optional
        Default :func:`default_device`. On a GPU its host copy is pinned
        memory.
    tile_size : int, optional
        Elements per tile of the new array (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        A negative dimension, or more than 2.
    TypeError
        dtype is not one of cambrian's.

    Examples
    --------
    >>> cb.empty((2, 3), dtype=cb.float32).shape
    (2, 3)
    """
    with _tiles(tile_size), _spread(distribution):
        return _core.empty(shape,
                           _np.float64 if dtype is None else dtype,
                           _placement(device))


def full(shape: ShapeLike, fill_value: bool | int | float | _np.generic,
         dtype: npt.DTypeLike | None = None,
         device: str | Device | None = None, *,
         tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """An Array filled with fill_value, written by tasks on device.

    Parameters
    ----------
    shape : int or tuple of int
        Up to 8 dimensions.
    fill_value : scalar
        The value of every element.
    dtype : dtype, optional
        Default: fill_value's (float64 for Python floats).
    device : str or Device, optional
        Default :func:`default_device`.
    tile_size : int, optional
        Elements per tile of the new array (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array

    Raises
    ------
    OverflowError
        fill_value does not fit dtype.

    Examples
    --------
    >>> cb.full(3, 7, dtype=cb.int32).numpy()
    array([7, 7, 7], dtype=int32)
    """
    if dtype is None:
        dtype = _np.asarray(fill_value).dtype
        if dtype.name not in _core.DTYPES:
            dtype = _np.float64
    with _tiles(tile_size), _spread(distribution):
        return _core.full(shape, dtype, fill_value,
                          _placement(device))


def zeros(shape: ShapeLike, dtype: npt.DTypeLike = _np.float64,
          device: str | Device | None = None, *,
          tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """An Array of zeros, written by tasks on device.

    Parameters
    ----------
    shape : int or tuple of int
        Up to 8 dimensions.
    dtype : dtype, optional
        Default float64.
    device : str or Device, optional
        Default :func:`default_device`.
    tile_size : int, optional
        Elements per tile of the new array (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        A negative dimension, or more than 2.

    Examples
    --------
    >>> cb.zeros((2, 2)).numpy()
    array([[0., 0.],
           [0., 0.]])
    """
    return full(shape, 0, _np.float64 if dtype is None else dtype, device,
                tile_size=tile_size, distribution=distribution)


def ones(shape: ShapeLike, dtype: npt.DTypeLike = _np.float64,
         device: str | Device | None = None, *,
         tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """An Array of ones, written by tasks on device.

    Parameters
    ----------
    shape : int or tuple of int
        Up to 8 dimensions.
    dtype : dtype, optional
        Default float64.
    device : str or Device, optional
        Default :func:`default_device`.
    tile_size : int, optional
        Elements per tile of the new array (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        A negative dimension, or more than 2.

    Examples
    --------
    >>> cb.ones(3, dtype=cb.bool_).numpy()
    array([ True,  True,  True])
    """
    return full(shape, 1, _np.float64 if dtype is None else dtype, device,
                tile_size=tile_size, distribution=distribution)


def arange(start: int | float, stop: int | float | None = None,
           step: int | float = 1, dtype: npt.DTypeLike | None = None,
           device: str | Device | None = None, *,
           tile_size: int | None = None,
            distribution: str | None = None) -> Array:
    """Evenly spaced values in [start, stop), as numpy.arange.

    Parameters
    ----------
    start : int or float
        The first value; the end when stop is None (start is then 0).
    stop : int or float, optional
        The end, not included.
    step : int or float, optional
        The spacing (default 1).
    dtype : dtype, optional
        Default: NumPy's for these numbers (int64 or float64).
    device : str or Device, optional
        Default :func:`default_device`.
    tile_size : int, optional
        Elements per tile of the new array (rounded to whole rows),
        instead of the device's choice; see :func:`tile_size`.

    distribution : {'block', 'cyclic'}, optional
        Spread the array over the ranks of a distributed runtime:
        each rank owns one block of rows ('block'), or the tiles
        are dealt to the ranks in turn ('cyclic'); see
        :ref:`distributed`. Without one, an ordinary array.

    Returns
    -------
    Array
        1-D, written by tasks on device.

    Raises
    ------
    ValueError
        step is zero.

    Examples
    --------
    >>> cb.arange(1, 2, 0.25).numpy()
    array([1.  , 1.25, 1.5 , 1.75])
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        dtype = _np.result_type(*(_np.asarray(v) for v in (start, stop, step)))
        if dtype.name not in _core.DTYPES:
            dtype = _np.int64 if dtype.kind in "iub" else _np.float64
    n = max(0, int(_np.ceil((stop - start) / step)))
    if _np.dtype(dtype) == _np.float16:
        # NumPy steps halves by the difference of the first two, taken
        # in float: 1, 1.1 (1.0996), 1.199, ... for arange(1, 2, 0.1).
        first = _np.float16(start)
        second = _np.float16(start + step)
        start = float(first)
        step = float(_np.float32(second) - _np.float32(first))
    with _tiles(tile_size), _spread(distribution):
        return _core.arange(n, start, step, dtype, _placement(device))


@contextlib.contextmanager
def tile_size(elements: int | None) -> Iterator[None]:
    """Arrays that this thread makes inside the block take tiles of
    ``elements`` elements.

    An array is cut into tiles, StarPU's unit of work and of transfer,
    when it is first used: by default CPU workers share cache-sized
    tiles and a GPU takes few large ones. Inside the block, the arrays
    made by this thread (created, copied, or computed from operands not
    tiled yet) take the size given, rounded to whole rows; results of
    element-wise operations keep taking the tiles of their operands.
    Blocks nest; other threads are not affected. The creation functions'
    ``tile_size=`` and :class:`Graph`'s do the same for one call.

    Parameters
    ----------
    elements : int or None
        Elements per tile, 1 or more; None: the device's choice.

    Raises
    ------
    ValueError
        elements is below 1.

    Examples
    --------
    >>> with cb.tile_size(1000):
    ...     a = cb.ones(4000)
    >>> float((a + 1).sum()), a.tile_size
    (8000.0, 1000)
    """
    if elements is not None and (not isinstance(elements, int)
                                 or isinstance(elements, bool)
                                 or elements < 1):
        raise ValueError(f"tile_size must be a whole number of elements, 1 "
                         f"or more (None: the device's choice), got "
                         f"{elements!r}")
    with _thread_setting(_core.thread_tile_size, elements or 0):
        yield


@contextlib.contextmanager
def _thread_setting(setter: Callable[[int], int],
                    value: int) -> Iterator[None]:
    """Sets a per-thread setting of _core for the block, then restores
    the one it replaced."""
    previous = setter(value)
    try:
        yield
    finally:
        setter(previous)


_DISTRIBUTIONS = {"block": 1, "cyclic": 2}


@contextlib.contextmanager
def _spread(distribution: str | None) -> Iterator[None]:
    if distribution is None:
        yield
        return
    code = _DISTRIBUTIONS.get(distribution) \
        if isinstance(distribution, str) else None
    if code is None:
        raise ValueError(f"distribution must be 'block', 'cyclic' or None, "
                         f"got {distribution!r}")
    with _thread_setting(_core.thread_distribution, code):
        yield


def _tiles(elements: int | None) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if elements is None else \
        tile_size(elements)


def from_dlpack(x: Any, /, *, device: str | Device | None = None,
                copy: bool | None = None) -> Array:
    """An Array over the data of a DLPack producer on the host.

    Parameters
    ----------
    x : object
        Anything with ``__dlpack__`` and ``__dlpack_device__`` whose data
        is in host memory: a NumPy array, another library's CPU tensor,
        a cambrian Array.
    device : str or Device, optional
        Where the array's work runs (default: :func:`default_device`).
    copy : bool, optional
        True: copy the data; False or None: use it in place when its
        dtype is one of cambrian's and it is C-contiguous (it must then
        stay unchanged while tasks read it).

    Returns
    -------
    Array

    Raises
    ------
    BufferError
        The data is not in host memory.
    TypeError
        Its dtype is not one of cambrian's.

    Examples
    --------
    >>> x = np.arange(4.0)
    >>> cb.from_dlpack(x).numpy()
    array([0., 1., 2., 3.])
    """
    data = _np.from_dlpack(x)
    return asarray(data, device=device, copy=copy)


def _unpickle(data: npt.NDArray[Any], where: str | None) -> Array:
    """An unpickled Array: its data, on the device of that filter string
    when this runtime has it (else where the scheduler chooses)."""
    from ._devices import devices
    device = where if where is not None and devices(where) else None
    return asarray(data, device=device, copy=True)


def _like(x: Any, dtype: npt.DTypeLike | None,
          device: str | Device | None) -> tuple[tuple[int, ...], Any, Any]:
    """The shape, dtype and device of a new array like x."""
    a = x if isinstance(x, _core.Array) else _np.asarray(x)
    where = device if device is not None else (
        a.device if isinstance(a, _core.Array) else None)
    return tuple(a.shape), a.dtype if dtype is None else dtype, where


_LIKE_DOC = """{summary}

    Parameters
    ----------
    x : Array or array_like
        The array to take after.{extra}
    dtype : dtype, optional
        Default: x's.
    device : str or Device, optional
        Default: x's device (an Array's), else :func:`default_device`.

    Returns
    -------
    Array
{raises}
    Examples
    --------
    >>> {example}
    {result}
    """


def _like_doc(fn: Any, summary: str, example: str, result: str,
              extra: str = "", raises: str = "") -> None:
    fn.__doc__ = _LIKE_DOC.format(summary=summary, extra=extra,
                                  raises=raises, example=example,
                                  result=result)


def empty_like(x: Any, /, *, dtype: npt.DTypeLike | None = None,
               device: str | Device | None = None) -> Array:
    shape, dt, where = _like(x, dtype, device)
    return empty(shape, dt, where)


def zeros_like(x: Any, /, *, dtype: npt.DTypeLike | None = None,
               device: str | Device | None = None) -> Array:
    shape, dt, where = _like(x, dtype, device)
    return full(shape, 0, dt, where)


def ones_like(x: Any, /, *, dtype: npt.DTypeLike | None = None,
              device: str | Device | None = None) -> Array:
    shape, dt, where = _like(x, dtype, device)
    return full(shape, 1, dt, where)


def full_like(x: Any, /, fill_value: bool | int | float | _np.generic, *,
              dtype: npt.DTypeLike | None = None,
              device: str | Device | None = None) -> Array:
    shape, dt, where = _like(x, dtype, device)
    return full(shape, fill_value, dt, where)


_like_doc(empty_like, "An uninitialised Array of x's shape, dtype and "
          "device.", "cb.empty_like(cb.ones((2, 3), dtype=cb.int32)).shape",
          "(2, 3)")
_like_doc(zeros_like, "An Array of zeros of x's shape, dtype and device.",
          "cb.zeros_like(cb.arange(3)).numpy()", "array([0, 0, 0])")
_like_doc(ones_like, "An Array of ones of x's shape, dtype and device.",
          "cb.ones_like(np.zeros(2)).numpy()", "array([1., 1.])")
_like_doc(full_like, "An Array of x's shape, dtype and device filled with "
          "fill_value.", "cb.full_like(cb.arange(3), 7).numpy()",
          "array([7, 7, 7])",
          extra="\n    fill_value : scalar\n        The value of every "
          "element (it must fit the dtype).",
          raises="\n    Raises\n    ------\n    OverflowError\n        "
          "fill_value does not fit the dtype.\n")


def _dlpack(x: Array, *, stream: Any = None,
            max_version: tuple[int, int] | None = None,
            dl_device: Any = None, copy: bool | None = None) -> Any:
    """Array.__dlpack__: a capsule over the host data, once written. The
    data is read-only, which DLPack before 1.0 cannot say: a consumer that
    asks for no version (or an older one) gets a copy, unless copy=False
    forbids it (BufferError)."""
    view = _np.asarray(x)
    if max_version is None or tuple(max_version) < (1, 0):
        if copy is False:
            raise BufferError("cambrian's data is read-only and DLPack "
                              "before 1.0 cannot say so: pass "
                              "max_version=(1, 0), or allow a copy")
        return view.copy().__dlpack__(stream=stream)
    return view.__dlpack__(stream=stream, max_version=max_version,
                           dl_device=dl_device, copy=copy)
