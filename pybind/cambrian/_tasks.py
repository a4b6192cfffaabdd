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

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as _np

from . import _core
from ._creation import as_array
from ._devices import _resolve
from ._futures import Future
from .errors import TaskError

if TYPE_CHECKING:
    from ._core import Array
    from ._devices import Device

__all__ = ["task", "In", "Out", "InOut", "TaskFunction"]

_R = TypeVar("_R")

_IN, _OUT, _INOUT = 1, 2, 3
_ERRORS_KEPT = 4096


class _Access:
    __slots__ = ("array",)
    mode = _IN

    def __init__(self, array: Any) -> None:
        self.array: Array = as_array(array)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.array!r})"


class In(_Access):
    """Marks an argument read by a task or kernel (the default for a bare
    Array).

    Parameters
    ----------
    array : Array or array_like
        The array (a buffer becomes an Array without a copy).

    Examples
    --------
    >>> @cb.task
    ... def total(x):
    ...     return float(x.sum())
    >>> total(cb.In(cb.ones(4))).result()
    4.0
    """
    __slots__ = ()
    mode = _IN


class Out(_Access):
    """Marks an argument written by a task or kernel.

    Its former content is not kept: write every element (use InOut
    otherwise). A task gets it as a writable NumPy view.

    Parameters
    ----------
    array : Array
        The array written.

    Examples
    --------
    >>> @cb.task
    ... def fill(out):
    ...     out[:] = 7
    >>> b = cb.empty(3)
    >>> fill(cb.Out(b)).result()
    >>> b.numpy()
    array([7., 7., 7.])
    """
    __slots__ = ()
    mode = _OUT


class InOut(_Access):
    """Marks an argument read and written by a task or kernel.

    Parameters
    ----------
    array : Array
        The array updated in place.

    Examples
    --------
    >>> @cb.task
    ... def double(x):
    ...     x *= 2
    >>> a = cb.ones(2)
    >>> double(cb.InOut(a)).result()
    >>> a.numpy()
    array([2., 2.])
    """
    __slots__ = ()
    mode = _INOUT


class _Slot:
    """Where the view of array number index goes in the call."""
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Dep:
    """Where the value of an earlier call or launch goes in the call."""
    __slots__ = ("future",)

    def __init__(self, future: Future[Any]) -> None:
        self.future = future


def _own(value: Any, views: Sequence[_np.ndarray[Any, Any]]) -> Any:
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
        owned = {k: _own(x, views) for k, x in value.items()}
        if any(owned[k] is not x for k, x in value.items()):
            return owned
    return value


class _Call:
    """One call: its function and arguments, then its value or error. The
    C side calls run() on a CPU worker with the GIL held."""

    __slots__ = ("fn", "name", "args", "kwargs", "layout", "value",
                 "error")

    def __init__(self, fn: Callable[..., Any], name: str,
                 args: list[Any], kwargs: dict[str, Any],
                 layout: list[tuple[Any, tuple[int, ...], int]]) -> None:
        self.fn, self.name = fn, name
        self.args: list[Any] | None = args
        self.kwargs: dict[str, Any] | None = kwargs
        self.layout = layout
        self.value: Any = None
        self.error: TaskError | None = None

    def _arg(self, x: Any, views: list[_np.ndarray[Any, Any]]) -> Any:
        if isinstance(x, _Slot):
            return views[x.index]
        if isinstance(x, _Dep):
            return x.future._value()
        return x

    def run(self, buffers: Sequence[Any]) -> str | None:
        """Runs the function; returns None, or the message of its
        TaskError."""
        try:
            views = []
            for buf, (dtype, shape, mode) in zip(buffers, self.layout):
                v = _np.frombuffer(buf, dtype).reshape(shape)
                if mode == _IN:
                    v.flags.writeable = False
                views.append(v)
            assert self.args is not None and self.kwargs is not None
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

    def failed(self, failure_id: int) -> None:
        """The failure recorded for this call: later readers of it (its
        future, dependents' DependencyError) get this TaskError."""
        errors = _core.task_errors
        errors[failure_id] = self.error  # type: ignore[assignment]
        while len(errors) > _ERRORS_KEPT:
            del errors[next(iter(errors))]


class _CallFuture(Future[_R]):
    """The Future of a task call: its result is the function's value."""

    _call: _Call | None = None

    def _value(self) -> Any:
        assert self._call is not None
        return self._call.value


