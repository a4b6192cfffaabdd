"""The Array API's fft extension: cambrian.fft.

The transforms wait for their operand and run on the host through NumPy's
pocketfft, in the operand's precision (complex64 stays complex64, float32
gives complex64), then return Arrays placed as their operand, as the
other data-dependent functions do (see :mod:`cambrian.linalg`). The
frequencies and shifts need no data from a device: ``fftfreq`` and
``rfftfreq`` are made where ``device`` says, and the shifts are rolls,
which run as cambrian's tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._array_api import _host
from ._manipulation import _array, roll

if TYPE_CHECKING:
    from ._core import Array

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn",
           "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]

_NORMS = ("backward", "ortho", "forward")


def _check_norm(norm: str) -> None:
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {', '.join(_NORMS)}, not "
                         f"{norm!r}")


def _one(name: str, what: str, kind: str, example: str,
         result: str) -> Callable[..., Array]:
    """A transform along one axis: name of numpy.fft."""
    npfn = getattr(np.fft, name)

    def transform(x: Array, /, *, n: int | None = None, axis: int = -1,
                  norm: str = "backward") -> Array:
        _check_norm(norm)
        a = _array(x)
        out: Array = _host(lambda h: npfn(h, n=n, axis=axis, norm=norm), a)
        return out

    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = f"""The {what} of x along one axis.

    Waits for x and computes on the host (NumPy's pocketfft), in x's
    precision; the result is placed as x.

    Parameters
    ----------
    x : Array
        {kind}.
    n : int, optional
        The length of the transform along axis: x is cut or padded with
        zeros to it (default: x's length there, or for a real result
        from m non-negative frequencies, 2 * (m - 1)).
    axis : int
        The axis (default the last).
    norm : {{"backward", "ortho", "forward"}}
        Which direction is scaled by 1/n ("ortho": both by 1/sqrt(n)).

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        norm is not one of the three, or n is not positive.

    Examples
    --------
    >>> {example}
    {result}
    """
    return transform


def _many(name: str, what: str, kind: str, example: str,
          result: str) -> Callable[..., Array]:
    """A transform over several axes: name of numpy.fft."""
    npfn = getattr(np.fft, name)

    def transform(x: Array, /, *, s: Sequence[int] | None = None,
                  axes: Sequence[int] | None = None,
                  norm: str = "backward") -> Array:
        _check_norm(norm)
        a = _array(x)
        if axes is None and s is not None:
            axes = tuple(range(-len(s), 0))
        out: Array = _host(lambda h: npfn(h, s=s, axes=axes, norm=norm), a)
        return out

    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = f"""The {what} of x over several axes.

    Waits for x and computes on the host (NumPy's pocketfft), in x's
    precision; the result is placed as x.

    Parameters
    ----------
    x : Array
        {kind}.
    s : sequence of int, optional
        The lengths of the transform along axes (x cut or padded).
    axes : sequence of int, optional
        The axes (default every axis, or the last len(s)).
    norm : {{"backward", "ortho", "forward"}}
        Which direction is scaled by 1/n ("ortho": both by 1/sqrt(n)).

    Returns
    -------
    Array

    Raises
    ------
    ValueError
        norm is not one of the three, or s and axes do not match.

    Examples
    --------
    >>> {example}
    {result}
    """
    return transform


_C = "cb.ones(4, dtype=cb.complex64)"
_R = "cb.ones(4, dtype=cb.float32)"
_C2 = "cb.ones((2, 4), dtype=cb.complex128)"
fft = _one("fft", "discrete Fourier transform", "Complex",
           f"cb.fft.fft({_C}).dtype", "dtype('complex64')")
ifft = _one("ifft", "inverse discrete Fourier transform", "Complex",
            f"cb.fft.ifft({_C}).shape", "(4,)")
rfft = _one("rfft", "discrete Fourier transform of real data (the "
            "non-negative frequencies)", "Real",
            f"cb.fft.rfft({_R}).shape", "(3,)")
irfft = _one("irfft", "inverse of rfft (a real result)",
             "Complex, the non-negative frequencies",
             f"cb.fft.irfft({_C}).shape", "(6,)")
hfft = _one("hfft", "transform of a signal with Hermitian symmetry (a "
            "real result)", "Complex, the non-negative frequencies",
            f"cb.fft.hfft({_C}).dtype", "dtype('float32')")
ihfft = _one("ihfft", "inverse of hfft", "Real",
             f"cb.fft.ihfft({_R}).shape", "(3,)")
fftn = _many("fftn", "discrete Fourier transform", "Complex",
             f"cb.fft.fftn({_C2}).shape", "(2, 4)")
ifftn = _many("ifftn", "inverse discrete Fourier transform", "Complex",
              f"cb.fft.ifftn({_C2}).shape", "(2, 4)")
rfftn = _many("rfftn", "discrete Fourier transform of real data (the "
              "non-negative frequencies along the last axis)", "Real",
              "cb.fft.rfftn(cb.ones((2, 4))).shape", "(2, 3)")
irfftn = _many("irfftn", "inverse of rfftn (a real result)",
               "Complex, the non-negative frequencies along the last axis",
               f"cb.fft.irfftn({_C2}).shape", "(2, 6)")


def _freq(values: np.ndarray, dtype: Any, device: Any) -> Array:
    from ._creation import asarray
    if dtype is not None:
        values = values.astype(np.dtype(dtype))
    out: Array = asarray(values, device=device)
    return out


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None,
            device: Any = None) -> Array:
    """The sample frequencies of a transform of length n.

    Parameters
    ----------
    n : int
        The transform's length.
    d : float
        The sample spacing.
    dtype : dtype, optional
        A real floating dtype (default float64).
    device : Device or str, optional
        Where the result is placed.

    Returns
    -------
    Array
        [0, 1, ..., n/2 - 1, -n/2, ..., -1] / (d * n) (n even).

    Raises
    ------
    ValueError
        n is not positive.

    Examples
    --------
    >>> cb.fft.fftfreq(4).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    if n <= 0:
        raise ValueError(f"fftfreq needs a positive n, not {n}")
    return _freq(np.fft.fftfreq(n, d), dtype, device)


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None,
             device: Any = None) -> Array:
    """The sample frequencies of rfft over n samples (the non-negative
    ones).

    Parameters
    ----------
    n : int
        The transform's length.
    d : float
        The sample spacing.
    dtype : dtype, optional
        A real floating dtype (default float64).
    device : Device or str, optional
        Where the result is placed.

    Returns
    -------
    Array
        [0, 1, ..., n // 2] / (d * n).

    Raises
    ------
    ValueError
        n is not positive.

    Examples
    --------
    >>> cb.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    if n <= 0:
        raise ValueError(f"rfftfreq needs a positive n, not {n}")
    return _freq(np.fft.rfftfreq(n, d), dtype, device)


def _shift(x: Array, axes: int | Sequence[int] | None, sign: int) -> Array:
    a = _array(x)
    if axes is None:
        axes = tuple(range(a.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    out = a
    for ax in axes:
        n = a.shape[ax]
        out = roll(out, sign * (n // 2), axis=ax)
    return out


def fftshift(x: Array, /, *, axes: int | Sequence[int] | None = None
             ) -> Array:
    """x with the zero frequency moved to the middle of the axes (rolls,
    which run as tasks).

    Parameters
    ----------
    x : Array
    axes : int or sequence of int, optional
        Default: every axis.

    Returns
    -------
    Array

    Raises
    ------
    IndexError
        An axis is out of range.

    Examples
    --------
    >>> cb.fft.fftshift(cb.fft.fftfreq(4)).tolist()
    [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift(x, axes, 1)


def ifftshift(x: Array, /, *, axes: int | Sequence[int] | None = None
              ) -> Array:
    """The inverse of fftshift (rolls, which run as tasks).

    Parameters
    ----------
    x : Array
    axes : int or sequence of int, optional
        Default: every axis.

    Returns
    -------
    Array

    Raises
    ------
    IndexError
        An axis is out of range.

    Examples
    --------
    >>> cb.fft.ifftshift(cb.fft.fftshift(cb.fft.fftfreq(5))).tolist()
    [0.0, 0.2, 0.4, -0.4, -0.2]
    """
    return _shift(x, axes, -1)
