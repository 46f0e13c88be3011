"""Solvers: backends and our own dual methods, behind one registry.

``available()`` says which are usable and why not, importing each lazily on demand.
"""

from ortools_lag.solvers.dispatch import solve
from ortools_lag.solvers.registry import available, names, register

__all__ = ["available", "names", "register", "solve"]
