"""Vector addition, the classic data-parallel example: c[i] = a[i] + b[i].

The same sum four ways: a plain Python loop, NumPy, cambrian on its CPU
workers and cambrian on an OpenCL device (a GPU when there is one, else
the first OpenCL device, such as pocl on the CPU). Each result is checked
against NumPy's, and a small table compares the times.

    .venv/bin/python examples/vector_add.py [N]

The Python loop is too slow for large N: it runs over the first 2**16
elements and its time is scaled to N (time per element x N).
"""
import sys
import time

import numpy as np

import cambrian as cb

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 22
N_LOOP = min(N, 1 << 16)
REPS = 5


def best_of(fn, reps=REPS):
    """Runs fn once to warm up (kernel build, transfers), then reps times;
    returns the last result and the best time in seconds."""
    out = fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def python_loop(a, b):
    c = [0.0] * len(a)
    for i in range(len(a)):
        c[i] = a[i] + b[i]
    return c


def main():
    rng = np.random.default_rng(42)
    a = rng.random(N, dtype=np.float32)
    b = rng.random(N, dtype=np.float32)
    expected = a + b
    rows = []  # (method, where, seconds for N elements)

    # 1. Plain Python over lists, on the first N_LOOP elements, scaled.
    al, bl = a[:N_LOOP].tolist(), b[:N_LOOP].tolist()
    c, t = best_of(lambda: python_loop(al, bl), reps=2)
    np.testing.assert_allclose(np.asarray(c, np.float32), expected[:N_LOOP],
                               rtol=1e-6)
    rows.append(("Python loop", f"1 core, {N_LOOP} elements scaled",
                 t * N / N_LOOP))

    # 2. NumPy, one thread.
    c, t = best_of(lambda: a + b)
    np.testing.assert_allclose(c, expected, rtol=1e-6)
    rows.append(("NumPy a + b", "1 core", t))

    # 3. cambrian on its CPU workers: the tiles of c are tasks that StarPU
    # runs in parallel; .numpy() waits and gives the host result.
    cpu = cb.get_device("cpu")
    A, B = cb.asarray(a, device=cpu), cb.asarray(b, device=cpu)
    c, t = best_of(lambda: (A + B).numpy())
    np.testing.assert_allclose(c, expected, rtol=1e-6)
    rows.append(("cambrian", f"{cpu.filter_string}, {cpu.nworkers} "
                 "worker(s)", t))

    # 4. cambrian on an OpenCL device: a GPU when present, else the first.
    # a and b move to the device once; each sum runs there and .numpy()
    # brings c back.
    gpus = cb.devices("opencl:gpu")
    ocl = gpus or cb.devices("opencl")
    if ocl:
        dev = ocl[0]
        A, B = cb.asarray(a, device=dev), cb.asarray(b, device=dev)
        c, t = best_of(lambda: (A + B).numpy())
        np.testing.assert_allclose(c, expected, rtol=1e-6)
        rows.append(("cambrian", f"{dev.filter_string} ({dev.name[:28]})",
                     t))
    else:
        print("no OpenCL device: skipping the offloaded sum")

    base = rows[0][2]
    print(f"\nc[i] = a[i] + b[i], N = {N} float32 "
          f"({a.nbytes / 2**20:.0f} MiB per array), best of {REPS} "
          "after a warm-up, results checked against NumPy\n")
    w = max(len(r[1]) for r in rows)
    print(f"{'method':<12}  {'where':<{w}}  {'time (ms)':>10}  "
          f"{'ns/element':>10}  {'vs Python':>9}")
    for method, where, t in rows:
        print(f"{method:<12}  {where:<{w}}  {t * 1e3:10.2f}  "
              f"{t / N * 1e9:10.3f}  {base / t:8.0f}x")
    print("\nall results match NumPy")


if __name__ == "__main__":
    main()
