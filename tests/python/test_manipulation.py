"""Shapes: reshape, permute_dims, broadcast_to, flip, roll, concat, stack
and their kin, each against NumPy on every device, N-D arrays up to 8
dimensions, broadcasting in element-wise work, and the refusals."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults
from helpers import assert_same


def ramp(shape, dtype=np.float64):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


# ---- N-D arrays -----------------------------------------------------------

@pytest.mark.parametrize("ndim", range(0, 9))
def test_nd_arrays_compute_and_reduce(ndim, device):
    shape = tuple(2 + (d % 3) for d in range(ndim))
    x = ramp(shape)
    a = cb.asarray(x, device=device)
    assert a.shape == shape and a.ndim == ndim
    assert_same(a * 2 + 1, x * 2 + 1)
    assert_same(cb.sum(a), np.sum(x))
    for axis in range(ndim):
        assert_same(cb.sum(a, axis=axis), np.sum(x, axis=axis))
        assert_same(cb.max(a, axis=axis), np.max(x, axis=axis))
        assert_same(cb.mean(a, axis=axis), np.mean(x, axis=axis),
                    rtol=1e-12)


@pytest.mark.parametrize("shape", [(2, 0, 3), (0, 2, 3), (2, 3, 0)])
def test_empty_nd_reductions(shape):
    x = np.ones(shape)
    a = cb.asarray(x)
    for axis in range(3):
        assert_same(cb.sum(a, axis=axis), np.sum(x, axis=axis))


# ---- broadcasting -----------------------------------------------------------

@pytest.mark.parametrize("xs,ys", [((4, 1), (3,)), ((2, 3), (3,)),
                                   ((1,), (5,)), ((0,), (1,)),
                                   ((2, 1, 4), (3, 1)), ((5, 1, 1), ()),
                                   ((1, 2, 1, 3), (4, 1, 5, 1))], ids=str)
def test_element_wise_broadcasts(xs, ys, device):
    x, y = ramp(xs), ramp(ys) + 1
    a, b = cb.asarray(x, device=device), cb.asarray(y, device=device)
    assert_same(a + b, x + y)
    assert_same(b - a, y - x)
    assert_same(cb.maximum(a, b), np.maximum(x, y))
    assert_same(a < b, x < y)
    assert_same(cb.where(a < 2, a, b), np.where(x < 2, x, y))


def test_broadcast_with_numpy_operand_and_in_place():
    a = cb.zeros((3, 4))
    a += np.arange(4.0)
    assert_same(a, np.zeros((3, 4)) + np.arange(4.0))
    with pytest.raises(ValueError, match="could not be broadcast"):
        a + np.ones(5)
    b = cb.zeros(4)
    with pytest.raises(ValueError):
        b += cb.zeros((3, 4))  # the result does not fit b


def test_broadcast_helpers():
    assert cb.broadcast_shapes((4, 1), (3,), ()) == (4, 3)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        cb.broadcast_shapes((2,), (3,))
    x = ramp((3, 1))
    got = cb.broadcast_arrays(cb.asarray(x), cb.ones(4))
    want = np.broadcast_arrays(x, np.ones(4))
    for g, w in zip(got, want):
        assert_same(g, w)
    assert_same(cb.broadcast_to(cb.asarray(x), (2, 3, 5)),
                np.broadcast_to(x, (2, 3, 5)))
    with pytest.raises(ValueError, match="cannot broadcast"):
        cb.broadcast_to(cb.ones((3, 2)), (3, 4))
    with pytest.raises(ValueError, match="cannot broadcast"):
        cb.broadcast_to(cb.ones((3, 2)), (2,))


# ---- reshaping ----------------------------------------------------------------

@pytest.mark.parametrize("shape,new", [((6,), (2, 3)), ((2, 3), (-1,)),
                                       ((2, 3, 4), (4, -1)), ((24,),
                                       (2, 2, 2, 3)), ((1,), ()),
                                       ((), (1, 1)), ((0, 3), (3, 0, 5))],
                         ids=str)
def test_reshape(shape, new, device):
    x = ramp(shape, np.int32)
    a = cb.asarray(x, device=device)
    assert_same(cb.reshape(a, new), np.reshape(x, new))
    assert_same(a.reshape(new), x.reshape(new))
    if len(new) > 1:
        assert_same(a.reshape(*new), x.reshape(*new))
    assert_same(cb.ravel(a), np.ravel(x))
    assert_same(a.flatten(), x.flatten())


def test_reshape_refusals():
    a = cb.arange(6)
    with pytest.raises(ValueError, match="cannot reshape array of size 6"):
        cb.reshape(a, (4,))
    with pytest.raises(ValueError, match="one unknown dimension"):
        cb.reshape(a, (-1, -1))
    with pytest.raises(ValueError, match="negative dimensions"):
        cb.reshape(a, (-2, -3))
    with pytest.raises(ValueError, match="copy=False"):
        cb.reshape(a, (2, 3), copy=False)
    with pytest.raises(TypeError):
        cb.reshape(a, "6")
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        cb.reshape(cb.ones(1), (1,) * 9)


def test_expand_dims_and_squeeze():
    x = ramp((2, 3))
    a = cb.asarray(x)
    for axis in (0, 1, 2, -1, (0, 2), (-1, 0)):
        assert_same(cb.expand_dims(a, axis=axis), np.expand_dims(x, axis))
    with pytest.raises(np.exceptions.AxisError):
        cb.expand_dims(a, axis=3)
    y = ramp((1, 3, 1))
    b = cb.asarray(y)
    assert_same(cb.squeeze(b), np.squeeze(y))
    assert_same(cb.squeeze(b, axis=2), np.squeeze(y, axis=2))
    assert_same(b.squeeze(axis=(0, 2)), y.squeeze(axis=(0, 2)))
    with pytest.raises(ValueError, match="size not equal to one"):
        cb.squeeze(b, axis=1)


# ---- axes ----------------------------------------------------------------------

@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 1, 0), (1, 0, 2),
                                  (0, 2, 1), (2, 0, 1), (-1, 0, 1)],
                         ids=str)
def test_permute_dims(axes, device):
    x = ramp((2, 3, 4), np.float32)
    a = cb.asarray(x, device=device)
    assert_same(cb.permute_dims(a, axes), np.transpose(x, axes))
    assert_same(a.transpose(axes), x.transpose(axes))
    assert_same(cb.transpose(a, axes), np.transpose(x, axes))


def test_transposes_of_nd_arrays():
    x = ramp((2, 3, 4, 5), np.int64)
    a = cb.asarray(x)
    assert_same(a.T, x.T)
    assert_same(a.transpose(), x.transpose())
    assert_same(a.mT, np.swapaxes(x, -1, -2))
    assert_same(cb.transpose(a), np.transpose(x))
    assert_same(cb.moveaxis(a, 0, -1), np.moveaxis(x, 0, -1))
    assert_same(cb.moveaxis(a, [0, 1], [-1, -2]),
                np.moveaxis(x, [0, 1], [-1, -2]))
    assert_same(cb.swapaxes(a, 1, 3), np.swapaxes(x, 1, 3))
    assert_same(a.swapaxes(0, 2), x.swapaxes(0, 2))
    with pytest.raises(ValueError, match="don't match"):
        cb.permute_dims(a, (0, 1))
    with pytest.raises(ValueError, match="don't match"):
        cb.permute_dims(a, (0, 0, 1, 2))
    with pytest.raises(np.exceptions.AxisError):
        cb.swapaxes(a, 0, 4)


# ---- reversing and rolling ------------------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)], ids=str)
def test_flip(axis, device):
    x = ramp((3, 4, 2), np.int32)
    a = cb.asarray(x, device=device)
    assert_same(cb.flip(a, axis=axis), np.flip(x, axis=axis))


@pytest.mark.parametrize("shift,axis", [(2, None), (-1, None), (7, 0),
                                        ((1, -2), (0, 1)), (3, (0, 1)),
                                        (0, 1), ((1, 1), 0)], ids=str)
def test_roll(shift, axis, device):
    x = ramp((3, 4))
    a = cb.asarray(x, device=device)
    assert_same(cb.roll(a, shift, axis=axis), np.roll(x, shift, axis=axis))


# ---- joining ---------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, -1, None], ids=str)
def test_concat(axis, device):
    xs = [ramp((2, 3)), ramp((2, 3)) + 10, ramp((2, 3)) * -1]
    if axis == 0:
        xs[1] = ramp((4, 3))
    arrays = [cb.asarray(x, device=device) for x in xs]
    assert_same(cb.concat(arrays, axis=axis), np.concatenate(xs, axis=axis))
    assert_same(cb.concatenate(arrays, axis=axis),
                np.concatenate(xs, axis=axis))


def test_concat_promotes_and_refuses():
    got = cb.concat([cb.arange(3, dtype=cb.int32), cb.ones(2)])
    assert got.dtype == np.float64
    assert_same(got, np.concatenate([np.arange(3, dtype=np.int32),
                                     np.ones(2)]))
    with pytest.raises(ValueError, match="must match exactly"):
        cb.concat([cb.ones((2, 3)), cb.ones((2, 4))])
    with pytest.raises(ValueError, match="same number of dimensions"):
        cb.concat([cb.ones((2, 3)), cb.ones(3)])
    with pytest.raises(ValueError, match="zero-dimensional"):
        cb.concat([cb.asarray(1.0), cb.asarray(2.0)])
    with pytest.raises(ValueError, match="non-empty"):
        cb.concat([])


def copies_and_bytes_in(device, fn):
    """fn()'s result, the copy tasks it ran and the bytes moved into
    device's memory meanwhile."""
    cb.synchronize()
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        r = fn()
        r.wait()
        cb.synchronize()
        st = cb.stats()
    finally:
        cb.profiling(was)
    moved = sum(link["bytes"] for link in st["links"]
                if link["dst"] != "RAM")
    return r, st["operations"].get("copy", {}).get("tasks", 0), moved


