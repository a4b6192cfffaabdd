"""Graph.map: a graph run over a stream of batches, a bounded number in
flight at once, so that the data of one batch moves while another
computes; with failures gathered per batch and, when asked for, a
progress line."""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED
from typing import TYPE_CHECKING, Any, Protocol

from . import _core
from ._futures import wait

if TYPE_CHECKING:
    from ._core import Array
    from ._devices import Device
    from ._graph import Graph

_Outputs = dict[str, "Array"]


class _ProgressBar(Protocol):
    def update(self, n: int) -> object: ...
    def close(self) -> None: ...


def _outcome(outs: _Outputs) -> BaseException | None:
    """None when every output is written, else the first exception."""
    for a in outs.values():
        exc = a.future.exception()
        if exc is not None:
            return exc
    return None


def _from_host(batch: dict[str, Any]) -> bool:
    """Whether a batch came as host data (not as cambrian Arrays)."""
    return any(not isinstance(v, _core.Array) for v in batch.values())


def _done(outs: _Outputs) -> bool:
    return all(a.future.done() for a in outs.values())


def map_batches(g: Graph, batches: Iterable[Any], in_flight: int,
                progress: bool, ordered: bool, stop_on_error: bool,
                device: str | Device | None, to_host: bool | None
                ) -> Iterator[tuple[int, _Outputs]]:
    """The generator behind g.map (Graph.map says what the arguments
    mean)."""
    total = len(batches) if isinstance(batches, Sized) else None
    bar = _progress(total) if progress else None
    pending: collections.deque[tuple[int, _Outputs]] = collections.deque()
    failures: list[Exception] = []
    g.max_in_flight = 0

    def finish(i: int, outs: _Outputs) -> tuple[int, _Outputs] | None:
        exc = _outcome(outs)
        if bar:
            bar.update(1)
        if exc is None:
            return (i, outs)
        exc.batch_index = i  # type: ignore[attr-defined]
        exc.add_note(f"in batch {i} of Graph.map")
        if stop_on_error:
            raise exc
        failures.append(exc)  # type: ignore[arg-type]
        return None

    def take_one() -> tuple[int, _Outputs]:
        if ordered:
            return pending.popleft()
        while True:
            for k, item in enumerate(pending):
                if _done(item[1]):
                    del pending[k]
                    return item
            wait([a.future for _, outs in pending for a in outs.values()],
                 return_when=FIRST_COMPLETED)

    try:
        for i, batch in enumerate(batches):
            if not isinstance(batch, dict):
                if len(g._inputs) != 1:
                    raise TypeError("batches must be dicts of inputs: the "
                                    "graph has several inputs")
                batch = {g._inputs[0][0]: batch}
            outs = g.run(device=device, **batch)
            if to_host or (to_host is None and _from_host(batch)):
                # Each output comes back as soon as it is written, while
                # later batches move in and compute.
                for a in outs.values():
                    _core.start_host_copy(a)
            pending.append((i, outs))
            g.max_in_flight = max(g.max_in_flight, len(pending))
            while len(pending) >= in_flight:
                got = finish(*take_one())
                if got is not None:
                    yield got
        while pending:
            got = finish(*take_one())
            if got is not None:
                yield got
    finally:
        if bar:
            bar.close()
    if failures:
        raise ExceptionGroup(f"{len(failures)} "
                             f"{'batch' if len(failures) == 1 else 'batches'}"
                             " of Graph.map failed",
                             failures)


def _progress(total: int | None) -> _ProgressBar:
    try:
        from tqdm import tqdm
        bar: _ProgressBar = tqdm(total=total, unit="batch", file=sys.stderr)
        return bar
    except ImportError:
        return _Bar(total)


class _Bar:
    """A small progress line on stderr: batches done and batches/s."""

    def __init__(self, total: int | None) -> None:
        self.total, self.n = total, 0
        self.t0 = self.last = time.perf_counter()
        self.lock = threading.Lock()

    def update(self, k: int) -> None:
        with self.lock:
            self.n += k
            now = time.perf_counter()
            if now - self.last < 0.2 and self.n != self.total:
                return
            self.last = now
            rate = self.n / max(now - self.t0, 1e-9)
            of = f"/{self.total}" if self.total is not None else ""
            sys.stderr.write(f"\r{self.n}{of} batches, {rate:.1f} batch/s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.n:
            sys.stderr.write("\n")
