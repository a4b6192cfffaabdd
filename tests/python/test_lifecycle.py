"""Shutdown and restart, exiting with work pending, and fork()."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cambrian as cb


def run_python(code, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)


def test_shutdown_then_init_again():
    a = cb.asarray(np.arange(5.0)) * 2
    cb.shutdown()
    np.testing.assert_array_equal(a.numpy(), np.arange(5.0) * 2)
    cb.init()
    np.testing.assert_array_equal((a + 1).numpy(), np.arange(5.0) * 2 + 1)


def test_exit_with_thousands_of_pending_tasks():
    # Every one of the 10000 tasks waits for a task function that the
    # interpreter's exit releases (atexit runs the last registered first,
    # before cambrian's own shutdown): all of them are pending at exit.
    r = run_python("""
        import atexit, threading
        import numpy as np, cambrian as cb
        release = threading.Event()
        atexit.register(release.set)
        a = cb.empty(1 << 12, dtype=np.float32, device="cpu")
        @cb.task
        def gate(out):
            release.wait(60)
            out[:] = 1
        gate(cb.Out(a))
        keep = [cb.sqrt(a + i) for i in range(5000)]
        print("pending", sum(not k.future.done() for k in keep))
    """)
    assert r.returncode == 0, r.stderr
    assert "pending 5000" in r.stdout


def test_exit_with_pending_futures_and_failures():
    r = run_python("""
        import numpy as np, cambrian as cb, cambrian.testing as t
        t.inject_fault("add", nth=1)
        a = cb.asarray(np.ones(100))
        futures = [(a + i).future for i in range(1000)]
    """)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
def test_fork_child_gets_a_clear_error():
    (cb.asarray(np.arange(3.0)) + 1).numpy()  # the runtime runs
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            (cb.asarray(np.arange(3.0)) + 1).numpy()
            code = 1
        except cb.CambrianError as e:
            code = 0 if "fork" in str(e) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    np.testing.assert_array_equal((cb.asarray(np.arange(3.0)) + 1).numpy(),
                                  [1.0, 2.0, 3.0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
def test_fork_child_with_work_in_flight_neither_waits_nor_hangs():
    # Work the parent has in flight can never end in the child: every way
    # of waiting for it raises CambrianError at once (none hangs, none
    # returns unwritten data), and so does a wait for all the work; the
    # child's exit does not wait for it either.
    r = run_python("""
        import asyncio, os, sys, threading
        import numpy as np, cambrian as cb
        release = threading.Event()
        @cb.task
        def gate(out):
            release.wait(60)
            out[:] = 1
        a = cb.empty(10, device="cpu")
        gate(cb.Out(a))
        b = a + 1
        async def wait_for(x):
            await x
        waits = {
            "numpy": b.numpy, "asarray": lambda: np.asarray(b),
            "result": b.future.result, "exception": b.future.exception,
            "wait": lambda: cb.wait([b]),
            "as_completed": lambda: list(cb.as_completed([b])),
            "await": lambda: asyncio.run(wait_for(b)),
            "callback": lambda: b.future.add_done_callback(print),
            "synchronize": cb.synchronize, "shutdown": cb.shutdown}
        pid = os.fork()
        if pid == 0:
            wrong = []
            for name, wait in waits.items():
                try:
                    wait()
                    wrong.append(name)
                except cb.CambrianError as e:
                    if "fork" not in str(e):
                        wrong.append(f"{name}: {e}")
            print("child:", wrong, flush=True)
            sys.exit(3 if wrong else 0)     # atexit runs: no drain
        _, status = os.waitpid(pid, 0)
        release.set()
        print("status", os.waitstatus_to_exitcode(status))
        print("parent", b.numpy().tolist()[:2])
    """, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "child: []" in r.stdout, r.stdout
    assert "status 0" in r.stdout and "parent [2.0, 2.0]" in r.stdout


def test_import_leaves_the_environment_alone():
    # Neither os.environ nor the process's C environment (what children
    # inherit) changes; OpenBLAS still gets the core type that the
    # processor's instruction sets call for.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import ctypes, os, subprocess
        before = dict(os.environ)
        import cambrian
        assert dict(os.environ) == before, set(os.environ) ^ set(before)
        child = subprocess.run(["env"], capture_output=True, text=True)
        assert "OPENBLAS_CORETYPE" not in child.stdout
        with open("/proc/self/maps") as f:
            libs = {ln.split()[-1] for ln in f if "libopenblas" in ln
                    and "site-packages" not in ln}
        for lib in libs:
            name = ctypes.CDLL(lib).openblas_get_corename
            name.restype = ctypes.c_char_p
            print(name().decode())
        """)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    with open("/proc/cpuinfo") as f:
        flags = set(next((ln.split(":", 1)[1].split() for ln in f
                          if ln.startswith("flags")), []))
    cores = r.stdout.split()
    assert cores, "cambrian's OpenBLAS is not loaded"
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        assert all(c.lower() == "skylakex" for c in cores), cores
    elif {"avx2", "fma"} <= flags:
        assert all(c.lower() == "haswell" for c in cores), cores
