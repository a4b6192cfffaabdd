"""The child side of the stress runs: one scenario of one probe family,
run in a process of its own by run.py.

    python tests/stress/harness.py PROBE SCENARIO PARAMS_JSON REPORT_PATH

imports the probe's module (tests/stress/PROBE.py), calls its function
SCENARIO(ck, **params) with a Checker, and writes what the checker counted
to REPORT_PATH as JSON. The report is written again every few hundred
checks, so that a scenario which crashes or hangs still says how far it
got; "done" is true in the last one only.

A check is one thing that must come out one way: an operation's values
against NumPy's, an error's class and cause, a process's exit. It is clean,
or wrong (a wrong value, a wrong exception, a missing one), or, for checks
on processes a scenario starts itself, a crash (killed by a signal) or a
hang (past its time limit).
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))

# Failures kept in the report, per scenario: enough to reproduce.
MAX_FAILURES = 20


class Checker:
    """Counts checks; thread-safe. A wrong check keeps a short account of
    what was expected and what came (the first MAX_FAILURES of them)."""

    def __init__(self, path=None, flush_every=500):
        self.path = path
        self.flush_every = flush_every
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        # "known": how many of the wrong, crashed or hung checks are
        # failures already known (see known()).
        self.counts = {"tried": 0, "clean": 0, "wrong": 0, "crash": 0,
                       "hang": 0, "known": 0}
        self.failures = []
        self.notes = []
        self.since_flush = 0
        self.started = time.monotonic()

    def _count(self, kind, what=None, known=False):
        with self.lock:
            self.counts["tried"] += 1
            self.counts[kind] += 1
            self.counts["known"] += known
            if what is not None and len(self.failures) < MAX_FAILURES:
                self.failures.append(f"{kind}: {what}")
            self.since_flush += 1
            flush = self.since_flush >= self.flush_every
            if flush:
                self.since_flush = 0
        if flush:
            self.flush()

    def ok(self):
        self._count("clean")

    def wrong(self, what):
        self._count("wrong", what)

    def crash(self, what):
        self._count("crash", what)

    def hang(self, what):
        self._count("hang", what)

    def known(self, what, kind="wrong"):
        """A check that failed in a way already known and described: it
        counts as wrong (or crash, hang), and as known, which the table
        shows and the exit status forgives."""
        self._count(kind, f"known: {what}", known=True)

    def note(self, text):
        with self.lock:
            if len(self.notes) < MAX_FAILURES:
                self.notes.append(text)

    def check(self, cond, what):
        """One check: clean if cond is true, else wrong with what (a string
        or a function that makes one)."""
        if cond:
            self.ok()
        else:
            self.wrong(what() if callable(what) else what)
        return bool(cond)

    def same(self, got, expected, what, rtol=1e-6, atol=0.0):
        """got (an Array, NumPy array or number) equals expected, a NumPy
        array: same shape and dtype, floats within rtol. Reading got may
        raise: that is a wrong result too."""
        import numpy as np
        try:
            g = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
        except Exception as e:  # noqa: BLE001 (any error is a wrong result)
            self.wrong(f"{what}: reading raised {e!r}")
            return False
        expected = np.asarray(expected)
        if g.shape != expected.shape or g.dtype != expected.dtype:
            self.wrong(f"{what}: got {g.dtype}{g.shape}, expected "
                       f"{expected.dtype}{expected.shape}")
            return False
        if expected.dtype.kind == "f":
            good = np.allclose(g, expected, rtol=rtol, atol=atol,
                               equal_nan=True)
        else:
            good = np.array_equal(g, expected)
        if not good:
            bad = np.flatnonzero(~np.isclose(g, expected, rtol=rtol,
                                             atol=atol, equal_nan=True)
                                 if expected.dtype.kind == "f"
                                 else g.ravel() != expected.ravel())
            i = int(bad[0]) if bad.size else 0
            self.wrong(f"{what}: element {i} is {g.ravel()[i]!r}, expected "
                       f"{expected.ravel()[i]!r} ({bad.size} differ)")
            return False
        self.ok()
        return True

    def raises(self, expected, fn, what):
        """fn() raises an instance of expected (a class or tuple), and
        nothing else."""
        try:
            fn()
        except expected:
            self.ok()
            return True
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            self.wrong(f"{what}: raised {type(e).__name__}: {e}, expected "
                       f"{_names(expected)}")
            return False
        self.wrong(f"{what}: nothing raised, expected {_names(expected)}")
        return False

    def python(self, code, what, timeout=60, expect_rc=0, expect_out=None,
               args=(), env=None, on_start=None, ok_signals=(),
               preexec=None):
        """Runs code in a fresh interpreter (the stress directory on its
        path) and checks its exit: a signal is a crash (but those in
        ok_signals, which the check sent itself), the time limit a hang,
        another exit status than expect_rc (None: any) or missing output
        (expect_out, a string its stdout must hold) wrong.
        on_start(process) runs once it has started; preexec runs in the
        child before Python starts. Returns a CompletedProcess, or None
        after a hang."""
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(
            [HERE] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        full_env.setdefault("PYTHONFAULTHANDLER", "1")
        if env:
            full_env.update(env)
        # A file, not -c: multiprocessing's spawn imports the main module.
        with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="stress-",
                                         delete=False) as f:
            f.write(textwrap.dedent(code))
        try:
            proc = subprocess.Popen(
                [sys.executable, f.name, *args],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=full_env, start_new_session=True, preexec_fn=preexec)
            try:
                if on_start is not None:
                    on_start(proc)
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Python's stacks first (faulthandler prints them on
                # SIGABRT), for the report; then the whole group goes.
                out, err = _stop(proc)
                self.hang(f"{what}: no exit within {timeout} s; stderr: "
                          f"{_tail(err, 3000)}")
                return None
        finally:
            os.unlink(f.name)
        rc = proc.returncode
        if rc < 0 and -rc not in ok_signals:
            self.crash(f"{what}: killed by {_signame(-rc)}; stderr: "
                       f"{_tail(err)}")
        elif expect_rc is not None and rc != expect_rc:
            self.wrong(f"{what}: exit status {rc}, expected {expect_rc}; "
                       f"stderr: {_tail(err)}")
        elif expect_out is not None and expect_out not in out:
            self.wrong(f"{what}: output lacks {expect_out!r}: {_tail(out)}; "
                       f"stderr: {_tail(err)}")
        else:
            self.ok()
        return subprocess.CompletedProcess(proc.args, rc, out, err)

    def report(self, done):
        with self.lock:
            return {"counts": dict(self.counts),
                    "failures": list(self.failures),
                    "notes": list(self.notes), "done": done,
                    "seconds": round(time.monotonic() - self.started, 3)}

    def flush(self, done=False):
        if not self.path:
            return
        with self.flush_lock:       # one writer of the file at a time
            data = json.dumps(self.report(done))
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(data)
            os.replace(tmp, self.path)


def _names(expected):
    if isinstance(expected, tuple):
        return " or ".join(e.__name__ for e in expected)
    return expected.__name__


def _tail(text, n=600):
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def _signame(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _stop(proc):
    """Ends a process that hangs, and the processes of its group: SIGABRT
    first, so that Python's fault handler prints every thread's stack,
    then SIGKILL. Returns what it wrote."""
    try:
        os.killpg(proc.pid, signal.SIGABRT)
        return proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return proc.communicate()
    except ProcessLookupError:
        return proc.communicate()


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def alive(ck, what="the runtime still computes"):
    """One check that the runtime still works: a small operation on every
    kind of device present gives NumPy's values."""
    import numpy as np
    import cambrian as cb
    for dev in ("cpu", "opencl"):
        if not cb.devices(dev):
            continue
        try:
            a = cb.asarray(np.arange(6.0), device=dev)
            r = (a * 2.0 + 1.0).numpy()
        except Exception as e:  # noqa: BLE001
            ck.wrong(f"{what} on {dev}: raised {e!r}")
            continue
        ck.check(np.array_equal(r, np.arange(6.0) * 2 + 1),
                 f"{what} on {dev}: {r}")


def opencl_present():
    import cambrian as cb
    return bool(cb.devices("opencl"))


def main(argv):
    probe, scenario, params, path = argv[1:5]
    sys.path.insert(0, HERE)
    module = importlib.import_module(probe)
    ck = Checker(path)
    ck.flush()
    try:
        getattr(module, scenario)(ck, **json.loads(params))
    except BaseException:  # noqa: BLE001 (the scenario itself broke)
        ck.wrong("the scenario raised: " + _tail(traceback.format_exc(),
                                                   1500))
        ck.flush(done=True)
        sys.stdout.flush()
        os._exit(3)
    ck.flush(done=True)


if __name__ == "__main__":
    main(sys.argv)
