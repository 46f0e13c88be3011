"""The ``ortools-lag`` command line (the only part of the package that prints).

``main`` parses the arguments and runs one command; each command's work lives in its own
module: :mod:`.main` (``solve``, ``validate``, ``list`` and the parser), :mod:`.explain`
(``explain``: the Lagrangian and KKT conditions), :mod:`.export` (``export``), :mod:`.render`
(summaries, tables and result files) and :mod:`.progress` (the live progress bar).

A new command is a function ``_name(args) -> int`` beside the others and a sub-parser in
:func:`ortools_lag.cli.main._parser`.
"""

from ortools_lag.cli.main import main

__all__ = ["main"]
