"""cambrian.fft, the Array API's fft extension, against numpy.fft on every
test device: values, dtypes (the operand's precision), shapes, placement
and refusals."""

import numpy as np
import pytest

import cambrian as cb
from helpers import DEVICES, skip_missing

ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
MANY_AXES = ["fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfftn"}


@pytest.fixture(params=DEVICES)
def device(request):
    skip_missing(request.param)
    return request.param


def operand(name, dtype, shape=(6, 10)):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    if name in REAL_INPUT:
        return x.astype(dtype)
    ctype = np.complex64 if dtype == np.float32 else np.complex128
    return (x + 1j * rng.standard_normal(shape)).astype(ctype)


def close(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = 1e-4 if want.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
@pytest.mark.parametrize("name", ONE_AXIS)
def test_one_axis(name, dtype, device):
    x = operand(name, dtype)
    a = cb.asarray(x, device=device)
    f, g = getattr(cb.fft, name), getattr(np.fft, name)
    close(f(a), g(x))
    for n, axis, norm in [(7, 0, "ortho"), (4, -1, "forward"),
                          (12, 1, "backward")]:
        close(f(a, n=n, axis=axis, norm=norm), g(x, n=n, axis=axis,
                                                  norm=norm))
    assert str(f(a).device) == str(a.device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
@pytest.mark.parametrize("name", MANY_AXES)
def test_many_axes(name, dtype, device):
    x = operand(name, dtype, (3, 4, 6))
    a = cb.asarray(x, device=device)
    f, g = getattr(cb.fft, name), getattr(np.fft, name)
    close(f(a), g(x))
    close(f(a, axes=(0, 2), norm="ortho"), g(x, axes=(0, 2), norm="ortho"))
    # s without axes: the last len(s) axes, as the Array API says.
    close(f(a, s=(5, 8)), g(x, s=(5, 8), axes=(-2, -1)))


def test_frequencies_and_shifts(device):
    for n in (1, 4, 7):
        close(cb.fft.fftfreq(n, d=0.25, device=device),
              np.fft.fftfreq(n, 0.25))
        close(cb.fft.rfftfreq(n, device=device), np.fft.rfftfreq(n))
    f = cb.fft.fftfreq(6, dtype=cb.float32, device=device)
    assert f.dtype == np.float32
    x = np.arange(24.0).reshape(4, 6)
    a = cb.asarray(x, device=device)
    close(cb.fft.fftshift(a), np.fft.fftshift(x))
    close(cb.fft.ifftshift(a, axes=1), np.fft.ifftshift(x, axes=1))
    close(cb.fft.ifftshift(cb.fft.fftshift(a, axes=(0,)), axes=(0,)), x)


def test_refusals():
    a = cb.ones(4, dtype=cb.complex128)
    with pytest.raises(ValueError, match="norm"):
        cb.fft.fft(a, norm="both")
    with pytest.raises(ValueError, match="positive"):
        cb.fft.fftfreq(0)
    with pytest.raises(ValueError):
        cb.fft.fft(a, n=0)
    assert set(cb.fft.__all__) == {
        "fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn",
        "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"}
