"""Environment changes that cannot crash pocl or a starting runtime.

When pocl (the OpenCL devices that run on the CPU) builds a kernel, it
starts its linker with the process's environment; glibc's setenv() in
another thread at that moment can move the array the start reads, and
pocl then aborts the process. StarPU, the OpenCL loader and pocl also
read the environment as the runtime starts. pytest, for one, sets and
removes a variable around every test. So os.putenv and os.unsetenv,
through which os.environ changes the environment, wait until no pocl
codelet is in flight and no runtime starts (cb_environ_change_begin in
the C API), and change it without holding the GIL.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from . import _core


def _name(key: Any) -> bytes:
    name = os.fsencode(key)
    if not name or b"=" in name:
        raise ValueError("illegal environment variable name")
    if b"\0" in name:
        raise ValueError("embedded null byte")
    return name


def _putenv(key: Any, value: Any) -> None:
    v = os.fsencode(value)
    if b"\0" in v:
        raise ValueError("embedded null byte")
    _core._environ_set(_name(key), v)


def _unsetenv(key: Any) -> None:
    _core._environ_set(_name(key), None)


def _install(new: Callable[..., None], old: Callable[..., None]) -> Any:
    functools.update_wrapper(new, old)  # old's name and doc; __wrapped__
    setattr(new, "_cambrian_guarded", True)
    return new


def guard_environment() -> None:
    """Make os.environ's changes wait for pocl's kernel builds (once)."""
    if getattr(os.putenv, "_cambrian_guarded", False):
        return
    os.putenv = _install(_putenv, os.putenv)
    os.unsetenv = _install(_unsetenv, os.unsetenv)
