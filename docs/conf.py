"""Sphinx configuration of the ortools_lag documentation.

Build (warnings are errors, then the pages' doctests): ``python docs/build.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

from importlib.metadata import version as _version  # noqa: E402

project = "ortools_lag"
author = "ortools_lag developers"
copyright = "ortools_lag developers, MIT licence"
release = version = _version("ortools_lag")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "ortools_lag_docs",
]

exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]
root_doc = "index"
nitpicky = False
suppress_warnings: list[str] = []

# the API reference: one page per module, members as listed in each module's __all__
autosummary_generate = True
autosummary_imported_members = False
# each object on the page of the module that defines it (a package's re-exports are not repeated)
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections say the types
# ``python -m ortools_lag.cli`` runs the program on import: not a page
autosummary_mock_imports = ["ortools_lag.cli.__main__"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# doctests: only the pages' ``.. doctest::`` blocks (the modules' own run under pytest)
doctest_test_doctest_blocks = ""
doctest_global_setup = """
from pathlib import Path
import numpy as np
import ortools_lag
ROOT = Path(ortools_lag.__file__).resolve().parents[1]
"""

html_theme = "furo"
html_title = f"ortools_lag {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
