"""Readers: MPS here; TSPLIB, OR-Library and DIMACS formats in sibling modules."""

from ortools_lag.io.mps import read_mps

__all__ = ["read_mps"]
