"""Arguments of the extension module's functions that cannot be read: the
error raised while reading one reaches the caller, and no function
returns a result with an exception left set (CPython then raises
SystemError). Found by tests/fuzz/fuzz_python."""

import numpy as np
import pytest

import cambrian as cb
from cambrian import _core


class Untruthful:
    """An object whose truth cannot be told."""

    def __bool__(self):
        raise ZeroDivisionError("no truth here")


def test_array_failure_seen_flag_that_raises():
    a = cb.asarray(np.zeros(3))
    with pytest.raises(ZeroDivisionError, match="no truth here"):
        _core.array_failure(a, Untruthful())
    assert _core.array_failure(a, False) is None
