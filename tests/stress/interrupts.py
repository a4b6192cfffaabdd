"""Interrupts: SIGINT (Ctrl-C) delivered while the main thread waits for
work (every way of waiting, graph runs and Graph.map among them), while
cb.shutdown() drains, at the exit of a process, and at random moments of
a busy program. Each interrupt is a check: KeyboardInterrupt comes at
once (the work it interrupted is still pending), and afterwards the work
finishes with NumPy's values and the runtime goes on; at exit the process
leaves, neither hanging nor crashing.
"""

import asyncio
import concurrent.futures as cf
import os
import random
import signal
import sys
import threading
import time

import numpy as np

import cambrian as cb

from harness import alive

# How long held work waits for its release at most: a wait that ignores
# Ctrl-C ends only then, and is counted wrong.
GIVE_UP_S = 20.0


@cb.task
def _gate(started, release, out):
    started.set()
    release.wait(GIVE_UP_S)
    out[:] = 1.0
    return release.is_set()


def _graph(n):
    with cb.Graph() as g:
        x = g.input("x", (n,), cb.float32)
        g.output("y", cb.sqrt(x * 3.0 + 1.0))
    return g


def _waits():
    """name -> fn(y, call, g, gate_array) that waits for work queued
    behind the gate."""
    def run_graph(y, call, g, a):
        return g.run(x=a)["y"].numpy()

    def map_graph(y, call, g, a):
        return list(g.map([{"x": a}, {"x": a}], in_flight=1))

    def asyncio_wait(y, call, g, a):
        async def main():
            await y
        asyncio.run(main())

    def gather(y, call, g, a):
        async def main():
            await asyncio.gather(y, call, y + 1)
        asyncio.run(main())

    return {
        "numpy": lambda y, call, g, a: y.numpy(),
        "asarray": lambda y, call, g, a: np.asarray(y),
        "array_result": lambda y, call, g, a: y.future.result(),
        "task_result": lambda y, call, g, a: call.result(),
        "exception": lambda y, call, g, a: y.future.exception(),
        "synchronize": lambda y, call, g, a: cb.synchronize(),
        "cb_wait": lambda y, call, g, a: cb.wait([y, call]),
        "as_completed": lambda y, call, g, a: list(cb.as_completed([y])),
        "cf_wait": lambda y, call, g, a: cf.wait([y.future]),
        "float_of_sum": lambda y, call, g, a: float(y.sum()),
        "asyncio": asyncio_wait,
        "asyncio_gather": gather,
        "graph_run": run_graph,
        "graph_map": map_graph,
    }


def _sigint_when(ready, delay=0.05):
    """A thread that sends SIGINT to this process once ready is set."""
    def send():
        if ready.wait(GIVE_UP_S):
            time.sleep(delay)
            os.kill(os.getpid(), signal.SIGINT)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    return t


