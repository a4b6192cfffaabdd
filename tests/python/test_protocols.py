"""Python and NumPy protocols of cambrian.Array: scalars, formatting,
lists, indexes, pickling, copies and DLPack, against NumPy's answers."""
import copy
import pickle

import numpy as np
import pytest

import cambrian as cb
from helpers import DEVICES, skip_missing


@pytest.fixture(params=DEVICES)
def dev(request):
    skip_missing(request.param)
    return request.param


def both(x, dev):
    return cb.asarray(x, device=dev), np.asarray(x)


def test_item_and_tolist(dev):
    a, n = both(np.arange(6.0).reshape(2, 3), dev)
    assert a.tolist() == n.tolist()
    assert a.item(4) == n.item(4) and type(a.item(4)) is float
    s = cb.sum(a)
    assert s.item() == n.sum().item()
    b, m = both(np.array([True, False]), dev)
    assert b.tolist() == [True, False] and b.item(0) is True
    with pytest.raises(ValueError):
        a.item()
    with pytest.raises(IndexError):
        a.item(6)


def test_format(dev):
    a, n = both(np.arange(4.0), dev)
    s = cb.sum(a)
    for spec in (".2f", ">10.3e", "", "g"):
        assert format(s, spec) == format(n.sum(), spec)
    assert f"{cb.max(a):.1f}" == "3.0"
    assert format(a, "") == format(n, "")
    with pytest.raises(TypeError):
        format(a, ".2f")          # NumPy formats no array with a spec


def test_index(dev):
    s = cb.sum(cb.ones(2, dtype=cb.int64, device=dev))
    assert [10, 11, 12][s] == 12
    assert range(5)[s] == 2
    with pytest.raises(TypeError):
        [1, 2][cb.sum(cb.ones(2, device=dev))]      # a float
    with pytest.raises(TypeError):
        [1, 2][cb.ones(2, dtype=cb.int64, device=dev)]  # not a scalar


def test_matrix_transpose(dev):
    a, n = both(np.arange(6.0).reshape(2, 3), dev)
    np.testing.assert_array_equal(a.mT.numpy(), n.mT)
    with pytest.raises(ValueError, match="ndim < 2"):
        cb.ones(3, device=dev).mT


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32",
                                   "float64"])
def test_pickle_keeps_data_dtype_shape_and_device(dev, dtype):
    x = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    a = cb.asarray(x, device=dev)
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == a.dtype and b.shape == a.shape
    assert b.device == a.device
    np.testing.assert_array_equal(b.numpy(), x)
    # A copy: writing the source afterwards leaves it alone.
    c = pickle.loads(pickle.dumps(cb.asarray(x, device=dev) + 0))
    np.testing.assert_array_equal(c.numpy(), x + 0)


def test_unpickling_where_the_device_is_missing():
    from cambrian._creation import _unpickle
    a = _unpickle(np.arange(3.0), "opencl:gpu:7")
    assert a.device is None
    np.testing.assert_array_equal(a.numpy(), [0.0, 1.0, 2.0])


def test_a_failed_array_does_not_pickle(dev):
    import cambrian.testing as faults
    faults.inject_fault("multiply", device=dev, nth=1)
    try:
        a = cb.ones(10, device=dev) * 2
        with pytest.raises(cb.DeviceError):
            pickle.dumps(a)
    finally:
        faults.clear_faults()


def test_copies_are_new_arrays(dev):
    a, n = both(np.arange(5.0), dev)
    for b in (copy.copy(a), copy.deepcopy(a), copy.deepcopy([a])[0]):
        assert b is not a
        np.testing.assert_array_equal(b.numpy(), n)


def test_dlpack_to_numpy_shares_the_host_copy(dev):
    x = np.arange(8, dtype=np.float32)
    a = cb.asarray(x, device=dev) * 2
    assert a.__dlpack_device__() == (1, 0)
    v = np.from_dlpack(a)
    np.testing.assert_array_equal(v, x * 2)
    assert np.shares_memory(v, a.numpy())
    del a
    np.testing.assert_array_equal(v, x * 2)   # the capsule keeps it alive


def test_from_dlpack(dev):
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    a = cb.from_dlpack(x, device=dev)
    np.testing.assert_array_equal((a + 1).numpy(), x + 1)
    b = cb.from_dlpack(a)
    np.testing.assert_array_equal(b.numpy(), x)
    c = cb.from_dlpack(x, copy=True)
    x[0, 0] = 100
    assert c.numpy()[0, 0] == 0
    # Every dtype NumPy exports is cambrian's, float16 included; what
    # NumPy cannot export (longdouble) fails in its producer.
    h = np.array([0.5, -np.inf, 6e-8], dtype=np.float16)
    f = cb.from_dlpack(h, device=dev)
    assert f.dtype == np.float16
    np.testing.assert_array_equal(np.from_dlpack(f + 0), h)
    with pytest.raises(BufferError):
        cb.from_dlpack(np.arange(3, dtype=np.longdouble))
    with pytest.raises((TypeError, AttributeError)):
        cb.from_dlpack([1, 2, 3])


def test_dlpack_without_a_version_gets_a_copy():
    """DLPack before 1.0 cannot mark data read-only: a consumer asking for
    no version gets a copy; one that forbids copies is told why."""
    a = cb.arange(4)
    assert np.from_dlpack(a).tolist() == [0, 1, 2, 3]
    assert a.__dlpack__() is not None
    assert a.__dlpack__(max_version=(1, 0)) is not None
    with pytest.raises(BufferError, match="read-only"):
        a.__dlpack__(copy=False)
