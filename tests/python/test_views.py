"""Views and put-off copies. Basic indexing gives views, as NumPy's:
they hold what their base holds now, follow its writes, and writing
through them writes the base. Transposes and broadcasts give copies,
whose making is put off: element-wise work reads both in their source,
and a copy is made only when something else needs it, or before its
source changes; it holds what its source held when it was asked for."""

import os
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cambrian as cb
import cambrian.testing as faults
from helpers import assert_same, ramp, shape_and_key

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(shape_and_key(min_dims=1, max_side=6), st.integers(1, 40))
def test_element_wise_work_over_views_matches_numpy(case, tile):
    shape, key = case
    x = ramp(shape)
    a = cb.asarray(x, device="cpu", tile_size=tile)
    v, w = a[key], x[key]
    assert_same(v + 1, w + 1)
    assert_same(v * v - v, w * w - w)
    assert_same(cb.where(v > 3, v, -v), np.where(w > 3, w, -w))
    assert_same(v, w)


@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1,
                                         max_dims=4, max_side=6),
       st.integers(1, 40))
def test_broadcasts_read_in_place_match_numpy(shapes, tile):
    s1, s2 = shapes.input_shapes
    x, y = ramp(s1), ramp(s2) * 3 + 1
    a = cb.asarray(x, device="cpu", tile_size=tile)
    b = cb.asarray(y, device="cpu", tile_size=tile)
    assert_same(a + b, x + y)
    assert_same(b - a, y - x)
    assert_same(cb.where(a > b, a, b), np.where(x > y, x, y))


def writes():
    """Ways to change every element of an array in place."""
    def inplace(a):
        a += 1

    def setitem(a):
        a[...] = a + 1

    def rows(a):
        a[1:] = a[1:] + 1
        a[:1] = a[:1] + 1

    @cb.task(device="cpu")
    def bump(x):
        x += 1

    def task(a):
        bump(cb.InOut(a))

    return [inplace, setitem, rows, task]


@pytest.mark.parametrize("write", writes(),
                         ids=["inplace", "setitem", "rows", "task"])
def test_views_follow_their_base_and_copies_keep_what_they_were_given(
        write):
    x = ramp((40, 24), np.float64)
    a = cb.asarray(x.copy(), device="cpu", tile_size=24 * 7)
    strided, flipped, col = a[::3, 1::2], a[::-1], a[:, 5]
    nested = a[2:][::2, ::-3]
    transposed = cb.permute_dims(a, (1, 0))  # copies
    used = a[::2] + 0  # read in place once before the write
    write(a)
    y = x + 1
    assert_same(a, y)
    assert_same(strided, y[::3, 1::2])
    assert_same(flipped + 0, y[::-1])
    assert_same(col * 2, y[:, 5] * 2)
    assert_same(nested - 1, y[2:][::2, ::-3] - 1)
    assert_same(transposed, x.T)
    assert_same(used, x[::2])


def test_writes_through_views_reach_their_base_and_its_views():
    x = ramp((30, 8))
    a = cb.asarray(x.copy(), device="cpu", tile_size=8 * 4)
    v1 = a[::2]
    v2 = v1[1:, ::2]      # a view of a, as NumPy's
    v3 = v2.T             # a copy, of what v2 views now
    v1 += 100
    x[::2] += 100
    assert_same(a, x)
    assert_same(v2 + 0, x[::2][1:, ::2])
    v2[0] = -1
    x[::2][1:, ::2][0] = -1
    v1[-1, 1:3] = cb.asarray([7.0, 8.0])
    x[::2][-1, 1:3] = [7.0, 8.0]
    assert_same(a, x)
    assert_same(v1, x[::2])
    assert_same(v2, x[::2][1:, ::2])
    assert_same(v3, ramp((30, 8))[::2][1:, ::2].T)
    a[...] = 0
    assert_same(v1 * 1, np.zeros_like(x[::2]))


@SETTINGS
@given(shape_and_key(min_dims=1, max_side=6), st.integers(1, 40),
       st.integers(-3, 3))
def test_views_behave_as_numpys(case, tile, k):
    shape, key = case
    x = ramp(shape)
    a = cb.asarray(x.copy(), device="cpu", tile_size=tile)
    v, w = a[key], x[key]
    # NumPy gives a scalar (a copy) for an index of integers only; cambrian
    # a 0-d view.
    assume(isinstance(w, np.ndarray))
    a += k  # the base changes: the view follows
    x += k
    assert_same(v, w)
    v[...] = v * 2 - 1  # written through the view: the base changes
    w[...] = w * 2 - 1
    assert_same(a, x)
    v -= k
    w -= k
    assert_same(a, x)
    assert_same(v, w)


def test_a_view_keeps_its_base_and_a_copy_of_it_does_not_follow():
    a = cb.arange(10.0)
    v = a[2:8:2]
    c = v.copy()
    del a
    assert v.tolist() == [2.0, 4.0, 6.0]
    v[1] = 40.0
    assert v.tolist() == [2.0, 40.0, 6.0]
    assert c.tolist() == [2.0, 4.0, 6.0]