def waits(ck, rounds=1, only=None):
    """Each way of waiting, interrupted rounds times."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    n = 1000
    g = _graph(n)
    names = sorted(_waits()) if only is None else only
    for r in range(rounds):
        for name in names:
            _one_wait(ck, name, _waits()[name], g, n, f"round {r}: {name}")
    cb.synchronize()
    alive(ck)


def _one_wait(ck, name, wait, g, n, what):
    started, release, waiting = (threading.Event(), threading.Event(),
                                 threading.Event())
    a = cb.empty(n, dtype=np.float32, device="cpu")
    call = _gate(started, release, cb.Out(a))
    y = cb.sqrt(a * 3.0 + 1.0)      # queued behind the gate
    sender = _sigint_when(waiting)
    pending = None
    outcome = None
    try:
        if not started.wait(GIVE_UP_S):
            ck.wrong(f"{what}: the gate task never started")
            return
        try:
            waiting.set()
            wait(y, call, g, a)
            outcome = "the wait ended without KeyboardInterrupt"
        except KeyboardInterrupt:
            pending = (call.done(), y.future.done())
    finally:
        waiting.set()
        sender.join(GIVE_UP_S)
        release.set()
    if outcome is None and pending != (False, False):
        outcome = f"interrupted only once the work was done {pending}"
    ck.check(outcome is None, f"{what}: {outcome}")
    # The work finishes once released, with its values.
    try:
        ok = call.result(timeout=60) is True
        ok &= np.allclose(y.numpy(), np.full(n, 2.0, np.float32))
    except Exception as e:  # noqa: BLE001
        ok = False
        outcome = repr(e)
    ck.check(ok, f"{what}: after the interrupt the work gave {outcome}")


def shutdown(ck, rounds=3):
    """Ctrl-C while cb.shutdown() drains held work: KeyboardInterrupt with
    the work still pending, which then finishes; shutdown() then works."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for r in range(rounds):
        started, release, waiting = (threading.Event(), threading.Event(),
                                     threading.Event())
        a = cb.empty(1000, dtype=np.float32, device="cpu")
        call = _gate(started, release, cb.Out(a))
        y = a + 1.0
        started.wait(GIVE_UP_S)
        sender = _sigint_when(waiting, 0.2)
        outcome = None
        try:
            waiting.set()
            cb.shutdown()
            outcome = "shutdown() ended without KeyboardInterrupt"
        except KeyboardInterrupt:
            if y.future.done():
                outcome = "interrupted only once the work was done"
        finally:
            sender.join(GIVE_UP_S)
            release.set()
        ck.check(outcome is None, f"shutdown round {r}: {outcome}")
        try:
            ok = call.result(timeout=60) is True and np.array_equal(
                y.numpy(), np.full(1000, 2.0, np.float32))
            cb.shutdown()
        except Exception as e:  # noqa: BLE001
            ok = repr(e)
        ck.check(ok is True, f"shutdown round {r}: afterwards {ok}")
        alive(ck, f"shutdown round {r}: a new runtime")


EXIT_CHILD = """
    import sys, threading, time
    import numpy as np
    import cambrian as cb
    marker = sys.argv[1]
    @cb.task
    def slow(out):
        threading.Event().wait(30)     # never set: the work outlasts exit
        open(marker, "w").close()
    a = cb.empty(10, device="cpu")
    slow(cb.Out(a))
    keep = [cb.sqrt(a + i) for i in range(int(sys.argv[2]))]
    time.sleep(0.2)                    # the task is running
    print("exiting", flush=True)
"""


