"""empty_like, zeros_like, ones_like and full_like against NumPy's."""
import numpy as np
import pytest

import cambrian as cb
from helpers import DEVICES, skip_missing


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    return request.param


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32",
                                   "float64"])
def test_like_an_array(dev, dtype):
    x = np.arange(6).reshape(2, 3).astype(dtype)
    a = cb.asarray(x, device=dev)
    for got, want in [(cb.zeros_like(a), np.zeros_like(x)),
                      (cb.ones_like(a), np.ones_like(x)),
                      (cb.full_like(a, 1), np.full_like(x, 1))]:
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.device == a.device
        np.testing.assert_array_equal(got.numpy(), want)
    e = cb.empty_like(a)
    assert (e.dtype, e.shape, e.device) == (a.dtype, a.shape, a.device)


def test_like_numpy_data_and_options(dev):
    x = np.zeros((3, 2), np.float32)
    z = cb.ones_like(x, dtype=cb.int64, device=dev)
    assert z.dtype == np.int64 and z.shape == (3, 2)
    assert z.device == cb.get_device(dev)
    np.testing.assert_array_equal(z.numpy(), np.ones((3, 2), np.int64))
    assert cb.zeros_like([1.5, 2.5]).dtype == np.float64


def test_bad_fill_values_raise():
    with pytest.raises(OverflowError):
        cb.full_like(cb.arange(3, dtype=cb.int32), 2 ** 40)
    with pytest.raises(TypeError):
        cb.zeros_like(np.zeros(3, np.longdouble))