def test_views_are_written_only_through_their_base():
    a = cb.arange(8.0, device="cpu")
    v = a[::2]
    with pytest.raises(ValueError, match="view"):
        np.add(v, 1, out=v)

    @cb.task(device="cpu")
    def bump(x):
        x += 1
    with pytest.raises(ValueError, match="view"):
        bump(cb.InOut(v))
    assert a.tolist() == list(np.arange(8.0))


def test_views_outlive_a_shutdown():
    x = ramp((20, 10))
    a = cb.asarray(x.copy(), device="cpu")
    v = a[::2, ::-1]
    cb.shutdown()
    assert_same(v, x[::2, ::-1])
    a += 1
    assert_same(v + 0, x[::2, ::-1])
    assert_same(a, x + 1)


def test_views_of_a_failed_array_fail():
    cb.synchronize()  # no add of another test takes the fault
    faults.inject_fault("add", device="cpu", nth=1)
    try:
        a = cb.asarray(np.arange(64.0), device="cpu") + 1
        v = a[::2]
        with pytest.raises(cb.DependencyError):
            (v * 2).numpy()
        with pytest.raises(cb.CambrianError):
            v.numpy()
    finally:
        faults.clear_faults()


def run_together(writer, reader, readers=3):
    """writer in a thread, beside readers threads of reader."""
    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_views_taken_while_another_thread_writes():
    # Each write sets every element to one value, so any view read must
    # hold one value throughout: a mix would be a view read half before
    # and half after a write.
    a = cb.asarray(np.zeros((64, 32)), device="cpu", tile_size=32 * 8)
    bad = []

    def writer():
        for k in range(1, 301):
            a[...] = float(k)
            if k % 20 == 0:
                a.wait()  # the readers' work is not starved

    def reader():
        for _ in range(60):
            # One view, read in place twice: a write may come between
            # two indexings, never inside one.
            v = a[::2, 1::3].copy()
            r = (v + v.T.T).numpy()
            if r.min() != r.max():
                bad.append((r.min(), r.max()))
            v = a[::-1].numpy()
            if v.min() != v.max():
                bad.append((v.min(), v.max()))

    run_together(writer, reader)
    assert bad == []


def test_element_wise_work_over_views_on_every_device(device):
    x = ramp((50, 12), np.float32)
    a = cb.asarray(x, device=device, tile_size=12 * 9)
    assert_same(a[::2, 1::2] + a[1::2, ::2], x[::2, 1::2] + x[1::2, ::2])
    assert_same(cb.sqrt(a.T[::-1]), np.sqrt(x.T[::-1]), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32,
                                   np.float64, np.complex128])
@pytest.mark.parametrize("key", [np.s_[1:, 3:2500], np.s_[:, ::2],
                                 np.s_[::-1, 7::3], np.s_[:, 2999:0:-2],
                                 np.s_[2:4, 1000:1030]])
def test_views_of_long_rows_match_numpy(dtype, key):
    # Rows longer than the blocks that CPU workers read views in: a block
    # that lies in one row of unit stride is read where it is, the others
    # are gathered (every other element, a broadcast, any stride) first.
    x = (ramp((5, 3000)) % 251).astype(dtype)
    a = cb.asarray(x, device="cpu", tile_size=3000 * 2)
    v, w = a[key], x[key]
    col, xcol = a[:w.shape[0], 5:6], x[:w.shape[0], 5:6]
    assert_same(v + v, w + w)
    assert_same(v * col - col, w * xcol - xcol)
    assert_same(cb.where(v == col, v, a[:w.shape[0], :w.shape[1]]),
                np.where(w == xcol, w, x[:w.shape[0], :w.shape[1]]))


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.complex64])
def test_views_of_one_tile_are_read_in_place_on_every_device(device, dtype):
    # One tile: OpenCL kernels read such views through their strides too.
    x = (ramp((4, 6, 10)) % 7 - 3).astype(dtype)
    a = cb.asarray(x.copy(), device=device)
    v, w = a[::-1, 1::2, ::3], x[::-1, 1::2, ::3]
    t = cb.permute_dims(a, (2, 0, 1))[1:, :, ::2]
    xt = x.transpose(2, 0, 1)[1:, :, ::2]
    assert_same(v * 2 + v, w * 2 + w)
    assert_same(cb.where(v == 0, a[1:2, ::2, ::3] - 1, v),
                np.where(w == 0, x[1:2, ::2, ::3] - 1, w))
    assert_same(t + a[0, 0, :9].reshape(9, 1, 1), xt + x[0, 0, :9]
                .reshape(9, 1, 1))
    a += 1  # the view follows; the transpose is a copy
    assert_same(v + 0, w + 1)
    assert_same(t * 1, xt)


@pytest.mark.parametrize("key", [np.s_[:, ::2], np.s_[::2, 1::3],
                                 np.s_[10:, ::-1]])