def at_exit(ck, rounds=3):
    """Ctrl-C at the exit of a process with pending work: it leaves, its
    pending work dropped, without hanging or crashing."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="cambrian-stress-") as tmpdir:
        for r in range(rounds):
            marker = os.path.join(tmpdir, f"finished-{r}")

            def interrupt(proc):
                line = proc.stdout.readline()
                if line.strip() != "exiting":
                    return
                # Ctrl-C until it has gone: one that comes before the exit's
                # wait ends the script's last lines instead.
                for _ in range(120):
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=0.25)
                        return
                    except Exception:  # noqa: BLE001 (still running)
                        pass

            res = ck.python(EXIT_CHILD, f"exit round {r}", timeout=60,
                            args=[marker, str(100 * (r + 1))],
                            on_start=interrupt, ok_signals=(signal.SIGINT,),
                            expect_rc=None)
            if res is not None:
                ck.check(not os.path.exists(marker),
                         f"exit round {r}: the exit waited for the work")


# How a kernel build fails when a Ctrl-C comes during it: pocl compiles
# with LLVM in the process, and LLVM's SIGINT handler (installed at a
# build, ahead of Python's) deletes the temporary files of the build
# running, which then fails.
LLVM_TEMP = "unable to rename temporary"


def random_moments(ck, interrupts=10, seed=0, duration_s=None):
    """SIGINT at random moments of a busy main thread (submitting,
    waiting, running graphs and tasks, in and out of an event loop). Each
    KeyboardInterrupt is caught wherever it lands; then the runtime must
    still compute, and everything submitted before must finish (with the
    right values where it was submitted whole). One check per interrupt,
    one per batch that was not interrupted."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    g = _graph(500)
    x = rng.uniform(0, 4, 500).astype(np.float32)
    expected = np.sqrt(x * 3.0 + 1.0)

    @cb.task
    def halve(v, out):
        out[:] = v * 0.5

    stop = threading.Event()
    sent = [0]

    def sender():
        while not stop.is_set() and sent[0] < interrupts:
            time.sleep(pyrng.uniform(0.02, 0.4))
            if stop.is_set():
                break
            sent[0] += 1
            os.kill(os.getpid(), signal.SIGINT)

    def batch(k):
        a = cb.asarray(x, device="cpu" if k % 3 else "opencl"
                       if cb.devices("opencl") else "cpu")
        outs = [cb.sqrt(a * 3.0 + 1.0) for _ in range(20)]
        outs.append(g.run(x=a)["y"])
        h = cb.empty(500, dtype=np.float32, device="cpu")
        call = halve(outs[0], cb.Out(h))
        if k % 4 == 0:
            async def main():
                return await asyncio.gather(*outs[:5])
            asyncio.run(main())
        elif k % 4 == 1:
            cb.synchronize()
        for o in outs:
            if not np.allclose(o.numpy(), expected, rtol=1e-5):
                return "values differ"
        call.result(timeout=60)
        if not np.allclose(h.numpy(), expected * 0.5, rtol=1e-5):
            return "the task's values differ"
        return None

    # CPython drops an exception raised in a finalizer (__del__), after
    # printing "Exception ignored": a Ctrl-C whose handler runs there is
    # lost. cambrian's futures finalize in C, and pass on a Ctrl-C that
    # came while they logged; where one is lost all the same is named.
    lost = []
    previous_hook = sys.unraisablehook

    def unraisable(info):
        if issubclass(info.exc_type, KeyboardInterrupt):
            obj = info.object
            lost.append(f"{getattr(obj, '__module__', '?')}."
                        f"{getattr(obj, '__qualname__', repr(obj)[:80])}")
        previous_hook(info)

    sys.unraisablehook = unraisable
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    caught = 0
    k = 0
    deadline = time.monotonic() + (duration_s or 60 + 6 * interrupts)
    while (sent[0] < interrupts or caught < sent[0]) and \
            time.monotonic() < deadline:
        k += 1
        try:
            try:
                err = batch(k)
                ck.check(err is None, f"batch {k}: {err}")
            except KeyboardInterrupt:
                caught += 1
                # Wherever it landed, the runtime goes on: everything
                # submitted finishes, and new work is right.
                cb.synchronize(timeout=60)
                a = cb.asarray(x)
                ck.check(np.allclose(cb.sqrt(a * 3.0 + 1.0).numpy(),
                                     expected, rtol=1e-5),
                         f"after interrupt {caught}: wrong values")
        except KeyboardInterrupt:
            # One more came during the checks: counted, checked next time.
            caught += 1
            sent[0] = max(sent[0], caught)
        except cb.CambrianError as e:
            if isinstance(e, cb.KernelBuildError) and LLVM_TEMP in str(e):
                ck.known(f"batch {k}: a Ctrl-C during a kernel build made "
                         f"it fail: {str(e)[:200]}")
            else:
                ck.wrong(f"batch {k}: {e!r}")
        except TimeoutError as e:
            ck.hang(f"after an interrupt, synchronize() timed out: {e!r}")
            break
    stop.set()
    t.join()
    sys.unraisablehook = previous_hook
    missing = sent[0] - caught
    if missing <= 0:
        ck.ok()
    else:
        ck.wrong(f"{sent[0]} interrupts sent, {caught} caught; lost in "
                 f"finalizers: {lost}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cb.synchronize(timeout=60)
    except Exception as e:  # noqa: BLE001
        ck.wrong(f"synchronize at the end: {e!r}")
    alive(ck)


def scenarios(long):
    k = 2 if long else 1
    return [
        {"name": "waits", "func": "waits", "params": {"rounds": k},
         "timeout": 120 * k},
        {"name": "shutdown", "func": "shutdown",
         "params": {"rounds": 3 * k}, "timeout": 120},
        {"name": "at_exit", "func": "at_exit", "params": {"rounds": 2 * k},
         "timeout": 200 * k},
        {"name": "random_moments#0", "func": "random_moments",
         "params": {"interrupts": 10 * k, "seed": 0}, "timeout": 240},
    ] + ([{"name": f"random_moments#{s}", "func": "random_moments",
           "params": {"interrupts": 20, "seed": s}, "timeout": 300}
          for s in (1, 2)] if long else [])
