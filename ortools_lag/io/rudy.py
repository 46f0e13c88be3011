"""Weighted graphs in the rudy / Gset edge-list format of max-cut benchmarks.

Format (G. Rinaldi's ``rudy`` generator, used by the Gset max-cut instances of Helmberg & Rendl
2000 and the Biq Mac library): the first line holds ``n m`` (vertices, edges); each of the next
``m`` lines holds ``i j w``, an edge between the 1-based vertices ``i`` and ``j`` of weight
``w`` (an integer or a float). Vertices are 0-based in the returned arrays; parallel edges are
summed when the weight matrix is formed.

Bad files raise :class:`~ortools_lag.errors.SpecError` naming the file, the line and the field.

>>> g = parse_rudy("3 2\\n1 2 1\\n2 3 -1\\n")
>>> g.n, g.tails.tolist(), g.heads.tolist(), g.weights.tolist()
(3, [0, 1], [1, 2], [1.0, -1.0])
>>> g.matrix().tolist()
[[0.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.errors import SpecError
from ortools_lag.io.number_tokens import NumberTokens
from ortools_lag.io.text import parse_file

__all__ = ["MAX_MATRIX_VERTICES", "RudyGraph", "parse_rudy", "read_rudy"]

#: Most vertices a file may declare: :meth:`RudyGraph.matrix` forms the dense weight matrix (the
#: largest Gset graphs have 20000 vertices; their matrix takes 3.2 GB).
MAX_MATRIX_VERTICES = 20_000


@dataclass(frozen=True)
class RudyGraph:
    """An undirected weighted graph (0-based vertices).

    Attributes
    ----------
    n
        Number of vertices.
    tails, heads
        ``(m,)`` edge ends.
    weights
        ``(m,)`` edge weights.
    name
        The file stem.
    """

    n: int
    tails: np.ndarray
    heads: np.ndarray
    weights: np.ndarray
    name: str = ""

    def matrix(self) -> np.ndarray:
        """The symmetric ``(n, n)`` weight matrix (parallel edges summed, loops dropped)."""
        w = np.zeros((self.n, self.n))
        keep = self.tails != self.heads
        np.add.at(w, (self.tails[keep], self.heads[keep]), self.weights[keep])
        return w + w.T


def parse_rudy(text: str, source: str = "<string>") -> RudyGraph:
    """Parse a rudy / Gset edge list; ``source`` names it in errors and gives the graph's name.

    >>> parse_rudy("2 1 1 2 5").weights.tolist()
    [5.0]
    """
    tok = NumberTokens(text, source)
    n = tok.int("n", minimum=1)
    if n > MAX_MATRIX_VERTICES:
        raise SpecError(
            f"{n} vertices declared: the limit is {MAX_MATRIX_VERTICES} "
            "(ortools_lag.io.rudy.MAX_MATRIX_VERTICES; the weight matrix is dense)",
            file=source,
            line=1,
            field="n",
        )
    m = tok.int("m", minimum=0)
    tails, heads, rest = tok.vertex_rows(m, 3, n, "edges", "edge")
    tok.expect_end(f"the {m} edges announced on line 1")
    return RudyGraph(n, tails, heads, weights=rest[:, 0].copy(), name=Path(source).stem)


def read_rudy(path: str | Path) -> RudyGraph:
    """Read a rudy / Gset edge-list file.

    >>> from ortools_lag.io.text import example_file
    >>> float(read_rudy(example_file("g.txt", "3 3\\n1 2 1\\n2 3 1\\n1 3 1\\n")).matrix().sum())
    6.0
    """
    return parse_file(path, parse_rudy)
