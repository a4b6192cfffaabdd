"""Failures across ranks, run by every rank of an MPI launch
(tests/python/test_distributed.py starts it with mpirun): a device fault
or a Python task's exception on the last rank fails what reads its outputs
on every rank, with a DependencyError whose cause names the rank where it
happened; the ranks go on working afterwards. Prints one line per rank at
the end: "rank R of N: K checks passed"."""

import sys

import numpy as np

import cambrian as cb
import cambrian.testing as testing

rank, nranks = cb.rank(), cb.nranks()
last = nranks - 1
checks = 0


def raises(fn, kind, cause_kind, what, task, where=last):
    """fn() must raise kind; a cause_kind cause (if given) must come from
    the task named task on rank where."""
    global checks
    try:
        fn()
    except kind as e:
        if cause_kind is not None:
            cause = e.__cause__
            assert isinstance(cause, cause_kind), (rank, what, repr(cause))
            assert cause.rank == where and cause.task == task, (
                rank, what, cause.rank, cause.task)
            if rank != where:
                assert f"on rank {where}" in str(e), (rank, what, str(e))
        checks += 1
        return
    raise AssertionError(f"rank {rank}: {what}: nothing raised")


assert cb.config()["distributed"] and nranks == int(sys.argv[1])
x = np.arange(1000.0)

# A device fault on the last rank's tiles.
a = cb.asarray(x, distribution="block")
if rank == last:
    testing.inject_fault("sqrt", nth=1)
b = cb.sqrt(a)
c = b + 1
raises(lambda: float(cb.sum(c)), cb.DependencyError, cb.DeviceError,
       "sum after a fault", "sqrt")
raises(lambda: c.numpy(), cb.DependencyError, cb.DeviceError,
       "gather after a fault", "sqrt")
raises(lambda: float(cb.asarray(x) @ c), cb.DependencyError, cb.DeviceError,
       "matmul after a fault", "sqrt")
testing.clear_faults()


# A Python task's exception: the task runs on one rank (the owner of the
# first tile it writes, rank 0), whose output tiles go to their owners
# with its failure.
@cb.task
def fragile(x, out):
    raise ValueError("refused on purpose")


o = cb.empty(1000, distribution="block")
fragile(a, cb.Out(o))
raises(lambda: float(cb.max(o * 2)), cb.DependencyError, cb.TaskError,
       "reduction after a task's exception", "fragile", where=0)
raises(lambda: (o + 1).local(), cb.DependencyError, cb.TaskError,
       "own part after a task's exception", "fragile", where=0)


# A task that writes the array again, and succeeds, clears its failure on
# every rank.
@cb.task
def fill(x, out):
    out[...] = x


fill(a, cb.Out(o))
assert float(cb.max(o)) == x.max(), "a good write after a failed one"
assert np.array_equal(o.numpy(), x), "a good write after a failed one"
checks += 1

# Waiting for everything returns or raises on every rank; then work goes
# on as before.
try:
    cb.synchronize()
except cb.CambrianError:
    pass
d = cb.asarray(x, distribution="block") * 2
assert float(cb.sum(d)) == 2 * x.sum()
assert np.array_equal(d.numpy(), 2 * x)
checks += 1

cb.barrier()
print(f"rank {rank} of {nranks}: {checks} checks passed", flush=True)