def test_views_of_arrays_of_several_tiles_are_read_tile_by_tile(device, key):
    # Each tile of the result takes as many rows as reach one tile of the
    # views' arrays, and its task reads that tile in place: no copy of a
    # view is made, on OpenCL devices too.
    x = ramp((60, 64), np.float32)
    a = cb.asarray(x, device=device, tile_size=64 * 10)
    b = cb.asarray(x * 2, device=device, tile_size=64 * 10)
    cb.synchronize()
    was = cb.profiling()
    cb.profiling(True)
    try:
        cb.stats(reset=True)
        r = a[key] + b[key]
        assert_same(r, x[key] * 3)
        cb.synchronize()
        ops = cb.stats()["operations"]
    finally:
        cb.profiling(was)
    assert set(ops) == {"add"}
    if device != "cpu":
        assert ops["add"]["tasks"] == 6 - (key[0].start or 0) // 10


def test_a_broadcast_of_many_tiles_keeps_tiles_of_a_usual_size(device):
    # An outer sum of a column in four tiles: result tiles that would each
    # read one of them would hold 1024 rows of 16384 elements, more than
    # CPU workers' (and pocl's) largest tiles; the column is then not read
    # in place, and the tiles are no larger than the device's own.
    x = np.arange(4096, dtype=np.uint8).reshape(4096, 1)
    y = np.arange(16384, dtype=np.uint8).reshape(1, 16384)
    c = cb.asarray(x, device=device, tile_size=1024)
    z = c + cb.asarray(y, device=device)
    usual = cb.zeros(z.shape, dtype=cb.uint8, device=device) + 0
    assert z.tile_size <= max(usual.tile_size, c.tile_size)
    assert_same(z[::511, ::1000], (x + y)[::511, ::1000])


def test_threads_reading_one_fresh_view_get_its_elements():
    # Two threads read the same view at once: the one that does not make
    # its copy waits for the copy to be submitted, never reads before it.
    x = ramp((256, 64), np.float64)
    a = cb.asarray(x.copy(), device="cpu", tile_size=64 * 16)
    bad = []
    for k in range(40):
        v = a[::-1, ::2]
        got = [None, None]

        def read(i, v=v, got=got):
            got[i] = v.numpy()
        ts = [threading.Thread(target=read, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for g in got:
            if not np.array_equal(g, x[::-1, ::2]):
                bad.append(k)
        a += 1
        x += 1
    assert bad == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
def test_a_view_read_in_a_forked_child_raises():
    a = cb.asarray(ramp((8, 8)), device="cpu")
    v = a[::2]
    pid = os.fork()
    if pid == 0:  # child: nothing can make v's copy here
        code = 3
        try:
            v.numpy()
            code = 1
        except cb.CambrianError:
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert_same(v, ramp((8, 8))[::2])


def test_writes_through_a_view_while_other_threads_read_the_base():
    # A writer sets a[::2] to one value at a time through a view; readers
    # of the base must see every even element equal (a write is one
    # task), the odd ones never touched, and the view what they see.
    a = cb.asarray(np.zeros((64, 32)), device="cpu", tile_size=32 * 8)
    a[1::2] = -1.0
    even = a[::2]
    bad = []

    def writer():
        for k in range(1, 201):
            even[...] = float(k)
            if k % 20 == 0:
                even.wait()

    def reader():
        for _ in range(60):
            # A copy, a task ordered with the writes: numpy() would give
            # the host buffer, which the next write changes in place.
            x = a.copy().numpy()
            e, o = x[::2], x[1::2]
            if e.min() != e.max() or o.min() != -1 or o.max() != -1:
                bad.append((e.min(), e.max(), o.min(), o.max()))
            v = even.copy().numpy()
            if v.min() != v.max():
                bad.append(("view", v.min(), v.max()))

    run_together(writer, reader)
    assert bad == []
    assert_same(a[::2], np.full((32, 32), 200.0))
    assert_same(a[1::2], np.full((32, 32), -1.0))


def test_a_view_whose_copy_failed_is_copied_again_when_read():
    a = cb.arange(8.0, device="cpu")
    v = a[1:5]
    cb.synchronize()
    faults.inject_fault("copy", nth=1)
    try:
        with pytest.raises(cb.DeviceError):
            v.tolist()
    finally:
        faults.clear_faults()
    assert a.tolist() == list(np.arange(8.0))
    assert v.tolist() == [1.0, 2.0, 3.0, 4.0]  # read again, not the failure


def test_many_views_of_one_array_come_and_go():
    # 20000 views of one array: made, following a write, dropped (views are
    # not on their array's list of readers, which dropping one walked).
    a = cb.arange(4 * 20000.0, device="cpu").reshape(20000, 4)
    rows = [a[i] for i in range(20000)]
    a += 1
    assert rows[-1].tolist() == [79997.0, 79998.0, 79999.0, 80000.0]
    del rows
    assert float(a[0, 0]) == 1.0
