"""Type aliases of cambrian's signatures (for annotations only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from typing import TypeAlias

    from ._core import Array
    from ._devices import Device

__all__ = ["Scalar", "ArrayLike", "DeviceLike", "DTypeLike"]

#: A Python or NumPy scalar.
Scalar: TypeAlias = Union[bool, int, float, complex, np.generic]
#: What operations take: an Array, a scalar, or a buffer (a NumPy array,
#: used without a copy where it can be).
ArrayLike: TypeAlias = Union["Array", Scalar, npt.NDArray[Any]]
#: A device: a filter string, a Device, or None (the default device).
DeviceLike: TypeAlias = Union[str, "Device", None]
#: A dtype: bool, int8 to int64, uint8 to uint64, float16, float32,
#: float64, complex64 or complex128, by name or type.
DTypeLike: TypeAlias = npt.DTypeLike
