"""Sphinx extension of cambrian's documentation.

1. Python code blocks of Markdown pages (the README, included by
   readme.md) become doctest ``testcode`` blocks, so that the doctest
   builder runs them as it runs the examples of the other pages.
2. Intersphinx inventories of the Python and NumPy objects these pages
   refer to, written from their documented addresses before intersphinx
   reads them: the build needs no network.
"""

from __future__ import annotations

import doctest
import os
import zlib
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

# (name, role, address relative to the project's documentation); "$" in
# an address stands for the name, as in Sphinx's inventories.
_CF = "library/concurrent.futures.html#$"
_EXC = "library/exceptions.html#$"
_REF = "reference/generated/$.html#$"
_SCALARS = "reference/arrays.scalars.html#$"
PYTHON = [
    ("concurrent.futures", "py:module",
     "library/concurrent.futures.html#module-$"),
    ("concurrent.futures.Future", "py:class", _CF),
    ("concurrent.futures.wait", "py:function", _CF),
    ("concurrent.futures.as_completed", "py:function", _CF),
    ("concurrent.futures.CancelledError", "py:exception", _CF),
    ("concurrent.futures.ThreadPoolExecutor", "py:class", _CF),
    ("asyncio", "py:module", "library/asyncio.html#module-$"),
    ("asyncio.Future", "py:class", "library/asyncio-future.html#$"),
    ("asyncio.wrap_future", "py:function", "library/asyncio-future.html#$"),
    ("asyncio.gather", "py:function", "library/asyncio-task.html#$"),
    ("asyncio.run", "py:function", "library/asyncio-runner.html#$"),
    ("contextvars.ContextVar", "py:class", "library/contextvars.html#$"),
    ("inspect.signature", "py:function", "library/inspect.html#$"),
    ("logging", "py:module", "library/logging.html#module-$"),
    ("logging.getLogger", "py:function", "library/logging.html#$"),
    ("logging.Logger", "py:class", "library/logging.html#$"),
    ("multiprocessing", "py:module", "library/multiprocessing.html#module-$"),
    ("os.PathLike", "py:class", "library/os.html#$"),
    ("help", "py:function", "library/functions.html#$"),
    ("memoryview", "py:class", "library/stdtypes.html#$"),
    ("str", "py:class", "library/stdtypes.html#$"),
    ("int", "py:class", "library/functions.html#$"),
    ("float", "py:class", "library/functions.html#$"),
    ("bool", "py:class", "library/functions.html#$"),
    ("dict", "py:class", "library/stdtypes.html#$"),
    ("list", "py:class", "library/stdtypes.html#$"),
    ("tuple", "py:class", "library/stdtypes.html#$"),
    ("object", "py:class", "library/functions.html#$"),
    ("None", "py:data", "library/constants.html#$"),
    ("Exception", "py:exception", _EXC),
    ("ValueError", "py:exception", _EXC),
    ("TypeError", "py:exception", _EXC),
    ("OverflowError", "py:exception", _EXC),
    ("MemoryError", "py:exception", _EXC),
    ("RuntimeError", "py:exception", _EXC),
    ("TimeoutError", "py:exception", _EXC),
    ("KeyboardInterrupt", "py:exception", _EXC),
    ("ImportError", "py:exception", _EXC),
    ("OSError", "py:exception", _EXC),
    ("ExceptionGroup", "py:exception", _EXC),
    ("RuntimeWarning", "py:exception", _EXC),
]
NUMPY = [
    ("numpy", "py:module", "reference/index.html#module-$"),
    ("numpy.ndarray", "py:class", _REF),
    ("numpy.dtype", "py:class", _REF),
    ("numpy.asarray", "py:function", _REF),
    ("numpy.arange", "py:function", _REF),
    ("numpy.array2string", "py:function", _REF),
    ("numpy.bool", "py:class", _SCALARS),
    ("numpy.int32", "py:class", _SCALARS),
    ("numpy.int64", "py:class", _SCALARS),
    ("numpy.float32", "py:class", _SCALARS),
    ("numpy.float64", "py:class", _SCALARS),
    ("numpy.typing.ArrayLike", "py:data", "reference/typing.html#$"),
    ("numpy.typing.DTypeLike", "py:data", "reference/typing.html#$"),
]


def write_inventory(path: str, project: str, version: str,
                    entries: list[tuple[str, str, str]]) -> None:
    """A Sphinx inventory (version 2) of entries at path."""
    body = "".join(f"{name} {role} 1 {uri} -\n"
                   for name, role, uri in entries)
    head = (f"# Sphinx inventory version 2\n# Project: {project}\n"
            f"# Version: {version}\n"
            "# The remainder of this file is compressed using zlib.\n")
    with open(path, "wb") as f:
        f.write(head.encode() + zlib.compress(body.encode()))


def _inventories(app: Sphinx, config: Config) -> None:
    # Beside the build's doctrees, which hold what a build keeps.
    folder = os.path.join(app.doctreedir, "inventories")
    os.makedirs(folder, exist_ok=True)
    made = {"python": ("Python", "3", PYTHON),
            "numpy": ("NumPy", "stable", NUMPY)}
    mapping: dict[str, Any] = dict(config.intersphinx_mapping)
    for key, (project, version, entries) in made.items():
        path = os.path.join(folder, f"{key}.inv")
        write_inventory(path, project, version, entries)
        url = mapping[key][0]
        mapping[key] = (url, path)
    config.intersphinx_mapping = mapping


def _markdown_code_as_tests(app: Sphinx, doctree: nodes.document) -> None:
    """Python blocks of Markdown pages run as testcode; what they print
    is theirs to say in comments, so any output is accepted (a hidden
    testoutput of "..."), but not an exception."""
    env = app.env
    source = env.doc2path(env.docname)
    if not str(source).endswith(".md"):
        return
    for node in list(doctree.findall(nodes.literal_block)):
        if node.get("language") not in ("python", "py") or \
                "testnodetype" in node:
            continue
        node["testnodetype"] = "testcode"
        node["groups"] = ["default"]
        node["options"] = {}
        if "print(" in node.astext():
            out = nodes.comment("...", "...", testnodetype="testoutput",
                                groups=["default"])
            out["options"] = {doctest.ELLIPSIS: True}
            node.parent.insert(node.parent.index(node) + 1, out)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _inventories, priority=100)
    app.connect("doctree-read", _markdown_code_as_tests)
    return {"version": "1", "parallel_read_safe": True}
