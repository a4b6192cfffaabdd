"""Array creation: asarray (without a copy where it can), empty, full,
zeros, ones and arange. Values are written by tasks on the device the
array is placed on."""

import numpy as _np

from . import _core
from ._devices import _placement

__all__ = ["asarray", "as_array", "empty", "full", "zeros", "ones",
           "arange"]


def asarray(obj, dtype=None, device=None, copy=None):
    """An Array from obj, placed on device (default: default_device()).

    C-contiguous buffers (NumPy arrays, memoryviews, ...) of a supported
    dtype are used without copying unless copy=True; the buffer must then
    not be modified while tasks read it. Other objects go through
    numpy.asarray. copy=False raises ValueError where a copy is needed.
    """
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
                "int32, int64, float32 and float64): pass dtype=")
        if copy is False:
            raise ValueError("copy=False, but the dtype differs")
        obj, copy = obj.astype(dtype), None
    return _core.asarray_buffer(obj, dtype, dev, copy)


def as_array(x):
    """x itself when it is an Array (where it is placed), else asarray(x)."""
    return x if isinstance(x, _core.Array) else asarray(x)


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)


def empty(shape, dtype=_np.float64, device=None):
    """An uninitialised Array."""
    return _core.empty(_shape(shape), dtype, _placement(device))


def full(shape, fill_value, dtype=None, device=None):
    """An Array filled with fill_value, written by tasks on device."""
    if dtype is None:
        dtype = _np.asarray(fill_value).dtype
        if dtype.name not in _core.DTYPES:
            dtype = _np.float64
    return _core.full(_shape(shape), dtype, fill_value, _placement(device))


def zeros(shape, dtype=_np.float64, device=None):
    """An Array of zeros, written by tasks on device."""
    return full(shape, 0, dtype, device)


def ones(shape, dtype=_np.float64, device=None):
    """An Array of ones, written by tasks on device."""
    return full(shape, 1, dtype, device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Evenly spaced values in [start, stop), as numpy.arange."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        dtype = _np.result_type(*(_np.asarray(v) for v in (start, stop, step)))
        if dtype.name not in _core.DTYPES:
            dtype = _np.int64 if dtype.kind in "iub" else _np.float64
    n = max(0, int(_np.ceil((stop - start) / step)))
    return _core.arange(n, start, step, dtype, _placement(device))
