"""Python functions as task-graph nodes.

A call of a @cambrian.task function returns at once with a Future; the
function runs later on a CPU worker, once the tasks writing its input
arrays are done, and before tasks that read what it writes. Arrays arrive
as NumPy views of their host data: read-only for cambrian.In (the default
for a bare Array), writable for cambrian.Out and cambrian.InOut. A Future
of another call passed as an argument is a dependency: the function gets
its value. An exception in the function fails the Future with TaskError,
whose __cause__ is the original exception with its traceback; tasks that
depend on it fail with DependencyError.

The worker holds the GIL only while Python code runs: functions that
release it (NumPy on large arrays) run in parallel on several workers.
The views are valid during the call only: keep copies, not the views.
"""

import functools

import numpy as _np

from . import _core
from ._creation import as_array
from ._devices import _resolve
from ._futures import Future
from .errors import TaskError

__all__ = ["task", "In", "Out", "InOut"]

_IN, _OUT, _INOUT = 1, 2, 3
_ERRORS_KEPT = 4096


class _Access:
    __slots__ = ("array",)
    mode = _IN

    def __init__(self, array):
        self.array = as_array(array)

    def __repr__(self):
        return f"{type(self).__name__}({self.array!r})"


class In(_Access):
    """Marks an argument read by a task or kernel (the default)."""
    __slots__ = ()
    mode = _IN


class Out(_Access):
    """Marks an argument written by a task or kernel. Its former content
    is not kept: write every element (use InOut otherwise)."""
    __slots__ = ()
    mode = _OUT


class InOut(_Access):
    """Marks an argument read and written by a task or kernel."""
    __slots__ = ()
    mode = _INOUT


