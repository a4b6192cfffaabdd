"""cambrian, waited from a plain thread: (a + b).future.result() over 16
float32 on device "cpu", one operation at a time (submit, wait, repeat).

The target row is "future.result()". The other variants (marked diag. in
the table) show the pieces of that path and other ways to wait:

  c.wait()             c = a + b; c.wait(): makes the host copy current
                       and waits for it in C with the GIL released; no
                       Future object at all
  cf.wait([future])    concurrent.futures.wait([(a + b).future]): a
                       concurrent.futures waiter, so the completion comes
                       through cambrian's notifier thread (the path that
                       add_done_callback, wait and as_completed take)
  submit + .future     c = a + b; c.future, no wait: the submission plus
                       making the cambrian.Future
  submit only          c = a + b, no wait: the submission alone
The no-wait variants leave their tasks running; the backlog is
synchronised after the timed loop, untimed.
"""
import concurrent.futures as cf

import numpy as np

import cambrian as cb
import harness

NAME = "cambrian"
USES_RUNTIME = True
VARIANTS = ["future.result()",
            "c.wait() (waits in C, no Future)",
            "cf.wait([future]) (notifier thread)",
            "submit + .future, no wait",
            "submit only, no wait"]


def available():
    return True, ""


def setup(variant, runtime):
    cb.shutdown()
    cb.init(**runtime)
    dev = cb.get_device("cpu")
    x = np.ones(16, np.float32)
    return {"a": cb.asarray(x, device=dev), "b": cb.asarray(x, device=dev),
            "variant": variant, "config": cb.config()}


def _one_result(st):
    st["last"] = (st["a"] + st["b"]).future.result()


def _one_wait(st):
    c = st["a"] + st["b"]
    c.wait()
    st["last"] = c


def _one_cf_wait(st):
    c = st["a"] + st["b"]
    cf.wait([c.future])
    st["last"] = c


def _one_future(st):
    c = st["a"] + st["b"]
    c.future
    st["last"] = c


def _one_submit(st):
    st["last"] = st["a"] + st["b"]


ONE = dict(zip(VARIANTS, [_one_result, _one_wait, _one_cf_wait,
                          _one_future, _one_submit]))


def samples(state, warmup, n):
    out = harness.timed(ONE[state["variant"]], state, warmup, n)
    cb.synchronize()  # the backlog of the no-wait variants, untimed
    return out


def check(state):
    np.testing.assert_allclose(state["last"].numpy(),
                               np.full(16, 2, np.float32))


def teardown(state):
    state.clear()
    cb.shutdown()
