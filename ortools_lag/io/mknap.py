"""OR-Library multidimensional 0-1 knapsack reader (``mknap1.txt``, Petersen 1967 and others).

Format (OR-Library mknapinfo): the number of problems ``K``; per problem ``n m optimum`` (items,
constraints, the published optimal value, 0 when unknown), the ``n`` profits ``p_j``, ``m`` rows
of ``n`` weights ``w_ij`` and the ``m`` capacities ``b_i``. The problem is

``max sum_j p_j x_j  s.t.  sum_j w_ij x_j <= b_i (each i),  x binary.``

``problem=k`` picks the ``k``-th problem (1-based). Bad files raise
:class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

>>> inst = parse_mknap("1\\n2 1 5\\n3 5\\n2 3\\n4\\n")
>>> inst.profit.tolist(), inst.weight.tolist(), inst.capacity.tolist(), inst.optimum
([3.0, 5.0], [[2.0, 3.0]], [4.0], 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.io.number_tokens import NumberTokens, parse_problem, parse_problems
from ortools_lag.io.text import parse_file

__all__ = ["MKnapInstance", "parse_mknap", "read_mknap", "read_mknap_all"]


@dataclass(frozen=True)
class MKnapInstance:
    """One multidimensional knapsack problem: ``n`` items, ``m`` capacity rows.

    Attributes
    ----------
    profit
        ``(n,)`` item profits.
    weight
        ``(m, n)`` weights.
    capacity
        ``(m,)`` capacities.
    optimum
        The published optimum given in the file (``None`` when the file gives 0).
    name
        ``"<file stem>-<k>"``.
    """

    profit: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    optimum: float | None = None
    name: str = ""


def _read_one(tok: NumberTokens, k: int, stem: str) -> MKnapInstance:
    where = f"problem[{k}]"
    n = tok.int(f"{where}.n", minimum=1)
    m = tok.int(f"{where}.m", minimum=0)
    optimum = float(tok.floats(1, f"{where}.optimum")[0])
    profit = tok.floats(n, f"{where}.profit")
    weight = tok.nonnegative_floats(m * n, f"{where}.weight", "weights").reshape(m, n)
    capacity = tok.nonnegative_floats(m, f"{where}.capacity", "capacities")
    return MKnapInstance(
        profit=profit,
        weight=weight,
        capacity=capacity,
        optimum=optimum if optimum != 0 else None,
        name=f"{stem}-{k}",
    )


def parse_mknap(text: str, problem: int = 1, source: str = "<string>") -> MKnapInstance:
    """Parse the ``problem``-th (1-based) problem of an OR-Library mknap text.

    Its published optimum comes with it (``None`` when the file gives 0); ``source`` names the
    text in error messages.

    >>> parse_mknap("1 1 1 0 7 2 3").optimum is None
    True
    """
    return parse_problem(text, problem, source, _read_one)


def read_mknap(path: str | Path, problem: int = 1) -> MKnapInstance:
    """Read the ``problem``-th (1-based) problem of an OR-Library mknap file.

    >>> from ortools_lag.io.text import example_file
    >>> read_mknap(example_file("m.txt", "1\\n2 1 5\\n3 5\\n2 3\\n4\\n")).optimum
    5.0
    """
    return parse_file(path, lambda text, source: parse_mknap(text, problem, source))


def read_mknap_all(path: str | Path) -> list[MKnapInstance]:
    """Read every problem of an OR-Library mknap file, in order.

    >>> from ortools_lag.io.text import example_file
    >>> p = example_file("m.txt", "2\\n1 1 0\\n3\\n2\\n4\\n1 1 0\\n1\\n1\\n1\\n")
    >>> [q.profit.tolist() for q in read_mknap_all(p)]
    [[3.0], [1.0]]
    """
    return parse_file(path, lambda text, source: parse_problems(text, source, _read_one))
