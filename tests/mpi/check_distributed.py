"""Checks of distributed arrays, run by every rank of an MPI launch
(tests/python/test_distributed.py starts it with mpirun): each result is
compared with NumPy's on every rank. Prints one line per rank at the end:
"rank R of N: K checks passed"."""

import sys

import numpy as np

import cambrian as cb

rank, nranks = cb.rank(), cb.nranks()
checks = 0


def same(got, want, what):
    global checks
    got = np.asarray(got)
    if got.shape != np.shape(want) or not np.allclose(got, want):
        raise AssertionError(f"rank {rank}: {what}: got {got!r}, "
                             f"want {want!r}")
    checks += 1


assert cb.config()["distributed"], "the runtime is not distributed"
assert nranks == int(sys.argv[1]), (nranks, sys.argv[1])

rng = np.random.default_rng(7)  # the same data on every rank
for n in (1, 3, 1000, 4099):
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    a = cb.asarray(x, distribution="block")
    b = cb.asarray(y, distribution="block")
    assert a.distribution == "block"
    same(a + b, x + y, f"add {n}")
    same(cb.sqrt(cb.abs(a)) * 2 - b, np.sqrt(np.abs(x)) * 2 - y,
         f"chain {n}")
    same(a > b, x > y, f"compare {n}")
    same(cb.where(a > 0, a, b), np.where(x > 0, x, y), f"where {n}")
    same(float(cb.sum(a)), x.sum(), f"sum {n}")
    same(float(cb.max(a)), x.max(), f"max {n}")
    same(float(cb.mean(b)), y.mean(), f"mean {n}")
    # With an array every rank has whole.
    r = cb.asarray(y)
    same(a * r, x * y, f"times replicated {n}")
    assert (a * r).distribution == "block", f"distribution of result {n}"
    # In place.
    c = cb.asarray(x, distribution="block", copy=True)
    c += 1
    same(c, x + 1, f"in place {n}")
    # This rank's rows.
    loc = (a + 0).local()
    per = a.numpy()
    assert loc.size <= n
    checks += 1

# 2-D: rows spread, reductions along both axes, matmul.
m = rng.standard_normal((37, 5))
k = rng.standard_normal((5, 4))
A = cb.asarray(m, distribution="block")
same(A * 3, m * 3, "2-d scale")
same(cb.sum(A, axis=0), m.sum(axis=0), "sum axis 0")
same(cb.sum(A, axis=1), m.sum(axis=1), "sum axis 1")
same(A + m[0], m + m[0], "broadcast row")
P = A @ cb.asarray(k)
same(P, m @ k, "matmul")
# The product's rows are where A's are: each rank's own part of it.
assert P.distribution == "block", "distribution of a product"
lo = np.asarray(A.local()).shape[0]
assert np.asarray(P.local()).shape == (lo, 4), "own rows of a product"
same(P.local(), (np.asarray(A.local()) @ k), "own rows of a product")
same(A @ cb.asarray(k, distribution="block"), m @ k, "matmul of two spread")
same(A @ cb.asarray(k[:, 0].copy()), m @ k[:, 0], "matrix times vector")
same(cb.asarray(m[0]) @ A.T, m[0] @ m.T, "vector times matrix")
same(A.T, m.T, "transpose")
same(A[3:9], m[3:9], "slice")

# Creation functions.
same(cb.zeros((10, 3), distribution="block"), np.zeros((10, 3)), "zeros")
same(cb.arange(17, distribution="block") * 2, np.arange(17) * 2, "arange")
same(cb.full(9, 2.5, distribution="block") + 1, np.full(9, 3.5), "full")

# Python tasks over distributed arrays run where their output lives.
@cb.task
def double(x, out):
    out[...] = 2 * x

o = cb.empty(1000, distribution="block")
i = cb.asarray(np.arange(1000.0), distribution="block")
double(i, cb.Out(o))
same(o, 2 * np.arange(1000.0), "python task")

# A graph replayed over distributed inputs.
with cb.Graph() as g:
    gx = g.input("x", (1000,), "float64")
    g.output("y", gx * gx + 1)
for rep in range(2):
    v = np.arange(1000.0) + rep
    out = g.run(x=cb.asarray(v, distribution="block"))["y"]
    same(out, v * v + 1, f"graph replay {rep}")

# Cyclic: tiles dealt to the ranks in turn.
for n in (5, 1000, 4099):
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    a = cb.asarray(x, distribution="cyclic", tile_size=64)
    b = cb.asarray(y, distribution="cyclic", tile_size=64)
    assert a.distribution == "cyclic"
    c = cb.sqrt(cb.abs(a)) * 2 - b
    assert c.distribution == "cyclic", "distribution of a cyclic result"
    same(c, np.sqrt(np.abs(x)) * 2 - y, f"cyclic chain {n}")
    same(float(cb.sum(a)), x.sum(), f"cyclic sum {n}")
    same(float(cb.max(b)), y.max(), f"cyclic max {n}")
    # This rank's rows: its tiles, one after the other.
    per = a.tile_size
    own = [t for t in range(-(-n // per)) if t % nranks == rank]
    want = (np.concatenate([x[t * per:(t + 1) * per] for t in own])
            if own else x[:0])
    same(a.local(), want, f"cyclic own rows {n}")
m = rng.standard_normal((300, 7))
C = cb.asarray(m, distribution="cyclic", tile_size=7 * 16)
same(cb.sum(C, axis=0), m.sum(axis=0), "cyclic sum axis 0")
w = rng.standard_normal((7, 3))
P = C @ cb.asarray(w)
assert P.distribution == "cyclic", "distribution of a cyclic product"
same(P, m @ w, "cyclic product")

# Rolls along the rows: each tile's task reads its own rows and, from the
# tiles before or after it, only the rows that cross (a halo exchange).
for dist, n, ts in (("block", 1000, None), ("block", 4099, 64 * 3),
                    ("cyclic", 1000, 48 * 3), ("block", 3, None)):
    m = rng.standard_normal((n, 3))
    R = cb.asarray(m, distribution=dist, tile_size=ts)
    for shift in (1, -1, 5, -70, n + 2):
        rolled = cb.roll(R, shift, axis=0)
        assert rolled.distribution == dist, "distribution of a roll"
        assert rolled.tile_size == R.tile_size, "tiles of a roll"
        same(rolled, np.roll(m, shift, axis=0), f"{dist} roll {n} {shift}")
    # A periodic 1-D stencil step, as distributed_heat.py takes them.
    step = R + 0.25 * (cb.roll(R, 1, axis=0) - 2 * R + cb.roll(R, -1, axis=0))
    want = m + 0.25 * (np.roll(m, 1, axis=0) - 2 * m + np.roll(m, -1, axis=0))
    same(step, want, f"{dist} stencil {n}")

cb.barrier()
print(f"rank {rank} of {nranks}: {checks} checks passed", flush=True)
