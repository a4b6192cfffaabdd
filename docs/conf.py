"""Sphinx configuration of cambrian's documentation.

Built by scripts/test.sh with warnings as errors, twice: as HTML, and
with the doctest builder, which runs every example of these pages, of the
docstrings they include and of the README.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import cambrian  # noqa: E402  (the installed package, built by the set-up)

project = "cambrian"
author = "the cambrian authors"
copyright = "the cambrian authors, Apache-2.0"
release = cambrian.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "myst_parser",
    "cambrian_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "py:obj"
nitpicky = False

# Docstrings are in NumPy's style.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
napoleon_preprocess_types = True
napoleon_type_aliases = {"dtype": "numpy.dtype",
                         "array_like": "numpy.typing.ArrayLike"}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "undoc-members": False}

# The inventories of Python and NumPy, made here from their addresses
# (the build runs without a network): see cambrian_docs.py.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3",
               os.path.join(HERE, "_ext", "python.inv")),
    "numpy": ("https://numpy.org/doc/stable",
              os.path.join(HERE, "_ext", "numpy.inv")),
}
intersphinx_disabled_reftypes = []

# Every example runs: these names are there for all of them.
doctest_global_setup = """
import asyncio
import numpy as np
import cambrian as cb
"""
doctest_test_doctest_blocks = "default"

html_theme = "pydata_sphinx_theme"
html_title = f"cambrian {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

myst_heading_anchors = 3
