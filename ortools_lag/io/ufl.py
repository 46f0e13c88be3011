"""OR-Library facility-location reader (Beasley: ``cap71`` ... ``cap134``, ``capa`` ... ``capc``).

Format, whitespace-separated over any number of lines::

    m n                              (facilities, customers)
    m lines:  capacity fixed_cost    (capacity may be the word "capacity"; unused for UFL)
    for each customer j = 1..n:
        demand_j  cost_1j ... cost_mj   (the cost of serving all of j's demand from each facility)

The ``.opt`` file lists the facility (0-based) that serves each customer in an optimal solution,
then the optimal cost. Bad files raise :class:`~ortools_lag.errors.SpecError` with file and line.

>>> inst = parse_ufl("2 2\\n10 5.\\n10 7.\\n3 1 9\\n4 8 2\\n")
>>> inst.fixed_costs.tolist(), inst.costs.tolist()
([5.0, 7.0], [[1.0, 8.0], [9.0, 2.0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.errors import SpecError
from ortools_lag.io.number_tokens import integer_token, need_numbers, parse_numbers, token_line
from ortools_lag.io.text import parse_file, parse_file_named

__all__ = ["FacilityLocationInstance", "parse_ufl", "parse_ufl_opt", "read_ufl", "read_ufl_opt"]


@dataclass(frozen=True)
class FacilityLocationInstance:
    """An uncapacitated facility-location instance.

    Attributes
    ----------
    name
        The file's stem.
    fixed_costs
        ``(m,)`` cost of opening each facility.
    costs
        ``(m, n)``: ``costs[i, j]``, the cost of serving all of customer ``j`` from facility ``i``.
    demands
        ``(n,)`` customer demands (already folded into ``costs``).
    capacities
        ``(m,)`` facility capacities (``nan`` where the file says ``capacity``; unused by UFL).
    """

    name: str
    fixed_costs: np.ndarray
    costs: np.ndarray
    demands: np.ndarray
    capacities: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, n)``: facilities and customers."""
        return (int(self.costs.shape[0]), int(self.costs.shape[1]))


def _count(values: np.ndarray, index: int, text: str, file: str, what: str) -> int:
    need_numbers(values, index + 1, text, file, what)
    return integer_token(values, index, text, file, what)


def parse_ufl(text: str, *, file: str = "<string>", name: str = "ufl") -> FacilityLocationInstance:
    """The uncapacitated instance ``name`` in the text of an OR-Library ``cap`` file.

    ``file`` names the text in errors: non-numbers, a wrong count, a negative or non-finite cost
    raise :class:`~ortools_lag.errors.SpecError`.

    >>> parse_ufl("1 1\\ncapacity 3\\n1 2\\n").capacities.tolist()
    [nan]
    """
    values = parse_numbers(text, file, allow_word="capacity")
    m = _count(values, 0, text, file, "m (facilities)")
    n = _count(values, 1, text, file, "n (customers)")
    expected = 2 + 2 * m + n * (m + 1)
    if values.size != expected:
        where = min(values.size, expected)
        found = "ends early" if values.size < expected else "has extra numbers"
        raise SpecError(
            f"{m} facilities and {n} customers need {expected} numbers; the file {found}",
            file=file,
            line=token_line(text, where),
        )
    head = values[2 : 2 + 2 * m].reshape(m, 2)
    body = values[2 + 2 * m :].reshape(n, m + 1)
    numbers = np.concatenate([head[:, 1], body.ravel()])
    if not np.isfinite(numbers).all() or (numbers < 0).any():
        bad = int(np.argmax(~np.isfinite(numbers) | (numbers < 0)))
        index = 3 + 2 * bad if bad < m else 2 + 2 * m + (bad - m)
        raise SpecError(
            "fixed costs, demands and allocation costs must be finite and >= 0",
            file=file,
            line=token_line(text, index),
        )
    return FacilityLocationInstance(
        name=name,
        fixed_costs=head[:, 1].copy(),
        costs=np.ascontiguousarray(body[:, 1:].T),
        demands=body[:, 0].copy(),
        capacities=head[:, 0].copy(),
    )


def read_ufl(path: str | Path) -> FacilityLocationInstance:
    """Read an OR-Library ``cap`` file, named by its stem (see :func:`parse_ufl`).

    >>> from ortools_lag.io.text import example_file
    >>> read_ufl(example_file("cap0.txt", "1 2\\n5 1\\n1 3\\n1 4\\n")).name
    'cap0'
    """
    return parse_file_named(path, parse_ufl)


def parse_ufl_opt(
    text: str, *, file: str = "<string>", n: int | None = None, m: int | None = None
) -> tuple[np.ndarray, float]:
    """Parse a ``.opt`` text: the serving facility (0-based) of each customer, then the cost.

    Returns ``(assignment, objective)``, the ``(n,)`` ``int64`` facilities and the optimal cost;
    ``n`` customers and ``m`` facilities are checked when given, ``file`` names the text in
    errors.

    >>> parse_ufl_opt("1 0 1 12.5\\n")
    (array([1, 0, 1]), 12.5)
    """
    values = parse_numbers(text, file)
    if values.size < 2:
        raise SpecError("expected facility indices and an objective", file=file, line=1)
    assign, objective = values[:-1], float(values[-1])
    bad = (assign != np.round(assign)) | (assign < 0)
    if m is not None:
        bad |= assign >= m
    if bad.any():
        index = int(np.argmax(bad))
        raise SpecError(
            f"facility index must be an integer in 0..{'m-1' if m is None else m - 1}, "
            f"found {assign[index]:g}",
            file=file,
            line=token_line(text, index),
        )
    if n is not None and assign.size != n:
        raise SpecError(
            f"expected {n} facility indices, found {assign.size}",
            file=file,
            line=token_line(text, assign.size),
        )
    return assign.astype(np.int64), objective


def read_ufl_opt(
    path: str | Path, *, n: int | None = None, m: int | None = None
) -> tuple[np.ndarray, float]:
    """Read a ``.opt`` file (see :func:`parse_ufl_opt`).

    >>> from ortools_lag.io.text import example_file
    >>> read_ufl_opt(example_file("cap0.txt.opt", "0 0 7.0\\n"), n=2)[1]
    7.0
    """
    return parse_file(path, lambda text, file: parse_ufl_opt(text, file=file, n=n, m=m))
