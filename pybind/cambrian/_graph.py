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

import numpy as _np

from . import _core
from ._creation import as_array, asarray
from ._devices import _placement, _resolve
from ._graph_map import map_batches

__all__ = ["Graph"]

_KINDS = ("input", "constant", "node")


class Value:
    """A value of a graph being recorded: an input, or a node's result."""

    __slots__ = ("_graph", "_id", "shape", "dtype")
    __array_ufunc__ = None  # NumPy's operators defer to ours

    def __init__(self, graph, vid, shape, dtype):
        self._graph, self._id = graph, vid
        self.shape, self.dtype = tuple(shape), _np.dtype(dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(_np.prod(self.shape, dtype=_np.int64))

    def __repr__(self):
        return (f"<cambrian graph value {self._id}: {self.dtype.name} "
                f"{self.shape}>")

    def __bool__(self):
        raise TypeError("a graph value has no truth value before a run")

    def astype(self, dtype):
        return self._graph._ewise("cast", (self,), dtype)

    @property
    def T(self):
        return self._graph._apply("transpose", (self,))

    def dot(self, other):
        return self._graph._apply("dot", (self, other))

    def __matmul__(self, other):
        return self._graph._apply("matmul", (self, other))

    def __rmatmul__(self, other):
        return self._graph._apply("matmul", (other, self))

    __hash__ = object.__hash__


def _reduction(name):
    def method(self, axis=None):
        return self._graph._apply(name, (self,), axis)
    method.__name__ = name
    return method


for _name in ("sum", "min", "max", "mean", "norm"):
    setattr(Value, _name, _reduction(_name))


def _binop(name, reflected=False):
    def method(self, other):
        args = (other, self) if reflected else (self, other)
        return self._graph._ewise(name, args)
    return method


def _unop(name):
    def method(self):
        return self._graph._ewise(name, (self,))
    return method


for _name, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                   ("truediv", "divide"), ("pow", "power")):
    setattr(Value, f"__{_name}__", _binop(_op))
    setattr(Value, f"__r{_name}__", _binop(_op, True))
for _name, _op in (("lt", "less"), ("le", "less_equal"),
                   ("gt", "greater"), ("ge", "greater_equal"),
                   ("eq", "equal"), ("ne", "not_equal")):
    setattr(Value, f"__{_name}__", _binop(_op))
Value.__neg__ = _unop("negative")
Value.__abs__ = _unop("absolute")


def _operand_edges(values, nodes):
    """(value id, kind of value, node that makes it, node that reads it)
    for every operand of every node that is a value, not a scalar; values
    and nodes as _core.graph_info gives them."""
    for i, (op, ids, res) in enumerate(nodes):
        for v in ids:
            if v >= 0:
                yield v, _KINDS[values[v][0]], values[v][1], i


def record(op_name, args):
    """The recorded result when an argument is a graph value, else None
    (the eager call's error stands)."""
    for a in args:
        if isinstance(a, Value):
            return a._graph._ewise(op_name, args)
    return None


_OP = {name: i for i, name in enumerate(_core.OPS)}


