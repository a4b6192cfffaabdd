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
