"""StarPU's settings go into the process environment when the library
loads, not when the runtime first starts: a setenv() then, while other
threads call getenv(), could crash them (glibc moves the array getenv
reads). And the defaults follow XDG_CACHE_HOME and CAMBRIAN_VERBOSE set
after the import."""

import os
import subprocess
import sys
import textwrap

import pytest

RACE = textwrap.dedent("""
    import ctypes, threading
    import cambrian as cb
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    libc.getenv.argtypes = [ctypes.c_char_p]
    stop = threading.Event()
    def reader():
        while not stop.is_set():
            for name in (b"HOME", b"STARPU_SILENT", b"STARPU_HOME", b"PATH"):
                libc.getenv(name)
    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    before = {n: libc.getenv(n.encode()) for n in
              ("STARPU_HOME", "STARPU_PERF_MODEL_DIR", "STARPU_SILENT")}
    assert all(before.values()), before  # set when the library loaded
    cb.ones(1000).numpy()                # the first start, threads reading
    stop.set()
    for t in threads:
        t.join()
    print("ok")
""")


@pytest.mark.parametrize("run", range(8))
def test_first_start_does_not_race_readers_of_the_environment(run):
    done = subprocess.run([sys.executable, "-c", RACE], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_defaults_follow_settings_made_after_the_import(tmp_path):
    code = textwrap.dedent(f"""
        import ctypes, os
        import cambrian as cb
        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_char_p
        libc.setenv(b"XDG_CACHE_HOME", {str(tmp_path).encode()!r}, 1)
        libc.setenv(b"CAMBRIAN_VERBOSE", b"1", 1)
        cb.init()
        print(cb.config()["cache_dir"])
        print(libc.getenv(b"STARPU_HOME").decode())
        print(libc.getenv(b"STARPU_SILENT"))
    """)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("STARPU_") and k != "CAMBRIAN_VERBOSE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    cache_dir, starpu_home, silent = done.stdout.split("\n")[:3]
    assert cache_dir == str(tmp_path / "cambrian")
    assert starpu_home == cache_dir
    assert silent == "None"


SPAWN_RACE = textwrap.dedent("""
    import os, sys, threading
    # A cache of its own: every kernel is built, and pocl links each.
    os.environ["POCL_CACHE_DIR"] = sys.argv[2]
    import cambrian as cb
    if sys.argv[1] == "unguarded":
        os.putenv, os.unsetenv = (f.__wrapped__ for f in
                                  (os.putenv, os.unsetenv))
    stop = threading.Event()
    def churn():
        # As pytest does around every test: a variable set, then removed.
        i = 0
        while not stop.is_set():
            os.environ["CB_CHURN"] = "x" * (i % 50)
            del os.environ["CB_CHURN"]
            i += 1
    t = threading.Thread(target=churn)
    t.start()
    dev = cb.get_device("opencl:cpu")
    for k in range(40):
        y = cb.empty(4, dtype=cb.float32, device=dev)
        cb.Kernel(f"__kernel void k{k}(__global float *y) "
                  f"{{ y[get_global_id(0)] = {k}.0f; }}",
                  f"k{k}")(4, cb.Out(y)).result()
        assert float(y.numpy()[0]) == k
    stop.set()
    t.join()
    print("built 40")
""")


def test_environment_changes_wait_for_pocl_kernel_builds(tmp_path):
    from helpers import NO_OPENCL, has_opencl
    if not has_opencl():
        pytest.skip(NO_OPENCL)
    done = subprocess.run([sys.executable, "-c", SPAWN_RACE, "guarded",
                           str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "built 40" in done.stdout