# The bytes of a task's name that failures and traces keep.
_NAME_BYTES = 47


def _default_name(fn: Callable[..., Any]) -> str:
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


def _task_name(name: object, fn: Callable[..., Any]) -> str:
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


class TaskFunction(Generic[_R]):
    """A function whose calls become tasks (see :func:`cambrian.task`).

    Calling it returns at once a ``Future[R]`` of the function's value.

    Attributes
    ----------
    fn : callable
        The function.
    name : str
        The tasks' name, in traces, statistics and errors.
    priority : int
        StarPU's priority of its tasks.
    device : Device or None
        The CPU device its tasks run on (None: any CPU worker).
    """

    def __init__(self, fn: Callable[..., _R], device: str | Device | None = None,
                 name: str | None = None, priority: int = 0) -> None:
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

    def _convert(self, x: Any, arrays: list[Any], access: list[int],
                 layout: list[tuple[Any, tuple[int, ...], int]]) -> Any:
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

    def __call__(self, *args: Any, **kwargs: Any) -> Future[_R]:
        """Submit a call: the function runs later on a CPU worker.

        Arrays (bare or In) arrive as read-only NumPy views, Out and
        InOut ones as writable views; a Future of another call or launch
        is a dependency, and the function gets its value.

        Returns
        -------
        Future
            Its result is the function's value; it fails with TaskError
            when the function raises, DependencyError when an input came
            from a failed task.
        """
        arrays: list[Any] = []
        access: list[int] = []
        layout: list[tuple[Any, tuple[int, ...], int]] = []
        targs = [self._convert(x, arrays, access, layout) for x in args]
        tkw = {k: self._convert(x, arrays, access, layout)
               for k, x in kwargs.items()}
        call = _Call(self.fn, self.name, targs, tkw, layout)
        dev = -1 if self.device is None else self.device._id
        event = _core.task_submit(call, arrays, access, self.name,
                                  self.priority, dev)
        fut: _CallFuture[_R] = _CallFuture(event)
        fut._call = call
        return fut

    def __repr__(self) -> str:
        return f"<cambrian.task {self.name}>"


@overload
def task(fn: Callable[..., _R], *, device: str | Device | None = None,
         name: str | None = None, priority: int = 0) -> TaskFunction[_R]: ...
@overload
def task(fn: None = None, *, device: str | Device | None = None,
         name: str | None = None, priority: int = 0
         ) -> Callable[[Callable[..., _R]], TaskFunction[_R]]: ...


def task(fn: Callable[..., _R] | None = None, *,
         device: str | Device | None = None, name: str | None = None,
         priority: int = 0
         ) -> TaskFunction[_R] | Callable[[Callable[..., _R]],
                                          TaskFunction[_R]]:
    """Make fn's calls tasks of the graph.

    ``@cambrian.task`` or ``@cambrian.task(device="cpu", name=...,
    priority=...)``. A call returns at once a :class:`Future` of the
    function's value; the function runs on a CPU worker once the tasks
    writing its input arrays are done.

    Parameters
    ----------
    fn : callable
        The function (when used without arguments).
    device : str or Device, optional
        A CPU device ("cpu"); Python functions run on CPU workers only.
    name : str, optional
        The tasks' name, at most 47 bytes (default: fn's qualified name).
    priority : int, optional
        StarPU's priority (higher runs first when workers are busy).

    Returns
    -------
    TaskFunction
        Or, without fn, a decorator that makes one.

    Raises
    ------
    ValueError
        device is not a CPU device, or name is too long or holds NUL.
    TypeError
        name is not a string.

    Examples
    --------
    >>> @cb.task
    ... def norm2(x):
    ...     return float(np.sqrt((x * x).sum()))
    >>> norm2(cb.asarray([3.0, 4.0])).result()
    5.0
    >>> @cb.task(name="scale", priority=1)
    ... def scale(x, out, k):
    ...     out[:] = x * k
    >>> b = cb.empty(2)
    >>> _ = scale(cb.ones(2), cb.Out(b), 3).result()
    >>> b.numpy()
    array([3., 3.])
    """
    if fn is None:
        return lambda f: TaskFunction(f, device, name, priority)
    return TaskFunction(fn, device, name, priority)
