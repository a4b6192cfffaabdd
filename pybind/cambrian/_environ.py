"""Environment changes that cannot crash pocl.

When pocl (the OpenCL devices that run on the CPU) builds a kernel, it
starts its linker with the process's environment; glibc's setenv() in
another thread at that moment can move the array the start reads, and
pocl then aborts the process. pytest, for one, sets and removes a
variable around every test. So os.putenv and os.unsetenv, through which
os.environ changes the environment, wait until no pocl driver acts
(cb_environ_change_begin in the C API).
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from . import _core


def _guarded(change: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(change)
    def guarded(*args: Any) -> Any:
        return _core._environ_change(change, *args)
    guarded._cambrian_guarded = True  # type: ignore[attr-defined]
    return guarded


def guard_environment() -> None:
    """Make os.environ's changes wait for pocl's kernel builds (once)."""
    if getattr(os.putenv, "_cambrian_guarded", False):
        return
    os.putenv = _guarded(os.putenv)
    os.unsetenv = _guarded(os.unsetenv)
