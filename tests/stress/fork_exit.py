"""fork() and the ways a process ends: fork after the runtime started
(the child gets CambrianError for any use, and ends cleanly however it
ends), fork before, multiprocessing; exit with pending work, failures,
graph runs, task functions, event loops and threads still submitting;
exit from a thread, from inside a task function, during shutdown; many
shutdown and init cycles. Each process is one check: it ends, with the
exit status and the output expected, neither hanging nor crashing.
"""

import os
import signal
import sys

import numpy as np

import cambrian as cb

from harness import alive

# Started in a fresh interpreter each; "OK" in the output marks the end
# of the script's checks (stdout), and the exit status is 0 unless said.
PROGRAMS = {}


def program(name, rc=0, out="OK", timeout=120):
    def add(code):
        PROGRAMS[name] = (code, rc, out, timeout)
        return code
    return add


program("fork_after_start")("""
import os, sys
import numpy as np, cambrian as cb
(cb.asarray(np.arange(3.0)) + 1).numpy()
how = sys.argv[1]
pid = os.fork()
if pid == 0:
    bad = []
    for name, fn in [
            ("operation", lambda: (cb.asarray(np.arange(3.0)) + 1).numpy()),
            ("zeros", lambda: cb.zeros(3).numpy()),
            ("synchronize", lambda: cb.synchronize()),
            ("task", lambda: cb.task(lambda: 1)().result(timeout=10)),
            ("shutdown", lambda: cb.shutdown())]:
        try:
            fn()
            if name not in ("synchronize", "shutdown"):
                bad.append(name + " worked")
        except cb.CambrianError as e:
            if "fork" not in str(e):
                bad.append(f"{name}: {e}")
        except Exception as e:
            bad.append(f"{name}: {type(e).__name__}: {e}")
    if bad:
        print("child:", bad, flush=True)
    code = 1 if bad else 0
    if how == "os_exit":
        os._exit(code)
    elif how == "sys_exit":
        sys.exit(code)          # atexit handlers run in the child
    elif code:
        raise SystemExit(code)
    # Otherwise it falls off the end of the script.
else:
    _, status = os.waitpid(pid, 0)
    ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    print("child status", status)
    r = (cb.asarray(np.arange(3.0)) + 1).numpy()
    assert ok and list(r) == [1.0, 2.0, 3.0], (status, r)
    print("OK")
""")

program("fork_before_start")("""
import os
import numpy as np, cambrian as cb
pid = os.fork()
r = (cb.asarray(np.arange(4.0)) * 3).numpy()
assert list(r) == [0.0, 3.0, 6.0, 9.0], r
if pid == 0:
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
print("OK")
""")

program("fork_child_pending_work")("""
import os, threading
import numpy as np, cambrian as cb
release = threading.Event()
@cb.task
def gate(out):
    release.wait(30)
    out[:] = 1
a = cb.empty(100, device="cpu")
gate(cb.Out(a))
pending = [cb.sqrt(a + i) for i in range(200)]
pid = os.fork()                      # with work in flight
if pid == 0:
    try:
        pending[0].numpy()
        os._exit(1)
    except cb.CambrianError:
        os._exit(0)
    except BaseException:
        os._exit(2)
_, status = os.waitpid(pid, 0)
release.set()
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
assert all(p.numpy()[0] == np.sqrt(1 + i) for i, p in enumerate(pending))
print("OK")
""")

program("multiprocessing_spawn")("""
import multiprocessing as mp
import numpy as np, cambrian as cb

def work(k):
    import numpy as np, cambrian as cb
    return float((cb.asarray(np.arange(10.0)) * k).sum())

if __name__ == "__main__":
    (cb.ones(3) + 1).numpy()
    with mp.get_context("spawn").Pool(2) as pool:
        got = pool.map(work, range(4))
    assert got == [45.0 * k for k in range(4)], got
    print("OK")
""")

