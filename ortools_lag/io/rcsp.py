"""OR-Library resource-constrained shortest path reader (``rcsp*.txt``; Beasley & Christofides).

Format (OR-Library rcspinfo): ``n m K``; the ``K`` lower limits; the ``K`` upper limits; for each
vertex ``i = 1..n`` the ``K`` amounts of resource consumed when passing through it; for each arc
``from to cost`` followed by its ``K`` resource amounts. Vertices are 1-based in the file and
0-based in the returned arrays. The problem is a minimum-cost path from vertex 1 to vertex ``n``
whose total resource use ``R_k`` (arcs plus every vertex on the path, both ends included) lies
in ``[lower_k, upper_k]``.

Bad files raise :class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

>>> text = "3 2 1\\n0\\n5\\n0\\n0\\n0\\n1 2 4 3\\n2 3 1 1\\n"
>>> inst = parse_rcsp(text)
>>> inst.tails.tolist(), inst.heads.tolist(), inst.cost.tolist(), inst.upper.tolist()
([0, 1], [1, 2], [4.0, 1.0], [5.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.errors import SpecError
from ortools_lag.io.number_tokens import NumberTokens
from ortools_lag.io.text import parse_file

__all__ = ["RCSPInstance", "parse_rcsp", "read_rcsp"]


@dataclass(frozen=True)
class RCSPInstance:
    """A resource-constrained shortest path instance (0-based vertices).

    Attributes
    ----------
    n
        Number of vertices; the path runs from ``source`` (0) to ``target`` (``n - 1``).
    tails, heads
        ``(m,)`` arc ends.
    cost
        ``(m,)`` arc costs.
    arc_resources
        ``(m, K)`` resources consumed on each arc.
    vertex_resources
        ``(n, K)`` resources consumed passing through each vertex.
    lower, upper
        ``(K,)`` limits on the path's total resource use.
    name
        The file stem.
    """

    n: int
    tails: np.ndarray
    heads: np.ndarray
    cost: np.ndarray
    arc_resources: np.ndarray
    vertex_resources: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    name: str = ""

    @property
    def source(self) -> int:
        """The start vertex (vertex 1 of the file)."""
        return 0

    @property
    def target(self) -> int:
        """The end vertex (vertex ``n`` of the file)."""
        return self.n - 1


def parse_rcsp(text: str, source: str = "<string>") -> RCSPInstance:
    """Parse an OR-Library rcsp text (``source`` names it in errors and gives the instance's name).

    >>> parse_rcsp("2 1 1 0 9 0 0 1 2 3 4").arc_resources.tolist()
    [[4.0]]
    """
    tok = NumberTokens(text, source)
    n = tok.int("n", minimum=2)
    m = tok.int("m", minimum=0)
    k = tok.int("K", minimum=0)
    lower = tok.floats(k, "lower")
    limit_line = tok.line()
    upper = tok.floats(k, "upper")
    if np.any(lower > upper):
        j = int(np.flatnonzero(lower > upper)[0])
        raise SpecError(
            f"resource {j + 1}: lower limit {lower[j]:g} exceeds upper limit {upper[j]:g}",
            file=source,
            line=limit_line,
            field="upper",
        )
    vertex = tok.floats(n * k, "vertex_resources").reshape(n, k)
    tails, heads, rest = tok.vertex_rows(m, 3 + k, n, "arcs", "arc")
    tok.expect_end(f"the {m} arcs announced on line 1")
    return RCSPInstance(
        n=n,
        tails=tails,
        heads=heads,
        cost=rest[:, 0].copy(),
        arc_resources=rest[:, 1:].copy(),
        vertex_resources=vertex,
        lower=lower,
        upper=upper,
        name=Path(source).stem,
    )


def read_rcsp(path: str | Path) -> RCSPInstance:
    """Read an OR-Library rcsp file.

    >>> from ortools_lag.io.text import example_file
    >>> read_rcsp(example_file("r.txt", "2 1 1\\n0\\n9\\n0\\n0\\n1 2 3 4\\n")).cost.tolist()
    [3.0]
    """
    return parse_file(path, parse_rcsp)