def others(device):
    """How many other devices a tile of an array on device may have to
    reach: 0 on one device, one less than its members on a device set."""
    members = cb.get_device(device).members
    return len(members) - 1 if members else 0


@pytest.mark.parametrize("rows", [7, 10, 64])
def test_concat_of_several_tiles_writes_each_tile_once(device, rows):
    # Results in tiles of `rows` rows, inputs in tiles of 3 rows: each
    # tile of the result is copied by tasks of its own, from the tiles of
    # the inputs its rows read. A tile written whole is not read first: on
    # a device, only the tiles where two inputs meet are brought there.
    xs = [ramp((23, 5)) + 100 * k for k in range(3)]
    xs[1] = xs[1][:4]
    with cb.tile_size(3 * 5):
        arrays = [cb.asarray(x, device=device) + 0 for x in xs]
    with cb.tile_size(rows * 5):
        r, copies, moved = copies_and_bytes_in(
            device, lambda: cb.concat(arrays))
    assert_same(r, np.concatenate(xs))
    assert r.tile_size == min(rows, 50) * 5
    ntiles = -(-50 // rows)
    if ntiles > 1:
        assert copies >= ntiles
    if device != "cpu":
        # The result's tiles where two inputs meet; on a device set (tiles
        # spread over its members), besides, each input's tiles to the
        # other members at most, where they feed the result's tiles.
        bound = 2 * r.tile_size * 8
        bound += others(device) * sum(x.nbytes for x in xs)
        assert moved <= bound
    with cb.tile_size(rows * 5):
        assert_same(cb.stack(arrays[::2]), np.stack(xs[::2]))


@pytest.mark.parametrize("rows", [3, 7, 64])
def test_concat_along_columns_of_several_tiles(device, rows):
    # Each input reaches the same columns of every row: tasks per tile of
    # the result again, each adding its columns to what the others wrote.
    xs = [ramp((23, w)) + 100 * w for w in (5, 2, 4)]
    with cb.tile_size(4 * 5):
        arrays = [cb.asarray(x, device=device) + 0 for x in xs]
    with cb.tile_size(rows * 11):
        r, copies, moved = copies_and_bytes_in(
            device, lambda: cb.concat(arrays, axis=1))
        pair, xpair = [arrays[0], arrays[0] + 1], [xs[0], xs[0] + 1]
        assert_same(cb.stack(pair, axis=1), np.stack(xpair, axis=1))
        assert_same(cb.stack(pair, axis=2), np.stack(xpair, axis=2))
    assert_same(r, np.concatenate(xs, axis=1))
    if rows < 23:
        assert copies >= 3 * -(-23 // rows)
    if device != "cpu":
        # As above.
        bound = 23 * 11 * 8 + others(device) * sum(x.nbytes for x in xs)
        assert moved <= bound


def _joins_and_rolls(device, x):
    """concat, stack and roll of x's halves or x, and NumPy's answers."""
    a = cb.asarray(x, device=device)
    halves, xs = [a[:12] + 0, a[12:] + 0], [x[:12], x[12:]]
    return [(lambda: cb.concat(halves), np.concatenate(xs)),
            (lambda: cb.concat(halves, axis=1), np.concatenate(xs, axis=1)),
            (lambda: cb.stack(halves), np.stack(xs)),
            (lambda: cb.roll(a, (3, -2), axis=(0, 1)),
             np.roll(x, (3, -2), axis=(0, 1)))]


@pytest.mark.parametrize("tile_rows", [None, 5])
def test_joins_and_rolls_write_over_a_dead_result(device, tile_rows):
    # concat, stack and roll write into the buffer and tiles of a dead
    # result of their size when one is kept for reuse (a fresh buffer
    # faults its pages in at the first write): nothing it held, on the
    # host or on a device, may show through.
    with cb.tile_size(tile_rows and tile_rows * 8):
        for make, want in _joins_and_rolls(device, ramp((24, 8))):
            # A result of the same shape and tiles, of other values.
            dead = cb.asarray(np.full(want.shape, -1000.0),
                              device=device) * 1
            dead.wait()
            del dead
            cb.synchronize()  # the task's end may hold the last reference
            assert_same(make(), want)


def test_joins_and_rolls_take_the_buffer_of_a_dead_result():
    # In a process of its own, whose pool holds only what it made: each
    # result takes the buffer of the dead one of its size.
    code = textwrap.dedent("""
        import numpy as np
        import cambrian as cb
        from test_manipulation import _joins_and_rolls, ramp
        taken = []
        for make, want in _joins_and_rolls("cpu", ramp((24, 8))):
            dead = cb.asarray(np.full(want.shape, -1.0), device="cpu") * 1
            where = dead.numpy().ctypes.data
            del dead
            cb.synchronize()
            r = make()
            np.testing.assert_array_equal(r.numpy(), want)
            taken.append(r.numpy().ctypes.data == where)
        print(taken)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120,
                          cwd=os.path.dirname(os.path.abspath(__file__)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == str([True] * 4)


def test_writes_into_rows_wait_for_the_earlier_writer(device):
    # A copy into part of an array that another operation still writes
    # ends, as its readers see it, after that one too; a failed array
    # stays failed where the copy does not reach.
    x = ramp((40, 6))
    with cb.tile_size(4 * 6):
        a = cb.asarray(x, device=device) * 2
        a[8:16] = cb.asarray(-x[:8], device=device)
        a[17:20] = 7
    y = x * 2
    y[8:16], y[17:20] = -x[:8], 7
    a.wait()
    assert a.future.done()
    assert_same(a, y)
    cb.synchronize()
    faults.inject_fault("multiply", device=device, nth=1)
    try:
        with cb.tile_size(4 * 6):
            b = cb.asarray(x, device=device) * 3
            b[8:16] = 1.0
        with pytest.raises(cb.CambrianError):
            b.numpy()
    finally:
        faults.clear_faults()


def test_a_concat_ends_when_its_slowest_input_is_copied(device):
    # The copies of the second input write tiles of their own, and would
    # end long before those of the first, which wait for a task: the
    # result is done only once both are.
    gate = threading.Event()

    @cb.task
    def slow(out):
        gate.wait(60)
        out[:] = 1.0

    try:
        with cb.tile_size(3 * 5):
            first = cb.empty((12, 5), device=device)
            f = slow(cb.Out(first))
            second = cb.asarray(np.full((12, 5), 2.0), device=device)
        with cb.tile_size(4 * 5):
            r = cb.concat([first, second])
        time.sleep(0.2)
        assert not r.future.done()
    finally:
        gate.set()
    f.result(timeout=60)
    assert_same(r, np.concatenate([np.ones((12, 5)), np.full((12, 5), 2.0)]))
    assert r.future.done()


@pytest.mark.parametrize("axis", [0, 1, 2, -1], ids=str)
def test_stack(axis, device):
    xs = [ramp((2, 3)) + k for k in range(4)]
    arrays = [cb.asarray(x, device=device) for x in xs]
    assert_same(cb.stack(arrays, axis=axis), np.stack(xs, axis=axis))
    with pytest.raises(ValueError, match="same shape"):
        cb.stack([cb.ones(2), cb.ones(3)])


# ---- order with the work around them -----------------------------------------

def test_copies_follow_the_writes_before_them(device):
    a = cb.zeros((64, 64), device=device)
    for k in range(5):
        a += 1
        t = a.T
        assert_same(t, np.full((64, 64), k + 1.0))


def test_failures_reach_the_copies():
    from cambrian import testing
    a = cb.ones((4, 4), device="cpu")
    testing.inject_fault("multiply", device="cpu", nth=1)
    try:
        b = a * 2
        for copy in (cb.permute_dims(b, (1, 0)), cb.flip(b), b[1:3],
                     cb.concat([a, b])):
            with pytest.raises(cb.DependencyError):
                copy.numpy()
    finally:
        testing.clear_faults()


# ---- NumPy's functions on Arrays ------------------------------------------------

def test_numpy_shape_functions_run_as_tasks():
    x = ramp((2, 3, 4))
    a = cb.asarray(x)
    cases = [
        (lambda m: np.reshape(m, (4, 6)), cb.Array),
        (lambda m: np.reshape(m, (4, 6), order="F"), np.ndarray),
        (lambda m: np.ravel(m), cb.Array),
        (lambda m: np.transpose(m, (1, 0, 2)), cb.Array),
        (lambda m: np.squeeze(m[:1]), cb.Array),
        (lambda m: np.expand_dims(m, 1), cb.Array),
        (lambda m: np.flip(m, 2), cb.Array),
        (lambda m: np.roll(m, 1, 0), cb.Array),
        (lambda m: np.moveaxis(m, 0, 2), cb.Array),
        (lambda m: np.swapaxes(m, 0, 1), cb.Array),
        (lambda m: np.broadcast_to(m, (5, 2, 3, 4)), cb.Array),
        (lambda m: np.concatenate([m, m], 1), cb.Array),
        (lambda m: np.stack([m, m], 3), cb.Array),
        (lambda m: np.concatenate([m, m], dtype=np.float32), np.ndarray),
    ]
    for fn, kind in cases:
        got = fn(a)
        assert isinstance(got, kind)
        if kind is cb.Array:
            assert_same(got, fn(x))
        else:
            np.testing.assert_array_equal(got, fn(x))
