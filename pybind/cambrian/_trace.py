"""Traces and statistics.

    with cambrian.trace("run.json"):
        ...                      # every task that ends is recorded

writes Chrome trace event JSON (chrome://tracing, https://ui.perfetto.dev):
one process per device and one thread per StarPU worker; a task is a slice
from its start to its end, preceded by a "fetch data" slice while it waited
for its data (transfers included); flow arrows go from the task that wrote
an array to the tasks that read it; bytes moved per link are counters.
cambrian.plot_trace(json_path, png_path) draws it as a Gantt chart
(matplotlib). cambrian.stats() gives per worker tasks and busy time, bytes
per link and tasks per operation.

Profiling costs about 2 us per task on a small CPU, so it is on only while
a trace records, or after cambrian.profiling(True) (or CAMBRIAN_PROFILE=1).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from . import _core

__all__ = ["trace", "stats", "profiling", "plot_trace", "Stats"]


class Stats(dict[str, Any]):
    """What :func:`stats` returns: a dict, shown as tables in notebooks."""

    def _repr_html_(self) -> str:
        from ._display import stats_html
        return stats_html(self)


def profiling(enabled: bool | None = None) -> bool:
    """Turn profiling on or off; statistics and traces need it.

    Profiling costs about 2 us per task on a small CPU, so it is off
    unless a trace records, this turns it on, or CAMBRIAN_PROFILE=1.

    Parameters
    ----------
    enabled : bool, optional
        None leaves it as it is.

    Returns
    -------
    bool
        Whether it is on now.

    Examples
    --------
    >>> was = cb.profiling()
    >>> cb.profiling(True)
    True
    >>> _ = cb.profiling(was)
    """
    return _core.profiling(enabled)


def _device_names() -> dict[int, str]:
    from ._devices import devices
    return {d._id: d.filter_string for d in devices()}


def _link_name(names: dict[int, str], d: int) -> str:
    return "RAM" if d < 0 else names.get(d, f"device {d}")


def stats(reset: bool = False) -> Stats:
    """Counters gathered while profiling was on, since the last reset.

    Parameters
    ----------
    reset : bool, optional
        Start the counters anew after reading them.

    Returns
    -------
    Stats
        A dict: "workers": [{worker, name, device, tasks, busy_s,
        sleeping_s, total_s}], "links": [{src, dst, bytes, transfers}],
        "operations": {name: {tasks, busy_s}}, "profiling": bool. In a
        notebook it shows as tables.

    Examples
    --------
    >>> _ = cb.profiling(True)
    >>> (cb.ones(1000) * 2).wait()
    >>> st = cb.stats(reset=True)
    >>> st["operations"]["multiply"]["tasks"] >= 1
    True
    >>> _ = cb.profiling(False)
    """
    ws, ls, ops = _core.stats(reset)
    names = _device_names()
    wnames = {w["id"]: w["name"] for w in _core.workers()}
    return Stats({
        "profiling": _core.profiling(None),
        "workers": [dict(worker=w, name=wnames.get(w, ""),
                         device=names.get(d), tasks=t, busy_s=b,
                         sleeping_s=s, total_s=tot)
                    for w, d, t, b, s, tot in ws],
        "links": [dict(src=_link_name(names, s), dst=_link_name(names, d),
                       bytes=b, transfers=n)
                  for s, d, b, n in ls if b or n],
        "operations": {n: dict(tasks=t, busy_s=b) for n, t, b in ops},
    })


def _chrome_events(records: list[Any],
                   names: dict[int, str]) -> list[dict[str, Any]]:
    wnames = {w["id"]: w["name"] for w in _core.workers()}
    events: list[dict[str, Any]] = []
    pids: dict[int, int] = {}
    for d, name in sorted(names.items()):
        pids[d] = d + 1
        events.append(dict(ph="M", name="process_name", pid=d + 1,
                           args=dict(name=name)))
    seen: set[tuple[int, int]] = set()
    # array id -> (pid, tid, end) of its last writer
    writer: dict[int, tuple[int, int, float]] = {}
    flow = 0
    for (name, worker, device, submit, f0, f1, start, end, failed,
         ins, outs) in sorted(records, key=lambda r: r[6]):
        pid, tid = pids.get(device, 0), worker
        if (pid, tid) not in seen:
            seen.add((pid, tid))
            events.append(dict(ph="M", name="thread_name", pid=pid, tid=tid,
                               args=dict(name=wnames.get(worker,
                                                         f"worker {worker}"))))
        if f1 > f0 > 0:
            events.append(dict(name="fetch data", cat="transfer", ph="X",
                               ts=f0, dur=f1 - f0, pid=pid, tid=tid))
        events.append(dict(name=name, cat="task", ph="X", ts=start,
                           dur=max(end - start, 0.001), pid=pid, tid=tid,
                           args=dict(submit_us=round(submit, 3),
                                     queued_us=round(start - submit, 3),
                                     failed=failed)))
        for a in ins:
            w = writer.get(a)
            if w is not None:
                flow += 1
                events.append(dict(ph="s", id=flow, name="data", cat="dep",
                                   pid=w[0], tid=w[1], ts=w[2]))
                events.append(dict(ph="f", bp="e", id=flow, name="data",
                                   cat="dep", pid=pid, tid=tid, ts=start))
        for a in outs:
            writer[a] = (pid, tid, end)
    return events


@contextlib.contextmanager
def trace(path: str | os.PathLike[str]) -> Iterator[None]:
    """Record every task that ends inside the block; write the trace when
    it exits, after waiting for the tasks submitted in it.

    The trace is Chrome trace event JSON (chrome://tracing,
    https://ui.perfetto.dev): a process per device, a thread per StarPU
    worker, a slice per task (its name, when it was submitted and
    queued, whether it failed), a "fetch data" slice while it waited for
    its data, flow arrows from the task that wrote an array to those
    that read it, and bytes moved per link. ``python -m cambrian
    trace-view`` and :func:`plot_trace` draw it.

    Parameters
    ----------
    path : str or path-like
        The JSON file to write.

    Examples
    --------
    >>> import json, os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "run.json")
    ...     with cb.trace(path):
    ...         y = cb.sqrt(cb.arange(1000.0) + 1)
    ...     with open(path) as f:
    ...         doc = json.load(f)
    >>> any(e.get("name") == "sqrt" for e in doc["traceEvents"])
    True
    """
    was = _core.profiling(None)
    _core.stats(True)  # links count from here
    _core.trace_start()
    try:
        yield
    finally:
        try:
            while not _core.wait_idle(50):  # Ctrl-C still works
                pass
        finally:
            records = _core.trace_stop()
        names = _device_names()
        st = stats(reset=not was)
        events = _chrome_events(records, names)
        end = max((r[7] for r in records), default=0.0)
        for link in st["links"]:
            events.append(dict(ph="C", name="bytes moved", pid=0, ts=end,
                               args={f"{link['src']}->{link['dst']}":
                                     link["bytes"]}))
        doc = dict(traceEvents=events, displayTimeUnit="ms",
                   otherData=dict(tasks=len(records), links=st["links"],
                                  operations=st["operations"]))
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)


def plot_trace(json_path: str | os.PathLike[str],
               png_path: str | os.PathLike[str],
               title: str | None = None) -> None:
    """Draw a trace written by :func:`trace` as a Gantt chart (PNG).

    A row per worker, tasks coloured by operation, data fetches hatched.
    Draws on a Figure of its own through the Agg canvas, so neither
    pyplot's figures nor matplotlib's backend change.

    Parameters
    ----------
    json_path : str or path-like
        The trace.
    png_path : str or path-like
        The image to write.
    title : str, optional
        Default: the trace's file name.

    Raises
    ------
    ImportError
        matplotlib is not installed.
    OSError, ValueError
        The trace cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     run = os.path.join(folder, "run.json")
    ...     with cb.trace(run):
    ...         (cb.ones(10_000) + 1).wait()
    ...     cb.plot_trace(run, os.path.join(folder, "run.png"))
    ...     size = os.path.getsize(os.path.join(folder, "run.png"))
    >>> size > 0
    True
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle
    except ImportError as missing:
        raise ImportError("plot_trace needs matplotlib "
                          "(pip install matplotlib)") from missing
    with open(json_path) as f:
        events = json.load(f)["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e["name"] == "thread_name"}
    rows = sorted(threads)
    index = {r: i for i, r in enumerate(rows)}
    slices = [e for e in events if e.get("ph") == "X"]
    t0 = min((e["ts"] for e in slices), default=0.0)
    ops = sorted({e["name"] for e in slices if e["cat"] == "task"})
    cmap = matplotlib.colormaps["tab20"]
    colour = {n: cmap(i % 20) for i, n in enumerate(ops)}
    fig = Figure(figsize=(12, 1.5 + 0.6 * max(len(rows), 1)))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    # One call per row and operation: a call per slice is slow.
    bars: dict[tuple[int, str, str], list[tuple[float, float]]] = {}
    for e in slices:
        y = index.get((e["pid"], e["tid"]))
        if y is not None:
            key = (y, e["cat"], e["name"])
            bars.setdefault(key, []).append(((e["ts"] - t0) / 1e3,
                                             e["dur"] / 1e3))
    for (y, cat, name), spans in bars.items():
        if cat == "transfer":
            ax.broken_barh(spans, (y - 0.175, 0.35), facecolors="none",
                           edgecolors="grey", hatch="///", linewidth=0.3)
        else:
            ax.broken_barh(spans, (y - 0.35, 0.7), facecolors=colour[name],
                           linewidth=0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{procs.get(p, '?')} / {threads[(p, t)]}"
                        for p, t in rows], fontsize=7)
    ax.set_xlabel("ms")
    ax.invert_yaxis()
    handles = [Rectangle((0, 0), 1, 1, color=colour[n]) for n in ops]
    handles.append(Rectangle((0, 0), 1, 1, facecolor="none",
                             edgecolor="grey", hatch="///"))
    ax.legend(handles, ops + ["fetch data"], fontsize=7, ncol=6,
              loc="lower center", bbox_to_anchor=(0.5, 1.02), frameon=False)
    ax.set_title(title or os.path.basename(os.fspath(json_path)), pad=24)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