class Graph:
    """A captured pipeline of array operations (see the module)."""

    def __init__(self):
        self._cap = _core.graph_new()
        self._inputs = []          # (name, Value)
        self._outputs = []         # (name, Value)
        self._consts = {}          # id(Array) -> (Array, value id)
        self._recording = False
        self._sealed = False
        self.max_in_flight = 0     # the most batches map() had in flight

    # ---- recording ----------------------------------------------------

    def __enter__(self):
        if self._sealed:
            raise RuntimeError("this graph is recorded already")
        self._recording = True
        return self

    def __exit__(self, exc_type, exc, tb):
        self._recording = False
        if exc_type is None:
            self._seal()

    def _check_recording(self):
        if not self._recording:
            raise RuntimeError("record inside 'with cambrian.Graph() as g:'")

    def input(self, name, shape, dtype=_np.float64):
        """A named input of the given shape and dtype."""
        self._check_recording()
        if any(n == name for n, _ in self._inputs):
            raise ValueError(f"the graph has an input named {name!r}")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = _np.dtype(dtype)
        try:
            vid = _core.graph_input(self._cap, dtype, shape)
        except ValueError as e:
            raise ValueError(f"input {name!r}: {e}") from None
        v = Value(self, vid, shape, dtype)
        self._inputs.append((name, v))
        return v

    def output(self, name, value):
        """Names value an output of every run."""
        self._check_recording()
        if not isinstance(value, Value) or value._graph is not self:
            raise TypeError("an output must be a value of this graph")
        if any(n == name for n, _ in self._outputs):
            raise ValueError(f"the graph has an output named {name!r}")
        _core.graph_output(self._cap, value._id)
        self._outputs.append((name, value))

    def _operand(self, x):
        if isinstance(x, Value):
            if x._graph is not self:
                raise ValueError("a value of another graph")
            return (x._id,)
        if isinstance(x, (bool, int, float, _np.generic)):
            return x
        x = as_array(x)
        entry = self._consts.get(id(x))
        if entry is None:
            entry = self._consts[id(x)] = (x, _core.graph_constant(self._cap,
                                                                   x))
        return (entry[1],)

    def _ewise(self, op_name, args, out_dtype=None):
        self._check_recording()
        operands = tuple(self._operand(a) for a in args)
        vid = _core.graph_ewise(self._cap, _OP[op_name], operands, out_dtype)
        dtype, shape = _core.graph_value(self._cap, vid)
        return Value(self, vid, shape, dtype)

    def _apply(self, name, args, axis=None):
        """Records a reduction, dot, matmul or transpose node."""
        self._check_recording()
        ids = []
        for a in args:
            if isinstance(a, (bool, int, float, _np.generic)):
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

    def _seal(self):
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
        self._sealed = True

    # ---- introspection -----------------------------------------------

    @property
    def nodes(self):
        """Nodes in recorded order: {"id", "op", "inputs" (value ids; -1 a
        scalar), "output" (value id), "shape", "dtype"}."""
        values, nodes = _core.graph_info(self._cap)
        return [dict(id=i, op=op, inputs=list(ids), output=res,
                     shape=values[res][3], dtype=values[res][2])
                for i, (op, ids, res) in enumerate(nodes)]

    @property
    def edges(self):
        """(source, node, value id): source is a node id, or an input's
        name, or "constant"."""
        values, nodes = _core.graph_info(self._cap)
        names = {v._id: n for n, v in self._inputs}
        return [(node if kind == "node" else names.get(v, "constant"), i, v)
                for v, kind, node, i in _operand_edges(values, nodes)]

    def to_dot(self, path=None, device=None):
        """The graph in Graphviz's DOT language (written to path when
        given): inputs, constants, nodes labelled with their operation,
        shape, dtype and device; edges with the data they carry."""
        values, nodes = _core.graph_info(self._cap)
        where = "auto" if device is None else str(device)
        names = {v._id: n for n, v in self._inputs}
        outs = {v._id: n for n, v in self._outputs}

        def desc(v):
            return f"{values[v][2]} {tuple(values[v][3])}"

        def source(v):
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

    def _arrays(self, inputs, device):
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

    def run(self, device=None, **inputs):
        """Runs the graph once over the named inputs (Arrays, or buffers
        used without a copy); returns {output name: Array} at once."""
        if not self._sealed:
            raise RuntimeError("record the graph first (leave its 'with')")
        dev = _placement(device)
        arrays = self._arrays(inputs, dev if device is not None else None)
        outs = _core.graph_run(self._cap, arrays, len(self._outputs), dev)
        return {name: a for (name, _), a in zip(self._outputs, outs)}

    def estimate(self, device=None, **inputs):
        """The graph's cost from StarPU's performance models, for inputs
        like these on device (None: the CPU workers): {"node_us": time of
        each node, its tiles spread over the device's workers;
        "total_work_us": every task's time added up; "critical_path_us":
        the longest chain of nodes; "unknown_nodes": nodes whose model has
        no measurement yet (NaN in node_us: run the graph, or
        python -m cambrian calibrate, first)}."""
        if not self._sealed:
            raise RuntimeError("record the graph first (leave its 'with')")
        dev = _resolve(device)
        arrays = self._arrays(inputs, None)
        times, total, critical, unknown = _core.graph_estimate(
            self._cap, arrays, dev)
        return dict(node_us=times, total_work_us=total,
                    critical_path_us=critical, unknown_nodes=unknown)

    def map(self, batches, in_flight=2, progress=False, ordered=True,
            stop_on_error=False, device=None):
        """Runs the graph over each batch (a dict of inputs, or the one
        input's data when the graph has one input), at most in_flight at
        once: batch i + 1 is submitted, so its data moves, while batch i
        computes. Yields (index, {output: Array}) with the outputs done,
        in order (ordered=False: as they finish). A failed batch does not
        stop the others unless stop_on_error; after the last, the failures
        are raised as an ExceptionGroup, each with .batch_index. Nothing
        is printed unless progress=True asks for a progress line on stderr
        (tqdm's when it is installed)."""
        if in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        return map_batches(self, batches, in_flight, progress, ordered,
                           stop_on_error, device)

