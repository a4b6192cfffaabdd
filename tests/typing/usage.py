"""A typed program using cambrian's public API: mypy checks it (the test
command), with assert_type pinning what the stubs and annotations give,
and tests/python/test_introspection.py runs it."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, assert_type

import numpy as np
import numpy.typing as npt

import cambrian as cb


def arrays() -> None:
    a = cb.asarray(np.arange(8, dtype=np.float32), device="cpu")
    assert_type(a, cb.Array)
    b = cb.sqrt(a * 2.0 + 1.0)
    assert_type(b, cb.Array)
    assert_type(a.shape, tuple[int, ...])
    assert_type(a.dtype, np.dtype[Any])
    assert_type(a.device, cb.Device | None)
    assert_type(b.numpy(), npt.NDArray[Any])
    assert_type(a < b, cb.Array)
    assert_type(cb.where(a > 2, a, 0.0), cb.Array)
    assert_type(cb.sum(b), cb.Array)
    assert_type(b.sum(axis=0), cb.Array)
    total: float = float(cb.dot(a, b))
    assert total > 0
    m = cb.ones((3, 3), dtype=cb.float64)
    assert_type(m @ cb.ones(3), cb.Array)
    assert_type(cb.gemv(1.0, m, np.ones(3), 0.0, cb.zeros(3)), cb.Array)
    assert_type(m.T, cb.Array)
    assert_type(cb.full(2, 1.5).to_device(None), cb.Array)


def futures() -> None:
    a = cb.arange(4) * 3
    fut = a.future
    assert_type(fut, cb.Future[cb.Array])
    assert_type(fut.result(), cb.Array)
    assert isinstance(fut, concurrent.futures.Future)
    done, _ = cb.wait([a, cb.ones(2).future])
    assert len(done) == 2
    cb.synchronize()


async def awaiting() -> float:
    a = cb.ones(16)
    got = await a
    assert_type(got, cb.Array)
    arr = await (a + 1).future
    assert_type(arr, cb.Array)
    return float(arr.sum())


@cb.task
def largest(x: npt.NDArray[np.float64]) -> float:
    return float(x.max())


@cb.task(name="fill", priority=1)
def fill(out: npt.NDArray[np.float64], value: float) -> None:
    out[:] = value


def tasks() -> None:
    b = cb.empty(4)
    done = fill(cb.Out(b), 2.5)
    assert_type(done, cb.Future[None])
    got = largest(b)
    assert_type(got, cb.Future[float])
    assert got.result() == 2.5


def kernels() -> None:
    k = cb.Kernel("__kernel void twice(__global float *x) {"
                  "  x[get_global_id(0)] *= 2.0f; }", "twice")
    x = cb.ones(4, dtype=cb.float32)
    launch = k(4, cb.InOut(x))
    assert_type(launch, cb.Future[None])
    launch.result()
    assert float(x.sum()) == 8.0


def graphs() -> None:
    with cb.Graph() as g:
        x = g.input("x", (4,), cb.float32)
        y = cb.sqrt(x * x + 1.0)
        g.output("y", y * 0.5)
        g.output("total", cb.sum(y))
    outs = g.run(x=np.zeros(4, np.float32))
    assert_type(outs, dict[str, cb.Array])
    for i, batch in g.map([np.ones(4, np.float32)] * 3, in_flight=2):
        assert_type(i, int)
        assert float(batch["total"]) > 0
    assert g.to_dot().startswith("digraph")


def devices() -> None:
    devs = cb.devices("cpu")
    assert_type(devs, list[cb.Device])
    with cb.device_scope(devs[0]) as d:
        assert_type(d, cb.Device | None)
        assert cb.default_device() == devs[0]
    assert_type(cb.config(), dict[str, Any])


def errors() -> None:
    try:
        cb.get_device("opencl:gpu:99")
    except cb.DeviceNotFoundError as e:
        assert isinstance(e, ValueError)


def main() -> None:
    arrays()
    futures()
    assert asyncio.run(awaiting()) == 32.0
    tasks()
    kernels()
    graphs()
    devices()
    errors()


if __name__ == "__main__":
    main()
    print("typed usage: ok")
