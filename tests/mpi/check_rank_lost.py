"""A rank that dies: run by every rank of an MPI launch that keeps the
others running when one dies (tests/python/test_distributed.py starts it
with CAMBRIAN_RANK_TIMEOUT=3). Rank 1 kills itself; every other rank must
raise RankLostError, not hang, in the wait that needs rank 1, and in any
later wait for unfinished work, then exit. Prints "rank R: lost after S s"
on each surviving rank."""

import os
import signal
import time

import numpy as np

import cambrian as cb

rank = cb.rank()
a = cb.asarray(np.arange(1000.0), distribution="block")
assert float(cb.sum(a + 1)) == np.arange(1000.0).sum() + 1000
cb.barrier()
if rank == 1:
    os.kill(os.getpid(), signal.SIGKILL)

start = time.monotonic()
try:
    float(cb.sum(a * 2))  # needs rank 1's part
except cb.RankLostError as e:
    took = time.monotonic() - start
    assert "CAMBRIAN_RANK_TIMEOUT" in str(e), str(e)
else:
    raise AssertionError(f"rank {rank}: the sum returned")
for wait in (cb.barrier, lambda: (a * 3).numpy()):
    try:
        wait()
    except cb.RankLostError:
        continue
    raise AssertionError(f"rank {rank}: a later wait returned")
print(f"rank {rank}: lost after {took:.1f} s", flush=True)
