"""Element-wise operations as functions, add ... where, as NumPy's: each
submits its tasks and returns a new Array at once. Given a graph's
values, they record a node of the graph instead."""

from . import _core
from ._graph import record as _record

__all__ = ["add", "subtract", "multiply", "divide", "power", "maximum",
           "minimum", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "negative", "abs", "absolute", "sqrt", "exp",
           "log", "sin", "cos", "tanh", "where"]

_OP = {name: i for i, name in enumerate(_core.OPS)}
_ewise = _core.ewise


def _recorded(name, args, error):
    """The graph's record of operation name when an argument is a value
    of a graph; else error (the eager call's), raised again."""
    got = _record(name, args)
    if got is None:
        raise error
    return got


def _named(op, name, doc):
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(name, doc):
    code = _OP[name]

    def op(x1, x2):
        try:
            return _ewise(code, x1, x2)
        except TypeError as e:  # a graph's value records instead
            return _recorded(name, (x1, x2), e)
    return _named(op, name, doc)


def _unary(name, doc):
    code = _OP[name]

    def op(x):
        try:
            return _ewise(code, x)
        except TypeError as e:  # a graph's value records instead
            return _recorded(name, (x,), e)
    return _named(op, name, doc)


add = _binary("add", "x1 + x2, element-wise.")
subtract = _binary("subtract", "x1 - x2, element-wise.")
multiply = _binary("multiply", "x1 * x2, element-wise.")
divide = _binary("divide", "x1 / x2 (true division), element-wise.")
power = _binary("power", "x1 ** x2, element-wise.")
maximum = _binary("maximum", "Element-wise maximum; NaN propagates.")
minimum = _binary("minimum", "Element-wise minimum; NaN propagates.")
equal = _binary("equal", "x1 == x2, element-wise.")
not_equal = _binary("not_equal", "x1 != x2, element-wise.")
less = _binary("less", "x1 < x2, element-wise.")
less_equal = _binary("less_equal", "x1 <= x2, element-wise.")
greater = _binary("greater", "x1 > x2, element-wise.")
greater_equal = _binary("greater_equal", "x1 >= x2, element-wise.")
negative = _unary("negative", "-x, element-wise.")
abs = absolute = _unary("absolute", "|x|, element-wise.")
sqrt = _unary("sqrt", "Square root, element-wise.")
exp = _unary("exp", "Exponential, element-wise.")
log = _unary("log", "Natural logarithm, element-wise.")
sin = _unary("sin", "Sine, element-wise.")
cos = _unary("cos", "Cosine, element-wise.")
tanh = _unary("tanh", "Hyperbolic tangent, element-wise.")

_WHERE = _OP["where"]


def where(condition, x, y):
    """x where condition is true, else y, element-wise."""
    try:
        return _ewise(_WHERE, condition, x, y)
    except TypeError as e:  # a graph's value records instead
        return _recorded("where", (condition, x, y), e)
