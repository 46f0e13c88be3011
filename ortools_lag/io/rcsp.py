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
from ortools_lag.io.text import read_text

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


def _arcs(tok: NumberTokens, n: int, m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    start = tok.pos
    block = tok.floats(m * (3 + k), "arcs").reshape(m, 3 + k)
    ends = block[:, :2]
    bad = np.flatnonzero(np.any((ends != np.round(ends)) | (ends < 1) | (ends > n), axis=1))
    if bad.size:
        row = int(bad[0])
        tok.pos = start + row * (3 + k)
        raise SpecError(
            f"arc {row + 1}: vertices must be integers in 1..{n}, found "
            f"{ends[row, 0]:g} {ends[row, 1]:g}",
            file=tok.source,
            line=tok.line(),
            field=f"arcs[{row + 1}]",
        )
    return ends.astype(np.int64) - 1, block[:, 2:]


def parse_rcsp(text: str, source: str = "<string>") -> RCSPInstance:
    """Parse an OR-Library rcsp text.

    Parameters
    ----------
    text
        The file contents.
    source
        The name used in error messages.

    Returns
    -------
    RCSPInstance

    Examples
    --------
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
    ends, rest = _arcs(tok, n, m, k)
    tok.expect_end(f"the {m} arcs announced on line 1")
    return RCSPInstance(
        n=n,
        tails=ends[:, 0].copy(),
        heads=ends[:, 1].copy(),
        cost=rest[:, 0].copy(),
        arc_resources=rest[:, 1:].copy(),
        vertex_resources=vertex,
        lower=lower,
        upper=upper,
        name=Path(source).stem,
    )


def read_rcsp(path: str | Path) -> RCSPInstance:
    """Read an OR-Library rcsp file.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.txt"
    >>> _ = p.write_text("2 1 1\\n0\\n9\\n0\\n0\\n1 2 3 4\\n")
    >>> read_rcsp(p).cost.tolist()
    [3.0]
    """
    path = Path(path)
    return parse_rcsp(read_text(path), source=str(path))
