"""Tile sizes per array, per block of code and per graph."""
import threading

import numpy as np
import pytest

import cambrian as cb


def test_the_default_is_the_device_s_choice():
    a = cb.ones(5000)
    a.wait()
    assert a.tile_size == 5000   # below the smallest automatic tile


@pytest.mark.parametrize("make", [
    lambda t: cb.ones(10000, tile_size=t),
    lambda t: cb.zeros(10000, tile_size=t),
    lambda t: cb.full(10000, 3.0, tile_size=t),
    lambda t: cb.empty(10000, tile_size=t),
    lambda t: cb.arange(10000, tile_size=t),
    lambda t: cb.asarray(np.arange(10000.0), tile_size=t),
    lambda t: cb.asarray(np.arange(10000), dtype=cb.float32, tile_size=t),
])
def test_creation_functions_take_a_tile_size(make):
    a = make(3000)
    assert a.tile_size == 3000
    a.wait()
    assert a.tile_size == 3000


def test_results_follow_their_operands_tiles_and_values_hold():
    x = np.random.default_rng(1).standard_normal(10007)
    a = cb.asarray(x, tile_size=999)
    b = cb.sqrt(a * a + 1.0)
    assert b.tile_size == 999
    np.testing.assert_allclose(b.numpy(), np.sqrt(x * x + 1.0))
    assert float(cb.sum(b)) == pytest.approx(np.sqrt(x * x + 1.0).sum())


def test_tiles_are_whole_rows():
    a = cb.zeros((100, 30), tile_size=100)
    a.wait()
    assert a.tile_size == 90


def test_the_block_sets_and_restores_nested():
    with cb.tile_size(2000):
        a = cb.ones(10000)
        with cb.tile_size(500):
            b = cb.ones(10000)
        c = cb.ones(10000)
        with cb.tile_size(None):
            d = cb.ones(100000)
    e = cb.ones(100000)
    assert (a.tile_size, b.tile_size, c.tile_size) == (2000, 500, 2000)
    d.wait()
    e.wait()
    assert d.tile_size == e.tile_size


def test_the_block_is_per_thread():
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other():
        inside.wait(30)
        seen["other"] = cb.ones(10000).tile_size
        done.set()

    default = cb.ones(10000).tile_size
    t = threading.Thread(target=other)
    t.start()
    with cb.tile_size(700):
        inside.set()
        done.wait(30)
        seen["here"] = cb.ones(10000).tile_size
    t.join(30)
    assert seen == {"here": 700, "other": default}


def test_an_exception_leaves_the_block_restored():
    default = cb.ones(10000).tile_size
    with pytest.raises(KeyError):
        with cb.tile_size(1234):
            raise KeyError("x")
    assert cb.ones(10000).tile_size == default


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True])
def test_bad_tile_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="tile_size"):
        with cb.tile_size(bad):
            pass
    with pytest.raises(ValueError, match="tile_size"):
        cb.ones(10, tile_size=bad)
    with pytest.raises(ValueError, match="tile_size"):
        cb.Graph(tile_size=bad)


def test_a_graph_tiles_what_it_makes_from_its_inputs():
    with cb.Graph(tile_size=1000) as g:
        x = g.input("x", 5000, cb.float64)
        g.output("y", x * 2 + 1)
    data = np.arange(5000.0)
    y = g.run(x=data)["y"]
    assert y.tile_size == 1000
    np.testing.assert_array_equal(y.numpy(), data * 2 + 1)
    sizes = [outs["y"].tile_size for _, outs in g.map([data, data])]
    assert sizes == [1000, 1000]
    # An Array given keeps its own tiles.
    a = cb.asarray(data, tile_size=2500)
    assert g.run(x=a)["y"].tile_size == 2500
