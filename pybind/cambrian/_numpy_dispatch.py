"""NumPy's functions called on cambrian Arrays (NEP 13 and NEP 18).

The ufuncs and functions cambrian has run as its own tasks and return
Arrays: ``np.sqrt(a)``, ``np.add(a, 1)``, ``np.add.reduce(a, axis=0)``,
``np.sum(a, axis=0)``, ``np.where(m, a, b)``... Anything else (another
ufunc, an option cambrian does not take, a function it does not have)
runs in NumPy over the arrays' host copies, once they are ready, and
returns what NumPy returns. ``out=`` takes a NumPy array, which
receives the result, or a cambrian Array for cambrian's element-wise
operations, which a task then writes (in place when it is an operand).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import _core

__all__ = ["array_ufunc", "array_function"]

# ufunc -> the name of cambrian's function.
_CALLS: dict[np.ufunc, str] = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply",
    np.divide: "divide", np.power: "power", np.maximum: "maximum",
    np.minimum: "minimum", np.equal: "equal", np.not_equal: "not_equal",
    np.less: "less", np.less_equal: "less_equal", np.greater: "greater",
    np.greater_equal: "greater_equal", np.negative: "negative",
    np.absolute: "abs", np.sqrt: "sqrt", np.exp: "exp", np.log: "log",
    np.sin: "sin", np.cos: "cos", np.tanh: "tanh", np.matmul: "matmul",
    np.tan: "tan", np.arcsin: "arcsin", np.arccos: "arccos",
    np.arctan: "arctan", np.sinh: "sinh", np.cosh: "cosh",
    np.arcsinh: "arcsinh", np.arccosh: "arccosh", np.arctanh: "arctanh",
    np.log2: "log2", np.log10: "log10", np.log1p: "log1p",
    np.expm1: "expm1", np.exp2: "exp2", np.logical_and: "logical_and",
    np.logical_or: "logical_or", np.logical_xor: "logical_xor",
    np.bitwise_and: "bitwise_and", np.bitwise_or: "bitwise_or",
    np.bitwise_xor: "bitwise_xor", np.arctan2: "arctan2", np.hypot: "hypot",
    np.copysign: "copysign", np.logaddexp: "logaddexp",
    np.floor_divide: "floor_divide", np.remainder: "remainder",
    np.left_shift: "bitwise_left_shift", np.right_shift: "bitwise_right_shift",
    np.sign: "sign", np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc",
    np.square: "square", np.positive: "positive",
    np.invert: "bitwise_invert", np.isnan: "isnan", np.isinf: "isinf",
    np.isfinite: "isfinite", np.signbit: "signbit",
    np.logical_not: "logical_not", np.conjugate: "conj",
}
# ufunc.reduce -> cambrian's reduction.
_REDUCES: dict[np.ufunc, str] = {np.add: "sum", np.maximum: "max",
                                 np.minimum: "min"}
# NumPy function -> cambrian's, the positional arguments it takes (at
# least, at most) and its keyword arguments.
_FUNCTIONS: dict[Any, tuple[str, int, int, tuple[str, ...]]] = {
    np.sum: ("sum", 1, 2, ("axis",)), np.mean: ("mean", 1, 2, ("axis",)),
    np.min: ("min", 1, 2, ("axis",)), np.max: ("max", 1, 2, ("axis",)),
    np.amin: ("min", 1, 2, ("axis",)), np.amax: ("max", 1, 2, ("axis",)),
    np.where: ("where", 3, 3, ()), np.matmul: ("matmul", 2, 2, ()),
    np.real: ("real", 1, 1, ()), np.imag: ("imag", 1, 1, ()),
}


def _cb() -> Any:
    import cambrian
    return cambrian


# NumPy's shape functions, with NumPy's signatures, as cambrian's layout
# copies; None where an argument asks for what cambrian does not do (a
# memory order, an output), which then runs on the host.
def _np_reshape(a: Any, shape: Any = None, order: str = "C", *,
                newshape: Any = None, copy: Any = None) -> Any:
    if order != "C":
        return None
    return _cb().reshape(a, newshape if shape is None else shape, copy=copy)


def _np_ravel(a: Any, order: str = "C") -> Any:
    return _cb().ravel(a) if order == "C" else None


def _np_transpose(a: Any, axes: Any = None) -> Any:
    return _cb().transpose(a, axes)


def _np_squeeze(a: Any, axis: Any = None) -> Any:
    return _cb().squeeze(a, axis)


def _np_expand_dims(a: Any, axis: Any) -> Any:
    return _cb().expand_dims(a, axis=axis)


def _np_flip(m: Any, axis: Any = None) -> Any:
    return _cb().flip(m, axis=axis)


def _np_roll(a: Any, shift: Any, axis: Any = None) -> Any:
    return _cb().roll(a, shift, axis=axis)


def _np_moveaxis(a: Any, source: Any, destination: Any) -> Any:
    return _cb().moveaxis(a, source, destination)


def _np_swapaxes(a: Any, axis1: Any, axis2: Any) -> Any:
    return _cb().swapaxes(a, axis1, axis2)


def _np_broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    return _cb().broadcast_to(array, shape)


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None,
                    dtype: Any = None, casting: str = "same_kind") -> Any:
    if out is not None or dtype is not None:
        return None
    return _cb().concat(arrays, axis=axis)


def _np_stack(arrays: Any, axis: Any = 0, out: Any = None,
              dtype: Any = None, casting: str = "same_kind") -> Any:
    if out is not None or dtype is not None:
        return None
    return _cb().stack(arrays, axis=axis)


_SHAPES: dict[Any, Callable[..., Any]] = {
    np.reshape: _np_reshape, np.ravel: _np_ravel,
    np.transpose: _np_transpose, np.squeeze: _np_squeeze,
    np.expand_dims: _np_expand_dims, np.flip: _np_flip, np.roll: _np_roll,
    np.moveaxis: _np_moveaxis, np.swapaxes: _np_swapaxes,
    np.broadcast_to: _np_broadcast_to, np.concatenate: _np_concatenate,
    np.stack: _np_stack,
}


def _host(x: Any) -> Any:
    """x with every Array, also inside lists, tuples and dicts, as its host
    copy."""
    if isinstance(x, _core.Array):
        return np.asarray(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v) for v in x)
    if isinstance(x, dict):
        return {k: _host(v) for k, v in x.items()}
    return x


def _leaves(x: Any) -> list[Any]:
    return [v for item in x for v in _leaves(item)] \
        if isinstance(x, (list, tuple)) else [x]


def _store(result: Any, out: tuple[Any, ...] | None) -> Any:
    """result into out's NumPy array when out is given, which it then is."""
    if out is None:
        return result
    if len(out) != 1 or not isinstance(out[0], np.ndarray):
        raise TypeError("cambrian: out= takes one NumPy array, or a "
                        "cambrian Array for an element-wise operation")
    np.copyto(out[0], np.asarray(result))
    return out[0]


