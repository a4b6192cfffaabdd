"""Python functions as tasks: calling a @cb.task function returns a future
at once, and the function runs on a CPU worker when its inputs are ready.
Arrays arrive as NumPy views (read-only, or writable when passed as cb.Out
or cb.InOut); a future passed as an argument is a dependency whose value
the function receives; an exception comes back as TaskError, and whatever
depends on it fails with DependencyError.

Run: python examples/python_tasks.py
"""
import numpy as np

import cambrian as cb


@cb.task
def standardise(x, out):
    # x is a read-only view of the array, out a writable one.
    out[:] = (x - x.mean()) / x.std()


@cb.task
def norm(x):
    return float(np.sqrt(np.dot(x, x)))  # NumPy releases the GIL here


@cb.task(name="pick-largest", priority=1)  # name: in traces and errors
def largest(*values):
    return max(values)


@cb.task
def check_finite(x):
    if not np.isfinite(x).all():
        raise ValueError(f"{np.count_nonzero(~np.isfinite(x))} non-finite "
                         "values")
    return x.size


rng = np.random.default_rng(0)
n = 1 << 20
data = [cb.asarray(rng.standard_normal(n) * (i + 1)) for i in range(4)]
outs = [cb.empty(n) for _ in data]

# Each call returns at once. norm(o) reads what standardise writes, so
# StarPU runs it afterwards; largest() waits for the four norms it is given.
for x, o in zip(data, outs):
    standardise(x, cb.Out(o))
norms = [norm(o) for o in outs]
top = largest(*norms)
print(f"norms of the standardised arrays: "
      f"{', '.join(f'{f.result():.1f}' for f in norms)} "
      f"(sqrt(n) = {np.sqrt(n):.1f}); largest {top.result():.1f}")

# Tasks and array operations share the graph: this operation reads the
# array the first task wrote, and runs after it.
squares = outs[0] * outs[0]
print(f"mean of squares after standardise: {squares.numpy().mean():.6f}")

# A failing function: its future raises TaskError (the original exception
# is its __cause__); a call depending on it does not run.
bad = cb.asarray(np.array([1.0, np.nan, np.inf]))
checked = check_finite(bad)
after = largest(checked, 0)
try:
    after.result()
except cb.DependencyError as e:
    cause = e.__cause__
    assert cause is not None
    print(f"dependent call: {type(e).__name__}; the first failure was "
          f"{type(cause).__name__} caused by "
          f"{type(cause.__cause__).__name__}: {cause.__cause__}")
try:
    checked.result()
except cb.TaskError as e:
    print(f"failed call: {e}")
cb.synchronize()  # every failure above was retrieved: nothing to raise
