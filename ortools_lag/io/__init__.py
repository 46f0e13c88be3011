"""File formats: MPS, TSPLIB, DIMACS and the OR-Library formats, read into plain arrays.

- :mod:`.mps`: MPS files (free and fixed, gzip too) into a :class:`~ortools_lag.model.Model`
  (:func:`read_mps`);
- bringing your own model: :mod:`.lp_format` (CPLEX LP files read and written through HiGHS,
  :func:`read_lp`, :func:`write_lp`, and :func:`read_model` for MPS or LP by suffix) with
  :mod:`.row_groups` (rows grouped by name), :mod:`.pyomo_import` (:func:`from_pyomo`, Pyomo
  duals back) and :mod:`.cvxpy_import` (:func:`from_cvxpy`). They live here, not as ``Model``
  class methods, because the model layer imports no file format (the layer contracts in
  ``pyproject.toml``); Pyomo and cvxpy are imported only when these functions run;
- instance formats, each returning plain data that a problem family builds from:
  :mod:`.tsplib` (TSPLIB), :mod:`.dimacs` (DIMACS shortest path, min-cost flow, max flow),
  :mod:`.gap`, :mod:`.mknap`, :mod:`.scp`, :mod:`.ufl`, :mod:`.rcsp` (OR-Library),
  :mod:`.rudy` (max-cut graphs), :mod:`.bipartite` (assignment and transportation tables);
- shared reading: :mod:`.text` (a file's text, errors naming the file) and
  :mod:`.number_tokens` (numbers with their line numbers).

These modules know no problem family and no solver: ``problems.<kind>.read(path)`` wraps the
parser of its format. A new format is a module here.
"""

from ortools_lag.io.cvxpy_import import cvxpy_duals, from_cvxpy
from ortools_lag.io.lp_format import read_lp, read_model, write_lp
from ortools_lag.io.mps import read_mps
from ortools_lag.io.pyomo_import import from_pyomo, pyomo_duals, write_duals

__all__ = [
    "cvxpy_duals",
    "from_cvxpy",
    "from_pyomo",
    "pyomo_duals",
    "read_lp",
    "read_model",
    "read_mps",
    "write_duals",
    "write_lp",
]
