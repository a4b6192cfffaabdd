"""Element-wise operations as functions, add ... where, as NumPy's: each
submits its tasks and returns a new Array at once. Given a graph's
values, they record a node of the graph instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NoReturn, Protocol, cast, \
    overload

from . import _core
from ._graph import Value, record as _record

if TYPE_CHECKING:
    from ._core import Array
    from ._typing import ArrayLike

__all__ = ["add", "subtract", "multiply", "divide", "power", "maximum",
           "minimum", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "negative", "abs", "absolute", "sqrt", "exp",
           "log", "sin", "cos", "tanh", "tan", "arcsin", "asin", "arccos",
           "acos", "arctan", "atan", "sinh", "cosh", "arcsinh", "asinh",
           "arccosh", "acosh", "arctanh", "atanh", "log2", "log10", "log1p",
           "expm1", "exp2", "logical_and",
           "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
           "bitwise_xor", "arctan2", "atan2", "hypot", "copysign",
           "logaddexp", "floor_divide", "remainder", "mod",
           "bitwise_left_shift", "left_shift", "bitwise_right_shift",
           "right_shift", "sign", "floor", "ceil", "trunc", "round",
           "square", "positive", "bitwise_invert", "invert", "isnan",
           "isinf", "isfinite", "signbit", "logical_not", "conj", "real",
           "imag", "where"]

_OP = {name: i for i, name in enumerate(_core.OPS)}
_ewise = _core.ewise


class UnaryOperation(Protocol):
    """An element-wise function of one operand."""

    __name__: str

    @overload
    def __call__(self, x: Value, /) -> Value: ...
    @overload
    def __call__(self, x: ArrayLike, /) -> Array: ...


class BinaryOperation(Protocol):
    """An element-wise function of two operands."""

    __name__: str

    @overload
    def __call__(self, x1: Value, x2: ArrayLike | Value, /) -> Value: ...
    @overload
    def __call__(self, x1: ArrayLike, x2: Value, /) -> Value: ...
    @overload
    def __call__(self, x1: ArrayLike, x2: ArrayLike, /) -> Array: ...


def _recorded(name: str, args: tuple[object, ...],
              error: TypeError) -> Value:
    """The graph's record of operation name when an argument is a value
    of a graph; else error (the eager call's), raised again."""
    got = _record(name, args)
    if got is None:
        raise error
    return got


_SHAPES = """Operands broadcast by NumPy's rules; Python scalars take the
array's dtype (NEP 50), arrays promote as in NumPy 2."""

_RAISES = """Raises
------
ValueError
    The shapes do not broadcast, or the operands are on two devices.
TypeError
    An operand is of an unsupported type or dtype.
OverflowError
    A Python integer does not fit the array's dtype."""


def _doc(summary: str, params: str, example: str, result: str) -> str:
    return (f"{summary}\n\n{_SHAPES}\n\nParameters\n----------\n"
            f"{params}\n\nReturns\n-------\nArray\n    A new array, "
            f"written by tasks where the operands are (a graph's value\n"
            f"    inside a Graph block).\n\n{_RAISES}\n\nExamples\n"
            f"--------\n>>> {example}\n{result}\n")


_X1X2 = "x1, x2 : Array or array_like or scalar\n    The operands."
_X = "x : Array or array_like or scalar\n    The operand."


def _named(op: Callable[..., object], name: str, doc: str) -> None:
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc


def _binary(name: str, summary: str, example: str,
            result: str) -> BinaryOperation:
    code = _OP[name]

    def op(x1: object, x2: object) -> object:
        try:
            return _ewise(code, x1, x2)
        except TypeError as e:  # a graph's value records instead
            return _recorded(name, (x1, x2), e)
    _named(op, name, _doc(summary, _X1X2, example, result))
    return cast(BinaryOperation, op)


def _unary(name: str, summary: str, example: str,
           result: str) -> UnaryOperation:
    code = _OP[name]

    def op(x: object) -> object:
        try:
            return _ewise(code, x)
        except TypeError as e:  # a graph's value records instead
            return _recorded(name, (x,), e)
    _named(op, name, _doc(summary, _X, example, result))
    return cast(UnaryOperation, op)


_A = "cb.arange(4)"
_F = "cb.asarray([1.0, 4.0, 9.0])"
add = _binary("add", "x1 + x2, element-wise.",
              f"cb.add({_A}, 10).numpy()", "array([10, 11, 12, 13])")
subtract = _binary("subtract", "x1 - x2, element-wise.",
                   f"cb.subtract({_A}, 1).numpy()", "array([-1,  0,  1,  2])")
multiply = _binary("multiply", "x1 * x2, element-wise.",
                   f"cb.multiply({_A}, {_A}).numpy()", "array([0, 1, 4, 9])")
divide = _binary("divide", "x1 / x2 (true division), element-wise; "
                 "integers give float64.", f"cb.divide({_A}, 2).numpy()",
                 "array([0. , 0.5, 1. , 1.5])")
power = _binary("power", "x1 ** x2, element-wise.",
                f"cb.power({_A}, 2).numpy()", "array([0, 1, 4, 9])")
maximum = _binary("maximum", "Element-wise maximum; NaN propagates.",
                  f"cb.maximum({_A}, 2).numpy()", "array([2, 2, 2, 3])")
minimum = _binary("minimum", "Element-wise minimum; NaN propagates.",
                  f"cb.minimum({_A}, 2).numpy()", "array([0, 1, 2, 2])")
equal = _binary("equal", "x1 == x2, element-wise (bool).",
                f"cb.equal({_A}, 2).numpy()",
                "array([False, False,  True, False])")
not_equal = _binary("not_equal", "x1 != x2, element-wise (bool).",
                    f"cb.not_equal({_A}, 2).numpy()",
                    "array([ True,  True, False,  True])")
less = _binary("less", "x1 < x2, element-wise (bool).",
               f"cb.less({_A}, 2).numpy()",
               "array([ True,  True, False, False])")
less_equal = _binary("less_equal", "x1 <= x2, element-wise (bool).",
                     f"cb.less_equal({_A}, 2).numpy()",
                     "array([ True,  True,  True, False])")
greater = _binary("greater", "x1 > x2, element-wise (bool).",
                  f"cb.greater({_A}, 2).numpy()",
                  "array([False, False, False,  True])")
greater_equal = _binary("greater_equal", "x1 >= x2, element-wise (bool).",
                        f"cb.greater_equal({_A}, 2).numpy()",
                        "array([False, False,  True,  True])")
negative = _unary("negative", "-x, element-wise.",
                  f"cb.negative({_A}).numpy()", "array([ 0, -1, -2, -3])")
abs = absolute = _unary("absolute", "The absolute value of x, element-wise.",
                        "cb.absolute(cb.asarray([-1.5, 2.0])).numpy()",
                        "array([1.5, 2. ])")
sqrt = _unary("sqrt", "Square root, element-wise.",
              f"cb.sqrt({_F}).numpy()", "array([1., 2., 3.])")
exp = _unary("exp", "Exponential, element-wise.",
             "cb.exp(cb.zeros(2)).numpy()", "array([1., 1.])")
log = _unary("log", "Natural logarithm, element-wise.",
             "cb.log(cb.ones(2)).numpy()", "array([0., 0.])")
sin = _unary("sin", "Sine, element-wise.",
             "cb.sin(cb.zeros(2)).numpy()", "array([0., 0.])")
cos = _unary("cos", "Cosine, element-wise.",
             "cb.cos(cb.zeros(2)).numpy()", "array([1., 1.])")
tanh = _unary("tanh", "Hyperbolic tangent, element-wise.",
              "cb.tanh(cb.zeros(2)).numpy()", "array([0., 0.])")
tan = _unary("tan", "Tangent, element-wise.",
             "cb.tan(cb.zeros(2)).numpy()", "array([0., 0.])")
arcsin = asin = _unary("arcsin", "Inverse sine, element-wise.",
                       "cb.arcsin(cb.zeros(2)).numpy()", "array([0., 0.])")
arccos = acos = _unary("arccos", "Inverse cosine, element-wise.",
                       "cb.arccos(cb.ones(2)).numpy()", "array([0., 0.])")
arctan = atan = _unary("arctan", "Inverse tangent, element-wise.",
                       "cb.arctan(cb.zeros(2)).numpy()", "array([0., 0.])")
sinh = _unary("sinh", "Hyperbolic sine, element-wise.",
              "cb.sinh(cb.zeros(2)).numpy()", "array([0., 0.])")
cosh = _unary("cosh", "Hyperbolic cosine, element-wise.",
              "cb.cosh(cb.zeros(2)).numpy()", "array([1., 1.])")
arcsinh = asinh = _unary("arcsinh", "Inverse hyperbolic sine, "
                         "element-wise.", "cb.arcsinh(cb.zeros(2)).numpy()",
                         "array([0., 0.])")
arccosh = acosh = _unary("arccosh", "Inverse hyperbolic cosine, "
                         "element-wise.", "cb.arccosh(cb.ones(2)).numpy()",
                         "array([0., 0.])")
arctanh = atanh = _unary("arctanh", "Inverse hyperbolic tangent, "
                         "element-wise.", "cb.arctanh(cb.zeros(2)).numpy()",
                         "array([0., 0.])")
log2 = _unary("log2", "Base-2 logarithm, element-wise.",
              "cb.log2(cb.asarray([1.0, 8.0])).numpy()", "array([0., 3.])")
log10 = _unary("log10", "Base-10 logarithm, element-wise.",
               "cb.log10(cb.asarray([1.0, 100.0])).numpy()",
               "array([0., 2.])")
log1p = _unary("log1p", "log(1 + x), accurate for small x, element-wise.",
               "cb.log1p(cb.zeros(2)).numpy()", "array([0., 0.])")
expm1 = _unary("expm1", "exp(x) - 1, accurate for small x, element-wise.",
               "cb.expm1(cb.zeros(2)).numpy()", "array([0., 0.])")
exp2 = _unary("exp2", "2 ** x, element-wise.",
              "cb.exp2(cb.asarray([0.0, 3.0])).numpy()", "array([1., 8.])")
logical_and = _binary("logical_and", "x1 and x2 by truth value, "
                      "element-wise (bool).",
                      f"cb.logical_and({_A}, 1).numpy()",
                      "array([False,  True,  True,  True])")
logical_or = _binary("logical_or", "x1 or x2 by truth value, element-wise "
                     "(bool).", f"cb.logical_or({_A}, 0).numpy()",
                     "array([False,  True,  True,  True])")
logical_xor = _binary("logical_xor", "Exactly one of x1 and x2 true, "
                      "element-wise (bool).",
                      f"cb.logical_xor({_A}, 1).numpy()",
                      "array([ True, False, False, False])")
bitwise_and = _binary("bitwise_and", "x1 & x2 (integers and bools), "
                      "element-wise.", f"cb.bitwise_and({_A}, 2).numpy()",
                      "array([0, 0, 2, 2])")
bitwise_or = _binary("bitwise_or", "x1 | x2 (integers and bools), "
                     "element-wise.", f"cb.bitwise_or({_A}, 4).numpy()",
                     "array([4, 5, 6, 7])")
bitwise_xor = _binary("bitwise_xor", "x1 ^ x2 (integers and bools), "
                      "element-wise.", f"cb.bitwise_xor({_A}, 1).numpy()",
                      "array([1, 0, 3, 2])")
arctan2 = atan2 = _binary(
    "arctan2", "The angle of the point (x2, x1), element-wise; integers "
    "of 32 bits and more go through float64, 16-bit ones through float32, "
    "bool and 8-bit ones through float16, as NumPy's.",
    "cb.arctan2(cb.ones(2), cb.ones(2)).numpy().round(4)",
    "array([0.7854, 0.7854])")
hypot = _binary("hypot", "sqrt(x1**2 + x2**2) without overflow, "
                "element-wise.", "cb.hypot(cb.asarray([3.0]), 4.0).numpy()",
                "array([5.])")
copysign = _binary("copysign", "x1 with the sign of x2, element-wise.",
                   "cb.copysign(cb.ones(2), -1.0).numpy()",
                   "array([-1., -1.])")
logaddexp = _binary("logaddexp", "log(exp(x1) + exp(x2)) without "
                    "overflow, element-wise.",
                    "cb.logaddexp(cb.zeros(1), 0.0).numpy().round(4)",
                    "array([0.6931])")
floor_divide = _binary("floor_divide", "x1 // x2, element-wise, as "
                       "NumPy's (integers by 0 give 0).",
                       f"cb.floor_divide({_A} - 2, 2).numpy()",
                       "array([-1, -1,  0,  0])")
remainder = mod = _binary("remainder", "x1 % x2, element-wise, with the "
                          "sign of x2 as NumPy's (integers by 0 give 0).",
                          f"cb.remainder({_A} - 2, 3).numpy()",
                          "array([1, 2, 0, 1])")
bitwise_left_shift = left_shift = _binary(
    "bitwise_left_shift", "x1 << x2 (integers), element-wise.",
    f"cb.bitwise_left_shift({_A}, 2).numpy()", "array([ 0,  4,  8, 12])")
bitwise_right_shift = right_shift = _binary(
    "bitwise_right_shift", "x1 >> x2 (integers), element-wise.",
    f"cb.bitwise_right_shift({_A}, 1).numpy()", "array([0, 0, 1, 1])")
sign = _unary("sign", "-1, 0 or 1 by the sign of x (NaN stays NaN), "
              "element-wise.", "cb.sign(cb.asarray([-2.0, 0.0, 3.0]))"
              ".numpy()", "array([-1.,  0.,  1.])")
floor = _unary("floor", "The largest integer not above x, element-wise "
               "(integers stay as they are).",
               "cb.floor(cb.asarray([-1.5, 1.5])).numpy()",
               "array([-2.,  1.])")
ceil = _unary("ceil", "The smallest integer not below x, element-wise.",
              "cb.ceil(cb.asarray([-1.5, 1.5])).numpy()",
              "array([-1.,  2.])")
trunc = _unary("trunc", "x rounded towards zero, element-wise.",
               "cb.trunc(cb.asarray([-1.5, 1.5])).numpy()",
               "array([-1.,  1.])")
round = _unary("round", "x rounded to the nearest integer, halves to even, "
               "element-wise (each part of a complex x).",
               "cb.round(cb.asarray([0.5, 1.5, 2.7]))"
               ".numpy()", "array([0., 2., 3.])")
square = _unary("square", "x * x, element-wise.",
                f"cb.square({_A}).numpy()", "array([0, 1, 4, 9])")
positive = _unary("positive", "+x, element-wise (a copy).",
                  f"cb.positive({_A}).numpy()", "array([0, 1, 2, 3])")
bitwise_invert = invert = _unary(
    "bitwise_invert", "~x (integers; for bool, not), element-wise.",
    f"cb.bitwise_invert({_A}).numpy()", "array([-1, -2, -3, -4])")
isnan = _unary("isnan", "Whether x is NaN, element-wise (bool).",
               "cb.isnan(cb.asarray([1.0, float('nan')])).numpy()",
               "array([False,  True])")
isinf = _unary("isinf", "Whether x is infinite, element-wise (bool).",
               "cb.isinf(cb.asarray([1.0, float('inf')])).numpy()",
               "array([False,  True])")
isfinite = _unary("isfinite", "Whether x is neither infinite nor NaN, "
                  "element-wise (bool).",
                  "cb.isfinite(cb.asarray([1.0, float('inf')])).numpy()",
                  "array([ True, False])")
signbit = _unary("signbit", "Whether x's sign bit is set, element-wise "
                 "(bool).", "cb.signbit(cb.asarray([-0.0, 1.0])).numpy()",
                 "array([ True, False])")
logical_not = _unary("logical_not", "not x by truth value, element-wise "
                     "(bool).", f"cb.logical_not({_A}).numpy()",
                     "array([ True, False, False, False])")
conj = _unary("conj", "The complex conjugate of x, element-wise (x itself "
              "for real dtypes).", "cb.conj(cb.asarray([1 + 2j])).numpy()",
              "array([1.-2.j])")
real = _unary("real", "The real part of x, element-wise: float32 for "
              "complex64, float64 for complex128, x itself for real "
              "dtypes.", "cb.real(cb.asarray([1 + 2j])).numpy()",
              "array([1.])")
imag = _unary("imag", "The imaginary part of x, element-wise: float32 for "
              "complex64, float64 for complex128, zeros of x's dtype for "
              "real dtypes.", "cb.imag(cb.asarray([1 + 2j])).numpy()",
              "array([2.])")

_WHERE = _OP["where"]


@overload
def where(condition: Value, x: ArrayLike | Value,
          y: ArrayLike | Value) -> Value: ...
@overload
def where(condition: ArrayLike, x: Value,
          y: ArrayLike | Value) -> Value: ...
@overload
def where(condition: ArrayLike, x: ArrayLike, y: Value) -> Value: ...
@overload
def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Array: ...


def where(condition: object, x: object, y: object) -> object:
    """x where condition is true, else y, element-wise.

    Parameters
    ----------
    condition : Array or array_like of bool
        Where to take x.
    x, y : Array or array_like or scalar
        The values; they promote as in NumPy.

    Returns
    -------
    Array
        A new array (a graph's value inside a Graph block).

    Raises
    ------
    ValueError
        The shapes differ, or the operands are on two devices.
    TypeError
        condition is not bool, or an operand's type is unsupported.

    Examples
    --------
    >>> a = cb.arange(4)
    >>> cb.where(a > 1, a, -1).numpy()
    array([-1, -1,  2,  3])
    """
    try:
        return _ewise(_WHERE, condition, x, y)
    except TypeError as e:  # a graph's value records instead
        return _recorded("where", (condition, x, y), e)
