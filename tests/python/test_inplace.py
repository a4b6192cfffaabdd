"""In-place operators update the array itself, as NumPy's do: every name
bound to it sees the new values, tasks that read it before see the old
ones, and its dtype stays."""
import asyncio

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults
from helpers import DEVICES, skip_missing


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    return request.param


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**="])
def test_operators_update_every_reference(dev, op):
    x = np.arange(1.0, 9.0)
    a = cb.asarray(x.copy(), device=dev)
    b = a
    want = x.copy()
    exec(f"b {op} 2.0", {}, {"b": b})
    exec(f"want {op} 2.0", {}, {"want": want})
    assert b is a
    np.testing.assert_allclose(a.numpy(), want)


def test_with_arrays_and_integer_dtypes(dev):
    a = cb.arange(6, device=dev)
    a += cb.arange(6, device=dev)
    a *= 3
    np.testing.assert_array_equal(a.numpy(), np.arange(6) * 6)
    assert a.dtype == np.int64


def test_a_result_of_another_dtype_is_refused_and_nothing_changes(dev):
    a = cb.arange(4, device=dev)
    with pytest.raises(TypeError, match="int64"):
        a += 1.5
    with pytest.raises(TypeError):
        a /= 2
    np.testing.assert_array_equal(a.numpy(), np.arange(4))
    with pytest.raises(ValueError, match="shape"):
        s = cb.sum(cb.ones(3, device=dev))
        s += cb.ones(3, device=dev)


def test_readers_before_see_the_old_values(dev):
    a = cb.asarray(np.ones(100000), device=dev)
    twice = a * 2                 # submitted before the update
    total = cb.sum(a)
    a += 5
    after = a * 2
    np.testing.assert_array_equal(twice.numpy(), 2.0)
    assert float(total) == 100000.0
    np.testing.assert_array_equal(after.numpy(), 12.0)


def test_waiting_waits_for_the_update(dev):
    a = cb.ones(100000, device=dev)
    a.future.result(timeout=60)
    for _ in range(20):
        a += 1
    assert a.future.result(timeout=60) is a
    np.testing.assert_array_equal(a.numpy(), 21.0)

    async def main():
        b = cb.ones(10, device=dev)
        await b
        b *= 4
        return (await b).numpy()
    np.testing.assert_array_equal(asyncio.run(main()), 4.0)


def test_a_failed_update_fails_the_array(dev):
    a = cb.ones(10, device=dev)
    a.wait()
    faults.inject_fault("add", device=dev, nth=1)
    try:
        a += 1
        with pytest.raises(cb.DeviceError):
            a.numpy()
    finally:
        faults.clear_faults()


def test_a_numpy_left_operand_is_not_updated(dev):
    x = np.ones(3)
    y = x
    y += cb.ones(3, device=dev)    # NumPy's own in-place add
    assert y is x
    np.testing.assert_array_equal(x, 2.0)
