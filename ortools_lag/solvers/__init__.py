"""Solvers: backends and our own dual methods, behind one registry.

``available()`` says which are usable and why not, importing each lazily on demand.
"""

from .dispatch import solve
from .registry import available, names, register

__all__ = ["available", "names", "register", "solve"]
