"""cambrian's messages: the logger named "cambrian" and CAMBRIAN_VERBOSE.

Every message of cambrian goes through ``logging.getLogger("cambrian")``,
so that an application
routes, filters or silences them as it does its own. cambrian adds no
handler unless CAMBRIAN_VERBOSE asks for messages and logging has not
been configured: one handler that writes to stderr is then added to the
"cambrian" logger.

CAMBRIAN_VERBOSE: unset, empty or 0: warnings and errors only (logging's
default); 1 or info: informational messages too (StarPU's included);
2 or debug: everything; or a level's name (warning, error).

StarPU's own messages reach the child logger "cambrian.starpu" when the
StarPU in use hands them over (the one scripts/setup.sh builds does);
another StarPU prints them on stderr.
"""

from __future__ import annotations

import logging
import os

__all__ = ["LOGGER", "verbose_level"]

LOGGER = logging.getLogger("cambrian")

_LEVELS = {"1": logging.INFO, "info": logging.INFO,
           "2": logging.DEBUG, "debug": logging.DEBUG,
           "warning": logging.WARNING, "error": logging.ERROR,
           "critical": logging.CRITICAL}


def verbose_level(value: str | None) -> int | None:
    """The logging level that a value of CAMBRIAN_VERBOSE stands for, or
    None when it asks for nothing (unset, empty, 0).

    >>> import logging
    >>> from cambrian._logging import verbose_level
    >>> verbose_level("debug") == logging.DEBUG
    True
    >>> verbose_level("0") is None
    True
    """
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("", "0"):
        return None
    try:
        return _LEVELS[value]
    except KeyError:
        # Any other value asks for messages, as it always has.
        return logging.INFO


def _configure_from_environment() -> None:
    level = verbose_level(os.environ.get("CAMBRIAN_VERBOSE"))
    if level is None:
        return
    LOGGER.setLevel(level)
    if not LOGGER.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(
            "%(name)s %(levelname)s: %(message)s"))
        LOGGER.addHandler(handler)