def _into(ufunc: np.ufunc, inputs: tuple[Any, ...], out: Any) -> Any:
    """ufunc(*inputs) written by a task into the Array out."""
    name = _CALLS.get(ufunc)
    op = {"abs": "absolute"}.get(name or "", name)
    if op not in _core.OPS:
        raise TypeError(f"cambrian: {ufunc.__name__} cannot write into a "
                        "cambrian Array (out=); give a NumPy array")
    return _core.ewise_into(_core.OPS.index(op), out, *inputs)


def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any,
                **kwargs: Any) -> Any:
    """Array.__array_ufunc__: cambrian's operation where it has one."""
    out = kwargs.pop("out", None)
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    if method == "__call__" and ufunc in _CALLS and not kwargs:
        if out is not None and len(out) == 1 and \
                isinstance(out[0], _core.Array):
            return _into(ufunc, inputs, out[0])
        return _store(getattr(_cb(), _CALLS[ufunc])(*inputs), out)
    if method == "reduce" and ufunc in _REDUCES and len(inputs) == 1 and \
            set(kwargs) <= {"axis"}:
        axis = kwargs.get("axis", 0)
        if axis is None or isinstance(axis, int):
            return _store(getattr(_cb(), _REDUCES[ufunc])(inputs[0],
                                                          axis=axis), out)
    if method == "at" and isinstance(inputs[0], _core.Array):
        # In place, unbuffered: on a copy of the host data, written back by
        # a task (the host copy itself is the runtime's, and read-only).
        target = inputs[0]
        host = np.array(target)
        ufunc.at(host, *_host(inputs[1:]), **kwargs)
        target[...] = host
        return None
    args = _host(inputs)
    if out is not None:
        kwargs["out"] = _host(out)
    return getattr(ufunc, method)(*args, **kwargs)


def array_function(self: Any, func: Any, types: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """Array.__array_function__: cambrian's function where it has one."""
    if any(isinstance(v, _core.Array) for v in _leaves(kwargs.get("out"))):
        raise TypeError(f"cambrian: {func.__name__} cannot write into a "
                        "cambrian Array (out=); give a NumPy array")
    shape_fn = _SHAPES.get(func)
    if shape_fn is not None:
        got = shape_fn(*args, **kwargs)
        if got is not None:
            return got
    known = _FUNCTIONS.get(func)
    if known is not None and known[1] <= len(args) <= known[2] and \
            set(kwargs) <= set(known[3]):
        axis = kwargs.get("axis", args[1] if known[3] and len(args) > 1
                          else None)
        if axis is None or isinstance(axis, int):
            return getattr(_cb(), known[0])(*args, **kwargs)
    return func(*_host(args), **_host(kwargs))