program("multiprocessing_fork_after_start")("""
import multiprocessing as mp
import numpy as np, cambrian as cb

def work(k):
    try:
        return float((cb.asarray(np.arange(10.0)) * k).sum())
    except cb.CambrianError as e:
        return "fork" in str(e)

if __name__ == "__main__":
    (cb.ones(3) + 1).numpy()
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map(work, range(4))
    assert got == [True] * 4, got
    print("OK")
""")

program("exit_pending_work")("""
import numpy as np, cambrian as cb
a = cb.asarray(np.ones(1000))
keep = [cb.sqrt(a * float(i)) for i in range(5000)]
print("OK")
""")

program("exit_pending_failures")("""
import numpy as np, cambrian as cb, cambrian.testing as t
t.inject_fault("add", nth=1)
t.inject_fault("multiply", nth=3)
a = cb.asarray(np.ones(100))
futures = [(a + i).future for i in range(500)]
more = [(a * i) - 1 for i in range(500)]
print("OK")
""")

program("exit_pending_tasks_and_graphs")("""
import numpy as np, cambrian as cb
@cb.task
def slowish(x, out):
    out[:] = x * 2
with cb.Graph() as g:
    x = g.input("x", (256,), cb.float64)
    g.output("y", cb.sqrt(x * x + 1.0))
a = cb.asarray(np.ones(256))
runs = [g.run(x=a) for _ in range(300)]
calls = [slowish(a, cb.Out(cb.empty(256))) for _ in range(300)]
it = g.map([np.ones(256)] * 50, in_flight=3)
next(it)                                   # a generator left open
print("OK")
""")

program("exit_with_loops_and_threads_running")("""
import asyncio, threading, time
import numpy as np, cambrian as cb
stop = False
def submitter():
    a = cb.asarray(np.ones(500))
    while True:                            # until the process ends
        (a + 1.0).numpy()
def loop():
    async def main():
        a = cb.asarray(np.ones(500))
        while True:
            await (a * 2.0)
    asyncio.run(main())
for f in (submitter, submitter, loop, loop):
    threading.Thread(target=f, daemon=True).start()
time.sleep(1.0)
print("OK")
""")

program("exit_while_nondaemon_threads_finish")("""
import threading
import numpy as np, cambrian as cb
def work(k):
    a = cb.asarray(np.full(300, float(k)))
    rs = [a + i for i in range(300)]
    assert rs[-1].numpy()[0] == k + 299
threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
for t in threads:
    t.start()
print("OK")                               # the threads end after this
""")

program("os_exit_from_thread", rc=7)("""
import os, threading, time
import numpy as np, cambrian as cb
a = cb.asarray(np.ones(1000))
keep = [cb.exp(a * float(i)) for i in range(2000)]
print("OK", flush=True)
def bye():
    time.sleep(0.1)
    os._exit(7)
threading.Thread(target=bye).start()
while True:
    keep.append(a + 1.0)
    keep[-1].numpy()
""")

program("sys_exit_in_thread")("""
import sys, threading
import numpy as np, cambrian as cb
def work():
    (cb.ones(10) + 1).numpy()
    sys.exit(5)                           # ends the thread only
t = threading.Thread(target=work)
t.start(); t.join()
assert (cb.ones(3) * 2).numpy().tolist() == [2.0, 2.0, 2.0]
print("OK")
""")

program("exit_inside_task", rc=9)("""
import os, time
import numpy as np, cambrian as cb
@cb.task
def leave(out):
    os._exit(9)                           # the whole process, at once
a = cb.asarray(np.ones(100))
keep = [a + i for i in range(500)]
print("OK", flush=True)
leave(cb.Out(cb.empty(4)))
time.sleep(30)
print("not reached")
""")

program("system_exit_inside_task")("""
import numpy as np, cambrian as cb
@cb.task
def leave():
    raise SystemExit(4)                   # stays in its task
f = leave()
try:
    f.result(timeout=30)
except cb.TaskError as e:
    assert isinstance(e.__cause__, SystemExit)
(cb.ones(3) + 1).numpy()
print("OK")
""")

