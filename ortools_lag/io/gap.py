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

This module also holds :class:`NumberTokens`, the whitespace-separated number stream shared by
the OR-Library readers (``rcsp``, ``mknap``), which remembers the line of every token.

>>> inst = parse_gap("1\\n2 3\\n1 2 3\\n4 5 6\\n1 1 1\\n2 2 2\\n2 4\\n")
>>> inst.cost.tolist(), inst.capacity.tolist()
([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [2.0, 4.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ortools_lag.errors import SpecError

from .text import read_text, select_problem

__all__ = ["GAPInstance", "NumberTokens", "count_gap", "parse_gap", "read_gap", "read_gap_all"]


class NumberTokens:
    """Whitespace-separated numbers of a text, read in order, each remembering its line.

    Parameters
    ----------
    text
        The whole file.
    source
        The file name used in error messages.

    Examples
    --------
    >>> tok = NumberTokens("3 4\\n5.5\\n", source="f.txt")
    >>> tok.ints(2, "size").tolist(), tok.floats(1, "value").tolist(), tok.exhausted
    ([3, 4], [5.5], True)
    """

    def __init__(self, text: str, source: str = "<string>") -> None:
        rows = [line.split() for line in text.splitlines()]
        counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        self.source = source
        self._words = [w for r in rows for w in r]
        self._lines = np.repeat(np.arange(1, len(rows) + 1), counts)
        self._last_line = len(rows) if rows else 1
        try:
            self._values = np.array(self._words, dtype=np.float64)
        except ValueError:
            self._values = self._locate_bad_word()
        self.pos = 0

    def _locate_bad_word(self) -> np.ndarray:
        for k, word in enumerate(self._words):
            try:
                float(word)
            except ValueError:
                raise SpecError(
                    f"expected a number, found {word!r}",
                    file=self.source,
                    line=int(self._lines[k]),
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def exhausted(self) -> bool:
        """Whether every token has been read."""
        return self.pos >= len(self._values)

    def line(self, offset: int = 0) -> int:
        """The line of the token ``offset`` places after the current one (or the last line)."""
        k = self.pos + offset
        return int(self._lines[k]) if k < len(self._lines) else self._last_line

    def floats(self, count: int, field: str) -> np.ndarray:
        """Read ``count`` numbers; a short file raises ``SpecError`` naming ``field``."""
        stop = self.pos + count
        if stop > len(self._values):
            raise SpecError(
                f"file ended early: expected {count} numbers, found {len(self._values) - self.pos}",
                file=self.source,
                line=self._last_line,
                field=field,
            )
        out = self._values[self.pos : stop]
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise SpecError(
                f"expected a finite number, found {self._words[self.pos + bad[0]]!r}",
                file=self.source,
                line=self.line(int(bad[0])),
                field=field,
            )
        self.pos = stop
        return out.copy()

    def ints(self, count: int, field: str, minimum: int | None = None) -> np.ndarray:
        """Read ``count`` integers (at least ``minimum`` when given)."""
        start = self.pos
        out = self.floats(count, field)
        bad = np.flatnonzero(out != np.round(out))
        if minimum is not None:
            bad = np.union1d(bad, np.flatnonzero(out < minimum))
        if bad.size:
            k = int(bad[0])
            need = "an integer" if minimum is None else f"an integer >= {minimum}"
            raise SpecError(
                f"expected {need}, found {self._words[start + k]!r}",
                file=self.source,
                line=int(self._lines[start + k]),
                field=field,
            )
        return out.astype(np.int64)

    def int(self, field: str, minimum: int | None = None) -> int:
        """Read one integer."""
        return int(self.ints(1, field, minimum)[0])

    def expect_end(self, what: str) -> None:
        """Raise ``SpecError`` if tokens are left after ``what``."""
        if not self.exhausted:
            raise SpecError(
                f"unexpected data after {what}: {self._words[self.pos]!r}",
                file=self.source,
                line=self.line(),
            )


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
    cap_line = tok.line()
    capacity = tok.floats(m, f"{where}.capacity")
    if np.any(capacity < 0):
        raise SpecError(
            "capacities must be >= 0", file=tok.source, line=cap_line, field=f"{where}.capacity"
        )
    return GAPInstance(cost=cost, weight=weight, capacity=capacity, name=f"{name}-{k}")


def _all(text: str, source: str) -> list[GAPInstance]:
    tok = NumberTokens(text, source)
    count = tok.int("problems", minimum=1)
    stem = Path(source).stem
    problems = [_read_one(tok, k, stem) for k in range(1, count + 1)]
    tok.expect_end(f"the {count} problems announced on line 1")
    return problems


def parse_gap(text: str, problem: int = 1, source: str = "<string>") -> GAPInstance:
    """Parse the ``problem``-th (1-based) GAP problem of an OR-Library gap text.

    Parameters
    ----------
    text
        The file contents.
    problem
        Which problem, 1-based.
    source
        The name used in error messages.

    Returns
    -------
    GAPInstance

    Examples
    --------
    >>> parse_gap("1 1 2 3 4 5 6 7", source="t.txt").shape
    (1, 2)
    """
    problems = _all(text, source)
    return select_problem(problems, problem, source)


def read_gap(path: str | Path, problem: int = 1) -> GAPInstance:
    """Read the ``problem``-th (1-based) problem of an OR-Library gap file.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "g.txt"
    >>> _ = p.write_text("2\\n1 1\\n5\\n2\\n3\\n1 1\\n7\\n1\\n1\\n")
    >>> read_gap(p, problem=2).cost.tolist()
    [[7.0]]
    """
    path = Path(path)
    return parse_gap(read_text(path), problem=problem, source=str(path))


def read_gap_all(path: str | Path) -> list[GAPInstance]:
    """Read every problem of an OR-Library gap file, in order.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "g.txt"
    >>> _ = p.write_text("2\\n1 1\\n5\\n2\\n3\\n1 1\\n7\\n1\\n1\\n")
    >>> [g.name for g in read_gap_all(p)]
    ['g-1', 'g-2']
    """
    path = Path(path)
    return _all(read_text(path), str(path))


def count_gap(path: str | Path) -> int:
    """How many problems an OR-Library gap file holds (the first number of the file).

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "g.txt"
    >>> _ = p.write_text("1 1 1 4 2 3")
    >>> count_gap(p)
    1
    """
    path = Path(path)
    return NumberTokens(read_text(path), str(path)).int("problems", minimum=1)