class _Slot:
    """Where the view of array number index goes in the call."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _Dep:
    """Where the value of an earlier call or launch goes in the call."""
    __slots__ = ("future",)

    def __init__(self, future):
        self.future = future


def _own(value, views):
    """The value, with NumPy arrays that show the arrays' memory copied:
    that memory is the arrays', not the value's, once the call ends."""
    if isinstance(value, _np.ndarray):
        if any(_np.may_share_memory(value, v) for v in views):
            return value.copy()
        return value
    if type(value) in (tuple, list):
        items = [_own(x, views) for x in value]
        if any(a is not b for a, b in zip(items, value)):
            return type(value)(items)
    elif type(value) is dict:
        items = {k: _own(x, views) for k, x in value.items()}
        if any(items[k] is not x for k, x in value.items()):
            return items
    return value


class _Call:
    """One call: its function and arguments, then its value or error. The
    C side calls run() on a CPU worker with the GIL held."""

    __slots__ = ("fn", "name", "args", "kwargs", "layout", "value",
                 "error")

    def __init__(self, fn, name, args, kwargs, layout):
        self.fn, self.name = fn, name
        self.args, self.kwargs, self.layout = args, kwargs, layout
        self.value = self.error = None

    def _arg(self, x, views):
        if isinstance(x, _Slot):
            return views[x.index]
        if isinstance(x, _Dep):
            return x.future._value()
        return x

    def run(self, buffers):
        """Runs the function; returns None, or the message of its
        TaskError."""
        try:
            views = []
            for buf, (dtype, shape, mode) in zip(buffers, self.layout):
                v = _np.frombuffer(buf, dtype).reshape(shape)
                if mode == _IN:
                    v.flags.writeable = False
                views.append(v)
            args = [self._arg(x, views) for x in self.args]
            kwargs = {k: self._arg(x, views) for k, x in self.kwargs.items()}
            self.value = _own(self.fn(*args, **kwargs), views)
            return None
        except BaseException as e:  # the task's failure, whatever it is
            err = TaskError(f"task {self.name} raised "
                            f"{type(e).__name__}: {e}")
            err.__cause__ = e
            err.task = self.name
            self.error = err
            return str(err)
        finally:
            self.args = self.kwargs = None  # let go of the arrays

    def failed(self, failure_id):
        """The failure recorded for this call: later readers of it (its
        future, dependents' DependencyError) get this TaskError."""
        errors = _core.task_errors
        errors[failure_id] = self.error
        while len(errors) > _ERRORS_KEPT:
            del errors[next(iter(errors))]


class _CallFuture(Future):
    """The Future of a task call: its result is the function's value."""

    _call = None

    def _value(self):
        return self._call.value


# The bytes of a task's name that failures and traces keep.
_NAME_BYTES = 47


def _default_name(fn):
    """fn's qualified name; when that is too long, the last of its parts
    that fit, "<locals>" left out: a nested function keeps its own name.
    A name that does not fit alone is cut, with "..." to say so."""
    qual = getattr(fn, "__qualname__", None) or repr(fn)
    if len(qual.encode()) <= _NAME_BYTES:
        return qual
    parts = [p for p in qual.split(".") if p != "<locals>"]
    name = parts.pop()
    while parts and len(f"{parts[-1]}.{name}".encode()) <= _NAME_BYTES:
        name = f"{parts.pop()}.{name}"
    if len(name.encode()) > _NAME_BYTES:
        name = name.encode()[:_NAME_BYTES - 3].decode(errors="ignore") + "..."
    return name


def _task_name(name, fn):
    if name is None or name == "":
        return _default_name(fn)
    if not isinstance(name, str):
        raise TypeError(f"a task name is a string, not "
                        f"{type(name).__name__!r}")
    if "\0" in name:
        raise ValueError(f"a task name must not contain a NUL character: "
                         f"{name!r}")
    if len(name.encode()) > _NAME_BYTES:
        raise ValueError(f"task name {name!r} is too long: at most "
                         f"{_NAME_BYTES} bytes")
    return name


class TaskFunction:
    """A function whose calls become tasks (see cambrian.task)."""

    def __init__(self, fn, device=None, name=None, priority=0):
        if not callable(fn):
            raise TypeError(f"cambrian.task makes tasks of functions, not "
                            f"of {type(fn).__name__!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = _task_name(name, fn)
        self.priority = int(priority)
        dev = _resolve(device)
        if dev is not None and dev.backend != "cpu":
            raise ValueError(f"Python functions run on CPU workers, not on "
                             f"{dev.filter_string}")
        self.device = dev

    def _convert(self, x, arrays, access, layout):
        if isinstance(x, _Access):
            a, mode = x.array, x.mode
        elif isinstance(x, _core.Array):
            a, mode = x, _IN
        elif isinstance(x, Future) and isinstance(x._array, _core.Event):
            # A call's or a launch's future: its token orders the calls.
            arrays.append(x._array.token)
            access.append(_IN)
            layout.append((_np.bool_, (1,), _IN))
            return _Dep(x)
        elif isinstance(x, Future) and isinstance(x._array, _core.Array):
            a, mode = x._array, _IN
        else:
            return x
        arrays.append(a)
        access.append(mode)
        layout.append((a.dtype, a.shape, mode))
        return _Slot(len(arrays) - 1)

    def __call__(self, *args, **kwargs):
        arrays, access, layout = [], [], []
        targs = [self._convert(x, arrays, access, layout) for x in args]
        tkw = {k: self._convert(x, arrays, access, layout)
               for k, x in kwargs.items()}
        call = _Call(self.fn, self.name, targs, tkw, layout)
        dev = -1 if self.device is None else self.device._id
        event = _core.task_submit(call, arrays, access, self.name,
                                  self.priority, dev)
        fut = _CallFuture(event)
        fut._call = call
        return fut

    def __repr__(self):
        return f"<cambrian.task {self.name}>"


def task(fn=None, *, device=None, name=None, priority=0):
    """Make fn's calls tasks of the graph: ``@cambrian.task`` or
    ``@cambrian.task(device="cpu", name=..., priority=...)``. A call
    returns a cambrian.Future of the function's value."""
    if fn is None:
        return lambda f: TaskFunction(f, device, name, priority)
    return TaskFunction(fn, device, name, priority)