program("exit_during_shutdown_from_thread")("""
import threading
import numpy as np, cambrian as cb
a = cb.asarray(np.ones(2000))
keep = [a * float(i) for i in range(3000)]
t = threading.Thread(target=cb.shutdown)
t.start()                                 # the exit meets it draining
print("OK")
""")

program("shutdown_from_two_threads")("""
import threading
import numpy as np, cambrian as cb
for cycle in range(5):
    a = cb.asarray(np.ones(1000))
    keep = [a + float(i) for i in range(500)]
    ts = [threading.Thread(target=cb.shutdown) for _ in range(2)]
    for t in ts: t.start()
    for t in ts: t.join(60)
    assert not any(t.is_alive() for t in ts), "shutdown hung"
    assert keep[-1].numpy()[0] == 500.0
print("OK")
""")

program("shutdown_while_submitting")("""
import threading
import numpy as np, cambrian as cb
errors = []
stop = threading.Event()
def submit():
    a = np.ones(200)
    while not stop.is_set():
        try:
            r = (cb.asarray(a) + 1.0).numpy()
            assert r[0] == 2.0
        except cb.CambrianError as e:
            errors.append(e)
ts = [threading.Thread(target=submit) for _ in range(3)]
for t in ts: t.start()
for _ in range(10):
    cb.shutdown()
stop.set()
for t in ts: t.join(60)
assert not any(t.is_alive() for t in ts), "a submitter hung"
assert not errors, errors[:3]
print("OK")
""")

program("init_shutdown_cycles")("""
import numpy as np, cambrian as cb
for k in range(int(__import__("sys").argv[1])):
    cb.init()
    r = (cb.asarray(np.arange(5.0)) * k).sum()
    assert float(r) == 10.0 * k
    cb.shutdown()
print("OK")
""")

program("exit_with_unread_failures_logged")("""
import numpy as np, cambrian as cb, cambrian.testing as t
@cb.task
def boom():
    raise ValueError("boom")
fs = [boom() for _ in range(50)]
t.inject_fault("sqrt", nth=1)
b = cb.sqrt(cb.ones(10))
print("OK")
""")


def processes(ck, names=None, rounds=1, args=None):
    """Every program (or those named), rounds times."""
    args = args or {}
    for r in range(rounds):
        for name, (code, rc, out, timeout) in PROGRAMS.items():
            if names and name not in names:
                continue
            ck.python(code, f"{name} (round {r})", timeout=timeout,
                      expect_rc=rc, expect_out=out,
                      args=[str(a) for a in args.get(name, ["x"])])


def fork_storm(ck, forks=20):
    """fork() again and again from a process whose runtime runs, with
    work in flight; each child ends a different way. The parent keeps
    computing right."""
    x = np.arange(100.0)
    a = cb.asarray(x)
    for k in range(forks):
        pending = [a * float(i) for i in range(50)]
        pid = os.fork()
        if pid == 0:
            try:
                (a + 1).numpy()
                code = 1
            except cb.CambrianError:
                code = 0
            except BaseException:  # noqa: BLE001
                code = 2
            if k % 3 == 0:
                os._exit(code)
            elif k % 3 == 1:
                sys.stdout.flush()
                os._exit(code)
            else:
                os.kill(os.getpid(), signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        if k % 3 == 2:
            ck.check(os.WIFSIGNALED(status) and
                     os.WTERMSIG(status) == signal.SIGTERM,
                     f"fork {k}: status {status}")
        else:
            ck.check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
                     f"fork {k}: the child's use of cambrian gave status "
                     f"{status}")
        ck.check(all(np.array_equal(p.numpy(), x * float(i))
                     for i, p in enumerate(pending)),
                 f"fork {k}: the parent's work is wrong afterwards")
    alive(ck)


def scenarios(long):
    k = 3 if long else 1
    return [
        {"name": "processes", "func": "processes",
         "params": {"rounds": k, "args": {"init_shutdown_cycles":
                                          [30 if long else 10]},
                    "names": None},
         "timeout": 900 if long else 400},
        {"name": "fork_storm", "func": "fork_storm",
         "params": {"forks": 60 if long else 15}, "timeout": 240},
    ]
