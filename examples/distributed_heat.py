"""A 2-D heat equation over the ranks of an MPI launch.

    mpirun -n 4 python examples/distributed_heat.py

The plate's temperatures are a distributed array: each rank owns a band of
rows and updates it. Along the rows, the stencil is a product by a
tridiagonal matrix that every rank has whole, so each rank computes its
own rows where they are. Across the rows, the neighbour rows come from
the plate rolled by a row each way: each rank gets from its neighbours
their boundary rows alone (a halo exchange), never their whole band. The
plate is insulated along the rows and periodic across them: the total
heat, a reduction every rank reads, must stay the same. Runs on one
process too.
"""

import numpy as np

import cambrian as cb

R, C, STEPS, ALPHA = 256, 256, 20, 0.2

u0 = np.zeros((R, C))
u0[R // 2 - 4:R // 2 + 4, C // 2 - 4:C // 2 + 4] = 1.0  # a hot square
# Along the rows: u @ t, t tridiagonal (1, -2, 1) with insulated ends.
along = np.diag(np.full(C, -2.0)) + np.eye(C, k=1) + np.eye(C, k=-1)
along[0, 0] = along[-1, -1] = -1.0
t = cb.asarray(along)

u = cb.asarray(u0, distribution="block")
heat0 = float(cb.sum(u))
for step in range(STEPS):
    # Across the rows: the rows above and below each row (periodic).
    up, down = cb.roll(u, 1, axis=0), cb.roll(u, -1, axis=0)
    u = u + ALPHA * (u @ t + up - 2 * u + down)
heat = float(cb.sum(u))
peak = float(cb.max(u))
if cb.rank() == 0:
    print(f"{cb.nranks()} rank(s): heat {heat0:.3f} -> {heat:.3f}, "
          f"peak {peak:.3f}, this rank's rows: {u.local().shape[0]}")
assert abs(heat - heat0) < 1e-9 * R * C
