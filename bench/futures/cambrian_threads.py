"""cambrian, aggregate submission throughput from several Python threads.
Each of `nthreads` threads has its own a and b (16 float32 on device
"cpu", made in that thread) and submits K times c = a + b; when every
thread is done, one cb.synchronize(). A repetition is timed from the
release of the threads to the return of cb.synchronize(); aggregate
ops/s = nthreads * K / that time. The threads live across repetitions
(two barriers), so thread start-up is not timed. Each thread also times
its own submission loop ("submit" columns)."""
import threading
import time

import numpy as np

import cambrian as cb

NAME = "cambrian threads"


def available():
    return True, ""


def _worker(state, i):
    try:
        dev = cb.get_device("cpu")
        x = np.ones(16, np.float32)
        a, b = cb.asarray(x, device=dev), cb.asarray(x, device=dev)
    except BaseException as e:  # reported by check(); a + b fails below
        state["errors"].append(e)
        a = b = None
    state["ready"].wait()
    k, clock = state["k"], time.perf_counter
    while True:
        state["start"].wait()
        if state["stop"]:
            return
        try:
            t0 = clock()
            for _ in range(k):
                c = a + b
            state["submit"][i].append(clock() - t0)
            state["last"][i] = c
            del c
        except BaseException as e:  # reported by check()
            state["errors"].append(e)
        state["done"].wait()


def setup(nthreads, k, runtime):
    cb.shutdown()
    cb.init(**runtime)
    n = nthreads + 1
    state = {"nthreads": nthreads, "k": k, "ops": nthreads * k,
             "ready": threading.Barrier(n), "start": threading.Barrier(n),
             "done": threading.Barrier(n), "stop": False,
             "submit": [[] for _ in range(nthreads)],
             "last": [None] * nthreads, "errors": [],
             "config": cb.config()}
    state["threads"] = [
        threading.Thread(target=_worker, args=(state, i), daemon=True,
                         name=f"bench-submit-{i}") for i in range(nthreads)]
    for t in state["threads"]:
        t.start()
    state["ready"].wait()  # every thread has made its arrays
    cb.synchronize()
    return state


def run(state):
    state["start"].wait()
    state["done"].wait()
    cb.synchronize()


def submit_seconds(state, skip):
    """Per repetition (after the first `skip`), the longest submission
    loop among the threads."""
    per = [s[skip:] for s in state["submit"]]
    return [max(col) for col in zip(*per)]


def check(state):
    if state["errors"]:
        raise state["errors"][0]
    for c in state["last"]:
        np.testing.assert_allclose(c.numpy(), np.full(16, 2, np.float32))


def teardown(state):
    if state.get("threads"):
        state["stop"] = True
        try:
            state["start"].wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        for t in state["threads"]:
            t.join(10)
    state.clear()
    cb.shutdown()
