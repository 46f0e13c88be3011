"""File formats: MPS, TSPLIB, DIMACS and the OR-Library formats, read into plain arrays.

- :mod:`.mps`: MPS files (free and fixed, gzip too) into a :class:`~ortools_lag.model.Model`
  (:func:`read_mps`);
- instance formats, each returning plain data that a problem family builds from:
  :mod:`.tsplib` (TSPLIB), :mod:`.dimacs` (DIMACS shortest path, min-cost flow, max flow),
  :mod:`.gap`, :mod:`.mknap`, :mod:`.scp`, :mod:`.ufl`, :mod:`.rcsp` (OR-Library),
  :mod:`.rudy` (max-cut graphs), :mod:`.bipartite` (assignment and transportation tables);
- shared reading: :mod:`.text` (a file's text, errors naming the file) and
  :mod:`.number_tokens` (numbers with their line numbers).

These modules know no problem family and no solver: ``problems.<kind>.read(path)`` wraps the
parser of its format. A new format is a module here.
"""

from ortools_lag.io.mps import read_mps

__all__ = ["read_mps"]
