"""Waiting for cambrian work inside a task raises at once instead of
hanging: the task holds a worker that the awaited work may need. Work a
task submits still runs; only waits are refused. Every kind of wait is
covered, and a process whose task tried one still exits."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cambrian as cb

from helpers import assert_alive


def run_in_task(body):
    """Runs body(a) in a @cb.task that writes a (4x4): work on a cannot
    end before the task does, so body's wait is for unfinished work,
    whatever the number of workers. Returns the TaskError's cause."""
    a = cb.empty((4, 4), device="cpu")

    @cb.task
    def f(out):
        body(a)

    fut = f(cb.Out(a))
    with pytest.raises(cb.TaskError) as info:
        fut.result(timeout=60)
    return info.value.__cause__


WAITS = {
    "sum": lambda a: float(cb.sum(a)),
    "numpy": lambda a: (a + 1).numpy(),
    "future": lambda a: (a * 2).future.result(),
    "matmul": lambda a: (a @ a).numpy(),
    "synchronize": lambda a: cb.synchronize(),
    "shutdown": lambda a: cb.shutdown(),
}


@pytest.mark.parametrize("wait", sorted(WAITS))
def test_wait_inside_a_task_raises(wait):
    cause = run_in_task(WAITS[wait])
    assert isinstance(cause, cb.CambrianError), repr(cause)
    assert "inside a task" in str(cause)
    assert_alive()


def test_a_nested_task_result_raises():
    @cb.task
    def inner(x):
        return 1

    cause = run_in_task(lambda a: inner(a).result())
    assert isinstance(cause, cb.CambrianError)
    assert "inside a task" in str(cause)


def test_work_submitted_in_a_task_runs():
    out = []

    @cb.task
    def f(x):
        out.append(cb.ones(1000) * 3.0)  # submitted, not waited for
        return 7

    assert f(cb.ones(2)).result(timeout=60) == 7
    np.testing.assert_array_equal(out[0].numpy(), np.full(1000, 3.0))


def test_waiting_for_finished_work_inside_a_task_is_fine():
    done = cb.ones(10) + 1
    done.numpy()

    @cb.task
    def f(x):
        return float(done.numpy().sum())

    assert f(cb.ones(2)).result(timeout=60) == 20.0


def test_process_with_a_refused_wait_exits():
    code = textwrap.dedent("""
        import cambrian as cb
        a = cb.empty(10, device="cpu")
        @cb.task
        def f(out):
            return float(cb.sum(a))     # a is this task's own output
        try:
            f(cb.Out(a)).result(timeout=30)
        except cb.TaskError as e:
            print("raised:", type(e.__cause__).__name__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "raised: CambrianError" in done.stdout
