"""OR-Library generalized assignment reader (``gap1.txt`` … ``gapa.txt``, Beasley's gapinfo format).

A file holds ``P`` problems. Each problem is ``m n`` (agents, jobs), the cost matrix ``c[i][j]``
(``m`` rows of ``n``), the resource matrix ``a[i][j]`` (``m`` rows of ``n``) and the capacities
``b[i]`` (``m`` numbers). The problem assigns every job to exactly one agent within capacity:

``min (or max) sum_ij c_ij x_ij  s.t.  sum_i x_ij = 1 (each job j),  sum_j a_ij x_ij <= b_i
(each agent i),  x binary.``

The file does not say whether costs are minimised or maximised: gap1–gap4 are published both
ways, so the sense is chosen by the caller, not by the reader. ``problem=k`` picks the ``k``-th
problem (1-based, as OR-Library numbers them). Bad files raise
:class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

:class:`NumberTokens`, the number stream of the OR-Library readers, lives in
:mod:`ortools_lag.io.number_tokens` (importable from here too).

>>> inst = parse_gap("1\\n2 3\\n1 2 3\\n4 5 6\\n1 1 1\\n2 2 2\\n2 4\\n")
>>> inst.cost.tolist(), inst.capacity.tolist()
([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [2.0, 4.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.io.number_tokens import NumberTokens, parse_problem, parse_problems
from ortools_lag.io.text import parse_file

__all__ = [
    "GAPInstance",
    "NumberTokens",
    "count_gap",
    "parse_gap",
    "read_gap",
    "read_gap_all",
    "read_gap_single",
]


@dataclass(frozen=True)
class GAPInstance:
    """One generalized assignment problem: ``m`` agents, ``n`` jobs.

    Attributes
    ----------
    cost
        ``(m, n)`` cost (or profit) of giving job ``j`` to agent ``i``.
    weight
        ``(m, n)`` resource that job ``j`` uses on agent ``i``.
    capacity
        ``(m,)`` capacity of each agent.
    name
        ``"<file stem>-<k>"``.
    """

    cost: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    name: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: agents, jobs."""
        m, n = self.cost.shape
        return int(m), int(n)


def _read_one(tok: NumberTokens, k: int, name: str) -> GAPInstance:
    where = f"problem[{k}]"
    m = tok.int(f"{where}.m", minimum=1)
    n = tok.int(f"{where}.n", minimum=1)
    cost = tok.floats(m * n, f"{where}.cost").reshape(m, n)
    weight = tok.floats(m * n, f"{where}.weight").reshape(m, n)
    capacity = tok.nonnegative_floats(m, f"{where}.capacity", "capacities")
    return GAPInstance(cost=cost, weight=weight, capacity=capacity, name=f"{name}-{k}")


def parse_gap(text: str, problem: int = 1, source: str = "<string>") -> GAPInstance:
    """Parse the ``problem``-th (1-based) GAP problem of an OR-Library gap text.

    ``source`` names the text in error messages; the sense (min or max) is the caller's choice.

    >>> parse_gap("1 1 2 3 4 5 6 7", source="t.txt").shape
    (1, 2)
    """
    return parse_problem(text, problem, source, _read_one)


def read_gap(path: str | Path, problem: int = 1) -> GAPInstance:
    """Read the ``problem``-th (1-based) problem of an OR-Library gap file.

    >>> from ortools_lag.io.text import example_file
    >>> p = example_file("g.txt", "2\\n1 1\\n5\\n2\\n3\\n1 1\\n7\\n1\\n1\\n")
    >>> read_gap(p, problem=2).cost.tolist()
    [[7.0]]
    """
    return parse_file(path, lambda text, source: parse_gap(text, problem, source))


def read_gap_all(path: str | Path) -> list[GAPInstance]:
    """Read every problem of an OR-Library gap file, in order.

    >>> from ortools_lag.io.text import example_file
    >>> p = example_file("g.txt", "2\\n1 1\\n5\\n2\\n3\\n1 1\\n7\\n1\\n1\\n")
    >>> [g.name for g in read_gap_all(p)]
    ['g-1', 'g-2']
    """
    return parse_file(path, lambda text, source: parse_problems(text, source, _read_one))


def count_gap(path: str | Path) -> int:
    """How many problems an OR-Library gap file holds (the first number of the file).

    >>> from ortools_lag.io.text import example_file
    >>> count_gap(example_file("g.txt", "1 1 1 4 2 3"))
    1
    """
    return parse_file(path, lambda text, source: NumberTokens(text, source).int("problems", 1))


def read_gap_single(path: str | Path) -> GAPInstance:
    """Read a file holding one GAP problem without the leading problem count.

    The layout of Yagiura et al.'s large instances (types C, D, E): ``m n``, the ``m x n``
    costs, the ``m x n`` resources, the ``m`` capacities.

    >>> from ortools_lag.io.text import example_file
    >>> read_gap_single(example_file("c", "1 2\\n3 4\\n5 6\\n7\\n")).cost.tolist()
    [[3.0, 4.0]]
    """
    return parse_file(path, lambda text, source: parse_gap("1 " + text, 1, source))
