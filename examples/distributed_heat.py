"""A 1-D heat equation over the ranks of an MPI launch.

    mpirun -n 4 python examples/distributed_heat.py

The rod's temperatures are a distributed array: each rank updates its own
rows. The stencil's neighbour values come from shifted copies of the
array, made from a gather each step (an exchange of the boundary rows
alone is not built yet). The total heat, a reduction every rank reads,
must stay the same. Runs on one process too.
"""

import numpy as np

import cambrian as cb

N, STEPS, ALPHA = 1 << 16, 20, 0.25

u0 = np.zeros(N)
u0[N // 2 - 100:N // 2 + 100] = 1.0          # a hot spot in the middle
u = cb.asarray(u0, distribution="block")
heat0 = float(cb.sum(u))
for step in range(STEPS):
    # The neighbours: the array shifted by one each way, the ends held.
    whole = u.numpy()
    left = cb.asarray(np.concatenate(([0.0], whole[:-1])),
                      distribution="block")
    right = cb.asarray(np.concatenate((whole[1:], [0.0])),
                       distribution="block")
    u = u + ALPHA * (left - 2 * u + right)
heat = float(cb.sum(u))
peak = float(cb.max(u))
if cb.rank() == 0:
    print(f"{cb.nranks()} rank(s): heat {heat0:.3f} -> {heat:.3f}, "
          f"peak {peak:.3f}, this rank's rows: {u.local().shape[0]}")
assert abs(heat - heat0) < 1e-9 * N
