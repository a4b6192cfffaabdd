"""HTML views for notebooks: arrays, devices, graphs and statistics.

Each function returns a small self-contained HTML fragment. None of them
waits for work: an array that is still being written shows as pending.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, Mapping

import numpy as _np

if TYPE_CHECKING:
    from ._core import Array
    from ._devices import Device

__all__ = ["array_html", "device_html", "graph_html", "stats_html"]

_TABLE = ('<table style="border-collapse: collapse; font-family: '
          'monospace; font-size: 12px">')
_CELL = 'style="padding: 1px 8px; text-align: left"'


def _rows(pairs: list[tuple[str, str]]) -> str:
    """Rows of a two-column table; values are HTML already."""
    return "".join(f"<tr><th {_CELL}>{html.escape(k)}</th>"
                   f"<td {_CELL}>{v}</td></tr>" for k, v in pairs)


def _table(title: str, pairs: list[tuple[str, str]]) -> str:
    return (f"<div><b>{html.escape(title)}</b>{_TABLE}{_rows(pairs)}"
            "</table></div>")


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return (f"{nbytes:.0f} {unit}" if unit == "B"
                    else f"{nbytes:.1f} {unit}")
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # not reached


def array_html(a: Array) -> str:
    """An Array's shape, dtype, device, state and, when its data is on
    the host, a preview of it (NumPy's summary of large arrays)."""
    state, obj = a._peek()
    where = "auto" if a.device is None else a.device.filter_string
    pairs = [("shape", html.escape(str(a.shape))),
             ("dtype", html.escape(a.dtype.name)),
             ("device", html.escape(where)),
             ("size", _size(a.nbytes))]
    if state == "ready":
        pairs.append(("state", "ready"))
        preview = _np.array2string(obj, separator=", ", threshold=64,
                                   edgeitems=3)
        pairs.append(("data", f"<pre style=\"margin: 0\">"
                      f"{html.escape(preview)}</pre>"))
    elif state == "failed":
        pairs.append(("state", '<span style="color: #b00">failed: '
                      f"{html.escape(type(obj).__name__)}: "
                      f"{html.escape(str(obj))}</span>"))
    elif state == "away":
        pairs.append(("state", "ready (the data is on the device)"))
    else:
        pairs.append(("state", "pending"))
    return _table("cambrian.Array", pairs)


def device_html(d: Device) -> str:
    """A Device's properties as a table."""
    pairs = [("filter", d.filter_string), ("name", d.name),
             ("vendor", d.vendor), ("version", d.version),
             ("memory", _size(d.global_mem_bytes)),
             ("largest allocation", _size(d.max_alloc_bytes)),
             ("compute units", str(d.compute_units)),
             ("StarPU workers", str(d.nworkers)),
             ("float64", "yes" if d.fp64 else "no"),
             ("lost", "yes" if d.lost else "no")]
    return _table("cambrian.Device",
                  [(k, html.escape(v)) for k, v in pairs])


def dot_to_svg(dot: str, timeout: float = 30.0) -> str | None:
    """dot drawn as SVG by Graphviz's dot program, or None when Graphviz
    is not installed or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True,
                           text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0 or "<svg" not in r.stdout:
        return None
    return r.stdout[r.stdout.index("<svg"):]


def graph_html(dot: str, nnodes: int, ninputs: int, noutputs: int) -> str:
    """A graph as SVG (Graphviz) or, without Graphviz, as its DOT text."""
    head = (f"<div><b>cambrian.Graph</b>: {ninputs} input(s), {nnodes} "
            f"node(s), {noutputs} output(s)</div>")
    svg = dot_to_svg(dot)
    if svg is not None:
        return f"{head}<div>{svg}</div>"
    return (f"{head}<pre style=\"font-size: 11px\">{html.escape(dot)}</pre>"
            "<div><i>Install Graphviz (the dot program) to see it "
            "drawn.</i></div>")


def _grid(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th {_CELL}>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td {_CELL}>{html.escape(c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f"{_TABLE}<tr>{head}</tr>{body}</table>"


def stats_html(st: Mapping[str, Any]) -> str:
    """cambrian.stats() as three tables: workers, links, operations."""
    parts = [f"<div><b>cambrian.stats()</b> (profiling "
             f"{'on' if st.get('profiling') else 'off'})</div>"]
    workers = [[str(w["worker"]), w["name"], str(w["device"]),
                str(w["tasks"]), f"{w['busy_s']:.6f}",
                f"{w['sleeping_s']:.6f}", f"{w['total_s']:.6f}"]
               for w in st.get("workers", [])]
    parts.append(_grid(["worker", "name", "device", "tasks", "busy s",
                        "sleeping s", "total s"], workers))
    links = [[ln["src"], ln["dst"], _size(ln["bytes"]),
              str(ln["transfers"])] for ln in st.get("links", [])]
    if links:
        parts.append(_grid(["from", "to", "bytes", "transfers"], links))
    ops = [[name, str(o["tasks"]), f"{o['busy_s']:.6f}"]
           for name, o in sorted(st.get("operations", {}).items())]
    if ops:
        parts.append(_grid(["operation", "tasks", "busy s"], ops))
    return "<div>" + "".join(parts) + "</div>"
