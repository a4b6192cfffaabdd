"""Graphs: a pipeline captured once, replayed over many inputs.

    with cambrian.Graph() as g:
        x = g.input("x", (n,), cambrian.float32)
        g.output("y", cambrian.sqrt(x * x + 1.0))
    outs = g.run(x=data)                     # {"y": Array}
    for i, outs in g.map(batches, in_flight=2):
        ...

Inside the block, operations on the graph's values (what g.input returns,
and what operations on them return) record nodes instead of running;
Arrays and scalars they meet become constants of the graph. Dtypes and
shapes are checked as each node is recorded, with the rules of the eager
operations; leaving the block checks that every input reaches an output.
A run submits every node in one call, with the GIL released, as the same
tasks the eager calls would make, and returns new Arrays: runs may
overlap. Element-wise operations (operators, cambrian.add ... where,
astype), reductions (sum, min, max, mean, norm, dot), matmul (@) and
transposes (.T) record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Union

import numpy as _np
import numpy.typing as npt

from . import _core
from ._creation import _shape, _tiles, as_array, asarray
from ._devices import _placement, _resolve
from ._graph_map import map_batches

if TYPE_CHECKING:
    from typing import TypeAlias

    from ._core import Array
    from ._devices import Device

__all__ = ["Graph", "Value"]

_KINDS = ("input", "constant", "node")

#: What a graph value's operators take besides values: Arrays, scalars and
#: buffers, which become constants of the graph.
_Other: TypeAlias = Union["Value", "Array", bool, int, float, complex,
                          _np.generic, npt.NDArray[Any]]


class Value:
    """A value of a graph being recorded: an input, or a node's result.

    Operations on values record nodes instead of running: the operators
    (``+ - * / **``, comparisons, unary ``-``, ``abs``, ``@``), the
    cambrian functions (add ... where, reductions, matmul, transpose),
    ``astype``, ``.T`` and the reduction methods.

    Attributes
    ----------
    shape : tuple of int
    dtype : numpy.dtype
    """

    __slots__ = ("_graph", "_id", "shape", "dtype")
    __array_ufunc__ = None  # NumPy's operators defer to ours

    def __init__(self, graph: Graph, vid: int, shape: Iterable[int],
                 dtype: npt.DTypeLike) -> None:
        self._graph, self._id = graph, vid
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype: _np.dtype[Any] = _np.dtype(dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(_np.prod(self.shape, dtype=_np.int64))

    def __repr__(self) -> str:
        return (f"<cambrian graph value {self._id}: {self.dtype.name} "
                f"{self.shape}>")

    def __bool__(self) -> NoReturn:
        raise TypeError("a graph value has no truth value before a run")

    def astype(self, dtype: npt.DTypeLike) -> Value:
        """Records a conversion to dtype."""
        return self._graph._ewise("cast", (self,), dtype)

    @property
    def T(self) -> Value:
        """Records a transpose."""
        return self._graph._apply("transpose", (self,))

    def dot(self, other: _Other) -> Value:
        """Records a dot product."""
        return self._graph._product("dot", self, other)

    def __matmul__(self, other: _Other) -> Value:
        return self._graph._product("matmul", self, other)

    def __rmatmul__(self, other: _Other) -> Value:
        return self._graph._product("matmul", other, self)

    def _reduce(self, name: str, axis: int | None) -> Value:
        return self._graph._apply(name, (self,), axis)

    def sum(self, axis: int | None = None) -> Value:
        """Records a sum (see cambrian.sum)."""
        return self._reduce("sum", axis)

    def min(self, axis: int | None = None) -> Value:
        """Records a minimum (see cambrian.min)."""
        return self._reduce("min", axis)

    def max(self, axis: int | None = None) -> Value:
        """Records a maximum (see cambrian.max)."""
        return self._reduce("max", axis)

    def mean(self, axis: int | None = None) -> Value:
        """Records a mean (see cambrian.mean)."""
        return self._reduce("mean", axis)

    def norm(self, axis: int | None = None) -> Value:
        """Records a Euclidean norm (see cambrian.norm)."""
        return self._reduce("norm", axis)

    def _op(self, name: str, *args: object) -> Value:
        return self._graph._ewise(name, args)

    def __add__(self, other: _Other) -> Value:
        return self._op("add", self, other)

    def __radd__(self, other: _Other) -> Value:
        return self._op("add", other, self)

    def __sub__(self, other: _Other) -> Value:
        return self._op("subtract", self, other)

    def __rsub__(self, other: _Other) -> Value:
        return self._op("subtract", other, self)

    def __mul__(self, other: _Other) -> Value:
        return self._op("multiply", self, other)

    def __rmul__(self, other: _Other) -> Value:
        return self._op("multiply", other, self)

    def __truediv__(self, other: _Other) -> Value:
        return self._op("divide", self, other)

    def __rtruediv__(self, other: _Other) -> Value:
        return self._op("divide", other, self)

    def __pow__(self, other: _Other) -> Value:
        return self._op("power", self, other)

    def __rpow__(self, other: _Other) -> Value:
        return self._op("power", other, self)

    def __lt__(self, other: _Other) -> Value:
        return self._op("less", self, other)

    def __le__(self, other: _Other) -> Value:
        return self._op("less_equal", self, other)

    def __gt__(self, other: _Other) -> Value:
        return self._op("greater", self, other)

    def __ge__(self, other: _Other) -> Value:
        return self._op("greater_equal", self, other)

    def __eq__(self, other: object) -> Value:  # type: ignore[override]
        return self._op("equal", self, other)

    def __ne__(self, other: object) -> Value:  # type: ignore[override]
        return self._op("not_equal", self, other)

    def __neg__(self) -> Value:
        return self._op("negative", self)

    def __abs__(self) -> Value:
        return self._op("absolute", self)

    __hash__ = object.__hash__


def _operand_edges(values: list[tuple[int, int, str, tuple[int, ...], bool]],
                   nodes: list[tuple[str, tuple[int, ...], int]]
                   ) -> Iterator[tuple[int, str, int, int]]:
    """(value id, kind of value, node that makes it, node that reads it)
    for every operand of every node that is a value, not a scalar; values
    and nodes as _core.graph_info gives them."""
    for i, (op, ids, res) in enumerate(nodes):
        for v in ids:
            if v >= 0:
                yield v, _KINDS[values[v][0]], values[v][1], i


def record(op_name: str, args: tuple[object, ...]) -> Value | None:
    """The recorded result when an argument is a graph value, else None
    (the eager call's error stands)."""
    for a in args:
        if isinstance(a, Value):
            return a._graph._ewise(op_name, args)
    return None


_OP = {name: i for i, name in enumerate(_core.OPS)}


class Graph:
    """A pipeline of array operations, recorded once and run many times.

    Inside ``with cb.Graph() as g:``, operations on the graph's values
    (what :meth:`input` returns, and what operations on them return)
    record nodes instead of running; Arrays and scalars they meet become
    constants. Dtypes and shapes are checked as each node is recorded;
    leaving the block checks that every input reaches an output.

    Parameters
    ----------
    tile_size : int, optional
        Elements per tile of the arrays a run makes from its inputs that
        are not Arrays yet (and so of everything computed from them),
        instead of the device's choice (see :func:`tile_size`): one large
        tile per batch for a GPU, say.
    fuse : bool, optional
        Default True: chains of element-wise operations over arrays of
        one shape (and 0-D arrays, and rows repeated along the leading
        dimensions) run as one task per tile, whose kernel computes every
        step of an element in registers, instead of one task per
        operation and tile, each reading and writing memory. Each step
        computes as its operation alone would, so values are the same
        either way. Steps over complex values, casts from floats to
        integers and other broadcasts are not fused; a
        chain reads at most 3 arrays from outside itself and has at most
        32 steps.

    Attributes
    ----------
    max_in_flight : int
        The most batches the last :meth:`map` had in flight.
    fused_groups : tuple of int
        Once recorded: for each node, the fused group that runs it, or
        -1 when it runs alone.

    Examples
    --------
    >>> with cb.Graph() as g:
    ...     x = g.input("x", (4,), cb.float32)
    ...     g.output("y", cb.sqrt(x * x + 1.0) * 0.5)
    >>> g
    <cambrian.Graph: 1 input(s) ['x'], 4 node(s), 1 output(s) ['y']>
    >>> g.run(x=np.zeros(4, np.float32))["y"].numpy()
    array([0.5, 0.5, 0.5, 0.5], dtype=float32)
    """

    def __init__(self, tile_size: int | None = None,
                 fuse: bool = True) -> None:
        if tile_size is not None:
            with _tiles(tile_size):  # checks it
                pass
        self._tile_size = tile_size
        self._fuse = bool(fuse)
        self.fused_groups: tuple[int, ...] = ()
        self._cap = _core.graph_new()
        self._inputs: list[tuple[str, Value]] = []
        self._outputs: list[tuple[str, Value]] = []
        # id(Array) -> (Array, value id)
        self._consts: dict[int, tuple[Array, int]] = {}
        self._recording = False
        self._sealed = False
        self.max_in_flight = 0     # the most batches map() had in flight

    # ---- recording ----------------------------------------------------

    def __repr__(self) -> str:
        nodes = len(_core.graph_info(self._cap)[1])
        ins = [n for n, _ in self._inputs]
        outs = [n for n, _ in self._outputs]
        state = "" if self._sealed or not self._recording else " recording"
        return (f"<cambrian.Graph{state}: {len(ins)} input(s) {ins}, "
                f"{nodes} node(s), {len(outs)} output(s) {outs}>")

    def _repr_html_(self) -> str:
        from ._display import graph_html
        return graph_html(self.to_dot(), len(_core.graph_info(self._cap)[1]),
                          len(self._inputs), len(self._outputs))

    def __enter__(self) -> Graph:
        if self._sealed:
            raise RuntimeError("this graph is recorded already")
        self._recording = True
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._recording = False
        if exc_type is None:
            self._seal()

    def _check_recording(self) -> None:
        if not self._recording:
            raise RuntimeError("record inside 'with cambrian.Graph() as g:'")

    def input(self, name: str, shape: int | tuple[int, ...],
              dtype: npt.DTypeLike = _np.float64) -> Value:
        """A named input of the given shape and dtype.

        Parameters
        ----------
        name : str
            The keyword that :meth:`run` takes it by.
        shape : int or tuple of int
            Up to 8 dimensions.
        dtype : dtype, optional
            Default float64.

        Returns
        -------
        Value

        Raises
        ------
        RuntimeError
            Not inside the graph's ``with`` block.
        ValueError
            The name is taken, or the shape is not supported.
        """
        self._check_recording()
        if any(n == name for n, _ in self._inputs):
            raise ValueError(f"the graph has an input named {name!r}")
        shape = _shape(shape)
        dtype = _np.dtype(dtype)
        try:
            vid = _core.graph_input(self._cap, dtype, shape)
        except ValueError as e:
            raise ValueError(f"input {name!r}: {e}") from None
        v = Value(self, vid, shape, dtype)
        self._inputs.append((name, v))
        return v

    def output(self, name: str, value: Value) -> None:
        """Names value an output of every run.

        Parameters
        ----------
        name : str
            The key of the dict that :meth:`run` returns.
        value : Value
            A value of this graph.

        Raises
        ------
        RuntimeError
            Not inside the graph's ``with`` block.
        TypeError
            value is not a value of this graph.
        ValueError
            The name is taken.
        """
        self._check_recording()
        if not isinstance(value, Value) or value._graph is not self:
            raise TypeError("an output must be a value of this graph")
        if any(n == name for n, _ in self._outputs):
            raise ValueError(f"the graph has an output named {name!r}")
        _core.graph_output(self._cap, value._id)
        self._outputs.append((name, value))

    def _operand(self, x: object) -> Any:
        if isinstance(x, Value):
            if x._graph is not self:
                raise ValueError("a value of another graph")
            return (x._id,)
        if isinstance(x, (bool, int, float, complex, _np.generic)):
            return x
        x = as_array(x)
        entry = self._consts.get(id(x))
        if entry is None:
            entry = self._consts[id(x)] = (x, _core.graph_constant(self._cap,
                                                                   x))
        return (entry[1],)

    def _ewise(self, op_name: str, args: tuple[object, ...],
               out_dtype: npt.DTypeLike | None = None) -> Value:
        self._check_recording()
        operands = tuple(self._operand(a) for a in args)
        vid = _core.graph_ewise(self._cap, _OP[op_name], operands, out_dtype)
        dtype, shape = _core.graph_value(self._cap, vid)
        return Value(self, vid, shape, dtype)

    def _product(self, name: str, a: object, b: object) -> Value:
        """Records a dot or matmul node; of two float16 operands, in
        float32 and rounded back, as outside graphs."""
        ops: tuple[Any, ...] = (a, b)
        if all(getattr(x, "dtype", None) == _np.float16 for x in ops):
            return self._apply(name, tuple(x.astype(_np.float32)
                                           for x in ops)).astype(_np.float16)
        return self._apply(name, ops)

    def _apply(self, name: str, args: tuple[object, ...],
               axis: int | None = None) -> Value:
        """Records a reduction, dot, matmul or transpose node."""
        self._check_recording()
        ids = []
        for a in args:
            if isinstance(a, (bool, int, float, complex, _np.generic)):
                raise ValueError(f"{name}: operands must be arrays, not "
                                 f"scalars (use * for scalars)")
            ids.append(self._operand(a)[0])
        if axis is None:
            axis = -1
        else:
            ndim = len(_core.graph_value(self._cap, ids[0])[1])
            if isinstance(axis, bool) or not isinstance(axis, int):
                raise TypeError(f"axis must be None or an integer, not "
                                f"{type(axis).__name__!r}")
            if not -ndim <= axis < ndim:
                raise ValueError(f"axis {axis} is out of bounds for array "
                                 f"of dimension {ndim}")
            axis %= ndim
        vid = _core.graph_apply(self._cap, name, tuple(ids), axis)
        dtype, shape = _core.graph_value(self._cap, vid)
        return Value(self, vid, shape, dtype)

    def _seal(self) -> None:
        if not self._outputs:
            raise ValueError("the graph has no output: call g.output()")
        values, nodes = _core.graph_info(self._cap)
        reached = {v._id for _, v in self._outputs}
        for op, ids, result in reversed(nodes):
            if result in reached:
                reached.update(i for i in ids if i >= 0)
        unused = [n for n, v in self._inputs if v._id not in reached]
        if unused:
            raise ValueError(f"inputs {unused} reach no output")
        if self._fuse:
            self.fused_groups = _core.graph_fuse(self._cap)
        else:
            self.fused_groups = (-1,) * len(nodes)
        self._sealed = True

    # ---- introspection -----------------------------------------------

    @property
    def nodes(self) -> list[dict[str, Any]]:
        """Nodes in recorded order: {"id", "op", "inputs" (value ids; -1 a
        scalar), "output" (value id), "shape", "dtype"}."""
        values, nodes = _core.graph_info(self._cap)
        return [dict(id=i, op=op, inputs=list(ids), output=res,
                     shape=values[res][3], dtype=values[res][2])
                for i, (op, ids, res) in enumerate(nodes)]

    @property
    def edges(self) -> list[tuple[int | str, int, int]]:
        """(source, node, value id): source is a node id, or an input's
        name, or "constant"."""
        values, nodes = _core.graph_info(self._cap)
        names = {v._id: n for n, v in self._inputs}
        return [(node if kind == "node" else names.get(v, "constant"), i, v)
                for v, kind, node, i in _operand_edges(values, nodes)]

    def to_dot(self, path: str | None = None,
               device: str | Device | None = None) -> str:
        """The graph in Graphviz's DOT language.

        Inputs, constants, nodes labelled with their operation, shape,
        dtype and device; edges with the data they carry. In a notebook,
        a Graph shows itself drawn (when Graphviz's dot is installed).

        Parameters
        ----------
        path : str, optional
            A file to write it to as well.
        device : str or Device, optional
            The device the labels name (default "auto").

        Returns
        -------
        str
            The DOT text.

        Examples
        --------
        >>> with cb.Graph() as g:
        ...     x = g.input("x", 3)
        ...     g.output("y", x + 1)
        >>> print(g.to_dot().splitlines()[0])
        digraph cambrian {
        """
        values, nodes = _core.graph_info(self._cap)
        where = "auto" if device is None else str(device)
        names = {v._id: n for n, v in self._inputs}
        outs = {v._id: n for n, v in self._outputs}

        def desc(v: int) -> str:
            return f"{values[v][2]} {tuple(values[v][3])}"

        def source(v: int) -> str:
            kind, node = _KINDS[values[v][0]], values[v][1]
            return f"n{node}" if kind == "node" else f"v{v}"
        lines = ["digraph cambrian {", "  rankdir=LR;",
                 '  node [fontname="Helvetica", fontsize=10];']
        for v, (kind, node, dtype, shape, output) in enumerate(values):
            if _KINDS[kind] == "input":
                lines.append(f'  v{v} [shape=ellipse, label="{names[v]}\\n'
                             f'{desc(v)}"];')
            elif _KINDS[kind] == "constant":
                lines.append(f'  v{v} [shape=box, style=dashed, '
                             f'label="constant\\n{desc(v)}"];')
        for i, (op, ids, res) in enumerate(nodes):
            lines.append(f'  n{i} [shape=box, style=rounded, label="'
                         f'{op}\\n{desc(res)}\\n{where}"];')
        # Each fused group as a cluster: one task per tile runs it.
        groups: dict[int, list[int]] = {}
        for i, k in enumerate(self.fused_groups):
            if k >= 0:
                groups.setdefault(k, []).append(i)
        for k, members in groups.items():
            lines.append(f'  subgraph cluster_fused{k} {{ label="fused"; '
                         f'style=dashed; '
                         + " ".join(f"n{i};" for i in members) + " }")
        for v, _, _, i in _operand_edges(values, nodes):
            lines.append(f'  {source(v)} -> n{i} [label="{desc(v)}"];')
        for v, name in outs.items():
            lines.append(f'  out{v} [shape=ellipse, label="{name}"];')
            lines.append(f'  {source(v)} -> out{v} [label="{desc(v)}"];')
        lines.append("}")
        text = "\n".join(lines) + "\n"
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text

    # ---- running ------------------------------------------------------

    def _arrays(self, inputs: Mapping[str, Any],
                device: Device | None) -> list[Array]:
        missing = [n for n, _ in self._inputs if n not in inputs]
        extra = [k for k in inputs if k not in dict(self._inputs)]
        if missing or extra:
            raise TypeError(f"the graph's inputs are "
                            f"{[n for n, _ in self._inputs]}; missing "
                            f"{missing}, unknown {extra}")
        out = []
        for name, v in self._inputs:
            a = inputs[name]
            if not isinstance(a, _core.Array) or device is not None:
                # Placed on a device, it starts moving there now.
                a = asarray(a, dtype=v.dtype, device=device)
            if a.dtype != v.dtype or a.shape != v.shape:
                raise ValueError(f"input {name!r}: the graph takes "
                                 f"{v.dtype.name} {v.shape}, got "
                                 f"{a.dtype.name} {a.shape}")
            out.append(a)
        return out

    def run(self, device: str | Device | None = None,
            **inputs: Any) -> dict[str, Array]:
        """Run the graph once over the named inputs; returns at once.

        Every node is submitted from C in one call, with the GIL
        released, as the tasks the eager calls would make; runs overlap.

        Parameters
        ----------
        device : str or Device, optional
            Where the run's work goes (default: where the inputs are, or
            the default device); inputs are moved there.
        **inputs : Array or array_like
            One per input, by name (buffers are used without a copy).

        Returns
        -------
        dict of str to Array
            The outputs, by name, written asynchronously.

        Raises
        ------
        RuntimeError
            The graph is still being recorded.
        TypeError
            An input is missing or unknown.
        ValueError
            An input's dtype or shape differs from the graph's.

        Examples
        --------
        >>> with cb.Graph() as g:
        ...     x = g.input("x", 3, cb.int64)
        ...     g.output("twice", x * 2)
        >>> g.run(x=cb.arange(3))["twice"].numpy()
        array([0, 2, 4])
        """
        if not self._sealed:
            raise RuntimeError("record the graph first (leave its 'with')")
        dev = _placement(device)
        with _tiles(self._tile_size):
            arrays = self._arrays(inputs, dev if device is not None else None)
            outs = _core.graph_run(self._cap, arrays, len(self._outputs),
                                   dev)
        return {name: a for (name, _), a in zip(self._outputs, outs)}

    def estimate(self, device: str | Device | None = None,
                 **inputs: Any) -> dict[str, Any]:
        """The graph's cost from StarPU's performance models.

        Parameters
        ----------
        device : str or Device, optional
            The device to price it on (None: the CPU workers).
        **inputs : Array or array_like
            Inputs like those of a run (their sizes count).

        Returns
        -------
        dict
            "node_us": each node's time, its tiles spread over the
            device's workers (a fused group's at its last node, its
            other nodes 0); "total_work_us": every task's time added
            up; "critical_path_us": the longest chain of nodes;
            "unknown_nodes": nodes whose model has no measurement yet
            (NaN in node_us: run the graph, or ``python -m cambrian
            calibrate``, first).

        Raises
        ------
        RuntimeError
            The graph is still being recorded.
        """
        if not self._sealed:
            raise RuntimeError("record the graph first (leave its 'with')")
        dev = _resolve(device)
        arrays = self._arrays(inputs, None)
        times, total, critical, unknown = _core.graph_estimate(
            self._cap, arrays, dev)
        return dict(node_us=times, total_work_us=total,
                    critical_path_us=critical, unknown_nodes=unknown)

    def map(self, batches: Iterable[Any], in_flight: int = 4,
            progress: bool = False, ordered: bool = True,
            stop_on_error: bool = False,
            device: str | Device | None = None,
            to_host: bool | None = None
            ) -> Iterator[tuple[int, dict[str, Array]]]:
        """Run the graph over each batch, at most in_flight at once.

        Batch i + 1 is submitted, so its data moves, while batch i
        computes; memory stays bounded.

        Parameters
        ----------
        batches : iterable
            Each a dict of inputs, or the one input's data when the graph
            has one input.
        in_flight : int, optional
            Batches submitted and not yet yielded (default 4: on a GPU
            one moving in, one computing and one moving out at once,
            with one to spare).
        progress : bool, optional
            A progress line on stderr (tqdm's when installed).
        ordered : bool, optional
            Yield in order (default) or as batches finish.
        stop_on_error : bool, optional
            Raise the first failure at once, instead of after the last.
        device : str or Device, optional
            Where the runs go.
        to_host : bool, optional
            Bring each batch's outputs back to the host as soon as they
            are written, while later batches move in and compute, so
            that reading them waits for no copy. Default: for batches
            given as host data (NumPy arrays, buffers), not for batches
            of cambrian Arrays (their outputs stay where they were made).

        Yields
        ------
        (int, dict of str to Array)
            The batch's index and its outputs, done.

        Raises
        ------
        ExceptionGroup
            After the last batch: the failures, each with .batch_index.
        ValueError
            in_flight is below 1.

        Examples
        --------
        >>> with cb.Graph() as g:
        ...     x = g.input("x", 2)
        ...     g.output("y", x + 1)
        >>> [float(outs["y"].sum()) for i, outs in
        ...  g.map([np.zeros(2), np.ones(2)])]
        [2.0, 4.0]
        """
        if in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        return map_batches(self, batches, in_flight, progress, ordered,
                           stop_on_error, device, to_host)

